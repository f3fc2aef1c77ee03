"""Reductions (issue 13, part 2): sum/mean with dtype=, prod (zeros), cumsum, var/std (correction, unbiased,
n − correction ≤ 0), norm (p = 'fro', numbers, ±inf, 0; zero norms), logsumexp (±inf rows), sort/argsort/topk with
torch's named returns and the gradient at the picked index, `axis=` as `dim`, and the free functions. Values and
gradients against torch 2.13 (float64 to 1e-10, float32 to 1e-5) over dims, keepdim, 0-d and empty tensors; gradcheck
in float64 and hand-computed values where no torch is needed; errors against torch's types and messages."""
import warnings

import numpy as np
import pytest

import tinygrad_rnn as tg
from tinygrad_rnn import Tensor, gradcheck

TIGHT = dict(rtol=1e-10, atol=1e-12, equal_nan=True)
SMOKE = dict(rtol=1e-5, atol=1e-6, equal_nan=True)


def check(torch, fn, arrays, tol, seed=1):
    """fn(module, *tensors) on both sides: equal outputs (values, shape, dtype; indices exactly), then equal
    gradients for one random upstream gradient on every float output."""
    ours = [Tensor(a, requires_grad=a.dtype.kind == "f") for a in arrays]
    theirs = [torch.tensor(a, requires_grad=a.dtype.kind == "f") for a in arrays]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)       # torch's (and our) degrees-of-freedom warning
        out, tout = fn(tg, *ours), fn(torch, *theirs)
    outs, touts = (tuple(out), tuple(tout)) if isinstance(out, tuple) else ((out,), (tout,))
    assert len(outs) == len(touts)
    rng, loss, tloss = np.random.default_rng(seed), 0, 0
    for o, t in zip(outs, touts):
        assert o.shape == tuple(t.shape), (o.shape, t.shape)
        assert o.dtype == t.detach().numpy().dtype, (o.dtype, t.dtype)
        if o.dtype.kind != "f":
            np.testing.assert_array_equal(o.data, t.numpy())
            continue
        np.testing.assert_allclose(o.data, t.detach().numpy(), **tol)
        if o.requires_grad and t.requires_grad:
            g = rng.standard_normal(o.shape).astype(o.dtype)
            with np.errstate(invalid="ignore"):           # the loss of an inf output may be nan; its gradient not
                loss, tloss = loss + (o * g).sum(), tloss + (t * torch.from_numpy(g.copy())).sum()
    if not isinstance(loss, Tensor):
        return ours
    loss.backward()
    tloss.backward()
    for i, (a, t) in enumerate(zip(ours, theirs)):
        if t.grad is None:
            assert a.grad is None, f"input {i}: torch gives no gradient"
            continue
        assert a.grad is not None and a.grad.dtype == a.dtype, f"input {i}"
        np.testing.assert_allclose(a.grad, t.grad.numpy(), **tol, err_msg=f"grad of input {i}")
    return ours


CASES = {}  # name -> (fn(module, *tensors), arrays(rng))


def case(name, fn, *shapes, gen=None):
    CASES[name] = (fn, lambda rng: [gen(rng, s) if gen else rng.standard_normal(s) for s in shapes])


