"""Argument checks shared by nn's modules, worded as PyTorch words them: the owner, the argument, what was expected
and what was received."""
from __future__ import annotations

import numbers

from ..tensor import Tensor
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from typing import Any
    from .._typing import DTypeLike


def check_size(owner: str, name: str, value: Any) -> None:
    if not isinstance(value, numbers.Integral) or isinstance(value, bool) or value <= 0:
        raise ValueError(f"{owner}: {name} must be a positive integer, but got {value!r}")


def check_choice(owner: str, name: str, value: Any, choices: Any) -> None:
    if value not in choices:
        raise ValueError(f"{owner}: {name} must be one of {', '.join(map(repr, choices))}, but got {value!r}")


def check_input(owner: str, x: Any, size: Any, dtype: DTypeLike, ranks: Any, what: str = "input") -> None:
    """A Tensor of an allowed rank whose last dim is `size` and whose dtype is the module's."""
    if not isinstance(x, Tensor):
        raise TypeError(f"{owner}: expected {what} to be a Tensor, but got {type(x).__name__}")
    if x.ndim not in ranks:
        raise ValueError(f"{owner}: Expected {what} to be {'D or '.join(map(str, ranks))}D, got {x.ndim}D instead")
    if x.shape[-1] != size:
        raise ValueError(f"{owner}: {what}.size(-1) must be equal to input_size. Expected {size}, got {x.shape[-1]}")
    if x.dtype != dtype:
        raise ValueError(f"{owner}: expected {what} of dtype {dtype} (the parameters' dtype), but got {x.dtype}")


def check_state(owner: str, name: str, state: Any, shape: Any, dtype: DTypeLike) -> None:
    if not isinstance(state, Tensor):
        raise TypeError(f"{owner}: expected {name} to be a Tensor, but got {type(state).__name__}")
    if state.shape != shape:
        raise ValueError(f"{owner}: Expected {name} size {shape}, got {state.shape}")
    if state.dtype != dtype:
        raise ValueError(f"{owner}: expected {name} of dtype {dtype} (the parameters' dtype), but got {state.dtype}")


def check_layer_size(owner: str, name: str, value: Any) -> None:
    """A sequence layer's input_size, hidden_size, num_layers, in torch.nn.RNNBase's words."""
    if not isinstance(value, numbers.Integral) or isinstance(value, bool):
        raise TypeError(f"{owner}: {name} should be of type int, got: {type(value).__name__}")
    if value <= 0:
        raise ValueError(f"{owner}: {name} must be greater than zero, but got {value}")


def check_checkpoint_every(owner: str, value: Any) -> None:
    """None (keep every step on the tape) or a positive int k (recompute the steps k at a time in backward), in
    the words torch.nn.RNNBase uses for num_layers."""
    if value is None:
        return
    if not isinstance(value, numbers.Integral) or isinstance(value, bool):
        raise TypeError(f"{owner}: checkpoint_every should be of type int or None, got: {type(value).__name__}")
    if value <= 0:
        raise ValueError(f"{owner}: checkpoint_every must be greater than zero (the number of time steps per "
                         f"recomputed segment), but got {value}")


def check_proj_size(owner: str, proj_size: int, hidden_size: int) -> None:
    """0 (no projection) or an int in [1, hidden_size), in torch.nn.LSTM's words."""
    if isinstance(proj_size, bool) or not isinstance(proj_size, numbers.Integral) or proj_size < 0:
        raise ValueError(f"{owner}: proj_size should be a positive integer or zero to disable projections, but got "
                         f"{proj_size!r}")
    if proj_size >= hidden_size:
        raise ValueError(f"{owner}: proj_size has to be smaller than hidden_size, but got proj_size={proj_size} and "
                         f"hidden_size={hidden_size}")


def check_no_projection(owner: str, proj_size: int) -> None:
    """RNN and GRU take proj_size=0 only, as torch's."""
    if proj_size != 0:
        raise ValueError(f"{owner}: proj_size argument is only supported for LSTM, not RNN or GRU, but got "
                         f"proj_size={proj_size!r}")


def check_hx_tuple(owner: str, hx: Any, batched: bool, rank: Any = None) -> None:
    """An LSTM's hx is the pair (h_0, c_0), each of `rank` dimensions (a layer's: 3 batched, 2 unbatched). A single
    tensor is refused as such (torch reads its first two rows as h_0 and c_0 and reports their rank; its words are
    kept at the end, for scripts that match them)."""
    rank = rank or (3 if batched else 2)
    if isinstance(hx, Tensor):
        raise RuntimeError(f"{owner}: expected hx to be a tuple (h_0, c_0) of two {rank}-D tensors, but got a single "
                           f"Tensor of shape {tuple(hx.shape)} (For {'batched' if batched else 'unbatched'} "
                           f"{rank}-D input, hx and cx should also be {rank}-D)")
    if not isinstance(hx, (tuple, list)) or len(hx) != 2:
        got = f"a {type(hx).__name__} of {len(hx)}" if isinstance(hx, (tuple, list)) else type(hx).__name__
        raise ValueError(f"{owner}: expected hx to be a tuple (h_0, c_0), but got {got}")
