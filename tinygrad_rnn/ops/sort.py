"""The order of elements along a dim (sort, argsort, topk): pure index computations on ndarrays. The values are
then gathered by index.TakeAlong, whose backward sends each gradient to the index it came from."""
from __future__ import annotations

import numpy as np
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from typing import Any


def sort_indices(a: np.ndarray, dim: Any, descending: bool) -> Any:
    """Indices that sort `a` along `dim`, stably: ties keep their order in both directions, and nan counts as the
    largest value (last ascending, first descending), as in PyTorch."""
    if not descending:
        return np.argsort(a, axis=dim, kind="stable")
    # sort the reversed array ascending, stably, and reverse the result: values descend and ties, having been
    # reversed twice, keep their original order (negating the values would break on nan, bool and int minima)
    n = a.shape[dim]
    flipped = np.argsort(np.flip(a, dim), axis=dim, kind="stable")
    return np.flip(n - 1 - flipped, dim)


def topk_indices(a: np.ndarray, k: int, dim: Any, largest: bool) -> Any:
    """Indices of the k largest (or smallest) elements along `dim`, in sorted order."""
    order = sort_indices(a, dim, largest)
    return np.take(order, np.arange(k), axis=dim)
