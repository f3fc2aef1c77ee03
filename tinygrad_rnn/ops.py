"""Primitive ops, one Function class each: forward on ndarrays, backward right beside it."""
import numbers

import numpy as np

from .activations import ACTIVATIONS, hard_sigmoid, sigmoid
from .function import Function, unbroadcast


# ---- binary, broadcasting ---------------------------------------------------------------------------------
class Add(Function):
    """a + b"""

    @staticmethod
    def forward(ctx, a, b):
        ctx.save_for_backward(a.shape, b.shape)
        return a + b

    @staticmethod
    def backward(ctx, g):
        sa, sb = ctx.saved
        da, db = ctx.needs_input_grad
        return unbroadcast(g, sa) if da else None, unbroadcast(g, sb) if db else None


class Sub(Function):
    """a − b"""

    @staticmethod
    def forward(ctx, a, b):
        ctx.save_for_backward(a.shape, b.shape)
        return a - b

    @staticmethod
    def backward(ctx, g):
        sa, sb = ctx.saved
        da, db = ctx.needs_input_grad
        return unbroadcast(g, sa) if da else None, unbroadcast(-g, sb) if db else None


class Mul(Function):
    """a · b; ∂a = g·b, ∂b = g·a"""

    @staticmethod
    def forward(ctx, a, b):
        ctx.save_for_backward(a, b)
        return a * b

    @staticmethod
    def backward(ctx, g):
        a, b = ctx.saved
        da, db = ctx.needs_input_grad
        return unbroadcast(g * b, a.shape) if da else None, unbroadcast(g * a, b.shape) if db else None


class Div(Function):
    """a / b; ∂a = g/b, ∂b = −g·a/b²"""

    @staticmethod
    def forward(ctx, a, b):
        ctx.save_for_backward(a, b)
        if a.dtype.kind != "f":                  # integer or bool tensors: true division in float32, as PyTorch
            return a.astype(np.float32) / b.astype(np.float32)
        return a / b

    @staticmethod
    def backward(ctx, g):
        a, b = ctx.saved
        da, db = ctx.needs_input_grad
        return unbroadcast(g / b, a.shape) if da else None, unbroadcast(-g * a / (b * b), b.shape) if db else None


class Pow(Function):
    """a ** b; ∂a = g·b·a^(b−1) (0 where b = 0), ∂b = g·a^b·ln a (0 where a = 0 ≤ b): PyTorch's edge values"""

    @staticmethod
    def forward(ctx, a, b):
        out = a**b
        ctx.save_for_backward(a, b, out)
        return out

    @staticmethod
    def backward(ctx, g):
        a, b, out = ctx.saved
        da, db = ctx.needs_input_grad
        zero = np.zeros((), out.dtype)
        with np.errstate(divide="ignore", invalid="ignore"):   # inf and nan are the answers here, as in PyTorch
            # b = 0: a^b is the constant 1, so ∂a = 0, not 0·0^(−1) = nan at a = 0
            ga = unbroadcast(np.where(b == 0, zero, g * b * a ** (b - 1)), a.shape) if da else None
            # a = 0 ≤ b: 0^b is flat in b (∂b = 0, not 0·(−∞) = nan); a = 0 > b: inf·(−∞) = −∞, as in PyTorch
            gb = unbroadcast(g * np.where((a == 0) & (b >= 0), zero, out * np.log(a)), b.shape) if db else None
        return ga, gb


