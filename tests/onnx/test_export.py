"""ONNX export: every exported model runs in onnxruntime and equals the engine (float32, 1e-5) on inputs of several
lengths and batch sizes (one file, symbolic axes), and with a lengths input (ONNX's sequence_lens) on batches of
sequences of different lengths; float64 models are checked in onnx's reference evaluator (1e-12),
since onnxruntime's recurrent operators run float32 only. onnx.checker runs inside every export."""
import numpy as np
import pytest

import tinygrad_rnn as tg
from tinygrad_rnn import nn

onnx = pytest.importorskip("onnx")
ort = pytest.importorskip("onnxruntime")
tg_onnx = pytest.importorskip("tinygrad_rnn.onnx")

SHAPES = [(7, 2), (3, 5), (1, 1), (12, 3)]           # (T, B): the file was exported from the first only

LAYERS = {
    "lstm": lambda dt: nn.LSTM(3, 5, dtype=dt),
    "lstm-stacked-bidirectional": lambda dt: nn.LSTM(3, 5, num_layers=2, bidirectional=True, dtype=dt),
    "lstm-batch-first": lambda dt: nn.LSTM(3, 5, batch_first=True, num_layers=2, dtype=dt),
    "lstm-no-bias": lambda dt: nn.LSTM(3, 5, bias=False, dtype=dt),
    "lstm-forget-bias": lambda dt: nn.LSTM(3, 5, forget_bias=1.0, dtype=dt),
    "lstm-hard-sigmoid": lambda dt: nn.LSTM(3, 5, gate_activation="hard_sigmoid", bidirectional=True, dtype=dt),
    "peephole": lambda dt: nn.PeepholeLSTM(3, 5, num_layers=2, dtype=dt),
    "peephole-bidirectional": lambda dt: nn.PeepholeLSTM(3, 5, bidirectional=True, dtype=dt),
    "gru": lambda dt: nn.GRU(3, 5, num_layers=2, dtype=dt),
    "gru-cho": lambda dt: nn.GRU(3, 5, reset_after=False, bidirectional=True, dtype=dt),
    "gru-hard-sigmoid": lambda dt: nn.GRU(3, 5, gate_activation="hard_sigmoid", dtype=dt),
    "gru-cho-batch-first": lambda dt: nn.GRU(3, 5, reset_after=False, batch_first=True, dtype=dt),
    "rnn-tanh": lambda dt: nn.RNN(3, 5, num_layers=2, bidirectional=True, dtype=dt),
    "rnn-relu": lambda dt: nn.RNN(3, 5, nonlinearity="relu", dtype=dt),
    "lstm-no-output-tanh": lambda dt: nn.NoOutputTanhLSTM(3, 5, num_layers=2, bidirectional=True, dtype=dt),
    "lstm-no-output-tanh-hard": lambda dt: nn.NoOutputTanhLSTM(3, 5, gate_activation="hard_sigmoid",
                                                               batch_first=True, dtype=dt),
}
HARD = {"lstm-hard-sigmoid", "gru-hard-sigmoid"}
AFFINE = {"lstm-no-output-tanh", "lstm-no-output-tanh-hard"}         # h = o⊙c: ONNX's Affine(1, 0) output activation


def randomize(module, seed=0):
    """Weights of a larger spread than the init's, so that gates saturate and a wrong gate order shows."""
    g = np.random.default_rng(seed)
    for p in module.parameters():
        p.data[...] = g.uniform(-1, 1, p.shape).astype(p.dtype)
    return module


def engine(layer, x, state, lengths=None):
    with tg.no_grad():
        out, final = layer(tg.Tensor(x), None if state is None else tuple(tg.Tensor(s) for s in state)
                           if len(state) == 2 else tg.Tensor(state[0]), lengths=lengths)
    final = final if isinstance(final, tuple) else (final,)
    return [out.numpy()] + [f.numpy() for f in final]


def inputs(layer, T, B, dtype, g):
    x = g.standard_normal((B, T, 3) if layer.batch_first else (T, B, 3)).astype(dtype)
    count = layer.num_layers * (2 if layer.bidirectional else 1)
    n_states = 2 if layer.recurrence.has_cell_state else 1
    return x, [g.standard_normal((count, B, layer.hidden_size)).astype(dtype) for _ in range(n_states)]


@pytest.mark.parametrize("name", LAYERS)
def test_recurrent_layer_in_onnxruntime(name, tmp_path):
    tg.manual_seed(0)
    layer = randomize(LAYERS[name](np.float32))
    g = np.random.default_rng(1)
    path = tg_onnx.export(layer, inputs(layer, *SHAPES[0], np.float32, g)[0], tmp_path / "m.onnx",
                          initial_state=True)
    session = ort.InferenceSession(str(path))
    names = ["input", "h_0", "c_0"]
    for T, B in SHAPES:
        x, state = inputs(layer, T, B, np.float32, g)
        got = session.run(None, dict(zip(names, [x] + state)))
        want = engine(layer, x, state)
        assert len(got) == len(want)
        for a, b in zip(got, want):
            np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-5)


