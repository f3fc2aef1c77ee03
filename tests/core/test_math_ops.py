"""Elementwise math and matrix products (issue 13, part 2): abs sign sqrt rsqrt square sin cos log1p expm1
reciprocal rounding, maximum/minimum, clamp with number and tensor bounds, pow with tensor base or exponent, //, %,
fmod, the method forms of the operators (add(alpha=), div(rounding_mode=), rsub, ...), torch's free functions,
mm/bmm/addmm and einsum. Forward and gradient against torch 2.13 (float64 to 1e-10, float32 to 1e-5) over
broadcasting, 0-d and empty shapes; the edge gradients PyTorch defines; int and bool inputs' dtypes; gradcheck in
float64 (no torch needed); error types and messages against torch's."""
import numpy as np
import pytest

import tinygrad_rnn as tg
from tinygrad_rnn import Tensor, gradcheck

TIGHT = dict(rtol=1e-10, atol=1e-12, equal_nan=True)
SMOKE = dict(rtol=1e-5, atol=1e-6, equal_nan=True)

GEN = {  # how an op's inputs are drawn
    "normal": lambda rng, s: rng.standard_normal(s),
    "positive": lambda rng, s: np.abs(rng.standard_normal(s)) + 0.5,
    "above_-1": lambda rng, s: np.abs(rng.standard_normal(s)) - 0.9,    # log1p's domain
    "wide": lambda rng, s: 4 * rng.standard_normal(s),
}


def check(torch, fn, tfn, arrays, tol, seed=1, grad=True):
    """The same arrays on both sides: equal outputs (values, shape, dtype), then equal input gradients for one
    random upstream gradient. fn gets our tensors, tfn torch's."""
    ours = [Tensor(a, requires_grad=grad and a.dtype.kind == "f") for a in arrays]
    theirs = [torch.tensor(a, requires_grad=grad and a.dtype.kind == "f") for a in arrays]
    out, tout = fn(*ours), tfn(*theirs)
    outs, touts = (out, tout) if isinstance(out, tuple) else ((out,), (tout,))
    rng, loss, tloss = np.random.default_rng(seed), 0, 0
    for o, t in zip(outs, touts):
        assert o.shape == tuple(t.shape)
        assert o.dtype == t.detach().numpy().dtype, (o.dtype, t.dtype)
        np.testing.assert_allclose(o.data, t.detach().numpy(), **tol)
        if o.requires_grad:
            g = rng.standard_normal(o.shape).astype(o.dtype)
            loss, tloss = loss + (o * g).sum(), tloss + (t * torch.from_numpy(g.copy())).sum()
    if not grad or not isinstance(loss, Tensor):
        return ours
    loss.backward()
    tloss.backward()
    for i, (a, t) in enumerate(zip(ours, theirs)):
        if t.grad is None:
            assert a.grad is None or not np.any(a.grad), f"input {i}: torch gives no gradient"
            continue
        assert a.grad is not None and a.grad.dtype == a.dtype, f"input {i}"
        np.testing.assert_allclose(a.grad, t.grad.numpy(), **tol, err_msg=f"grad of input {i}")
    return ours


CASES = {}  # name -> (fn(module, *tensors), torch's fn when it differs, input shapes, generator)


def case(name, fn, shapes, tfn=None, gen="normal"):
    CASES[name] = (fn, tfn or fn, shapes, gen)


UNARY = {"abs": "normal", "sign": "normal", "sqrt": "positive", "rsqrt": "positive", "square": "normal",
         "sin": "wide", "cos": "wide", "log1p": "above_-1", "expm1": "normal", "reciprocal": "positive",
         "floor": "wide", "ceil": "wide", "round": "wide", "trunc": "wide"}
for op, gen in UNARY.items():
    for shape in [(3, 4), (), (0, 3)]:
        case(f"{op}{shape}", lambda m, a, op=op: getattr(a, op)(), [shape], gen=gen)
        case(f"free_{op}{shape}", lambda m, a, op=op: getattr(m, op)(a), [shape], gen=gen)
case("abs_dunder", lambda m, a: abs(a), [(3, 4)])
case("round_decimals", lambda m, a: a.round(decimals=2), [(3, 4)], gen="wide")
case("free_round_decimals", lambda m, a: m.round(a, decimals=-1), [(3, 4)], gen="wide")
case("clamp_ndarray_bounds", lambda m, a: a.clamp(np.full(4, -0.3), np.full((3, 1), 0.4)), [(3, 4)],
     tfn=lambda m, a: a.clamp(m.full((4,), -0.3, dtype=a.dtype), m.full((3, 1), 0.4, dtype=a.dtype)))

