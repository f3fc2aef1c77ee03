"""The Kullback–Leibler divergence loss, as torch.nn.functional.kl_div and nn.KLDivLoss: the input holds
log-probabilities, the target probabilities (or log-probabilities with log_target=True)."""
import warnings

import numpy as np

from ..tensor import Tensor, where
from .loss_args import LossModule, check_reduction, legacy_reduction

__all__ = ["KLDivLoss", "kl_div"]


def kl_div(input, target, size_average=None, reduce=None, reduction="mean", log_target=False):
    """target·(log target − input) elementwise (0 where target = 0), or e^target·(target − input) with log_target;
    reduced by 'sum', 'mean' (over every element), 'batchmean' (the sum over the batch size) or 'none'."""
    reduction = legacy_reduction(size_average, reduce, reduction)
    if reduction != "batchmean":
        check_reduction("kl_div", reduction)
    if not isinstance(input, Tensor):
        raise TypeError(f"kl_div(): argument 'input' (position 1) must be Tensor, not {type(input).__name__}")
    target = input._coerce(target if isinstance(target, (Tensor, np.ndarray)) else np.asarray(target))
    if log_target:
        losses = target.exp() * (target - input)
    else:
        positive = target > 0
        safe = where(positive, target, 1.0)            # log(1) = 0 where target = 0: no 0·(−inf) in either pass
        losses = target * safe.log() - target * input
    if reduction == "mean":
        warnings.warn("reduction: 'mean' divides the total loss by both the batch size and the support size."
                      "'batchmean' divides only by the batch size, and aligns with the KL div math definition."
                      "'mean' will be changed to behave the same as 'batchmean' in the next major release.",
                      UserWarning, stacklevel=2)
        return losses.mean()
    if reduction == "batchmean":
        return losses.sum() / (input.shape[0] if input.ndim else 1)
    return losses.sum() if reduction == "sum" else losses


class KLDivLoss(LossModule):
    """kl_div as a Module: KLDivLoss(reduction='mean', log_target=False)(input, target)."""

    def __init__(self, size_average=None, reduce=None, reduction="mean", log_target=False):
        reduction = legacy_reduction(size_average, reduce, reduction)
        super().__init__(reduction="sum" if reduction == "batchmean" else reduction)
        self.reduction, self.log_target = reduction, log_target

    def forward(self, input, target):
        return kl_div(input, target, reduction=self.reduction, log_target=self.log_target)
