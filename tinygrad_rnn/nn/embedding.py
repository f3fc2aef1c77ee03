"""Embedding: a lookup table of rows, as one tape node whose gradient scatters back into the looked-up rows."""
from __future__ import annotations

import numbers

import numpy as np

from .. import rng
from ..backend import calls
from ..function import Function
from ..tensor import _FLOATS, Tensor, _check_device, _float_dtype
from .checks import check_size
from .module import Module, Parameter
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from typing import Any
    from .._typing import DTypeLike, DeviceLike


class EmbeddingLookup(Function):
    """weight[indices] → (*indices.shape, D); ∂weight[k] = Σ of g over the positions holding k (repeated indices
    accumulate, in order of position), zero for the padding row"""

    @staticmethod
    def forward(ctx: Any, weight: np.ndarray, indices: Any, padding_idx: int | None = None) -> Tensor:
        indices = np.array(indices, dtype=np.intp)   # our own copy: a caller refilling its index buffer before
        ctx.save_for_backward(weight.shape, indices, padding_idx)      # backward cannot move the gradient
        return weight[indices]

    @staticmethod
    def backward(ctx: Any, g: Any) -> Any:
        shape, indices, padding_idx = ctx.saved
        grad = np.zeros(shape, dtype=g.dtype)
        flat, rows = indices.reshape(-1), g.reshape(-1, shape[1])
        if flat.size and not calls.scatter_add_rows(grad, flat, rows):
            # without the kernel (np.add.at's adds in position order, 7 µs for a char-LM batch): the rows of each
            # index by a stable sort and one segmented sum (np.add.at itself took 0.4 ms, this 0.07; equal to
            # rounding: reduceat sums pairwise)
            order = np.argsort(flat, kind="stable")
            keys = flat[order]
            starts = np.flatnonzero(np.r_[True, keys[1:] != keys[:-1]])
            grad[keys[starts]] = np.add.reduceat(rows[order], starts, axis=0)
        if padding_idx is not None:
            grad[padding_idx] = 0
        return grad


def as_indices(owner: str, name: str, value: Any) -> Any:
    """An intp ndarray from an integer ndarray/list/number or a Tensor holding integer values."""
    if isinstance(value, Tensor):
        data = value.data
        if data.dtype.kind in "iu":                  # an integer tensor (tinygrad_rnn.int64): the indices
            return data.astype(np.intp, copy=False)
        if data.dtype.kind == "b":
            raise TypeError(f"{owner}: expected {name} to hold integer indices (an int64 or int32 Tensor, or a "
                            f"float Tensor of whole numbers), but got a bool Tensor")
        integral = np.isfinite(data) & (data == np.round(data))
        if not integral.all():
            bad = data[~integral][0].item()
            raise ValueError(f"{owner}: expected {name} to hold integer indices, but the Tensor holds {bad!r}")
        return data.astype(np.intp)
    if isinstance(value, bool) or not isinstance(value, (numbers.Integral, list, tuple, np.ndarray, np.generic)):
        raise TypeError(f"{owner}: expected {name} to be an integer ndarray, a list of ints or a Tensor holding "
                        f"integers, but got {type(value).__name__}")
    arr = np.asarray(value)
    if arr.size == 0 and arr.dtype.kind == "f":
        arr = arr.astype(np.intp)          # np.asarray([]) is float64
    if arr.dtype.kind not in "iu":
        raise TypeError(f"{owner}: expected {name} to hold integers (an integer dtype), but got dtype {arr.dtype}")
    return arr.astype(np.intp, copy=False)


def lookup(owner: str, input: Tensor, weight: Tensor, padding_idx: int | None = None) -> Tensor:
    """Checks `input` holds indices in [0, N) (IndexError naming the first bad one) and records the lookup."""
    indices = as_indices(owner, "input", input)
    n = weight.shape[0]
    if indices.size:
        lo, hi = int(indices.min()), int(indices.max())
        if lo < 0 or hi >= n:
            raise IndexError(f"{owner}: index {lo if lo < 0 else hi} is out of range: expected indices in "
                             f"[0, {n - 1}] (num_embeddings={n})")
    return EmbeddingLookup.apply(weight, indices=indices, padding_idx=padding_idx)


def _unsupported(owner: str, max_norm: float | None, scale_grad_by_freq: bool, sparse: bool) -> None:
    """torch's options this lookup does not implement: refused by name rather than ignored."""
    for name, value, default in (("max_norm", max_norm, None), ("scale_grad_by_freq", scale_grad_by_freq, False),
                                 ("sparse", sparse, False)):
        if value is not default and value != default:
            raise NotImplementedError(f"{owner}: {name}={value!r} is not supported here (only {name}={default!r})")