class MatMul(Function):
    """a @ b with NumPy's matmul rules (1-D operands, batch broadcasting); ∂a = g @ bᵀ, ∂b = aᵀ @ g"""

    @staticmethod
    def forward(ctx, a, b):
        ctx.save_for_backward(a, b)
        return a @ b

    @staticmethod
    def backward(ctx, g):
        a, b = ctx.saved
        da, db = ctx.needs_input_grad
        a2 = a[None, :] if a.ndim == 1 else a  # matmul's promotion of 1-D operands, made explicit
        b2 = b[:, None] if b.ndim == 1 else b
        batch = np.broadcast_shapes(a2.shape[:-2], b2.shape[:-2])
        g2 = g.reshape(batch + (a2.shape[-2], b2.shape[-1]))
        ga = unbroadcast(g2 @ b2.swapaxes(-1, -2), a2.shape).reshape(a.shape) if da else None
        gb = unbroadcast(a2.swapaxes(-1, -2) @ g2, b2.shape).reshape(b.shape) if db else None
        return ga, gb


class Where(Function):
    """condition ? a : b"""

    @staticmethod
    def forward(ctx, a, b, condition):
        ctx.save_for_backward(a.shape, b.shape, condition)
        return np.where(condition, a, b)

    @staticmethod
    def backward(ctx, g):
        sa, sb, cond = ctx.saved
        da, db = ctx.needs_input_grad
        ga = unbroadcast(np.where(cond, g, 0), sa) if da else None
        gb = unbroadcast(np.where(cond, 0, g), sb) if db else None
        return ga, gb


# ---- unary, elementwise -----------------------------------------------------------------------------------
class Neg(Function):
    """−a"""

    @staticmethod
    def forward(ctx, a):
        return -a

    @staticmethod
    def backward(ctx, g):
        return -g


class Exp(Function):
    """eᵃ; ∂a = g·eᵃ"""

    @staticmethod
    def forward(ctx, a):
        out = np.exp(a)
        ctx.save_for_backward(out)
        return out

    @staticmethod
    def backward(ctx, g):
        return g * ctx.saved[0]


class Log(Function):
    """ln a; ∂a = g/a"""

    @staticmethod
    def forward(ctx, a):
        ctx.save_for_backward(a)
        return np.log(a)

    @staticmethod
    def backward(ctx, g):
        return g / ctx.saved[0]


class Sigmoid(Function):
    """σ(a) = 1/(1+e^(−a)), computed without overflow; ∂a = g·σ(1−σ)"""

    @staticmethod
    def forward(ctx, a):
        out = sigmoid(a)
        ctx.save_for_backward(out)
        return out

    @staticmethod
    def backward(ctx, g):
        y = ctx.saved[0]
        return g * y * (1 - y)


class Tanh(Function):
    """tanh a; ∂a = g·(1 − tanh²a)"""

    @staticmethod
    def forward(ctx, a):
        out = np.tanh(a)
        ctx.save_for_backward(out)
        return out

    @staticmethod
    def backward(ctx, g):
        y = ctx.saved[0]
        return g * (1 - y * y)


class ReLU(Function):
    """max(a, 0); ∂a = g·[a > 0]"""

    @staticmethod
    def forward(ctx, a):
        ctx.save_for_backward(a)
        return np.maximum(a, 0)

    @staticmethod
    def backward(ctx, g):
        return g * (ctx.saved[0] > 0)


class HardSigmoid(Function):
    """clip(0.2a + 0.5, 0, 1) (Keras/Theano); ∂a = 0.2·g strictly inside (0, 1), 0 on the plateaus"""

    @staticmethod
    def forward(ctx, a):
        out = hard_sigmoid(a)
        ctx.save_for_backward(out)
        return out

    @staticmethod
    def backward(ctx, g):
        return g * ACTIVATIONS["hard_sigmoid"][1](ctx.saved[0])


class Clip(Function):
    """min(max(a, lo), hi); ∂a = g·[lo ≤ a ≤ hi] (PyTorch's clamp convention at the bounds)"""

    @staticmethod
    def forward(ctx, a, min=None, max=None):
        if min is None and max is None:
            raise ValueError("clip: at least one of 'min' or 'max' must not be None")
        ctx.save_for_backward(a, min, max)
        return np.clip(a, min, max)

    @staticmethod
    def backward(ctx, g):
        a, lo, hi = ctx.saved
        inside = np.ones(a.shape, dtype=bool)
        if lo is not None:
            inside &= a >= lo
        if hi is not None:
            inside &= a <= hi
        return g * inside


