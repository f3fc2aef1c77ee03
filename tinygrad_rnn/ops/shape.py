"""Ops that move elements without arithmetic: reshape, permute, join, split, expand, repeat, flip, roll."""
from __future__ import annotations

import numpy as np

from ..function import Function, unbroadcast
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from typing import Any
    from .._typing import Grads


class Reshape(Function):
    """a viewed with a new shape"""

    @staticmethod
    def forward(ctx: Function, a: np.ndarray, shape: tuple[int, ...]) -> Any:
        ctx.save_for_backward(a.shape)
        return a.reshape(shape)

    @staticmethod
    def backward(ctx: Function, g: np.ndarray) -> Grads:
        return g.reshape(ctx.saved[0])


class Permute(Function):
    """a with its axes reordered; ∂a = g with the inverse order"""

    @staticmethod
    def forward(ctx: Function, a: np.ndarray, dims: Any) -> Any:
        ctx.save_for_backward(dims)
        return a.transpose(dims)

    @staticmethod
    def backward(ctx: Function, g: np.ndarray) -> Grads:
        dims = ctx.saved[0]
        return g.transpose(np.argsort([d % g.ndim for d in dims]))   # negative dims counted from the end


class Cat(Function):
    """Tensors joined along an existing `dim`; ∂ of each is its slice of g"""

    @staticmethod
    def forward(ctx: Function, *arrays: np.ndarray, dim: Any = 0) -> Any:
        ctx.save_for_backward(np.cumsum([a.shape[dim] for a in arrays])[:-1], dim)
        return np.concatenate(arrays, axis=dim)

    @staticmethod
    def backward(ctx: Function, g: np.ndarray) -> Grads:
        bounds, dim = ctx.saved
        return tuple(np.split(g, bounds, axis=dim))


def _stack(arrays: Any, dim: int) -> np.ndarray:
    """np.stack(arrays, axis=dim); along dim 0, arrays of one shape and dtype are copied into one new array directly
    (np.stack's axis handling is most of its cost on a recurrent layer's (B, H) states)."""
    first = arrays[0]
    if dim == 0 and all(type(a) is np.ndarray and a.shape == first.shape and a.dtype == first.dtype
                        for a in arrays):
        out = np.empty((len(arrays), *first.shape), first.dtype)
        for i, a in enumerate(arrays):
            out[i] = a
        return out
    return np.stack(arrays, axis=dim)


class Stack(Function):
    """Tensors joined along a new `dim`; ∂ of each is its index of g"""

    @staticmethod
    def forward(ctx: Function, *arrays: np.ndarray, dim: Any = 0) -> Any:
        ndim = arrays[0].ndim + 1
        if not -ndim <= dim < ndim:
            return np.stack(arrays, axis=dim)    # numpy's AxisError, as before
        dim %= ndim
        ctx.save_for_backward(dim)
        return _stack(arrays, dim)

    @staticmethod
    def backward(ctx: Function, g: np.ndarray) -> Grads:
        g = g if ctx.saved[0] == 0 else np.moveaxis(g, ctx.saved[0], 0)
        return tuple(g[i] for i in range(g.shape[0]))


def _fill_missing(grads: Any, pieces_shapes: Any, dtype: Any) -> Any:
    """A multi-output op's backward gets None for outputs nobody used: those pieces' gradient is zero."""
    return [np.zeros(shape, dtype) if g is None else g for g, shape in zip(grads, pieces_shapes)]


class Split(Function):
    """a cut along `dim` into pieces of the given sizes (views); ∂a = the pieces' gradients joined back"""

    @staticmethod
    def forward(ctx: Function, a: np.ndarray, sizes: Any, dim: Any = 0) -> Any:
        bounds = np.cumsum(sizes)[:-1]
        pieces = tuple(np.split(a, bounds, axis=dim))
        ctx.save_for_backward([p.shape for p in pieces], a.dtype, dim)
        return pieces

    @staticmethod
    def backward(ctx: Function, grads: Any) -> Grads:
        shapes, dtype, dim = ctx.saved
        return np.concatenate(_fill_missing(grads, shapes, dtype), axis=dim)


class Unbind(Function):
    """a's slices along `dim` as separate tensors (time steps of a sequence); ∂a = their gradients stacked"""

    @staticmethod
    def forward(ctx: Function, a: np.ndarray, dim: Any = 0) -> Any:
        moved = a if dim == 0 and a.ndim else np.moveaxis(a, dim, 0)
        ctx.save_for_backward(moved.shape[1:], a.dtype, dim % a.ndim)
        return tuple(moved)

    @staticmethod
    def backward(ctx: Function, grads: Any) -> Grads:
        shape, dtype, dim = ctx.saved
        return _stack(_fill_missing(grads, [shape] * len(grads), dtype), dim)


class Expand(Function):
    """a broadcast to `shape` (a read-only view, as torch's expand shares memory); ∂a = g summed over the new and
    the stretched dims"""

    @staticmethod
    def forward(ctx: Function, a: np.ndarray, shape: tuple[int, ...]) -> Any:
        ctx.save_for_backward(a.shape)
        return np.broadcast_to(a, shape)

    @staticmethod
    def backward(ctx: Function, g: np.ndarray) -> Grads:
        return unbroadcast(g, ctx.saved[0])


class Repeat(Function):
    """a tiled reps[d] times along each dim d (a first gets leading dims of size 1 up to len(reps)); ∂a = the sum of
    g's tiles"""

    @staticmethod
    def forward(ctx: Function, a: np.ndarray, reps: Any) -> Any:
        padded = a.reshape((1,) * (len(reps) - a.ndim) + a.shape)
        ctx.save_for_backward(a.shape, padded.shape, reps)
        return np.tile(padded, reps)

    @staticmethod
    def backward(ctx: Function, g: np.ndarray) -> Grads:
        shape, padded, reps = ctx.saved
        tiles = g.reshape([n for r, s in zip(reps, padded) for n in (r, s)])   # (r0, s0, r1, s1, ...)
        return tiles.sum(axis=tuple(range(0, 2 * len(reps), 2))).reshape(shape)


class Flip(Function):
    """a reversed along `dims` (a copy, as torch's flip); ∂a = g reversed along the same dims"""

    @staticmethod
    def forward(ctx: Function, a: np.ndarray, dims: Any) -> Any:
        ctx.save_for_backward(dims)
        return np.flip(a, dims).copy() if a.ndim else a.copy()

    @staticmethod
    def backward(ctx: Function, g: np.ndarray) -> Grads:
        return np.flip(g, ctx.saved[0]) if g.ndim else g


class Roll(Function):
    """a shifted cyclically by shifts[k] along dims[k] (over the flattened tensor when dims is None); ∂a = g shifted
    back"""

    @staticmethod
    def forward(ctx: Function, a: np.ndarray, shifts: Any, dims: Any) -> Any:
        ctx.save_for_backward(shifts, dims)
        return np.roll(a, shifts, axis=dims) if a.ndim else a.copy()

    @staticmethod
    def backward(ctx: Function, g: np.ndarray) -> Grads:
        shifts, dims = ctx.saved
        back = -shifts if isinstance(shifts, int) else tuple(-s for s in shifts)
        return np.roll(g, back, axis=dims) if g.ndim else g