for shape, dims in [((3, 4, 2), [None, 0, -1, (0, 2), [2, 0]]), ((), [None, 0, -1]), ((0, 3), [None, 0, 1])]:
    for dim in dims:
        for keepdim in [False, True]:
            tag = f"{shape}_{dim}_{keepdim}"
            for op in ["sum", "mean", "var", "std", "norm", "amax", "amin"]:
                if op in ("amax", "amin") and 0 in shape:
                    continue
                if op == "norm":
                    case(f"norm{tag}", lambda m, a, d=dim, k=keepdim: a.norm(dim=d, keepdim=k), shape)
                elif dim is None and op in ("amax", "amin"):
                    case(f"{op}{tag}", lambda m, a, op=op, k=keepdim: getattr(a, op)(keepdim=k), shape)
                else:
                    case(f"{op}{tag}", lambda m, a, op=op, d=dim, k=keepdim: getattr(a, op)(d, keepdim=k), shape)
            if dim is not None and not isinstance(dim, (tuple, list)):
                case(f"prod{tag}", lambda m, a, d=dim, k=keepdim: a.prod(d, keepdim=k), shape)
                case(f"logsumexp{tag}", lambda m, a, d=dim, k=keepdim: a.logsumexp(d, keepdim=k), shape)
                case(f"max_dim{tag}", lambda m, a, d=dim, k=keepdim: a.max(d, keepdim=k), shape) \
                    if 0 not in shape else None
                case(f"min_dim{tag}", lambda m, a, d=dim, k=keepdim: a.min(d, keepdim=k), shape) \
                    if 0 not in shape else None
        if dim is not None and not isinstance(dim, (tuple, list)):
            case(f"cumsum{shape}_{dim}", lambda m, a, d=dim: a.cumsum(d), shape)
            for descending in [False, True]:
                case(f"sort{shape}_{dim}_{descending}", lambda m, a, d=dim, s=descending: a.sort(d, s), shape)
                case(f"argsort{shape}_{dim}_{descending}",
                     lambda m, a, d=dim, s=descending: a.argsort(d, s), shape)
    case(f"prod_all{shape}", lambda m, a: a.prod(), shape)
    if 0 not in shape:
        case(f"logsumexp_tuple{shape}", lambda m, a: a.logsumexp(tuple(range(a.ndim))), shape)
for k in [0, 1, 3, 4]:
    for largest in [True, False]:
        case(f"topk_{k}_{largest}", lambda m, a, k=k, lg=largest: a.topk(k, largest=lg), (3, 4))
        case(f"topk_dim0_{k}_{largest}", lambda m, a, k=k, lg=largest: a.topk(min(k, 3), 0, lg), (3, 4, 2))
case("topk_0d", lambda m, a: a.topk(1), ())
case("topk_empty", lambda m, a: a.topk(0, dim=1), (2, 0))
for correction in [0, 1, 2, 0.5]:
    case(f"var_correction_{correction}", lambda m, a, c=correction: a.var(1, correction=c), (3, 4))
    case(f"std_correction_{correction}", lambda m, a, c=correction: a.std(dim=0, correction=c, keepdim=True), (3, 4))
case("var_unbiased_false", lambda m, a: a.var(unbiased=False), (3, 4))
case("var_positional_unbiased", lambda m, a: a.var(False), (3, 4))
case("var_dim_unbiased_keepdim", lambda m, a: a.var(1, False, True), (3, 4))
case("std_positional_unbiased", lambda m, a: a.std(1, True), (3, 4))
case("var_dof_0_all", lambda m, a: a.var(correction=12), (3, 4))           # n − correction = 0: inf, grad ±inf
case("var_dof_negative_all", lambda m, a: a.var(correction=13), (3, 4))
case("var_dof_0_dim", lambda m, a: a.var(0, correction=3), (3, 4))          # along a dim: torch's other branch
case("var_dof_negative_dim", lambda m, a: a.var(0, correction=5), (3, 4))
case("std_dof_0", lambda m, a: a.std(correction=12), (3, 4))
case("var_single_element", lambda m, a: a.var(), (1,))                        # 0/0: nan, grad nan
case("std_single_row", lambda m, a: a.std(0), (1, 3))
for p in [1, 2, 3, 0.5, 1.5, -1, -2.5, np.inf, -np.inf, 0, "fro"]:
    case(f"norm_p{p}", lambda m, a, p=p: a.norm(p), (3, 4))
    case(f"norm_p{p}_dim", lambda m, a, p=p: a.norm(p, dim=1, keepdim=True), (3, 4))
    case(f"norm_p{p}_tuple", lambda m, a, p=p: a.norm(p, dim=(0, 1)) if p == "fro" else a.norm(p, dim=(1, 0)), (3, 4))
