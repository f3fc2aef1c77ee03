"""Indexing: a[index], gathers and scatters along a dim, masks; each backward sends g back where it came from."""
from __future__ import annotations

import numpy as np

from ..function import Function, unbroadcast
from ..indexing import Plan, along_dim, extent, plan, put, scatter_back, take, value_shape
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from typing import Any
    from .._typing import Grads


class TakeAlong(Function):
    """a's elements at `index` along `dim` (index of size 1 there: max(dim)'s argmax); ∂a = g put back at index"""

    @staticmethod
    def forward(ctx: Function, a: np.ndarray, index: Any, dim: Any, keepdim: bool = False) -> Any:
        ctx.save_for_backward(a.shape, index, dim, keepdim)
        out = np.take_along_axis(a, index, axis=dim)
        return out if keepdim else np.squeeze(out, axis=dim)

    @staticmethod
    def backward(ctx: Function, g: np.ndarray) -> Grads:
        shape, index, dim, keepdim = ctx.saved
        grad = np.zeros(shape, g.dtype)
        np.put_along_axis(grad, index, g if keepdim else np.expand_dims(g, dim), axis=dim)
        return grad


class GetItem(Function):
    """a[index] by PyTorch's rules (indexing.plan: ints, slices, None, ..., integer arrays, masks); ∂a = g put back
    where it was taken from, repeated indices accumulating"""

    @staticmethod
    def forward(ctx: Function, a: np.ndarray, index: Any) -> Any:
        p = plan(a.shape, index)
        ctx.save_for_backward(a.shape, a.dtype, p.basic, p.advanced, p.shape, p.unique)   # (index arrays guarded)
        return take(a, p)

    @staticmethod
    def backward(ctx: Function, g: np.ndarray) -> Grads:
        shape, dtype, basic, advanced, out_shape, unique = ctx.saved
        return scatter_back(g, shape, dtype, Plan(basic, advanced, out_shape, unique, True))


class IndexPut(Function):
    """a copy of a with a[index] = v (v broadcast), or += v with repeated indices accumulating (torch.index_put);
    ∂a = g, zero where written unless accumulating; ∂v = g[index] summed to v's shape"""

    @staticmethod
    def forward(ctx: Function, a: np.ndarray, v: np.ndarray, index: Any, accumulate: bool = False) -> Any:
        p = plan(a.shape, index)
        out = a.copy()
        put(out, p, v.reshape(value_shape(v.shape)), accumulate)
        ctx.save_for_backward(p.basic, p.advanced, p.shape, p.unique, v.shape, accumulate)
        return out

    @staticmethod
    def backward(ctx: Function, g: np.ndarray) -> Grads:
        basic, advanced, out_shape, unique, v_shape, accumulate = ctx.saved
        p = Plan(basic, advanced, out_shape, unique, True)
        ga = gv = None
        if ctx.needs_input_grad[0]:
            ga = g
            if not accumulate:
                ga = g.copy()
                put(ga, p, 0)
        if ctx.needs_input_grad[1]:
            gv = unbroadcast(np.asarray(take(g, p)), value_shape(v_shape)).reshape(v_shape)
        return ga, gv


class IndexSelect(Function):
    """a's slices at `index` (1-d, repeats allowed) along `dim`; ∂a = g's slices added back at index"""

    @staticmethod
    def forward(ctx: Function, a: np.ndarray, index: Any, dim: Any) -> Any:
        ctx.save_for_backward(a.shape, index, dim)
        return np.take(a, index, axis=dim)

    @staticmethod
    def backward(ctx: Function, g: np.ndarray) -> Grads:
        shape, index, dim = ctx.saved
        grad = np.zeros(shape, g.dtype)
        np.add.at(grad, (slice(None),) * dim + (index,), g)
        return grad


