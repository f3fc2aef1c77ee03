"""Op bugs other projects' test suites found (issue 11, item 4): each case against PyTorch, and against the value
known without it (those run when torch is absent)."""
import warnings

import numpy as np
import pytest

import tinygrad_rnn as tg
from tinygrad_rnn import Tensor, nn
from tinygrad_rnn.nn import functional as F

F64 = np.float64
TIGHT = dict(rtol=1e-12, atol=1e-14, equal_nan=True)


def leaf(data, dtype=F64):
    return Tensor(np.asarray(data, dtype=dtype), requires_grad=True, dtype=dtype)


# ---- Pow: zero exponents, zero bases -----------------------------------------------------------------------
BASES = [-2.0, -1.0, -0.5, 0.0, 0.5, 1.0, 2.0]
EXPONENTS = [-2.0, -1.0, 0.0, 0.5, 1.0, 2.0, 3.0]


def test_pow_zero_exponent_has_zero_gradient_at_zero_base():
    x = leaf([0.0, 2.0, -1.0])
    (x**0).sum().backward()
    np.testing.assert_array_equal(x.grad, [0.0, 0.0, 0.0])      # was nan at x = 0 (0 · 0^(−1))
    x, e = leaf([0.0, 2.0]), leaf(0.0)
    (x**e).sum().backward()
    np.testing.assert_array_equal(x.grad, [0.0, 0.0])
    np.testing.assert_allclose(e.grad, np.log(2.0), rtol=1e-15)  # 0^e is flat in e at 0 (e ≥ 0): adds 0


def test_pow_exponent_gradient_at_zero_base():
    x = leaf([-1.0, -0.5, 0.0, 2.0])
    with np.errstate(divide="ignore"):                      # 0^(−1) = inf
        (0.0**x).sum().backward()
    np.testing.assert_array_equal(x.grad, [-np.inf, -np.inf, 0.0, 0.0])  # was 0 for x < 0; torch gives −inf


def _pow_grads_ours(a, b):
    a, b = leaf(a), leaf(b)
    with np.errstate(all="ignore"):
        y = a**b
        y.backward(np.ones(y.shape))
    return y.data, a.grad, b.grad


def _pow_grads_torch(torch, a, b):
    a, b = (torch.tensor(v, dtype=torch.float64, requires_grad=True) for v in (a, b))
    y = a**b
    y.backward(torch.ones_like(y))
    return y.detach().numpy(), a.grad.numpy(), b.grad.numpy()


def test_pow_gradients_match_torch_over_edge_grid(torch):
    a, b = (g.ravel() for g in np.meshgrid(BASES, EXPONENTS, indexing="ij"))
    for ours, theirs in zip(_pow_grads_ours(a, b), _pow_grads_torch(torch, a, b)):
        np.testing.assert_allclose(ours, theirs, **TIGHT)


@pytest.mark.parametrize("c", EXPONENTS + [-2.0, 0.0])
def test_pow_with_a_python_scalar_matches_torch(torch, c):
    """x ** c (torch's scalar-exponent backward) and c ** x (scalar base), both over the grid's values."""
    for fn, values in ((lambda t: t**c, BASES), (lambda t: c**t, EXPONENTS)):
        x, tx = leaf(values), torch.tensor(values, dtype=torch.float64, requires_grad=True)
        with np.errstate(all="ignore"):
            y = fn(x)
            y.sum().backward()
        ty = fn(tx)
        ty.sum().backward()
        np.testing.assert_allclose(y.data, ty.detach().numpy(), **TIGHT)
        np.testing.assert_allclose(x.grad, tx.grad.numpy(), **TIGHT)


# ---- a Tensor as an index ---------------------------------------------------------------------------------
TORCH_INDEX_ERROR = "tensors used as indices must be long, int, byte or bool tensors"


def test_tensor_index_is_refused_never_read_as_rows():
    """Tensor([True, False, True]) holds 1.0, 0.0, 1.0: read as rows it gave x[1], x[0], x[1]. Refused, as PyTorch
    refuses every float tensor index; a bool ndarray masks."""
    x = Tensor(np.arange(6.0).reshape(3, 2))
    for index in (Tensor([True, False, True]), Tensor([2, 0]), Tensor(1.0), (slice(None), Tensor([1])),
                  (Tensor([0]), 1)):
        with pytest.raises(IndexError, match=TORCH_INDEX_ERROR):
            x[index]
    np.testing.assert_array_equal(x[np.array([True, False, True])].data, [[0, 1], [4, 5]])
    np.testing.assert_array_equal(x[Tensor([True, False, True]).numpy().astype(bool)].data, [[0, 1], [4, 5]])