SHAPES = [((3, 4), (3, 4)), ((3, 1), (1, 4)), ((), (3, 4)), ((2, 3, 4), (4,)), ((0, 4), (1, 4))]
BINARY = {
    "maximum": (lambda m, a, b: a.maximum(b), "normal"),
    "minimum": (lambda m, a, b: a.minimum(b), "normal"),
    "remainder": (lambda m, a, b: a % b, "wide"),
    "remainder_method": (lambda m, a, b: a.remainder(b), "wide"),
    "fmod": (lambda m, a, b: a.fmod(b), "wide"),
    "pow": (lambda m, a, b: a.pow(b), "positive"),
    "add_alpha": (lambda m, a, b: a.add(b, alpha=-2.5), "normal"),
    "sub_alpha": (lambda m, a, b: a.sub(b, alpha=3), "normal"),
    "subtract": (lambda m, a, b: a.subtract(b), "normal"),
    "mul": (lambda m, a, b: a.mul(b), "normal"),
    "multiply": (lambda m, a, b: a.multiply(b), "normal"),
    "div": (lambda m, a, b: a.div(b), "positive"),
    "divide": (lambda m, a, b: a.divide(b), "positive"),
    "true_divide": (lambda m, a, b: a.true_divide(b), "positive"),
    "div_trunc": (lambda m, a, b: a.div(b, rounding_mode="trunc"), "wide"),
    "div_floor": (lambda m, a, b: a.div(b, rounding_mode="floor"), "wide"),
    "rsub": (lambda m, a, b: m.rsub(a, b, alpha=2), "normal"),
}
for op, (fn, gen) in BINARY.items():
    for sa, sb in SHAPES:
        case(f"{op}{sa}{sb}", fn, [sa, sb], gen=gen)
# torch's floor_divide has no derivative (its backward raises): its values, and div(floor)'s zero gradient
for sa, sb in SHAPES:
    case(f"floordiv{sa}{sb}", lambda m, a, b: a // b, [sa, sb], gen="wide",
         tfn=lambda m, a, b: m.div(a, b, rounding_mode="floor"))
case("rfloordiv", lambda m, a: 7.5 // a, [(3, 4)], gen="wide",
     tfn=lambda m, a: m.div(m.full_like(a, 7.5), a, rounding_mode="floor"))
case("floor_divide_method", lambda m, a, b: a.floor_divide(b), [(3, 4), (4,)], gen="wide",
     tfn=lambda m, a, b: m.div(a, b, rounding_mode="floor"))
case("rmod", lambda m, a: 7.5 % a, [(3, 4)], gen="wide",    # torch's number % tensor has no derivative
     tfn=lambda m, a: m.remainder(m.full_like(a, 7.5), a))
case("rsub_method", lambda m, a, b: a.rsub(b, alpha=2), [(3, 4), (4,)], tfn=lambda m, a, b: m.rsub(a, b, alpha=2))
case("rsub_number", lambda m, a: m.rsub(a, 2.0), [(3, 4)])
case("neg_method", lambda m, a: a.neg(), [(3, 4)])
case("negative", lambda m, a: a.negative(), [(3, 4)])
case("pos", lambda m, a: +a, [(3, 4)])
case("pow_tensor_tensor_self", lambda m, a: a**a, [(3, 4)], gen="positive")
case("pow_number_base", lambda m, a: 2.0**a, [(3, 4)])
case("free_pow_number_base", lambda m, a: m.pow(2, a), [(3, 4)])
for sa, sb in [((3, 4), (4, 5)), ((4,), (4, 5)), ((2, 3, 4), (4,)), ((2, 1, 3, 4), (5, 4, 2))]:
    case(f"matmul_method{sa}{sb}", lambda m, a, b: a.matmul(b), [sa, sb])
    case(f"free_matmul{sa}{sb}", lambda m, a, b: m.matmul(a, b), [sa, sb])
