"""The losses added for issue 14 against torch: l1/smooth_l1/mse (weight=), binary_cross_entropy (with and without
logits, weight, pos_weight), cross_entropy with label_smoothing and probability targets; values and the gradients
of input and target in float64 (1e-10) and float32 (1e-5), gradcheck, the Module forms (repr, buffers in
state_dict), torch's legacy size_average/reduce, and torch's messages for bad input."""
import re
import warnings

import numpy as np
import pytest

from tinygrad_rnn import Tensor, gradcheck, nn
import tinygrad_rnn.nn.functional as F

F64, F32 = np.float64, np.float32
TOL = {np.dtype(F64): dict(rtol=1e-10, atol=1e-12), np.dtype(F32): dict(rtol=1e-5, atol=1e-6)}
REDUCTIONS = ["mean", "sum", "none"]


def run_both(torch, ours, theirs, arrays, grads_for, rng, **kwargs):
    """Calls ours(*Tensors, **kwargs) and theirs(*torch tensors, **kwargs) on the same arrays (those at positions
    `grads_for` require grad), backpropagates one random upstream gradient through both and compares the values
    and every gradient."""
    dtype = arrays[0].dtype
    mine = [Tensor(a, requires_grad=i in grads_for, dtype=a.dtype) for i, a in enumerate(arrays)]
    ref = [torch.tensor(a, requires_grad=i in grads_for) for i, a in enumerate(arrays)]
    tkw = {k: torch.tensor(v) if isinstance(v, np.ndarray) else v for k, v in kwargs.items()}
    out, tout = ours(*mine, **kwargs), theirs(*ref, **tkw)
    assert out.shape == tuple(tout.shape) and out.dtype == dtype
    np.testing.assert_allclose(out.data, tout.detach().numpy(), **TOL[dtype])
    up = rng.standard_normal(out.shape).astype(dtype)
    out.backward(up)
    tout.backward(torch.from_numpy(up))
    for i in grads_for:
        assert mine[i].grad.dtype == dtype
        np.testing.assert_allclose(mine[i].grad, ref[i].grad.numpy(), **TOL[dtype], err_msg=f"gradient {i}")


def torch_error(fn):
    with pytest.raises(Exception) as info:
        fn()
    return info.value


def shapes_as_tuples(message):
    """torch.Size([3]) and [3] -> (3,): the engine prints shapes as tuples."""
    def tup(m):
        dims = [d.strip() for d in m.group(1).split(",") if d.strip()]
        return "(" + ", ".join(dims) + ("," if len(dims) == 1 else "") + ")"
    return re.sub(r"\[([0-9, ]*)\]", tup, message.replace("torch.Size(", "").replace("])", "]"))


# ---- l1, smooth_l1, mse ------------------------------------------------------------------------------------
@pytest.mark.parametrize("dtype", [F64, F32], ids=["float64", "float32"])
@pytest.mark.parametrize("reduction", REDUCTIONS)
def test_regression_losses_match_torch(torch, rng, dtype, reduction):
    x = rng.standard_normal((4, 3, 2)).astype(dtype)
    t = rng.standard_normal((4, 3, 2)).astype(dtype)
    t[0, 0] = x[0, 0]                                        # ties: the l1 gradient there is 0, as torch's
    w = rng.uniform(0.1, 2.0, (4, 3, 2)).astype(dtype)
    cases = [(F.l1_loss, torch.nn.functional.l1_loss, {}), (F.mse_loss, torch.nn.functional.mse_loss, {}),
             (F.l1_loss, torch.nn.functional.l1_loss, {"weight": w}),
             (F.mse_loss, torch.nn.functional.mse_loss, {"weight": w})]
    cases += [(F.smooth_l1_loss, torch.nn.functional.smooth_l1_loss, {"beta": b}) for b in (1.0, 0.5, 2.0, 0.0)]
    for ours, theirs, kw in cases:
        run_both(torch, ours, theirs, [x, t], (0, 1), rng, reduction=reduction, **kw)


