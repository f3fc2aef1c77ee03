"""Stateless functions, as torch.nn.functional: activations, linear, dropout, layer_norm, embedding, one_hot, pad
and the losses. Most are one tape op defined beside the Module that uses it; this file gathers them."""
from __future__ import annotations

import numbers

import numpy as np

from .. import rng
from ..fused.linear import linear  # noqa: F401  (act(x @ Wᵀ + b) as one node; act= is this engine's extra)
from ..tensor import Tensor
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from typing import Any
    from .._typing import DTypeLike, DimArg


def dropout(input: Tensor, p: float = 0.5, training: bool = True, inplace: bool = False) -> Tensor:
    """x ⊙ m / (1 − p) with m ~ Bernoulli(1 − p) from the engine's generator (inverted dropout); x itself when
    not training or p = 0, and x·0 when p = 1 (1/(1 − p) would be 0/0 = nan), as PyTorch. inplace=True is
    computed out of place (the tape never overwrites an input)."""
    if isinstance(p, bool) or not isinstance(p, numbers.Real) or not 0 <= p <= 1:
        raise ValueError(f"dropout probability has to be between 0 and 1, but got {p!r}")
    if not training or p == 0:
        return input
    if p == 1:
        return input * 0.0
    keep = (rng.generator.random(input.shape) >= p).astype(input.dtype) / input.dtype.type(1 - p)
    return input * Tensor._make(keep, None)


# ---- activations (the Tensor methods, under torch.nn.functional's names) ---------------------------------------
def _tensor(owner: str, input: Any) -> Any:
    if not isinstance(input, Tensor):
        raise TypeError(f"{owner}(): argument 'input' (position 1) must be Tensor, not {type(input).__name__}")
    return input


def relu(input: Tensor, inplace: bool = False) -> Tensor:
    """max(0, x); inplace=True is computed out of place."""
    return _tensor("relu", input).relu()


def tanh(input: Tensor) -> Tensor:
    """tanh(x) elementwise; ∂x = g·(1 − tanh²x). Same shape."""
    return _tensor("tanh", input).tanh()


def sigmoid(input: Tensor) -> Tensor:
    """1 / (1 + e^(−x)), finite at ±1000."""
    return _tensor("sigmoid", input).sigmoid()


def _softmax_args(name: str, input: Any, dim: Any, dtype: Any, stacklevel: int) -> Any:
    input = _tensor(name, input)
    if dtype is not None:
        input = input.to(dtype)
    if dim is None:
        dim = _softmax_dim(name, input.ndim, stacklevel + 1)   # + 1: this helper
    return input, dim


def softmax(input: Tensor, dim: DimArg = None, _stacklevel: int = 3, dtype: DTypeLike = None) -> Tensor:
    """e^x / Σ e^x along `dim` (stable); dtype= casts the input first; no dim: torch's choice and warning."""
    input, dim = _softmax_args("softmax", input, dim, dtype, _stacklevel)
    return input.softmax(dim)


def log_softmax(input: Tensor, dim: DimArg = None, _stacklevel: int = 3, dtype: DTypeLike = None) -> Tensor:
    """x − log Σ e^x along `dim` (stable); dtype= casts the input first; no dim: torch's choice and warning."""
    input, dim = _softmax_args("log_softmax", input, dim, dtype, _stacklevel)
    return input.log_softmax(dim)


# ---- one_hot ----------------------------------------------------------------------------------------------------
def one_hot(tensor: Tensor, num_classes: int = -1) -> Tensor:
    """int64 (*tensor.shape, num_classes): 1 at each index, 0 elsewhere; num_classes=-1 takes max + 1. Off the
    tape (no gradient), as torch's."""
    if isinstance(num_classes, bool) or not isinstance(num_classes, numbers.Integral):
        raise TypeError(f"one_hot(): argument 'num_classes' must be int, not {type(num_classes).__name__}")
    indices = as_indices("one_hot", "tensor", tensor)
    if indices.size == 0:
        if num_classes <= 0:
            raise RuntimeError("Can not infer total number of classes from empty tensor.")
    else:
        if indices.min() < 0:
            raise RuntimeError("Class values must be non-negative.")
        if num_classes == -1:
            num_classes = int(indices.max()) + 1
        elif indices.max() >= num_classes:
            raise RuntimeError("Class values must be smaller than num_classes.")
    out = np.zeros(indices.shape + (num_classes,), dtype=np.int64)
    np.put_along_axis(out, indices[..., None], 1, axis=-1)
    return Tensor._make(out, None)


from .activation import _softmax_dim, gelu  # noqa: E402,F401  (modules below import dropout from here)
from .embedding import as_indices, embedding  # noqa: E402,F401
from .losses import (binary_cross_entropy, binary_cross_entropy_with_logits, cross_entropy,  # noqa: E402,F401
                     huber_loss, kl_div, l1_loss, mse_loss, nll_loss, smooth_l1_loss)
from .rectifiers import elu, leaky_relu, silu, softplus  # noqa: E402,F401
from .normalization import layer_norm  # noqa: E402,F401
from .padding import pad  # noqa: E402,F401
from .similarity import cosine_similarity, normalize  # noqa: E402,F401