def embedding(input: Tensor, weight: Tensor, padding_idx: int | None = None, max_norm: float | None = None,
              norm_type: float = 2.0, scale_grad_by_freq: bool = False, sparse: bool = False) -> Tensor:
    """Rows of `weight` (N, D) picked by the integer `input` (any shape) → (*input.shape, D), one tape node; the
    padding_idx row gets no gradient (a negative one counts from the end)."""
    _unsupported("embedding", max_norm, scale_grad_by_freq, sparse)
    if padding_idx is not None and padding_idx < 0:
        padding_idx += weight.shape[0]
    return lookup("embedding", input, weight, padding_idx)


class Embedding(Module):
    """weight (num_embeddings, embedding_dim) ~ N(0, 1) as PyTorch; the padding_idx row starts at zero and gets no
    gradient. forward(input: integer indices of any shape) → (*input.shape, embedding_dim). torch's signature;
    `_weight` (a given table, copied) draws nothing from the generator."""

    def __init__(self, num_embeddings: int, embedding_dim: int, padding_idx: int | None = None,
                 max_norm: float | None = None, norm_type: float = 2.0, scale_grad_by_freq: bool = False,
                 sparse: bool = False, _weight: Any = None, _freeze: bool = False, device: DeviceLike = None,
                 dtype: DTypeLike = None) -> None:
        super().__init__()
        _unsupported("Embedding", max_norm, scale_grad_by_freq, sparse)
        if device is not None:
            _check_device(device)
        check_size("Embedding", "num_embeddings", num_embeddings)
        check_size("Embedding", "embedding_dim", embedding_dim)
        if padding_idx is not None:
            if (not isinstance(padding_idx, numbers.Integral) or isinstance(padding_idx, bool)
                    or not -num_embeddings <= padding_idx < num_embeddings):
                raise ValueError(f"Embedding: Padding_idx must be within num_embeddings: expected an integer in "
                                 f"[{-num_embeddings}, {num_embeddings - 1}], but got {padding_idx!r}")
            padding_idx = int(padding_idx) % num_embeddings
        self.num_embeddings, self.embedding_dim, self.padding_idx = num_embeddings, embedding_dim, padding_idx
        self.max_norm, self.norm_type, self.scale_grad_by_freq, self.sparse = max_norm, norm_type, False, False
        if _weight is None:
            weight = rng.generator.standard_normal((num_embeddings, embedding_dim)).astype(_float_dtype(dtype))
            if padding_idx is not None:
                weight[padding_idx] = 0
        else:
            weight = np.array(_weight.data if isinstance(_weight, Tensor) else _weight,
                              dtype=None if dtype is None else _float_dtype(dtype))
            if weight.shape != (num_embeddings, embedding_dim):
                raise ValueError(f"Embedding: Shape of weight does not match num_embeddings and embedding_dim: "
                                 f"expected {(num_embeddings, embedding_dim)}, but got {tuple(weight.shape)}")
        self.weight = Parameter(weight, requires_grad=not _freeze)

    @classmethod
    def from_pretrained(cls, embeddings: Tensor, freeze: bool = True, padding_idx: int | None = None,
                        max_norm: float | None = None, norm_type: float = 2.0, scale_grad_by_freq: bool = False,
                        sparse: bool = False) -> Any:
        """An Embedding whose weight is a copy of `embeddings` (N, D) (torch shares the tensor; a copy here, so
        training never writes into the caller's array), frozen (requires_grad=False) unless freeze=False; the
        padding_idx row keeps its values and gets no gradient, as torch's."""
        _unsupported("Embedding.from_pretrained", max_norm, scale_grad_by_freq, sparse)
        data = embeddings.data if isinstance(embeddings, Tensor) else np.asarray(embeddings)
        if data.ndim != 2:
            raise ValueError(f"Embeddings parameter is expected to be 2-dimensional, but got a {data.ndim}-D "
                             f"{type(embeddings).__name__} of shape {tuple(data.shape)}")
        if data.dtype.kind != "f":
            raise TypeError(f"Embedding.from_pretrained: expected float embeddings, but got dtype {data.dtype}")
        rows, cols = data.shape
        return cls(rows, cols, padding_idx=padding_idx, norm_type=norm_type, _weight=data, _freeze=freeze,
                   dtype=data.dtype if data.dtype in _FLOATS else np.float32)

    def forward(self, input: Tensor) -> Tensor:
        return lookup("Embedding", input, self.weight, self.padding_idx)

    def extra_repr(self) -> str:
        s = f"{self.num_embeddings}, {self.embedding_dim}"
        if self.padding_idx is not None:
            s += f", padding_idx={self.padding_idx}"
        return s