case("norm_dtype", lambda m, a: a.float().norm(dtype=m.float64), (3, 4))
case("sum_dtype_float64", lambda m, a: a.float().sum(dtype=m.float64), (3, 4))
case("sum_dim_dtype", lambda m, a: a.float().sum(1, dtype=m.float64), (3, 4))
case("mean_dtype", lambda m, a: a.float().mean(0, dtype=m.float64), (3, 4))
case("cumsum_dtype", lambda m, a: a.float().cumsum(0, dtype=m.float64), (3, 4))
case("prod_dtype", lambda m, a: a.float().prod(1, dtype=m.float64), (3, 4))
case("sum_axis", lambda m, a: a.sum(axis=1), (3, 4))
case("mean_axis", lambda m, a: a.mean(axis=(0, 1), keepdim=True), (3, 4))
case("var_axis", lambda m, a: a.var(axis=0), (3, 4))
case("std_axis", lambda m, a: a.std(axis=1, keepdim=True), (3, 4))
case("prod_axis", lambda m, a: a.prod(axis=0), (3, 4))
case("cumsum_axis", lambda m, a: a.cumsum(axis=1), (3, 4))
case("logsumexp_axis", lambda m, a: a.logsumexp(axis=1), (3, 4))
case("amax_axis", lambda m, a: a.amax(axis=1), (3, 4))
case("argmax_axis", lambda m, a: a.argmax(axis=1), (3, 4))
case("sort_axis", lambda m, a: a.sort(axis=0), (3, 4))
case("topk_axis", lambda m, a: a.topk(2, axis=0), (3, 4))
for name in ["sum", "mean", "prod", "var", "std", "norm", "amax", "amin", "argmax", "argmin", "var_mean",
             "std_mean"]:
    case(f"free_{name}", lambda m, a, name=name: getattr(m, name)(a), (3, 4))
    if name not in ("norm",):
        case(f"free_{name}_dim", lambda m, a, name=name: getattr(m, name)(a, 1), (3, 4))
for name in ["cumsum", "logsumexp", "sort", "argsort", "softmax", "log_softmax"]:
    case(f"free_{name}", lambda m, a, name=name: getattr(m, name)(a, 1), (3, 4))
case("free_topk", lambda m, a: m.topk(a, 2), (3, 4))
case("free_max_dim_keepdim", lambda m, a: m.max(a, 0, True), (3, 4))
case("free_sum_keepdim", lambda m, a: m.sum(a, (0, 1), True), (3, 4))
case("free_var_mean_correction", lambda m, a: m.var_mean(a, 1, correction=0, keepdim=True), (3, 4))


@pytest.mark.parametrize("name", list(CASES))
def test_reduction_float64(torch, name):
    fn, arrays = CASES[name]     # (a "_dtype" case converts a float32 input: its gradient is float32)
    check(torch, fn, arrays(np.random.default_rng(0)), SMOKE if name.endswith("_dtype") else TIGHT)


@pytest.mark.parametrize("name", [n for n in CASES if "(0," not in n][::3])
def test_reduction_float32(torch, name):
    fn, arrays = CASES[name]
    check(torch, fn, [a.astype(np.float32) for a in arrays(np.random.default_rng(0))], SMOKE)


