"""Cells: gradcheck fused and unfused, fused == unfused to 1e-12, PyTorch parity, layout and errors."""
import numpy as np
import pytest

from tinygrad_rnn import Tensor, gradcheck, manual_seed, nn

F64 = np.float64
CELLS = [
    ("rnn_tanh", nn.RNNCell, {}),
    ("rnn_relu", nn.RNNCell, {"nonlinearity": "relu"}),
    ("lstm", nn.LSTMCell, {}),
    ("lstm_hard", nn.LSTMCell, {"gate_activation": "hard_sigmoid"}),
    ("peephole", nn.PeepholeLSTMCell, {}),
    ("peephole_hard", nn.PeepholeLSTMCell, {"gate_activation": "hard_sigmoid"}),
    ("gru", nn.GRUCell, {}),
    ("gru_hard", nn.GRUCell, {"gate_activation": "hard_sigmoid"}),
    ("gru_cho", nn.GRUCell, {"reset_after": False}),
    ("gru_cho_hard", nn.GRUCell, {"reset_after": False, "gate_activation": "hard_sigmoid"}),
]
IDS = [c[0] for c in CELLS]


def has_c(cls):
    return cls in (nn.LSTMCell, nn.PeepholeLSTMCell)


def make(rng, cls, kwargs, fused, bias=True, batch=2, inp=3, hidden=4):
    cell = cls(inp, hidden, bias=bias, fused=fused, dtype=F64, **kwargs)
    x = Tensor(rng.standard_normal((batch, inp)), requires_grad=True, dtype=F64)
    states = [Tensor(rng.standard_normal((batch, hidden)), requires_grad=True, dtype=F64)
              for _ in range(2 if has_c(cls) else 1)]
    return cell, x, states


def call(cell, x, states):
    return cell(x, tuple(states) if len(states) == 2 else states[0])


@pytest.mark.parametrize("bias", [True, False], ids=["bias", "nobias"])
@pytest.mark.parametrize("fused", [True, False], ids=["fused", "unfused"])
@pytest.mark.parametrize("name,cls,kwargs", CELLS, ids=IDS)
def test_gradcheck(rng, name, cls, kwargs, fused, bias):
    cell, x, states = make(rng, cls, kwargs, fused, bias)
    if "hard" in name:  # spread pre-activations over both plateaus and the slope of hard_sigmoid
        for p in cell.parameters():
            p.data *= 3
    inputs = [x, *states, *cell.parameters()]
    assert gradcheck(lambda *args: call(cell, x, states), inputs)


@pytest.mark.parametrize("name,cls,kwargs", CELLS, ids=IDS)
def test_fused_equals_unfused(rng, name, cls, kwargs):
    """The Cython gate kernel and the primitive-op composition give the same outputs and gradients."""
    results = []
    for fused in (True, False):
        manual_seed(11)  # same weights for both
        cell, x, states = make(np.random.default_rng(5), cls, kwargs, fused, batch=3, inp=5, hidden=7)
        out = call(cell, x, states)
        outs = out if isinstance(out, tuple) else (out,)
        loss = sum((o * Tensor(np.random.default_rng(9).standard_normal(o.shape), dtype=F64)).sum() for o in outs)
        loss.backward()
        results.append([o.data for o in outs] + [t.grad for t in (x, *states, *cell.parameters())])
    for a, b in zip(*results):
        np.testing.assert_allclose(a, b, rtol=1e-12, atol=1e-14)


def test_layout_and_init(rng):
    cell = nn.LSTMCell(10, 20)
    shapes = {k: v.shape for k, v in cell.state_dict().items()}
    assert shapes == {"weight_ih": (80, 10), "weight_hh": (80, 20), "bias_ih": (80,), "bias_hh": (80,)}
    assert cell.weight_ih.dtype == np.float32
    bound = 1 / np.sqrt(20)
    assert all(np.abs(p.data).max() <= bound for p in cell.parameters())
    assert set(nn.PeepholeLSTMCell(3, 4).state_dict()) >= {"weight_ci", "weight_cf", "weight_co"}
    assert nn.GRUCell(3, 4).weight_hh.shape == (12, 4) and nn.RNNCell(3, 4, bias=False).bias_ih is None
    forget = nn.LSTMCell(3, 4, forget_bias=1.0)
    np.testing.assert_array_equal(forget.bias_ih.data[4:8] + forget.bias_hh.data[4:8], 1.0)


