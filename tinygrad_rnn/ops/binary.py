"""Binary ops with broadcasting, one Function class each: forward on ndarrays, backward right beside it."""
from __future__ import annotations

import numpy as np

from ..function import Function, unbroadcast
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from typing import Any
    from .._typing import Grads


def _mismatch(shape_a: Any, shape_b: Any, error: Exception) -> Any:
    """PyTorch's RuntimeError for shapes that do not broadcast (NumPy's ValueError names neither operand), counted
    from the right as PyTorch finds it; `error` itself when the shapes do broadcast (some other failure)."""
    n = max(len(shape_a), len(shape_b))
    sa, sb = (1,) * (n - len(shape_a)) + tuple(shape_a), (1,) * (n - len(shape_b)) + tuple(shape_b)
    for i in reversed(range(n)):
        if sa[i] != sb[i] and sa[i] != 1 and sb[i] != 1:
            return RuntimeError(f"The size of tensor a ({sa[i]}) must match the size of tensor b ({sb[i]}) at "
                                f"non-singleton dimension {i}")
    return error


class Add(Function):
    """a + b"""

    @staticmethod
    def forward(ctx: Function, a: np.ndarray, b: np.ndarray) -> Any:
        ctx.save_for_backward(a.shape, b.shape)
        try:
            return a + b
        except ValueError as e:
            raise _mismatch(a.shape, b.shape, e) from None

    @staticmethod
    def backward(ctx: Function, g: np.ndarray) -> Grads:
        sa, sb = ctx.saved
        da, db = ctx.needs_input_grad
        return unbroadcast(g, sa) if da else None, unbroadcast(g, sb) if db else None


class Sub(Function):
    """a − b"""

    @staticmethod
    def forward(ctx: Function, a: np.ndarray, b: np.ndarray) -> Any:
        ctx.save_for_backward(a.shape, b.shape)
        try:
            return a - b
        except ValueError as e:
            raise _mismatch(a.shape, b.shape, e) from None
        except TypeError:                              # NumPy refuses bool − bool: PyTorch's message says why
            raise RuntimeError("Subtraction, the `-` operator, with two bool tensors is not supported. Use the `^` "
                               "or `logical_xor()` operator instead.") from None

    @staticmethod
    def backward(ctx: Function, g: np.ndarray) -> Grads:
        sa, sb = ctx.saved
        da, db = ctx.needs_input_grad
        return unbroadcast(g, sa) if da else None, unbroadcast(-g, sb) if db else None


class Mul(Function):
    """a · b; ∂a = g·b, ∂b = g·a"""

    @staticmethod
    def forward(ctx: Function, a: np.ndarray, b: np.ndarray) -> Any:
        ctx.save_for_backward(a, b)
        try:
            return a * b
        except ValueError as e:
            raise _mismatch(a.shape, b.shape, e) from None

    @staticmethod
    def backward(ctx: Function, g: np.ndarray) -> Grads:
        a, b = ctx.saved
        da, db = ctx.needs_input_grad
        return unbroadcast(g * b, a.shape) if da else None, unbroadcast(g * a, b.shape) if db else None


class Div(Function):
    """a / b; ∂a = g/b, ∂b = −g·a/b²"""

    @staticmethod
    def forward(ctx: Function, a: np.ndarray, b: np.ndarray) -> Any:
        ctx.save_for_backward(a, b)
        try:
            if a.dtype.kind != "f":              # integer or bool tensors: true division in float32, as PyTorch
                return a.astype(np.float32) / b.astype(np.float32)
            return a / b
        except ValueError as e:
            raise _mismatch(a.shape, b.shape, e) from None

    @staticmethod
    def backward(ctx: Function, g: np.ndarray) -> Grads:
        a, b = ctx.saved
        da, db = ctx.needs_input_grad
        return unbroadcast(g / b, a.shape) if da else None, unbroadcast(-g * a / (b * b), b.shape) if db else None


class Pow(Function):
    """a ** b; ∂a = g·b·a^(b−1) (0 where b = 0), ∂b = g·a^b·ln a (0 where a = 0 ≤ b): PyTorch's edge values"""

    @staticmethod
    def forward(ctx: Function, a: np.ndarray, b: np.ndarray) -> Any:
        try:
            out = a**b if a.dtype.kind == "f" else _integer_power(a, b)
        except ValueError as e:
            raise _mismatch(a.shape, b.shape, e) from None
        ctx.save_for_backward(a, b, out)
        return out

    @staticmethod
    def backward(ctx: Function, g: np.ndarray) -> Grads:
        a, b, out = ctx.saved
        da, db = ctx.needs_input_grad
        zero = np.zeros((), out.dtype)
        with np.errstate(divide="ignore", invalid="ignore"):   # inf and nan are the answers here, as in PyTorch
            # b = 0: a^b is the constant 1, so ∂a = 0, not 0·0^(−1) = nan at a = 0
            ga = unbroadcast(np.where(b == 0, zero, g * b * a ** (b - 1)), a.shape) if da else None
            # a = 0 ≤ b: 0^b is flat in b (∂b = 0, not 0·(−∞) = nan); a = 0 > b: inf·(−∞) = −∞, as in PyTorch
            gb = unbroadcast(g * np.where((a == 0) & (b >= 0), zero, out * np.log(a)), b.shape) if db else None
        return ga, gb


