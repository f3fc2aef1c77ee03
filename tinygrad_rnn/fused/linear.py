"""act(x @ Wᵀ + b) as one tape node: one kernel call forward, one backward (the NumPy twin without the kernels)."""
from ..backend import calls
from ..function import Function
from . import workspace
from .outer_sum import OuterSum


class LinearAct(Function):
    """y = act(x @ Wᵀ + b (+ b₂)) for x (..., I), W (O, I), b, b₂ (O,); act in identity, sigmoid, tanh, hard_sigmoid"""

    grad_read_only = True   # backward reads g (the kernel's dz is its own array, or g itself for identity)

    @staticmethod
    def forward(ctx, x, weight, bias=None, bias2=None, act="identity"):
        lead = x.shape[:-1]
        x2 = x.reshape(-1, x.shape[-1]) if x.ndim != 2 else x
        y = calls.linear_act_forward(x2, weight, bias if bias2 is None else bias + bias2, act,
                                     workspace.kernel_output((x2.shape[0], weight.shape[0]), x2.dtype))
        # x as given, not x2: see inplace.py
        ctx.save_for_backward(x, weight, y, act, (bias is not None) + (bias2 is not None))
        return y.reshape(lead + (weight.shape[0],)) if x.ndim != 2 else y

    @staticmethod
    def backward(ctx, g):
        x, weight, y, act, biases = ctx.saved
        has_bias = biases > 0
        x_shape, x2 = x.shape, x.reshape(-1, x.shape[-1]) if x.ndim != 2 else x
        need = ctx.needs_input_grad
        lazy_dw = act == "identity" and need[1]          # dW = gᵀ x, left to the tape as an OuterSum: it may
        dx, dw, db = calls.linear_act_backward(       # join other terms, and a leaf takes it without a copy
            x2, weight, y, g.reshape(y.shape), act,
            need_dx=need[0], need_dW=need[1] and not lazy_dw, need_db=has_bias and True in need[2:],
            empty=workspace.empty,
        )
        dx = dx.reshape(x_shape) if dx is not None else None
        if lazy_dw:
            dw = OuterSum(g.reshape(y.shape), x2)
        if biases == 2:                                  # each bias its own array (a hook may change one in place)
            return dx, dw, db if need[2] else None, db.copy() if need[3] else None
        return (dx, dw, db) if has_bias else (dx, dw)


def linear(x, weight, bias=None, act="identity"):
    """act(x @ weightᵀ + bias) for Tensors x (..., I), weight (O, I), bias (O,): one fused node."""
    args = (x, weight) if bias is None else (x, weight, bias)
    return LinearAct.apply(*args, act=act)


def projection(x, weight, bias_ih, bias_hh):
    """x @ weightᵀ + bias_ih + bias_hh, one fused node: a recurrent layer's input projection with both its biases,
    which add to the same pre-activation (no node of their own for b_ih + b_hh, which cost an LSTM layer call a
    tenth of its Python time); the sum is taken in that order, as the Add node took it."""
    return LinearAct.apply(x, weight, bias_ih, bias_hh)
