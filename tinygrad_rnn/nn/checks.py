"""Argument checks shared by nn's modules, worded as PyTorch words them: the owner, the argument, what was expected
and what was received."""
import numbers

from ..tensor import Tensor


def check_size(owner, name, value):
    if not isinstance(value, numbers.Integral) or isinstance(value, bool) or value <= 0:
        raise ValueError(f"{owner}: {name} must be a positive integer, but got {value!r}")


def check_choice(owner, name, value, choices):
    if value not in choices:
        raise ValueError(f"{owner}: {name} must be one of {', '.join(map(repr, choices))}, but got {value!r}")


def check_input(owner, x, size, dtype, ranks, what="input"):
    """A Tensor of an allowed rank whose last dim is `size` and whose dtype is the module's."""
    if not isinstance(x, Tensor):
        raise TypeError(f"{owner}: expected {what} to be a Tensor, but got {type(x).__name__}")
    if x.ndim not in ranks:
        raise ValueError(f"{owner}: Expected {what} to be {'D or '.join(map(str, ranks))}D, got {x.ndim}D instead")
    if x.shape[-1] != size:
        raise ValueError(f"{owner}: {what}.size(-1) must be equal to input_size. Expected {size}, got {x.shape[-1]}")
    if x.dtype != dtype:
        raise ValueError(f"{owner}: expected {what} of dtype {dtype} (the parameters' dtype), but got {x.dtype}")


def check_state(owner, name, state, shape, dtype):
    if not isinstance(state, Tensor):
        raise TypeError(f"{owner}: expected {name} to be a Tensor, but got {type(state).__name__}")
    if state.shape != shape:
        raise ValueError(f"{owner}: Expected {name} size {shape}, got {state.shape}")
    if state.dtype != dtype:
        raise ValueError(f"{owner}: expected {name} of dtype {dtype} (the parameters' dtype), but got {state.dtype}")