def _integer_power(a: Any, b: Any) -> Any:
    """a ** b for integer tensors, as PyTorch's integer pow (C's) where an exponent is negative: 1 and −1 keep their
    powers, every other base gives 0 (NumPy refuses; PyTorch refuses only a negative Python int exponent)."""
    if a.dtype.kind == "b":
        raise NotImplementedError("\"pow\" not implemented for 'Bool'")
    if not np.any(b < 0):
        return a**b
    out = np.broadcast_to(a, np.broadcast_shapes(a.shape, b.shape)) ** np.maximum(b, 0)
    minus_one = np.where(b % 2 == 0, 1, -1).astype(out.dtype)
    return np.where(b >= 0, out, np.where(a == 1, 1, np.where(a == -1, minus_one, 0))).astype(out.dtype)


class Where(Function):
    """condition ? a : b"""

    @staticmethod
    def forward(ctx: Function, a: np.ndarray, b: np.ndarray, condition: Any) -> Any:
        ctx.save_for_backward(a.shape, b.shape, condition)
        return np.where(condition, a, b)

    @staticmethod
    def backward(ctx: Function, g: np.ndarray) -> Grads:
        sa, sb, cond = ctx.saved
        da, db = ctx.needs_input_grad
        ga = unbroadcast(np.where(cond, g, 0), sa) if da else None
        gb = unbroadcast(np.where(cond, 0, g), sb) if db else None
        return ga, gb



def _tie_share(a: Any, b: Any, g: Any, loser: Any) -> Any:
    """maximum/minimum's gradient for a: all of g where a wins, half where a = b (PyTorch splits ties), none where
    a loses; a comparison with nan is false, so nan's side gets all of g, as in PyTorch."""
    return np.where(loser, 0, np.where(a == b, g / 2, g))


class _Extremum(Function):
    """max or min of a and b elementwise: `_pick` chooses, `_beats(x, y)` says where x wins outright; the backward
    gives each operand g where it wins, g/2 on ties (_tie_share)."""

    _pick: Any
    _beats: Any

    @staticmethod
    def forward(ctx: Any, a: np.ndarray, b: np.ndarray) -> Any:
        ctx.save_for_backward(a, b)
        try:
            return type(ctx)._pick(a, b)
        except ValueError as e:
            raise _mismatch(a.shape, b.shape, e) from None

    @staticmethod
    def backward(ctx: Any, g: np.ndarray) -> Grads:
        a, b = ctx.saved
        da, db = ctx.needs_input_grad
        beats = type(ctx)._beats
        return (unbroadcast(_tie_share(a, b, g, beats(b, a)), a.shape) if da else None,
                unbroadcast(_tie_share(a, b, g, beats(a, b)), b.shape) if db else None)


class Maximum(_Extremum):
    """max(a, b) elementwise (nan if either is); ∂a = g where a > b, g/2 where a = b (and ∂b alike)"""

    _pick = staticmethod(np.maximum)
    _beats = staticmethod(np.greater)


class Minimum(_Extremum):
    """min(a, b) elementwise (nan if either is); ∂a = g where a < b, g/2 where a = b (and ∂b alike)"""

    _pick = staticmethod(np.minimum)
    _beats = staticmethod(np.less)


def _integer_divisor(a: Any, b: Any, kernel: Any) -> None:
    """Integer division by zero is PyTorch's RuntimeError (NumPy warns and returns 0); bool tensors have none."""
    if a.dtype.kind == "b":
        raise NotImplementedError(f"\"{kernel}\" not implemented for 'Bool'")
    if a.dtype.kind in "iu" and not np.all(b):
        raise RuntimeError("ZeroDivisionError")


def _trunc_divide(a: Any, b: Any) -> Any:
    """a / b rounded toward zero; exact for integers (a − fmod(a, b) is a multiple of b)."""
    if a.dtype.kind in "iu":
        return (a - np.fmod(a, b)) // b
    return np.trunc(a / b)


