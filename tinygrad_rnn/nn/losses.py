"""Classification losses with torch.nn.functional's signatures: nll_loss and cross_entropy (class weights,
ignore_index, label_smoothing, probability targets) and their Module forms; the other losses live beside this file
(losses_regression: mse, l1, smooth_l1, huber; losses_binary: binary cross-entropy; losses_divergence: kl_div)
and are re-exported here.

nll_loss and cross_entropy are one tape node each; cross_entropy takes logits and fuses a max-shifted log_softmax
with the gather, so it stays finite for logits of ±1e4 and its gradient is (softmax − onehot) scaled per element.
Layouts: input (N, C) with target (N,), input (N, C, d1, ...) with target (N, d1, ...), input (C,) with target ();
a float target of the input's own shape holds class probabilities instead (torch decides by shape, as here).
"""
from __future__ import annotations

import numbers

import numpy as np

from .. import inplace
from ..backend import calls
from ..function import Function
from ..tensor import _TORCH_NAMES, Tensor
from .embedding import as_indices
from .loss_args import REDUCTIONS, WeightedLossModule, check_reduction, legacy_reduction  # noqa: F401
from .losses_binary import (BCELoss, BCEWithLogitsLoss, binary_cross_entropy,  # noqa: F401
                            binary_cross_entropy_with_logits)
from .losses_regression import (HuberLoss, L1Loss, MSELoss, SmoothL1Loss, huber_loss, l1_loss,  # noqa: F401
                                mse_loss, smooth_l1_loss)
from .losses_divergence import KLDivLoss, kl_div  # noqa: F401
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from typing import Any


# ---- classification: nll_loss and cross_entropy ---------------------------------------------------------------
def _rows(a: Any) -> Any:
    """(N, C, d1, ...) → (M, C) with the class axis last; (C,) → (1, C)."""
    return a.reshape(1, -1) if a.ndim == 1 else np.moveaxis(a, 1, -1).reshape(-1, a.shape[1])


def _unrows(g: Any, shape: Any) -> Any:
    """The inverse of _rows: (M, C) → `shape`."""
    if len(shape) == 1:
        return g.reshape(shape)
    return np.moveaxis(g.reshape((shape[0],) + tuple(shape[2:]) + (shape[1],)), -1, 1)


def _class_weights(owner: str, weight: Any, n_classes: int, dtype: Any) -> Any:
    """The (C,) class weights as an ndarray of the input's dtype, or None."""
    if weight is None:
        return None
    w = np.asarray(weight.data if isinstance(weight, Tensor) else weight)
    if w.shape != (n_classes,):
        raise ValueError(f"{owner}: weight tensor should be defined either for all {n_classes} classes or no "
                         f"classes but got weight tensor of shape: {tuple(w.shape)}")
    if w.dtype.kind not in "biuf":
        raise TypeError(f"{owner}: expected weight to hold numbers, but got dtype {w.dtype}")
    return w.astype(dtype)


def _check_input(owner: str, input: Any, ignore_index: int, reduction: str) -> None:
    check_reduction(owner, reduction)
    if not isinstance(input, Tensor):
        raise TypeError(f"{owner}: expected input to be a Tensor, but got {type(input).__name__}")
    if input.ndim == 0:
        raise ValueError(f"{owner}: expected input of shape (C,), (N, C) or (N, C, d1, ...), but got a 0-D tensor")
    if not isinstance(ignore_index, numbers.Integral) or isinstance(ignore_index, bool):
        raise TypeError(f"{owner}: expected ignore_index to be an int, but got {type(ignore_index).__name__}")


def _classification_args(owner: str, input: Any, target: Any, weight: Any, ignore_index: int) -> Any:
    """Checks class-index targets; returns (flat targets with ignored ones set to 0, per-element weights (0 where
    ignored), the not-ignored mask, the class weights or None, target shape)."""
    n_classes = input.shape[1] if input.ndim >= 2 else input.shape[0]
    expected = (input.shape[0],) + tuple(input.shape[2:]) if input.ndim >= 2 else ()
    tshape = tuple(target.shape) if isinstance(target, (Tensor, np.ndarray)) else np.shape(target)
    if tshape != expected:                             # the shape first, as torch: then the dtype
        if input.ndim >= 2 and len(tshape) >= 1 and tshape[0] != input.shape[0]:
            raise ValueError(f"{owner}: Expected input batch_size ({input.shape[0]}) to match target batch_size "
                             f"({tshape[0]}).")
        raise ValueError(f"{owner}: Expected target size {expected}, got {tshape} (input size "
                         f"{tuple(input.shape)}: the class dimension is {'1' if input.ndim >= 2 else '0'})")
    t = as_indices(owner, "target", target).reshape(-1)
    valid = t != ignore_index
    bad = valid & ((t < 0) | (t >= n_classes))
    if bad.any():
        raise ValueError(f"{owner}: Target {t[bad][0]} is out of bounds: expected a class index in "
                         f"[0, {n_classes - 1}] or ignore_index ({ignore_index})")
    safe = np.where(valid, t, 0)
    cw = _class_weights(owner, weight, n_classes, input.dtype)
    w = valid.astype(input.dtype) if cw is None else np.where(valid, cw[safe], 0).astype(input.dtype)
    return safe, w, valid, cw, expected


