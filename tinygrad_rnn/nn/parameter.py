"""torch.nn.parameter's import path: `from torch.nn.parameter import Parameter` runs unchanged."""
from .module import Parameter

__all__ = ["Parameter"]
