"""Utilities on top of the tape: `checkpoint(fn, *args)` trades memory for recomputation (torch.utils.checkpoint)."""
from .checkpoint import checkpoint, checkpoint_sequential

__all__ = ["checkpoint", "checkpoint_sequential"]
