"""Forward values and gradients of every primitive op against PyTorch (float64 tight, float32 smoke)."""
import numpy as np
import pytest

torch = pytest.importorskip("torch")

import tinygrad_rnn as tg  # noqa: E402
from tinygrad_rnn import Tensor  # noqa: E402
from tinygrad_rnn.nn.functional import linear

F = torch.nn.functional
TIGHT = dict(rtol=1e-10, atol=1e-12)
SMOKE = dict(rtol=1e-5, atol=1e-6)
COND = np.random.default_rng(7).standard_normal((3, 4)) > 0

GEN = {  # how an op's inputs are drawn
    "normal": lambda rng, s: rng.standard_normal(s),
    "positive": lambda rng, s: np.abs(rng.standard_normal(s)) + 0.5,  # log, div, pow bases
    "wide": lambda rng, s: 4 * rng.standard_normal(s),  # reaches hard_sigmoid's and clip's plateaus
    "huge": lambda rng, s: rng.choice([-1e4, 0.0, 1e4], s) + rng.standard_normal(s),  # softmax rows with ±1e4
}

CASES = {}  # name -> (engine fn, torch fn, input shapes, generator)


def case(name, fn, shapes, tfn=None, gen="normal"):
    CASES[name] = (fn, tfn or fn, shapes, gen)


def hard_sigmoid_ref(z):  # Keras's clip(0.2x + 0.5, 0, 1); F.hardsigmoid is relu6(x + 3) / 6, a different function
    return torch.clamp(0.2 * z + 0.5, 0, 1)


BINARY = {"add": lambda a, b: a + b, "sub": lambda a, b: a - b, "mul": lambda a, b: a * b,
          "div": lambda a, b: a / b, "pow": lambda a, b: a**b}
for op, fn in BINARY.items():
    for sa, sb in [((3, 4), (3, 4)), ((3, 1), (1, 4)), ((), (3, 4)), ((2, 3, 4), (4,))]:
        case(f"{op}{sa}{sb}", fn, [sa, sb], gen="positive" if op in ("div", "pow") else "normal")
case("radd", lambda a: 2.5 + a, [(3, 4)])
case("rsub", lambda a: 2.5 - a, [(3, 4)])
case("rmul", lambda a: a * 3.0 * 2, [(3, 4)])
case("scalar_div", lambda a: a / 3.0, [(3, 4)])
case("rtruediv", lambda a: 2.0 / a, [(3, 4)], gen="positive")
case("neg", lambda a: -a, [(3, 4)])
case("pow_int", lambda a: a**3, [(3, 4)])
case("pow_half", lambda a: a**0.5, [(3, 4)], gen="positive")
case("rpow", lambda a: 2.0**a, [(3, 4)])
for sa, sb in [((3, 4), (4, 5)), ((4,), (4, 5)), ((3, 4), (4,)), ((2, 3, 4), (2, 4, 5)), ((2, 3, 4), (4, 5)),
               ((2, 1, 3, 4), (5, 4, 2))]:
    case(f"matmul{sa}{sb}", lambda a, b: a @ b, [sa, sb])
for op in ["exp", "sigmoid", "tanh", "relu"]:
    case(op, lambda a, op=op: getattr(a, op)(), [(4, 5)], gen="wide" if op == "sigmoid" else "normal")
case("log", lambda a: a.log(), [(4, 5)], gen="positive")
case("hard_sigmoid", lambda a: a.hard_sigmoid(), [(4, 5)], tfn=hard_sigmoid_ref, gen="wide")
case("clip", lambda a: a.clip(-0.5, 0.7), [(4, 5)])
case("clamp_min", lambda a: a.clamp(min=0.1), [(4, 5)])
case("clamp_max", lambda a: a.clamp(max=-0.2), [(4, 5)])
for dim in [None, 0, -1, (0, 2)]:
    for keepdim in [False, True]:
        for op in ["sum", "mean"]:
            case(f"{op}_{dim}_{keepdim}", lambda a, op=op, d=dim, k=keepdim: getattr(a, op)(dim=d, keepdim=k),
                 [(3, 4, 2)])
        if dim is not None:  # random data: no ties, so the max's gradient goes to one element as in torch
            case(f"max_{dim}_{keepdim}", lambda a, d=dim, k=keepdim: a.amax(dim=d, keepdim=k), [(3, 4, 2)],
                 tfn=lambda a, d=dim, k=keepdim: torch.amax(a, dim=d, keepdim=k))
