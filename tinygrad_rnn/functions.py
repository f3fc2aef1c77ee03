"""PyTorch's free functions (`torch.add(a, b)`, `torch.sum(x, dim)`, `torch.einsum(...)`): each is the Tensor method
of the same name applied to its first argument, except einsum, which has no method form. A first argument that is
not a Tensor is PyTorch's TypeError, except where PyTorch takes a number there (pow, add, sub, mul, div, ...)."""
from __future__ import annotations

import numbers

from . import ops
from .tensor import Tensor
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from typing import Any
    from ._typing import DTypeLike, DimArg, TensorLike


def _input(op: Any, value: Any) -> Tensor:
    if not isinstance(value, Tensor):
        raise TypeError(f"{op}(): argument 'input' (position 1) must be Tensor, not {type(value).__name__}")
    return value


def _pair(op: Any, input: Any, other: Any) -> tuple[Tensor, Any]:
    """(input, other) for a binary function that takes a number as either operand: a number first becomes a
    constant beside the tensor (torch.add(2, t), torch.pow(2, t))."""
    if isinstance(input, Tensor):
        return input, other
    if isinstance(input, numbers.Number) and isinstance(other, Tensor):
        return other._coerce(input), other
    raise TypeError(f"{op}(): argument 'input' (position 1) must be Tensor, not {type(input).__name__}")


# ---- arithmetic --------------------------------------------------------------------------------------------------
def add(input: Tensor, other: TensorLike, *, alpha: float = 1) -> Tensor:
    """input + alpha·other"""
    input, other = _pair("add", input, other)
    return input.add(other, alpha=alpha)


def sub(input: Tensor, other: TensorLike, *, alpha: float = 1) -> Tensor:
    """input − alpha·other"""
    input, other = _pair("sub", input, other)
    return input.sub(other, alpha=alpha)


subtract = sub


def rsub(input: Tensor, other: TensorLike, *, alpha: float = 1) -> Tensor:
    """other − alpha·input"""
    return _input("rsub", input).rsub(other, alpha=alpha)


def mul(input: Tensor, other: TensorLike) -> Tensor:
    """input · other, elementwise with broadcasting"""
    input, other = _pair("mul", input, other)
    return input.mul(other)


multiply = mul


def div(input: Tensor, other: TensorLike, *, rounding_mode: str | None = None) -> Tensor:
    """input / other; rounding_mode "trunc" or "floor" rounds the quotient (zero gradient)"""
    input, other = _pair("div", input, other)
    return input.div(other, rounding_mode=rounding_mode)


divide = div


def true_divide(input: Tensor, other: TensorLike) -> Tensor:
    """input / other (an integer tensor gives float32)"""
    input, other = _pair("true_divide", input, other)
    return input.true_divide(other)


def floor_divide(input: Tensor, other: TensorLike) -> Tensor:
    """input // other, rounded down (zero gradient)"""
    input, other = _pair("floor_divide", input, other)
    return input.floor_divide(other)


def remainder(input: Tensor, other: TensorLike) -> Tensor:
    """input − other·floor(input/other): the sign of other, as Python's %"""
    input, other = _pair("remainder", input, other)
    return input.remainder(other)


def fmod(input: Tensor, other: TensorLike) -> Tensor:
    """input − other·trunc(input/other): the sign of input, as C's fmod"""
    return _input("fmod", input).fmod(other)


def pow(input: Tensor, exponent: TensorLike) -> Tensor:  # noqa: A001  (PyTorch's name)
    """input ** exponent; either may be a number (torch.pow(2, t))."""
    input, exponent = _pair("pow", input, exponent)
    return input.pow(exponent)


def neg(input: Tensor) -> Tensor:
    """−input"""
    return _input("neg", input).neg()


negative = neg


def maximum(input: Tensor, other: TensorLike) -> Tensor:
    """max(input, other) elementwise; a tie gives each half the gradient"""
    _input("maximum", input)
    if not isinstance(other, Tensor):
        raise TypeError(f"maximum(): argument 'other' (position 2) must be Tensor, not {type(other).__name__}")
    return input.maximum(other)


def minimum(input: Tensor, other: TensorLike) -> Tensor:
    """min(input, other) elementwise; a tie gives each half the gradient"""
    _input("minimum", input)
    if not isinstance(other, Tensor):
        raise TypeError(f"minimum(): argument 'other' (position 2) must be Tensor, not {type(other).__name__}")
    return input.minimum(other)


def clamp(input: Tensor, min: TensorLike | None = None, max: TensorLike | None = None) -> Tensor:  # noqa: A002
    """min(max(input, min), max) with number or tensor bounds"""
    return _input("clamp", input).clamp(min, max)


