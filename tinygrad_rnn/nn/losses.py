"""Losses with PyTorch's signatures and semantics: mse_loss, nll_loss, cross_entropy, and their Module forms.

nll_loss and cross_entropy are one tape node each; cross_entropy takes logits and fuses a max-shifted log_softmax
with the gather, so it stays finite for logits of ±1e4 and its gradient is (softmax − onehot) scaled per element.
Layouts: input (N, C) with target (N,), input (N, C, d1, ...) with target (N, d1, ...), input (C,) with target ().
"""
import numbers

import numpy as np

from ..function import Function
from ..tensor import Tensor
from .embedding import as_indices
from .module import Module

REDUCTIONS = ("none", "mean", "sum")


def check_reduction(owner, reduction):
    if not isinstance(reduction, str) or reduction not in REDUCTIONS:
        raise ValueError(f"{owner}: {reduction!r} is not a valid value for reduction: expected one of "
                         f"{', '.join(map(repr, REDUCTIONS))}")


# ---- mean squared error -----------------------------------------------------------------------------------
def mse_loss(input, target, reduction="mean"):
    """(input − target)², averaged ('mean'), summed ('sum') or elementwise ('none'); target may require grad."""
    check_reduction("mse_loss", reduction)
    if not isinstance(input, Tensor):
        raise TypeError(f"mse_loss: expected input to be a Tensor, but got {type(input).__name__}")
    target = input._coerce(target if isinstance(target, (Tensor, np.ndarray)) else np.asarray(target))
    if target.shape != input.shape:
        raise ValueError(f"mse_loss: expected target of the input's size {tuple(input.shape)}, but got "
                         f"{tuple(target.shape)} (no broadcasting: it would silently pair the wrong elements)")
    if target.dtype != input.dtype:
        raise TypeError(f"mse_loss: expected target of dtype {input.dtype} (the input's), but got {target.dtype}")
    diff = input - target
    sq = diff * diff
    if reduction == "none":
        return sq
    return sq.sum() if reduction == "sum" else sq.mean()


# ---- classification: nll_loss and cross_entropy ---------------------------------------------------------------
def _rows(a):
    """(N, C, d1, ...) → (M, C) with the class axis last; (C,) → (1, C)."""
    return a.reshape(1, -1) if a.ndim == 1 else np.moveaxis(a, 1, -1).reshape(-1, a.shape[1])


def _unrows(g, shape):
    """The inverse of _rows: (M, C) → `shape`."""
    if len(shape) == 1:
        return g.reshape(shape)
    return np.moveaxis(g.reshape((shape[0],) + tuple(shape[2:]) + (shape[1],)), -1, 1)


def _classification_args(owner, input, target, weight, ignore_index, reduction):
    """Checks the arguments; returns (flat targets with ignored ones set to 0, per-element weights (0 where
    ignored), target shape)."""
    check_reduction(owner, reduction)
    if not isinstance(input, Tensor):
        raise TypeError(f"{owner}: expected input to be a Tensor, but got {type(input).__name__}")
    if input.ndim == 0:
        raise ValueError(f"{owner}: expected input of shape (C,), (N, C) or (N, C, d1, ...), but got a 0-D tensor")
    if not isinstance(ignore_index, numbers.Integral) or isinstance(ignore_index, bool):
        raise TypeError(f"{owner}: expected ignore_index to be an int, but got {type(ignore_index).__name__}")
    n_classes = input.shape[1] if input.ndim >= 2 else input.shape[0]
    expected = (input.shape[0],) + tuple(input.shape[2:]) if input.ndim >= 2 else ()
    t = as_indices(owner, "target", target)
    if t.shape != expected:
        if input.ndim >= 2 and t.ndim >= 1 and t.shape[0] != input.shape[0]:
            raise ValueError(f"{owner}: Expected input batch_size ({input.shape[0]}) to match target batch_size "
                             f"({t.shape[0]}).")
        raise ValueError(f"{owner}: Expected target size {expected}, got {tuple(t.shape)} (input size "
                         f"{tuple(input.shape)}: the class dimension is {'1' if input.ndim >= 2 else '0'})")
    t = t.reshape(-1)
    valid = t != ignore_index
    bad = valid & ((t < 0) | (t >= n_classes))
    if bad.any():
        raise ValueError(f"{owner}: Target {t[bad][0]} is out of bounds: expected a class index in "
                         f"[0, {n_classes - 1}] or ignore_index ({ignore_index})")
    safe = np.where(valid, t, 0)
    if weight is None:
        w = valid.astype(input.dtype)
    else:
        w = np.asarray(weight.data if isinstance(weight, Tensor) else weight)
        if w.shape != (n_classes,):
            raise ValueError(f"{owner}: weight tensor should be defined either for all {n_classes} classes or no "
                             f"classes but got weight tensor of shape: {tuple(w.shape)}")
        if w.dtype.kind not in "biuf":
            raise TypeError(f"{owner}: expected weight to hold numbers, but got dtype {w.dtype}")
        w = np.where(valid, w.astype(input.dtype)[safe], 0).astype(input.dtype)
    return safe, w, expected


