"""The Function contract: static forward/backward on raw ndarrays; `apply` records the node on the tape."""
import numpy as np

from . import grad_mode
from .tensor import Tensor


def unbroadcast(grad, shape):
    """Sum `grad` over the axes NumPy broadcasting added or stretched, so it gets `shape` back."""
    if grad.shape == shape:
        return grad
    extra = grad.ndim - len(shape)
    if extra:
        grad = grad.sum(axis=tuple(range(extra)))
    stretched = tuple(i for i, n in enumerate(shape) if n == 1 and grad.shape[i] != 1)
    if stretched:
        grad = grad.sum(axis=stretched, keepdims=True)
    return grad


class Function:
    """One node of the tape. The instance is the `ctx` handed to forward and backward.

    Subclasses write `forward(ctx, *arrays, **options) -> ndarray` and `backward(ctx, grad) -> tuple`
    (one entry per Tensor input, None where no gradient is needed), both static, on ndarrays only.
    A forward may return a tuple of arrays: `apply` then returns a tuple of Tensors, and backward gets a
    tuple of gradients, None for an output that received none.
    """

    __slots__ = ("parents", "saved", "needs_input_grad", "freed", "n_out")

    def save_for_backward(self, *arrays):
        self.saved = arrays

    @classmethod
    def apply(cls, *tensors, **options):
        dtype = tensors[0].data.dtype
        for t in tensors[1:]:
            if t.data.dtype != dtype:
                raise TypeError(
                    f"{cls.__name__}: expected all inputs to have the same dtype, but got {dtype} and "
                    f"{t.data.dtype} (convert one with .float() or .double())"
                )
        ctx = cls()
        ctx.needs_input_grad = tuple(t.requires_grad for t in tensors)
        ctx.saved = ()
        ctx.freed = False
        out = cls.forward(ctx, *[t.data for t in tensors], **options)
        if grad_mode.enabled and any(ctx.needs_input_grad):
            ctx.parents = tensors
        else:
            ctx = None
        if type(out) is tuple:
            if ctx is not None:
                ctx.n_out = len(out)
            return tuple(Tensor._make(o, ctx, i) for i, o in enumerate(out))
        if ctx is not None:
            ctx.n_out = 0
        return Tensor._make(out, ctx)

    @staticmethod
    def forward(ctx, *arrays, **options):
        raise NotImplementedError

    @staticmethod
    def backward(ctx, grad):
        raise NotImplementedError

    def __repr__(self):
        return f"<{type(self).__name__}>"
