"""Binary cross-entropy with torch.nn.functional's signatures: binary_cross_entropy (probabilities in),
binary_cross_entropy_with_logits (logits in, stable for any logit, with pos_weight), and BCELoss, BCEWithLogitsLoss.

Each elementwise loss is one tape node differentiable in input and target (weight and pos_weight are constants,
as in torch); the reduction is a tape op after it.
"""
from __future__ import annotations

import numpy as np

from ..activations import sigmoid
from ..function import Function
from ..tensor import _TORCH_NAMES, Tensor
from .loss_args import WeightedLossModule, as_buffer, check_reduction, constant, legacy_reduction
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from typing import Any

__all__ = ["BCELoss", "BCEWithLogitsLoss", "binary_cross_entropy", "binary_cross_entropy_with_logits"]

LOG_FLOOR = -100.0   # torch clamps each log of binary_cross_entropy here, so a probability of 0 costs 100, not inf
EPSILON = 1e-12      # torch's floor for x·(1 − x) in the gradient


def _log_sigmoid(x: Any) -> Any:
    """log σ(x) = −(max(−x, 0) + log(1 + e^(−|x|))), finite for any x."""
    with np.errstate(under="ignore"):                  # e^(−1000) is 0: log σ(1000) = −0, as it should
        return -(np.maximum(-x, 0) + np.log1p(np.exp(-np.abs(x))))


class BinaryCrossEntropy(Function):
    """−w·(t·max(log x, −100) + (1 − t)·max(log(1 − x), −100)); ∂x = g·w·(x − t)/max(x(1 − x), 1e-12),
    ∂t = g·w·(log(1 − x) − log x), as torch's"""

    @staticmethod
    def forward(ctx: Any, x: Any, t: Any, w: Any) -> Tensor:
        with np.errstate(divide="ignore"):
            log_x, log_1mx = np.log(x), np.log1p(-x)
        ctx.save_for_backward(x, t, w, log_x, log_1mx)
        loss = (t - 1) * np.maximum(log_1mx, LOG_FLOOR) - t * np.maximum(log_x, LOG_FLOOR)
        return loss if w is None else loss * w

    @staticmethod
    def backward(ctx: Any, g: Any) -> Any:
        x, t, w, log_x, log_1mx = ctx.saved
        gw = g if w is None else g * w
        dx, dt = ctx.needs_input_grad
        gx = gw * (x - t) / np.maximum((1 - x) * x, EPSILON) if dx else None
        gt = None
        if dt:
            with np.errstate(invalid="ignore"):
                gt = gw * (log_1mx - log_x)
        return gx, gt


class BinaryCrossEntropyWithLogits(Function):
    """w·((1 − t)·x − l·log σ(x)), l = 1 + (pw − 1)·t; ∂x = g·w·(l·σ(x) − pw·t), ∂t = g·w·(log σ(−x) − pw·log σ(x))"""

    @staticmethod
    def forward(ctx: Any, x: Any, t: Any, w: Any, pw: Any) -> Tensor:
        log_sig = _log_sigmoid(x)
        lw = 1 if pw is None else 1 + (pw - 1) * t
        loss = (1 - t) * x - lw * log_sig
        ctx.save_for_backward(x, t, w, pw, log_sig)
        return (loss if w is None else loss * w).astype(x.dtype, copy=False)

    @staticmethod
    def backward(ctx: Any, g: Any) -> Any:
        x, t, w, pw, log_sig = ctx.saved
        gw = g if w is None else g * w
        dx, dt = ctx.needs_input_grad
        gx = gt = None
        if dx:
            gx = gw * (sigmoid(x) - t) if pw is None else gw * ((1 + (pw - 1) * t) * sigmoid(x) - pw * t)
        if dt:
            gt = -gw * x if pw is None else gw * (_log_sigmoid(-x) - pw * log_sig)
        return (gx if gx is None else gx.astype(x.dtype, copy=False),
                gt if gt is None else gt.astype(x.dtype, copy=False))


def _target(owner: str, input: Any, target: Any, mismatch: Any) -> Any:
    """target as a Tensor of the input's shape and float dtype (Python data takes the input's dtype)."""
    if not isinstance(input, Tensor):
        raise TypeError(f"{owner}: expected input to be a Tensor, but got {type(input).__name__}")
    if input.dtype.kind != "f":
        raise RuntimeError(f"{owner}: expected input of a floating point dtype, but got {input.dtype}")
    if isinstance(target, (Tensor, np.ndarray)):
        t = target if isinstance(target, Tensor) else Tensor._make(target, None)
    else:
        t = Tensor._make(np.asarray(target, dtype=input.dtype), None)
    if t.shape != input.shape:
        raise ValueError(mismatch(tuple(t.shape), tuple(input.shape)))
    if t.dtype != input.dtype:
        raise RuntimeError(f"{owner}: Found dtype {_TORCH_NAMES.get(t.dtype, t.dtype)} but expected "
                           f"{_TORCH_NAMES.get(input.dtype, input.dtype)} (the target's dtype must be the "
                           f"input's)")
    return t