@pytest.mark.parametrize("name", ["lstm-hard-sigmoid", "gru-hard-sigmoid"])
def test_hard_sigmoid_is_not_matched_by_accident(name, tmp_path):
    """The same weights with sigmoid gates give other numbers: the match above tests the HardSigmoid mapping."""
    layer = randomize(LAYERS[name](np.float32))
    x, state = inputs(layer, 6, 2, np.float32, np.random.default_rng(2))
    path = tg_onnx.export(layer, x, tmp_path / "m.onnx", initial_state=True)
    got = ort.InferenceSession(str(path)).run(None, dict(zip(["input", "h_0", "c_0"], [x] + state)))[0]
    layer.recurrence.act = "sigmoid"
    assert np.abs(got - engine(layer, x, state)[0]).max() > 1e-2


# (T, B, lengths): the lengths in several orders, one sequence of one step, none of the full length
LENGTHS = [(7, 4, [7, 2, 5, 1]), (5, 3, [1, 5, 3]), (9, 2, [4, 3]), (1, 1, [1])]


@pytest.mark.parametrize("name", LAYERS)
def test_lengths_through_sequence_lens_in_onnxruntime(name, tmp_path):
    """lengths=True: ONNX's sequence_lens input, fed to every layer's node: outputs past each sequence's end are
    zeros and h_n/c_n the state at its last step (the reverse direction starting there), as layer(x, lengths=)."""
    tg.manual_seed(0)
    layer = randomize(LAYERS[name](np.float32))
    g = np.random.default_rng(7)
    path = tg_onnx.export(layer, inputs(layer, 7, 4, np.float32, g)[0], tmp_path / "m.onnx", initial_state=True,
                          lengths=True)
    session = ort.InferenceSession(str(path))
    assert [i.name for i in session.get_inputs()][-1] == "lengths"
    names = ["input", "h_0", "c_0"]
    for T, B, lengths in LENGTHS:
        x, state = inputs(layer, T, B, np.float32, g)
        lengths = np.array(lengths, np.int32)
        got = session.run(None, dict(zip(names, [x] + state)) | {"lengths": lengths})
        want = engine(layer, x, state, lengths)
        assert len(got) == len(want)
        for a, b in zip(got, want):
            np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-5)
        if lengths.min() < T:                  # the padding is really cut: the engine's outputs there are zeros
            out = want[0] if not layer.batch_first else want[0].transpose(1, 0, 2)
            b = int(np.argmin(lengths))
            assert not out[lengths[b]:, b].any() and out[:lengths[b], b].any()


def test_a_packed_sequence_example_exports_with_lengths(tmp_path):
    """A PackedSequence example gives the padded-batch-and-lengths model; it serves what the layer computes on the
    packed batch (pad_packed_sequence of its output, and h_n)."""
    from tinygrad_rnn.nn.utils.rnn import pack_padded_sequence, pad_packed_sequence

    layer = randomize(nn.GRU(3, 4, num_layers=2, bidirectional=True))
    g = np.random.default_rng(8)
    x = g.standard_normal((6, 3, 3)).astype(np.float32)
    lengths = np.array([3, 6, 2], np.int64)
    packed = pack_padded_sequence(tg.Tensor(x), lengths, enforce_sorted=False)
    session = ort.InferenceSession(str(tg_onnx.export(layer, packed, tmp_path / "m.onnx")))
    assert [i.name for i in session.get_inputs()] == ["input", "lengths"]
    with tg.no_grad():
        out, h_n = layer(packed)
    padded, out_lengths = pad_packed_sequence(out)
    assert out_lengths.numpy().tolist() == lengths.tolist()
    got = session.run(None, {"input": x, "lengths": lengths.astype(np.int32)})
    np.testing.assert_allclose(got[0], padded.numpy(), rtol=1e-5, atol=1e-5)
    np.testing.assert_allclose(got[1], h_n.numpy(), rtol=1e-5, atol=1e-5)


def test_without_state_inputs_the_model_starts_from_zeros(tmp_path):
    layer = randomize(nn.LSTM(3, 4, num_layers=2))
    x, _ = inputs(layer, 5, 3, np.float32, np.random.default_rng(3))
    path = tg_onnx.export(layer, x, tmp_path / "m.onnx")
    session = ort.InferenceSession(str(path))
    assert [i.name for i in session.get_inputs()] == ["input"]
    assert [o.name for o in session.get_outputs()] == ["output", "h_n", "c_n"]
    for a, b in zip(session.run(None, {"input": x}), engine(layer, x, None)):
        np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-5)


