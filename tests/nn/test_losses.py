"""mse_loss, nll_loss, cross_entropy and their Module forms: PyTorch parity (float64 to 1e-12) of values and
gradients for every layout and option, gradcheck, stability at ±1e4, float32, errors."""
import numpy as np
import pytest

from tinygrad_rnn import Tensor, gradcheck, nn
from tinygrad_rnn.nn.losses import cross_entropy, mse_loss, nll_loss

F64 = np.float64
TIGHT = dict(rtol=1e-12, atol=1e-12)
SMOKE = dict(rtol=1e-5, atol=1e-6)
C = 5
LAYOUTS = {  # name -> (input shape, target shape)
    "NC": ((6, C), (6,)),
    "NCT": ((3, C, 4), (3, 4)),
    "NCHW": ((2, C, 3, 2), (2, 3, 2)),
    "C": ((C,), ()),
}
CLASS_WEIGHT = np.array([0.5, 2.0, 1.0, 0.0, 3.0])      # a zero-weight class included
REDUCTIONS = ["mean", "sum", "none"]


def make_target(rng, shape, ignore_index=None):
    """Class indices of `shape`, every class present when there is room, some set to ignore_index."""
    t = rng.integers(0, C, size=shape)
    if t.size >= C:
        t.reshape(-1)[:C] = rng.permutation(C)
    if ignore_index is not None and t.size > 2:
        t.reshape(-1)[[1, -1]] = ignore_index
    return t


def run_both(torch, ours_fn, torch_fn, xd, t, rng, **kwargs):
    """Forward and backward (a random upstream gradient) on both; returns (ours, torch's) (value, input grad)."""
    x = Tensor(xd, requires_grad=True, dtype=xd.dtype)
    tx = torch.tensor(xd, requires_grad=True)
    twargs = dict(kwargs)
    if twargs.get("weight") is not None:
        twargs["weight"] = torch.tensor(np.asarray(twargs["weight"], dtype=xd.dtype))
    out = ours_fn(x, t, **kwargs)
    tout = torch_fn(tx, torch.from_numpy(np.asarray(t, dtype=np.int64)), **twargs)
    assert out.shape == tuple(tout.shape) and out.dtype == xd.dtype
    w = rng.standard_normal(out.shape).astype(xd.dtype)
    out.backward(w)
    tout.backward(torch.from_numpy(w))
    return (out.data, x.grad), (tout.detach().numpy(), tx.grad.numpy())


CASES = [(layout, reduction, weighted, ignore) for layout in LAYOUTS for reduction in REDUCTIONS
         for weighted in (False, True) for ignore in (None, -100, 2)]


def case_id(case):
    layout, reduction, weighted, ignore = case
    return f"{layout}-{reduction}-{'w' if weighted else 'nw'}-ign{ignore}"


@pytest.mark.parametrize("case", CASES, ids=[case_id(c) for c in CASES])
@pytest.mark.parametrize("loss", ["cross_entropy", "nll_loss"])
def test_classification_losses_match_torch(torch, rng, loss, case):
    layout, reduction, weighted, ignore = case
    in_shape, t_shape = LAYOUTS[layout]
    xd = 3 * rng.standard_normal(in_shape)
    if loss == "nll_loss":
        xd = xd - np.log(np.exp(xd).sum(axis=1 if xd.ndim > 1 else 0, keepdims=True))   # log-probabilities
    t = make_target(rng, t_shape, ignore)
    kwargs = dict(reduction=reduction)
    if weighted:
        kwargs["weight"] = CLASS_WEIGHT
    if ignore is not None:
        kwargs["ignore_index"] = ignore
    ours_fn = {"cross_entropy": cross_entropy, "nll_loss": nll_loss}[loss]
    torch_fn = getattr(torch.nn.functional, loss)
    (val, grad), (tval, tgrad) = run_both(torch, ours_fn, torch_fn, xd, t, rng, **kwargs)
    np.testing.assert_allclose(val, tval, **TIGHT)
    np.testing.assert_allclose(grad, tgrad, **TIGHT)