case("mm", lambda m, a, b: a.mm(b), [(3, 4), (4, 5)])
case("free_mm", lambda m, a, b: m.mm(a, b), [(3, 4), (4, 5)])
case("bmm", lambda m, a, b: a.bmm(b), [(2, 3, 4), (2, 4, 5)])
case("free_bmm", lambda m, a, b: m.bmm(a, b), [(2, 3, 4), (2, 4, 5)])
case("addmm", lambda m, c, a, b: m.addmm(c, a, b), [(3, 5), (3, 4), (4, 5)])
case("addmm_bias_row", lambda m, c, a, b: m.addmm(c, a, b, beta=0.5, alpha=-2.0), [(5,), (3, 4), (4, 5)])
case("addmm_bias_column", lambda m, c, a, b: m.addmm(c, a, b, alpha=3), [(3, 1), (3, 4), (4, 5)])
case("addmm_method", lambda m, c, a, b: c.addmm(a, b, beta=2), [(1, 5), (3, 4), (4, 5)])
case("clamp_numbers", lambda m, a: a.clamp(-0.5, 0.7), [(3, 4)])
case("clip_min", lambda m, a: a.clip(min=0.2), [(3, 4)])
case("clamp_max_method", lambda m, a: a.clamp_max(0.2), [(3, 4)])
case("clamp_min_method", lambda m, a: a.clamp_min(-0.2), [(3, 4)])
case("clamp_tensors", lambda m, a, lo, hi: a.clamp(lo, hi), [(3, 4), (3, 1), (4,)], gen="wide")
case("clamp_tensor_min", lambda m, a, lo: a.clamp(min=lo), [(3, 4), (4,)])
case("clamp_tensor_max", lambda m, a, hi: a.clamp(max=hi), [(3, 4), ()])
case("clamp_tensors_empty", lambda m, a, lo, hi: a.clamp(lo, hi), [(0, 4), (4,), (1, 4)])
case("free_clamp_tensors", lambda m, a, lo, hi: m.clamp(a, lo, hi), [(3, 4), (3, 4), (3, 4)], gen="wide")
for name in ["add", "sub", "mul", "div", "maximum", "minimum", "remainder", "true_divide", "fmod", "max", "min"]:
    case(f"free_{name}", lambda m, a, b, name=name: getattr(m, name)(a, b), [(3, 4), (4,)], gen="positive")
for name in ["exp", "log", "tanh", "sigmoid", "relu", "neg", "negative", "absolute"]:
    case(f"free_{name}", lambda m, a, name=name: getattr(m, name)(a), [(3, 4)], gen="positive")
case("free_add_alpha", lambda m, a, b: m.add(a, b, alpha=2), [(3, 4), (3, 4)])
case("free_add_number_first", lambda m, a: m.add(2, a), [(3, 4)])
case("free_mul_number_first", lambda m, a: m.mul(2, a), [(3, 4)])
case("free_div_floor", lambda m, a, b: m.div(a, b, rounding_mode="floor"), [(3, 4), (3, 4)], gen="wide")
case("max_other_method", lambda m, a, b: a.max(b), [(3, 4), (4,)])
case("min_other_method", lambda m, a, b: a.min(b), [(3, 4), (4,)])


def run_case(torch, name, dtype, tol):
    fn, tfn, shapes, gen = CASES[name]
    rng = np.random.default_rng(0)
    arrays = [np.asarray(GEN[gen](rng, s)).astype(dtype) for s in shapes]
    check(torch, lambda *t: fn(tg, *t), lambda *t: tfn(torch, *t), arrays, tol)


@pytest.mark.parametrize("name", list(CASES))
def test_op_float64(torch, name):
    run_case(torch, name, np.float64, TIGHT)


@pytest.mark.parametrize("name", [n for n in CASES if "(0," not in n][::2])
def test_op_float32(torch, name):
    run_case(torch, name, np.float32, SMOKE)


