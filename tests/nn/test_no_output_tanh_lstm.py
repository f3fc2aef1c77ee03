"""NoOutputTanhLSTM (h = o⊙c, the tutorial-lstm preset's cell): equal to a NumPy transcription of nicodjimenez/lstm's
LstmNode, gradcheck fused and unfused, the two paths equal, and exactly an LSTM without the output tanh."""
import numpy as np
import pytest

from tinygrad_rnn import Tensor, gradcheck, manual_seed, nn

F64 = np.float64


def sigmoid(x):
    return 1.0 / (1.0 + np.exp(-x))


def tutorial_forward(xs, wg, wi, wf, wo, bg, bi, bf, bo):
    """nicodjimenez/lstm's LstmNode.bottom_data_is over a sequence, one example at a time: xc = [x, h_prev];
    g = tanh(wg xc + bg), i, f, o = σ(w xc + b); s = g⊙i + s_prev⊙f; h = s⊙o (no tanh)."""
    hidden = wg.shape[0]
    s, h, hs = np.zeros(hidden), np.zeros(hidden), []
    for x in xs:
        xc = np.hstack((x, h))
        g = np.tanh(wg @ xc + bg)
        i, f, o = sigmoid(wi @ xc + bi), sigmoid(wf @ xc + bf), sigmoid(wo @ xc + bo)
        s = g * i + s * f
        h = s * o
        hs.append(h)
    return np.array(hs), s


@pytest.mark.parametrize("fused", [True, False], ids=["fused", "unfused"])
def test_equals_the_numpy_tutorials_lstm_node(fused):
    rng = np.random.default_rng(0)
    steps, inputs, hidden = 7, 5, 6
    layer = nn.NoOutputTanhLSTM(inputs, hidden, fused=fused, dtype=F64)
    xs = rng.standard_normal((steps, inputs))
    # the tutorial's weights act on [x, h]; ours keep W_ih and W_hh apart, in gate order i, f, g, o, two biases
    w_ih, w_hh = layer.weight_ih_l0.data, layer.weight_hh_l0.data
    b = layer.bias_ih_l0.data + layer.bias_hh_l0.data
    w = {name: np.hstack((w_ih[k * hidden:(k + 1) * hidden], w_hh[k * hidden:(k + 1) * hidden]))
         for k, name in enumerate("ifgo")}
    bias = {name: b[k * hidden:(k + 1) * hidden] for k, name in enumerate("ifgo")}
    expected_h, expected_s = tutorial_forward(xs, w["g"], w["i"], w["f"], w["o"], bias["g"], bias["i"], bias["f"],
                                              bias["o"])
    out, (h_n, c_n) = layer(Tensor(xs[:, None, :], dtype=F64))
    np.testing.assert_allclose(out.data[:, 0], expected_h, rtol=0, atol=1e-12)
    np.testing.assert_allclose(c_n.data[0, 0], expected_s, rtol=0, atol=1e-12)


def test_is_the_lstm_without_its_output_tanh():
    """Same weights: the cell states agree step by step, and h = o⊙c here where the LSTM has o⊙tanh(c)."""
    manual_seed(3)
    lstm = nn.LSTM(4, 5, num_layers=2, dtype=F64, fused=False)
    plain = nn.NoOutputTanhLSTM(4, 5, num_layers=2, dtype=F64)
    plain.load_state_dict(lstm.state_dict())
    x = Tensor(np.random.default_rng(1).standard_normal((6, 3, 4)), dtype=F64)
    out, _, traces = plain(x, return_gates=True)
    o, c = traces[0]["gates"].data[..., 15:20], traces[0]["c"].data       # gate order i, f, g, o
    h = o * c
    assert not np.allclose(h, o * np.tanh(c))             # the difference is real, not a rounding
    lstm_cell = nn.LSTMCell(4, 5, dtype=F64, fused=False)
    lstm_cell.load_state_dict({k[:-3]: v for k, v in lstm.state_dict().items() if k.endswith("_l0")})
    h_prev, c_prev = np.zeros((3, 5)), np.zeros((3, 5))
    for t in range(6):
        _, c_t = lstm_cell(x[t], (Tensor(h_prev, dtype=F64), Tensor(c_prev, dtype=F64)))
        np.testing.assert_allclose(c_t.data, c[t], rtol=0, atol=1e-13)
        h_prev, c_prev = h[t], c[t]
    top = traces[1]
    np.testing.assert_allclose(out.data, top["gates"].data[..., 15:20] * top["c"].data, rtol=0, atol=1e-15)


@pytest.mark.parametrize("gate_activation", ["sigmoid", "hard_sigmoid"])
@pytest.mark.parametrize("fused", [True, False], ids=["fused", "unfused"])
def test_gradcheck(fused, gate_activation):
    rng = np.random.default_rng(2)
    layer = nn.NoOutputTanhLSTM(3, 4, num_layers=2, gate_activation=gate_activation, fused=fused, dtype=F64)
    x = Tensor(rng.standard_normal((5, 2, 3)), requires_grad=True, dtype=F64)
    h0 = Tensor(rng.standard_normal((2, 2, 4)), requires_grad=True, dtype=F64)
    c0 = Tensor(rng.standard_normal((2, 2, 4)), requires_grad=True, dtype=F64)
    assert gradcheck(lambda *args: layer(x, (h0, c0))[0], [x, h0, c0, *layer.parameters()])


def test_fused_and_unfused_agree():
    results = []
    for fused in (True, False):
        manual_seed(7)
        layer = nn.NoOutputTanhLSTM(3, 4, fused=fused, dtype=F64)
        x = Tensor(np.random.default_rng(4).standard_normal((6, 2, 3)), requires_grad=True, dtype=F64)
        out, (h, c) = layer(x)
        (out.sum() + (c * c).sum()).backward()
        results.append([out.data, c.data, x.grad] + [p.grad for p in layer.parameters()])
    for a, b in zip(*results):
        np.testing.assert_allclose(a, b, rtol=0, atol=1e-12)


def test_bad_gate_activation_is_named():
    with pytest.raises(ValueError, match="gate_activation"):
        nn.NoOutputTanhLSTM(3, 4, gate_activation="relu")