@pytest.mark.parametrize("name", sorted(set(LAYERS) - HARD - AFFINE - {"rnn-relu"}))
def test_float64_models_in_the_reference_evaluator(name, tmp_path):
    # The reference evaluator ignores the LSTM's and GRU's activations= and knows no Relu for the RNN: those
    # models (hard_sigmoid gates, Affine outputs, relu) are checked in onnxruntime above
    from onnx.reference import ReferenceEvaluator

    layer = randomize(LAYERS[name](np.float64))
    g = np.random.default_rng(4)
    x, state = inputs(layer, 6, 2, np.float64, g)
    path = tg_onnx.export(layer, x, tmp_path / "m.onnx", initial_state=True)
    got = ReferenceEvaluator(str(path)).run(None, dict(zip(["input", "h_0", "c_0"], [x] + state)))
    for a, b in zip(got, engine(layer, x, state)):
        np.testing.assert_allclose(a, b, rtol=1e-12, atol=1e-12)


def test_feedforward_modules(tmp_path):
    model = randomize(nn.Sequential(nn.Linear(4, 6), nn.Tanh(), nn.Dropout(0.5), nn.Linear(6, 3), nn.Sigmoid(),
                                    nn.Linear(3, 2), nn.ReLU()))
    x = np.random.default_rng(5).standard_normal((2, 4)).astype(np.float32)
    path = tg_onnx.export(model, tg.Tensor(x), tmp_path / "m.onnx")
    session = ort.InferenceSession(str(path))
    assert model.training                                  # export leaves the training flag as it found it
    model.eval()
    for b in (2, 1, 9):
        xb = np.random.default_rng(b).standard_normal((b, 4)).astype(np.float32)
        with tg.no_grad():
            want = model(tg.Tensor(xb)).numpy()
        np.testing.assert_allclose(session.run(None, {"input": xb})[0], want, rtol=1e-5, atol=1e-6)


def test_embedding(tmp_path):
    emb = nn.Embedding(10, 4)
    idx = np.array([[1, 2], [9, 0]], np.int64)
    path = tg_onnx.export(emb, idx, tmp_path / "m.onnx")
    got = ort.InferenceSession(str(path)).run(None, {"input": np.array([[3, 3, 7]], np.int64)})[0]
    np.testing.assert_array_equal(got, emb.weight.data[[[3, 3, 7]]])


@pytest.mark.parametrize("cell", ["lstm", "gru", "peephole", "rnn"])
def test_the_character_model_end_to_end(cell, tmp_path):
    from tinygrad_rnn.apps.charlm import CharLM

    tg.manual_seed(1)
    model = randomize(CharLM(17, hidden=8, layers=2, cell=cell))
    path = tg_onnx.export(model, np.zeros((1, 1), np.int64), tmp_path / "lm.onnx", initial_state=True)
    session = ort.InferenceSession(str(path))
    g = np.random.default_rng(6)
    model.eval()
    for T, B in SHAPES:
        chars = g.integers(0, 17, (T, B)).astype(np.int64)
        n_states = 2 if cell in ("lstm", "peephole") else 1
        state = [g.standard_normal((2, B, 8)).astype(np.float32) for _ in range(n_states)]
        with tg.no_grad():
            logits, final = model(chars, tuple(tg.Tensor(s) for s in state) if n_states == 2 else tg.Tensor(state[0]))
        final = final if isinstance(final, tuple) else (final,)
        got = session.run(None, dict(zip(["chars", "h_0", "c_0"], [chars] + state)))
        for a, b in zip(got, [logits.numpy()] + [f.numpy() for f in final]):
            np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-5)


def test_refusals(tmp_path):
    with pytest.raises(NotImplementedError, match="DepthGatedLSTM has no ONNX operator|DepthGatedLSTM is not"):
        tg_onnx.export(nn.DepthGatedLSTM(3, 4, num_layers=2), np.zeros((2, 1, 3), np.float32), tmp_path / "m.onnx")
    with pytest.raises(ValueError, match="expected a batched example input of 3 dims"):
        tg_onnx.export(nn.LSTM(3, 4), np.zeros((2, 3), np.float32), tmp_path / "m.onnx")
    with pytest.raises(NotImplementedError, match="lengths=True is for the recurrent layers"):
        tg_onnx.export(nn.Linear(3, 4), np.zeros((2, 3), np.float32), tmp_path / "m.onnx", lengths=True)
    with pytest.raises(TypeError, match="lengths must be a bool"):
        tg_onnx.export(nn.LSTM(3, 4), np.zeros((2, 1, 3), np.float32), tmp_path / "m.onnx", lengths=[2])
    with pytest.raises(ValueError, match="opset must be at least 14"):
        tg_onnx.export(nn.LSTM(3, 4), np.zeros((2, 1, 3), np.float32), tmp_path / "m.onnx", opset=9)
    assert list(tmp_path.iterdir()) == []                  # nothing written, not even a temporary file