# ---- the edges PyTorch defines ---------------------------------------------------------------------------------
EDGES = {  # name: (fn (the same for both libraries), arrays)
    "abs_at_0": (lambda a: a.abs(), [[0.0, -0.0, -1.0, 2.0, np.nan]]),
    "sign_nan_and_0": (lambda a: a.sign(), [[np.nan, 0.0, -0.0, -3.0, 2.0, np.inf]]),
    "sqrt_at_0_and_below": (lambda a: a.sqrt(), [[0.0, 4.0, -1.0, np.inf]]),
    "rsqrt_at_0": (lambda a: a.rsqrt(), [[0.0, 4.0, -1.0]]),
    "log1p_at_-1": (lambda a: a.log1p(), [[-1.0, 0.0, -2.0, 1e-12]]),
    "expm1_small_and_huge": (lambda a: a.expm1(), [[1e-12, -1e-12, 800.0, -800.0]]),
    "reciprocal_at_0": (lambda a: a.reciprocal(), [[0.0, -2.0, np.inf]]),
    "round_halves_to_even": (lambda a: a.round(), [[0.5, 1.5, 2.5, -0.5, -1.5]]),
    "pow_0_to_0": (lambda a, b: a**b, [[0.0, 0.0, 2.0, 0.0, -1.0, 0.0], [0.0, 1.0, 0.0, -1.0, 2.0, 0.5]]),
    "pow_self_at_0": (lambda a: a**a, [[0.0, 0.5, 2.0]]),
    "pow_number_base_at_0": (lambda a: 0.0**a, [[0.5, 2.0, 0.0, -1.0]]),
    "maximum_ties_and_nan": (lambda a, b: a.maximum(b), [[1.0, 2.0, 3.0, np.nan, 2.0], [1.0, 1.0, 4.0, 1.0, np.nan]]),
    "minimum_ties_and_nan": (lambda a, b: a.minimum(b), [[1.0, 2.0, 3.0, np.nan, 2.0], [1.0, 1.0, 4.0, 1.0, np.nan]]),
    "clamp_at_the_bounds": (lambda a: a.clamp(0.0, 1.0), [[0.0, 0.5, 1.0, 2.0, -1.0, np.nan]]),
    "clamp_min_above_max": (lambda a: a.clamp(2.0, 1.0), [[0.0, 1.5, 3.0]]),
    "clamp_tensors_edges": (lambda a, lo, hi: a.clamp(lo, hi),
                            [[0.0, 0.5, 1.0, 2.0, -1.0, 3.0, 0.0, 1.0, np.nan],
                             [0.0, 0.0, 0.0, 0.0, 0.0, 2.0, 2.0, 1.0, 0.0],
                             [1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0]]),
    "clamp_tensor_min_only_ties": (lambda a, lo: a.clamp(min=lo), [[0.0, 3.0, 2.0], [2.0, 2.0, 2.0]]),
    "remainder_signs": (lambda a, b: a % b, [[5.0, -5.0, 5.0, 3.0, -0.5, 1e-20], [3.0, 3.0, -3.0, 3.0, 1.0, -1.0]]),
    "remainder_by_0": (lambda a, b: a % b, [[1.0, -1.0], [0.0, 0.0]]),
    "fmod_signs": (lambda a, b: a.fmod(b), [[5.0, -5.0, 5.0, -7.5], [3.0, 3.0, -3.0, 2.0]]),
    "div_by_0": (lambda a, b: a / b, [[1.0, -1.0, 0.0], [0.0, 0.0, 0.0]]),
    "div_trunc_by_0": (lambda a, b: a.div(b, rounding_mode="trunc"), [[1.0, -1.0, 0.0], [0.0, 0.0, 0.0]]),
    "div_floor_by_0": (lambda a, b: a.div(b, rounding_mode="floor"), [[1.0, -1.0, 0.0], [0.0, 0.0, 0.0]]),
    "addmm_beta_0_ignores_nan": (lambda c, a, b: c.addmm(a, b, beta=0), [[[np.nan, np.inf]], [[1.0, 2.0]],
                                                                         [[3.0, 4.0], [5.0, 6.0]]]),
}


@pytest.mark.filterwarnings("ignore:.*encountered:RuntimeWarning")   # NumPy's, from a / b, a ** b, log
@pytest.mark.parametrize("name", list(EDGES))
def test_edge_values_and_gradients_match_torch(torch, name):
    fn, arrays = EDGES[name]
    arrays = [np.array(a, dtype=np.float64) for a in arrays]
    check(torch, fn, fn, arrays, TIGHT)
    if name.startswith(("pow", "div_by")):   # a / b and a ** b stay as fast as NumPy's: its warnings stay too
        return
    quiet = [Tensor(a, requires_grad=True) for a in arrays]
    with np.errstate(all="raise"):            # the edges are computed without NumPy warnings, both ways
        out = fn(*quiet)
        out.backward(np.ones(out.shape))


def test_edge_gradients_by_hand():
    """The same edges without torch: abs'(0) = 0, sqrt'(0) = inf, maximum ties split half-half, clamp passes the
    gradient on a bound, 0**0 has ∂base 0 and ∂exponent 0 (a flat 1)."""
    x = Tensor([0.0, -2.0, 3.0], requires_grad=True, dtype=tg.float64)
    x.abs().sum().backward()
    np.testing.assert_array_equal(x.grad, [0.0, -1.0, 1.0])
    s = Tensor([0.0, 4.0], requires_grad=True, dtype=tg.float64)
    with np.errstate(all="raise"):
        s.sqrt().sum().backward()
    np.testing.assert_array_equal(s.grad, [np.inf, 0.25])
    a, b = (Tensor([1.0, 2.0, 3.0], requires_grad=True, dtype=tg.float64),
            Tensor([1.0, 1.0, 4.0], requires_grad=True, dtype=tg.float64))
    a.maximum(b).sum().backward()
    np.testing.assert_array_equal(a.grad, [0.5, 1.0, 0.0])
    np.testing.assert_array_equal(b.grad, [0.5, 0.0, 1.0])
    c = Tensor([0.0, 1.0, 2.0], requires_grad=True, dtype=tg.float64)
    c.clamp(0.0, 1.0).sum().backward()
    np.testing.assert_array_equal(c.grad, [1.0, 1.0, 0.0])
    base, exponent = Tensor([0.0], requires_grad=True), Tensor([0.0], requires_grad=True)
    (base**exponent).sum().backward()
    assert base.grad[0] == 0.0 and exponent.grad[0] == 0.0