# ---- the edges PyTorch defines ---------------------------------------------------------------------------------
EDGES = {  # name: (fn(module, *tensors), arrays)
    "prod_one_zero": (lambda m, a: a.prod(), [[2.0, 0.0, 3.0]]),
    "prod_two_zeros": (lambda m, a: a.prod(), [[2.0, 0.0, 0.0]]),
    "prod_zeros_by_row": (lambda m, a: a.prod(1), [[[2.0, 0.0, 3.0], [0.0, 0.0, 1.0], [1.0, 2.0, 3.0]]]),
    "prod_zeros_by_column": (lambda m, a: a.prod(0, keepdim=True), [[[2.0, 0.0], [0.0, 0.0], [1.0, 2.0]]]),
    "std_of_a_constant": (lambda m, a: a.std(), [[3.0, 3.0, 3.0]]),
    "std_of_a_constant_row": (lambda m, a: a.std(1, correction=0), [[[3.0, 3.0], [1.0, 2.0]]]),
    "var_constant_dof_0": (lambda m, a: a.var(correction=2), [[3.0, 3.0]]),     # 0/0 everywhere: nan
    "var_constant_dof_0_dim": (lambda m, a: a.var(0, correction=2), [[3.0, 3.0]]),
    "var_0d": (lambda m, a: a.var(), 3.0),
    "var_0d_biased": (lambda m, a: a.var(unbiased=False), 3.0),
    "var_empty": (lambda m, a: a.var(), [[]]),
    "std_empty_rows": (lambda m, a: a.std(1), [[[], []]]),
    "norm_zero_vector": (lambda m, a: a.norm(), [[0.0, 0.0]]),
    "norm_zero_rows": (lambda m, a: a.norm(dim=1), [[[3.0, 4.0], [0.0, 0.0]]]),
    "norm_p3_zero": (lambda m, a: a.norm(3), [[0.0, 0.0]]),
    "norm_p1_at_zero": (lambda m, a: a.norm(1), [[0.0, -2.0, 3.0]]),
    "norm_half_at_zero": (lambda m, a: a.norm(0.5), [[0.0, 0.0, 3.0]]),
    "norm_p1.5_at_zero": (lambda m, a: a.norm(1.5), [[0.0, -2.0, 3.0]]),
    "norm_negative_p_at_zero": (lambda m, a: a.norm(-1), [[1.0, 0.0]]),
    "norm_inf_ties": (lambda m, a: a.norm(float("inf"), dim=1), [[[1.0, -3.0, 3.0], [0.0, 0.0, 0.0]]]),
    "norm_-inf_ties": (lambda m, a: a.norm(float("-inf")), [[1.0, -3.0, -1.0]]),
    "norm_inf_nan": (lambda m, a: a.norm(float("inf")), [[1.0, np.nan, 3.0]]),
    "norm_0_counts": (lambda m, a: a.norm(0), [[1.0, 0.0, 3.0]]),
    "norm_empty": (lambda m, a: a.norm(), [[]]),
    "logsumexp_-inf_row": (lambda m, a: a.logsumexp(1), [[[-np.inf, -np.inf], [0.0, 1.0]]]),
    "logsumexp_inf": (lambda m, a: a.logsumexp(0), [[np.inf, 1.0]]),
    "logsumexp_inf_and_-inf": (lambda m, a: a.logsumexp(0), [[np.inf, -np.inf]]),
    "logsumexp_huge": (lambda m, a: a.logsumexp(0), [[1e4, 1e4, -1e4]]),
    "logsumexp_nan": (lambda m, a: a.logsumexp(0), [[np.nan, 1.0]]),
    "logsumexp_empty": (lambda m, a: a.logsumexp(1), [[[], []]]),
    "logsumexp_0d": (lambda m, a: a.logsumexp(0), 2.0),
    "cumsum_0d": (lambda m, a: a.cumsum(0), 2.0),
    "sort_ties_stable": (lambda m, a: a.sort(stable=True), [[3.0, 1.0, 2.0, 1.0, 3.0]]),
    "sort_ties_stable_descending": (lambda m, a: a.sort(descending=True, stable=True), [[1.0, 3.0, 1.0, 3.0, 2.0]]),
    "sort_nan_last": (lambda m, a: a.sort(stable=True), [[3.0, np.nan, 1.0, np.inf, -np.inf]]),
    "sort_nan_first_descending": (lambda m, a: a.sort(descending=True, stable=True), [[3.0, np.nan, 1.0, 1.0]]),
    "sort_0d": (lambda m, a: a.sort(), 2.0),
    "sort_empty": (lambda m, a: a.sort(), [[]]),
    "topk_nan_largest": (lambda m, a: a.topk(2), [[3.0, np.nan, 1.0, 5.0]]),
    "argsort_stable_descending": (lambda m, a: a.argsort(descending=True, stable=True), [[1.0, 2.0, 1.0, 2.0]]),
    "max_dim_ties_gradient_to_the_index": (lambda m, a: a.max(1), [[[1.0, 3.0, 3.0], [2.0, 2.0, 0.0]]]),
    "sum_empty_keepdim": (lambda m, a: a.sum(dim=None, keepdim=True), [[[], []]]),
}


@pytest.mark.parametrize("name", list(EDGES))
def test_edges_match_torch(torch, name):
    fn, data = EDGES[name]
    check(torch, fn, [np.array(data, dtype=np.float64)], TIGHT)


INT_CASES = {
    "sum": lambda m, a: a.sum(), "sum_dim": lambda m, a: a.sum(0), "prod": lambda m, a: a.prod(),
    "prod_dim": lambda m, a: a.prod(1, keepdim=True), "cumsum": lambda m, a: a.cumsum(1),
    "sum_dtype": lambda m, a: a.sum(dtype=m.float64), "mean_dtype": lambda m, a: a.mean(dtype=m.float32),
    "cumsum_dtype": lambda m, a: a.cumsum(0, dtype=m.float64), "logsumexp": lambda m, a: a.logsumexp(1),
    "sort": lambda m, a: a.sort(dim=1, stable=True), "argsort": lambda m, a: a.argsort(dim=0, stable=True),
    "sum_to_bool": lambda m, a: a.sum(1, dtype=m.bool), "amax": lambda m, a: a.amax(1),
}


