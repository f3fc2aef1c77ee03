"""torch.nn.utils's gradient clipping: scale every gradient by one factor so their joint norm is at most max_norm
(clip_grad_norm_, the remedy for exploding gradients through time), or clamp each element (clip_grad_value_).

As torch 2.13: the total norm is the norm of the per-gradient norms, computed in the gradients' dtype and returned
as a 0-d tensor; the scale is min(max_norm / (total + 1e-6), 1) (a NaN total gives NaN gradients unless
error_if_nonfinite=True refuses it first, changing nothing). `foreach` is accepted and changes nothing here (one
loop over ndarrays either way).
"""
from __future__ import annotations

import math

import numpy as np

from ...tensor import Tensor
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from typing import Any

__all__ = ["clip_grad_norm_", "clip_grad_value_", "clip_grads_with_norm_", "get_total_norm"]


def _listed(parameters: Any) -> Any:
    return [parameters] if isinstance(parameters, Tensor) else list(parameters)


def _grads(parameters: Any) -> Any:
    return [p.grad for p in _listed(parameters) if p.grad is not None]


def _vector_norm(a: Any, norm_type: float) -> Any:
    """‖a‖_p over all elements (p = inf: max |a|, −inf: min |a|, 0: the count of non-zeros), in a's dtype."""
    if a.size == 0:
        return a.dtype.type(0)
    return a.dtype.type(np.linalg.norm(a.ravel(), norm_type))


def get_total_norm(tensors: Any, norm_type: float = 2.0, error_if_nonfinite: bool = False, foreach: bool | None = None
) -> Any:
    """‖(‖g₁‖_p, ‖g₂‖_p, …)‖_p, the norm of all the given arrays (or tensors) taken together, as a 0-d tensor."""
    arrays = [t.data if isinstance(t, Tensor) else np.asarray(t) for t in _listed(tensors)]
    norm_type = float(norm_type)
    if not arrays:
        return Tensor(0.0)
    dtype = np.result_type(*arrays)
    norms = np.array([_vector_norm(a, norm_type) for a in arrays], dtype=dtype)
    total = _vector_norm(norms, norm_type)
    if error_if_nonfinite and not math.isfinite(total):
        raise RuntimeError(f"The total norm of order {norm_type} for gradients from `parameters` is non-finite, so "
                           f"it cannot be clipped. To disable this error and scale the gradients by the non-finite "
                           f"norm anyway, set `error_if_nonfinite=False`")
    return Tensor(np.asarray(total, dtype=dtype), dtype=dtype)


def clip_grads_with_norm_(parameters: Any, max_norm: float | Tensor, total_norm: Any, foreach: bool | None = None
) -> None:
    """Scales every .grad in place by min(max_norm / (total_norm + 1e-6), 1)."""
    grads = _grads(parameters)
    if not grads:
        return
    total = np.asarray(total_norm.data if isinstance(total_norm, Tensor) else total_norm)
    dtype = total.dtype if total.dtype.kind == "f" else np.dtype(np.float32)
    max_norm = float(max_norm.data if isinstance(max_norm, Tensor) else max_norm)
    coef = np.minimum(dtype.type(max_norm) / (total.astype(dtype) + dtype.type(1e-6)), dtype.type(1.0))
    for g in grads:
        g *= coef


def clip_grad_norm_(parameters: Any, max_norm: float | Tensor, norm_type: float = 2.0, error_if_nonfinite: bool = False,
                    foreach: bool | None = None) -> Any:
    """Scales all .grad in place so that their total norm is at most max_norm; returns the total norm before
    clipping, a 0-d tensor (tensor(0.) when no parameter has a gradient)."""
    parameters = _listed(parameters)
    total = get_total_norm(_grads(parameters), norm_type, error_if_nonfinite, foreach)
    clip_grads_with_norm_(parameters, max_norm, total, foreach)
    return total


def clip_grad_value_(parameters: Any, clip_value: float, foreach: bool | None = None) -> None:
    """Clamps every .grad in place to [−clip_value, clip_value]."""
    clip_value = float(clip_value)
    for g in _grads(parameters):
        np.clip(g, -clip_value, clip_value, out=g)