# ---- integer and bool inputs: PyTorch's result dtypes ------------------------------------------------------------
INT_DATA = {"int64": np.array([-3, 0, 2, 7]), "int32": np.array([-3, 0, 2, 7], np.int32),
            "bool": np.array([True, False, True, True])}
INT_UNARY = ["sqrt", "rsqrt", "sin", "cos", "log1p", "expm1", "exp", "log", "tanh", "sigmoid", "reciprocal", "abs",
             "sign", "square", "floor", "ceil", "round", "trunc", "neg"]


@pytest.mark.filterwarnings("ignore:.*encountered:RuntimeWarning")   # NumPy's, from a / b, a ** b, log
@pytest.mark.parametrize("kind", list(INT_DATA))
@pytest.mark.parametrize("op", INT_UNARY)
def test_integer_and_bool_inputs_take_torchs_dtype(torch, kind, op):
    data = INT_DATA[kind]
    try:
        theirs = getattr(torch.from_numpy(data.copy()), op)()
    except (RuntimeError, NotImplementedError) as e:   # abs and neg of bool: the same refusal here
        with pytest.raises(type(e)) as ours:
            getattr(Tensor(data), op)()
        assert str(ours.value) == str(e)
        return
    ours = getattr(Tensor(data), op)()
    assert ours.dtype == theirs.numpy().dtype, (ours.dtype, theirs.dtype)
    with np.errstate(all="ignore"):
        np.testing.assert_allclose(ours.data, theirs.numpy(), rtol=1e-6, equal_nan=True)


INT_BINARY = {
    "floordiv": lambda a, b: a // b, "remainder": lambda a, b: a % b, "fmod": lambda a, b: a.fmod(b),
    "div": lambda a, b: a / b, "div_trunc": lambda a, b: a.div(b, rounding_mode="trunc"),
    "div_floor": lambda a, b: a.div(b, rounding_mode="floor"), "pow": lambda a, b: a ** b.abs(),
    "maximum": lambda a, b: a.maximum(b), "minimum": lambda a, b: a.minimum(b), "mul": lambda a, b: a.mul(b),
    "clamp_tensors": lambda a, b: a.clamp(b, b + 3), "floordiv_number": lambda a, b: a // 2,
    "floordiv_float": lambda a, b: a // 2.5, "rmod": lambda a, b: 7 % b, "rpow": lambda a, b: 2 ** b.abs(),
    "pow_negative_tensor_exponent": lambda a, b: (a % 3 - 1) ** (-b.abs()), "rpow_negative": lambda a, b: 2 ** -b,
    "clamp_int_bounds": lambda a, b: a.clamp(-1, 3), "clamp_float_bound": lambda a, b: a.clamp(-1.5, 3),
}


@pytest.mark.parametrize("op", list(INT_BINARY))
@pytest.mark.parametrize("kinds", [("int64", "int64"), ("int32", "int32"), ("int32", "int64")])
def test_integer_binary_ops_exact_and_typed_as_torch(torch, op, kinds):
    """Integer floor division and remainders are exact, with Python's signs; dtypes promote as PyTorch's."""
    a = np.array([5, -5, 5, 7, -7, 2**40 + 1]).astype(kinds[0]) if kinds[0] == "int64" else \
        np.array([5, -5, 5, 7, -7, 9]).astype(kinds[0])
    b = np.array([3, 3, -3, -2, -2, 2]).astype(kinds[1])
    fn = INT_BINARY[op]
    theirs = fn(torch.from_numpy(a), torch.from_numpy(b))
    ours = fn(Tensor(a), Tensor(b))
    assert ours.dtype == theirs.numpy().dtype, (ours.dtype, theirs.dtype)
    if ours.dtype.kind == "f":
        np.testing.assert_allclose(ours.data, theirs.numpy(), rtol=1e-6)
    else:
        np.testing.assert_array_equal(ours.data, theirs.numpy())


@pytest.mark.filterwarnings("ignore:.*encountered:RuntimeWarning")   # NumPy's, from a / b, a ** b, log
def test_integer_division_by_zero_is_torchs_error(torch):
    a, zero = np.array([1, 2]), np.array([0, 1])
    for fn in (lambda a, b: a // b, lambda a, b: a % b, lambda a, b: a.fmod(b),
               lambda a, b: a.div(b, rounding_mode="trunc")):
        with pytest.raises(RuntimeError) as theirs:
            fn(torch.from_numpy(a), torch.from_numpy(zero))
        with pytest.raises(RuntimeError) as ours:
            fn(Tensor(a), Tensor(zero))
        assert str(ours.value) == str(theirs.value) == "ZeroDivisionError"
    np.testing.assert_array_equal((Tensor(a) / Tensor(zero)).data, [np.inf, 2.0])   # true division: inf


