"""Fused ops: one tape node whose forward and backward run in a Cython kernel (NumPy twin as fallback)."""
from . import _backend
from .function import Function


class LinearAct(Function):
    """y = act(x @ Wᵀ + b) for x (..., I), W (O, I), b (O,); act in identity, sigmoid, tanh, hard_sigmoid"""

    @staticmethod
    def forward(ctx, x, weight, bias=None, act="identity"):
        lead = x.shape[:-1]
        x2 = x.reshape(-1, x.shape[-1]) if x.ndim != 2 else x
        y = _backend.linear_act_forward(x2, weight, bias, act)
        ctx.save_for_backward(x2, weight, y, act, x.shape, bias is not None)
        return y.reshape(lead + (weight.shape[0],)) if x.ndim != 2 else y

    @staticmethod
    def backward(ctx, g):
        x2, weight, y, act, x_shape, has_bias = ctx.saved
        need = ctx.needs_input_grad
        dx, dw, db = _backend.linear_act_backward(
            x2, weight, y, g.reshape(y.shape), act,
            need_dx=need[0], need_dW=need[1], need_db=has_bias and need[2],
        )
        dx = dx.reshape(x_shape) if dx is not None else None
        return (dx, dw, db) if has_bias else (dx, dw)