def test_regression_losses_gradcheck(rng):
    x = Tensor(rng.standard_normal((3, 4)), requires_grad=True, dtype=F64)
    t = Tensor(x.data + rng.choice([-1.5, -0.3, 0.3, 1.5], (3, 4)), requires_grad=True, dtype=F64)  # off the kinks
    for reduction in REDUCTIONS:
        assert gradcheck(lambda a, b: F.l1_loss(a, b, reduction=reduction), (x, t))
        assert gradcheck(lambda a, b: F.smooth_l1_loss(a, b, reduction=reduction, beta=0.8), (x, t))
        assert gradcheck(lambda a, b: F.mse_loss(a, b, reduction=reduction, weight=np.full((3, 4), 0.5)), (x, t))


def test_legacy_size_average_and_reduce_as_torch(torch, rng):
    x, t = rng.standard_normal((3, 2)), rng.standard_normal((3, 2))
    for size_average, reduce in ((None, False), (False, None), (True, True), (False, True)):
        for ours, theirs in ((F.l1_loss, torch.nn.functional.l1_loss), (F.mse_loss, torch.nn.functional.mse_loss),
                             (F.smooth_l1_loss, torch.nn.functional.smooth_l1_loss)):
            with warnings.catch_warnings(record=True) as mine:
                warnings.simplefilter("always")
                a = ours(Tensor(x, dtype=F64), t, size_average, reduce)
            with warnings.catch_warnings(record=True) as ref:
                warnings.simplefilter("always")
                b = theirs(torch.tensor(x), torch.tensor(t), size_average, reduce)
            np.testing.assert_allclose(a.data, b.numpy(), rtol=1e-12)
            assert [str(w.message) for w in mine] == [str(w.message) for w in ref]
    with pytest.warns(UserWarning, match="please use reduction='sum' instead"):
        module = nn.L1Loss(size_average=False)
    with pytest.warns(UserWarning, match="please use reduction='sum' instead"):
        assert module.reduction == torch.nn.L1Loss(size_average=False).reduction == "sum"


def test_regression_errors(torch):
    x = Tensor(np.zeros((3, 2)), dtype=F64)
    with pytest.raises(ValueError, match=r"l1_loss: expected target of the input's size \(3, 2\), but got \(3,\)"):
        F.l1_loss(x, np.zeros(3))
    msg = str(torch_error(lambda: torch.nn.functional.smooth_l1_loss(torch.zeros(3), torch.zeros(3), beta=-1)))
    with pytest.raises(RuntimeError, match=re.escape(msg)):
        F.smooth_l1_loss(x, np.zeros((3, 2)), beta=-1)
    msg = str(torch_error(lambda: torch.nn.functional.l1_loss(torch.zeros(3), torch.zeros(3),
                                                              weight=torch.ones(2))))
    with pytest.raises(ValueError, match=re.escape(msg)):
        F.l1_loss(x, np.zeros((3, 2)), weight=np.ones(2))
    for fn in (F.l1_loss, F.smooth_l1_loss):
        with pytest.raises(ValueError, match=f"{fn.__name__}: 'avg' is not a valid value for reduction"):
            fn(x, np.zeros((3, 2)), reduction="avg")
    with pytest.raises(TypeError, match="smooth_l1_loss: expected target of dtype float64"):
        F.smooth_l1_loss(x, np.zeros((3, 2), np.float32))


# ---- binary cross-entropy ------------------------------------------------------------------------------------
def probabilities(rng, shape, dtype):
    p = rng.uniform(0.02, 0.98, shape).astype(dtype)
    p.reshape(-1)[:2] = (0.0, 1.0)                        # torch floors each log at -100
    return p