@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("shape", [(4, 3), (2, 3, 4), ()], ids=["2d", "3d", "scalar"])
def test_mse_loss_matches_torch(torch, rng, reduction, shape):
    xd, yd = rng.standard_normal(shape), rng.standard_normal(shape)
    x, y = Tensor(xd, requires_grad=True, dtype=F64), Tensor(yd, requires_grad=True, dtype=F64)
    tx, ty = torch.tensor(xd, requires_grad=True), torch.tensor(yd, requires_grad=True)
    out, tout = mse_loss(x, y, reduction=reduction), torch.nn.functional.mse_loss(tx, ty, reduction=reduction)
    np.testing.assert_allclose(out.data, tout.detach().numpy(), **TIGHT)
    w = rng.standard_normal(out.shape)
    out.backward(w)
    tout.backward(torch.from_numpy(w))
    np.testing.assert_allclose(x.grad, tx.grad.numpy(), **TIGHT)
    np.testing.assert_allclose(y.grad, ty.grad.numpy(), **TIGHT)         # the target may require grad too


def test_mse_loss_target_forms(rng):
    xd, yd = rng.standard_normal((3, 2)), rng.standard_normal((3, 2))
    x = Tensor(xd, requires_grad=True, dtype=F64)
    expected = ((xd - yd) ** 2).mean()
    for y in (yd, yd.tolist(), Tensor(yd, dtype=F64)):
        np.testing.assert_allclose(mse_loss(x, y).data, expected, rtol=1e-15)
    np.testing.assert_allclose(nn.MSELoss(reduction="sum")(x, yd).data, ((xd - yd) ** 2).sum(), rtol=1e-15)


def test_losses_float32_match_torch(torch, rng):
    xd = (3 * rng.standard_normal((4, C, 3))).astype(np.float32)
    t = make_target(rng, (4, 3), -100)
    for ours_fn, torch_fn in ((cross_entropy, torch.nn.functional.cross_entropy),
                              (nll_loss, torch.nn.functional.nll_loss)):
        for reduction in REDUCTIONS:
            (val, grad), (tval, tgrad) = run_both(torch, ours_fn, torch_fn, xd, t, rng, weight=CLASS_WEIGHT,
                                                  reduction=reduction)
            assert val.dtype == np.float32 and grad.dtype == np.float32
            np.testing.assert_allclose(val, tval, **SMOKE)
            np.testing.assert_allclose(grad, tgrad, **SMOKE)
    yd = rng.standard_normal((4, 3)).astype(np.float32)
    x = Tensor(yd[::-1].copy(), requires_grad=True)
    out = mse_loss(x, yd)
    assert out.dtype == np.float32
    np.testing.assert_allclose(out.data, torch.nn.functional.mse_loss(torch.tensor(x.data), torch.tensor(yd)).numpy(),
                               **SMOKE)


def test_cross_entropy_stable_for_huge_logits(torch, rng):
    xd = rng.choice([-1e4, 0.0, 1e4], size=(6, C)) + rng.standard_normal((6, C))
    xd[0] = [1e4, 1e4, -1e4, 1e4, -1e4]                 # ties at the top
    xd[1] = [-1e4] * C
    t = np.array([0, 1, 2, 3, 4, 2])                     # includes targets whose logit is 2e4 below the max
    for reduction in REDUCTIONS:
        with np.errstate(over="raise", invalid="raise", divide="raise"):
            (val, grad), (tval, tgrad) = run_both(torch, cross_entropy, torch.nn.functional.cross_entropy, xd, t,
                                                  rng, reduction=reduction)
        assert np.isfinite(val).all() and np.isfinite(grad).all()
        np.testing.assert_allclose(val, tval, **TIGHT)
        np.testing.assert_allclose(grad, tgrad, **TIGHT)
    x32 = Tensor(xd.astype(np.float32), requires_grad=True)
    loss = cross_entropy(x32, t)
    loss.backward()
    assert np.isfinite(loss.data) and np.isfinite(x32.grad).all()


