"""The dtypes a tensor may hold, PyTorch's names for them, and the parsers of a `dtype=` argument."""
import numpy as np

_FLOATS = (np.dtype(np.float32), np.dtype(np.float64))
_INTS = (np.dtype(np.int64), np.dtype(np.int32))
_DTYPES = _FLOATS + _INTS + (np.dtype(np.bool_),)    # what a tensor may hold: only the floats carry gradients
default_dtype = np.dtype(np.float32)
# PyTorch's names for the dtypes, as its messages spell them
_TORCH_NAMES = {np.dtype(np.float32): "Float", np.dtype(np.float64): "Double", np.dtype(np.int64): "Long",
                np.dtype(np.int32): "Int", np.dtype(np.bool_): "Bool"}
_GRAD_DTYPE_ERROR = "Only Tensors of floating point and complex dtype can require gradients"


def _parse_dtype(dtype, allowed, names):
    """The dtype asked for (float32 when None) if it is one of `allowed`, else TypeError naming `names`."""
    if dtype is None:
        return default_dtype
    try:
        dt = np.dtype(dtype)
    except TypeError:
        dt = None
    if dt not in allowed:
        raise TypeError(f"Tensor: dtype must be {names}, but got {dtype!r}")
    return dt


def _float_dtype(dtype):
    """The float dtype asked for, or TypeError: gradients are computed in float32 and float64 only."""
    return _parse_dtype(dtype, _FLOATS, "float32 or float64")


def _dtype(dtype):
    """The dtype asked for (float32 when None), or TypeError: float32, float64, int64, int32 and bool exist."""
    return _parse_dtype(dtype, _DTYPES, "float32, float64, int64, int32 or bool")

TORCH_NAMES = _TORCH_NAMES