case("max_all", lambda a: a.max(), [(3, 4, 2)])
for op in ["softmax", "log_softmax"]:
    for dim in [0, 1, -1]:
        case(f"{op}_{dim}", lambda a, op=op, d=dim: getattr(a, op)(d), [(3, 5)])
        case(f"{op}_{dim}_huge", lambda a, op=op, d=dim: getattr(a, op)(d), [(4, 6)], gen="huge")
case("reshape", lambda a: a.reshape(4, 6), [(2, 3, 4)])
case("reshape_flat", lambda a: a.reshape(-1)[:7], [(2, 3, 4)])
case("view", lambda a: a.view(6, 4), [(2, 3, 4)])
case("transpose", lambda a: a.transpose(0, 2), [(2, 3, 4)])
case("permute", lambda a: a.permute(2, 0, 1), [(2, 3, 4)])
case("T", lambda a: a.T, [(3, 4)])
for label, index in [("int", np.s_[1]), ("slices", np.s_[1:, ::2]), ("ellipsis", np.s_[..., 1]),
                     ("none", np.s_[1, None, 2:]), ("rows_repeated", np.s_[[0, 2, 2, 0]]),
                     ("cols_repeated", np.s_[:, [1, 1, 3, 1]]), ("pairs_repeated", np.s_[[0, 1, 0], [2, 2, 2]]),
                     ("int_and_array", np.s_[1, [0, 0, 3]]), ("negative", np.s_[[-1, 0, -1]]),
                     ("mask", np.s_[[True, False, True]])]:
    case(f"index_{label}", lambda a, i=index: a[i], [(3, 4)])
case("cat", lambda a, b: tg.cat([a, b, a], dim=1), [(2, 3), (2, 1)],
     tfn=lambda a, b: torch.cat([a, b, a], dim=1))
case("cat_dim0", lambda a, b: tg.cat([a, b], dim=0), [(2, 3), (4, 3)], tfn=lambda a, b: torch.cat([a, b], dim=0))
for dim in [0, -1]:
    case(f"stack_{dim}", lambda a, b, d=dim: tg.stack([a, b, a], dim=d), [(2, 3), (2, 3)],
         tfn=lambda a, b, d=dim: torch.stack([a, b, a], dim=d))
case("split_size", lambda a: a.split(3), [(7, 2)])
case("split_sections", lambda a: a.split([1, 4, 2]), [(7, 2)])
case("split_dim1", lambda a: a.split(2, dim=1), [(2, 5)])
case("split_one_piece_used", lambda a: a.split(3)[1], [(7, 2)])
case("chunk", lambda a: a.chunk(4), [(7, 2)])
case("chunk_dim1", lambda a: a.chunk(3, dim=1), [(2, 6)])
case("unbind", lambda a: a.unbind(1), [(2, 3, 2)])
case("where", lambda a, b: tg.where(COND, a, b), [(3, 4), (1, 4)],
     tfn=lambda a, b: torch.where(torch.from_numpy(COND), a, b))
case("where_scalar", lambda a: tg.where(COND, a, 0.5), [(3, 4)],
     tfn=lambda a: torch.where(torch.from_numpy(COND), a, 0.5))
case("composed", lambda x, w: ((x @ w).tanh() * x.sigmoid() + (x - 1) ** 2).log_softmax(-1).mean(), [(2, 3), (3, 3)])

TORCH_ACT = {"identity": lambda z: z, "sigmoid": torch.sigmoid, "tanh": torch.tanh, "hard_sigmoid": hard_sigmoid_ref}
for act, tact in TORCH_ACT.items():
    for xs in [(4, 3), (3,), (2, 4, 3)]:
        case(f"linear_{act}{xs}", lambda x, w, b, act=act: linear(x, w, b, act=act), [xs, (5, 3), (5,)],
             tfn=lambda x, w, b, tact=tact: tact(x @ w.T + b), gen="wide")
    case(f"linear_{act}_nobias", lambda x, w, act=act: linear(x, w, act=act), [(4, 3), (5, 3)],
         tfn=lambda x, w, tact=tact: tact(F.linear(x, w)), gen="wide")


def check(fn, tfn, arrays, tol, seed=1):
    """Same inputs on both sides: equal outputs, then equal input grads for one random upstream gradient."""
    ours = [Tensor(a, requires_grad=True) for a in arrays]
    theirs = [torch.tensor(a, requires_grad=True) for a in arrays]
    out, tout = fn(*ours), tfn(*theirs)
    outs, touts = (out, tout) if isinstance(out, tuple) else ((out,), (tout,))
    assert len(outs) == len(touts)
    rng, loss, tloss = np.random.default_rng(seed), 0, 0
    for o, t in zip(outs, touts):
        assert o.dtype == arrays[0].dtype and o.shape == tuple(t.shape)
        np.testing.assert_allclose(o.data, t.detach().numpy(), **tol)
        g = rng.standard_normal(o.shape).astype(o.dtype)
        loss, tloss = loss + (o * g).sum(), tloss + (t * torch.from_numpy(g.copy())).sum()  # g is pinned
    loss.backward()
    tloss.backward()
    for i, (a, t) in enumerate(zip(ours, theirs)):
        assert a.grad is not None and a.grad.dtype == a.dtype, f"input {i}"
        np.testing.assert_allclose(a.grad, t.grad.numpy(), **tol, err_msg=f"grad of input {i}")


