"""The recurrent layers as ONNX's LSTM, GRU and RNN operators, one per layer (both directions in one node).

ONNX orders the gates differently from PyTorch: LSTM i,o,f,c (PyTorch i,f,g,o), GRU z,r,h (PyTorch r,z,n); its
bias input is [W_b; R_b]; a peephole LSTM's diagonal weights go in the P input (i, o, f); PyTorch's reset-after GRU
is `linear_before_reset=1`, Cho et al.'s is 0. hard_sigmoid gates are ONNX's HardSigmoid with alpha 0.2, beta 0.5,
which is Keras's clip(0.2x + 0.5, 0, 1): PyTorch's exporter offers neither peepholes nor hard_sigmoid. The LSTM
without the output tanh (h = o⊙c) is ONNX's LSTM whose output activation h is Affine(1, 0), the identity."""
import numpy as np

from ..nn.layers import GRU, LSTM, RNN, NoOutputTanhLSTM, PeepholeLSTM

GATE_ORDER = {"LSTM": [0, 3, 1, 2], "GRU": [1, 0, 2], "RNN": [0]}
# (alpha, beta) of the activations that take them: ONNX hands activation_alpha/beta out in order to those only
ACTIVATION_VALUES = {"HardSigmoid": (0.2, 0.5), "Affine": (1.0, 0.0)}


def _reorder(w, op, hidden):
    """Rows of a (G·H, …) weight or (G·H,) bias regrouped from PyTorch's gate order into ONNX's."""
    blocks = np.split(np.asarray(w), len(GATE_ORDER[op]), axis=0)
    return np.concatenate([blocks[k] for k in GATE_ORDER[op]], axis=0)


def _op_and_attrs(layer, directions):
    """The ONNX operator for a layer, with its activations (one list per direction) and options."""
    act = getattr(layer.recurrence, "act", "sigmoid")
    gate = "HardSigmoid" if act == "hard_sigmoid" else "Sigmoid"
    attrs = {"hidden_size": layer.hidden_size, "direction": "bidirectional" if directions == 2 else "forward"}
    if getattr(layer, "proj_size", 0):
        raise NotImplementedError(f"onnx.export: LSTM(proj_size={layer.proj_size}) has no ONNX operator (ONNX's "
                                  f"LSTM has no projection; torch.onnx refuses it too)")
    if isinstance(layer, (LSTM, PeepholeLSTM)):
        op, acts = "LSTM", [gate, "Tanh", "Tanh"]
    elif isinstance(layer, NoOutputTanhLSTM):
        op, acts = "LSTM", [gate, "Tanh", "Affine"]
    elif isinstance(layer, GRU):
        op, acts = "GRU", [gate, "Tanh"]
        attrs["linear_before_reset"] = 1 if layer.reset_after else 0
    elif isinstance(layer, RNN):
        op, acts = "RNN", ["Relu" if layer.nonlinearity == "relu" else "Tanh"]
    else:
        raise NotImplementedError(f"onnx.export: {type(layer).__name__} has no ONNX operator (only RNN, LSTM, "
                                  f"PeepholeLSTM, GRU and NoOutputTanhLSTM layers export)")
    attrs["activations"] = acts * directions
    # "consumed in the order of activation functions" (the ONNX spec, and onnxruntime): one value for each
    # activation that takes one, none for Sigmoid, Tanh or Relu
    values = [ACTIVATION_VALUES[a] for a in attrs["activations"] if a in ACTIVATION_VALUES]
    if values:
        attrs["activation_alpha"] = [a for a, _ in values]
        attrs["activation_beta"] = [b for _, b in values]
    return op, attrs


def _layer_inputs(g, layer, k, op, directions):
    """W, R, B (and P for peepholes) of layer k as initializers, stacked over directions."""
    hidden = layer.hidden_size
    ws = [layer._weights(k, d) for d in range(directions)]
    W = np.stack([_reorder(w["weight_ih"].data, op, hidden) for w in ws])
    R = np.stack([_reorder(w["weight_hh"].data, op, hidden) for w in ws])
    if layer.bias:
        B = np.stack([np.concatenate([_reorder(w["bias_ih"].data, op, hidden), _reorder(w["bias_hh"].data, op,
                                                                                     hidden)]) for w in ws])
    else:
        B = np.zeros((directions, 2 * len(GATE_ORDER[op]) * hidden), W.dtype)
    names = [g.const(f"W_l{k}", W), g.const(f"R_l{k}", R), g.const(f"B_l{k}", B)]
    if isinstance(layer, PeepholeLSTM):
        P = np.stack([np.concatenate([w["weight_ci"].data, w["weight_co"].data, w["weight_cf"].data]) for w in ws])
        names.append(g.const(f"P_l{k}", P))
    return names


def export_layer(g, layer, x, states, lengths=""):
    """Adds `layer` applied to x (T, B, I) to the graph: (output (T, B, D·H), [h_n] or [h_n, c_n]) as names.
    `states` is None (zeros) or the names of (h_0,) / (h_0, c_0), each (L·D, B, H); `lengths` the name of an int32
    (B,) input, ONNX's sequence_lens (every layer's node reads it), or "" when every sequence has all T steps."""
    directions = 2 if layer.bidirectional else 1
    op, attrs = _op_and_attrs(layer, directions)
    n_states = 2 if op == "LSTM" else 1
    finals = [[] for _ in range(n_states)]
    for k in range(layer.num_layers):
        W, R, B, *P = _layer_inputs(g, layer, k, op, directions)
        initial = ["", ""]
        if states is not None:
            lo, hi = g.ints("lo", [k * directions]), g.ints("hi", [(k + 1) * directions])
            initial = [g.node("Slice", [s, lo, hi, g.ints("axis", [0])]) for s in states] + [""]
        inputs = [x, W, R, B, lengths] + initial[:n_states] + P
        outs = g.node(op, inputs, n_out=1 + n_states, hint=f"{op.lower()}_l{k}", **attrs)
        y, *final = outs
        for j in range(n_states):
            finals[j].append(final[j])
        # Y is (T, D, B, H): bring the directions next to the features, as PyTorch's output has them
        x = g.node("Reshape", [g.node("Transpose", [y], perm=[0, 2, 1, 3]), g.ints("shape", [0, 0, -1])])
    return x, [f[0] if len(f) == 1 else g.node("Concat", f, axis=0) for f in finals]
