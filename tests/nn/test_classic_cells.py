"""Depth-gated LSTM and Clockwork RNN: gradcheck (cells and layers, float64, with lengths), NumPy references of the
documented equations, the clockwork's frozen modules and masked gradient, d ≡ 0 == nn.LSTM, and small tasks learnt."""

import numpy as np
import pytest

from tinygrad_rnn import Tensor, gradcheck, manual_seed, nn, optim

F64 = np.float64


def leaves(rng, shape, n=1, dtype=F64):
    return [Tensor(rng.standard_normal(shape), requires_grad=True, dtype=dtype) for _ in range(n)]


def sigmoid(z):
    return 1 / (1 + np.exp(-z))


def weights(layer, k):
    return {name[: -len(f"_l{k}")]: p.data for name, p in layer.named_parameters() if name.endswith(f"_l{k}")}


# ---------------------------------------------------------------------------------------------------------------
# gradcheck

@pytest.mark.parametrize("bias", [True, False], ids=["bias", "nobias"])
@pytest.mark.parametrize("gate_activation", ["sigmoid", "hard_sigmoid"])
@pytest.mark.parametrize("with_lower", [True, False], ids=["lower", "layer0"])
def test_gradcheck_depth_gated_cell(rng, with_lower, gate_activation, bias):
    cell = nn.DepthGatedLSTMCell(3, 4, bias=bias, gate_activation=gate_activation, dtype=F64)
    if gate_activation == "hard_sigmoid":  # spread pre-activations over the plateaus and the slope
        for p in cell.parameters():
            p.data *= 3
    x, = leaves(rng, (2, 3))
    h, c, c_lower = leaves(rng, (2, 4), 3)
    lower = c_lower if with_lower else None
    inputs = [x, h, c] + ([c_lower] if with_lower else []) + list(cell.parameters())
    if not with_lower:  # without a lower cell the depth-gate weights take no part
        inputs = [t for t in inputs if not any(t is getattr(cell, n) for n in ("weight_xd", "weight_cd",
                                                                               "weight_ld", "bias_d"))]
    assert gradcheck(lambda *a: cell(x, (h, c), c_lower=lower), inputs)


@pytest.mark.parametrize("t", [0, 1, 2, 3, 4, 8])
def test_gradcheck_clockwork_cell(rng, t):
    cell = nn.ClockworkRNNCell(3, 6, num_modules=3, dtype=F64)  # periods 1, 2, 4: every active set at some t
    x, = leaves(rng, (2, 3))
    h, = leaves(rng, (2, 6))
    assert gradcheck(lambda *a: cell(x, h, t=t), [x, h, *cell.parameters()])


@pytest.mark.parametrize("bidirectional", [False, True], ids=["uni", "bi"])
def test_gradcheck_depth_gated_layer(rng, bidirectional):
    num_layers = 2 if bidirectional else 3
    layer = nn.DepthGatedLSTM(2, 2, num_layers=num_layers, bidirectional=bidirectional, dtype=F64)
    n = num_layers * (2 if bidirectional else 1)
    x, = leaves(rng, (3, 2, 2))
    h0, c0 = leaves(rng, (n, 2, 2), 2)
    inputs = [x, h0, c0, *layer.parameters()]
    assert gradcheck(lambda *a: layer(x, (h0, c0), lengths=[3, 2]), inputs)


@pytest.mark.parametrize("periods", [None, (1, 3, 4)], ids=["powers_of_2", "general"])
def test_gradcheck_clockwork_layer(rng, periods):
    layer = nn.ClockworkRNN(2, 6, num_modules=3, num_layers=2, periods=periods, dtype=F64)
    x, = leaves(rng, (9, 2, 2))
    h0, = leaves(rng, (2, 2, 6))
    assert gradcheck(lambda *a: layer(x, h0, lengths=[9, 5]), [x, h0, *layer.parameters()])


# ---------------------------------------------------------------------------------------------------------------
# The equations, against NumPy

