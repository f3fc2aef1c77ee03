"""nn.init: gains equal torch's; each initialiser's bounds and moments (the draws differ from torch's: statistics,
not values), seeded by manual_seed, in place through inplace.writing (versions counted, graphs refuse backward)."""
import math
import warnings

import numpy as np
import pytest

import tinygrad_rnn as tg
from tinygrad_rnn import nn
from tinygrad_rnn.nn import Parameter, init

GAINS = [("linear", None), ("conv2d", None), ("sigmoid", None), ("tanh", None), ("relu", None),
         ("leaky_relu", None), ("leaky_relu", 0.2), ("leaky_relu", 0), ("selu", None)]


@pytest.mark.parametrize("nonlinearity,param", GAINS)
def test_calculate_gain_equals_torch(nonlinearity, param):
    expected = {"linear": 1, "conv2d": 1, "sigmoid": 1, "tanh": 5 / 3, "relu": math.sqrt(2), "selu": 0.75,
                "leaky_relu": math.sqrt(2 / (1 + (0.01 if param is None else param) ** 2))}[nonlinearity]
    assert init.calculate_gain(nonlinearity, param) == pytest.approx(expected, rel=1e-15)
    torch = pytest.importorskip("torch")
    assert init.calculate_gain(nonlinearity, param) == torch.nn.init.calculate_gain(nonlinearity, param)


@pytest.mark.parametrize("call,message", [
    (lambda: init.calculate_gain("swish"), "Unsupported nonlinearity swish"),
    (lambda: init.calculate_gain("leaky_relu", True), "negative_slope True not a valid number"),
    (lambda: init.xavier_uniform_(Parameter(np.zeros(5))),
     "Fan in and fan out can not be computed for tensor with fewer than 2 dimensions"),
    (lambda: init.kaiming_normal_(Parameter(np.zeros((3, 4))), mode="fan_avg"),
     "Mode fan_avg not supported, please use one of ['fan_in', 'fan_out']"),
    (lambda: init.orthogonal_(Parameter(np.zeros(5))), "Only tensors with 2 or more dimensions are supported"),
])
def test_errors_are_torchs(call, message):
    with pytest.raises(ValueError) as ours:
        call()
    assert str(ours.value) == message
    torch = pytest.importorskip("torch")
    ported = {"Unsupported": lambda: torch.nn.init.calculate_gain("swish"),
              "negative_slope": lambda: torch.nn.init.calculate_gain("leaky_relu", True),
              "Fan in": lambda: torch.nn.init.xavier_uniform_(torch.zeros(5)),
              "Mode": lambda: torch.nn.init.kaiming_normal_(torch.zeros(3, 4), mode="fan_avg"),
              "Only": lambda: torch.nn.init.orthogonal_(torch.zeros(5))}
    with pytest.raises(ValueError) as theirs:
        next(f for k, f in ported.items() if message.startswith(k))()
    assert str(theirs.value) == message


def big(shape=(400, 500), dtype=np.float64):
    return Parameter(np.full(shape, 7.0, dtype=dtype))


def moments(p):
    return float(p.data.mean()), float(p.data.std()), float(p.data.min()), float(p.data.max())


def test_uniform_and_normal():
    tg.manual_seed(0)
    p = init.uniform_(big(), -2.0, 3.0)
    mean, std, lo, hi = moments(p)
    assert -2 <= lo and hi < 3 and lo < -1.99 and hi > 2.99
    assert mean == pytest.approx(0.5, abs=0.01) and std == pytest.approx(5 / math.sqrt(12), rel=0.01)
    mean, std, _, _ = moments(init.normal_(big(), 1.5, 0.25))
    assert mean == pytest.approx(1.5, abs=0.002) and std == pytest.approx(0.25, rel=0.01)
    mean, std, lo, hi = moments(init.uniform_(big()))         # torch's defaults: U(0, 1), N(0, 1)
    assert 0 <= lo and hi < 1 and mean == pytest.approx(0.5, abs=0.01)
    mean, std, _, _ = moments(init.normal_(big()))
    assert mean == pytest.approx(0, abs=0.01) and std == pytest.approx(1, rel=0.01)


def test_constants():
    p = big((2, 3), np.float32)
    assert init.zeros_(p) is p and p.data.dtype == np.float32 and not p.data.any()
    assert (init.ones_(p).data == 1).all()
    assert (init.constant_(p, -0.5).data == -0.5).all() and p.data.dtype == np.float32


@pytest.mark.parametrize("shape", [(400, 500), (300, 20, 3)])
def test_xavier(shape):
    fan_in, fan_out = shape[1] * int(np.prod(shape[2:])), shape[0] * int(np.prod(shape[2:]))
    tg.manual_seed(1)
    a = 0.5 * math.sqrt(6 / (fan_in + fan_out))
    mean, std, lo, hi = moments(init.xavier_uniform_(big(shape), gain=0.5))
    assert -a <= lo and hi <= a and hi > 0.99 * a and std == pytest.approx(a / math.sqrt(3), rel=0.01)
    assert mean == pytest.approx(0, abs=0.01 * a)
    mean, std, _, _ = moments(init.xavier_normal_(big(shape), gain=2.0))
    assert std == pytest.approx(2.0 * math.sqrt(2 / (fan_in + fan_out)), rel=0.01)