@pytest.mark.parametrize("kind", [np.int64, np.int32, np.bool_])
@pytest.mark.parametrize("name", list(INT_CASES))
def test_integer_and_bool_reductions_take_torchs_dtype(torch, name, kind):
    """int and bool sums, products and running sums are int64, as in PyTorch; dtype= converts first."""
    data = np.array([[3, -1, 0], [2, 2, -5]]).astype(kind)
    ours, theirs = INT_CASES[name](tg, Tensor(data)), INT_CASES[name](torch, torch.from_numpy(data))
    for o, t in zip(*((ours, theirs) if isinstance(ours, tuple) else ((ours,), (theirs,)))):
        assert o.dtype == t.numpy().dtype, (o.dtype, t.dtype)
        np.testing.assert_allclose(o.data, t.numpy(), rtol=1e-6)


def test_float_sum_to_int64_truncates_first(torch):
    data = np.array([1.5, 2.7, -0.5])
    ours, theirs = Tensor(data).sum(dtype=tg.int64), torch.from_numpy(data).sum(dtype=torch.int64)
    assert ours.dtype == np.int64 and ours.item() == theirs.item() == 3


def test_topk_of_integers(torch):
    data = np.array([[3, 1, 7, 5], [0, -2, 9, 4]])
    ours, theirs = Tensor(data).topk(2), torch.from_numpy(data).topk(2)
    np.testing.assert_array_equal(ours.values.data, theirs.values.numpy())
    np.testing.assert_array_equal(ours.indices.data, theirs.indices.numpy())


# ---- what needs no torch --------------------------------------------------------------------------------------
def test_return_types_are_named_pairs():
    x = Tensor([[3.0, 1.0, 2.0]], requires_grad=True)
    for result, name in [(x.sort(), "sort"), (x.topk(2), "topk"), (x.max(1), "max"), (x.min(1), "min")]:
        assert type(result).__name__ == name and result._fields == ("values", "indices")
        values, indices = result
        assert values is result.values and indices is result[1] and indices.dtype == np.int64
    np.testing.assert_array_equal(x.sort().indices.data, [[1, 2, 0]])
    np.testing.assert_array_equal(x.topk(2).values.data, [[3.0, 2.0]])


def test_sort_and_topk_send_the_gradient_to_the_picked_index():
    x = Tensor([3.0, 1.0, 2.0, 5.0], requires_grad=True, dtype=tg.float64)
    values, _ = x.topk(2)
    (values * Tensor([1.0, 10.0], dtype=tg.float64)).sum().backward()
    np.testing.assert_array_equal(x.grad, [10.0, 0.0, 0.0, 1.0])
    y = Tensor([3.0, 1.0, 2.0], requires_grad=True, dtype=tg.float64)
    (y.sort(descending=True).values * Tensor([1.0, 2.0, 3.0], dtype=tg.float64)).sum().backward()
    np.testing.assert_array_equal(y.grad, [1.0, 3.0, 2.0])


def test_prod_with_zeros_by_hand():
    """One zero: its gradient is the product of the others, the rest 0; two zeros: all 0; no nan anywhere."""
    x = Tensor([[2.0, 0.0, 3.0], [0.0, 0.0, 4.0], [1.0, 2.0, 3.0]], requires_grad=True, dtype=tg.float64)
    x.prod(1).sum().backward()
    np.testing.assert_array_equal(x.grad, [[0.0, 6.0, 0.0], [0.0, 0.0, 0.0], [6.0, 3.0, 2.0]])


def test_var_std_by_hand():
    x = np.array([[1.0, 2.0, 4.0], [3.0, 3.0, 3.0]])
    t = Tensor(x, dtype=tg.float64)
    np.testing.assert_allclose(t.var(1).data, [7 / 3, 0.0], rtol=1e-15)
    np.testing.assert_allclose(t.var(1, unbiased=False).data, [14 / 9, 0.0], rtol=1e-15)
    np.testing.assert_allclose(t.std(1, correction=0.5).data, np.sqrt([(14 / 3) / 2.5, 0.0]), rtol=1e-15)
    with pytest.warns(UserWarning, match=r"var\(\): degrees of freedom is <= 0"):
        assert np.isinf(t.var(correction=6).item())


