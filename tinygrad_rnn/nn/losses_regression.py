"""Elementwise regression losses with torch.nn.functional's signatures: mse_loss, l1_loss, smooth_l1_loss,
huber_loss, and their Module forms MSELoss, L1Loss, SmoothL1Loss, HuberLoss.

Each elementwise loss is one tape node differentiable in input and target; the reduction is a tape op after it.
A target of another shape is refused (torch broadcasts it, with a warning that the results are likely wrong).
"""
from __future__ import annotations

import numpy as np

from ..function import Function
from ..tensor import Tensor
from .loss_args import check_reduction, legacy_reduction, LossModule
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from typing import Any

__all__ = ["HuberLoss", "L1Loss", "MSELoss", "SmoothL1Loss", "huber_loss", "l1_loss", "mse_loss", "smooth_l1_loss"]


def _pair(owner: str, input: Any, target: Any) -> Any:
    """input as given (a Tensor), target as a Tensor of its shape and dtype, or a ValueError/TypeError."""
    if not isinstance(input, Tensor):
        raise TypeError(f"{owner}: expected input to be a Tensor, but got {type(input).__name__}")
    target = input._coerce(target if isinstance(target, (Tensor, np.ndarray)) else np.asarray(target))
    if target.shape != input.shape:
        raise ValueError(f"{owner}: expected target of the input's size {tuple(input.shape)}, but got "
                         f"{tuple(target.shape)} (no broadcasting: it would silently pair the wrong elements)")
    if target.dtype != input.dtype:
        raise TypeError(f"{owner}: expected target of dtype {input.dtype} (the input's), but got {target.dtype}")
    return input, target


def _reduce(owner: str, losses: Any, reduction: str, weight: Any, input: Any) -> Any:
    """losses (elementwise) → 'none' / 'sum' / 'mean'; with `weight` (the input's shape) Σ w·loss, and the mean
    Σ w·loss / Σ w, as torch 2.13's mse_loss and l1_loss."""
    if weight is not None:
        weight = input._coerce(weight if isinstance(weight, (Tensor, np.ndarray)) else np.asarray(weight))
        if weight.shape != input.shape:
            raise ValueError("Weights and input must have the same size.")
        losses = losses * weight
        if reduction == "mean":
            return losses.sum() / weight.sum()
    if reduction == "none":
        return losses
    return losses.sum() if reduction == "sum" else losses.mean()


class AbsoluteError(Function):
    """|a − b|; ∂a = g·sign(a − b) (0 where equal, as torch), ∂b = −∂a"""

    @staticmethod
    def forward(ctx: Any, a: Any, b: Any) -> Tensor:
        d = a - b
        ctx.save_for_backward(np.sign(d))
        return np.abs(d)

    @staticmethod
    def backward(ctx: Any, g: Any) -> Any:
        (s,) = ctx.saved
        da, db = ctx.needs_input_grad
        return g * s if da else None, -(g * s) if db else None


class SmoothL1Error(Function):
    """0.5·d²/β where |d| < β, else |d| − 0.5·β (d = a − b); ∂a = g·clip(d/β, −1, 1), ∂b = −∂a"""

    @staticmethod
    def forward(ctx: Any, a: Any, b: Any, beta: float) -> Tensor:
        d = a - b
        ad = np.abs(d)
        ctx.save_for_backward(d, beta)
        return np.where(ad < beta, 0.5 * d * d / beta, ad - 0.5 * beta).astype(a.dtype, copy=False)

    @staticmethod
    def backward(ctx: Any, g: Any) -> Any:
        d, beta = ctx.saved
        slope = np.clip(d / beta, -1, 1)
        da, db = ctx.needs_input_grad
        return g * slope if da else None, -(g * slope) if db else None


def mse_loss(input: Tensor, target: Tensor, size_average: bool | None = None, reduce: bool | None = None,
             reduction: str = "mean", weight: Tensor | None = None) -> Tensor:
    """(input − target)², averaged ('mean'), summed ('sum') or elementwise ('none'); target may require grad."""
    reduction = legacy_reduction(size_average, reduce, reduction)
    check_reduction("mse_loss", reduction)
    input, target = _pair("mse_loss", input, target)
    diff = input - target
    return _reduce("mse_loss", diff * diff, reduction, weight, input)


