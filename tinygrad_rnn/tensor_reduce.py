"""Tensor's reductions (sum, mean, prod, var, std, norm, logsumexp, max/min with PyTorch's return types, arg-
reductions), running sums, sorting and softmaxes (a mixin of Tensor)."""
from __future__ import annotations

import builtins
import collections
import numbers

import numpy as np

from . import ops
from .dtypes import TORCH_NAMES, _dtype
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from typing import Any
    from ._typing import DTypeLike, DeviceLike, DimArg
    from .function import Function
    from .tensor import Tensor


def _dims(dim: Any) -> Any:
    """A reduction's dim as NumPy takes it: None, an int, or a tuple (PyTorch also takes a list)."""
    return tuple(dim) if isinstance(dim, list) else dim


def _dim(dim: Any, axis: Any, op: Any) -> Any:
    """`dim`, or `axis`, NumPy's name for it, which PyTorch accepts as an alias (not both)."""
    if axis is not None:
        if dim is not None:
            raise TypeError(f"{op}() got multiple values for argument 'dim' (axis is its alias)")
        dim = axis
    return _dims(dim)


def _one_dim(dim: Any, op: Any) -> Any:
    """PyTorch's TypeError for a tuple where one dim is expected (prod, cumsum, sort, topk)."""
    if not isinstance(dim, numbers.Integral) or isinstance(dim, bool):
        raise TypeError(f"{op}(): argument 'dim' must be int, not {type(dim).__name__}")
    return dim


def _summable(t: Any, dtype: Any) -> Any:
    """The tensor a sum-like reduction runs on: converted to `dtype` first (on the tape between floats, as
    PyTorch's dtype=), integer and bool tensors to int64 (PyTorch's sums of them are int64)."""
    if dtype is not None:
        return t.to(_dtype(dtype))
    return t.long() if t.data.dtype.kind in "biu" and t.data.dtype != np.int64 else t


def _float_input(t: Any, op: Any) -> Any:
    if t.data.dtype.kind != "f":
        raise RuntimeError(f"{op}(): could not infer output dtype. Input dtype must be either a floating point or "
                           f"complex dtype. Got: {TORCH_NAMES[t.data.dtype]}")
    return t


def _correction(op: Any, dim: Any, unbiased: bool | None, correction: float | None) -> Any:
    """var/std's arguments as PyTorch reads them: var(True) is unbiased, not dim; unbiased=False is correction 0."""
    if isinstance(dim, bool):
        dim, unbiased = None, dim
    if unbiased is not None and correction is not None:
        raise TypeError(f"{op}(): pass unbiased= or correction=, not both (unbiased=True is correction=1, "
                        f"unbiased=False is correction=0)")
    if correction is None:
        correction = 0 if unbiased is False else 1
    return dim, correction


# torch.return_types.max / .min / .sort / .topk: a named (values, indices) pair
max_return = collections.namedtuple("max", ["values", "indices"])  # type: ignore[name-match]  # torch's repr names
min_return = collections.namedtuple("min", ["values", "indices"])  # type: ignore[name-match]  # torch's repr names
sort_return = collections.namedtuple("sort", ["values", "indices"])  # type: ignore[name-match]  # torch's repr names
topk_return = collections.namedtuple("topk", ["values", "indices"])  # type: ignore[name-match]  # torch's repr names


def _max_min(t: Any, name: str, dim: Any, keepdim: bool) -> Any:
    """torch.max/min: over everything a 0-d tensor (as amax/amin); along `dim` the pair (values, indices), the
    gradient going to the returned index (PyTorch's rule; amax/amin share it among ties); with a tensor in place
    of dim, the elementwise maximum/minimum."""
    if isinstance(dim, ReduceMethods):
        return t.maximum(dim) if name == "max" else t.minimum(dim)
    if dim is None:
        if t.data.size == 0:
            raise RuntimeError(f"{name}(): Expected reduction dim to be specified for input.numel() == 0. Specify "
                               f"the reduction dim with the 'dim' argument.")
        return ops.Max.apply(t, dim=None, keepdim=False, name="amin" if name == "min" else "max")
    if not isinstance(dim, numbers.Integral):
        raise TypeError(f"{name}(): argument 'dim' must be int, not {type(dim).__name__}")
    a = t.data
    ops._axes(a.ndim, dim)
    if a.ndim == 0:
        return (max_return if name == "max" else min_return)(t * 1 if t.requires_grad else t,
                                                              t._make(np.zeros((), np.int64), None))
    if a.shape[dim] == 0:
        raise IndexError(f"{name}(): Expected reduction dim {dim % a.ndim} to have non-zero size.")
    idx = (np.argmax if name == "max" else np.argmin)(a, axis=dim, keepdims=True)
    values = ops.TakeAlong.apply(t, index=idx, dim=dim, keepdim=keepdim)
    indices = t._make((idx if keepdim else np.squeeze(idx, axis=dim)).astype(np.int64), None)
    return (max_return if name == "max" else min_return)(values, indices)


