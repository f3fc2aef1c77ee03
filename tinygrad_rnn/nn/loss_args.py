"""What every loss shares: the reduction argument (and torch's legacy size_average/reduce), constant weights, and
the Module base whose constructor takes them as torch.nn's _Loss and _WeightedLoss do."""
from __future__ import annotations

import warnings

import numpy as np

from ..tensor import Tensor
from .module import Module
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from typing import Any

REDUCTIONS = ("none", "mean", "sum")


def check_reduction(owner: str, reduction: str) -> None:
    if not isinstance(reduction, str) or reduction not in REDUCTIONS:
        raise ValueError(f"{owner}: {reduction!r} is not a valid value for reduction: expected one of "
                         f"{', '.join(map(repr, REDUCTIONS))}")


def legacy_reduction(size_average: bool | None, reduce: bool | None, reduction: str) -> Any:
    """torch's deprecated size_average/reduce pair, when either is given, as the reduction it means (with torch's
    warning); otherwise `reduction`."""
    if size_average is None and reduce is None:
        return reduction
    size_average = True if size_average is None else size_average
    reduce = True if reduce is None else reduce
    meant = "mean" if size_average and reduce else "sum" if reduce else "none"
    warnings.warn(f"size_average and reduce args will be deprecated, please use reduction='{meant}' instead.",
                  UserWarning, stacklevel=3)
    return meant


def constant(owner: str, name: str, value: Any, input: Tensor) -> Any:
    """A weight-like argument (Tensor, ndarray, list or number) as an ndarray of the input's float dtype: a
    constant of the loss, not on the tape (torch does not differentiate these either)."""
    data = value.data if isinstance(value, Tensor) else np.asarray(value)
    if data.dtype.kind not in "biuf":
        raise TypeError(f"{owner}: expected {name} to hold numbers, but got dtype {data.dtype}")
    return data.astype(input.dtype, copy=False)


def as_buffer(value: Any) -> Any:
    """A constructor's weight as the Tensor a loss Module keeps as a buffer (None stays None)."""
    if value is None or isinstance(value, Tensor):
        return value
    return Tensor(np.asarray(value))


class LossModule(Module):
    """LossModule(size_average=None, reduce=None, reduction='mean'), as torch.nn's _Loss."""

    def __init__(self, size_average: bool | None = None, reduce: bool | None = None, reduction: str = "mean") -> None:
        super().__init__()
        reduction = legacy_reduction(size_average, reduce, reduction)
        check_reduction(type(self).__name__, reduction)
        self.reduction = reduction


class WeightedLossModule(LossModule):
    """LossModule with a class or element `weight`, kept as a buffer (in state_dict, cast by .double()), as
    torch.nn's _WeightedLoss."""

    def __init__(self, weight: Tensor | None = None, size_average: bool | None = None, reduce: bool | None = None,
                 reduction: str = "mean") -> None:
        super().__init__(size_average, reduce, reduction)
        self.register_buffer("weight", as_buffer(weight))
