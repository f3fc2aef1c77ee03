"""Reductions (sum, mean, max) and the softmaxes along a dim: forward on ndarrays, backward beside it."""
import numbers

import numpy as np

from ..function import Function


def _axes(ndim, dim):
    """A reduction's `dim` as NumPy's axis, by PyTorch's rules: None or () reduces every axis, and a 0-d tensor
    takes dim 0 or −1 (reducing it is the identity); an axis out of range raises PyTorch's IndexError."""
    if dim is None or dim == ():
        return None
    dims = dim if isinstance(dim, tuple) else (dim,)
    lo, hi = -max(ndim, 1), max(ndim, 1) - 1
    for d in dims:
        if isinstance(d, numbers.Integral) and not lo <= d <= hi:
            raise IndexError(f"Dimension out of range (expected to be in range of [{lo}, {hi}], but got {d})")
    return None if ndim == 0 else dim


def _reduced_size(shape, axis):
    """How many elements each output of a reduction over `axis` gathers (0 when an axis it reduces is empty)."""
    if axis is None:
        return int(np.prod(shape))
    return int(np.prod([shape[d] for d in (axis if isinstance(axis, tuple) else (axis,))]))


def _expand_reduced(g, dim, keepdim):
    """Puts back the axes a reduction removed, so g broadcasts against the input's shape."""
    if dim is not None and not keepdim:
        g = np.expand_dims(g, dim)
    return g


class Sum(Function):
    """Σ a over `dim` (all axes when None); ∂a = g broadcast back"""

    @staticmethod
    def forward(ctx, a, dim=None, keepdim=False):
        axis = _axes(a.ndim, dim)
        ctx.save_for_backward(a.shape, axis, keepdim)
        return a.sum(axis=axis, keepdims=keepdim)

    @staticmethod
    def backward(ctx, g):
        shape, dim, keepdim = ctx.saved
        return np.broadcast_to(_expand_reduced(g, dim, keepdim), shape)


class Mean(Function):
    """Σ a / n over `dim`; ∂a = g/n broadcast back. The mean of no elements is nan, as PyTorch (without NumPy's
    warning)."""

    @staticmethod
    def forward(ctx, a, dim=None, keepdim=False):
        axis = _axes(a.ndim, dim)
        n = _reduced_size(a.shape, axis)
        ctx.save_for_backward(a.shape, axis, keepdim, n)
        if n == 0:
            return np.full(np.sum(a, axis=axis, keepdims=keepdim).shape, np.nan, a.dtype)
        return a.mean(axis=axis, keepdims=keepdim)

    @staticmethod
    def backward(ctx, g):
        shape, dim, keepdim, n = ctx.saved
        if n == 0:                                           # the input is empty: so is its gradient
            return np.zeros(shape, g.dtype)
        return np.broadcast_to(_expand_reduced(g / n, dim, keepdim), shape)


class Max(Function):
    """max a over `dim` (min for name="amin"); ∂a = g shared equally among the elements that attain it (as
    torch.amax/amin)"""

    @staticmethod
    def forward(ctx, a, dim=None, keepdim=False, name="max"):
        axis = _axes(a.ndim, dim)
        if _reduced_size(a.shape, axis) == 0:                # PyTorch's errors, not NumPy's "no identity"
            if axis is None:
                raise RuntimeError(f"{name}(): Expected reduction dim to be specified for input.numel() == 0.")
            empty = next(d for d in (axis if isinstance(axis, tuple) else (axis,)) if a.shape[d] == 0)
            raise IndexError(f"{name}(): Expected reduction dim {empty} to have non-zero size.")
        out = a.min(axis=axis, keepdims=True) if name == "amin" else a.max(axis=axis, keepdims=True)
        if a.dtype.kind != "f":                              # integers carry no gradient: nothing to share
            return out if keepdim else (out.reshape(()) if axis is None else np.squeeze(out, axis=axis))
        hits = a == out
        ctx.save_for_backward(hits / hits.sum(axis=axis, keepdims=True).astype(a.dtype), axis, keepdim)
        return out if keepdim else (out.reshape(()) if axis is None else np.squeeze(out, axis=axis))

    @staticmethod
    def backward(ctx, g):
        share, dim, keepdim = ctx.saved
        return _expand_reduced(g, dim, keepdim) * share


class LogSoftmax(Function):
    """a − logΣexp(a) along `dim`, shifted by the max so nothing overflows; ∂a = g − softmax·Σg"""

    @staticmethod
    def forward(ctx, a, dim=-1):
        _axes(a.ndim, dim)                           # PyTorch's range check (a 0-d tensor takes dim 0 or −1)
        shifted = a - a.max(axis=dim, keepdims=True, initial=-np.inf)   # initial: a dim of size 0 has no max
        with np.errstate(divide="ignore"):            # log 0 only for a dim of size 0 (the output is empty)
            out = shifted - np.log(np.exp(shifted).sum(axis=dim, keepdims=True))
        ctx.save_for_backward(out, dim)
        return out

    @staticmethod
    def backward(ctx, g):
        out, dim = ctx.saved
        return g - np.exp(out) * g.sum(axis=dim, keepdims=True)


class Softmax(Function):
    """exp(a)/Σexp(a) along `dim`, shifted by the max; ∂a = y·(g − Σ g·y)"""

    @staticmethod
    def forward(ctx, a, dim=-1):
        _axes(a.ndim, dim)
        e = np.exp(a - a.max(axis=dim, keepdims=True, initial=-np.inf))
        out = e / e.sum(axis=dim, keepdims=True)
        ctx.save_for_backward(out, dim)
        return out

    @staticmethod
    def backward(ctx, g):
        y, dim = ctx.saved
        return y * (g - (g * y).sum(axis=dim, keepdims=True))