def test_bool_results(torch):
    m = np.array([True, False, True])
    for fn in (lambda x: x.sign(), lambda x: x.maximum(x), lambda x: x * x, lambda x: x.square()):
        ours, theirs = fn(Tensor(m)), fn(torch.from_numpy(m))
        assert ours.dtype == theirs.numpy().dtype
        np.testing.assert_array_equal(ours.data, theirs.numpy())


# ---- einsum -------------------------------------------------------------------------------------------------------
EINSUM = {  # equation: operand shapes
    "bi,hi->bh": [(2, 3), (4, 3)], "tbh->bth": [(5, 2, 3)], "bth,hk->btk": [(2, 5, 3), (3, 4)],
    "ij,jk->ik": [(2, 3), (3, 4)], "bij,bjk->bik": [(2, 2, 3), (2, 3, 4)], "ii->i": [(3, 3)], "ii": [(3, 3)],
    "ii->": [(3, 3)], "iij->j": [(3, 3, 2)], "ij->": [(2, 3)], "ij->j": [(2, 3)], "i,j->ij": [(3,), (4,)],
    "i,i->": [(3,)] * 2, "ij,jk": [(2, 3), (3, 4)], "ba,ab": [(2, 3), (3, 2)], "ij,ij->ij": [(2, 1), (2, 3)],
    "...ij,...jk->...ik": [(5, 2, 3), (3, 4)], "...i,...i->...": [(2, 1, 3), (4, 3)], "...ij->ij": [(5, 2, 3)],
    "b i , h i -> b h": [(2, 3), (4, 3)], "bij,bjk->bik (broadcast batch)": [(1, 2, 3), (5, 3, 4)],
    "i,i,i->": [(3,)] * 3, "bh,bh->b": [(4, 3), (4, 3)], "ij->ji": [(2, 3)], "Ba,aB->a": [(2, 3), (3, 2)],
    "": [()], "->": [()], "i->": [(0,)],
}


@pytest.mark.parametrize("equation", list(EINSUM))
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_einsum_against_torch(torch, equation, dtype):
    rng = np.random.default_rng(3)
    arrays = [rng.standard_normal(s).astype(dtype) for s in EINSUM[equation]]
    eq = equation.split(" (")[0]
    check(torch, lambda *t: tg.einsum(eq, *t), lambda *t: torch.einsum(eq, *t), arrays,
          TIGHT if dtype == np.float64 else SMOKE)


def test_einsum_takes_a_list_and_integer_tensors(torch):
    a, b = np.arange(6).reshape(2, 3), np.arange(12).reshape(3, 4)
    ours = tg.einsum("ij,jk->ik", [Tensor(a), Tensor(b)])
    theirs = torch.einsum("ij,jk->ik", [torch.from_numpy(a), torch.from_numpy(b)])
    assert ours.dtype == np.int64
    np.testing.assert_array_equal(ours.data, theirs.numpy())


@pytest.mark.parametrize("equation", ["bi,hi->bh", "tbh->bth", "ii->i", "iij->j", "ij,ij->ij", "...i,...i->...",
                                      "i,j->ij", "ij->"])
def test_einsum_gradcheck(equation):
    rng = np.random.default_rng(5)
    xs = [Tensor(rng.standard_normal(s), requires_grad=True, dtype=tg.float64) for s in EINSUM[equation]]
    assert gradcheck(lambda *t: tg.einsum(equation, *t), xs)


# ---- gradcheck of every differentiable op (finite differences, no torch) ----------------------------------------
def leaf(rng, *shape, low=None):
    data = rng.standard_normal(shape)
    if low is not None:
        data = np.abs(data) + low
    return Tensor(data, requires_grad=True, dtype=tg.float64)


