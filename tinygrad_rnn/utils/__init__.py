"""Utilities on top of the tape: `checkpoint(fn, *args)` trades memory for recomputation (torch.utils.checkpoint);
`utils.data`: Dataset, DataLoader and the samplers (torch.utils.data)."""
from . import data
from .checkpoint import checkpoint, checkpoint_sequential

__all__ = ["checkpoint", "checkpoint_sequential", "data"]
