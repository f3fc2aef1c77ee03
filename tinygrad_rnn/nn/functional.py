"""Stateless functions: linear, dropout, embedding and the losses (as torch.nn.functional)."""
import numbers

from .. import rng
from ..fused.linear import linear  # noqa: F401  (act(x @ Wᵀ + b) as one node; act= is this engine's extra)
from ..tensor import Tensor


def dropout(x, p=0.5, training=True):
    """x ⊙ m / (1 − p) with m ~ Bernoulli(1 − p) from the engine's generator (inverted dropout); x itself when
    not training or p = 0, and x·0 when p = 1 (1/(1 − p) would be 0/0 = nan), as PyTorch."""
    if isinstance(p, bool) or not isinstance(p, numbers.Real) or not 0 <= p <= 1:
        raise ValueError(f"dropout probability has to be between 0 and 1, but got {p!r}")
    if not training or p == 0:
        return x
    if p == 1:
        return x * 0.0
    keep = (rng.generator.random(x.shape) >= p).astype(x.dtype) / x.dtype.type(1 - p)
    return x * Tensor._make(keep, None)


from .embedding import embedding  # noqa: E402  (these modules import dropout's siblings lazily)
from .losses import cross_entropy, mse_loss, nll_loss  # noqa: E402
