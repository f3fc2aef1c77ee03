"""Tensors made from nothing (zeros, ranges, random draws) under PyTorch's names, dtypes and messages. Random ones draw
from the engine's one generator (rng.py), so `manual_seed` makes them bit-identical from run to run."""
from __future__ import annotations

import math
import numbers

import numpy as np

from . import rng
from .dtypes import _GRAD_DTYPE_ERROR, _TORCH_NAMES, _dtype, _float_dtype
from .tensor import Tensor, _check_device
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from typing import Any
    from ._typing import DTypeLike, DeviceLike, ShapeArg

_INT64 = np.dtype(np.int64)


def _size(name: str, shape: Any) -> Any:
    """`*size` as PyTorch takes it: ints, or one tuple/list of ints; negative sizes refused with its message."""
    shape = tuple(shape[0]) if len(shape) == 1 and isinstance(shape[0], (tuple, list)) else tuple(shape)
    for n in shape:
        if isinstance(n, bool) or not isinstance(n, numbers.Integral):
            raise TypeError(f"{name}(): argument 'size' must be tuple of ints, but found element of type "
                            f"{type(n).__name__} at pos {shape.index(n)}")
    if any(n < 0 for n in shape):
        if name == "zeros":
            raise RuntimeError("zeros: Dimension size must be non-negative.")
        raise RuntimeError(f"Trying to create tensor with negative dimension {min(shape)}: {list(shape)}")
    return shape


def _new(data: Any, requires_grad: bool, device: DeviceLike) -> Any:
    if device is not None:
        _check_device(device)
    if requires_grad and data.dtype.kind != "f":
        raise RuntimeError(_GRAD_DTYPE_ERROR)                # a factory's wording (requires_grad_ has its own)
    return Tensor._make(data, None).requires_grad_(requires_grad)


def _float_only(name: str, dtype: Any) -> Any:
    dt = _dtype(dtype)
    if dt.kind != "f":
        raise NotImplementedError(f'"{name}" not implemented for \'{_TORCH_NAMES[dt]}\'')
    return dt


def tensor(data: Any, dtype: DTypeLike = None, requires_grad: bool = False, device: DeviceLike = None) -> Tensor:
    """A copy of data, its dtype inferred as torch.tensor infers it: Python bools make a bool tensor, ints an int64
    one, floats the default dtype (float32); an ndarray or a tensor keeps its dtype. (`Tensor(data)`, like
    `torch.Tensor(data)`, makes Python data float32 whatever it holds.)"""
    if device is not None:
        _check_device(device)
    if dtype is None and not isinstance(data, (Tensor, np.ndarray, np.generic)):
        kind = np.asarray(data).dtype.kind
        if kind == "b":
            dtype = np.bool_
        elif kind in "iu":
            dtype = _INT64
    return Tensor(data, requires_grad=requires_grad, dtype=dtype)


def zeros(*size: Any, dtype: DTypeLike = None, requires_grad: bool = False, device: DeviceLike = None) -> Tensor:
    """A tensor of zeros of `size` (ints or one tuple), float32 unless dtype says otherwise."""
    return _new(np.zeros(_size("zeros", size), _dtype(dtype)), requires_grad, device)


def ones(*size: Any, dtype: DTypeLike = None, requires_grad: bool = False, device: DeviceLike = None) -> Tensor:
    """A tensor of ones of `size` (ints or one tuple), float32 unless dtype says otherwise."""
    return _new(np.ones(_size("ones", size), _dtype(dtype)), requires_grad, device)


def empty(*size: Any, dtype: DTypeLike = None, requires_grad: bool = False, device: DeviceLike = None) -> Tensor:
    """Zeros, in fact: uninitialised memory would make runs differ, and the cost of filling it is small here."""
    return _new(np.zeros(_size("empty", size), _dtype(dtype)), requires_grad, device)


def _fill_dtype(fill_value: float, dtype: Any) -> Any:
    """full()'s dtype: given, else the fill value's kind (bool, int64, or float32), as torch.full infers it."""
    if dtype is not None:
        return _dtype(dtype)
    if isinstance(fill_value, (bool, np.bool_)):
        return np.dtype(np.bool_)
    return _INT64 if isinstance(fill_value, numbers.Integral) else _dtype(None)


def full(size: ShapeArg, fill_value: float, dtype: DTypeLike = None, requires_grad: bool = False,
         device: DeviceLike = None) -> Tensor:
    """A tensor of `size` filled with fill_value (its dtype from the value unless dtype says otherwise)."""
    return _new(np.full(_size("full", (size,)), fill_value, _fill_dtype(fill_value, dtype)), requires_grad, device)


def zeros_like(input: Tensor, dtype: DTypeLike = None,
               requires_grad: bool = False, device: DeviceLike = None) -> Tensor:
    """Zeros of input's shape (and dtype, unless dtype says otherwise)."""
    return _new(np.zeros(input.shape, _dtype(dtype or input.dtype)), requires_grad, device)