def test_norm_and_logsumexp_by_hand():
    x = Tensor([[3.0, -4.0], [0.0, 0.0]], requires_grad=True, dtype=tg.float64)
    x.norm(dim=1).sum().backward()
    np.testing.assert_allclose(x.grad, [[0.6, -0.8], [0.0, 0.0]], rtol=1e-15)
    assert Tensor([[1.0, -3.0, 2.0]]).norm(float("inf")).item() == 3.0
    assert Tensor([1.0, 0.0, 3.0]).norm(0).item() == 2.0
    big = Tensor([1e4, 1e4], dtype=tg.float64)
    np.testing.assert_allclose(big.logsumexp(0).item(), 1e4 + np.log(2), rtol=1e-15)
    assert Tensor([-np.inf, -np.inf]).logsumexp(0).item() == -np.inf


def test_cumsum_by_hand():
    x = Tensor([1.0, 2.0, 3.0], requires_grad=True, dtype=tg.float64)
    cs = x.cumsum(0)
    np.testing.assert_array_equal(cs.data, [1.0, 3.0, 6.0])
    (cs * Tensor([1.0, 10.0, 100.0], dtype=tg.float64)).sum().backward()
    np.testing.assert_array_equal(x.grad, [111.0, 110.0, 100.0])
    assert Tensor(np.array([True, True, False])).cumsum(0).dtype == np.int64


def test_sum_dtype_keeps_the_gradient_in_the_inputs_dtype():
    x = Tensor([1.0, 2.0], requires_grad=True)
    y = x.sum(dtype=tg.float64)
    assert y.dtype == np.float64
    y.backward()
    assert x.grad.dtype == np.float32 and np.array_equal(x.grad, [1.0, 1.0])


def leaf(rng, *shape, low=None):
    data = rng.standard_normal(shape)
    if low is not None:
        data = np.abs(data) + low
    return Tensor(data, requires_grad=True, dtype=tg.float64)


GRADCHECKS = {
    "prod": lambda r: (lambda a: a.prod(1), leaf(r, 3, 4)),
    "prod_all": lambda r: (lambda a: a.prod(), leaf(r, 2, 3)),
    "prod_with_a_zero": lambda r: (lambda a: (a * Tensor([[1.0, 0.0, 1.0]], dtype=tg.float64)).prod(1), leaf(r, 2, 3)),
    "cumsum": lambda r: (lambda a: a.cumsum(1), leaf(r, 3, 4)),
    "var": lambda r: (lambda a: a.var(0), leaf(r, 3, 4)),
    "var_all_correction": lambda r: (lambda a: a.var(correction=0.5), leaf(r, 3, 4)),
    "std": lambda r: (lambda a: a.std(1, keepdim=True), leaf(r, 3, 4)),
    "norm_2": lambda r: (lambda a: a.norm(dim=1), leaf(r, 3, 4)),
    "norm_3": lambda r: (lambda a: a.norm(3), leaf(r, 3, 4)),
    "norm_1.5": lambda r: (lambda a: a.norm(1.5, dim=0), leaf(r, 3, 4, low=0.1)),
    "norm_0.5": lambda r: (lambda a: a.norm(0.5), leaf(r, 3, 4, low=0.1)),
    "norm_inf": lambda r: (lambda a: a.norm(float("inf"), dim=1), leaf(r, 3, 4)),
    "logsumexp": lambda r: (lambda a: a.logsumexp(1), leaf(r, 3, 4)),
    "logsumexp_dims": lambda r: (lambda a: a.logsumexp((0, 2), keepdim=True), leaf(r, 2, 3, 2)),
    "sort": lambda r: (lambda a: a.sort(0, descending=True).values, leaf(r, 3, 4)),
    "topk": lambda r: (lambda a: a.topk(2, largest=False).values, leaf(r, 3, 4)),
}


@pytest.mark.parametrize("name", list(GRADCHECKS))
def test_gradcheck(name):
    fn, x = GRADCHECKS[name](np.random.default_rng(21))
    assert gradcheck(fn, (x,))