clip = clamp


# ---- elementwise functions ---------------------------------------------------------------------------------------
def abs(input: Tensor) -> Tensor:  # noqa: A001
    """|input|"""
    return _input("abs", input).abs()


absolute = abs


def sign(input: Tensor) -> Tensor:
    """−1, 0 or 1 elementwise (0 for nan)"""
    return _input("sign", input).sign()


def sqrt(input: Tensor) -> Tensor:
    """√input"""
    return _input("sqrt", input).sqrt()


def rsqrt(input: Tensor) -> Tensor:
    """1/√input"""
    return _input("rsqrt", input).rsqrt()


def square(input: Tensor) -> Tensor:
    """input²"""
    return _input("square", input).square()


def reciprocal(input: Tensor) -> Tensor:
    """1/input"""
    return _input("reciprocal", input).reciprocal()


def exp(input: Tensor) -> Tensor:
    """e^input"""
    return _input("exp", input).exp()


def expm1(input: Tensor) -> Tensor:
    """e^input − 1, exact for small input"""
    return _input("expm1", input).expm1()


def log(input: Tensor) -> Tensor:
    """ln input"""
    return _input("log", input).log()


def log1p(input: Tensor) -> Tensor:
    """ln(1 + input), exact for small input"""
    return _input("log1p", input).log1p()


def sin(input: Tensor) -> Tensor:
    """sin input"""
    return _input("sin", input).sin()


def cos(input: Tensor) -> Tensor:
    """cos input"""
    return _input("cos", input).cos()


def tanh(input: Tensor) -> Tensor:
    """tanh input"""
    return _input("tanh", input).tanh()


def sigmoid(input: Tensor) -> Tensor:
    """1/(1 + e^(−input))"""
    return _input("sigmoid", input).sigmoid()


def relu(input: Tensor) -> Tensor:
    """max(input, 0)"""
    return _input("relu", input).relu()


def floor(input: Tensor) -> Tensor:
    """the largest integer ≤ input (zero gradient)"""
    return _input("floor", input).floor()


def ceil(input: Tensor) -> Tensor:
    """the smallest integer ≥ input (zero gradient)"""
    return _input("ceil", input).ceil()


def round(input: Tensor, *, decimals: int = 0) -> Tensor:  # noqa: A001
    """input rounded to `decimals` places, halves to even (zero gradient)"""
    return _input("round", input).round(decimals=decimals)


def trunc(input: Tensor) -> Tensor:
    """input rounded toward zero (zero gradient)"""
    return _input("trunc", input).trunc()


def softmax(input: Tensor, dim: DimArg) -> Tensor:
    """exp(input)/Σexp(input) along dim"""
    return _input("softmax", input).softmax(dim)


def log_softmax(input: Tensor, dim: DimArg) -> Tensor:
    """input − log Σexp(input) along dim"""
    return _input("log_softmax", input).log_softmax(dim)


# ---- comparisons and logic (bool tensors, no gradient) ------------------------------------------------------------
def eq(input: Tensor, other: TensorLike) -> Tensor:
    """input == other (a bool tensor)"""
    return _input("eq", input).eq(other)


def ne(input: Tensor, other: TensorLike) -> Tensor:
    """input != other (a bool tensor)"""
    return _input("ne", input).ne(other)


def lt(input: Tensor, other: TensorLike) -> Tensor:
    """input < other (a bool tensor)"""
    return _input("lt", input).lt(other)


def le(input: Tensor, other: TensorLike) -> Tensor:
    """input <= other (a bool tensor)"""
    return _input("le", input).le(other)


def gt(input: Tensor, other: TensorLike) -> Tensor:
    """input > other (a bool tensor)"""
    return _input("gt", input).gt(other)


def ge(input: Tensor, other: TensorLike) -> Tensor:
    """input >= other (a bool tensor)"""
    return _input("ge", input).ge(other)


def isnan(input: Tensor) -> Tensor:
    """whether each element is nan (a bool tensor)"""
    return _input("isnan", input).isnan()


def isinf(input: Tensor) -> Tensor:
    """whether each element is ±inf (a bool tensor)"""
    return _input("isinf", input).isinf()


def isfinite(input: Tensor) -> Tensor:
    """whether each element is finite (a bool tensor)"""
    return _input("isfinite", input).isfinite()


def logical_not(input: Tensor) -> Tensor:
    """not input, elementwise (a bool tensor)"""
    return _input("logical_not", input).logical_not()