def ones_like(input: Tensor, dtype: DTypeLike = None, requires_grad: bool = False, device: DeviceLike = None) -> Tensor:
    """Ones of input's shape (and dtype, unless dtype says otherwise)."""
    return _new(np.ones(input.shape, _dtype(dtype or input.dtype)), requires_grad, device)


def empty_like(input: Tensor, dtype: DTypeLike = None,
               requires_grad: bool = False, device: DeviceLike = None) -> Tensor:
    """A tensor of input's shape and dtype, as torch.empty_like (filled with zeros here, not left uninitialised)."""
    return zeros_like(input, dtype=dtype, requires_grad=requires_grad, device=device)


def full_like(input: Tensor, fill_value: float, dtype: DTypeLike = None, requires_grad: bool = False,
              device: DeviceLike = None) -> Tensor:
    """The input's shape and dtype (an int tensor's fill value is truncated, as torch.full_like's)."""
    return _new(np.full(input.shape, fill_value).astype(_dtype(dtype or input.dtype)), requires_grad, device)


def arange(start: Any, end: Any = None, step: Any = 1, dtype: DTypeLike = None, requires_grad: bool = False,
           device: DeviceLike = None) -> Tensor:
    """[start, end) in steps: int64 when every bound is an int, else float32 (as torch.arange)."""
    if end is None:
        start, end = 0, start
    if step == 0:
        raise RuntimeError("step must be nonzero")
    if (end - start) * step < 0:
        raise RuntimeError("upper bound and lower bound inconsistent with step sign")
    ints = all(isinstance(v, numbers.Integral) for v in (start, end, step))
    dt = _dtype(dtype) if dtype is not None else (_INT64 if ints else _dtype(None))
    if dt.kind == "b":
        raise NotImplementedError("\"arange_cpu\" not implemented for 'Bool'")
    n = max(0, math.ceil((end - start) / step))     # torch's count: the values are start + i·step, i < n
    return _new((start + np.arange(n, dtype=np.float64 if not ints else np.int64) * step).astype(dt),
                requires_grad, device)


def linspace(start: Any, end: Any, steps: int, dtype: DTypeLike = None, requires_grad: bool = False,
             device: DeviceLike = None) -> Tensor:
    """`steps` evenly spaced values from start to end, both included: start + k·(end − start)/(steps − 1)."""
    if not isinstance(steps, numbers.Integral) or steps < 0:
        raise RuntimeError("number of steps must be non-negative")
    dt = _dtype(dtype)
    if dt.kind == "b":
        raise NotImplementedError("\"linspace_cpu\" not implemented for 'Bool'")
    return _new(np.linspace(start, end, steps).astype(dt), requires_grad, device)


def eye(n: int, m: Any = None, dtype: DTypeLike = None,
        requires_grad: bool = False, device: DeviceLike = None) -> Tensor:
    """The (n, m) identity matrix (m = n by default): ones on the diagonal, zeros elsewhere."""
    for name, v in (("n", n), ("m", m)):
        if v is not None and v < 0:
            raise RuntimeError(f"{name} must be greater or equal to 0, got {v}")
    return _new(np.eye(n, n if m is None else m, dtype=_dtype(dtype)), requires_grad, device)


def randn(*size: Any, dtype: DTypeLike = None, requires_grad: bool = False, device: DeviceLike = None) -> Tensor:
    """Standard normal samples."""
    dt = _float_dtype(_float_only("normal_kernel_cpu", dtype))
    return _new(rng.generator.standard_normal(_size("randn", size)).astype(dt), requires_grad, device)


def rand(*size: Any, dtype: DTypeLike = None, requires_grad: bool = False, device: DeviceLike = None) -> Tensor:
    """Uniform samples on [0, 1)."""
    dt = _float_dtype(_float_only("check_uniform_bounds", dtype))
    return _new(rng.generator.random(_size("rand", size)).astype(dt), requires_grad, device)


def randn_like(input: Tensor, dtype: DTypeLike = None,
               requires_grad: bool = False, device: DeviceLike = None) -> Tensor:
    """N(0, 1) draws of input's shape from the engine's generator (manual_seed fixes them)."""
    return randn(input.shape, dtype=dtype or input.dtype, requires_grad=requires_grad, device=device)


def rand_like(input: Tensor, dtype: DTypeLike = None, requires_grad: bool = False, device: DeviceLike = None) -> Tensor:
    """U[0, 1) draws of input's shape from the engine's generator (manual_seed fixes them)."""
    return rand(input.shape, dtype=dtype or input.dtype, requires_grad=requires_grad, device=device)


