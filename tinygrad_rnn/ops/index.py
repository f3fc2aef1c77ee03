"""Indexing: a[index] and gathers along a dim; the backward scatters the gradient back."""
import numpy as np

from ..function import Function


class TakeAlong(Function):
    """a's elements at `index` along `dim` (index of size 1 there: max(dim)'s argmax); ∂a = g put back at index"""

    @staticmethod
    def forward(ctx, a, index, dim, keepdim=False):
        ctx.save_for_backward(a.shape, index, dim, keepdim)
        out = np.take_along_axis(a, index, axis=dim)
        return out if keepdim else np.squeeze(out, axis=dim)

    @staticmethod
    def backward(ctx, g):
        shape, index, dim, keepdim = ctx.saved
        grad = np.zeros(shape, g.dtype)
        np.put_along_axis(grad, index, g if keepdim else np.expand_dims(g, dim), axis=dim)
        return grad


def _has_int_array(index):
    """True when advanced integer indexing is used, so repeated indices must accumulate (np.add.at)."""
    parts = index if isinstance(index, tuple) else (index,)
    return any(isinstance(p, (list, np.ndarray)) and np.asarray(p).dtype.kind in "iu" for p in parts)


class GetItem(Function):
    """a[index] with slices, ints, bool masks or integer arrays; ∂a scatters g back, repeats accumulating"""

    @staticmethod
    def forward(ctx, a, index):
        ctx.save_for_backward(a.shape, a.dtype, index)
        return a[index]

    @staticmethod
    def backward(ctx, g):
        shape, dtype, index = ctx.saved
        grad = np.zeros(shape, dtype=dtype)
        if _has_int_array(index):
            np.add.at(grad, index, g)
        else:
            grad[index] = g
        return grad
