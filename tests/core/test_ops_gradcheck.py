"""Every primitive op's tape gradient against central finite differences (float64)."""
import numpy as np
import pytest

import tinygrad_rnn as tg
from tinygrad_rnn import Tensor, gradcheck
from tinygrad_rnn.nn.functional import linear


def leaf(rng, *shape, positive=False):
    data = rng.standard_normal(shape)
    return Tensor(np.abs(data) + 0.5 if positive else data, requires_grad=True, dtype=np.float64)


BROADCAST_SHAPES = [((3, 4), (3, 4)), ((3, 1), (1, 4)), ((), (3, 4)), ((2, 3, 4), (4,)), ((5,), (2, 5))]
BINARY = {
    "add": lambda a, b: a + b,
    "sub": lambda a, b: a - b,
    "mul": lambda a, b: a * b,
    "div": lambda a, b: a / b,
    "pow": lambda a, b: a**b,
}


@pytest.mark.parametrize("sa,sb", BROADCAST_SHAPES, ids=str)
@pytest.mark.parametrize("name", BINARY)
def test_binary_broadcasting(rng, name, sa, sb):
    positive = name in ("div", "pow")
    a, b = leaf(rng, *sa, positive=positive), leaf(rng, *sb, positive=positive)
    assert gradcheck(BINARY[name], (a, b))


@pytest.mark.parametrize("name", ["radd", "rsub", "rmul", "rtruediv", "rpow"])
def test_reflected_scalar(rng, name):
    x = leaf(rng, 2, 3, positive=True)
    fn = {"radd": lambda x: 2 + x, "rsub": lambda x: 2 - x, "rmul": lambda x: 2 * x,
          "rtruediv": lambda x: 2 / x, "rpow": lambda x: 2**x}[name]
    assert gradcheck(fn, (x,))
    np.testing.assert_allclose(fn(x).data, fn(x.data))


def test_scalar_exponent_and_neg(rng):
    x = leaf(rng, 3, 4, positive=True)
    assert gradcheck(lambda x: -(x**3) + x**0.5, (x,))


@pytest.mark.parametrize(
    "sa,sb", [((3, 4), (4, 5)), ((4,), (4, 5)), ((3, 4), (4,)), ((4,), (4,)), ((2, 3, 4), (4, 5)),
              ((2, 1, 3, 4), (5, 4, 2)), ((1, 1), (1, 1))], ids=str)
def test_matmul(rng, sa, sb):
    assert gradcheck(lambda a, b: a @ b, (leaf(rng, *sa), leaf(rng, *sb)))


@pytest.mark.parametrize("name", ["exp", "log", "sigmoid", "tanh", "relu", "hard_sigmoid"])
def test_unary(rng, name):
    x = leaf(rng, 4, 5, positive=name == "log")
    if name == "hard_sigmoid":
        x.data *= 4  # reach both plateaus; kinks at ±2.5 are hit with probability 0
    if name == "relu":
        x.data[np.abs(x.data) < 1e-3] = 0.5  # keep finite differences off the kink
    assert gradcheck(lambda x: getattr(x, name)(), (x,))


def test_unary_values(rng):
    x = rng.standard_normal(50) * 5
    t = Tensor(x, dtype=np.float64)
    np.testing.assert_allclose(t.sigmoid().data, 1 / (1 + np.exp(-x)), rtol=1e-14)
    np.testing.assert_allclose(t.hard_sigmoid().data, np.clip(0.2 * x + 0.5, 0, 1), rtol=1e-15)
    np.testing.assert_allclose(t.relu().data, np.maximum(x, 0))


def test_clip(rng):
    x = leaf(rng, 4, 5)
    assert gradcheck(lambda x: x.clip(-0.5, 0.7), (x,))
    assert gradcheck(lambda x: x.clamp(min=0.1), (x,))
    with pytest.raises(RuntimeError, match="At least one of 'min' or 'max' must not be None"):   # torch's words
        x.clip()


@pytest.mark.parametrize("dim", [None, 0, 1, -1, (0, 2), [0, 2], [-1]])
@pytest.mark.parametrize("keepdim", [False, True])
@pytest.mark.parametrize("op", ["sum", "mean", "amax"])
def test_reductions(rng, op, dim, keepdim):
    """dim as PyTorch takes it: None, an int, a tuple or a list."""
    x = leaf(rng, 3, 4, 2)
    out = getattr(x, op)(dim=dim, keepdim=keepdim)
    axis = tuple(dim) if isinstance(dim, list) else dim
    np.testing.assert_allclose(out.data, getattr(np, {"sum": "sum", "mean": "mean", "amax": "amax"}[op])(
        x.data, axis=axis, keepdims=keepdim))
    assert gradcheck(lambda x: getattr(x, op)(dim=dim, keepdim=keepdim), (x,))


def test_max_ties_share_gradient():
    x = Tensor([[1.0, 3.0, 3.0], [2.0, 0.0, 1.0]], requires_grad=True, dtype=np.float64)
    x.amax(dim=1).sum().backward()
    np.testing.assert_array_equal(x.grad, [[0, 0.5, 0.5], [1, 0, 0]])


@pytest.mark.parametrize("dim", [0, 1, -1])
@pytest.mark.parametrize("op", ["softmax", "log_softmax"])
def test_softmax(rng, op, dim):
    x = leaf(rng, 3, 5)
    assert gradcheck(lambda x: getattr(x, op)(dim=dim), (x,))
    expected = np.exp(x.data) / np.exp(x.data).sum(axis=dim, keepdims=True)
    np.testing.assert_allclose(getattr(x, op)(dim).data, expected if op == "softmax" else np.log(expected))