class Clone(Function):
    """a copy of a (C-contiguous); ∂a = g"""

    @staticmethod
    def forward(ctx, a):
        return np.array(a, order="C", copy=True)

    @staticmethod
    def backward(ctx, g):
        return g


class Cast(Function):
    """a converted to `dtype`; the gradient is converted back"""

    @staticmethod
    def forward(ctx, a, dtype):
        ctx.save_for_backward(a.dtype)
        return a.astype(dtype)

    @staticmethod
    def backward(ctx, g):
        return g.astype(ctx.saved[0])


# ---- reductions -------------------------------------------------------------------------------------------
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


# ---- shape ------------------------------------------------------------------------------------------------
class Reshape(Function):
    """a viewed with a new shape"""

    @staticmethod
    def forward(ctx, a, shape):
        ctx.save_for_backward(a.shape)
        return a.reshape(shape)

    @staticmethod
    def backward(ctx, g):
        return g.reshape(ctx.saved[0])


class Permute(Function):
    """a with its axes reordered; ∂a = g with the inverse order"""

    @staticmethod
    def forward(ctx, a, dims):
        ctx.save_for_backward(dims)
        return a.transpose(dims)

    @staticmethod
    def backward(ctx, g):
        dims = ctx.saved[0]
        return g.transpose(np.argsort([d % g.ndim for d in dims]))   # negative dims counted from the end


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


class Cat(Function):
    """Tensors joined along an existing `dim`; ∂ of each is its slice of g"""

    @staticmethod
    def forward(ctx, *arrays, dim=0):
        ctx.save_for_backward(np.cumsum([a.shape[dim] for a in arrays])[:-1], dim)
        return np.concatenate(arrays, axis=dim)

    @staticmethod
    def backward(ctx, g):
        bounds, dim = ctx.saved
        return tuple(np.split(g, bounds, axis=dim))


class Stack(Function):
    """Tensors joined along a new `dim`; ∂ of each is its index of g"""

    @staticmethod
    def forward(ctx, *arrays, dim=0):
        out = np.stack(arrays, axis=dim)
        ctx.save_for_backward(dim % out.ndim)
        return out

    @staticmethod
    def backward(ctx, g):
        g = np.moveaxis(g, ctx.saved[0], 0)
        return tuple(g[i] for i in range(g.shape[0]))


def _fill_missing(grads, pieces_shapes, dtype):
    """A multi-output op's backward gets None for outputs nobody used: those pieces' gradient is zero."""
    return [np.zeros(shape, dtype) if g is None else g for g, shape in zip(grads, pieces_shapes)]


class Split(Function):
    """a cut along `dim` into pieces of the given sizes (views); ∂a = the pieces' gradients joined back"""

    @staticmethod
    def forward(ctx, a, sizes, dim=0):
        bounds = np.cumsum(sizes)[:-1]
        pieces = tuple(np.split(a, bounds, axis=dim))
        ctx.save_for_backward([p.shape for p in pieces], a.dtype, dim)
        return pieces

    @staticmethod
    def backward(ctx, grads):
        shapes, dtype, dim = ctx.saved
        return np.concatenate(_fill_missing(grads, shapes, dtype), axis=dim)


class Unbind(Function):
    """a's slices along `dim` as separate tensors (time steps of a sequence); ∂a = their gradients stacked"""

    @staticmethod
    def forward(ctx, a, dim=0):
        moved = np.moveaxis(a, dim, 0)
        ctx.save_for_backward(moved.shape[1:], a.dtype, dim)
        return tuple(moved)

    @staticmethod
    def backward(ctx, grads):
        shape, dtype, dim = ctx.saved
        return np.stack(_fill_missing(grads, [shape] * len(grads), dtype), axis=dim)