def _reduce(losses, w, reduction, shape):
    """losses (M,) → 'none': `shape`; 'sum': Σ; 'mean': Σ / Σw (the weighted mean; nan when every target is
    ignored, as PyTorch)."""
    if reduction == "none":
        return losses.reshape(shape)
    total = losses.sum()
    if reduction == "sum":
        return np.asarray(total)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.asarray(total / w.sum())


def _element_coefficients(g, w, reduction):
    """∂loss/∂(per-element loss), times that element's weight: (M,)."""
    if reduction == "none":
        return g.reshape(-1) * w
    if reduction == "mean":
        total = w.sum()
        return w * (g / total) if total != 0 else np.zeros_like(w)   # all ignored: zero gradient, as PyTorch
    return w * g


class NllLoss(Function):
    """−w[t]·input[t] per element (0 where ignored), reduced; ∂input = −coefficient at the target class"""

    @staticmethod
    def forward(ctx, input, target, w, reduction, shape):
        lp = _rows(input)
        rows = np.arange(lp.shape[0])
        picked = np.where(w == 0, 0, lp[rows, target])      # ignored or zero-weight: 0, even for a −inf input
        losses = -w * picked
        ctx.save_for_backward(input.shape, target, w, reduction)
        return _reduce(losses, w, reduction, shape)

    @staticmethod
    def backward(ctx, g):
        shape, target, w, reduction = ctx.saved
        grad = np.zeros((target.size, shape[1] if len(shape) >= 2 else shape[0]), dtype=w.dtype)
        grad[np.arange(target.size), target] -= _element_coefficients(g, w, reduction)
        return _unrows(grad, shape)


class CrossEntropy(Function):
    """log_softmax over the class axis (shifted by the max) and nll in one node; ∂logits = coefficient ·
    (softmax − onehot(target))"""

    @staticmethod
    def forward(ctx, input, target, w, reduction, shape):
        x = _rows(input)
        shifted = x - x.max(axis=1, keepdims=True)
        lp = shifted - np.log(np.exp(shifted).sum(axis=1, keepdims=True))
        rows = np.arange(lp.shape[0])
        losses = -w * lp[rows, target]
        ctx.save_for_backward(input.shape, lp, target, w, reduction)
        return _reduce(losses, w, reduction, shape)

    @staticmethod
    def backward(ctx, g):
        shape, lp, target, w, reduction = ctx.saved
        coef = _element_coefficients(g, w, reduction)
        grad = np.exp(lp) * coef[:, None]
        grad[np.arange(target.size), target] -= coef
        return _unrows(grad, shape)


def nll_loss(input, target, weight=None, ignore_index=-100, reduction="mean"):
    """Negative log-likelihood of `target` class indices under log-probabilities `input` (class axis 1, or 0 for
    (C,) input). weight (C,) rescales each class; targets equal to ignore_index add nothing (and to the mean's
    denominator nothing); 'mean' is Σ w[t]·loss / Σ w[t] over the non-ignored targets, as PyTorch."""
    safe, w, shape = _classification_args("nll_loss", input, target, weight, ignore_index, reduction)
    return NllLoss.apply(input, target=safe, w=w, reduction=reduction, shape=shape)


def cross_entropy(input, target, weight=None, ignore_index=-100, reduction="mean"):
    """nll_loss(log_softmax(input, class axis), target, ...) from logits, as one numerically stable node."""
    safe, w, shape = _classification_args("cross_entropy", input, target, weight, ignore_index, reduction)
    return CrossEntropy.apply(input, target=safe, w=w, reduction=reduction, shape=shape)


# ---- Module forms -------------------------------------------------------------------------------------------
class MSELoss(Module):
    """mse_loss as a Module: MSELoss(reduction='mean')(input, target)."""

    def __init__(self, reduction="mean"):
        super().__init__()
        check_reduction("MSELoss", reduction)
        self.reduction = reduction

    def forward(self, input, target):
        return mse_loss(input, target, reduction=self.reduction)


class _WeightedLoss(Module):
    def __init__(self, weight=None, ignore_index=-100, reduction="mean"):
        super().__init__()
        check_reduction(type(self).__name__, reduction)
        # a constant (PyTorch keeps it as a buffer): not a Parameter, so not in parameters() or state_dict()
        self.weight = None if weight is None else np.array(weight.data if isinstance(weight, Tensor) else weight)
        self.ignore_index, self.reduction = ignore_index, reduction


class NLLLoss(_WeightedLoss):
    """nll_loss as a Module: NLLLoss(weight=None, ignore_index=-100, reduction='mean')(log_probs, target)."""

    def forward(self, input, target):
        return nll_loss(input, target, self.weight, self.ignore_index, self.reduction)


class CrossEntropyLoss(_WeightedLoss):
    """cross_entropy as a Module: CrossEntropyLoss(weight=None, ignore_index=-100, reduction='mean')(logits, target)."""

    def forward(self, input, target):
        return cross_entropy(input, target, self.weight, self.ignore_index, self.reduction)
