"""Binary ops with broadcasting, one Function class each: forward on ndarrays, backward right beside it."""
import numpy as np

from ..function import Function, unbroadcast


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