@pytest.mark.parametrize("mode", ["fan_in", "fan_out"])
@pytest.mark.parametrize("nonlinearity,a", [("leaky_relu", 0), ("relu", 0), ("leaky_relu", 0.3), ("tanh", 0)])
def test_kaiming(mode, nonlinearity, a):
    shape = (300, 700)
    fan = 700 if mode == "fan_in" else 300
    std = init.calculate_gain(nonlinearity, a) / math.sqrt(fan)
    tg.manual_seed(2)
    _, s, lo, hi = moments(init.kaiming_uniform_(big(shape), a=a, mode=mode, nonlinearity=nonlinearity))
    bound = math.sqrt(3) * std
    assert -bound <= lo and hi <= bound and hi > 0.99 * bound and s == pytest.approx(std, rel=0.01)
    mean, s, _, _ = moments(init.kaiming_normal_(big(shape), a=a, mode=mode, nonlinearity=nonlinearity))
    assert s == pytest.approx(std, rel=0.01) and mean == pytest.approx(0, abs=0.01 * std)


def test_kaiming_defaults_are_torchs_and_zero_elements_warn():
    # default: a=0, fan_in, leaky_relu → std √2/√fan_in (torch's default, not the relu-free 1/√fan_in)
    tg.manual_seed(3)
    _, s, _, hi = moments(init.kaiming_uniform_(big((300, 800))))
    assert s == pytest.approx(math.sqrt(2) / math.sqrt(800), rel=0.01) and hi <= math.sqrt(6 / 800)
    p = Parameter(np.zeros((0, 3)))
    for fn in (init.kaiming_uniform_, init.kaiming_normal_):
        with pytest.warns(UserWarning, match="^Initializing zero-element tensors is a no-op$"):
            assert fn(p) is p


@pytest.mark.parametrize("shape", [(50, 50), (30, 80), (80, 30), (12, 5, 4)])
@pytest.mark.parametrize("dtype,tol", [(np.float64, 1e-12), (np.float32, 1e-5)])
def test_orthogonal(shape, dtype, tol):
    tg.manual_seed(4)
    p = init.orthogonal_(big(shape, dtype), gain=1.0)
    assert p.data.dtype == dtype and p.shape == shape
    q = p.data.reshape(shape[0], -1).astype(np.float64)
    small = min(q.shape)
    gram = q @ q.T if q.shape[0] == small else q.T @ q
    np.testing.assert_allclose(gram, np.eye(small), atol=tol)
    assert np.abs(gram - np.eye(small)).max() < 1e-6
    p = init.orthogonal_(big(shape), gain=3.0)
    q = p.data.reshape(shape[0], -1)
    gram = q @ q.T if q.shape[0] == small else q.T @ q
    np.testing.assert_allclose(gram, 9 * np.eye(small), atol=1e-10)


def test_orthogonal_is_haar_signed():
    # with R's diagonal signs folded in, Q's diagonal is not biased positive (a plain QR's would be)
    tg.manual_seed(5)
    diag = np.array([np.diag(init.orthogonal_(big((4, 4))).data) for _ in range(2000)])
    assert abs(diag.mean()) < 0.05


def test_manual_seed_makes_init_reproducible_and_generator_is_accepted():
    draws = []
    for _ in range(2):
        tg.manual_seed(123)
        p = big((5, 6))
        draws.append([init.xavier_uniform_(p).data.copy(), init.orthogonal_(p).data.copy(),
                      init.kaiming_normal_(p).data.copy(), init.normal_(p).data.copy()])
    for a, b in zip(*draws):
        np.testing.assert_array_equal(a, b)
    assert not np.array_equal(draws[0][0], draws[0][3])
    one = init.uniform_(big((3, 3)), generator=np.random.default_rng(9)).data
    two = init.uniform_(big((3, 3)), generator=np.random.default_rng(9)).data
    np.testing.assert_array_equal(one, two)


def test_writes_are_counted_and_a_graph_that_saved_the_weight_refuses_backward():
    lin = nn.Linear(3, 2)
    x = tg.randn(4, 3)
    loss = (lin(x) ** 2).sum()
    before = lin.weight._version
    init.xavier_uniform_(lin.weight)                   # the forward saved the weight: the write is counted
    assert lin.weight._version == before + 1
    with pytest.raises(RuntimeError, match="modified by an inplace operation"):
        loss.backward()
    init.zeros_(lin.bias)
    loss = (lin(x) ** 2).sum()                          # a fresh graph is fine
    loss.backward()
    assert lin.weight.grad.shape == (2, 3) and lin.weight.requires_grad


def test_init_does_not_record_on_the_tape():
    p = Parameter(np.zeros((3, 3)))
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        out = init.normal_(p)
    assert out is p and p.is_leaf and p.grad is None
