"""Tensor: an ndarray, its gradient, and the tape node that made it; reverse-mode backward over that tape."""
from __future__ import annotations

import builtins
import numbers

import numpy as np

from . import dtypes as _dtypes
from .dtypes import _DTYPES, _FLOATS, _GRAD_DTYPE_ERROR, _TORCH_NAMES, _dtype, _float_dtype  # noqa: F401
from .tensor_math import MathMethods
from .tensor_reduce import ReduceMethods, _dims
from .tensor_shape import ShapeMethods, cat, stack  # noqa: F401
from .tensor_index import IndexMethods, index_of
from .tensor_inplace import InplaceMethods
from .writes import set_item
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from typing import Any, Callable, Iterator
    from ._typing import DTypeLike, DeviceLike, DimArg, TensorLike
    from .function import Function


def _to_array(data: Any, dtype: Any) -> np.ndarray:
    """A fresh ndarray from `data`. Without `dtype`, ndarrays keep a dtype a tensor can hold (in native byte order:
    a big-endian '>f8' file loads as float64), integer ndarrays of other widths become int64; Python data (numbers,
    lists, even of ints or bools) becomes float32, as it always has here (PyTorch would make ints int64)."""
    if isinstance(data, Tensor):
        data = data.data
    if dtype is None and isinstance(data, (np.ndarray, np.generic)):
        native = data.dtype.newbyteorder("=")
        if native in _DTYPES:
            return np.array(data, dtype=native, copy=True)
        if native.kind in "iu":
            return np.array(data, dtype=np.int64, copy=True)
    arr = np.asarray(data)
    if arr.dtype.kind not in "biuf":
        raise TypeError(f"Tensor: expected numbers (bool, int or float data), but got dtype {arr.dtype}")
    return arr.astype(_dtype(dtype), copy=True)


def _scalar_dtype(dtype: np.dtype, other: Any) -> np.dtype:
    """The dtype a Python number or a non-float array takes against an integer or bool tensor of `dtype`, by
    PyTorch's promotion: a float makes float32, an int makes an int tensor's own dtype (int64 for a bool one),
    a bool keeps the tensor's dtype."""
    kind = np.asarray(other).dtype.kind
    if kind == "f":
        return _dtypes.default_dtype
    if kind in "iu" and dtype.kind == "b":
        return np.dtype(np.int64)
    return dtype


def _operand(other: Any) -> Any:
    """The raw data of a comparison's or a logical op's other operand."""
    return other.data if isinstance(other, Tensor) else other


def _scaled(self: Any, other: Any, alpha: float) -> Any:
    """alpha·other for add/sub's alpha=, refused as PyTorch refuses a float alpha with integer tensors."""
    if isinstance(alpha, float) and self.data.dtype.kind in "biu" and np.asarray(_operand(other)).dtype.kind in "biu":
        raise RuntimeError("For integral input tensors, argument alpha must not be a floating point number.")
    return other * alpha


def _result(data: Any) -> Tensor:
    """A comparison's or a logical op's result: off the tape (no gradient), as in PyTorch."""
    return Tensor._make(data if type(data) is np.ndarray else np.asarray(data), None)


class _Device:
    """The one device there is: `t.device == "cpu"`, `str(t.device)`, `t.device.type` as PyTorch's."""

    __slots__ = ("type",)

    def __init__(self, type: str = "cpu") -> None:
        if type != "cpu":
            raise RuntimeError(f"device {type!r} is not available: this engine runs on the CPU only")
        self.type = "cpu"

    def __eq__(self, other: object) -> bool:
        return other == "cpu" if isinstance(other, str) else isinstance(other, _Device)

    def __hash__(self) -> int:
        return hash("cpu")

    def __str__(self) -> str:
        return "cpu"

    def __repr__(self) -> str:
        return "device(type='cpu')"


device = _Device
CPU = _Device()


def _check_device(dev: Any) -> None:
    if not (dev == "cpu" or isinstance(dev, _Device)):
        raise RuntimeError(f"device {str(dev)!r} is not available: this engine runs on the CPU only")