# ---- errors: PyTorch's types and messages -----------------------------------------------------------------------
ERRORS = {  # name: fn(module, make) where make(data) is a tensor of that NumPy data
    "sum_dim_out_of_range": lambda m, t: t(np.ones((2, 3))).sum(dim=5),
    "sum_dim_twice": lambda m, t: t(np.ones((2, 3))).sum(dim=(0, -2)),
    "var_dim_out_of_range": lambda m, t: t(np.ones((2, 3))).var(dim=5),
    "cumsum_dim_out_of_range": lambda m, t: t(np.ones((2, 3))).cumsum(dim=5),
    "cumsum_without_dim": lambda m, t: t(np.ones(2)).cumsum(),
    "cumsum_tuple_dim": lambda m, t: t(np.ones((2, 3))).cumsum(dim=(0,)),
    "cumsum_to_bool": lambda m, t: t(np.array([True, True])).cumsum(0, dtype=m.bool),
    "logsumexp_without_dim": lambda m, t: t(np.ones(2)).logsumexp(),
    "logsumexp_dim_out_of_range": lambda m, t: t(np.ones((2, 3))).logsumexp(dim=5),
    "topk_dim_out_of_range": lambda m, t: t(np.ones((2, 3))).topk(2, dim=5),
    "sort_dim_out_of_range": lambda m, t: t(np.ones((2, 3))).sort(dim=5),
    "topk_k_too_large": lambda m, t: t(np.ones(2)).topk(3),
    "topk_k_negative": lambda m, t: t(np.ones(2)).topk(-1),
    "topk_k_float": lambda m, t: t(np.ones(2)).topk(1.5),
    "topk_k_bool": lambda m, t: t(np.ones(2)).topk(True),
    "topk_bool": lambda m, t: t(np.array([True, False])).topk(1),
    "var_of_ints": lambda m, t: t(np.array([1, 2])).var(),
    "std_of_ints": lambda m, t: t(np.array([1, 2])).std(),
    "mean_of_ints": lambda m, t: t(np.array([1, 2])).mean(),
    "mean_of_bools": lambda m, t: t(np.array([True])).mean(),
    "mean_int_dtype": lambda m, t: t(np.array([1.0, 2.0])).mean(dtype=m.int64),
    "norm_of_ints": lambda m, t: t(np.array([1, 2])).norm(),
    "norm_int_dtype": lambda m, t: t(np.ones(3)).norm(dtype=m.int64),
    "norm_fro_three_dims": lambda m, t: t(np.ones((2, 2, 2))).norm(p="fro", dim=(0, 1, 2)),
    "norm_unknown_order": lambda m, t: t(np.ones((2, 2))).norm(p="abc"),
    "norm_order_list": lambda m, t: t(np.ones((2, 2))).norm(p=[1]),
    "norm_inf_of_empty": lambda m, t: t(np.ones(0)).norm(p=float("inf")),
    "norm_-inf_of_empty": lambda m, t: t(np.ones(0)).norm(p=float("-inf")),
    "norm_inf_of_empty_dim": lambda m, t: t(np.ones((2, 0))).norm(p=float("inf"), dim=1),
    "prod_tuple_dim": lambda m, t: t(np.ones((2, 3))).prod(dim=(0, 1)) if m is tg else
    m.ones(2, 3).prod(dim=(0, 1)),
}
# the same type; our message names the problem more briefly, or (norm) has the space torch's lacks ("1because")
LOOSE = {"prod_tuple_dim", "sum_dim_twice", "norm_inf_of_empty_dim"}


@pytest.mark.parametrize("name", list(ERRORS))
def test_errors_match_torch(torch, name):
    fn = ERRORS[name]
    with pytest.raises(Exception) as theirs:
        fn(torch, lambda d: torch.from_numpy(np.asarray(d)))
    with pytest.raises(Exception) as ours:
        fn(tg, lambda d: Tensor(np.asarray(d)))
    assert type(ours.value) is type(theirs.value), (ours.value, theirs.value)
    if name not in LOOSE:
        assert str(ours.value) == str(theirs.value)


def test_var_refuses_both_unbiased_and_correction():
    with pytest.raises(TypeError, match="not both"):
        Tensor([1.0, 2.0]).var(0, unbiased=True, correction=0)
    with pytest.raises(TypeError, match="multiple values for argument 'dim'"):
        Tensor([1.0, 2.0]).sum(dim=0, axis=0)