def _reduce(losses: Any, w: Any, reduction: str, shape: Any) -> Any:
    """losses (M,) → 'none': `shape`; 'sum': Σ; 'mean': Σ / Σw (the weighted mean; nan when every target is
    ignored, as PyTorch)."""
    if reduction == "none":
        return losses.reshape(shape)
    total = losses.sum()
    if reduction == "sum":
        return np.asarray(total)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.asarray(total / w.sum())


def _element_coefficients(g: Any, w: Any, reduction: str) -> Any:
    """∂loss/∂(per-element loss), times that element's weight `w` (M,): for 'mean' the denominator is Σw."""
    if reduction == "none":
        return g.reshape(-1) * w
    if reduction == "mean":
        total = w.sum()
        return w * (g / total) if total != 0 else np.zeros_like(w)   # all ignored: zero gradient, as PyTorch
    return w * g


class NllLoss(Function):
    """−w[t]·input[t] per element (0 where ignored), reduced; ∂input = −coefficient at the target class"""

    @staticmethod
    def forward(ctx: Any, input: Tensor, target: Tensor, w: Any, reduction: str, shape: Any) -> Tensor:
        lp = _rows(input)
        rows = np.arange(lp.shape[0])
        picked = np.where(w == 0, 0, lp[rows, target])      # ignored or zero-weight: 0, even for a −inf input
        losses = -w * picked
        ctx.save_for_backward(input.shape, target, w, reduction)
        return _reduce(losses, w, reduction, shape)

    @staticmethod
    def backward(ctx: Any, g: Any) -> Tensor:
        shape, target, w, reduction = ctx.saved
        grad = np.zeros((target.size, shape[1] if len(shape) >= 2 else shape[0]), dtype=w.dtype)
        grad[np.arange(target.size), target] -= _element_coefficients(g, w, reduction)
        return _unrows(grad, shape)


def _log_softmax_rows(input: Any) -> Any:
    x = _rows(input)
    out = inplace.engine_made(np.empty(x.shape, x.dtype))   # its forward's own: the saved lp needs no fingerprint
    if calls.log_softmax_rows(x, out):           # one pass a row (NumPy's reductions along 65 classes: 0.1 ms)
        return out
    shifted = x - x.max(axis=1, keepdims=True, initial=-np.inf)
    with np.errstate(divide="ignore"):                       # log 0 only for an empty class axis
        return shifted - np.log(np.exp(shifted).sum(axis=1, keepdims=True))


