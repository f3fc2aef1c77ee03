"""Elementwise ops of one tensor (and casts): forward on ndarrays, backward right beside it."""
from __future__ import annotations

import numpy as np

from ..activations import ACTIVATIONS, hard_sigmoid, sigmoid
from ..function import Function
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from typing import Any
    from typing import Callable
    from .._typing import Grads


class Neg(Function):
    """−a"""

    @staticmethod
    def forward(ctx: Function, a: np.ndarray) -> Any:
        try:
            return -a
        except TypeError:                        # a bool tensor: NumPy's message names numpy, PyTorch's the fix
            raise RuntimeError("Negation, the `-` operator, on a bool tensor is not supported. If you are trying "
                               "to invert a mask, use the `~` or `logical_not()` operator instead.") from None

    @staticmethod
    def backward(ctx: Function, g: np.ndarray) -> Grads:
        return -g


class Exp(Function):
    """eᵃ; ∂a = g·eᵃ"""

    @staticmethod
    def forward(ctx: Function, a: np.ndarray) -> Any:
        out = np.exp(a)
        ctx.save_for_backward(out)
        return out

    @staticmethod
    def backward(ctx: Function, g: np.ndarray) -> Grads:
        return g * ctx.saved[0]


class Log(Function):
    """ln a; ∂a = g/a"""

    @staticmethod
    def forward(ctx: Function, a: np.ndarray) -> Any:
        ctx.save_for_backward(a)
        return np.log(a)

    @staticmethod
    def backward(ctx: Function, g: np.ndarray) -> Grads:
        return g / ctx.saved[0]


class Sigmoid(Function):
    """σ(a) = 1/(1+e^(−a)), computed without overflow; ∂a = g·σ(1−σ)"""

    @staticmethod
    def forward(ctx: Function, a: np.ndarray) -> Any:
        out = sigmoid(a)
        ctx.save_for_backward(out)
        return out

    @staticmethod
    def backward(ctx: Function, g: np.ndarray) -> Grads:
        y = ctx.saved[0]
        return g * y * (1 - y)


class Tanh(Function):
    """tanh a; ∂a = g·(1 − tanh²a)"""

    @staticmethod
    def forward(ctx: Function, a: np.ndarray) -> Any:
        out = np.tanh(a)
        ctx.save_for_backward(out)
        return out

    @staticmethod
    def backward(ctx: Function, g: np.ndarray) -> Grads:
        y = ctx.saved[0]
        return g * (1 - y * y)


class ReLU(Function):
    """max(a, 0); ∂a = g·[a > 0]"""

    @staticmethod
    def forward(ctx: Function, a: np.ndarray) -> Any:
        ctx.save_for_backward(a)
        return np.maximum(a, 0)

    @staticmethod
    def backward(ctx: Function, g: np.ndarray) -> Grads:
        return g * (ctx.saved[0] > 0)


class HardSigmoid(Function):
    """clip(0.2a + 0.5, 0, 1) (Keras/Theano); ∂a = 0.2·g strictly inside (0, 1), 0 on the plateaus"""

    @staticmethod
    def forward(ctx: Function, a: np.ndarray) -> Any:
        out = hard_sigmoid(a)
        ctx.save_for_backward(out)
        return out

    @staticmethod
    def backward(ctx: Function, g: np.ndarray) -> Grads:
        return g * ACTIVATIONS["hard_sigmoid"][1](ctx.saved[0])


class Clip(Function):
    """min(max(a, lo), hi) with numbers lo, hi; ∂a = g·[lo ≤ a ≤ hi] (PyTorch's clamp convention at the bounds)"""

    @staticmethod
    def forward(ctx: Function, a: np.ndarray, min: Any = None, max: Any = None) -> Any:
        if min is None and max is None:
            raise RuntimeError("torch.clamp: At least one of 'min' or 'max' must not be None")
        ctx.save_for_backward(a, min, max)
        return np.clip(a, min, max)

    @staticmethod
    def backward(ctx: Function, g: np.ndarray) -> Grads:
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
    def forward(ctx: Function, a: np.ndarray) -> Any:
        return np.array(a, order="C", copy=True)

    @staticmethod
    def backward(ctx: Function, g: np.ndarray) -> Grads:
        return g


class Cast(Function):
    """a converted to `dtype`; the gradient is converted back"""

    @staticmethod
    def forward(ctx: Function, a: np.ndarray, dtype: Any) -> Any:
        ctx.save_for_backward(a.dtype)
        return a.astype(dtype)

    @staticmethod
    def backward(ctx: Function, g: np.ndarray) -> Grads:
        return g.astype(ctx.saved[0])


def _sign(a: Any) -> Any:
    """PyTorch's sign: (a > 0) − (a < 0), so sign(nan) = 0 (NumPy's np.sign(nan) is nan)."""
    return (a > 0).astype(a.dtype) - (a < 0).astype(a.dtype)


class Abs(Function):
    """|a|; ∂a = g·sign(a) (0 at a = 0, as PyTorch)"""

    @staticmethod
    def forward(ctx: Function, a: np.ndarray) -> Any:
        if a.dtype.kind == "b":
            raise NotImplementedError("\"abs_cpu\" not implemented for 'Bool'")
        ctx.save_for_backward(a)
        return np.abs(a)

    @staticmethod
    def backward(ctx: Function, g: np.ndarray) -> Grads:
        return g * _sign(ctx.saved[0])