def test_tensor_index_error_is_torch_s(torch):
    with pytest.raises(IndexError) as theirs:
        torch.arange(3.0)[torch.tensor([1.0, 0.0, 1.0])]
    with pytest.raises(IndexError) as ours:
        Tensor(np.arange(3.0))[Tensor([True, False, True])]
    assert str(ours.value).startswith(str(theirs.value))
    mask = np.array([True, False, True])
    np.testing.assert_array_equal(Tensor(np.arange(3.0))[mask].data, torch.arange(3.0)[torch.from_numpy(mask)])


# ---- dropout ----------------------------------------------------------------------------------------------
def test_functional_dropout_of_one_is_zeros_with_zero_gradient():
    x = leaf(np.arange(6.0).reshape(2, 3))
    with np.errstate(all="raise"):                         # no 0/0 on the way (it gave nan everywhere)
        y = F.dropout(x, 1.0)
        y.sum().backward()
    np.testing.assert_array_equal(y.data, np.zeros((2, 3)))
    np.testing.assert_array_equal(x.grad, np.zeros((2, 3)))
    assert F.dropout(x, 0.0) is x and F.dropout(x, 0.5, training=False) is x


def test_functional_dropout_of_one_matches_torch(torch):
    tx = torch.arange(6.0, dtype=torch.float64).reshape(2, 3).requires_grad_()
    ty = torch.nn.functional.dropout(tx, 1.0)
    ty.sum().backward()
    x = leaf(np.arange(6.0).reshape(2, 3))
    y = F.dropout(x, 1.0)
    y.sum().backward()
    np.testing.assert_array_equal(y.data, ty.detach().numpy())
    np.testing.assert_array_equal(x.grad, tx.grad.numpy())


@pytest.mark.parametrize("p", [1.5, -0.1, float("nan"), True])
def test_dropout_probability_outside_unit_interval_is_refused(p):
    x = Tensor(np.ones(3))
    with pytest.raises(ValueError, match=rf"^dropout probability has to be between 0 and 1, but got {p!r}$"):
        F.dropout(x, p)
    with pytest.raises(ValueError, match="dropout probability has to be between 0 and 1"):
        nn.Dropout(p)


@pytest.mark.parametrize("p", [1.5, -0.1])
def test_dropout_probability_error_is_torch_s(torch, p):
    with pytest.raises(ValueError) as theirs:
        torch.nn.functional.dropout(torch.ones(3), p)
    with pytest.raises(ValueError) as ours:
        F.dropout(Tensor(np.ones(3)), p)
    assert str(ours.value) == str(theirs.value) == f"dropout probability has to be between 0 and 1, but got {p}"


LAYERS = {"rnn": (nn.RNN, "RNN"), "lstm": (nn.LSTM, "LSTM"), "gru": (nn.GRU, "GRU")}


def _run(layer, x):
    out, state = layer(x)
    return out, state[0] if isinstance(state, tuple) else state


@pytest.mark.parametrize("fused", [True, False], ids=["fused", "tape"])
@pytest.mark.parametrize("name", list(LAYERS))
def test_layer_dropout_of_one_feeds_zeros_to_the_next_layer(rng, name, fused):
    """Training with dropout=1 (allowed, as in torch), the second layer sees zeros: its output equals a one-layer
    model with the second layer's weights run on zeros, whatever the input; it used to be nan (set after
    construction) or refused (in the constructor)."""
    cls = LAYERS[name][0]
    layer = cls(3, 4, num_layers=2, dropout=1.0, fused=fused, dtype=F64)
    set_later = cls(3, 4, num_layers=2, dropout=0.5, fused=fused, dtype=F64)
    set_later.load_state_dict(layer.state_dict())
    set_later.dropout = 1.0
    top = cls(4, 4, fused=fused, dtype=F64)
    top.load_state_dict({k.replace("_l1", "_l0"): v for k, v in layer.state_dict().items() if "_l1" in k})
    expected = top(Tensor(np.zeros((5, 2, 4))))[0].data
    for model in (layer, set_later):
        x = leaf(rng.standard_normal((5, 2, 3)))
        out, _ = _run(model, x)
        np.testing.assert_allclose(out.data, expected, rtol=1e-13, atol=1e-15)
        out.sum().backward()
        np.testing.assert_array_equal(x.grad, np.zeros((5, 2, 3)))


@pytest.mark.parametrize("name", list(LAYERS))
def test_layer_dropout_of_one_matches_torch(torch, rng, name):
    cls, tname = LAYERS[name]
    layer = cls(3, 4, num_layers=2, dropout=1.0, dtype=F64)
    theirs = getattr(torch.nn, tname)(3, 4, num_layers=2, dropout=1.0, dtype=torch.float64)
    theirs.load_state_dict({k: torch.from_numpy(np.array(v)) for k, v in layer.state_dict().items()})
    data = rng.standard_normal((5, 2, 3))
    out, h = _run(layer, Tensor(data))
    tout, th = theirs(torch.from_numpy(data))
    th = th[0] if isinstance(th, tuple) else th
    np.testing.assert_allclose(out.data, tout.detach().numpy(), rtol=1e-12, atol=1e-14)
    np.testing.assert_allclose(h.data, th.detach().numpy(), rtol=1e-12, atol=1e-14)


