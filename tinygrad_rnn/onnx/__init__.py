"""Export to ONNX for serving: `export(module, example_input, path)` writes a model that onnxruntime runs.

What exports: Linear, Embedding, Dropout (as the identity: export is inference), ReLU/Tanh/Sigmoid, Sequential of
those, the recurrent layers RNN, LSTM, PeepholeLSTM, GRU and NoOutputTanhLSTM (stacked, bidirectional, batch_first,
both GRU variants, sigmoid or hard_sigmoid gates) and the main job's character model. The sequence and batch axes are
symbolic, so one file serves every length and batch size; `lengths=True` (or a PackedSequence as the example) adds a
lengths input, ONNX's sequence_lens, for batches of sequences of different lengths. Needs the `onnx` package (the
`onnx` extra)."""
import os

import numpy as np

from .. import nn
from ..grad_mode import no_grad
from ..nn.utils.rnn import PackedSequence, padded_from_packed
from ..tensor import Tensor
from .graph import Graph
from .recurrent import export_layer

OPSET = 17
RECURRENT = (nn.RNN, nn.LSTM, nn.PeepholeLSTM, nn.GRU, nn.NoOutputTanhLSTM)


def _linear(g, m, x):
    y = g.node("MatMul", [x, g.const("weight_t", m.weight.data.T)])
    return y if m.bias is None else g.node("Add", [y, g.const("bias", m.bias.data)])


def _embedding(g, m, x):
    return g.node("Gather", [g.const("embedding", m.weight.data), x], axis=0)


SIMPLE = {nn.Linear: _linear, nn.Embedding: _embedding, nn.Dropout: lambda g, m, x: x,
          nn.Identity: lambda g, m, x: x, nn.ReLU: lambda g, m, x: g.node("Relu", [x]),
          nn.Tanh: lambda g, m, x: g.node("Tanh", [x]), nn.Sigmoid: lambda g, m, x: g.node("Sigmoid", [x])}


def _feedforward(g, module, x):
    if isinstance(module, nn.Sequential):
        for child in module.children():
            x = _feedforward(g, child, x)
        return x
    for kind, convert in SIMPLE.items():
        if type(module) is kind:
            return convert(g, module, x)
    raise NotImplementedError(f"onnx.export: {type(module).__name__} is not supported (exportable: "
                              f"{', '.join(k.__name__ for k in SIMPLE)}, Sequential, RNN, LSTM, PeepholeLSTM, GRU, "
                              f"NoOutputTanhLSTM and the character model)")


def _recurrent(g, layer, x, states, lengths=""):
    """A recurrent layer on x, batch_first handled by transposes around ONNX's time-major operators."""
    if layer.batch_first:
        x = g.node("Transpose", [x], perm=[1, 0, 2])
    y, finals = export_layer(g, layer, x, states, lengths)
    if layer.batch_first:
        y = g.node("Transpose", [y], perm=[1, 0, 2])
    return y, finals


def _state_inputs(g, layer, dtype, initial_state):
    if not initial_state:
        return None
    count = layer.num_layers * (2 if layer.bidirectional else 1)
    names = ["h_0", "c_0"] if layer.recurrence.has_cell_state else ["h_0"]
    return [g.input(n, dtype, [count, "batch", layer.hidden_size]) for n in names]


def _state_outputs(g, layer, finals, dtype):
    count = layer.num_layers * (2 if layer.bidirectional else 1)
    for name, value in zip(["h_n", "c_n"], finals):
        g.output(value, name, dtype, [count, "batch", layer.hidden_size])


def _is_char_model(module):
    return all(hasattr(module, a) for a in ("embedding", "rnn", "decoder")) and isinstance(module.rnn, RECURRENT)


def _build(module, example, initial_state, lengths):
    g = Graph()
    dtype = next(iter(module.parameters())).dtype
    if lengths and not isinstance(module, RECURRENT):
        raise NotImplementedError(f"onnx.export: lengths=True is for the recurrent layers (RNN, LSTM, PeepholeLSTM, "
                                  f"GRU, NoOutputTanhLSTM), not {type(module).__name__}")
    if _is_char_model(module):                                  # apps.charlm.CharLM: chars (T, B) -> logits
        x = g.input("chars", np.int64, ["seq", "batch"])
        states = _state_inputs(g, module.rnn, dtype, initial_state)
        y, finals = _recurrent(g, module.rnn, _embedding(g, module.embedding, x), states)
        g.output(_linear(g, module.decoder, y), "logits", dtype, ["seq", "batch", module.decoder.out_features])
        _state_outputs(g, module.rnn, finals, dtype)
    elif isinstance(module, RECURRENT):
        if example.ndim != 3:
            raise ValueError(f"onnx.export: expected a batched example input of 3 dims for "
                             f"{type(module).__name__}, but got {example.ndim}")
        axes = ["batch", "seq"] if module.batch_first else ["seq", "batch"]
        x = g.input("input", dtype, axes + [module.input_size])
        states = _state_inputs(g, module, dtype, initial_state)
        seq = g.input("lengths", np.int32, ["batch"]) if lengths else ""
        y, finals = _recurrent(g, module, x, states, seq)
        directions = 2 if module.bidirectional else 1
        g.output(y, "output", dtype, axes + [directions * module.hidden_size])
        _state_outputs(g, module, finals, dtype)
    else:
        # every axis symbolic but the features: indices (any shape) or (…, features) in, (…, out features) out
        ints = example.dtype.kind in "iu"
        lead = [f"dim{i}" for i in range(example.ndim if ints else example.ndim - 1)]
        x = g.input("input", np.int64 if ints else dtype, lead + ([] if ints else [example.shape[-1]]))
        y = _feedforward(g, module, x)
        with no_grad():
            out = module(Tensor(example))
        g.output(y, "output", dtype, (lead + ["out"])[:out.ndim - 1] + [out.shape[-1]])
    return g


def export(module, example_input, path, initial_state=False, opset=OPSET, lengths=False):
    """Writes `module` (in eval mode: dropout is the identity) as an ONNX model to `path` (atomically: a complete
    file or none), checked by onnx.checker. initial_state=True adds inputs h_0 (and c_0) (L·D, batch, H) to a
    recurrent model; without them it starts from zeros. lengths=True adds an input `lengths` (batch,) of int32,
    each sequence's length, as `layer(x, lengths=...)` takes it: the outputs past a sequence's end are zeros and
    h_n (c_n) its state at its last step; a PackedSequence example means lengths=True (the model then takes the
    padded batch and the lengths, as pad_packed_sequence gives them). Returns the path."""
    if opset < 14:
        raise ValueError(f"onnx.export: opset must be at least 14, but got {opset}")
    if not isinstance(lengths, bool):
        raise TypeError(f"onnx.export: lengths must be a bool (whether the model takes a lengths input), but got "
                        f"{type(lengths).__name__}")
    if isinstance(example_input, PackedSequence):
        example_input, lengths = padded_from_packed(example_input)[0], True
    example = example_input.data if isinstance(example_input, Tensor) else np.asarray(example_input)
    was_training = module.training
    module.eval()
    try:
        model = _build(module, example, initial_state, lengths).model(opset, f"exported from {type(module).__name__}")
    finally:
        module.train(was_training)
    path = os.fspath(path)
    tmp = f"{path}.tmp{os.getpid()}"
    try:
        with open(tmp, "wb") as f:
            f.write(model.SerializeToString())
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    finally:
        if os.path.exists(tmp):
            os.remove(tmp)
    return path
