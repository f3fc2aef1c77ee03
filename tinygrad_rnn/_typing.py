"""The type aliases of the public API's annotations, for mypy and for readers: the modules import them under
`if TYPE_CHECKING:` only, so they cost `import tinygrad_rnn` nothing."""
from __future__ import annotations

from typing import TYPE_CHECKING, Any, Dict, Iterable, Optional, Sequence, Tuple, Union

import numpy as np
from numpy.typing import DTypeLike as _NumpyDTypeLike

if TYPE_CHECKING:
    from .function import LazyGrad
    from .tensor import Tensor, _Device

__all__ = ["DTypeLike", "DeviceLike", "DimArg", "Grads", "ParamsT", "ShapeArg", "TensorLike"]

# What an operator or an op's `other` takes: a tensor, a Python number (int and bool are floats to mypy) or an array
TensorLike = Union["Tensor", float, np.ndarray, np.generic]
# A `dim=` argument: one axis, several, or None for all of them
DimArg = Optional[Union[int, Sequence[int]]]
# A size: `zeros(2, 3)` passes ints one by one, `zeros((2, 3))` one sequence
ShapeArg = Union[int, Sequence[int]]
DeviceLike = Optional[Union[str, "_Device"]]
# What a Function's backward returns: one gradient per input (an array, a LazyGrad standing for one, or None);
# a one-input op may return its gradient bare
Grads = Union[Tuple[Union[np.ndarray, "LazyGrad", None], ...], np.ndarray, "LazyGrad", None]
# A `dtype=` argument: NumPy's spellings (np.float32, "float64", tg.float32) or None for the default
DTypeLike = Optional[_NumpyDTypeLike]
# An optimizer's `params`: tensors, or groups of them (dicts with "params" and per-group options), as torch's ParamsT
ParamsT = Union[Iterable["Tensor"], Iterable[Dict[str, Any]]]