GRADCHECKS = {
    "abs": lambda r: (lambda x: x.abs(), [leaf(r, 3, 4, low=0.1)]),
    "sqrt": lambda r: (lambda x: x.sqrt(), [leaf(r, 3, 4, low=0.5)]),
    "rsqrt": lambda r: (lambda x: x.rsqrt(), [leaf(r, 3, 4, low=0.5)]),
    "square": lambda r: (lambda x: x.square(), [leaf(r, 3, 4)]),
    "sin_cos": lambda r: (lambda x: x.sin() * x.cos(), [leaf(r, 3, 4)]),
    "log1p": lambda r: (lambda x: x.log1p(), [leaf(r, 3, 4, low=0.1)]),
    "expm1": lambda r: (lambda x: x.expm1(), [leaf(r, 3, 4)]),
    "reciprocal": lambda r: (lambda x: x.reciprocal(), [leaf(r, 3, 4, low=0.5)]),
    "maximum": lambda r: (lambda a, b: a.maximum(b), [leaf(r, 3, 4), leaf(r, 4)]),
    "minimum": lambda r: (lambda a, b: a.minimum(b), [leaf(r, 3, 1), leaf(r, 1, 4)]),
    "clamp_tensors": lambda r: (lambda a, lo, hi: a.clamp(lo, hi - 2),
                                [leaf(r, 3, 4), leaf(r, 4), leaf(r, 3, 1, low=2)]),
    "pow_tensor_exponent": lambda r: (lambda a, b: a ** b, [leaf(r, 3, 4, low=0.5), leaf(r, 4)]),
    "rpow": lambda r: (lambda a: 3.0 ** a, [leaf(r, 3, 4)]),
    "remainder": lambda r: (lambda a, b: a % b, [leaf(r, 3, 4), leaf(r, 4, low=0.7)]),
    "fmod": lambda r: (lambda a, b: a.fmod(b), [leaf(r, 3, 4), leaf(r, 4, low=0.7)]),
    "add_alpha": lambda r: (lambda a, b: a.add(b, alpha=-2.5) + a.rsub(b, alpha=0.5), [leaf(r, 3, 4), leaf(r, 4)]),
    "addmm": lambda r: (lambda c, a, b: c.addmm(a, b, beta=0.5, alpha=2), [leaf(r, 4), leaf(r, 3, 2), leaf(r, 2, 4)]),
    "bmm": lambda r: (lambda a, b: a.bmm(b), [leaf(r, 2, 3, 2), leaf(r, 2, 2, 4)]),
}


@pytest.mark.parametrize("name", list(GRADCHECKS))
def test_gradcheck(name):
    fn, xs = GRADCHECKS[name](np.random.default_rng(11))
    assert gradcheck(fn, xs)