@pytest.mark.parametrize("dtype", [F64, F32], ids=["float64", "float32"])
@pytest.mark.parametrize("reduction", REDUCTIONS)
def test_binary_cross_entropy_matches_torch(torch, rng, dtype, reduction):
    x = probabilities(rng, (5, 3), dtype)
    t = rng.uniform(0, 1, (5, 3)).astype(dtype)
    t[0, :2] = (0.0, 1.0)                                  # targets that make the floored logs count
    inner = rng.uniform(0.1, 0.9, (5, 3)).astype(dtype)
    for weight in (None, rng.uniform(0.5, 2, (3,)).astype(dtype), rng.uniform(0.5, 2, (5, 1)).astype(dtype)):
        kw = {} if weight is None else {"weight": weight}
        run_both(torch, F.binary_cross_entropy, torch.nn.functional.binary_cross_entropy, [x, t], (0,), rng,
                 reduction=reduction, **kw)
        # the target's gradient (−logit(x), inf at 0 and 1) compared away from the edges
        run_both(torch, F.binary_cross_entropy, torch.nn.functional.binary_cross_entropy, [inner, t], (0, 1), rng,
                 reduction=reduction, **kw)


@pytest.mark.parametrize("dtype", [F64, F32], ids=["float64", "float32"])
@pytest.mark.parametrize("reduction", REDUCTIONS)
def test_binary_cross_entropy_with_logits_matches_torch(torch, rng, dtype, reduction):
    x = (rng.standard_normal((6, 3)) * 4).astype(dtype)
    x[0] = (1000.0, -1000.0, 0.0)                          # stable at any logit
    t = rng.uniform(0, 1, (6, 3)).astype(dtype)
    for kw in ({}, {"weight": rng.uniform(0.5, 2, (6, 1)).astype(dtype)},
               {"pos_weight": rng.uniform(0.5, 3, (3,)).astype(dtype)},
               {"weight": rng.uniform(0.5, 2, (3,)).astype(dtype), "pos_weight": np.array([2.0, 0.5, 1.0], dtype)}):
        run_both(torch, F.binary_cross_entropy_with_logits, torch.nn.functional.binary_cross_entropy_with_logits,
                 [x, t], (0, 1), rng, reduction=reduction, **kw)
    with np.errstate(all="raise"):
        out = F.binary_cross_entropy_with_logits(Tensor(x, requires_grad=True, dtype=dtype), t)
        out.backward()


def test_binary_losses_gradcheck(rng):
    x = Tensor(rng.uniform(0.1, 0.9, (3, 4)), requires_grad=True, dtype=F64)
    t = Tensor(rng.uniform(0, 1, (3, 4)), requires_grad=True, dtype=F64)
    z = Tensor(rng.standard_normal((3, 4)) * 3, requires_grad=True, dtype=F64)
    for reduction in REDUCTIONS:
        assert gradcheck(lambda a, b: F.binary_cross_entropy(a, b, weight=np.arange(1.0, 5.0),
                                                             reduction=reduction), (x, t))
        assert gradcheck(lambda a, b: F.binary_cross_entropy_with_logits(
            a, b, pos_weight=np.array([0.5, 1.0, 2.0, 3.0]), weight=np.full((3, 1), 0.7), reduction=reduction),
            (z, t))


def test_binary_errors_are_torchs(torch, rng):
    xd = rng.uniform(0.1, 0.9, (3, 2))
    x, xt = Tensor(xd, dtype=F64), torch.tensor(xd)
    cases = [
        (lambda: F.binary_cross_entropy(x, np.zeros(3)),
         lambda: torch.nn.functional.binary_cross_entropy(xt, torch.zeros(3, dtype=torch.float64))),
        (lambda: F.binary_cross_entropy(x + 1, np.zeros((3, 2))),
         lambda: torch.nn.functional.binary_cross_entropy(xt + 1, torch.zeros(3, 2, dtype=torch.float64))),
        (lambda: F.binary_cross_entropy(x, np.full((3, 2), 2.0)),
         lambda: torch.nn.functional.binary_cross_entropy(xt, torch.full((3, 2), 2.0, dtype=torch.float64))),
        (lambda: F.binary_cross_entropy_with_logits(x, np.zeros(3)),
         lambda: torch.nn.functional.binary_cross_entropy_with_logits(xt, torch.zeros(3, dtype=torch.float64))),
        (lambda: F.binary_cross_entropy(x, np.zeros((3, 2)), reduction="avg"),
         lambda: torch.nn.functional.binary_cross_entropy(xt, torch.zeros(3, 2, dtype=torch.float64),
                                                          reduction="avg")),
    ]
    for ours, theirs in cases:
        mine, ref = torch_error(ours), torch_error(theirs)
        assert type(mine) is type(ref)
        assert shapes_as_tuples(str(ref)).replace("'avg'", "avg") in str(mine).replace("'avg'", "avg")
    with pytest.raises(RuntimeError, match="Found dtype Float but expected Double"):
        F.binary_cross_entropy(x, np.zeros((3, 2), np.float32))
    with pytest.raises(RuntimeError, match="Found dtype Long but expected Double"):
        F.binary_cross_entropy(x, np.zeros((3, 2), np.int64))
    with pytest.raises(RuntimeError, match="result type Double can't be cast to the desired output type Long"):
        F.binary_cross_entropy_with_logits(x, np.zeros((3, 2), np.int64))
    with pytest.raises(RuntimeError, match=r"expected weight to be broadcastable to the input's shape \(3, 2\), "
                                           r"but got shape \(3,\)"):
        F.binary_cross_entropy(x, np.zeros((3, 2)), weight=np.ones(3))
    with pytest.raises(RuntimeError, match="pos_weight to be broadcastable"):
        F.binary_cross_entropy_with_logits(x, np.zeros((3, 2)), pos_weight=np.ones(3))
    with pytest.raises(RuntimeError, match="all elements of input should be between 0 and 1"):
        F.binary_cross_entropy(Tensor([np.nan, 0.5], dtype=F64), [0.0, 1.0])