def _arg_reduce(t: Any, name: str, dim: Any, keepdim: bool) -> Any:
    """argmax/argmin as PyTorch: int64, off the tape; the first index among ties; its errors for empty input."""
    a = t.data
    if dim is None:
        if a.size == 0:
            raise IndexError(f"{name}(): Expected reduction dim to be specified for input.numel() == 0.")
        out = np.asarray(getattr(np, name)(a))
        return t._make((out.reshape((1,) * a.ndim) if keepdim else out).astype(np.int64), None)
    ops._axes(a.ndim, dim)
    if a.ndim == 0:
        return t._make(np.zeros((), np.int64), None)
    if a.shape[dim] == 0:
        raise IndexError(f"{name}(): Expected reduction dim {dim % a.ndim} to have non-zero size.")
    return t._make(getattr(np, name)(a, axis=dim, keepdims=keepdim).astype(np.int64), None)


def _ordered(t: Any, dim: Any, descending: bool, op: Any) -> Any:
    """(values, indices) of t sorted along `dim`: the values gathered by index, so the gradient goes back to it."""
    dim = _one_dim(dim, op)
    ops._axes(t.data.ndim, dim, op)
    if t.data.ndim == 0:
        return (t * 1 if t.requires_grad else t), t._make(np.zeros((), np.int64), None)
    idx = ops.sort_indices(t.data, dim, descending)
    return ops.TakeAlong.apply(t, index=idx, dim=dim, keepdim=True), t._make(idx.astype(np.int64), None)


