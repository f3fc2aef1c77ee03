"""Module forward hooks and F.normalize / F.cosine_similarity, against torch (values, gradients, order)."""
import numpy as np
import pytest

import tinygrad_rnn as tg
from tinygrad_rnn import nn
from tinygrad_rnn.nn import functional as F


def _pair(torch, a, requires_grad=False):
    return tg.tensor(a, requires_grad=requires_grad), torch.tensor(a, requires_grad=requires_grad)


def test_forward_hooks_see_and_replace_inputs_and_outputs(torch):
    seen = {}
    for lib in (tg, torch):
        lib.manual_seed(0)
        lin = lib.nn.Linear(3, 2).double()
        with lib.no_grad():
            lin.weight.copy_(lib.tensor(np.arange(6.0).reshape(2, 3) / 10))
            lin.bias.copy_(lib.tensor([0.5, -0.5]))
        calls = []
        pre = lin.register_forward_pre_hook(lambda m, args: (args[0] * 2,))
        post = lin.register_forward_hook(lambda m, args, out: calls.append(tuple(out.shape)) or out + 1)
        x = lib.tensor(np.ones((4, 3)))
        hooked = lin(x)
        pre.remove()
        post.remove()
        plain = lin(x)
        seen[lib.__name__] = (np.asarray(hooked.detach().numpy()), np.asarray(plain.detach().numpy()), calls)
    (h1, p1, c1), (h2, p2, c2) = seen.values()
    np.testing.assert_allclose(h1, h2, rtol=1e-15)
    np.testing.assert_allclose(p1, p2, rtol=1e-15)
    assert c1 == c2 == [(4, 2)] and not np.allclose(h1, p1)


def test_hook_with_kwargs_and_prepend_order():
    class Scale(nn.Module):
        def forward(self, x, factor=1.0):
            return x * factor

    m, order = Scale(), []
    m.register_forward_hook(lambda mod, args, out: order.append("second"))
    m.register_forward_hook(lambda mod, args, out: order.append("first"), prepend=True)
    m.register_forward_pre_hook(lambda mod, args, kwargs: (args, {"factor": 3.0}), with_kwargs=True)
    assert m(tg.ones(1), factor=2.0).item() == 3.0 and order == ["first", "second"]
    with pytest.raises(TypeError, match="hook must be callable"):
        m.register_forward_hook(None)


@pytest.mark.parametrize("dim", [0, 1, -1])
def test_normalize_and_cosine_similarity_equal_torch_s(torch, dim):
    r = np.random.default_rng(4)
    a, b = r.standard_normal((4, 3)), r.standard_normal((4, 3))
    a[1] = 0                                           # a zero vector: eps keeps it finite, as in torch
    for ours_fn, torch_fn in [(lambda x, y: F.cosine_similarity(x, y, dim=dim),
                               lambda x, y: torch.nn.functional.cosine_similarity(x, y, dim=dim)),
                              (lambda x, y: F.normalize(x, dim=dim) * y,
                               lambda x, y: torch.nn.functional.normalize(x, dim=dim) * y)]:
        (x, tx), (y, ty) = _pair(torch, a, True), _pair(torch, b, True)
        o, t = ours_fn(x, y), torch_fn(tx, ty)
        np.testing.assert_allclose(o.detach().numpy(), t.detach().numpy(), rtol=1e-13, atol=1e-15)
        o.sum().backward()
        t.sum().backward()
        np.testing.assert_allclose(x.grad, tx.grad.numpy(), rtol=1e-12, atol=1e-15)
        np.testing.assert_allclose(y.grad, ty.grad.numpy(), rtol=1e-12, atol=1e-15)