def clockwork_numpy(x, h0, p, periods):
    """The docstring's equations, literally: full update, mask, then copy the modules whose period does not divide t."""
    H = h0.shape[1]
    unit_period = np.repeat(periods, H // len(periods))
    module = np.repeat(np.arange(len(periods)), H // len(periods))
    mask = module[None, :] >= module[:, None]
    h, out = h0, []
    for t in range(x.shape[0]):
        new = np.tanh(x[t] @ p["weight_ih"].T + p["bias_ih"] + h @ (p["weight_hh"] * mask).T + p["bias_hh"])
        h = np.where(t % unit_period == 0, new, h)
        out.append(h)
    return np.stack(out)


@pytest.mark.parametrize("periods", [None, (1, 3, 4), (2, 4, 8)], ids=["powers_of_2", "general", "first_2"])
def test_clockwork_matches_numpy_equations(rng, periods):
    layer = nn.ClockworkRNN(3, 9, num_modules=3, periods=periods, dtype=F64)
    x, h0 = rng.standard_normal((13, 2, 3)), rng.standard_normal((1, 2, 9))
    out, h_n = layer(Tensor(x, dtype=F64), Tensor(h0, dtype=F64))
    ref = clockwork_numpy(x, h0[0], weights(layer, 0), layer.periods)
    np.testing.assert_allclose(out.data, ref, rtol=1e-13, atol=1e-14)
    np.testing.assert_array_equal(h_n.data[0], out.data[-1])


def test_clockwork_layer_equals_stepping_the_cell(rng):
    layer = nn.ClockworkRNN(3, 8, num_modules=4, dtype=F64)
    cell = nn.ClockworkRNNCell(3, 8, num_modules=4, dtype=F64)
    cell.load_state_dict({k[:-3]: v for k, v in layer.state_dict().items()})
    x = Tensor(rng.standard_normal((10, 2, 3)), dtype=F64)
    out, _ = layer(x)
    h = None
    for t in range(10):
        h = cell(x[t], h, t=t)
        np.testing.assert_array_equal(h.data, out.data[t])


def depth_gated_numpy(x, layer, num_layers):
    """The docstring's equations in NumPy, zero initial state."""
    T, B, _ = x.shape
    H = layer.hidden_size
    lower_c, inp = None, x
    for k in range(num_layers):
        p = weights(layer, k)
        h, c = np.zeros((B, H)), np.zeros((B, H))
        hs, cs = [], []
        for t in range(T):
            a = inp[t] @ p["weight_ih"].T + p["bias_ih"] + h @ p["weight_hh"].T + p["bias_hh"]
            i, f, g, o = sigmoid(a[:, :H]), sigmoid(a[:, H:2 * H]), np.tanh(a[:, 2 * H:3 * H]), sigmoid(a[:, 3 * H:])
            c_new = f * c + i * g
            if k > 0:
                d = sigmoid(inp[t] @ p["weight_xd"].T + p["weight_cd"] * c + p["weight_ld"] * lower_c[t] + p["bias_d"])
                c_new = c_new + d * lower_c[t]
            c = c_new
            h = o * np.tanh(c)
            hs.append(h)
            cs.append(c)
        inp, lower_c = np.stack(hs), np.stack(cs)
    return inp, lower_c[-1]


def test_depth_gated_matches_numpy_equations(rng):
    layer = nn.DepthGatedLSTM(3, 4, num_layers=3, dtype=F64)
    x = rng.standard_normal((6, 2, 3))
    out, (h_n, c_n) = layer(Tensor(x, dtype=F64))
    ref_out, ref_c = depth_gated_numpy(x, layer, 3)
    np.testing.assert_allclose(out.data, ref_out, rtol=1e-13, atol=1e-14)
    np.testing.assert_allclose(c_n.data[-1], ref_c, rtol=1e-13, atol=1e-14)


def test_depth_gated_layer_equals_stepping_cells(rng):
    """Layer 1 of the stack is DepthGatedLSTMCell fed layer 0's c_t; layer 0 is the cell without c_lower."""
    layer = nn.DepthGatedLSTM(3, 4, num_layers=2, dtype=F64)
    cells = [nn.DepthGatedLSTMCell(3 if k == 0 else 4, 4, dtype=F64) for k in range(2)]
    for k, cell in enumerate(cells):
        for name, p in cell.named_parameters():
            if f"{name}_l{k}" in layer._parameters:
                p.data = layer._parameters[f"{name}_l{k}"].data
    x = Tensor(rng.standard_normal((5, 2, 3)), dtype=F64)
    out, _, traces = layer(x, return_gates=True)
    assert traces[0]["gates"].shape == (5, 2, 16) and traces[1]["gates"].shape == (5, 2, 20)  # layer 1 adds d
    s0 = s1 = None
    for t in range(5):
        s0 = cells[0](x[t], s0)
        s1 = cells[1](s0[0], s1, c_lower=s0[1])
        np.testing.assert_allclose(s1[0].data, out.data[t], rtol=1e-14, atol=1e-15)
        np.testing.assert_allclose(s1[1].data, traces[1]["c"].data[t], rtol=1e-14, atol=1e-15)


# ---------------------------------------------------------------------------------------------------------------
# Clockwork: frozen modules, masked recurrent gradient

def test_clockwork_slow_modules_frozen_exactly(rng):
    layer = nn.ClockworkRNN(3, 8, num_modules=4, dtype=F64)  # 4 modules of 2 units, periods 1, 2, 4, 8
    x = Tensor(rng.standard_normal((17, 3, 3)), dtype=F64)
    out, _ = layer(x, lengths=[17, 11, 6])
    h = out.data
    for t in range(1, 17):
        for i, period in enumerate((1, 2, 4, 8)):
            units = slice(2 * i, 2 * i + 2)
            valid = np.array([17, 11, 6]) > t
            if t % period:  # not its step: an exact copy of the previous state
                np.testing.assert_array_equal(h[t, valid, units], h[t - 1, valid, units])
            else:           # its step: it moved
                assert np.all(h[t, valid, units] != h[t - 1, valid, units])


def test_clockwork_recurrent_gradient_is_block_upper_triangular(rng):
    layer = nn.ClockworkRNN(3, 8, num_modules=4, dtype=F64)
    x = Tensor(rng.standard_normal((16, 2, 3)), dtype=F64)
    out, h_n = layer(x)
    (out * Tensor(rng.standard_normal(out.shape), dtype=F64)).sum().backward()
    grad = layer.weight_hh_l0.grad
    module = np.repeat(np.arange(4), 2)
    below = module[None, :] < module[:, None]  # column module j < row module i: fast feeding slow
    assert np.all(grad[below] == 0)
    assert np.all(grad[~below] != 0)
    # and the weights below the block diagonal do not matter at all
    layer.weight_hh_l0.data[below] = rng.standard_normal(below.sum()) * 10
    np.testing.assert_array_equal(layer(x)[0].data, out.data)


# ---------------------------------------------------------------------------------------------------------------
# Depth gate closed: a stacked nn.LSTM

@pytest.mark.parametrize("bidirectional", [False, True], ids=["uni", "bi"])
def test_depth_gate_closed_equals_stacked_lstm(rng, bidirectional):
    manual_seed(4)
    lstm = nn.LSTM(3, 5, num_layers=3, bidirectional=bidirectional, dtype=F64)
    dg = nn.DepthGatedLSTM(3, 5, num_layers=3, bidirectional=bidirectional, dtype=F64)
    state = dict(lstm.state_dict())
    for name in dg.state_dict():
        if name not in state:  # the depth gate: W_xd = w_cd = w_ld = 0, b_d = −1000, so d = σ(−1000) ≈ 3e−308
            state[name] = np.full(dg.state_dict()[name].shape, -1000.0 if name.startswith("bias_d") else 0.0)
    dg.load_state_dict(state)
    n = 6 if bidirectional else 3
    data = np.random.default_rng(0)
    results = []
    for layer in (lstm, dg):
        x = Tensor(data.standard_normal((6, 3, 3)) if not results else results[0][0], requires_grad=True, dtype=F64)
        h0 = Tensor(np.full((n, 3, 5), 0.1), requires_grad=True, dtype=F64)
        c0 = Tensor(np.full((n, 3, 5), -0.2), requires_grad=True, dtype=F64)
        out, (h, c) = layer(x, (h0, c0), lengths=[6, 2, 4])
        w = np.random.default_rng(1)
        loss = sum((t * Tensor(w.standard_normal(t.shape), dtype=F64)).sum() for t in (out, h, c))
        loss.backward()
        grads = {k: p.grad for k, p in layer.named_parameters()}
        results.append((x.data, out.data, h.data, c.data, x.grad, h0.grad, c0.grad, grads))
    for a, b in zip(results[0][1:7], results[1][1:7]):
        np.testing.assert_allclose(a, b, rtol=0, atol=1e-12)
    for k, g in results[0][7].items():
        np.testing.assert_allclose(g, results[1][7][k], rtol=0, atol=1e-12, err_msg=k)


# ---------------------------------------------------------------------------------------------------------------
# Small tasks, learnt

def _fit(model, head, X, Y, lr, steps):
    """Adam on the MSE of head(model(X)) against Y; the loss at every step."""
    opt = optim.Adam(list(model.parameters()) + list(head.parameters()), lr=lr)
    losses = []
    for _ in range(steps):
        out, _ = model(X)
        loss = ((head(out) - Y) ** 2).mean()
        opt.zero_grad()
        loss.backward()
        opt.step()
        losses.append(loss.item())
    return losses


def test_depth_gated_lstm_learns_running_sum():
    """2-layer depth-gated LSTM, H = 12, running sum of 16 steps (y_t = Σ_{s≤t} x_s / 4), Adam lr 0.02:
    the MSE falls from ~0.5 to below 0.01 within 100 steps (it reaches ~0.001 on seeds 0–3)."""
    manual_seed(0)
    model = nn.DepthGatedLSTM(1, 12, num_layers=2)
    head = nn.Linear(12, 1)
    data = np.random.default_rng(0)
    x = data.standard_normal((16, 16, 1)).astype(np.float32)
    X, Y = Tensor(x), Tensor(np.cumsum(x, axis=0) / 4)
    losses = _fit(model, head, X, Y, lr=0.02, steps=100)
    assert losses[0] > 0.1
    assert losses[-1] < 0.01, losses[::10]


def test_clockwork_rnn_learns_to_generate_a_waveform():
    """The paper's generation task in small: from a single impulse at t = 0, produce 32 steps of
    sin(2πt/32) + 0.5 sin(2πt/8). Clockwork RNN, H = 16 in 4 modules (periods 1, 2, 4, 8), Adam lr 0.03:
    the MSE falls from ~0.65 to below 0.01 within 150 steps (it reaches ~0.001 on seeds 0–3)."""
    manual_seed(0)
    model = nn.ClockworkRNN(1, 16, num_modules=4)
    head = nn.Linear(16, 1)
    t = np.arange(32)
    target = (np.sin(2 * np.pi * t / 32) + 0.5 * np.sin(2 * np.pi * t / 8)).astype(np.float32)
    x = np.zeros((32, 1, 1), np.float32)
    x[0] = 1
    X, Y = Tensor(x), Tensor(target.reshape(32, 1, 1))
    losses = _fit(model, head, X, Y, lr=0.03, steps=150)
    assert losses[0] > 0.3
    assert losses[-1] < 0.01, losses[::10]


# ---------------------------------------------------------------------------------------------------------------
# Interface

def test_parameter_names_and_shapes():
    dg = nn.DepthGatedLSTM(3, 4, num_layers=2, bidirectional=True)
    shapes = {k: v.shape for k, v in dg.state_dict().items()}
    assert "weight_xd_l0" not in shapes  # layer 0 has no lower cell
    assert shapes["weight_xd_l1"] == (4, 8) and shapes["weight_cd_l1_reverse"] == (4,)
    assert shapes["weight_ih_l1"] == (16, 8) and shapes["bias_d_l1"] == (4,)
    assert nn.DepthGatedLSTM(3, 4, num_layers=2, bias=False).bias_d_l1 is None
    cw = nn.ClockworkRNN(3, 8, num_modules=4, num_layers=2)
    assert list(cw.state_dict()) == [f"{w}_l{k}" for k in range(2) for w in ("weight_ih", "weight_hh", "bias_ih",
                                                                            "bias_hh")]
    assert cw.periods == (1, 2, 4, 8)
    assert repr(cw) == "ClockworkRNN(3, 8, num_layers=2, num_modules=4, periods=(1, 2, 4, 8))"
    assert set(nn.DepthGatedLSTMCell(3, 4).state_dict()) == {"weight_ih", "weight_hh", "bias_ih", "bias_hh",
                                                             "weight_xd", "weight_cd", "weight_ld", "bias_d"}


def test_unbatched_batch_first_and_state_dict_roundtrip(rng):
    dg = nn.DepthGatedLSTM(3, 4, num_layers=2, batch_first=True, dtype=F64)
    x = rng.standard_normal((5, 3))
    out, (h, c) = dg(Tensor(x, dtype=F64))
    out_b, (h_b, c_b) = dg(Tensor(x[None], dtype=F64))
    assert out.shape == (5, 4) and h.shape == (2, 4)
    np.testing.assert_allclose(out.data, out_b.data[0], rtol=1e-15)
    cw = nn.ClockworkRNN(3, 4, num_modules=2, dtype=F64)
    other = nn.ClockworkRNN(3, 4, num_modules=2, dtype=F64)
    other.load_state_dict(cw.state_dict())
    xs = Tensor(rng.standard_normal((6, 3)), dtype=F64)
    np.testing.assert_array_equal(cw(xs)[0].data, other(xs)[0].data)
    h1 = nn.ClockworkRNNCell(3, 4, num_modules=2)(Tensor(np.zeros(3, np.float32)), t=5)
    assert h1.shape == (4,)


def test_errors():
    with pytest.raises(ValueError, match="hidden_size must be divisible by num_modules"):
        nn.ClockworkRNN(3, 10, num_modules=4)
    with pytest.raises(ValueError, match="periods must be 3 strictly increasing positive integers"):
        nn.ClockworkRNN(3, 6, num_modules=3, periods=(1, 4, 2))
    with pytest.raises(ValueError, match="num_modules must be a positive integer"):
        nn.ClockworkRNNCell(3, 6, num_modules=0)
    with pytest.raises(ValueError, match="t must be a non-negative integer"):
        nn.ClockworkRNNCell(3, 6, num_modules=3)(Tensor(np.zeros((2, 3), np.float32)), t=-1)
    with pytest.raises(ValueError, match="gate_activation must be one of"):
        nn.DepthGatedLSTM(3, 4, gate_activation="tanh")
    cell = nn.DepthGatedLSTMCell(3, 4)
    with pytest.raises(ValueError, match=r"DepthGatedLSTMCell: Expected c_lower size \(2, 4\), got \(2, 5\)"):
        cell(Tensor(np.zeros((2, 3), np.float32)), c_lower=Tensor(np.zeros((2, 5), np.float32)))