class CrossEntropy(Function):
    """(1 − ε)·nll(log_softmax(x), t) + (ε/C)·Σ_c −cw_c·log_softmax(x)_c per element (0 where ignored), reduced
    with nll's weighted mean; ∂x = a·(softmax − onehot(t)) + b·(softmax·Σcw − cw) per element"""

    @staticmethod
    def forward(ctx: Any, input: Tensor, target: Tensor, w: Any, valid: Any, cw: Any, smoothing: Any, reduction: str,
                shape: Any) -> Any:
        lp = _log_softmax_rows(input)
        losses = -w * lp[np.arange(lp.shape[0]), target]
        if smoothing:
            smooth = -(lp if cw is None else lp * cw).sum(axis=1)
            losses = (1 - smoothing) * losses + (smoothing / lp.shape[1]) * np.where(valid, smooth, 0)
        ctx.save_for_backward(input.shape, lp, target, w, valid, cw, smoothing, reduction)
        if reduction == "mean" and not w.sum():          # torch: nll's 0/0 = nan, whatever the smoothing term
            return np.asarray(np.nan, dtype=input.dtype)
        return _reduce(losses.astype(input.dtype, copy=False), w, reduction, shape)

    @staticmethod
    def backward(ctx: Any, g: Any) -> Tensor:
        shape, lp, target, w, valid, cw, smoothing, reduction = ctx.saved
        coef = _element_coefficients(g, w, reduction) * (1 - smoothing)
        if not smoothing:
            grad = np.empty_like(lp)
            if calls.cross_entropy_grad_rows(lp, coef.astype(lp.dtype, copy=False), target, grad):
                return _unrows(grad, shape)              # coef·(softmax − onehot) in one pass a row
        p = np.exp(lp)
        grad = p * coef[:, None]
        grad[np.arange(target.size), target] -= coef
        if smoothing:
            if reduction == "mean":      # the smoothing term shares nll's denominator Σw, but counts each element once
                total = w.sum()
                b = valid * (g / total) if total != 0 else np.where(valid, np.nan, 0)   # as torch: nan rows
            else:
                b = valid * (g.reshape(-1) if reduction == "none" else g)
            b = b * (smoothing / lp.shape[1])
            if cw is None:
                grad += b[:, None] * (p * lp.shape[1] - 1)
            else:
                grad += b[:, None] * (p * cw.sum() - cw)
        return _unrows(grad.astype(lp.dtype, copy=False), shape)


class SoftCrossEntropy(Function):
    """−Σ_c cw_c·t'_c·log_softmax(x)_c per element, t' = (1 − ε)·t + ε/C; 'mean' divides by the number of
    elements (not by the weights), as torch; ∂x = k·(softmax·Σ_c cw_c t'_c − cw·t'), ∂t = −k·(1 − ε)·cw·lp"""

    @staticmethod
    def forward(ctx: Any, input: Tensor, target: Tensor, cw: Any, smoothing: Any, reduction: str) -> Any:
        lp = _log_softmax_rows(input)
        t = _rows(target)
        if smoothing:
            t = t * (1 - smoothing) + smoothing / lp.shape[1]
        wt = t if cw is None else t * cw
        losses = -(lp * wt).sum(axis=1)
        shape = (input.shape[0],) + tuple(input.shape[2:]) if input.ndim >= 2 else ()
        ctx.save_for_backward(input.shape, lp, wt, cw, smoothing, reduction)
        if reduction == "none":
            return losses.reshape(shape)
        if reduction == "sum":
            return np.asarray(losses.sum())
        with np.errstate(invalid="ignore"):                   # no element: nan, as torch
            return np.asarray(losses.sum() / losses.size if losses.size else np.nan, dtype=input.dtype)

    @staticmethod
    def backward(ctx: Any, g: Any) -> Any:
        shape, lp, wt, cw, smoothing, reduction = ctx.saved
        if reduction == "none":
            k = g.reshape(-1, 1)
        else:
            k = np.full((lp.shape[0], 1), g / lp.shape[0] if reduction == "mean" else g, dtype=lp.dtype)
        dx, dt = ctx.needs_input_grad
        gx = _unrows(k * (np.exp(lp) * wt.sum(axis=1, keepdims=True) - wt), shape) if dx else None
        gt = _unrows(-k * (1 - smoothing) * (lp if cw is None else lp * cw), shape) if dt else None
        return gx, gt


def nll_loss(input: Tensor, target: Tensor, weight: Tensor | None = None, size_average: bool | None = None,
             ignore_index: int = -100, reduce: bool | None = None, reduction: str = "mean") -> Tensor:
    """Negative log-likelihood of `target` class indices under log-probabilities `input` (class axis 1, or 0 for
    (C,) input). weight (C,) rescales each class; targets equal to ignore_index add nothing (and to the mean's
    denominator nothing); 'mean' is Σ w[t]·loss / Σ w[t] over the non-ignored targets, as PyTorch."""
    reduction = legacy_reduction(size_average, reduce, reduction)
    _check_input("nll_loss", input, ignore_index, reduction)
    safe, w, _, _, shape = _classification_args("nll_loss", input, target, weight, ignore_index)
    return NllLoss.apply(input, target=safe, w=w, reduction=reduction, shape=shape)


def _check_smoothing(label_smoothing: float) -> Any:
    if isinstance(label_smoothing, bool) or not isinstance(label_smoothing, numbers.Real):
        raise TypeError(f"cross_entropy: expected label_smoothing to be a float, but got "
                        f"{type(label_smoothing).__name__}")
    if not 0.0 <= label_smoothing <= 1.0:       # torch ignores a negative value; here it is refused as well
        raise RuntimeError(f"label_smoothing must be between 0.0 and 1.0. Got: {label_smoothing}")
    return float(label_smoothing)