class Sign(Function):
    """sign(a) ∈ {−1, 0, 1} (0 for nan, as PyTorch; a bool tensor is its own sign); ∂a = 0"""

    @staticmethod
    def forward(ctx: Function, a: np.ndarray) -> Any:
        ctx.save_for_backward(a.shape, a.dtype)
        return a.copy() if a.dtype.kind == "b" else _sign(a)

    @staticmethod
    def backward(ctx: Function, g: np.ndarray) -> Grads:
        shape, dtype = ctx.saved
        return np.zeros(shape, dtype)


class Sqrt(Function):
    """√a; ∂a = g / (2√a) (inf at a = 0, as PyTorch)"""

    @staticmethod
    def forward(ctx: Function, a: np.ndarray) -> Any:
        with np.errstate(invalid="ignore"):           # √(negative) is nan, as in PyTorch, without a warning
            out = np.sqrt(a)
        ctx.save_for_backward(out)
        return out

    @staticmethod
    def backward(ctx: Function, g: np.ndarray) -> Grads:
        with np.errstate(divide="ignore", invalid="ignore"):
            return g / (2 * ctx.saved[0])


class Rsqrt(Function):
    """1/√a; ∂a = −g·(1/√a)³ / 2"""

    @staticmethod
    def forward(ctx: Function, a: np.ndarray) -> Any:
        with np.errstate(divide="ignore", invalid="ignore"):   # 1/√0 = inf, 1/√(negative) = nan, as PyTorch
            out = 1 / np.sqrt(a)
        ctx.save_for_backward(out)
        return out

    @staticmethod
    def backward(ctx: Function, g: np.ndarray) -> Grads:
        y = ctx.saved[0]
        with np.errstate(invalid="ignore"):
            return -0.5 * g * (y * y * y)


class Square(Function):
    """a²; ∂a = 2a·g"""

    @staticmethod
    def forward(ctx: Function, a: np.ndarray) -> Any:
        ctx.save_for_backward(a)
        return a * a

    @staticmethod
    def backward(ctx: Function, g: np.ndarray) -> Grads:
        return 2 * ctx.saved[0] * g


class Sin(Function):
    """sin a; ∂a = g·cos a"""

    @staticmethod
    def forward(ctx: Function, a: np.ndarray) -> Any:
        ctx.save_for_backward(a)
        return np.sin(a)

    @staticmethod
    def backward(ctx: Function, g: np.ndarray) -> Grads:
        return g * np.cos(ctx.saved[0])


class Cos(Function):
    """cos a; ∂a = −g·sin a"""

    @staticmethod
    def forward(ctx: Function, a: np.ndarray) -> Any:
        ctx.save_for_backward(a)
        return np.cos(a)

    @staticmethod
    def backward(ctx: Function, g: np.ndarray) -> Grads:
        return -g * np.sin(ctx.saved[0])


class Log1p(Function):
    """ln(1 + a), exact for small a; ∂a = g / (1 + a)"""

    @staticmethod
    def forward(ctx: Function, a: np.ndarray) -> Any:
        ctx.save_for_backward(a)
        with np.errstate(divide="ignore", invalid="ignore"):   # −inf at −1, nan below, as PyTorch
            return np.log1p(a)

    @staticmethod
    def backward(ctx: Function, g: np.ndarray) -> Grads:
        with np.errstate(divide="ignore"):
            return g / (1 + ctx.saved[0])


class Expm1(Function):
    """eᵃ − 1, exact for small a; ∂a = g·eᵃ = g·(out + 1)"""

    @staticmethod
    def forward(ctx: Function, a: np.ndarray) -> Any:
        with np.errstate(over="ignore"):
            out = np.expm1(a)
        ctx.save_for_backward(out)
        return out

    @staticmethod
    def backward(ctx: Function, g: np.ndarray) -> Grads:
        return g * (ctx.saved[0] + 1)


class Reciprocal(Function):
    """1/a; ∂a = −g/a² = −g·out²"""

    @staticmethod
    def forward(ctx: Function, a: np.ndarray) -> Any:
        with np.errstate(divide="ignore"):
            out = 1 / a
        ctx.save_for_backward(out)
        return out

    @staticmethod
    def backward(ctx: Function, g: np.ndarray) -> Grads:
        y = ctx.saved[0]
        return -g * (y * y)


ROUNDINGS: dict[str, Callable[..., np.ndarray]] = {"floor": np.floor, "ceil": np.ceil, "round": np.round,
                                                   "trunc": np.trunc}


class Round(Function):
    """floor, ceil, round (half to even, to `decimals` places, as PyTorch) or trunc of a, by `mode`; ∂a = 0
    (piecewise constant)"""

    @staticmethod
    def forward(ctx: Function, a: np.ndarray, mode: Any, decimals: int = 0) -> Any:
        if a.dtype.kind == "b":
            raise NotImplementedError(f"\"{mode}_vml_cpu\" not implemented for 'Bool'")
        ctx.save_for_backward(a.shape, a.dtype)
        if a.dtype.kind != "f":
            return a.copy()                                  # an integer is its own rounding
        return np.round(a, decimals) if decimals else ROUNDINGS[mode](a)

    @staticmethod
    def backward(ctx: Function, g: np.ndarray) -> Grads:
        shape, dtype = ctx.saved
        return np.zeros(shape, dtype)
