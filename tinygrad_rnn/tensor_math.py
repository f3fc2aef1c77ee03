"""Tensor's elementwise math methods and matrix products (a mixin of Tensor: each method is one op of ops/ applied to
self). The operators and their PyTorch method names (add, sub, mul, div, pow, matmul, ...) are in tensor.py."""
from __future__ import annotations

import builtins
import numbers

import numpy as np

from . import ops
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from typing import Any
    from ._typing import TensorLike
    from .tensor import Tensor


def _floating(t: Any) -> Any:
    """An integer or bool tensor as float32, as PyTorch's floating-point functions take it (sqrt of an int64
    tensor is float32); a float tensor as it is."""
    return t if t.data.dtype.kind == "f" else t.float()


def _tensor_arg(name: str, arg: Any, position: Any, value: Any) -> Any:
    """PyTorch's TypeError for an argument that must be a Tensor (maximum, mm, ...)."""
    if not isinstance(value, MathMethods):
        raise TypeError(f"{name}(): argument '{arg}' (position {position}) must be Tensor, not "
                        f"{type(value).__name__}")
    return value


def _number(bound: Any) -> Any:
    """A clamp bound as a Python number: a NumPy float64 scalar would otherwise make a float32 result float64."""
    return bound.item() if hasattr(bound, "item") else bound


def _triangle(op: str, shape: tuple[int, ...], diagonal: int, zeroed: Any, k: int) -> np.ndarray:
    """The mask of what tril/triu zero: `zeroed`'s triangle from diagonal k, over the last two dimensions."""
    if len(shape) < 2:
        raise RuntimeError(f"{op}: input tensor must have at least 2 dimensions")
    if not isinstance(diagonal, numbers.Integral) or isinstance(diagonal, bool):
        raise TypeError(f"{op}(): argument 'diagonal' (position 2) must be int, not {type(diagonal).__name__}")
    return zeroed(np.ones(shape[-2:], dtype=bool), k)