def test_rounding_and_floor_division_have_zero_gradient():
    x = Tensor([1.5, -2.5, 3.2], requires_grad=True, dtype=tg.float64)
    y = Tensor([2.0, 2.0, -1.5], requires_grad=True, dtype=tg.float64)
    (x.floor() + x.ceil() + x.round() + x.trunc() + x.sign() + x // y + x.div(y, rounding_mode="trunc")).sum() \
        .backward()
    np.testing.assert_array_equal(x.grad, np.zeros(3))
    np.testing.assert_array_equal(y.grad, np.zeros(3))


# ---- errors: PyTorch's types and messages -----------------------------------------------------------------------
ERRORS = {  # name: fn(module, make) where make(list) is a tensor of that (NumPy) data
    "maximum_of_a_number": lambda m, t: m.maximum(t([1.0]), 2.0),
    "clamp_without_bounds": lambda m, t: m.clamp(t([1.0])),
    "div_rounding_mode": lambda m, t: m.div(t([1.0]), t([2.0]), rounding_mode="x"),
    "float_alpha_on_ints": lambda m, t: m.add(t([1]), t([2]), alpha=0.5),
    "negative_integer_power": lambda m, t: t([2]) ** -1,
    "negative_integer_power_method": lambda m, t: m.pow(t([2]), -1),
    "bool_pow": lambda m, t: t([True]) ** t([True]),
    "bool_abs": lambda m, t: m.abs(t([True])),
    "bool_neg": lambda m, t: -t([True]),
    "bool_minus_bool": lambda m, t: t([True]) - t([False]),
    "bool_floordiv": lambda m, t: t([True]) // t([True]),
    "bool_remainder": lambda m, t: t([True]) % t([True]),
    "bool_fmod": lambda m, t: m.fmod(t([True]), t([True])),
    "broadcast_add": lambda m, t: t([1.0, 2.0]) + t([1.0, 2.0, 3.0]),
    "broadcast_mul_inner": lambda m, t: t(np.ones((2, 3))) * t(np.ones((2, 4))),
    "broadcast_maximum": lambda m, t: m.maximum(t(np.ones(2)), t(np.ones(3))),
    "broadcast_clamp": lambda m, t: t(np.ones(2)).clamp(min=t(np.ones(3))),
    "broadcast_remainder": lambda m, t: t(np.ones(2)) % t(np.ones(3)),
    "matmul_0d": lambda m, t: m.matmul(t(np.ones(())), t(np.ones(4))),
    "matmul_dot": lambda m, t: t(np.ones(3)) @ t(np.ones(4)),
    "matmul_mm": lambda m, t: t(np.ones((2, 3))) @ t(np.ones((2, 3))),
    "matmul_vec_mat": lambda m, t: t(np.ones(3)) @ t(np.ones((4, 2))),
    "matmul_mv": lambda m, t: t(np.ones((2, 3))) @ t(np.ones(4)),
    "matmul_batched_mv": lambda m, t: t(np.ones((2, 2, 3))) @ t(np.ones(4)),
    "matmul_folded_mm": lambda m, t: t(np.ones((5, 2, 3))) @ t(np.ones((4, 2))),
    "matmul_bmm_inner": lambda m, t: t(np.ones((2, 2, 3))) @ t(np.ones((2, 4, 2))),
    "matmul_bmm_batch": lambda m, t: t(np.ones((2, 2, 3))) @ t(np.ones((3, 3, 2))),
    "mm_not_matrix": lambda m, t: m.mm(t(np.ones(3)), t(np.ones((3, 3)))),
    "mm_mat2_not_matrix": lambda m, t: m.mm(t(np.ones((2, 3))), t(np.ones(3))),
    "mm_shapes": lambda m, t: m.mm(t(np.ones((2, 3))), t(np.ones((2, 3)))),
    "bmm_2d": lambda m, t: m.bmm(t(np.ones((2, 3))), t(np.ones((3, 3)))),
    "bmm_batch2_2d": lambda m, t: m.bmm(t(np.ones((2, 2, 3))), t(np.ones((2, 3)))),
    "bmm_batch": lambda m, t: m.bmm(t(np.ones((2, 2, 3))), t(np.ones((3, 3, 3)))),
    "bmm_inner": lambda m, t: m.bmm(t(np.ones((2, 2, 3))), t(np.ones((2, 2, 3)))),
    "addmm_mat1": lambda m, t: m.addmm(t(np.ones((2, 3))), t(np.ones((2, 3, 1))), t(np.ones((3, 2)))),
    "addmm_mat2": lambda m, t: m.addmm(t(np.ones((2, 2))), t(np.ones((2, 3))), t(np.ones(3))),
    "addmm_shapes": lambda m, t: m.addmm(t(np.ones((2, 2))), t(np.ones((2, 3))), t(np.ones((2, 3)))),
    "addmm_input": lambda m, t: m.addmm(t(np.ones((3, 3))), t(np.ones((2, 3))), t(np.ones((3, 2)))),
    "sqrt_of_a_number": lambda m, t: m.sqrt(4),
    "sum_of_a_list": lambda m, t: m.sum([1.0, 2.0]),
    "einsum_size": lambda m, t: m.einsum("bi,hi->bh", t(np.ones((2, 3))), t(np.ones((4, 5)))),
    "einsum_diagonal_sizes": lambda m, t: m.einsum("ii->i", t(np.ones((2, 3)))),
    "einsum_fewer_operands": lambda m, t: m.einsum("bi,hi", t(np.ones((2, 3)))),
    "einsum_more_operands": lambda m, t: m.einsum("ij,jk->ik", t(np.ones((2, 3))), t(np.ones((3, 4))),
                                                  t(np.ones(1))),
    "einsum_subscript": lambda m, t: m.einsum("b1", t(np.ones((2, 3)))),
    "einsum_double_arrow": lambda m, t: m.einsum("ij,jk-->ik", t(np.ones((2, 3))), t(np.ones((3, 4)))),
    "einsum_output_unknown": lambda m, t: m.einsum("ij->k", t(np.ones((2, 3)))),
    "einsum_output_twice": lambda m, t: m.einsum("ij->iij", t(np.ones((2, 3)))),
    "einsum_ndim": lambda m, t: m.einsum("ij->ji", t(np.ones((2, 3, 4)))),
    "einsum_too_many_with_ellipsis": lambda m, t: m.einsum("...ijk->ij", t(np.ones((2, 3)))),
    "einsum_stray_dot": lambda m, t: m.einsum("i..j..,jk->ik", t(np.ones((2, 3))), t(np.ones((3, 4)))),
    "einsum_two_ellipses": lambda m, t: m.einsum("...i...j->ij", t(np.ones((5, 2, 3)))),
    "einsum_not_a_tensor": lambda m, t: m.einsum("ij,jk->ik", t(np.ones((2, 3))), [1]),
}


def _raised(fn):
    with pytest.raises(Exception) as info:
        fn()
    return info.value


@pytest.mark.parametrize("name", list(ERRORS))
def test_errors_match_torch(torch, name):
    fn = ERRORS[name]
    theirs = _raised(lambda: fn(torch, lambda d: torch.from_numpy(np.asarray(d))))
    ours = _raised(lambda: fn(tg, lambda d: Tensor(np.asarray(d))))
    assert type(ours) is type(theirs), (ours, theirs)
    assert str(ours) == str(theirs)
