"""Activation modules (torch.nn's ReLU, Tanh, Sigmoid, Softmax, LogSoftmax): each is one tape op of Tensor.

`inplace=True` (ReLU) is accepted for ported code and computed out of place: the tape never overwrites an input.
Softmax and LogSoftmax without `dim` choose it as torch does (0 for 0-, 1- and 3-D inputs, else 1), with torch's
deprecation warning.
"""
import warnings

from .module import Module

__all__ = ["LogSoftmax", "ReLU", "Sigmoid", "Softmax", "Tanh"]


class ReLU(Module):
    """max(0, x)."""

    def __init__(self, inplace=False):
        super().__init__()
        self.inplace = inplace

    def forward(self, input):
        return input.relu()

    def extra_repr(self):
        return "inplace=True" if self.inplace else ""


class Tanh(Module):
    """tanh(x) elementwise, as torch.nn.Tanh; any shape."""

    def forward(self, input):
        return input.tanh()


class Sigmoid(Module):
    """1 / (1 + e^(−x)), finite at ±1000."""

    def forward(self, input):
        return input.sigmoid()


def _softmax_dim(name, ndim):
    warnings.warn(f"Implicit dimension choice for {name} has been deprecated. Change the call to include dim=X as "
                  f"an argument.", UserWarning, stacklevel=3)
    return 0 if ndim in (0, 1, 3) else 1


class Softmax(Module):
    """e^x / Σ e^x along `dim` (stable)."""

    def __init__(self, dim=None):
        super().__init__()
        self.dim = dim

    def forward(self, input):
        dim = _softmax_dim("softmax", input.ndim) if self.dim is None else self.dim
        return input.softmax(dim)

    def extra_repr(self):
        return f"dim={self.dim}"


class LogSoftmax(Module):
    """x − log Σ e^x along `dim` (stable)."""

    def __init__(self, dim=None):
        super().__init__()
        self.dim = dim

    def forward(self, input):
        dim = _softmax_dim("log_softmax", input.ndim) if self.dim is None else self.dim
        return input.log_softmax(dim)

    def extra_repr(self):
        return f"dim={self.dim}"