def l1_loss(input: Tensor, target: Tensor, size_average: bool | None = None, reduce: bool | None = None,
            reduction: str = "mean", weight: Tensor | None = None) -> Tensor:
    """|input − target|, reduced as mse_loss; the gradient at input = target is 0, as torch's."""
    reduction = legacy_reduction(size_average, reduce, reduction)
    check_reduction("l1_loss", reduction)
    input, target = _pair("l1_loss", input, target)
    return _reduce("l1_loss", AbsoluteError.apply(input, target), reduction, weight, input)


def smooth_l1_loss(input: Tensor, target: Tensor, size_average: bool | None = None, reduce: bool | None = None,
                   reduction: str = "mean", beta: float = 1.0) -> Tensor:
    """Huber-like: 0.5·d²/β where |d| < β, else |d| − 0.5·β (d = input − target); β = 0 is l1_loss."""
    reduction = legacy_reduction(size_average, reduce, reduction)
    check_reduction("smooth_l1_loss", reduction)
    if isinstance(beta, bool) or not isinstance(beta, (int, float, np.floating, np.integer)):
        raise TypeError(f"smooth_l1_loss: expected beta to be a float, but got {type(beta).__name__}")
    if beta < 0:
        raise RuntimeError("smooth_l1_loss does not support negative values for beta.")
    if beta == 0:
        return l1_loss(input, target, reduction=reduction)
    input, target = _pair("smooth_l1_loss", input, target)
    return _reduce("smooth_l1_loss", SmoothL1Error.apply(input, target, beta=float(beta)), reduction, None, input)


def huber_loss(input: Tensor, target: Any, reduction: str = "mean", delta: float = 1.0,
               weight: Any = None) -> Tensor:
    """0.5·d² where |d| < δ, else δ·(|d| − 0.5·δ) (d = input − target): δ times smooth_l1_loss with β = δ."""
    check_reduction("huber_loss", reduction)
    if isinstance(delta, bool) or not isinstance(delta, (int, float, np.floating, np.integer)):
        raise TypeError(f"huber_loss: expected delta to be a float, but got {type(delta).__name__}")
    if delta <= 0:
        raise RuntimeError("huber_loss does not support non-positive values for delta.")
    input, target = _pair("huber_loss", input, target)
    losses = SmoothL1Error.apply(input, target, beta=float(delta)) * float(delta)
    return _reduce("huber_loss", losses, reduction, weight, input)


# ---- Module forms -------------------------------------------------------------------------------------------
class MSELoss(LossModule):
    """mse_loss as a Module: MSELoss(reduction='mean')(input, target)."""

    def forward(self, input: Tensor, target: Tensor) -> Tensor:
        return mse_loss(input, target, reduction=self.reduction)


class L1Loss(LossModule):
    """l1_loss as a Module: L1Loss(reduction='mean')(input, target)."""

    def forward(self, input: Tensor, target: Tensor) -> Tensor:
        return l1_loss(input, target, reduction=self.reduction)


class SmoothL1Loss(LossModule):
    """smooth_l1_loss as a Module: SmoothL1Loss(reduction='mean', beta=1.0)(input, target)."""

    def __init__(self, size_average: bool | None = None, reduce: bool | None = None, reduction: str = "mean",
                 beta: float = 1.0) -> None:
        super().__init__(size_average, reduce, reduction)
        self.beta = beta

    def forward(self, input: Tensor, target: Tensor) -> Tensor:
        return smooth_l1_loss(input, target, reduction=self.reduction, beta=self.beta)


class HuberLoss(LossModule):
    """huber_loss as a Module: HuberLoss(reduction='mean', delta=1.0)(input, target)."""

    def __init__(self, reduction: str = "mean", delta: float = 1.0) -> None:
        super().__init__(reduction=reduction)
        self.delta = delta

    def forward(self, input: Tensor, target: Any) -> Tensor:
        return huber_loss(input, target, reduction=self.reduction, delta=self.delta)