@pytest.mark.parametrize("reduction", REDUCTIONS)
def test_gradcheck_cross_entropy(rng, reduction):
    x = Tensor(rng.standard_normal((3, C, 2)), requires_grad=True, dtype=F64)
    t = make_target(rng, (3, 2), -100)
    assert gradcheck(lambda x: cross_entropy(x, t, weight=CLASS_WEIGHT, reduction=reduction), (x,))
    x2 = Tensor(rng.standard_normal((4, C)), requires_grad=True, dtype=F64)
    assert gradcheck(lambda x: cross_entropy(x, [0, 4, 1, 1], ignore_index=1, reduction=reduction), (x2,))


@pytest.mark.parametrize("reduction", REDUCTIONS)
def test_gradcheck_nll_and_mse(rng, reduction):
    x = Tensor(rng.standard_normal((4, C)), requires_grad=True, dtype=F64)
    y = Tensor(rng.standard_normal((4, C)), requires_grad=True, dtype=F64)
    assert gradcheck(lambda x, y: mse_loss(x, y, reduction=reduction), (x, y))
    assert gradcheck(lambda x: nll_loss(x.log_softmax(1), [0, 2, 4, -100], weight=CLASS_WEIGHT,
                                        reduction=reduction), (x,))


def test_cross_entropy_equals_log_softmax_then_nll(rng):
    xd = rng.standard_normal((3, C, 4))
    t = make_target(rng, (3, 4), -100)
    x1, x2 = (Tensor(xd, requires_grad=True, dtype=F64) for _ in range(2))
    a = cross_entropy(x1, t, weight=CLASS_WEIGHT)
    b = nll_loss(x2.log_softmax(1), t, weight=CLASS_WEIGHT)
    np.testing.assert_allclose(a.data, b.data, rtol=1e-14)
    assert a.grad_fn.parents == (x1,)                    # one fused node
    a.backward(), b.backward()
    np.testing.assert_allclose(x1.grad, x2.grad, rtol=1e-12, atol=1e-15)


def test_all_targets_ignored(torch):
    x = Tensor(np.ones((3, C)), requires_grad=True, dtype=F64)
    t = [-100, -100, -100]
    with np.errstate(all="raise"):
        for fn in (cross_entropy, nll_loss):
            x.grad = None
            loss = fn(x, t)
            assert np.isnan(loss.data)                   # 0 / 0, as PyTorch
            loss.backward()
            assert not x.grad.any()                      # and no gradient, as PyTorch
            assert fn(x, t, reduction="sum").item() == 0
    tloss = torch.nn.functional.cross_entropy(torch.ones(3, C, dtype=torch.float64), torch.tensor(t))
    assert torch.isnan(tloss)


def test_target_forms_agree(rng):
    xd = rng.standard_normal((4, C))
    t = np.array([1, 0, 4, 2])
    ref = cross_entropy(Tensor(xd, dtype=F64), t).item()
    for target in (t.tolist(), t.astype(np.int32), t.astype(np.uint8), Tensor(t, dtype=F64), Tensor(t)):
        assert cross_entropy(Tensor(xd, dtype=F64), target).item() == ref
    ws = (CLASS_WEIGHT, CLASS_WEIGHT.tolist(), Tensor(CLASS_WEIGHT, dtype=F64), CLASS_WEIGHT.astype(np.float32))
    vals = [cross_entropy(Tensor(xd, dtype=F64), t, weight=w).item() for w in ws]
    assert vals[0] == vals[1] == vals[2] and abs(vals[3] - vals[0]) < 1e-12


@pytest.mark.parametrize("reduction", REDUCTIONS)
def test_module_forms(torch, rng, reduction):
    xd = rng.standard_normal((3, C, 2))
    t = make_target(rng, (3, 2), 0)
    x = Tensor(xd, dtype=F64)
    for module, fn in ((nn.CrossEntropyLoss(weight=CLASS_WEIGHT, ignore_index=0, reduction=reduction), cross_entropy),
                       (nn.NLLLoss(weight=CLASS_WEIGHT, ignore_index=0, reduction=reduction), nll_loss)):
        np.testing.assert_array_equal(module(x, t).data,
                                      fn(x, t, weight=CLASS_WEIGHT, ignore_index=0, reduction=reduction).data)
        assert list(module.parameters()) == []
    y = rng.standard_normal((3, C, 2))
    np.testing.assert_array_equal(nn.MSELoss(reduction=reduction)(x, y).data,
                                  mse_loss(x, y, reduction=reduction).data)
    for ours, theirs in ((nn.CrossEntropyLoss(), torch.nn.CrossEntropyLoss()), (nn.NLLLoss(), torch.nn.NLLLoss()),
                         (nn.MSELoss(), torch.nn.MSELoss())):
        assert repr(ours) == repr(theirs)


