"""Tensor's reductions (sum, mean, max/min with PyTorch's return types, arg-reductions) and softmaxes (a mixin of
Tensor)."""
import collections
import numbers

import numpy as np

from . import ops
from .dtypes import TORCH_NAMES


def _dims(dim):
    """A reduction's dim as NumPy takes it: None, an int, or a tuple (PyTorch also takes a list)."""
    return tuple(dim) if isinstance(dim, list) else dim


# torch.return_types.max / .min: a named (values, indices) pair
max_return = collections.namedtuple("max", ["values", "indices"])
min_return = collections.namedtuple("min", ["values", "indices"])


def _max_min(t, name, dim, keepdim):
    """torch.max/min: over everything a 0-d tensor (as amax/amin); along `dim` the pair (values, indices), the
    gradient going to the returned index (PyTorch's rule; amax/amin share it among ties)."""
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


def _arg_reduce(t, name, dim, keepdim):
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


class ReduceMethods:
    __slots__ = ()

    def sum(self, dim=None, keepdim=False):
        return ops.Sum.apply(self, dim=_dims(dim), keepdim=keepdim)

    def mean(self, dim=None, keepdim=False):
        if self.data.dtype.kind != "f":
            raise RuntimeError(f"mean(): could not infer output dtype. Input dtype must be either a floating point "
                               f"or complex dtype. Got: {TORCH_NAMES[self.data.dtype]}")
        return ops.Mean.apply(self, dim=_dims(dim), keepdim=keepdim)

    def max(self, dim=None, keepdim=False):
        """As torch.max: max() is a 0-d tensor (ties share the gradient); max(dim, keepdim) is the named pair
        (values, indices), indices int64 (the first maximum), the gradient going to that index only. amax is the
        values-only form whose gradient ties share."""
        return _max_min(self, "max", dim, keepdim)

    def min(self, dim=None, keepdim=False):
        """As torch.min: min() is a 0-d tensor (ties share the gradient); min(dim, keepdim) is the named pair
        (values, indices), indices int64 (the first minimum), the gradient going to that index only."""
        return _max_min(self, "min", dim, keepdim)

    def amax(self, dim=(), keepdim=False):
        """max over `dim` (every dim by default), values only; the gradient is shared equally among tied maxima,
        as torch.amax."""
        return ops.Max.apply(self, dim=_dims(dim), keepdim=keepdim, name="amax")

    def amin(self, dim=(), keepdim=False):
        """min over `dim`, values only; ties share the gradient, as torch.amin."""
        return ops.Max.apply(self, dim=_dims(dim), keepdim=keepdim, name="amin")

    def argmax(self, dim=None, keepdim=False):
        """The index (int64) of the first maximum along `dim`, or in the flattened tensor when dim is None."""
        return _arg_reduce(self, "argmax", dim, keepdim)

    def argmin(self, dim=None, keepdim=False):
        """The index (int64) of the first minimum along `dim`, or in the flattened tensor when dim is None."""
        return _arg_reduce(self, "argmin", dim, keepdim)

    def log_softmax(self, dim=-1):
        if self.data.dtype.kind != "f":
            return ops.LogSoftmax.apply(self.float(), dim=dim)
        return ops.LogSoftmax.apply(self, dim=dim)

    def softmax(self, dim=-1):
        if self.data.dtype.kind != "f":
            return ops.Softmax.apply(self.float(), dim=dim)
        return ops.Softmax.apply(self, dim=dim)