def _soft_target(input: Any, target: Any) -> Any:
    """target as a Tensor of class probabilities when it has the input's shape (torch's rule), else None. Python
    data takes the input's dtype; an integer or bool target of that shape is torch's error."""
    shape = target.shape if isinstance(target, (Tensor, np.ndarray)) else np.shape(target)
    if tuple(shape) != tuple(input.shape):
        return None
    raw = target.dtype if isinstance(target, (Tensor, np.ndarray)) else np.asarray(target).dtype
    if raw.kind != "f":
        raise RuntimeError(f"Expected floating point type for target with class probabilities, got "
                           f"{_TORCH_NAMES.get(np.dtype(raw), raw)}")
    if isinstance(target, (Tensor, np.ndarray)):
        if target.dtype != input.dtype:
            raise TypeError(f"cross_entropy: expected target of dtype {input.dtype} (the input's), but got "
                            f"{target.dtype}")
        return target if isinstance(target, Tensor) else Tensor._make(target, None)
    return Tensor._make(np.asarray(target, dtype=input.dtype), None)


def cross_entropy(input: Tensor, target: Tensor, weight: Tensor | None = None, size_average: bool | None = None,
                  ignore_index: int = -100, reduce: bool | None = None, reduction: str = "mean",
                  label_smoothing: float = 0.0) -> Tensor:
    """nll_loss(log_softmax(input, class axis), target, ...) from logits, as one numerically stable node. With
    label_smoothing ε the target mixes in the uniform distribution: (1 − ε)·nll + ε/C·Σ_c −w_c·log p_c. A float
    target of the input's shape is a distribution over the classes (soft targets; no ignore_index)."""
    reduction = legacy_reduction(size_average, reduce, reduction)
    _check_input("cross_entropy", input, ignore_index, reduction)
    smoothing = _check_smoothing(label_smoothing)
    soft = _soft_target(input, target)
    if soft is not None:
        if ignore_index >= 0:
            raise RuntimeError("ignore_index is not supported for floating point target")
        n_classes = input.shape[1] if input.ndim >= 2 else input.shape[0]
        try:
            cw = _class_weights("cross_entropy", weight, n_classes, input.dtype)
        except ValueError as e:                       # torch's type on this path
            raise RuntimeError(str(e)) from None
        return SoftCrossEntropy.apply(input, soft, cw=cw, smoothing=smoothing, reduction=reduction)
    safe, w, valid, cw, shape = _classification_args("cross_entropy", input, target, weight, ignore_index)
    return CrossEntropy.apply(input, target=safe, w=w, valid=valid, cw=cw, smoothing=smoothing,
                              reduction=reduction, shape=shape)


# ---- Module forms -------------------------------------------------------------------------------------------
class NLLLoss(WeightedLossModule):
    """nll_loss as a Module: NLLLoss(weight=None, ignore_index=-100, reduction='mean')(log_probs, target); the
    weight is a buffer, as torch's."""

    def __init__(self, weight: Tensor | None = None, size_average: bool | None = None, ignore_index: int = -100,
                 reduce: bool | None = None, reduction: str = "mean") -> None:
        super().__init__(weight, size_average, reduce, reduction)
        self.ignore_index = ignore_index

    def forward(self, input: Tensor, target: Tensor) -> Tensor:
        return nll_loss(input, target, self.weight, ignore_index=self.ignore_index, reduction=self.reduction)


class CrossEntropyLoss(WeightedLossModule):
    """cross_entropy as a Module: CrossEntropyLoss(weight=None, ignore_index=-100, reduction='mean',
    label_smoothing=0.0)(logits, target); the weight is a buffer, as torch's."""

    def __init__(self, weight: Tensor | None = None, size_average: bool | None = None, ignore_index: int = -100,
                 reduce: bool | None = None, reduction: str = "mean", label_smoothing: float = 0.0) -> None:
        super().__init__(weight, size_average, reduce, reduction)
        self.ignore_index = ignore_index
        self.label_smoothing = _check_smoothing(label_smoothing)

    def forward(self, input: Tensor, target: Tensor) -> Tensor:
        return cross_entropy(input, target, self.weight, ignore_index=self.ignore_index, reduction=self.reduction,
                             label_smoothing=self.label_smoothing)
