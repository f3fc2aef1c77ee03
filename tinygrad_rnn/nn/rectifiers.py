"""The smooth and leaky rectifiers, as torch.nn's: LeakyReLU, ELU, Softplus, SiLU (functions and Modules), written
as ordinary tape ops, so their gradients come from the ops they are made of (edges as torch's: at 0 the left side's
slope, where torch's backward takes it); ELU is one node, whose backward takes eˣ directly (through expm1's
e^x = out + 1 it would lose all but 4 digits at x = −30)."""
import numpy as np

from ..function import Function
from ..tensor import Tensor, where
from .module import Module


class Elu(Function):
    """x where x > 0, α·(eˣ − 1) elsewhere; ∂x = g where x > 0, g·α·eˣ elsewhere"""

    @staticmethod
    def forward(ctx, x, alpha):
        ctx.save_for_backward(x)
        ctx.alpha = alpha
        negative = alpha * np.expm1(np.minimum(x, 0))
        return np.where(x > 0, x, negative)

    @staticmethod
    def backward(ctx, g):
        (x,) = ctx.saved
        return (np.where(x > 0, g, g * ctx.alpha * np.exp(np.minimum(x, 0))),)


def _input(owner, input):
    if not isinstance(input, Tensor):
        raise TypeError(f"{owner}(): argument 'input' (position 1) must be Tensor, not {type(input).__name__}")
    return input if input.dtype.kind == "f" else input.float()


def leaky_relu(input, negative_slope=0.01, inplace=False):
    """x where x > 0, negative_slope·x elsewhere"""
    x = _input("leaky_relu", input)
    return where(x > 0, x, x * negative_slope)


def elu(input, alpha=1.0, inplace=False):
    """x where x > 0, alpha·(eˣ − 1) elsewhere (eˣ of min(x, 0): no overflow on the side not taken)"""
    return Elu.apply(_input("elu", input), alpha=float(alpha))


def softplus(input, beta=1.0, threshold=20.0):
    """log(1 + e^(βx)) / β, and x itself where βx > threshold (where the two agree to rounding)"""
    x = _input("softplus", input)
    bx = x * beta
    return where(bx > threshold, x, bx.clamp_max(threshold).exp().log1p() / beta)


def silu(input, inplace=False):
    """x·σ(x) (the swish)"""
    x = _input("silu", input)
    return x * x.sigmoid()


class LeakyReLU(Module):
    """leaky_relu as a Module."""

    def __init__(self, negative_slope=0.01, inplace=False):
        super().__init__()
        self.negative_slope, self.inplace = negative_slope, inplace

    def forward(self, input):
        return leaky_relu(input, self.negative_slope)

    def extra_repr(self):
        return f"negative_slope={self.negative_slope}" + (", inplace=True" if self.inplace else "")


class ELU(Module):
    """elu as a Module."""

    def __init__(self, alpha=1.0, inplace=False):
        super().__init__()
        self.alpha, self.inplace = alpha, inplace

    def forward(self, input):
        return elu(input, self.alpha)

    def extra_repr(self):
        return f"alpha={self.alpha}" + (", inplace=True" if self.inplace else "")


class Softplus(Module):
    """softplus as a Module."""

    def __init__(self, beta=1.0, threshold=20.0):
        super().__init__()
        self.beta, self.threshold = beta, threshold

    def forward(self, input):
        return softplus(input, self.beta, self.threshold)

    def extra_repr(self):
        return f"beta={self.beta}, threshold={self.threshold}"


class SiLU(Module):
    """silu as a Module."""

    def __init__(self, inplace=False):
        super().__init__()
        self.inplace = inplace

    def forward(self, input):
        return silu(input)
