"""Optimisers (torch.optim's formulas, defaults and state_dict), gradient clipping, and learning-rate schedules
(`optim.lr_scheduler`, as torch.optim.lr_scheduler)."""
from __future__ import annotations

from . import lr_scheduler
from .optimizers import (SGD, Adagrad, Adam, AdamW, Optimizer, RMSprop, clip_grad_norm_, clip_grad_value_)
from .adaptive import Adadelta, Adamax, NAdam

__all__ = ["Adadelta", "Adagrad", "Adam", "AdamW", "Adamax", "NAdam", "Optimizer", "RMSprop", "SGD",
           "clip_grad_norm_", "clip_grad_value_", "lr_scheduler"]