def logical_and(input: Tensor, other: TensorLike) -> Tensor:
    """input and other, elementwise (a bool tensor)"""
    return _input("logical_and", input).logical_and(other)


def logical_or(input: Tensor, other: TensorLike) -> Tensor:
    """input or other, elementwise (a bool tensor)"""
    return _input("logical_or", input).logical_or(other)


def logical_xor(input: Tensor, other: TensorLike) -> Tensor:
    """input xor other, elementwise (a bool tensor)"""
    return _input("logical_xor", input).logical_xor(other)


# ---- matrix products ---------------------------------------------------------------------------------------------
def matmul(input: Tensor, other: TensorLike) -> Tensor:
    """input @ other, with matmul's rules for 1-D operands and batch broadcasting"""
    return _input("matmul", input).matmul(other)


def mm(input: Tensor, mat2: Tensor) -> Tensor:
    """input @ mat2 for two matrices"""
    return _input("mm", input).mm(mat2)


def bmm(input: Tensor, mat2: Tensor) -> Tensor:
    """(B, n, k) @ (B, k, m) -> (B, n, m)"""
    return _input("bmm", input).bmm(mat2)


def addmm(input: Tensor, mat1: Tensor, mat2: Tensor, *, beta: float = 1, alpha: float = 1) -> Tensor:
    """beta·input + alpha·(mat1 @ mat2)"""
    return _input("addmm", input).addmm(mat1, mat2, beta=beta, alpha=alpha)


def einsum(equation: str, *operands: Tensor) -> Tensor:
    """Einstein summation, as torch.einsum: "bi,hi->bh" (x Wᵀ), "tbh->bth" (a transpose), "bth,hk->btk", "ii->i"
    (a diagonal), "ii" (a trace), "...ij,...jk->...ik" (broadcast batches); without "->" the output is the letters
    used once, in alphabetical order. The operands may also come as one list. The backward is an einsum per
    operand."""
    if len(operands) == 1 and isinstance(operands[0], (list, tuple)):
        operands = tuple(operands[0])
    if not isinstance(equation, str):
        raise TypeError(f"einsum(): argument 'equation' (position 1) must be str, not {type(equation).__name__} "
                        f"(the sublist form einsum(a, [0, 1], b, [1, 2]) is not supported)")
    for i, t in enumerate(operands):
        if not isinstance(t, Tensor):
            raise TypeError(f"expected Tensor as element {i} in argument 1, but got {type(t).__name__}")
    inputs, output = ops.parse_einsum(equation, tuple(t.data.shape for t in operands))
    return ops.Einsum.apply(*operands, inputs=inputs, output=output)


# ---- reductions --------------------------------------------------------------------------------------------------
def sum(input: Tensor, dim: DimArg = None, keepdim: bool = False, *, dtype: DTypeLike = None, axis: DimArg = None
) -> Tensor:  # noqa: A001
    """Σ input over dim (every dim when None); integer and bool tensors sum to int64"""
    return _input("sum", input).sum(dim, keepdim, dtype=dtype, axis=axis)


def mean(input: Tensor, dim: DimArg = None, keepdim: bool = False, *, dtype: DTypeLike = None, axis: DimArg = None
) -> Tensor:
    """Σ input / n over dim"""
    return _input("mean", input).mean(dim, keepdim, dtype=dtype, axis=axis)


def prod(input: Tensor, dim: DimArg = None, keepdim: bool = False, *, dtype: DTypeLike = None, axis: DimArg = None
) -> Tensor:
    """Π input over one dim (every element when None)"""
    return _input("prod", input).prod(dim, keepdim, dtype=dtype, axis=axis)


def cumsum(input: Tensor, dim: DimArg = None, *, dtype: DTypeLike = None, axis: DimArg = None) -> Tensor:
    """the running sums of input along dim"""
    return _input("cumsum", input).cumsum(dim, dtype=dtype, axis=axis)


def var(input: Tensor, dim: DimArg = None, unbiased: bool | None = None, keepdim: bool = False, *,
        correction: float | None = None, axis: DimArg = None) -> Tensor:
    """Σ(input − mean)² / (n − correction) over dim"""
    return _input("var", input).var(dim, unbiased, keepdim, correction=correction, axis=axis)


def std(input: Tensor, dim: DimArg = None, unbiased: bool | None = None, keepdim: bool = False, *,
        correction: float | None = None, axis: DimArg = None) -> Tensor:
    """√var over dim"""
    return _input("std", input).std(dim, unbiased, keepdim, correction=correction, axis=axis)