def randint(*args: Any, size: ShapeArg | None = None, dtype: DTypeLike = None, requires_grad: bool = False,
            device: DeviceLike = None) -> Tensor:
    """randint(high, size) or randint(low, high, size): integers drawn uniformly from [low, high), int64."""
    args = list(args)  # type: ignore[assignment]  # popped below
    if size is None and args and isinstance(args[-1], (tuple, list)):
        size = args.pop()  # type: ignore[attr-defined]
    if size is None or len(args) not in (1, 2):
        raise TypeError("randint() expects (high, size) or (low, high, size), with size a tuple of ints")
    low, high = (0, args[0]) if len(args) == 1 else args
    if low >= high:
        raise RuntimeError(f"random_ expects 'from' to be less than 'to', but got from={low} >= to={high}")
    data = rng.generator.integers(low, high, _size("randint", (size,)), dtype=np.int64)
    return _new(data.astype(_dtype(dtype) if dtype is not None else _INT64), requires_grad, device)


def randperm(n: int, *, generator: Any = None, dtype: DTypeLike = None, requires_grad: bool = False,
             device: DeviceLike = None) -> Tensor:
    """A random permutation of 0 … n − 1 (int64 by default), from the engine's generator (or `generator`)."""
    if n < 0:
        raise RuntimeError(f"Trying to create tensor with negative dimension {n}: [{n}]")
    return _new((generator or rng).generator.permutation(n).astype(_dtype(dtype) if dtype is not None else _INT64),
                requires_grad, device)


def multinomial(input: Tensor, num_samples: int, replacement: bool = False, generator: Any = None) -> Tensor:
    """Category indices (int64) drawn from each row of non-negative weights (rows need not sum to one): with
    replacement by inverse CDF, without by an exponential race (keys E/p, E ~ Exp(1), smallest first), so a row
    with fewer positive weights than `num_samples` takes its zero-weight categories last, as torch does."""
    if generator is not None:
        raise NotImplementedError("multinomial: generator= is not supported; seed with manual_seed")
    p = input.data
    if p.dtype.kind != "f":
        raise RuntimeError(f"multinomial only supports floating-point dtypes for input, got: {_TORCH_NAMES[p.dtype]}")
    if p.ndim not in (1, 2):
        raise RuntimeError("prob_dist must be 1 or 2 dim")
    if num_samples <= 0:
        raise RuntimeError("cannot sample n_sample <= 0 samples")
    rows = np.atleast_2d(p).astype(np.float64)
    if not np.isfinite(rows).all() or (rows < 0).any():
        raise RuntimeError("probability tensor contains either `inf`, `nan` or element < 0")
    totals = rows.sum(axis=1, keepdims=True)
    if (totals <= 0).any():
        raise RuntimeError("invalid multinomial distribution (sum of probabilities <= 0)")
    if not replacement and num_samples > rows.shape[1]:
        raise RuntimeError("cannot sample n_sample > prob_dist.size(-1) samples without replacement")
    if replacement:
        cdf = np.cumsum(rows, axis=1)                    # draws scaled by each row's total: below its last
        draws = rng.generator.random((rows.shape[0], num_samples)) * cdf[:, -1:]   # value, never on a zero weight
        out = np.stack([np.searchsorted(c, d, side="right") for c, d in zip(cdf, draws)])
    else:
        with np.errstate(divide="ignore"):
            keys = rng.generator.exponential(size=rows.shape) / rows
        out = np.argsort(keys, axis=1, kind="stable")[:, :num_samples]
    out = out.astype(np.int64)
    return Tensor._make(out[0] if p.ndim == 1 else out, None)


# ---- the legacy typed constructors (torch.FloatTensor(2, 3), torch.LongTensor([1, 2])) ------------------------
def _legacy(dtype: Any, args: tuple[Any, ...]) -> Tensor:
    """Sizes (ints, or one torch.Size) make zeros of that shape; anything else is data, converted to dtype."""
    if not args:
        return Tensor(np.zeros(0, dtype))
    if all(isinstance(a, numbers.Integral) and not isinstance(a, bool) for a in args):
        return zeros(*args, dtype=dtype)
    if len(args) == 1 and type(args[0]).__name__ == "Size":
        return zeros(*args[0], dtype=dtype)
    if len(args) > 1:
        raise TypeError(f"new(): expected sizes (ints) or one sequence of data, but got {len(args)} arguments")
    return Tensor(np.asarray(args[0]).astype(dtype) if not isinstance(args[0], Tensor) else args[0].data, dtype=dtype)


def FloatTensor(*args: Any) -> Tensor:
    """float32: torch.FloatTensor(2, 3) (zeros here, not uninitialised) or torch.FloatTensor(data)."""
    return _legacy(np.float32, args)


def DoubleTensor(*args: Any) -> Tensor:
    """float64, as FloatTensor."""
    return _legacy(np.float64, args)


def LongTensor(*args: Any) -> Tensor:
    """int64, as FloatTensor (floats in the data are truncated, as torch's)."""
    return _legacy(np.int64, args)


def IntTensor(*args: Any) -> Tensor:
    """int32, as FloatTensor."""
    return _legacy(np.int32, args)


def BoolTensor(*args: Any) -> Tensor:
    """bool, as FloatTensor."""
    return _legacy(np.bool_, args)