class ReduceMethods:
    __slots__ = ()
    if TYPE_CHECKING:  # what these methods use of Tensor (which defines each), declared for mypy
        data: np.ndarray
        @staticmethod
        def _make(data: Any, ctx: Function | None, idx: int = 0) -> Tensor: ...
        def float(self) -> Tensor: ...
        def to(self, *args: Any, dtype: DTypeLike = None, device: DeviceLike = None, copy: bool = False) -> Tensor: ...

    def sum(self, dim: DimArg = None, keepdim: bool = False, *, dtype: DTypeLike = None, axis: DimArg = None) -> Tensor:
        """Σ over `dim` (every dim when None); integer and bool tensors sum to int64, `dtype` converts first."""
        out = ops.Sum.apply(_summable(self, dtype), dim=_dim(dim, axis, "sum"), keepdim=keepdim)
        return out.bool() if dtype is not None and _dtype(dtype).kind == "b" else out

    def mean(self, dim: DimArg = None, keepdim: bool = False, *, dtype: DTypeLike = None, axis: DimArg = None
    ) -> Tensor:
        """Σ / n over `dim`; floats only (or a float `dtype` to convert to first), as PyTorch."""
        if dtype is not None:
            dt = _dtype(dtype)
            if dt.kind != "f":
                raise RuntimeError(f"mean(): could not infer output dtype. Optional dtype must be either a floating "
                                   f"point or complex dtype. Got: {TORCH_NAMES[dt]}")
            return ops.Mean.apply(self.to(dt), dim=_dim(dim, axis, "mean"), keepdim=keepdim)
        return ops.Mean.apply(_float_input(self, "mean"), dim=_dim(dim, axis, "mean"), keepdim=keepdim)

    def prod(self, dim: DimArg = None, keepdim: bool = False, *, dtype: DTypeLike = None, axis: DimArg = None
    ) -> Tensor:
        """Π over one `dim` (every element when None); integer and bool tensors give int64. The gradient at a zero
        is the product of the others, as in PyTorch (no division, no nan)."""
        dim = _dim(dim, axis, "prod")
        if dim is not None:
            _one_dim(dim, "prod")
        return ops.Prod.apply(_summable(self, dtype), dim=dim, keepdim=keepdim)

    def cumsum(self, dim: DimArg = None, *, dtype: DTypeLike = None, axis: DimArg = None) -> Tensor:
        """The running sums along `dim`; integer and bool tensors give int64, as PyTorch."""
        dim = _dim(dim, axis, "cumsum")
        if dim is None:
            raise TypeError('cumsum() missing 1 required positional arguments: "dim"')
        if dtype is not None and _dtype(dtype).kind == "b":
            raise NotImplementedError("\"cumsum_out_cpu\" not implemented for 'Bool'")
        return ops.CumSum.apply(_summable(self, dtype), dim=_one_dim(dim, "cumsum"))

    def var(self, dim: DimArg = None, unbiased: bool | None = None, keepdim: bool = False, *,
            correction: builtins.float | None = None, axis: DimArg = None) -> Tensor:
        """Σ(x − mean)² / (n − correction) over `dim`; correction 1 (unbiased) by default. When n − correction
        ≤ 0 the result is inf (nan where all deviations are 0), with PyTorch's warning."""
        dim, correction = _correction("var", _dim(dim, axis, "var"), unbiased, correction)
        return ops.Var.apply(_variance_input(self), dim=dim, correction=correction, keepdim=keepdim)

    def std(self, dim: DimArg = None, unbiased: bool | None = None, keepdim: bool = False, *,
            correction: builtins.float | None = None, axis: DimArg = None) -> Tensor:
        """√var over `dim` (see var); the gradient where std = 0 is 0, as in PyTorch."""
        dim, correction = _correction("std", _dim(dim, axis, "std"), unbiased, correction)
        return ops.Std.apply(_variance_input(self), dim=dim, correction=correction, keepdim=keepdim)

    def norm(self, p: Any = "fro", dim: DimArg = None, keepdim: bool = False, dtype: DTypeLike = None) -> Tensor:
        """The p-norm over `dim` (every element when None): p a number, inf, -inf, 0 (the count of nonzeros), or
        'fro' (the 2-norm, over at most two dims). The gradient at a zero norm is 0, as in PyTorch."""
        dim = _dims(dim)
        if self.data.dtype.kind != "f":
            raise RuntimeError(f"linalg.vector_norm: Expected a floating point or complex tensor as input. Got "
                               f"{TORCH_NAMES[self.data.dtype]}")
        t = self
        if dtype is not None:
            dt = _dtype(dtype)
            if dt.kind != "f":
                raise RuntimeError(f"linalg.vector_norm: dtype should be floating point or complex, but got "
                                   f"{TORCH_NAMES[dt]}")
            t = self.to(dt)
        if p is None or p == "fro":
            if isinstance(dim, tuple) and len(dim) > 2:
                raise RuntimeError(f"linalg.matrix_norm: dim must be a 2-tuple. Got {' '.join(map(str, dim))}")
            p = 2.0
        elif p == "nuc":
            raise NotImplementedError("norm(p='nuc'): the nuclear norm (the sum of singular values) is not "
                                      "implemented here; p='fro' and numbers are")
        elif isinstance(p, str):
            raise RuntimeError(f"linalg.matrix_norm: Order {p} not supported.")
        elif not isinstance(p, numbers.Real):
            raise TypeError(f"linalg_vector_norm(): argument 'ord' (position 2) must be Number, not "
                            f"{type(p).__name__}")
        return ops.Norm.apply(t, p=float(p), dim=dim, keepdim=keepdim)

    def logsumexp(self, dim: DimArg = None, keepdim: bool = False, *, axis: DimArg = None) -> Tensor:
        """log Σ exp over `dim`, stable (shifted by the max); a row of -inf gives -inf. Integers as float32."""
        dim = _dim(dim, axis, "logsumexp")
        if dim is None:
            raise TypeError('logsumexp() missing 1 required positional arguments: "dim"')
        t = self if self.data.dtype.kind == "f" else self.float()
        return ops.LogSumExp.apply(t, dim=dim, keepdim=keepdim)

    def max(self, dim: DimArg = None, keepdim: bool = False) -> Tensor:
        """As torch.max: max() is a 0-d tensor (ties share the gradient); max(dim, keepdim) is the named pair
        (values, indices), indices int64 (the first maximum), the gradient going to that index only. amax is the
        values-only form whose gradient ties share. max(other) with a tensor is maximum(other)."""
        return _max_min(self, "max", dim, keepdim)

    def min(self, dim: DimArg = None, keepdim: bool = False) -> Tensor:
        """As torch.min: min() is a 0-d tensor (ties share the gradient); min(dim, keepdim) is the named pair
        (values, indices), indices int64 (the first minimum), the gradient going to that index only. min(other)
        with a tensor is minimum(other)."""
        return _max_min(self, "min", dim, keepdim)

    def amax(self, dim: DimArg = (), keepdim: bool = False, *, axis: DimArg = None) -> Tensor:
        """max over `dim` (every dim by default), values only; the gradient is shared equally among tied maxima,
        as torch.amax."""
        dim = _dims(dim) if axis is None else _dim(None if dim == () else dim, axis, "amax")
        return ops.Max.apply(self, dim=dim, keepdim=keepdim, name="amax")

    def amin(self, dim: DimArg = (), keepdim: bool = False, *, axis: DimArg = None) -> Tensor:
        """min over `dim`, values only; ties share the gradient, as torch.amin."""
        dim = _dims(dim) if axis is None else _dim(None if dim == () else dim, axis, "amin")
        return ops.Max.apply(self, dim=dim, keepdim=keepdim, name="amin")

    def argmax(self, dim: DimArg = None, keepdim: bool = False, *, axis: DimArg = None) -> Tensor:
        """The index (int64) of the first maximum along `dim`, or in the flattened tensor when dim is None."""
        return _arg_reduce(self, "argmax", _dim(dim, axis, "argmax"), keepdim)

    def argmin(self, dim: DimArg = None, keepdim: bool = False, *, axis: DimArg = None) -> Tensor:
        """The index (int64) of the first minimum along `dim`, or in the flattened tensor when dim is None."""
        return _arg_reduce(self, "argmin", _dim(dim, axis, "argmin"), keepdim)

    def sort(self, dim: DimArg = -1, descending: bool = False, *, stable: bool = False, axis: DimArg = None) -> Any:
        """The named pair (values, indices) sorted along `dim`; ties keep their order (every sort here is stable,
        which stable=False allows) and nan sorts as the largest value. The gradient goes back to the index."""
        return sort_return(*_ordered(self, axis if axis is not None else dim, descending, "sort"))

    def argsort(self, dim: DimArg = -1, descending: bool = False, *, stable: bool = False, axis: DimArg = None
    ) -> Tensor:
        """The indices (int64) that sort along `dim` (see sort)."""
        dim = axis if axis is not None else dim
        _one_dim(dim, "argsort")
        ops._axes(self.data.ndim, dim, "argsort")
        if self.data.ndim == 0:
            return self._make(np.zeros((), np.int64), None)
        return self._make(ops.sort_indices(self.data, dim, descending).astype(np.int64), None)

    def topk(self, k: int, dim: DimArg = -1, largest: bool = True, sorted: bool = True, *, axis: DimArg = None
    ) -> Tensor:
        """The named pair (values, indices) of the k largest (smallest: largest=False) along `dim`, always in sorted
        order (which sorted=False allows); the gradient goes back to the index."""
        if not isinstance(k, numbers.Integral) or isinstance(k, bool):
            raise TypeError(f"topk(): argument 'k' (position 1) must be int, not {type(k).__name__}")
        if self.data.dtype.kind == "b":
            raise RuntimeError("topk does not support bool dtypes on CPU")
        dim = _one_dim(axis if axis is not None else dim, "topk")
        ops._axes(self.data.ndim, dim, "topk")
        if not 0 <= k <= (self.data.shape[dim] if self.data.ndim else 1):
            raise RuntimeError("selected index k out of range")
        if self.data.ndim == 0:
            return topk_return(*_ordered(self, dim, largest, "topk"))
        idx = ops.topk_indices(self.data, k, dim, largest)
        return topk_return(ops.TakeAlong.apply(self, index=idx, dim=dim, keepdim=True),
                           self._make(idx.astype(np.int64), None))

    def log_softmax(self, dim: DimArg = -1) -> Tensor:
        """x − log Σ eˣ along `dim`, computed stably (max subtracted first). Same shape."""
        if self.data.dtype.kind != "f":
            return ops.LogSoftmax.apply(self.float(), dim=dim)
        return ops.LogSoftmax.apply(self, dim=dim)

    def softmax(self, dim: DimArg = -1) -> Tensor:
        """eˣ / Σ eˣ along `dim`, computed stably (max subtracted first). Same shape."""
        if self.data.dtype.kind != "f":
            return ops.Softmax.apply(self.float(), dim=dim)
        return ops.Softmax.apply(self, dim=dim)


def _variance_input(t: Any) -> Any:
    if t.data.dtype.kind != "f":
        raise RuntimeError("std and var only support floating point and complex dtypes")
    return t