class Tensor(MathMethods, ReduceMethods, ShapeMethods, IndexMethods, InplaceMethods):
    """A float32 (default) or float64 array that can record the ops applied to it for reverse-mode autodiff; or
    an int64, int32 or bool array (labels, indices, masks), which carries no gradient and is never on the tape.

    This class holds the data, the protocol (Python's and NumPy's), dtype conversion, the arithmetic and comparison
    operators and backward; its other methods come by family from tensor_math.py, tensor_reduce.py,
    tensor_shape.py, tensor_index.py and tensor_inplace.py."""

    __slots__ = ("data", "grad", "requires_grad", "_ctx", "_idx", "_version", "_hooks", "__weakref__")
    data: np.ndarray
    grad: np.ndarray | None
    requires_grad: builtins.bool
    _ctx: Function | None
    _idx: builtins.int
    _version: builtins.int | None
    _hooks: dict[builtins.int, Callable[[Tensor], Tensor | None]] | None
    __array_priority__ = 1000  # so ndarray + Tensor calls Tensor.__radd__

    def __init__(self, data: Any, requires_grad: bool = False, dtype: DTypeLike = None) -> None:
        self.data = _to_array(data, dtype)
        self.grad = None
        self.requires_grad = bool(requires_grad)
        if self.requires_grad and self.data.dtype.kind != "f":
            raise RuntimeError(_GRAD_DTYPE_ERROR)
        self._ctx = None
        self._idx = 0
        self._version = 0  # in-place writes by the engine (inplace.writing); a leaf's only: outputs have none
        self._hooks = None  # {handle id: fn} of register_hook, owned here so that hooks die with the tensor

    @staticmethod
    def _make(data: Any, ctx: Function | None, idx: builtins.int = 0) -> Tensor:
        """Wraps an op's output without copying; `ctx` is the node that made it (output `idx` of it), or None."""
        t = Tensor.__new__(Tensor)
        t.data = data if type(data) is np.ndarray else np.asarray(data)
        t.grad = None
        t.requires_grad = ctx is not None
        t._ctx = ctx
        t._idx = idx
        t._version = 0
        t._hooks = None
        return t

    def _coerce(self, other: Any) -> Tensor:
        """Python numbers and int/bool arrays take this float tensor's dtype (no promotion); float arrays keep
        theirs. Against an integer or bool tensor, PyTorch's promotion: see _scalar_dtype."""
        if isinstance(other, Tensor):
            return other
        if isinstance(other, numbers.Number) or not (isinstance(other, np.ndarray) and other.dtype in _FLOATS):
            dtype = self.data.dtype
            if dtype.kind != "f":
                dtype = _scalar_dtype(dtype, other)
            const = Tensor._make(np.asarray(other, dtype=dtype), None)
            const._version = None  # a constant nobody else can reach (see inplace.py): no need to guard it
            return const
        return Tensor._make(other, None)

    # ---- properties -------------------------------------------------------------------------------------
    @property
    def shape(self) -> tuple[builtins.int, ...]:
        return self.data.shape

    @property
    def ndim(self) -> builtins.int:
        return self.data.ndim

    @property
    def dtype(self) -> np.dtype:
        return self.data.dtype

    @property
    def is_leaf(self) -> builtins.bool:
        return self._ctx is None

    @property
    def grad_fn(self) -> Function | None:
        return self._ctx

    @property
    def T(self) -> Tensor:
        return self.permute(*reversed(range(self.ndim)))

    @property
    def device(self) -> _Device:
        return CPU

    @property
    def is_cuda(self) -> builtins.bool:
        return False

    def size(self, dim: builtins.int | None = None) -> Any:
        return self.data.shape if dim is None else self.data.shape[dim]

    def numel(self) -> builtins.int:
        return self.data.size

    def dim(self) -> builtins.int:
        return self.data.ndim

    def is_floating_point(self) -> builtins.bool:
        return self.data.dtype.kind == "f"

    def is_contiguous(self) -> builtins.bool:
        return self.data.flags.c_contiguous

    def __len__(self) -> builtins.int:
        if self.data.ndim == 0:
            raise TypeError("len() of a 0-d tensor")
        return len(self.data)

    def __iter__(self) -> Iterator[Tensor]:
        """The slices along dim 0, as PyTorch's iteration (one Unbind node when on the tape)."""
        if self.data.ndim == 0:
            raise TypeError("iteration over a 0-d tensor")
        return iter(self.unbind(0))

    __hash__ = object.__hash__   # identity, as PyTorch: defining __eq__ below would otherwise remove it

    def __repr__(self) -> str:
        body = np.array2string(self.data, separator=", ", prefix="tensor(", precision=4)
        dt = self.data.dtype
        extras = "" if dt == _dtypes.default_dtype or dt == np.int64 or dt == np.bool_ else f", dtype={dt}"
        if self._ctx is not None:
            extras += f", grad_fn=<{type(self._ctx).__name__}Backward>"
        elif self.requires_grad:
            extras += ", requires_grad=True"
        return f"tensor({body}{extras})"

    # ---- leaving the tape -------------------------------------------------------------------------------
    def item(self) -> Any:
        """The value of a one-element tensor as a Python number."""
        if self.data.size != 1:
            raise ValueError(f"a Tensor with {self.data.size} elements cannot be converted to Scalar")
        return self.data.item()

    def tolist(self) -> Any:
        return self.data.tolist()

    def __float__(self) -> builtins.float:
        if self.data.size != 1:
            raise ValueError("only one element tensors can be converted to Python scalars")
        return float(self.data.item())

    def __int__(self) -> builtins.int:
        if self.data.size != 1:
            raise ValueError("only one element tensors can be converted to Python scalars")
        return int(self.data.item())

    def __bool__(self) -> builtins.bool:
        if self.data.size != 1:
            what = "no values" if self.data.size == 0 else "more than one value"
            raise RuntimeError(f"Boolean value of Tensor with {what} is ambiguous")
        return bool(self.data.item())

    def __index__(self) -> builtins.int:
        if self.data.size != 1 or self.data.dtype.kind not in "biu":
            raise TypeError("only integer tensors of a single element can be converted to an index")
        return int(self.data.item())

    def __format__(self, format_spec: str) -> str:
        """A 0-d tensor formats as its number (f"{loss:.3f}"); any other as object.__format__ (its repr for "",
        PyTorch's TypeError for a format spec)."""
        if self.data.ndim == 0:
            return self.data.item().__format__(format_spec)
        return object.__format__(self, format_spec)

    def __array__(self, dtype: DTypeLike = None, copy: builtins.bool | None = None) -> np.ndarray:
        """np.asarray(t) is t's data (a copy only if `dtype` or copy=True asks for one), by NumPy 2's protocol:
        copy=False where a copy is needed is NumPy's ValueError."""
        if dtype is not None and np.dtype(dtype) != self.data.dtype:
            if copy is False:
                raise ValueError("Unable to avoid copy while creating an array as requested.")
            return self.data.astype(dtype)
        return self.data.copy() if copy else self.data

    def __dlpack__(self, *args: Any, **kwargs: Any) -> Any:
        """The data by DLPack (torch.tensor(t) and torch.from_dlpack(t) read Tensors this way)."""
        return self.data.__dlpack__(*args, **kwargs)

    def __dlpack_device__(self) -> Any:
        return self.data.__dlpack_device__()

    def numpy(self) -> np.ndarray:
        """The data as an ndarray (shared, not copied); refused while the tensor requires grad, as in PyTorch."""
        if self.requires_grad:
            raise RuntimeError("Can't call numpy() on Tensor that requires grad. Use tensor.detach().numpy() instead.")
        return self.data

    def detach(self) -> Tensor:
        """The same data, cut from the tape: gradients stop here (truncated BPTT carries state this way)."""
        return Tensor._make(self.data, None)

    def requires_grad_(self, requires_grad: builtins.bool = True) -> Tensor:
        if self._ctx is not None and not requires_grad:
            raise RuntimeError("you can only change requires_grad flags of leaf variables.")
        if requires_grad and self.data.dtype.kind != "f":
            raise RuntimeError("only Tensors of floating point dtype can require gradients")
        self.requires_grad = bool(requires_grad)
        return self

    # ---- backward ---------------------------------------------------------------------------------------
    def backward(self, gradient: Tensor | np.ndarray | None = None, retain_graph: builtins.bool | None = False
                 ) -> None:
        """Accumulates d(self)/d(leaf) · gradient into every leaf's .grad, walking the tape in reverse order."""
        if not self.requires_grad:
            raise RuntimeError("element 0 of tensors does not require grad and does not have a grad_fn")
        if gradient is None:
            if self.data.size != 1:
                raise RuntimeError("grad can be implicitly created only for scalar outputs")
            gradient = np.ones_like(self.data)
        else:
            gradient = gradient.data if isinstance(gradient, Tensor) else np.asarray(gradient, dtype=self.data.dtype)
            if gradient.shape != self.data.shape:
                raise RuntimeError(
                    f"Mismatch in shape: grad_output[0] has a shape of {gradient.shape} and output[0] has a shape "
                    f"of {self.data.shape}."
                )
        autograd.run_backward(self, gradient, retain_graph)

    def register_hook(self, hook: Callable[[Tensor], Tensor | None]) -> Any:
        """As in PyTorch: hook(grad) runs whenever backward computes the gradient w.r.t. this tensor (an ndarray,
        like `.grad`; for a leaf, before it is accumulated into `.grad`). A non-None return value replaces that
        gradient. Returns a handle whose `.remove()` unregisters the hook; the hook lives as long as the tensor."""
        return autograd.register_hook(self, hook)

    def retain_grad(self) -> None:
        """As in PyTorch: this non-leaf tensor keeps its gradient in .grad after backward (summed over backwards,
        after its other hooks); a no-op on a leaf; RuntimeError if it does not require grad."""
        autograd.retain_grad(self)

    @property
    def retains_grad(self) -> builtins.bool:
        """True once retain_grad() was called on this non-leaf tensor (False for a leaf, as PyTorch's)."""
        return autograd.retains_grad(self)

    # ---- arithmetic (reflected forms swap the operands) ---------------------------------------------------
    def __add__(self, other: TensorLike) -> Tensor:
        return ops.Add.apply(self, self._coerce(other))

    def __radd__(self, other: TensorLike) -> Tensor:
        return ops.Add.apply(self._coerce(other), self)

    def __sub__(self, other: TensorLike) -> Tensor:
        return ops.Sub.apply(self, self._coerce(other))

    def __rsub__(self, other: TensorLike) -> Tensor:
        return ops.Sub.apply(self._coerce(other), self)

    def __mul__(self, other: TensorLike) -> Tensor:
        return ops.Mul.apply(self, self._coerce(other))

    def __rmul__(self, other: TensorLike) -> Tensor:
        return ops.Mul.apply(self._coerce(other), self)

    def __truediv__(self, other: TensorLike) -> Tensor:
        return ops.Div.apply(self, self._coerce(other))

    def __rtruediv__(self, other: TensorLike) -> Tensor:
        return ops.Div.apply(self._coerce(other), self)

    def __pow__(self, other: TensorLike) -> Tensor:
        if other.__class__ is int and other < 0 and self.data.dtype.kind in "iu":   # PyTorch's refusal (a tensor
            raise RuntimeError("Integers to negative integer powers are not allowed.")  # exponent gives C's pow)
        return ops.Pow.apply(self, self._coerce(other))

    def __rpow__(self, other: TensorLike) -> Tensor:
        return ops.Pow.apply(self._coerce(other), self)

    def __matmul__(self, other: TensorLike) -> Tensor:
        return ops.MatMul.apply(self, self._coerce(other))

    def __rmatmul__(self, other: TensorLike) -> Tensor:
        return ops.MatMul.apply(self._coerce(other), self)

    def __neg__(self) -> Tensor:
        return ops.Neg.apply(self)

    def __pos__(self) -> Tensor:
        return self

    def __abs__(self) -> Tensor:
        return self.abs()

    def __floordiv__(self, other: TensorLike) -> Tensor:
        return ops.RoundedDiv.apply(self, self._coerce(other), mode="floor")

    def __rfloordiv__(self, other: TensorLike) -> Tensor:
        return ops.RoundedDiv.apply(self._coerce(other), self, mode="floor")

    def __mod__(self, other: TensorLike) -> Tensor:
        return ops.Remainder.apply(self, self._coerce(other))

    def __rmod__(self, other: TensorLike) -> Tensor:
        return ops.Remainder.apply(self._coerce(other), self)

    # ---- the operators under PyTorch's method names ---------------------------------------------------------
    def add(self, other: TensorLike, *, alpha: builtins.float = 1) -> Tensor:
        """self + alpha·other (torch.add)"""
        return self + (other if alpha == 1 else _scaled(self, other, alpha))

    def sub(self, other: TensorLike, *, alpha: builtins.float = 1) -> Tensor:
        """self − alpha·other (torch.sub)"""
        return self - (other if alpha == 1 else _scaled(self, other, alpha))

    subtract = sub

    def rsub(self, other: TensorLike, *, alpha: builtins.float = 1) -> Tensor:
        """other − alpha·self (torch.rsub)"""
        return (self if alpha == 1 else _scaled(self, self, alpha)).__rsub__(other)

    def mul(self, other: TensorLike) -> Tensor:
        return self * other

    multiply = mul

    def div(self, other: TensorLike, *, rounding_mode: str | None = None) -> Tensor:
        """self / other, true division (an integer tensor gives float32), or rounded: "trunc" toward zero, "floor"
        down (then integer tensors stay integer). The rounded forms have zero gradient, as in PyTorch."""
        if rounding_mode is None:
            return self / other
        if rounding_mode not in ("trunc", "floor"):
            raise RuntimeError(f"div expected rounding_mode to be one of None, 'trunc', or 'floor' but found "
                               f"{rounding_mode!r}")
        return ops.RoundedDiv.apply(self, self._coerce(other), mode=rounding_mode)

    divide = div

    def true_divide(self, other: TensorLike) -> Tensor:
        return self / other

    def floor_divide(self, other: TensorLike) -> Tensor:
        """self // other, rounded down (Python's and PyTorch's floor division); zero gradient (PyTorch's
        floor_divide has no derivative and raises in backward)."""
        return self // other

    def remainder(self, other: TensorLike) -> Tensor:
        """self % other with the sign of other (Python's); ∂self = 1, ∂other = −floor(self/other)"""
        return self % other

    def pow(self, exponent: TensorLike) -> Tensor:
        return self**exponent

    def neg(self) -> Tensor:
        return -self

    negative = neg

    def matmul(self, other: TensorLike) -> Tensor:
        return self @ other

    def __getitem__(self, index: Any) -> Tensor:
        """self[index] as PyTorch reads it (indexing.py: where a mixed index puts its dims differs from NumPy's)."""
        return ops.GetItem.apply(self, index=index_of(index))

    def __setitem__(self, index: Any, value: Any) -> None:
        """self[index] = value as PyTorch's index assignment, off the tape: see writes.py for what is refused
        (a leaf that requires grad, a tensor on the tape, a value that requires grad) and why."""
        set_item(self, index_of(index), value)

    # ---- comparisons and logic: bool tensors, off the tape --------------------------------------------------
    def __eq__(self, other: object) -> Any:  # elementwise, as ndarray's (False against None)
        if other is None:
            return False
        return _result(self.data == _operand(other))

    def __ne__(self, other: object) -> Any:
        if other is None:
            return True
        return _result(self.data != _operand(other))

    def __lt__(self, other: TensorLike) -> Tensor:
        return _result(self.data < _operand(other))

    def __le__(self, other: TensorLike) -> Tensor:
        return _result(self.data <= _operand(other))

    def __gt__(self, other: TensorLike) -> Tensor:
        return _result(self.data > _operand(other))

    def __ge__(self, other: TensorLike) -> Tensor:
        return _result(self.data >= _operand(other))

    eq, ne, lt, le, gt, ge = __eq__, __ne__, __lt__, __le__, __gt__, __ge__  # PyTorch's method names for them

    def equal(self, other: Tensor) -> builtins.bool:
        """True when both have the same shape and elements (torch.equal)."""
        return self.data.shape == other.data.shape and bool((self.data == other.data).all())

    def isnan(self) -> Tensor:
        return _result(np.isnan(self.data))

    def isinf(self) -> Tensor:
        return _result(np.isinf(self.data))

    def isfinite(self) -> Tensor:
        return _result(np.isfinite(self.data))

    def any(self, dim: DimArg = None, keepdim: builtins.bool = False) -> Tensor:
        return _result(self.data.any(axis=ops._axes(self.data.ndim, _dims(dim)), keepdims=keepdim))

    def all(self, dim: DimArg = None, keepdim: builtins.bool = False) -> Tensor:
        return _result(self.data.all(axis=ops._axes(self.data.ndim, _dims(dim)), keepdims=keepdim))

    def _bitwise(self, name: str, fn: Any, other: Any) -> Tensor:
        """& | ^ on integer and bool tensors (and Python ints and bools); PyTorch's error for floats."""
        data = _operand(other)
        for d in (self.data, np.asarray(data)):
            if d.dtype.kind not in "biu":
                raise NotImplementedError(f'"{name}_cpu" not implemented for \'{_TORCH_NAMES.get(d.dtype, d.dtype)}\'')
        return _result(fn(self.data, data))

    def __and__(self, other: TensorLike) -> Tensor:
        return self._bitwise("bitwise_and", np.bitwise_and, other)

    __rand__ = __and__

    def __or__(self, other: TensorLike) -> Tensor:
        return self._bitwise("bitwise_or", np.bitwise_or, other)

    __ror__ = __or__

    def __xor__(self, other: TensorLike) -> Tensor:
        return self._bitwise("bitwise_xor", np.bitwise_xor, other)

    __rxor__ = __xor__

    def __invert__(self) -> Tensor:
        if self.data.dtype.kind not in "biu":
            raise TypeError("~ (operator.invert) is only implemented on integer and Boolean-type tensors")
        return _result(np.invert(self.data))

    def logical_not(self) -> Tensor:
        return _result(np.logical_not(self.data))

    def logical_and(self, other: TensorLike) -> Tensor:
        return _result(np.logical_and(self.data, _operand(other)))

    def logical_or(self, other: TensorLike) -> Tensor:
        return _result(np.logical_or(self.data, _operand(other)))

    def logical_xor(self, other: TensorLike) -> Tensor:
        return _result(np.logical_xor(self.data, _operand(other)))

    def to(self, *args: Any, dtype: DTypeLike = None, device: DeviceLike = None, copy: builtins.bool = False) -> Tensor:
        """t.to(dtype), t.to("cpu"), t.to("cpu", dtype), t.to(other) (its dtype): float to float on the tape (the
        gradient is converted back); to an integer or bool dtype, or from one, off the tape (no gradient)."""
        for a in args:
            if isinstance(a, Tensor):
                dtype = a.data.dtype
            elif isinstance(a, (str, _Device)):
                device = a
            else:
                dtype = a
        if device is not None:
            _check_device(device)
        if dtype is None:
            return self
        dt = _dtype(dtype)
        if dt == self.data.dtype:
            return self
        if dt.kind == "f" and self.data.dtype.kind == "f":
            return ops.Cast.apply(self, dtype=dt)
        return Tensor._make(self.data.astype(dt), None)

    def type(self, dtype: DTypeLike = None) -> Any:
        """t.type(dtype) is t.to(dtype); t.type() names the type as PyTorch does ('torch.FloatTensor')."""
        if dtype is None:
            return f"torch.{_TORCH_NAMES[self.data.dtype]}Tensor"
        return self.to(dtype)

    def type_as(self, other: Tensor) -> Tensor:
        """self in other's dtype (t.to(other.dtype))"""
        return self.to(other.data.dtype)

    # ---- new tensors of self's dtype (torch's new_* methods) ---------------------------------------------------
    def new_tensor(self, data: Any, dtype: DTypeLike = None, requires_grad: builtins.bool = False,
                   device: DeviceLike = None) -> Tensor:
        """A copy of data in self's dtype (or dtype)."""
        return factories.tensor(data, dtype=dtype or self.data.dtype, requires_grad=requires_grad, device=device)

    def new_zeros(self, *size: Any, dtype: DTypeLike = None, requires_grad: builtins.bool = False,
                  device: DeviceLike = None) -> Tensor:
        return factories.zeros(*size, dtype=dtype or self.data.dtype, requires_grad=requires_grad, device=device)

    def new_ones(self, *size: Any, dtype: DTypeLike = None, requires_grad: builtins.bool = False,
                  device: DeviceLike = None) -> Tensor:
        return factories.ones(*size, dtype=dtype or self.data.dtype, requires_grad=requires_grad, device=device)

    def new_empty(self, *size: Any, dtype: DTypeLike = None, requires_grad: builtins.bool = False,
                  device: DeviceLike = None) -> Tensor:
        return factories.empty(*size, dtype=dtype or self.data.dtype, requires_grad=requires_grad, device=device)

    def new_full(self, size: Any, fill_value: Any, dtype: DTypeLike = None, requires_grad: builtins.bool = False,
                 device: DeviceLike = None) -> Tensor:
        return factories.full(size, fill_value, dtype=dtype or self.data.dtype, requires_grad=requires_grad,
                              device=device)

    def float(self) -> Tensor:
        return self if self.data.dtype == np.float32 else self.to(np.float32)

    def double(self) -> Tensor:
        return self if self.data.dtype == np.float64 else self.to(np.float64)

    def long(self) -> Tensor:
        return self.to(np.int64)

    def int(self) -> Tensor:
        return self.to(np.int32)

    def bool(self) -> Tensor:
        return self.to(np.bool_)

    def cpu(self) -> Tensor:
        return self

    def multinomial(self, num_samples: builtins.int, replacement: builtins.bool = False, generator: Any = None
                    ) -> Tensor:
        """Category indices drawn from this tensor's rows of weights: see factories.multinomial."""
        return factories.multinomial(self, num_samples, replacement, generator)

    def clone(self) -> Tensor:
        """A copy of the data, on the tape (the gradient passes through), as torch.clone."""
        return ops.Clone.apply(self)

    def contiguous(self) -> Tensor:
        """self if its data is C-contiguous, else a contiguous copy on the tape."""
        return self if self.data.flags.c_contiguous else ops.Clone.apply(self)


def engine_constant(data: Any) -> Tensor:
    """A tensor of the engine's own (a layer's zero state, a Python number made an operand): out of the user's
    reach, so the in-place guards (inplace.py) need not protect it."""
    const = Tensor._make(data, None)
    const._version = None
    return const


def where(condition: Tensor, input: Tensor, other: Tensor) -> Tensor:
    """condition ? input : other, elementwise with broadcasting; no gradient flows to the condition."""
    cond = condition.data if isinstance(condition, Tensor) else np.asarray(condition)
    if not isinstance(input, Tensor) and not isinstance(other, Tensor):  # two constants: a float array's dtype,
        floats = [v.dtype for v in (input, other) if isinstance(v, np.ndarray) and v.dtype in _FLOATS]
        input = Tensor(input, dtype=floats[0] if floats else None)      # else the default (torch: float32)
    input = input if isinstance(input, Tensor) else other._coerce(input)
    return ops.Where.apply(input, input._coerce(other), condition=cond.astype(bool, copy=False))


from . import autograd, factories, function, ops  # noqa: E402

function.set_output(Tensor._make)
