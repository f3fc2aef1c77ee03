"""Stateless functions: linear, dropout, embedding and the losses (as torch.nn.functional)."""
from .. import rng
from ..fused.linear import linear  # noqa: F401  (act(x @ Wᵀ + b) as one node; act= is this engine's extra)
from ..tensor import Tensor


def dropout(x, p):
    """x ⊙ m / (1 − p) with m ~ Bernoulli(1 − p) from the engine's generator (inverted dropout)."""
    keep = (rng.generator.random(x.shape) >= p).astype(x.dtype) / x.dtype.type(1 - p)
    return x * Tensor._make(keep, None)


from .embedding import embedding  # noqa: E402  (these modules import dropout's siblings lazily)
from .losses import cross_entropy, mse_loss, nll_loss  # noqa: E402