# ---- where with Python scalars ----------------------------------------------------------------------------
COND = np.array([True, False, True])


def test_where_of_two_python_scalars():
    out = tg.where(COND, 4.0, 2.0)                          # raised AttributeError
    assert out.dtype == np.float32
    np.testing.assert_array_equal(out.data, [4.0, 2.0, 4.0])
    out = tg.where(COND, 4.0, np.zeros(3))                  # a float array's dtype wins over the default
    assert out.dtype == np.float64
    np.testing.assert_array_equal(out.data, [4.0, 0.0, 4.0])
    x = leaf([1.0, 2.0, 3.0])
    for out, grad in ((tg.where(COND, x, 2.0), [1, 0, 1]), (tg.where(COND, 2.0, x), [0, 1, 0])):
        x.grad = None
        assert out.dtype == np.float64
        out.sum().backward()
        np.testing.assert_array_equal(x.grad, grad)


def test_where_with_scalars_matches_torch(torch):
    tcond = torch.from_numpy(COND)
    theirs = torch.where(tcond, 4.0, 2.0)
    ours = tg.where(COND, 4.0, 2.0)
    assert theirs.dtype == torch.float32 and ours.dtype == np.float32
    np.testing.assert_array_equal(ours.data, theirs.numpy())
    x, tx = leaf([1.0, 2.0, 3.0]), torch.tensor([1.0, 2.0, 3.0], dtype=torch.float64, requires_grad=True)
    (tg.where(COND, x, 2.0) * 3 + tg.where(COND, -1.0, x)).sum().backward()
    (torch.where(tcond, tx, 2.0) * 3 + torch.where(tcond, -1.0, tx)).sum().backward()
    np.testing.assert_array_equal(x.grad, tx.grad.numpy())


# ---- reductions on 0-d tensors and over empty dims ---------------------------------------------------------
REDUCTIONS = {"sum": "sum", "mean": "mean", "amax": "amax"}  # ours -> torch


@pytest.mark.parametrize("keepdim", [False, True])
@pytest.mark.parametrize("dim", [0, -1, (0,), [-1]])
@pytest.mark.parametrize("op", list(REDUCTIONS))
def test_reduction_of_a_0d_tensor_over_dim_0_is_the_identity(op, dim, keepdim):
    x = leaf(2.5)
    y = getattr(x, op)(dim, keepdim=keepdim)                 # backward crashed (shape (1,) for a leaf of ())
    (y * 3).backward()
    assert y.shape == () and y.item() == 2.5
    assert x.grad.shape == () and x.grad == 3.0


@pytest.mark.parametrize("keepdim", [False, True])
@pytest.mark.parametrize("dim", [0, -1])
@pytest.mark.parametrize("op", list(REDUCTIONS))
def test_reduction_of_a_0d_tensor_matches_torch(torch, op, dim, keepdim):
    x, tx = leaf(2.5), torch.tensor(2.5, dtype=torch.float64, requires_grad=True)
    y, ty = getattr(x, op)(dim, keepdim=keepdim), getattr(tx, REDUCTIONS[op])(dim, keepdim=keepdim)
    (y * 3).backward()
    (ty * 3).backward()
    assert y.shape == tuple(ty.shape)
    np.testing.assert_array_equal(y.data, ty.detach().numpy())
    np.testing.assert_array_equal(x.grad, tx.grad.numpy())


@pytest.mark.parametrize("op", list(REDUCTIONS) + ["softmax", "log_softmax"])
def test_dim_out_of_range_on_a_0d_tensor_is_torch_s_index_error(op):
    message = r"^Dimension out of range \(expected to be in range of \[-1, 0\], but got 1\)$"
    with pytest.raises(IndexError, match=message):
        getattr(leaf(2.5), op)(1)


@pytest.mark.parametrize("op", list(REDUCTIONS))
def test_empty_dim_tuple_reduces_every_dim_as_torch(op):
    x = leaf(np.arange(6.0).reshape(2, 3))
    y = getattr(x, op)(())                                  # was the identity: NumPy's axis=() reduces nothing
    y.backward()
    expected = {"sum": (15.0, np.ones((2, 3))), "mean": (2.5, np.full((2, 3), 1 / 6)),
                "amax": (5.0, np.eye(1, 6, 5).reshape(2, 3))}[op]
    assert y.shape == ()
    np.testing.assert_allclose(y.data, expected[0], rtol=1e-15)
    np.testing.assert_allclose(x.grad, expected[1], rtol=1e-15)