def test_hx_none_means_zeros_and_unbatched(rng):
    cell = nn.LSTMCell(3, 4, dtype=F64)
    x = Tensor(rng.standard_normal((2, 3)), dtype=F64)
    zero = Tensor(np.zeros((2, 4)), dtype=F64)
    h1, c1 = cell(x)
    h2, c2 = cell(x, (zero, zero))
    np.testing.assert_array_equal(h1.data, h2.data)
    h, c = cell(x[0])
    assert h.shape == (4,)
    np.testing.assert_allclose(h.data, h1.data[0], rtol=1e-15)


def f32(*shape):
    return Tensor(np.zeros(shape, dtype=np.float32))


def test_errors_name_class_argument_and_shapes(rng):
    cell = nn.LSTMCell(3, 4)
    with pytest.raises(ValueError, match="LSTMCell: Expected input to be 1D or 2D, got 3D instead"):
        cell(f32(1, 2, 3))
    with pytest.raises(ValueError, match="LSTMCell: input.size\\(-1\\) must be equal to input_size. Expected 3, got 5"):
        cell(f32(2, 5))
    with pytest.raises(ValueError, match=r"LSTMCell: Expected hx\[0\] size \(2, 4\), got \(2, 5\)"):
        cell(f32(2, 3), (f32(2, 5), f32(2, 4)))
    with pytest.raises(ValueError, match="dtype float32.*float64"):
        cell(Tensor(np.zeros((2, 3)), dtype=F64))
    with pytest.raises(ValueError, match="gate_activation must be one of"):
        nn.GRUCell(3, 4, gate_activation="relu")
    with pytest.raises(ValueError, match="hidden_size must be a positive integer, but got 0"):
        nn.RNNCell(3, 0)


@pytest.mark.parametrize("name", ["LSTMCell", "GRUCell", "RNNCell"])
def test_matches_torch(rng, name, torch):
    ours = getattr(nn, name)(5, 7, dtype=F64)
    ref = getattr(torch.nn, name)(5, 7).double()
    ref.load_state_dict({k: torch.from_numpy(v.numpy()) for k, v in ours.state_dict().items()})
    xn, hn, cn = rng.standard_normal((3, 5)), rng.standard_normal((3, 7)), rng.standard_normal((3, 7))
    x, h, c = (Tensor(a, requires_grad=True, dtype=F64) for a in (xn, hn, cn))
    xt, ht, ct = (torch.tensor(a, requires_grad=True) for a in (xn, hn, cn))
    lstm = name == "LSTMCell"
    outs = ours(x, (h, c)) if lstm else (ours(x, h),)
    outs_t = ref(xt, (ht, ct)) if lstm else (ref(xt, ht),)
    weights = [rng.standard_normal(o.shape) for o in outs]
    sum((o * Tensor(w, dtype=F64)).sum() for o, w in zip(outs, weights)).backward()
    sum((o * torch.tensor(w)).sum() for o, w in zip(outs_t, weights)).backward()
    for o, ot in zip(outs, outs_t):
        np.testing.assert_allclose(o.data, ot.detach().numpy(), rtol=1e-10, atol=1e-12)
    for a, at in [(x, xt), (h, ht)] + ([(c, ct)] if lstm else []):
        np.testing.assert_allclose(a.grad, at.grad.numpy(), rtol=1e-10, atol=1e-12)
    for k, p in ours.named_parameters():
        np.testing.assert_allclose(p.grad, getattr(ref, k).grad.numpy(), rtol=1e-10, atol=1e-12)
