"""Var, std and norm: reductions through squares, roots and powers, whose backward PyTorch defines specially where
the formula divides by zero (n − correction ≤ 0, a zero norm, a zero element under a power below 1)."""
from __future__ import annotations

import math
import warnings

import numpy as np

from ..function import Function
from .reduce import _axes, _expand_reduced, _reduced_size
from .unary import _sign
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from typing import Any
    from .._typing import Grads


def _squeezed(out: Any, axis: Any, keepdim: bool) -> Any:
    """A reduction computed with keepdims, in the shape asked for."""
    if keepdim:
        return out
    return out.reshape(()) if axis is None else np.squeeze(out, axis=axis)


def _variance(ctx: Function, a: Any, dim: Any, correction: float | None, keepdim: bool, name: str) -> Any:
    """Σ(a − mean)² / max(0, n − correction), with PyTorch's warning when n − correction ≤ 0 (the result is then
    inf, or nan where every deviation is 0); saves what the backward needs."""
    axis = _axes(a.ndim, dim, name)
    n = _reduced_size(a.shape, axis)
    dof = n - correction
    if dof <= 0:
        warnings.warn(f"{name}(): degrees of freedom is <= 0. Correction should be strictly less than the reduction "
                      f"factor (input numel divided by output numel).", UserWarning, stacklevel=5)
    with np.errstate(divide="ignore", invalid="ignore"):     # 0/0 (an empty dim) and x/0: nan and inf, as PyTorch
        deviation = a - a.sum(axis=axis, keepdims=True) / n
        out = (deviation * deviation).sum(axis=axis, keepdims=keepdim) / max(0, dof)
    ctx.save_for_backward(deviation, axis, keepdim, dof)
    return out


def _variance_grad(ctx: Function, g: Any) -> Any:
    """PyTorch's var_backward: 2·g·(a − mean)/(n − correction); over every element with n − correction ≤ 0 it is
    g·nan where a = mean and g·inf elsewhere, along a dim the same formula whatever its sign."""
    deviation, axis, keepdim, dof = ctx.saved[:4]
    g = _expand_reduced(g, axis, keepdim)
    with np.errstate(invalid="ignore"):
        if axis is None and dof <= 0:
            edge = np.where(deviation == 0, np.array(np.nan, g.dtype), np.array(np.inf, g.dtype))
            return g * edge
        return (2.0 / dof if dof else math.inf) * g * deviation


class Var(Function):
    """Σ(a − mean)² / (n − correction) over `dim`; ∂a = 2·g·(a − mean)/(n − correction)"""

    @staticmethod
    def forward(ctx: Function, a: np.ndarray, dim: Any = None, correction: float | None = 1, keepdim: bool = False
    ) -> Any:
        return _variance(ctx, a, dim, correction, keepdim, "var")

    @staticmethod
    def backward(ctx: Function, g: np.ndarray) -> Grads:
        return _variance_grad(ctx, g)


class Std(Function):
    """√var over `dim`; ∂a = var's gradient of g/(2·std), with 0 where std = 0 (PyTorch's choice, not nan)"""

    @staticmethod
    def forward(ctx: Function, a: np.ndarray, dim: Any = None, correction: float | None = 1, keepdim: bool = False
    ) -> Any:
        out = np.sqrt(_variance(ctx, a, dim, correction, keepdim, "std"))
        ctx.saved += (out,)
        return out

    @staticmethod
    def backward(ctx: Function, g: np.ndarray) -> Grads:
        out = ctx.saved[-1]
        with np.errstate(divide="ignore", invalid="ignore"):
            g = np.where(out == 0, 0, g / (2 * out))
        return _variance_grad(ctx, g)


class Norm(Function):
    """‖a‖ₚ over `dim`: (Σ|a|ᵖ)^(1/p), max |a| for p = inf, min |a| for −inf, the count of nonzeros for 0;
    ∂a as PyTorch's norm_backward: 0 where the norm is 0, ties of an inf norm share g, none for p = 0"""

    @staticmethod
    def forward(ctx: Function, a: np.ndarray, p: Any = 2.0, dim: Any = None, keepdim: bool = False) -> Any:
        axis = _axes(a.ndim, dim, "norm")
        size = np.abs(a)
        if math.isinf(p):
            if _reduced_size(a.shape, axis) == 0:
                empty = [d for d in (axis if isinstance(axis, tuple) else (axis,)) if a.shape[d] == 0] \
                    if axis is not None else ()
                where = f"the dimension {empty[0]}" if empty else "an empty tensor"
                raise RuntimeError(f"linalg.vector_norm cannot compute the {'' if p > 0 else '-'}inf norm on {where} "
                                   f"because {'this dimension is empty and ' if empty else ''}the "
                                   f"operation does not have an identity")
            out = size.max(axis=axis, keepdims=True) if p > 0 else size.min(axis=axis, keepdims=True)
        elif p == 0:
            out = (a != 0).sum(axis=axis, keepdims=True).astype(a.dtype)
        elif p == 1:
            out = size.sum(axis=axis, keepdims=True)
        elif p == 2:
            out = np.sqrt((a * a).sum(axis=axis, keepdims=True))
        else:
            with np.errstate(divide="ignore", over="ignore"):    # p < 0: 0^p = inf makes the norm 0, as PyTorch
                out = (size**p).sum(axis=axis, keepdims=True) ** (1 / p)
        ctx.save_for_backward(a, out, p, axis, keepdim)
        return _squeezed(out, axis, keepdim)

    @staticmethod
    def backward(ctx: Function, g: np.ndarray) -> Grads:
        a, norm, p, axis, keepdim = ctx.saved
        if p == 0:
            return None                                           # a count: PyTorch gives no gradient
        g = _expand_reduced(g, axis, keepdim)
        sign = _sign(a)
        with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
            if p == 1:
                return sign * g
            if p == 2:
                return g * np.where(norm == 0, 0, a / norm)
            if math.isinf(p):                                     # the |a| that attain it (or are nan) share g
                hits = (np.abs(a) == norm) | np.isnan(a)
                return sign * (g / hits.sum(axis=axis, keepdims=True)) * hits
            size = np.abs(a)
            if p < 1:
                return sign * np.where(a == 0, 0, size ** (p - 1)) * g * norm ** (1 - p)
            scale = np.where(norm == 0, 0, g / norm ** (p - 1))
            return (sign * size ** (p - 1) if p < 2 else a * size ** (p - 2)) * scale