def test_empty_dim_tuple_matches_torch(torch):
    data = np.arange(6.0).reshape(2, 3)
    for op in ("sum", "mean"):
        for keepdim in (False, True):
            ours = getattr(leaf(data), op)((), keepdim=keepdim)
            theirs = getattr(torch.from_numpy(data), op)((), keepdim=keepdim)
            assert ours.shape == tuple(theirs.shape)
            np.testing.assert_array_equal(ours.data, theirs.numpy())


def _quietly(fn):
    """Runs fn with every warning an error: PyTorch says nothing for these, and neither should we."""
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        with np.errstate(all="raise"):
            return fn()


@pytest.mark.parametrize("dim,keepdim", [(0, False), (0, True), (None, False), (1, False)])
def test_mean_over_an_empty_dim_is_nan_without_warnings(dim, keepdim):
    x = leaf(np.zeros((0, 3)))
    y = _quietly(lambda: x.mean(dim, keepdim=keepdim))
    expected = {(0, False): np.full(3, np.nan), (0, True): np.full((1, 3), np.nan), (None, False): np.array(np.nan),
                (1, False): np.zeros(0)}[dim, keepdim]
    np.testing.assert_array_equal(y.data, expected)
    _quietly(lambda: y.backward(np.ones(y.shape)))
    assert x.grad.shape == (0, 3)


@pytest.mark.parametrize("dim,keepdim", [(0, False), (0, True), (None, False), (1, False)])
def test_mean_over_an_empty_dim_matches_torch(torch, dim, keepdim):
    x, tx = leaf(np.zeros((0, 3))), torch.zeros(0, 3, dtype=torch.float64, requires_grad=True)
    y = x.mean(dim, keepdim=keepdim)
    ty = tx.mean() if dim is None else tx.mean(dim, keepdim=keepdim)
    y.backward(np.ones(y.shape))
    ty.backward(torch.ones_like(ty))
    np.testing.assert_array_equal(y.data, ty.detach().numpy())
    np.testing.assert_array_equal(x.grad, tx.grad.numpy())


def test_max_over_an_empty_dim_raises_torch_s_error(torch):
    x = leaf(np.zeros((0, 3)))
    with pytest.raises(IndexError, match=r"Expected reduction dim 0 to have non-zero size\.$"):
        x.amax(0)                                            # was NumPy's ValueError "... has no identity"
    with pytest.raises(RuntimeError, match=r"Expected reduction dim to be specified for input.numel\(\) == 0\.$"):
        x.amax()
    y = x.amax(1)
    y.backward(np.ones(0))
    assert y.shape == (0,) and x.grad.shape == (0, 3)
    with pytest.raises(IndexError, match=r"Expected reduction dim 0 to have non-zero size\."):
        torch.zeros(0, 3).amax(0)


@pytest.mark.parametrize("op", ["softmax", "log_softmax"])
def test_softmax_over_an_empty_dim_is_empty(op):
    x = leaf(np.zeros((0, 3)))
    y = _quietly(lambda: getattr(x, op)(0))                 # was NumPy's ValueError (max of nothing)
    _quietly(lambda: y.backward(np.ones((0, 3))))
    assert y.shape == (0, 3) and x.grad.shape == (0, 3)


@pytest.mark.parametrize("op", ["softmax", "log_softmax"])
def test_softmax_of_a_0d_tensor_and_empty_dim_match_torch(torch, op):
    for data, dim in ((np.array(0.7), 0), (np.array(0.7), -1), (np.zeros((0, 3)), 0), (np.zeros((2, 0)), 1)):
        x, tx = leaf(data), torch.tensor(data, requires_grad=True)
        y, ty = getattr(x, op)(dim), getattr(tx, op)(dim)
        (y * 2).sum().backward()
        (ty * 2).sum().backward()
        np.testing.assert_array_equal(y.data, ty.detach().numpy())
        np.testing.assert_array_equal(x.grad, tx.grad.numpy())


def test_cat_and_stack_of_nothing_raise_torch_s_errors():
    with pytest.raises(ValueError, match=r"cat\(\): expected a non-empty list of Tensors"):
        tg.cat([])
    with pytest.raises(RuntimeError, match="stack expects a non-empty TensorList"):
        tg.stack([])


def test_transpose_of_a_0d_tensor_and_dims_out_of_range():
    x = tg.Tensor(2.0, requires_grad=True)
    y = x.transpose(0, -1)
    assert y.shape == () and y.item() == 2.0
    with pytest.raises(IndexError, match=r"Dimension out of range \(expected to be in range of \[-2, 1\], but got 2\)"):
        tg.zeros(2, 3).transpose(0, 2)
