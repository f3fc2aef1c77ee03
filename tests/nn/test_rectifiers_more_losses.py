"""LeakyReLU, ELU, Softplus, SiLU, HuberLoss, KLDivLoss against torch (float64): values and gradients, at the
edges too (0, the softplus threshold, large inputs, zero targets)."""
import numpy as np
import pytest

import tinygrad_rnn as tg
from tinygrad_rnn import nn
from tinygrad_rnn.nn import functional as F

EDGES = np.array([-800.0, -30.0, -2.0, -1e-3, 0.0, 1e-3, 0.5, 2.0, 19.999, 20.0, 20.001, 40.0, 800.0])

ACTIVATIONS = [
    ("leaky_relu", dict()), ("leaky_relu", dict(negative_slope=0.2)), ("elu", dict()), ("elu", dict(alpha=0.5)),
    ("softplus", dict()), ("softplus", dict(beta=2.0, threshold=10.0)), ("silu", dict()),
]


@pytest.mark.parametrize("name,kwargs", ACTIVATIONS, ids=[f"{n}-{k}" for n, k in ACTIVATIONS])
def test_activation_values_and_gradients_equal_torch_s(torch, name, kwargs):
    x, tx = tg.tensor(EDGES, requires_grad=True), torch.tensor(EDGES, requires_grad=True)
    y, ty = getattr(F, name)(x, **kwargs), getattr(torch.nn.functional, name)(tx, **kwargs)
    np.testing.assert_allclose(y.detach().numpy(), ty.detach().numpy(), rtol=1e-14, atol=1e-300)
    g = np.linspace(-1, 1, EDGES.size)
    y.backward(tg.tensor(g))
    ty.backward(torch.tensor(g))
    np.testing.assert_allclose(x.grad, tx.grad.numpy(), rtol=1e-14, atol=1e-300)
    assert np.isfinite(x.grad).all()


def test_modules_match_their_functions_and_torch_s_repr(torch):
    x = tg.tensor(EDGES)
    for ours, theirs in [(nn.LeakyReLU(0.1), torch.nn.LeakyReLU(0.1)), (nn.ELU(0.5), torch.nn.ELU(0.5)),
                         (nn.Softplus(2.0, 5.0), torch.nn.Softplus(2.0, 5.0)), (nn.SiLU(), torch.nn.SiLU())]:
        np.testing.assert_allclose(ours(x).numpy(), theirs(torch.tensor(EDGES)).numpy(), rtol=1e-14, atol=1e-300)
        assert repr(ours) == repr(theirs)


@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
@pytest.mark.parametrize("delta", [1.0, 0.3, 2.5])
def test_huber_loss_equals_torch_s(torch, reduction, delta):
    r = np.random.default_rng(0)
    a, b = r.standard_normal((4, 5)) * 2, r.standard_normal((4, 5))
    x, tx = tg.tensor(a, requires_grad=True), torch.tensor(a, requires_grad=True)
    y, ty = tg.tensor(b, requires_grad=True), torch.tensor(b, requires_grad=True)
    out = nn.HuberLoss(reduction=reduction, delta=delta)(x, y)
    tout = torch.nn.HuberLoss(reduction=reduction, delta=delta)(tx, ty)
    np.testing.assert_allclose(out.detach().numpy(), tout.detach().numpy(), rtol=1e-14)
    out.sum().backward()
    tout.sum().backward()
    np.testing.assert_allclose(x.grad, tx.grad.numpy(), rtol=1e-14)
    np.testing.assert_allclose(y.grad, ty.grad.numpy(), rtol=1e-14)
    with pytest.raises(RuntimeError, match="huber_loss does not support non-positive values for delta"):
        F.huber_loss(x, y, delta=0.0)


@pytest.mark.parametrize("reduction", ["batchmean", "sum", "none", "mean"])
@pytest.mark.parametrize("log_target", [False, True])
def test_kl_div_equals_torch_s_with_zero_targets(torch, reduction, log_target):
    r = np.random.default_rng(1)
    logits = r.standard_normal((3, 4))
    log_p = logits - np.log(np.exp(logits).sum(1, keepdims=True))
    q = np.exp(r.standard_normal((3, 4)))
    q[0, 1] = 0.0                                       # a zero probability: contributes 0, as torch's xlogy
    q /= q.sum(1, keepdims=True)
    t = np.log(q + 1e-300) if log_target else q
    x, tx = tg.tensor(log_p, requires_grad=True), torch.tensor(log_p, requires_grad=True)
    with np.errstate(all="raise"):
        if reduction == "mean":
            with pytest.warns(UserWarning, match="'batchmean' divides only by the batch size"):
                out = F.kl_div(x, tg.tensor(t), reduction=reduction, log_target=log_target)
        else:
            out = nn.KLDivLoss(reduction=reduction, log_target=log_target)(x, tg.tensor(t))
    import warnings
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        tout = torch.nn.functional.kl_div(tx, torch.tensor(t), reduction=reduction, log_target=log_target)
    np.testing.assert_allclose(out.detach().numpy(), tout.detach().numpy(), rtol=1e-13, atol=1e-15)
    out.sum().backward()
    tout.sum().backward()
    np.testing.assert_allclose(x.grad, tx.grad.numpy(), rtol=1e-13, atol=1e-15)