class RoundedDiv(Function):
    """a / b rounded down (mode "floor": Python's //) or toward zero ("trunc"); ∂a = ∂b = 0 (piecewise constant,
    as PyTorch's div(rounding_mode=...); PyTorch's floor_divide has no derivative and raises in backward)"""

    @staticmethod
    def forward(ctx: Function, a: np.ndarray, b: np.ndarray, mode: Any) -> Any:
        _integer_divisor(a, b, f"div_{mode}_cpu")
        ctx.save_for_backward(a.shape, b.shape, a.dtype)
        try:
            with np.errstate(divide="ignore", invalid="ignore"):    # x/0: ±inf or nan, as in PyTorch
                return np.floor_divide(a, b) if mode == "floor" else _trunc_divide(a, b)
        except ValueError as e:
            raise _mismatch(a.shape, b.shape, e) from None

    @staticmethod
    def backward(ctx: Function, g: np.ndarray) -> Grads:
        sa, sb, dtype = ctx.saved
        da, db = ctx.needs_input_grad
        return np.zeros(sa, dtype) if da else None, np.zeros(sb, dtype) if db else None


class Remainder(Function):
    """a − b·floor(a/b), the sign of b (Python's %); ∂a = g, ∂b = −g·floor(a/b)"""

    @staticmethod
    def forward(ctx: Function, a: np.ndarray, b: np.ndarray) -> Any:
        _integer_divisor(a, b, "remainder_cpu")
        ctx.save_for_backward(a, b)
        try:
            with np.errstate(divide="ignore", invalid="ignore"):    # x % 0 is nan, as in PyTorch
                return np.remainder(a, b)
        except ValueError as e:
            raise _mismatch(a.shape, b.shape, e) from None

    @staticmethod
    def backward(ctx: Function, g: np.ndarray) -> Grads:
        a, b = ctx.saved
        da, db = ctx.needs_input_grad
        with np.errstate(divide="ignore", invalid="ignore"):
            gb = unbroadcast(-g * np.floor_divide(a, b), b.shape) if db else None
        return unbroadcast(g, a.shape) if da else None, gb


class Fmod(Function):
    """a − b·trunc(a/b), the sign of a (C's fmod); ∂a = g, ∂b = −g·trunc(a/b)"""

    @staticmethod
    def forward(ctx: Function, a: np.ndarray, b: np.ndarray) -> Any:
        _integer_divisor(a, b, "fmod_cpu")
        ctx.save_for_backward(a, b)
        try:
            with np.errstate(divide="ignore", invalid="ignore"):
                return np.fmod(a, b)
        except ValueError as e:
            raise _mismatch(a.shape, b.shape, e) from None

    @staticmethod
    def backward(ctx: Function, g: np.ndarray) -> Grads:
        a, b = ctx.saved
        da, db = ctx.needs_input_grad
        with np.errstate(divide="ignore", invalid="ignore"):
            gb = unbroadcast(-g * _trunc_divide(a, b), b.shape) if db else None
        return unbroadcast(g, a.shape) if da else None, gb


class ClampTensors(Function):
    """min(max(a, lo), hi) with tensor bounds (`bounds` says which of "min", "max" follow a); ∂a = g·[lo ≤ a ≤ hi],
    ∂lo = g·[a < lo < hi], ∂hi = g·[a > hi or hi < lo] (PyTorch's split, where lo > hi makes the output hi)"""

    @staticmethod
    def forward(ctx: Function, a: np.ndarray, *limits: Any, bounds: Any) -> Any:
        lo = limits[0] if bounds[0] == "min" else None
        hi = limits[-1] if bounds[-1] == "max" else None
        ctx.save_for_backward(a, lo, hi)
        try:
            out = a if lo is None else np.maximum(a, lo)
            return out if hi is None else np.minimum(out, hi)
        except ValueError as e:
            shape = a.shape
            for bound in (lo, hi):
                if bound is not None:
                    error = _mismatch(shape, bound.shape, None)  # type: ignore[arg-type]  # None: no error of its own
                    if error is not None:
                        raise error from None
                    shape = np.broadcast_shapes(shape, bound.shape)
            raise e

    @staticmethod
    def backward(ctx: Function, g: np.ndarray) -> Grads:
        a, lo, hi = ctx.saved
        need = ctx.needs_input_grad
        with np.errstate(invalid="ignore"):
            inside = np.ones(a.shape, bool)
            if lo is not None:
                inside = inside & (a >= lo)
            if hi is not None:
                inside = inside & (a <= hi)
            grads = [unbroadcast(np.where(inside, g, 0), a.shape) if need[0] else None]
            if lo is not None and need[1]:
                below = (a < lo) & (lo < hi) if hi is not None else a < lo
                grads.append(unbroadcast(np.where(below, g, 0), lo.shape))
            elif lo is not None:
                grads.append(None)
            if hi is not None and need[-1]:
                above = (a > hi) | (hi < lo) if lo is not None else a > hi
                grads.append(unbroadcast(np.where(above, g, 0), hi.shape))
            elif hi is not None:
                grads.append(None)
        return tuple(grads)