# ---- cross_entropy: label smoothing, probability targets ---------------------------------------------------------
C = 5
LAYOUTS = {"NC": ((6, C), (6,)), "NCT": ((3, C, 4), (3, 4)), "C": ((C,), ())}
CLASS_WEIGHT = np.array([0.5, 2.0, 1.0, 0.0, 3.0])


def class_targets(rng, shape, ignore_index):
    t = rng.integers(0, C, size=shape)
    if t.size >= C:
        t.reshape(-1)[:C] = rng.permutation(C)
    if ignore_index is not None and t.size > 2:
        t.reshape(-1)[[1, -1]] = ignore_index
    return t


SMOOTH_CASES = [(layout, reduction, weighted, ignore, eps) for layout in LAYOUTS for reduction in REDUCTIONS
                for weighted in (False, True) for ignore in (None, 2) for eps in (0.1, 1.0)]


@pytest.mark.parametrize("case", SMOOTH_CASES, ids=["-".join(map(str, c)) for c in SMOOTH_CASES])
def test_label_smoothing_matches_torch(torch, rng, case):
    layout, reduction, weighted, ignore, eps = case
    xshape, tshape = LAYOUTS[layout]
    xd = rng.standard_normal(xshape) * 2
    t = class_targets(rng, tshape, ignore)
    kw = dict(reduction=reduction, label_smoothing=eps)
    if ignore is not None:
        kw["ignore_index"] = ignore
    if weighted:
        kw["weight"] = CLASS_WEIGHT
    run_both(torch, lambda x, **k: F.cross_entropy(x, t, **k),
             lambda x, **k: torch.nn.functional.cross_entropy(x, torch.from_numpy(t), **k), [xd], (0,), rng, **kw)


def test_label_smoothing_float32_and_gradcheck(torch, rng):
    xd = rng.standard_normal((6, C)).astype(F32)
    t = class_targets(rng, (6,), 2)
    run_both(torch, lambda x, **k: F.cross_entropy(x, t, **k),
             lambda x, **k: torch.nn.functional.cross_entropy(x, torch.from_numpy(t), **k), [xd], (0,), rng,
             weight=CLASS_WEIGHT.astype(F32), ignore_index=2, label_smoothing=0.2)
    x = Tensor(rng.standard_normal((3, C, 2)), requires_grad=True, dtype=F64)
    t = class_targets(rng, (3, 2), 1)
    for reduction in REDUCTIONS:
        assert gradcheck(lambda a: F.cross_entropy(a, t, weight=CLASS_WEIGHT, ignore_index=1, reduction=reduction,
                                                   label_smoothing=0.3), (x,))