def var_mean(input: Tensor, dim: DimArg = None, unbiased: bool | None = None, keepdim: bool = False, *,
             correction: float | None = None, axis: DimArg = None) -> tuple[Tensor, Tensor]:
    """(var, mean) over `dim`, as torch.var_mean"""
    out = _input("var_mean", input).var(dim, unbiased, keepdim, correction=correction, axis=axis)
    return out, input.mean(None if isinstance(dim, bool) else dim, keepdim, axis=axis)


def std_mean(input: Tensor, dim: DimArg = None, unbiased: bool | None = None, keepdim: bool = False, *,
             correction: float | None = None, axis: DimArg = None) -> tuple[Tensor, Tensor]:
    """(std, mean) over `dim`, as torch.std_mean"""
    out = _input("std_mean", input).std(dim, unbiased, keepdim, correction=correction, axis=axis)
    return out, input.mean(None if isinstance(dim, bool) else dim, keepdim, axis=axis)


def norm(input: Tensor, p: Any = "fro", dim: DimArg = None, keepdim: bool = False, dtype: DTypeLike = None) -> Tensor:
    """the p-norm of input over dim: (Σ|x|^p)^(1/p), max|x| for inf, the count of nonzeros for 0"""
    return _input("norm", input).norm(p, dim, keepdim, dtype)


def logsumexp(input: Tensor, dim: DimArg = None, keepdim: bool = False, *, axis: DimArg = None) -> Tensor:
    """log Σ exp(input) over dim, stable"""
    return _input("logsumexp", input).logsumexp(dim, keepdim, axis=axis)


def max(input: Tensor, dim: DimArg = None, keepdim: bool = False) -> Tensor:  # noqa: A001
    """torch.max: max(x) a 0-d tensor, max(x, dim) the named pair (values, indices), max(x, other) the maximum"""
    return _input("max", input).max(dim, keepdim)


def min(input: Tensor, dim: DimArg = None, keepdim: bool = False) -> Tensor:  # noqa: A001
    """torch.min: min(x) a 0-d tensor, min(x, dim) the named pair (values, indices), min(x, other) the minimum"""
    return _input("min", input).min(dim, keepdim)


def amax(input: Tensor, dim: DimArg = (), keepdim: bool = False, *, axis: DimArg = None) -> Tensor:
    """max over dim, values only (ties share the gradient)"""
    return _input("amax", input).amax(dim, keepdim, axis=axis)


def amin(input: Tensor, dim: DimArg = (), keepdim: bool = False, *, axis: DimArg = None) -> Tensor:
    """min over dim, values only (ties share the gradient)"""
    return _input("amin", input).amin(dim, keepdim, axis=axis)


def argmax(input: Tensor, dim: DimArg = None, keepdim: bool = False, *, axis: DimArg = None) -> Tensor:
    """the index (int64) of the first maximum along dim"""
    return _input("argmax", input).argmax(dim, keepdim, axis=axis)


def argmin(input: Tensor, dim: DimArg = None, keepdim: bool = False, *, axis: DimArg = None) -> Tensor:
    """the index (int64) of the first minimum along dim"""
    return _input("argmin", input).argmin(dim, keepdim, axis=axis)


def sort(input: Tensor, dim: DimArg = -1, descending: bool = False, *, stable: bool = False, axis: DimArg = None
) -> Tensor:
    """the named pair (values, indices) sorted along dim"""
    return _input("sort", input).sort(dim, descending, stable=stable, axis=axis)


def argsort(input: Tensor, dim: DimArg = -1, descending: bool = False, *, stable: bool = False, axis: DimArg = None
) -> Tensor:
    """the indices (int64) that sort input along dim"""
    return _input("argsort", input).argsort(dim, descending, stable=stable, axis=axis)


def topk(input: Tensor, k: int, dim: DimArg = -1, largest: bool = True, sorted: bool = True, *, axis: DimArg = None
) -> Tensor:
    """the named pair (values, indices) of the k largest (or smallest) along dim"""
    return _input("topk", input).topk(k, dim, largest, sorted, axis=axis)


def tril(input: Tensor, diagonal: int = 0) -> Tensor:
    """input's lower triangle (last two dimensions), the rest zero"""
    return _input("tril", input).tril(diagonal)


def triu(input: Tensor, diagonal: int = 0) -> Tensor:
    """input's upper triangle (last two dimensions), the rest zero"""
    return _input("triu", input).triu(diagonal)


def outer(input: Tensor, vec2: Tensor) -> Tensor:
    """input ⊗ vec2 for two vectors"""
    return _input("outer", input).outer(vec2)


ger = outer