def _broadcast_constant(owner: str, name: str, value: Any, input: Any) -> Any:
    if value is None:
        return None
    data = constant(owner, name, value, input)
    try:
        return np.ascontiguousarray(np.broadcast_to(data, input.shape))
    except ValueError:
        raise RuntimeError(f"{owner}: expected {name} to be broadcastable to the input's shape "
                           f"{tuple(input.shape)}, but got shape {tuple(data.shape)}") from None


def _reduce(losses: Any, reduction: str) -> Any:
    if reduction == "none":
        return losses
    return losses.sum() if reduction == "sum" else losses.mean()


def binary_cross_entropy(input: Tensor, target: Tensor, weight: Tensor | None = None, size_average: bool | None = None,
                         reduce: bool | None = None, reduction: str = "mean") -> Tensor:
    """−w·(t·log x + (1 − t)·log(1 − x)) for probabilities x in [0, 1] (each log floored at −100, as torch);
    weight broadcasts to the input's shape."""
    reduction = legacy_reduction(size_average, reduce, reduction)
    check_reduction("binary_cross_entropy", reduction)
    t = _target("binary_cross_entropy", input, target,
                lambda ts, xs: f"Using a target size ({ts}) that is different to the input size ({xs}) is "
                               f"deprecated. Please ensure they have the same size.")
    if not ((input.data >= 0) & (input.data <= 1)).all():
        raise RuntimeError("all elements of input should be between 0 and 1")
    if not ((t.data >= 0) & (t.data <= 1)).all():
        raise RuntimeError("all elements of target should be between 0 and 1")
    w = _broadcast_constant("binary_cross_entropy", "weight", weight, input)
    return _reduce(BinaryCrossEntropy.apply(input, t, w=w), reduction)


def binary_cross_entropy_with_logits(input: Tensor, target: Tensor, weight: Tensor | None = None,
                                     size_average: bool | None = None, reduce: bool | None = None,
                                     reduction: str = "mean", pos_weight: Tensor | None = None) -> Tensor:
    """binary_cross_entropy(σ(input), target) computed from the logits without overflow; pos_weight (broadcast
    along the last dim, one per class) scales the positive term: −w·(pw·t·log σ(x) + (1 − t)·log(1 − σ(x)))."""
    reduction = legacy_reduction(size_average, reduce, reduction)
    check_reduction("binary_cross_entropy_with_logits", reduction)
    if isinstance(target, (Tensor, np.ndarray)) and target.dtype.kind != "f" and isinstance(input, Tensor):
        raise RuntimeError(f"result type {_TORCH_NAMES.get(input.dtype, input.dtype)} can't be cast to the "
                           f"desired output type {_TORCH_NAMES.get(target.dtype, target.dtype)}")
    t = _target("binary_cross_entropy_with_logits", input, target,
                lambda ts, xs: f"Target size ({ts}) must be the same as input size ({xs})")
    w = _broadcast_constant("binary_cross_entropy_with_logits", "weight", weight, input)
    pw = _broadcast_constant("binary_cross_entropy_with_logits", "pos_weight", pos_weight, input)
    return _reduce(BinaryCrossEntropyWithLogits.apply(input, t, w=w, pw=pw), reduction)


# ---- Module forms -------------------------------------------------------------------------------------------
class BCELoss(WeightedLossModule):
    """binary_cross_entropy as a Module: BCELoss(weight=None, reduction='mean')(probabilities, target)."""

    def forward(self, input: Tensor, target: Tensor) -> Tensor:
        return binary_cross_entropy(input, target, weight=self.weight, reduction=self.reduction)


class BCEWithLogitsLoss(WeightedLossModule):
    """binary_cross_entropy_with_logits as a Module: BCEWithLogitsLoss(weight=None, reduction='mean',
    pos_weight=None)(logits, target); weight and pos_weight are buffers, as torch's."""

    def __init__(self, weight: Tensor | None = None, size_average: bool | None = None, reduce: bool | None = None,
                 reduction: str = "mean", pos_weight: Tensor | None = None) -> None:
        super().__init__(weight, size_average, reduce, reduction)
        self.register_buffer("pos_weight", as_buffer(pos_weight))

    def forward(self, input: Tensor, target: Tensor) -> Tensor:
        return binary_cross_entropy_with_logits(input, target, weight=self.weight, reduction=self.reduction,
                                                pos_weight=self.pos_weight)
