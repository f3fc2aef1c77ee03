"""LayerNorm (Ba et al. 2016) from tape ops: y = (x − mean) / √(var + eps) · weight + bias over the last
len(normalized_shape) dims, var biased (÷N) as torch's; weight ones and bias zeros at first."""
import numbers

import numpy as np

from ..tensor import Tensor, _float_dtype
from .module import Module, Parameter

__all__ = ["LayerNorm"]


class LayerNorm(Module):
    """LayerNorm(normalized_shape, eps=1e-5, elementwise_affine=True, bias=True, dtype=None): weight and bias of
    shape normalized_shape when elementwise_affine (bias only if bias=True). forward((*, *normalized_shape))."""

    def __init__(self, normalized_shape, eps=1e-5, elementwise_affine=True, bias=True, dtype=None):
        super().__init__()
        if isinstance(normalized_shape, numbers.Integral):
            normalized_shape = (normalized_shape,)
        self.normalized_shape = tuple(int(s) for s in normalized_shape)
        self.eps, self.elementwise_affine = eps, elementwise_affine
        dt = _float_dtype(dtype)
        if elementwise_affine:
            self.weight = Parameter(np.ones(self.normalized_shape, dtype=dt))
            if bias:
                self.bias = Parameter(np.zeros(self.normalized_shape, dtype=dt))
            else:
                self.register_parameter("bias", None)
        else:
            self.register_parameter("weight", None)
            self.register_parameter("bias", None)

    def forward(self, input):
        if not isinstance(input, Tensor):
            raise TypeError(f"LayerNorm: expected input to be a Tensor, but got {type(input).__name__}")
        k = len(self.normalized_shape)
        if input.ndim < k or tuple(input.shape[input.ndim - k:]) != self.normalized_shape:
            expected = ", ".join(["*"] + [str(s) for s in self.normalized_shape])
            raise RuntimeError(f"Given normalized_shape={list(self.normalized_shape)}, expected input with shape "
                               f"[{expected}], but got input of size{list(input.shape)}")
        dims = tuple(range(input.ndim - k, input.ndim))
        centered = input - input.mean(dim=dims, keepdim=True)
        var = (centered * centered).mean(dim=dims, keepdim=True)
        out = centered * (var + self.eps) ** -0.5
        if self.weight is not None:
            out = out * self.weight
        if self.bias is not None:
            out = out + self.bias
        return out

    def extra_repr(self):
        return (f"{self.normalized_shape}, eps={self.eps}, elementwise_affine={self.elementwise_affine}, "
                f"bias={self.bias is not None}")
