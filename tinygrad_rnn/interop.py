"""torch's helpers around tensors that are not math: from_numpy, is_tensor, numel, allclose, isclose, equal, the
default dtype, finfo/iinfo and Size, so a PyTorch script's bookkeeping lines run unchanged."""
import numpy as np

from . import dtypes
from .dtypes import _DTYPES, _FLOATS, TORCH_NAMES
from .tensor import Tensor


def _tensor_arg(op, name, position, value):
    if not isinstance(value, Tensor):
        raise TypeError(f"{op}(): argument '{name}' (position {position}) must be Tensor, not {type(value).__name__}")
    return value


def from_numpy(ndarray):
    """A tensor sharing the array's memory (writes through either are seen by both), as torch.from_numpy."""
    if not isinstance(ndarray, np.ndarray):
        raise TypeError(f"expected np.ndarray (got {type(ndarray).__name__})")
    if ndarray.dtype not in _DTYPES:
        raise TypeError(f"can't convert np.ndarray of type numpy.{ndarray.dtype}. The only supported types are: "
                        "float64, float32, int64, int32, and bool.")
    return Tensor._make(ndarray, None)


def is_tensor(obj):
    """Whether obj is a tinygrad_rnn Tensor."""
    return isinstance(obj, Tensor)


def is_floating_point(input):
    """Whether input holds float32 or float64 (the dtypes that carry gradients)."""
    return _tensor_arg("is_floating_point", "input", 1, input).data.dtype.kind == "f"


def numel(input):
    """The number of elements."""
    return _tensor_arg("numel", "input", 1, input).data.size


def _same_dtype(op, input, other):
    _tensor_arg(op, "input", 1, input)
    _tensor_arg(op, "other", 2, other)
    if input.data.dtype != other.data.dtype:
        raise RuntimeError(f"{TORCH_NAMES[input.data.dtype]} did not match {TORCH_NAMES[other.data.dtype]}")
    try:
        np.broadcast_shapes(input.data.shape, other.data.shape)
    except ValueError:
        a, b = input.data.shape, other.data.shape
        k = next(k for k in range(1, min(len(a), len(b)) + 1) if a[-k] != b[-k] and 1 not in (a[-k], b[-k]))
        raise RuntimeError(f"The size of tensor a ({a[-k]}) must match the size of tensor b ({b[-k]}) at "
                           f"non-singleton dimension {len(a) - k}") from None


def isclose(input, other, rtol=1e-05, atol=1e-08, equal_nan=False):
    """|input − other| ≤ atol + rtol·|other| elementwise, a bool tensor"""
    _same_dtype("isclose", input, other)
    return Tensor._make(np.isclose(input.data, other.data, rtol=rtol, atol=atol, equal_nan=equal_nan), None)


def allclose(input, other, rtol=1e-05, atol=1e-08, equal_nan=False):
    """Whether every element satisfies isclose (a Python bool)"""
    return bool(isclose(input, other, rtol, atol, equal_nan).data.all())


def equal(input, other):
    """Whether both have the same shape and elements (a Python bool)"""
    return _tensor_arg("equal", "input", 1, input).equal(_tensor_arg("equal", "other", 2, other))


def get_default_dtype():
    """The dtype Python floats and the layers' weights take (float32 unless set_default_dtype changed it)."""
    return dtypes.default_dtype.type


def set_default_dtype(d):
    """Python floats, factories and new layers' weights take `d` (float32 or float64) from now on."""
    try:
        dt = np.dtype(d)
    except TypeError:
        dt = None
    if dt not in _FLOATS:
        raise TypeError("only floating-point types are supported as the default type")
    dtypes.default_dtype = dt


def finfo(type=None):
    """Machine limits of a float dtype (eps, max, min, tiny), as torch.finfo; the default dtype's when None."""
    dt = dtypes.default_dtype if type is None else np.dtype(type)
    if dt.kind != "f":
        raise TypeError(f"torch.finfo() requires a floating point input type. Use torch.iinfo to handle "
                        f"'torch.finfo' for {TORCH_NAMES.get(dt, dt)}")
    return np.finfo(dt)


def iinfo(type):
    """Machine limits of an integer dtype (min, max, bits), as torch.iinfo."""
    dt = np.dtype(type)
    if dt.kind not in "iub":
        raise TypeError("torch.iinfo() requires an integer input type. Use torch.finfo to handle "
                        f"'{TORCH_NAMES.get(dt, dt)}'")
    return np.iinfo(np.uint8 if dt.kind == "b" else dt)


class Size(tuple):
    """A shape, as torch.Size: a tuple of ints (equal to the plain tuple) with numel()."""

    def __new__(cls, sizes=()):
        sizes = tuple(sizes)
        for s in sizes:
            if not isinstance(s, (int, np.integer)) or isinstance(s, bool):
                raise TypeError(f"torch.Size() takes an iterable of 'int' (item {sizes.index(s)} is "
                                f"'{type(s).__name__}')")
        return super().__new__(cls, (int(s) for s in sizes))

    def numel(self):
        return int(np.prod(self, dtype=np.int64))

    def __repr__(self):
        return f"torch.Size({list(self)})"
