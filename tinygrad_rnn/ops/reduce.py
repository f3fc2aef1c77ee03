"""Reductions (sum, mean, max, prod, logsumexp), running sums and the softmaxes along a dim: forward on ndarrays,
backward beside it. Var, std and norm are in norms.py."""
from __future__ import annotations

import numbers

import numpy as np

from ..function import Function
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from typing import Any
    from .._typing import Grads


def _axes(ndim: int, dim: Any, op: Any = "reduction") -> Any:
    """A reduction's `dim` as NumPy's axis, by PyTorch's rules: None or () reduces every axis, and a 0-d tensor
    takes dim 0 or −1 (reducing it is the identity); an axis out of range raises PyTorch's IndexError, one named
    twice its RuntimeError, one that is not an int a TypeError naming `op`."""
    if dim is None or dim == ():
        return None
    dims = dim if isinstance(dim, tuple) else (dim,)
    lo, hi = -max(ndim, 1), max(ndim, 1) - 1
    for d in dims:
        if not isinstance(d, numbers.Integral):
            raise TypeError(f"{op}(): argument 'dim' must be int or tuple of ints, but got {type(d).__name__}")
        if not lo <= d <= hi:  # type: ignore[operator]  # numbers.Integral/Real declare no ordering to mypy
            raise IndexError(f"Dimension out of range (expected to be in range of [{lo}, {hi}], but got {d})")
    if len(dims) > 1:
        seen = [d % max(ndim, 1) for d in dims]
        for d in seen:
            if seen.count(d) > 1:
                raise RuntimeError(f"dim {d} appears multiple times in the list of dims")
    return None if ndim == 0 else dim


def _reduced_size(shape: Any, axis: Any) -> Any:
    """How many elements each output of a reduction over `axis` gathers (0 when an axis it reduces is empty)."""
    if axis is None:
        return int(np.prod(shape))
    return int(np.prod([shape[d] for d in (axis if isinstance(axis, tuple) else (axis,))]))


def _expand_reduced(g: Any, dim: Any, keepdim: bool) -> Any:
    """Puts back the axes a reduction removed, so g broadcasts against the input's shape."""
    if dim is not None and not keepdim:
        g = np.expand_dims(g, dim)
    return g


class Sum(Function):
    """Σ a over `dim` (all axes when None); ∂a = g broadcast back"""

    @staticmethod
    def forward(ctx: Function, a: np.ndarray, dim: Any = None, keepdim: bool = False) -> Any:
        axis = _axes(a.ndim, dim)
        ctx.save_for_backward(a.shape, axis, keepdim)
        return a.sum(axis=axis, keepdims=keepdim)

    @staticmethod
    def backward(ctx: Function, g: np.ndarray) -> Grads:
        shape, dim, keepdim = ctx.saved
        return np.broadcast_to(_expand_reduced(g, dim, keepdim), shape)


class Mean(Function):
    """Σ a / n over `dim`; ∂a = g/n broadcast back. The mean of no elements is nan, as PyTorch (without NumPy's
    warning)."""

    @staticmethod
    def forward(ctx: Function, a: np.ndarray, dim: Any = None, keepdim: bool = False) -> Any:
        axis = _axes(a.ndim, dim)
        n = _reduced_size(a.shape, axis)
        ctx.save_for_backward(a.shape, axis, keepdim, n)
        if n == 0:
            return np.full(np.sum(a, axis=axis, keepdims=keepdim).shape, np.nan, a.dtype)
        return a.mean(axis=axis, keepdims=keepdim)

    @staticmethod
    def backward(ctx: Function, g: np.ndarray) -> Grads:
        shape, dim, keepdim, n = ctx.saved
        if n == 0:                                           # the input is empty: so is its gradient
            return np.zeros(shape, g.dtype)
        return np.broadcast_to(_expand_reduced(g / n, dim, keepdim), shape)


class Max(Function):
    """max a over `dim` (min for name="amin"); ∂a = g shared equally among the elements that attain it (as
    torch.amax/amin)"""

    @staticmethod
    def forward(ctx: Function, a: np.ndarray, dim: Any = None, keepdim: bool = False, name: str = "max") -> Any:
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
    def backward(ctx: Function, g: np.ndarray) -> Grads:
        share, dim, keepdim = ctx.saved
        return _expand_reduced(g, dim, keepdim) * share