# ---- errors -----------------------------------------------------------------------------------------------------
@pytest.mark.parametrize("fn", [cross_entropy, nll_loss], ids=["cross_entropy", "nll_loss"])
def test_classification_errors(fn):
    name = fn.__name__
    x2 = Tensor(np.zeros((3, C)), dtype=F64)
    x3 = Tensor(np.zeros((2, C, 4)), dtype=F64)
    with pytest.raises(ValueError, match=rf"{name}: Expected input batch_size \(3\) to match target batch_size \(2\)"):
        fn(x2, [0, 1])
    with pytest.raises(ValueError, match=rf"{name}: Expected target size \(3,\), got \(3, 1\)"):
        fn(x2, [[0], [1], [2]])
    with pytest.raises(ValueError, match=r"Expected target size \(2, 4\), got \(2, 3\)"):
        fn(x3, np.zeros((2, 3), int))
    with pytest.raises(ValueError, match=r"Expected target size \(\), got \(1,\)"):
        fn(Tensor(np.zeros(C), dtype=F64), [1])
    with pytest.raises(ValueError, match=rf"{name}: Target 5 is out of bounds: expected a class index in \[0, 4\] "
                                         r"or ignore_index \(-100\)"):
        fn(x2, [0, 5, 1])
    with pytest.raises(ValueError, match=r"Target -1 is out of bounds"):
        fn(x2, [0, -1, 1])
    fn(x2, [0, -1, 1], ignore_index=-1)                  # fine when it is the ignore_index
    with pytest.raises(ValueError, match=rf"{name}: 'avg' is not a valid value for reduction: expected one of "
                                         r"'none', 'mean', 'sum'"):
        fn(x2, [0, 1, 2], reduction="avg")
    with pytest.raises(ValueError, match=r"weight tensor should be defined either for all 5 classes or no classes but "
                                         r"got weight tensor of shape: \(3,\)"):
        fn(x2, [0, 1, 2], weight=np.ones(3))
    with pytest.raises(TypeError, match=r"target to hold integers.*float64"):
        fn(x2, np.array([0.0, 1.0, 2.0]))
    with pytest.raises(ValueError, match=r"target to hold integer indices.*0.5"):
        fn(x2, Tensor([0.0, 0.5, 2.0]))
    with pytest.raises(TypeError, match="expected input to be a Tensor, but got ndarray"):
        fn(np.zeros((3, C)), [0, 1, 2])
    with pytest.raises(ValueError, match="0-D"):
        fn(Tensor(1.0), 0)


def test_mse_and_module_errors():
    x = Tensor(np.zeros((3, 1)), dtype=F64)
    with pytest.raises(ValueError, match=r"mse_loss: expected target of the input's size \(3, 1\), but got \(3,\)"):
        mse_loss(x, np.zeros(3))
    with pytest.raises(ValueError, match="mse_loss: 'elementwise' is not a valid value for reduction"):
        mse_loss(x, np.zeros((3, 1)), reduction="elementwise")
    with pytest.raises(TypeError, match="mse_loss: expected target of dtype float64.*float32"):
        mse_loss(x, np.zeros((3, 1), np.float32))
    with pytest.raises(TypeError, match="expected input to be a Tensor"):
        mse_loss(np.zeros(3), np.zeros(3))
    for cls in (nn.MSELoss, nn.CrossEntropyLoss, nn.NLLLoss):
        with pytest.raises(ValueError, match=rf"{cls.__name__}: None is not a valid value for reduction"):
            cls(reduction=None)
