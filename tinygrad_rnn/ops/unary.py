"""Elementwise ops of one tensor (and casts): forward on ndarrays, backward right beside it."""
import numpy as np

from ..activations import ACTIVATIONS, hard_sigmoid, sigmoid
from ..function import Function


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