def test_label_smoothing_with_nothing_to_average_is_torchs(torch, rng):
    """Every target ignored, or every kept one of weight 0: the mean is nan, as torch's, and the gradient is 0 on
    ignored rows and nan on the zero-weight ones (torch's 0/0)."""
    xd = rng.standard_normal((3, C))
    zero_weight = np.array([0.0, 0.0, 1.0, 1.0, 1.0])
    for t, weight in ((np.full(3, -100), None), (np.full(3, -100), zero_weight), (np.array([0, 1, -100]), zero_weight)):
        for reduction in REDUCTIONS:
            x, xt = Tensor(xd, requires_grad=True, dtype=F64), torch.tensor(xd, requires_grad=True)
            out = F.cross_entropy(x, t, weight=weight, reduction=reduction, label_smoothing=0.1)
            tout = torch.nn.functional.cross_entropy(xt, torch.from_numpy(t), reduction=reduction,
                                                     label_smoothing=0.1,
                                                     weight=None if weight is None else torch.tensor(weight))
            np.testing.assert_allclose(out.data, tout.detach().numpy(), rtol=1e-12, atol=1e-14)
            out.sum().backward()
            tout.sum().backward()
            np.testing.assert_allclose(x.grad, xt.grad.numpy(), rtol=1e-12, atol=1e-14)


SOFT_CASES = [(layout, reduction, weighted, eps) for layout in LAYOUTS for reduction in REDUCTIONS
              for weighted in (False, True) for eps in (0.0, 0.25)]


@pytest.mark.parametrize("case", SOFT_CASES, ids=["-".join(map(str, c)) for c in SOFT_CASES])
def test_probability_targets_match_torch(torch, rng, case):
    layout, reduction, weighted, eps = case
    xshape, _ = LAYOUTS[layout]
    axis = 1 if len(xshape) >= 2 else 0
    xd = rng.standard_normal(xshape) * 2
    td = rng.uniform(0, 1, xshape)
    td /= td.sum(axis=axis, keepdims=True)
    kw = dict(reduction=reduction, label_smoothing=eps)
    if weighted:
        kw["weight"] = CLASS_WEIGHT
    run_both(torch, F.cross_entropy, torch.nn.functional.cross_entropy, [xd, td], (0, 1), rng, **kw)


def test_probability_targets_float32_gradcheck_and_python_data(torch, rng):
    xd = rng.standard_normal((4, C)).astype(F32)
    td = rng.dirichlet(np.ones(C), 4).astype(F32)
    run_both(torch, F.cross_entropy, torch.nn.functional.cross_entropy, [xd, td], (0, 1), rng, label_smoothing=0.1)
    x = Tensor(rng.standard_normal((2, C, 3)), requires_grad=True, dtype=F64)
    t = Tensor(rng.uniform(0, 1, (2, C, 3)), requires_grad=True, dtype=F64)
    for reduction in REDUCTIONS:
        assert gradcheck(lambda a, b: F.cross_entropy(a, b, weight=CLASS_WEIGHT, reduction=reduction,
                                                      label_smoothing=0.2), (x, t))
    # a Python list of the input's shape is probabilities, in the input's dtype
    got = F.cross_entropy(Tensor(xd[:2]), td[:2].tolist())
    want = torch.nn.functional.cross_entropy(torch.tensor(xd[:2]), torch.tensor(td[:2]))
    assert got.dtype == F32
    np.testing.assert_allclose(got.item(), want.item(), rtol=1e-5)