class MathMethods:
    __slots__ = ()
    if TYPE_CHECKING:  # what these methods use of Tensor (which defines each), declared for mypy
        data: np.ndarray
        @property
        def shape(self) -> tuple[int, ...]: ...
        def _coerce(self, other: TensorLike) -> Tensor: ...
        def float(self) -> Tensor: ...
        def long(self) -> Tensor: ...
        @property
        def ndim(self) -> int: ...
        def masked_fill(self, mask: Any, value: Any) -> Tensor: ...
        def unsqueeze(self, dim: Any) -> Tensor: ...

    # ---- float functions: an integer or bool tensor is taken as float32 ---------------------------------------
    def exp(self) -> Tensor:
        return ops.Exp.apply(_floating(self))

    def expm1(self) -> Tensor:
        """eˣ − 1, exact for small x"""
        return ops.Expm1.apply(_floating(self))

    def log(self) -> Tensor:
        return ops.Log.apply(_floating(self))

    def log1p(self) -> Tensor:
        """ln(1 + x), exact for small x"""
        return ops.Log1p.apply(_floating(self))

    def sqrt(self) -> Tensor:
        """√x; the gradient at 0 is inf, as in PyTorch"""
        return ops.Sqrt.apply(_floating(self))

    def rsqrt(self) -> Tensor:
        """1/√x"""
        return ops.Rsqrt.apply(_floating(self))

    def reciprocal(self) -> Tensor:
        """1/x"""
        return ops.Reciprocal.apply(_floating(self))

    def sin(self) -> Tensor:
        return ops.Sin.apply(_floating(self))

    def cos(self) -> Tensor:
        return ops.Cos.apply(_floating(self))

    def sigmoid(self) -> Tensor:
        return ops.Sigmoid.apply(_floating(self))

    def tanh(self) -> Tensor:
        return ops.Tanh.apply(_floating(self))

    def hard_sigmoid(self) -> Tensor:
        return ops.HardSigmoid.apply(_floating(self))

    # ---- functions that keep an integer tensor's dtype ----------------------------------------------------------
    def relu(self) -> Tensor:
        """max(x, 0) elementwise; ∂x = g where x > 0, else 0. Same shape."""
        return ops.ReLU.apply(self)

    def abs(self) -> Tensor:
        """|x|; the gradient at 0 is 0, as in PyTorch"""
        return ops.Abs.apply(self)

    absolute = abs

    def sign(self) -> Tensor:
        """−1, 0 or 1 (0 for nan, as in PyTorch); zero gradient"""
        return ops.Sign.apply(self)

    def square(self) -> Tensor:
        """x² (a bool tensor gives int64, as in PyTorch)"""
        return ops.Square.apply(self.long() if self.data.dtype.kind == "b" else self)

    def floor(self) -> Tensor:
        return ops.Round.apply(self, mode="floor")

    def ceil(self) -> Tensor:
        return ops.Round.apply(self, mode="ceil")

    def round(self, *, decimals: int = 0) -> Tensor:
        """x rounded to `decimals` places (to an integer by default), halves to even (as PyTorch and NumPy);
        zero gradient"""
        return ops.Round.apply(self, mode="round", decimals=decimals)

    def trunc(self) -> Tensor:
        return ops.Round.apply(self, mode="trunc")

    # ---- two tensors ---------------------------------------------------------------------------------------------
    def maximum(self, other: TensorLike) -> Tensor:
        """The elementwise maximum (nan if either is nan); where they tie, each gets half the gradient (PyTorch)."""
        return ops.Maximum.apply(self, _tensor_arg("maximum", "other", 1, other))

    def minimum(self, other: TensorLike) -> Tensor:
        """The elementwise minimum (nan if either is nan); where they tie, each gets half the gradient (PyTorch)."""
        return ops.Minimum.apply(self, _tensor_arg("minimum", "other", 1, other))

    def fmod(self, other: TensorLike) -> Tensor:
        """self − other·trunc(self/other): the remainder with the sign of self (C's fmod; % is Python's)"""
        return ops.Fmod.apply(self, self._coerce(other))

    def clip(self, min: TensorLike | None = None, max: TensorLike | None = None) -> Tensor:
        """min(max(self, min), max) with numbers or tensors (broadcast) as bounds. At a bound the gradient goes to
        self; a tensor bound gets it where it clamps (where min > max everything is max, and max gets it), as in
        PyTorch."""
        if isinstance(min, (MathMethods, np.ndarray)) or isinstance(max, (MathMethods, np.ndarray)):
            bounds = [(name, b) for name, b in (("min", min), ("max", max)) if b is not None]
            return ops.ClampTensors.apply(self, *[self._coerce(b) for _, b in bounds],
                                          bounds=tuple(name for name, _ in bounds))
        min, max = _number(min), _number(max)
        if self.data.dtype.kind != "f" and any(isinstance(b, float) for b in (min, max)):
            return ops.Clip.apply(self.float(), min=min, max=max)     # an int tensor, a float bound: float32
        return ops.Clip.apply(self, min=min, max=max)

    clamp = clip

    def clamp_min(self, min: TensorLike | None) -> Tensor:
        return self.clip(min=min)

    def clamp_max(self, max: TensorLike | None) -> Tensor:
        return self.clip(max=max)

    # ---- triangles and outer products ----------------------------------------------------------------------------
    def tril(self, diagonal: int = 0) -> Tensor:
        """self with what lies above its `diagonal`-th diagonal (last two dimensions) zeroed; ∂ = g masked alike"""
        return self.masked_fill(_triangle("tril", self.shape, diagonal, np.triu, diagonal + 1), 0)

    def triu(self, diagonal: int = 0) -> Tensor:
        """self with what lies below its `diagonal`-th diagonal (last two dimensions) zeroed; ∂ = g masked alike"""
        return self.masked_fill(_triangle("triu", self.shape, diagonal, np.tril, diagonal - 1), 0)

    def outer(self, vec2: Tensor) -> Tensor:
        """self ⊗ vec2: (n,) and (m,) -> (n, m), out[i, j] = self[i] · vec2[j]"""
        vec2 = _tensor_arg("outer", "vec2", 1, vec2)
        for name, t in (("self", self), ("vec2", vec2)):
            if t.ndim != 1:
                raise RuntimeError(f"outer: Expected 1-D argument {name}, but got {t.ndim}-D")
        return self.unsqueeze(1) * vec2.unsqueeze(0)

    ger = outer

    # ---- matrix products -----------------------------------------------------------------------------------------
    def mm(self, mat2: Tensor) -> Tensor:
        """self @ mat2 for two matrices (torch.mm: no broadcasting, no 1-D operands)"""
        ops.check_mm(self.shape, _tensor_arg("mm", "mat2", 1, mat2).shape)
        return ops.MatMul.apply(self, mat2)

    def bmm(self, mat2: Tensor) -> Tensor:
        """(B, n, k) @ (B, k, m) -> (B, n, m) (torch.bmm: the same batch size, no broadcasting)"""
        ops.check_bmm(self.shape, _tensor_arg("bmm", "mat2", 1, mat2).shape)
        return ops.MatMul.apply(self, mat2)

    def addmm(self, mat1: Tensor, mat2: Tensor, *, beta: builtins.float = 1, alpha: builtins.float = 1) -> Tensor:
        """beta·self + alpha·(mat1 @ mat2), self broadcast to the product's shape (torch.addmm)"""
        for k, (arg, m) in enumerate((("mat1", mat1), ("mat2", mat2))):
            _tensor_arg("addmm", arg, k + 1, m)
        for name, scalar in (("beta", beta), ("alpha", alpha)):
            if not isinstance(scalar, numbers.Number):
                raise TypeError(f"addmm(): argument '{name}' must be Number, not {type(scalar).__name__}")
        return ops.Addmm.apply(self, mat1, mat2, beta=beta, alpha=alpha)