def inputs(name, dtype, seed=0):
    _, _, shapes, gen = CASES[name]
    rng = np.random.default_rng(seed)
    return [np.asarray(GEN[gen](rng, s)).astype(dtype) for s in shapes]


@pytest.mark.parametrize("name", list(CASES))
def test_op_float64(name):
    fn, tfn, _, _ = CASES[name]
    check(fn, tfn, inputs(name, np.float64), TIGHT)


SMOKE_CASES = ["add(3, 1)(1, 4)", "div()(3, 4)", "pow(3, 4)(3, 4)", "matmul(2, 3, 4)(4, 5)", "sigmoid", "tanh",
               "hard_sigmoid", "sum_(0, 2)_True", "max_-1_False", "log_softmax_-1", "softmax_0_huge",
               "index_rows_repeated", "linear_tanh(2, 4, 3)", "linear_hard_sigmoid(4, 3)"]


@pytest.mark.parametrize("name", SMOKE_CASES)
def test_op_float32_smoke(name):
    fn, tfn, _, _ = CASES[name]
    check(fn, tfn, inputs(name, np.float32), SMOKE)


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_sigmoid_extreme_inputs_finite_and_match(dtype):
    x = np.array([-1000.0, -745.0, -710.0, -100.0, -30.0, 0.0, 30.0, 100.0, 710.0, 1000.0], dtype=dtype)
    with np.errstate(all="raise"):
        out = Tensor(x, requires_grad=True).sigmoid()
    assert np.all(np.isfinite(out.data))
    check(lambda a: a.sigmoid(), torch.sigmoid, [x], TIGHT if dtype == np.float64 else SMOKE)
    check(lambda a: linear(a, Tensor(np.eye(10, dtype=dtype)), act="sigmoid"), torch.sigmoid, [x[None]],
          TIGHT if dtype == np.float64 else SMOKE)


def test_boundary_conventions_match_torch():
    """relu'(0) = 0, and clamp passes the gradient at x exactly on a bound, as PyTorch does."""
    x = np.array([-1.0, 0.0, 0.5, -0.5, 0.7, 2.0])
    check(lambda a: a.relu(), torch.relu, [x], TIGHT)
    check(lambda a: a.clip(-0.5, 0.7), lambda a: a.clamp(-0.5, 0.7), [x], TIGHT)
    check(lambda a: a.clamp(min=0.5), lambda a: a.clamp(min=0.5), [x], TIGHT)


def test_repeated_indices_accumulate_like_index_add():
    x = np.arange(4.0)
    check(lambda a: a[[0, 0, 3, 0, 3]], lambda a: a[[0, 0, 3, 0, 3]], [x], TIGHT)
    ours = Tensor(x, requires_grad=True)
    ours[[0, 0, 3, 0, 3]].sum().backward()
    np.testing.assert_array_equal(ours.grad, [3, 0, 0, 2])


def test_softmax_extreme_rows():
    x = np.array([[1e4, 0.0, -1e4, 5.0], [-1e4, -1e4, -1e4 + 1, -1e4 - 2], [1e4, 1e4 - 3, -1e4, 1e4 - 1]])
    for dim in (0, 1):
        check(lambda a: a.softmax(dim), lambda a: a.softmax(dim), [x], TIGHT)
        check(lambda a: a.log_softmax(dim), lambda a: a.log_softmax(dim), [x], TIGHT)


def test_permute_negative_dims():
    check(lambda a: a.permute(-1, 0), lambda a: a.permute(-1, 0), [np.arange(9.0).reshape(3, 3)], TIGHT)
    check(lambda a: a.permute(-1, 0, 1), lambda a: a.permute(-1, 0, 1), [np.arange(24.0).reshape(2, 3, 4)], TIGHT)


def test_pow_tensor_exponent_zero_base():
    with np.errstate(all="raise"):                       # ∂b at a = 0 is 0, computed without warnings
        check(lambda a, b: a**b, lambda a, b: a**b, [np.array([0.0, 1.0, 2.0]), np.array([2.0, 0.5, 1.5])], TIGHT)