class Gather(Function):
    """`out[i][j][k] = a[i][index[i][j][k]][k]` for dim 1 (torch.gather); ∂a = g added back there, repeats
    accumulating"""

    @staticmethod
    def forward(ctx: Function, a: np.ndarray, index: Any, dim: Any) -> Any:
        ctx.save_for_backward(a.shape, index, dim)
        return a[along_dim(index, dim)]

    @staticmethod
    def backward(ctx: Function, g: np.ndarray) -> Grads:
        shape, index, dim = ctx.saved
        grad = np.zeros(shape, g.dtype)
        np.add.at(grad, along_dim(index, dim), g)
        return grad


class Scatter(Function):
    """a copy of a with `a[i][index[i][j]] = src[i][j]` for dim 1 (torch.scatter), src an array or the number
    `value`; ∂a = g, zero where written; ∂src = g read back at those places (zero beyond index's extent)"""

    @staticmethod
    def forward(ctx: Function, a: np.ndarray, *src: np.ndarray, index: Any, dim: Any, value: Any = None) -> Any:
        out = a.copy()
        out[along_dim(index, dim)] = src[0][extent(index)] if src else value
        ctx.save_for_backward(index, dim, src[0].shape if src else None)
        return out

    @staticmethod
    def backward(ctx: Function, g: np.ndarray) -> Grads:
        index, dim, src_shape = ctx.saved
        grid = along_dim(index, dim)
        ga = g.copy()
        ga[grid] = 0
        if src_shape is None:
            return ga
        gsrc = None
        if ctx.needs_input_grad[1]:
            gsrc = np.zeros(src_shape, g.dtype)
            gsrc[extent(index)] = g[grid]
        return ga, gsrc


class ScatterAdd(Function):
    """a copy of a with `src[i][j]` added at `a[i][index[i][j]]` for dim 1, repeats accumulating (torch.scatter_add);
    ∂a = g; ∂src = g read back at those places (zero beyond index's extent)"""

    @staticmethod
    def forward(ctx: Function, a: np.ndarray, src: Any, index: Any, dim: Any) -> Any:
        out = a.copy()
        np.add.at(out, along_dim(index, dim), src[extent(index)])
        ctx.save_for_backward(index, dim, src.shape)
        return out

    @staticmethod
    def backward(ctx: Function, g: np.ndarray) -> Grads:
        index, dim, src_shape = ctx.saved
        gsrc = None
        if ctx.needs_input_grad[1]:
            gsrc = np.zeros(src_shape, g.dtype)
            gsrc[extent(index)] = g[along_dim(index, dim)]
        return g, gsrc


class MaskedFill(Function):
    """where(mask, value, a) with a 0-d value, mask broadcast against a; ∂a = g where not masked (summed to a's
    shape); ∂value = Σ g where masked"""

    @staticmethod
    def forward(ctx: Function, a: np.ndarray, value: Any, mask: Any) -> Any:
        ctx.save_for_backward(a.shape, mask)
        return np.where(mask, value, a)

    @staticmethod
    def backward(ctx: Function, g: np.ndarray) -> Grads:
        shape, mask = ctx.saved
        ga = unbroadcast(np.where(mask, 0, g), shape) if ctx.needs_input_grad[0] else None
        gv = np.asarray(np.where(mask, g, 0).sum(), g.dtype) if ctx.needs_input_grad[1] else None
        return ga, gv


class MaskedSelect(Function):
    """the elements of a where mask is True (both broadcast to one shape), as a 1-d array; ∂a = g put back there,
    summed to a's shape"""

    @staticmethod
    def forward(ctx: Function, a: np.ndarray, mask: Any) -> Any:
        shape = np.broadcast_shapes(a.shape, mask.shape)
        ctx.save_for_backward(a.shape, mask, shape)
        return np.broadcast_to(a, shape)[np.broadcast_to(mask, shape)]

    @staticmethod
    def backward(ctx: Function, g: np.ndarray) -> Grads:
        a_shape, mask, shape = ctx.saved
        grad = np.zeros(shape, g.dtype)
        grad[np.broadcast_to(mask, shape)] = g
        return unbroadcast(grad, a_shape)
