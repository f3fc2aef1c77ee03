"""Linear: y = x @ Wᵀ + b with PyTorch's layout and initialisation, one fused tape node."""
from __future__ import annotations

import numpy as np

from ..fused import linear
from ..tensor import Tensor, _float_dtype
from . import init
from .checks import check_size
from .module import Module, Parameter
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from .._typing import DTypeLike


class Linear(Module):
    """weight (out_features, in_features), bias (out_features,), both U(±1/√in_features) as PyTorch.

    forward(input (..., in_features)) -> (..., out_features), recorded as one node (the linear_act kernel).
    """

    def __init__(self, in_features: int, out_features: int, bias: bool = True, dtype: DTypeLike = None) -> None:
        super().__init__()
        check_size("Linear", "in_features", in_features)
        check_size("Linear", "out_features", out_features)
        self.in_features, self.out_features = in_features, out_features
        dt = _float_dtype(dtype)
        bound = 1.0 / np.sqrt(in_features)
        self.weight = Parameter(init.uniform((out_features, in_features), bound, dt))
        if bias:
            self.bias = Parameter(init.uniform((out_features,), bound, dt))
        else:
            self.register_parameter("bias", None)

    def forward(self, input: Tensor) -> Tensor:
        if not isinstance(input, Tensor):
            raise TypeError(f"Linear: expected input to be a Tensor, but got {type(input).__name__}")
        if input.ndim == 0:
            raise ValueError("Linear: expected input to have 1 or more dimensions (..., in_features), but got a 0-D "
                             "tensor")
        if input.shape[-1] != self.in_features:
            raise ValueError(f"Linear: input.size(-1) must be equal to in_features. Expected {self.in_features}, "
                             f"got {input.shape[-1]} (input shape {tuple(input.shape)})")
        if input.dtype != self.weight.dtype:
            raise ValueError(f"Linear: expected input of dtype {self.weight.dtype} (the parameters' dtype), but got "
                             f"{input.dtype}")
        return linear(input, self.weight, self.bias)  # type: ignore[operator]  # fused.linear the function, not the module of that name

    def extra_repr(self) -> str:
        return f"in_features={self.in_features}, out_features={self.out_features}, bias={self.bias is not None}"