class LogSoftmax(Function):
    """a − logΣexp(a) along `dim`, shifted by the max so nothing overflows; ∂a = g − softmax·Σg"""

    @staticmethod
    def forward(ctx: Function, a: np.ndarray, dim: Any = -1) -> Any:
        _axes(a.ndim, dim)                           # PyTorch's range check (a 0-d tensor takes dim 0 or −1)
        shifted = a - a.max(axis=dim, keepdims=True, initial=-np.inf)   # initial: a dim of size 0 has no max
        with np.errstate(divide="ignore"):            # log 0 only for a dim of size 0 (the output is empty)
            out = shifted - np.log(np.exp(shifted).sum(axis=dim, keepdims=True))
        ctx.save_for_backward(out, dim)
        return out

    @staticmethod
    def backward(ctx: Function, g: np.ndarray) -> Grads:
        out, dim = ctx.saved
        return g - np.exp(out) * g.sum(axis=dim, keepdims=True)


class Softmax(Function):
    """exp(a)/Σexp(a) along `dim`, shifted by the max; ∂a = y·(g − Σ g·y)"""

    @staticmethod
    def forward(ctx: Function, a: np.ndarray, dim: Any = -1) -> Any:
        _axes(a.ndim, dim)
        e = np.exp(a - a.max(axis=dim, keepdims=True, initial=-np.inf))
        out = e / e.sum(axis=dim, keepdims=True)
        ctx.save_for_backward(out, dim)
        return out

    @staticmethod
    def backward(ctx: Function, g: np.ndarray) -> Grads:
        y, dim = ctx.saved
        return y * (g - (g * y).sum(axis=dim, keepdims=True))


class Prod(Function):
    """Π a over `dim` (all when None); ∂a = g·Π of the others, from prefix and suffix products, so a zero needs no
    division (PyTorch's values: one zero gets the product of the rest, two or more make every gradient 0)"""

    @staticmethod
    def forward(ctx: Function, a: np.ndarray, dim: Any = None, keepdim: bool = False) -> Any:
        axis = _axes(a.ndim, dim, "prod")
        ctx.save_for_backward(a, axis, keepdim)
        return a.prod(axis=axis, keepdims=keepdim)

    @staticmethod
    def backward(ctx: Function, g: np.ndarray) -> Grads:
        a, axis, keepdim = ctx.saved
        rows = np.moveaxis(a.reshape(-1) if axis is None else a, 0 if axis is None else axis, 0)
        if rows.shape[0] == 0:
            return np.zeros(a.shape, g.dtype)
        before, after = np.empty_like(rows), np.empty_like(rows)   # Π of the elements before / after each one
        before[0], after[-1] = 1, 1
        np.cumprod(rows[:-1], axis=0, out=before[1:])
        np.cumprod(rows[:0:-1], axis=0, out=after[-2::-1])
        others = np.moveaxis(before * after, 0, 0 if axis is None else axis).reshape(a.shape)
        return _expand_reduced(g, axis, keepdim) * others


class CumSum(Function):
    """the running sums of a along `dim`; ∂a = the running sums of g from the end"""

    @staticmethod
    def forward(ctx: Function, a: np.ndarray, dim: Any) -> Any:
        axis = _axes(a.ndim, dim, "cumsum")
        ctx.save_for_backward(axis)
        return a.copy() if axis is None else np.cumsum(a, axis=axis)

    @staticmethod
    def backward(ctx: Function, g: np.ndarray) -> Grads:
        axis = ctx.saved[0]
        return g if axis is None else np.flip(np.cumsum(np.flip(g, axis), axis=axis), axis)


class LogSumExp(Function):
    """log Σ exp(a) over `dim`, shifted by the max so nothing overflows (a row of −inf gives −inf, one holding +inf
    gives +inf, as PyTorch); ∂a = g·exp(a − out)"""

    @staticmethod
    def forward(ctx: Function, a: np.ndarray, dim: Any, keepdim: bool = False) -> Any:
        axis = _axes(a.ndim, dim, "logsumexp")
        shift = np.amax(a, axis=axis, keepdims=True, initial=-np.inf)   # initial: an empty dim has no max
        shift = np.where(np.isinf(shift), 0, shift)                     # ±inf rows: exp(a − 0) says it
        with np.errstate(divide="ignore", over="ignore"):
            out = np.log(np.exp(a - shift).sum(axis=axis, keepdims=True)) + shift
        ctx.save_for_backward(a, out, axis, keepdim)
        return out if keepdim else (out.reshape(()) if axis is None else np.squeeze(out, axis=axis))

    @staticmethod
    def backward(ctx: Function, g: np.ndarray) -> Grads:
        a, out, axis, keepdim = ctx.saved
        with np.errstate(invalid="ignore"):                             # inf − inf: nan, as in PyTorch
            return _expand_reduced(g, axis, keepdim) * np.exp(a - out)