def test_cross_entropy_errors_are_torchs(torch, rng):
    x, xt = Tensor(rng.standard_normal((3, C)), dtype=F64), torch.tensor(rng.standard_normal((3, C)))
    probs, probs_t = rng.uniform(0, 1, (3, C)), torch.tensor(rng.uniform(0, 1, (3, C)))
    cases = [
        (lambda: F.cross_entropy(x, [0, 1, 2], label_smoothing=1.5),
         lambda: torch.nn.functional.cross_entropy(xt, torch.tensor([0, 1, 2]), label_smoothing=1.5)),
        (lambda: F.cross_entropy(x, np.zeros((3, C), np.int64)),
         lambda: torch.nn.functional.cross_entropy(xt, torch.zeros(3, C, dtype=torch.long))),
        (lambda: F.cross_entropy(x, probs, ignore_index=1),
         lambda: torch.nn.functional.cross_entropy(xt, probs_t, ignore_index=1)),
        (lambda: F.cross_entropy(x, probs, weight=np.ones(3)),
         lambda: torch.nn.functional.cross_entropy(xt, probs_t, weight=torch.ones(3, dtype=torch.float64))),
        (lambda: F.cross_entropy(x, probs[:2]),
         lambda: torch.nn.functional.cross_entropy(xt, probs_t[:2])),
    ]
    for ours, theirs in cases:
        mine, ref = torch_error(ours), torch_error(theirs)
        assert type(mine) is type(ref), (mine, ref)
        expected = shapes_as_tuples(str(ref)).replace("cross_entropy: ", "")
        assert expected in str(mine), (str(mine), expected)
    with pytest.raises(RuntimeError, match=r"label_smoothing must be between 0.0 and 1.0. Got: -0.1"):
        F.cross_entropy(x, [0, 1, 2], label_smoothing=-0.1)       # torch ignores it silently; refused here
    with pytest.raises(TypeError, match="cross_entropy: expected target of dtype float64"):
        F.cross_entropy(x, probs.astype(F32))


# ---- Module forms -----------------------------------------------------------------------------------------------
def test_module_forms_match_torch(torch, rng):
    xd, td = rng.uniform(0.1, 0.9, (4, 3)), rng.uniform(0, 1, (4, 3))
    w, pw = np.array([1.0, 2.0, 0.5]), np.array([3.0, 1.0, 0.25])
    t_cls = np.array([0, 2, 1, 2])
    pairs = [
        (nn.L1Loss(reduction="sum"), torch.nn.L1Loss(reduction="sum"), td),
        (nn.SmoothL1Loss(beta=0.3), torch.nn.SmoothL1Loss(beta=0.3), td),
        (nn.MSELoss(), torch.nn.MSELoss(), td),
        (nn.BCELoss(weight=w), torch.nn.BCELoss(weight=torch.tensor(w)), td),
        (nn.BCEWithLogitsLoss(weight=w, pos_weight=pw),
         torch.nn.BCEWithLogitsLoss(weight=torch.tensor(w), pos_weight=torch.tensor(pw)), td),
        (nn.CrossEntropyLoss(weight=w, label_smoothing=0.2, reduction="none"),
         torch.nn.CrossEntropyLoss(weight=torch.tensor(w), label_smoothing=0.2, reduction="none"), t_cls),
        (nn.CrossEntropyLoss(label_smoothing=0.1), torch.nn.CrossEntropyLoss(label_smoothing=0.1), td),
        (nn.NLLLoss(weight=w, ignore_index=1), torch.nn.NLLLoss(weight=torch.tensor(w), ignore_index=1), t_cls),
    ]
    for ours, theirs, target in pairs:
        assert repr(ours) == repr(theirs)
        assert list(ours.state_dict()) == list(theirs.state_dict())        # weights are buffers, as torch's
        for k, v in theirs.state_dict().items():
            np.testing.assert_array_equal(ours.state_dict()[k], v.numpy())
        assert list(ours.parameters()) == []
        a = ours(Tensor(xd, dtype=F64), target)
        b = theirs(torch.tensor(xd), torch.tensor(target))
        np.testing.assert_allclose(a.data, b.numpy(), rtol=1e-12, atol=1e-14, err_msg=repr(ours))
    for cls in (nn.L1Loss, nn.SmoothL1Loss, nn.BCELoss, nn.BCEWithLogitsLoss):
        with pytest.raises(ValueError, match=rf"{cls.__name__}: None is not a valid value for reduction"):
            cls(reduction=None)
    # positional arguments in torch's order (weight, size_average, ignore_index, reduce, reduction)
    assert nn.CrossEntropyLoss(None, None, 3).ignore_index == torch.nn.CrossEntropyLoss(None, None, 3).ignore_index
    loss = nn.BCEWithLogitsLoss(pos_weight=pw).double()
    assert loss.pos_weight.dtype == F64