def test_log_softmax_extreme_logits_stay_finite():
    for logits in ([1000.0, 0.0, -1000.0], [-1e4, -1e4]):
        x = Tensor(logits, requires_grad=True, dtype=np.float64)
        with np.errstate(over="raise", invalid="raise", divide="raise"):
            out = x.log_softmax(0)
            out.sum().backward()
        m = np.max(logits)
        np.testing.assert_allclose(out.data, np.array(logits) - (m + np.log(np.sum(np.exp(np.array(logits) - m)))))
        assert np.all(np.isfinite(x.grad))


def test_shape_ops(rng):
    x = leaf(rng, 2, 3, 4)
    assert gradcheck(lambda x: x.reshape(4, 6) * Tensor(np.arange(24.0).reshape(4, 6), dtype=np.float64), (x,))
    assert gradcheck(lambda x: x.permute(2, 0, 1).reshape(-1)[:7], (x,))
    assert gradcheck(lambda x: x.transpose(0, 2) @ Tensor(np.ones((2, 5)), dtype=np.float64), (x,))
    assert x.T.shape == (4, 3, 2) and x.view(6, 4).shape == (6, 4)


@pytest.mark.parametrize(
    "index", [np.s_[1], np.s_[:, 1:3], np.s_[..., ::-2], np.s_[[0, 2, 2, 0]], np.s_[:, [1, 1, 3]],
              np.s_[[0, 1], [2, 2]], np.s_[np.array([True, False, True])], np.s_[1, None, 2:]], ids=str)
def test_indexing(rng, index):
    x = leaf(rng, 3, 4)
    np.testing.assert_array_equal(x[index].data, x.data[index])
    assert gradcheck(lambda x: x[index], (x,))


def test_repeated_integer_index_accumulates():
    x = Tensor(np.zeros(3), requires_grad=True, dtype=np.float64)
    x[[0, 0, 2, 0]].sum().backward()
    np.testing.assert_array_equal(x.grad, [3, 0, 1])


def test_int_array_index():  # a Tensor index is refused (tests/test_op_bugs.py): integer rows come as an ndarray
    x = Tensor(np.arange(5.0), requires_grad=True, dtype=np.float64)
    x[np.array([4, 1])].sum().backward()
    np.testing.assert_array_equal(x.grad, [0, 1, 0, 0, 1])


def test_cat_stack_split_chunk(rng):
    a, b, c = leaf(rng, 2, 3), leaf(rng, 2, 1), leaf(rng, 2, 3)
    assert gradcheck(lambda a, b: tg.cat([a, b, a], dim=1), (a, b))
    assert gradcheck(lambda a, c: tg.stack([a, c], dim=-1), (a, c))
    assert gradcheck(lambda a, c: tg.stack([a, c], dim=0), (a, c))
    x = leaf(rng, 7, 2)
    pieces = x.split(3)
    assert [p.shape[0] for p in pieces] == [3, 3, 1]
    assert [p.shape[1] for p in x.split([1, 1], dim=1)] == [1, 1]
    assert [p.shape[0] for p in x.chunk(4)] == [2, 2, 2, 1]
    assert gradcheck(lambda x: tg.cat([p * (i + 1) for i, p in enumerate(x.chunk(3, dim=0))], 0), (x,))
    with pytest.raises(ValueError, match="sum to 7"):
        x.split([3, 3])


def test_where(rng):
    a, b = leaf(rng, 3, 4), leaf(rng, 1, 4)
    cond = rng.standard_normal((3, 4)) > 0
    assert gradcheck(lambda a, b: tg.where(cond, a, b), (a, b))
    np.testing.assert_array_equal(tg.where(cond, a, 0.0).data, np.where(cond, a.data, 0.0))


def test_cast_round_trip(rng):
    x = leaf(rng, 3)
    y = x.float()
    assert y.dtype == np.float32 and y.double().dtype == np.float64
    (y * 2).double().sum().backward()
    assert x.grad.dtype == np.float64
    np.testing.assert_array_equal(x.grad, [2, 2, 2])


@pytest.mark.parametrize("act", ["identity", "sigmoid", "tanh", "hard_sigmoid"])
@pytest.mark.parametrize("bias", [True, False])
@pytest.mark.parametrize("xshape", [(1, 3), (4, 3), (3,), (2, 4, 3)], ids=str)
def test_linear_fused(rng, act, bias, xshape):
    x, w, b = leaf(rng, *xshape), leaf(rng, 5, 3), leaf(rng, 5)
    args = (x, w, b) if bias else (x, w)
    fn = (lambda x, w, b: linear(x, w, b, act=act)) if bias else (lambda x, w: linear(x, w, act=act))
    assert gradcheck(fn, args)
    z = x.data @ w.data.T + (b.data if bias else 0)
    ref = {"identity": z, "sigmoid": 1 / (1 + np.exp(-z)), "tanh": np.tanh(z),
           "hard_sigmoid": np.clip(0.2 * z + 0.5, 0, 1)}[act]
    np.testing.assert_allclose(fn(*args).data, ref, rtol=1e-12, atol=1e-14)


def test_composed_expression(rng):
    x, w = leaf(rng, 2, 3), leaf(rng, 3, 3)
    assert gradcheck(lambda x, w: ((x @ w).tanh() * x.sigmoid() + (x - 1) ** 2).log_softmax(-1).mean(), (x, w))
