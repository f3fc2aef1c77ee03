"""Activation modules (torch.nn's ReLU, Tanh, Sigmoid, GELU, Softmax, LogSoftmax): each is one tape op; GELU's
node (exact, with erf, or torch's tanh approximation) lives here, with its functional form `gelu`.

`inplace=True` (ReLU) is accepted for ported code and computed out of place: the tape never overwrites an input.
Softmax and LogSoftmax without `dim` choose it as torch does (0 for 0-, 1- and 3-D inputs, else 1), with torch's
deprecation warning.
"""
from __future__ import annotations

import math
import warnings

import numpy as np

from ..function import Function
from ..tensor import Tensor
from .module import Module
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from typing import Any
    from .._typing import DimArg

__all__ = ["GELU", "LogSoftmax", "ReLU", "Sigmoid", "Softmax", "Tanh", "gelu"]

APPROXIMATIONS = ("none", "tanh")
_SQRT_2_OVER_PI = math.sqrt(2.0 / math.pi)
_TANH_CUBIC = 0.044715


class Gelu(Function):
    """x·Φ(x) = ½x(1 + erf(x/√2)), ∂x = g·(Φ(x) + x·φ(x)); with approximate='tanh' ½x(1 + tanh(u)),
    u = √(2/π)(x + 0.044715x³), ∂x = g·(½(1 + tanh u) + ½x(1 − tanh²u)·√(2/π)(1 + 3·0.044715x²))"""

    @staticmethod
    def forward(ctx: Any, x: Any, approximate: str = "none") -> Tensor:
        if approximate == "tanh":
            with np.errstate(over="ignore"):           # x³ overflows for |x| > ~1e102 (f64): tanh is ±1 there
                t = np.tanh(_SQRT_2_OVER_PI * (x + _TANH_CUBIC * x * x * x))
            ctx.save_for_backward(x, t, approximate)
            return (0.5 * x * (1 + t)).astype(x.dtype, copy=False)
        from scipy.special import erf                 # here, not at import: scipy.special costs ~60 ms to load
        cdf = 0.5 * (1 + erf(x * (1 / math.sqrt(2.0))))
        ctx.save_for_backward(x, cdf, approximate)
        return (x * cdf).astype(x.dtype, copy=False)

    @staticmethod
    def backward(ctx: Any, g: Any) -> Tensor:
        x, saved, approximate = ctx.saved
        if approximate == "tanh":
            t = saved
            sech2 = 1 - t * t
            with np.errstate(over="ignore", invalid="ignore"):
                slope = 0.5 * x * sech2 * _SQRT_2_OVER_PI * (1 + 3 * _TANH_CUBIC * x * x)
            slope = np.where(sech2 == 0, 0, slope)     # saturated: the tail term is 0 (not 0·inf)
            return (g * (0.5 * (1 + t) + slope)).astype(x.dtype, copy=False)
        with np.errstate(under="ignore"):
            pdf = np.exp(-0.5 * x * x) * (1 / math.sqrt(2 * math.pi))
        return (g * (saved + x * pdf)).astype(x.dtype, copy=False)


def _check_approximate(approximate: str) -> None:
    if not isinstance(approximate, str) or approximate not in APPROXIMATIONS:
        raise RuntimeError("approximate argument must be either none or tanh.")


def gelu(input: Tensor, approximate: str = "none") -> Tensor:
    """GELU(x) = x·Φ(x) (Φ the standard normal CDF); approximate='tanh' is torch's tanh formula."""
    _check_approximate(approximate)
    if not isinstance(input, Tensor):
        raise TypeError(f"gelu: expected input to be a Tensor, but got {type(input).__name__}")
    if input.dtype.kind != "f":                        # an integer or bool tensor: float32, as Tensor.sigmoid
        input = input.float()
    return Gelu.apply(input, approximate=approximate)


class ReLU(Module):
    """max(0, x)."""

    def __init__(self, inplace: bool = False) -> None:
        super().__init__()
        self.inplace = inplace

    def forward(self, input: Tensor) -> Tensor:
        return input.relu()

    def extra_repr(self) -> str:
        return "inplace=True" if self.inplace else ""


class Tanh(Module):
    """tanh(x) elementwise, as torch.nn.Tanh; any shape."""

    def forward(self, input: Tensor) -> Tensor:
        return input.tanh()


class GELU(Module):
    """gelu as a Module: GELU(approximate='none'|'tanh')."""

    def __init__(self, approximate: str = "none") -> None:
        super().__init__()
        _check_approximate(approximate)
        self.approximate = approximate

    def forward(self, input: Tensor) -> Tensor:
        return gelu(input, approximate=self.approximate)

    def extra_repr(self) -> str:
        return f"approximate={self.approximate!r}"


class Sigmoid(Module):
    """1 / (1 + e^(−x)), finite at ±1000."""

    def forward(self, input: Tensor) -> Tensor:
        return input.sigmoid()


def _softmax_dim(name: str, ndim: int, stacklevel: int = 3) -> Any:
    warnings.warn(f"Implicit dimension choice for {name} has been deprecated. Change the call to include dim=X as "
                  f"an argument.", UserWarning, stacklevel=stacklevel)
    return 0 if ndim in (0, 1, 3) else 1


class Softmax(Module):
    """e^x / Σ e^x along `dim` (stable)."""

    def __init__(self, dim: DimArg = None) -> None:
        super().__init__()
        self.dim = dim

    def forward(self, input: Tensor) -> Tensor:
        dim = _softmax_dim("softmax", input.ndim) if self.dim is None else self.dim
        return input.softmax(dim)

    def extra_repr(self) -> str:
        return f"dim={self.dim}"


class LogSoftmax(Module):
    """x − log Σ e^x along `dim` (stable)."""

    def __init__(self, dim: DimArg = None) -> None:
        super().__init__()
        self.dim = dim

    def forward(self, input: Tensor) -> Tensor:
        dim = _softmax_dim("log_softmax", input.ndim) if self.dim is None else self.dim
        return input.log_softmax(dim)

    def extra_repr(self) -> str:
        return f"dim={self.dim}"
