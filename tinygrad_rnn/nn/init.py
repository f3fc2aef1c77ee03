"""Weight initialisation, drawn from the engine's seeded generator (`tinygrad_rnn.manual_seed`).

The in-place initialisers have torch.nn.init's names, defaults, gains and messages; each writes into `tensor.data`
through `inplace.writing` (so a graph that saved the old values refuses backward, and `_version` counts the write),
keeps the tensor's dtype and returns the tensor. The values come from NumPy's generator, not torch's: the same
distributions, other draws. `generator=` takes a `numpy.random.Generator` in place of the engine's.
"""
from __future__ import annotations

import math
import warnings

import numpy as np

from .. import rng
from ..inplace import writing
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from typing import Any
    from .._typing import DTypeLike
    from ..nn.module import Parameter
    from ..tensor import Tensor

__all__ = ["calculate_gain", "constant_", "kaiming_normal_", "kaiming_uniform_", "normal_", "ones_", "orthogonal_",
           "uniform_", "xavier_normal_", "xavier_uniform_", "zeros_"]


def uniform(shape: Any, bound: float, dtype: DTypeLike) -> Any:
    """U(−bound, bound), as PyTorch initialises every recurrent weight with bound 1/√hidden_size."""
    return rng.generator.uniform(-bound, bound, size=shape).astype(dtype)


def recurrent_weights(input_size: int, hidden_size: int, n_gates: int, bias: bool, dtype: DTypeLike,
                      peephole: bool = False) -> Any:
    """PyTorch's layout: weight_ih (G·H, I), weight_hh (G·H, H), bias_ih, bias_hh (G·H,); peepholes (H,)."""
    bound = 1.0 / np.sqrt(hidden_size)
    rows = n_gates * hidden_size
    shapes: dict[str, tuple[int, ...]] = {"weight_ih": (rows, input_size), "weight_hh": (rows, hidden_size)}
    if bias:
        shapes.update(bias_ih=(rows,), bias_hh=(rows,))
    if peephole:
        shapes.update(weight_ci=(hidden_size,), weight_cf=(hidden_size,), weight_co=(hidden_size,))
    weights = {name: uniform(shape, bound, dtype) for name, shape in shapes.items()}
    if not bias:
        weights.update(bias_ih=None, bias_hh=None)
    return weights


# ---- torch.nn.init ------------------------------------------------------------------------------------------------
_LINEAR = ("linear", "conv1d", "conv2d", "conv3d", "conv_transpose1d", "conv_transpose2d", "conv_transpose3d")


def calculate_gain(nonlinearity: str, param: Parameter | None = None) -> Any:
    """The recommended gain: 1 (linear, conv, sigmoid), 5/3 (tanh), √2 (relu), √(2/(1+slope²)) (leaky_relu,
    slope `param`, 0.01 by default), 3/4 (selu)."""
    if nonlinearity in _LINEAR or nonlinearity == "sigmoid":
        return 1
    if nonlinearity == "tanh":
        return 5.0 / 3
    if nonlinearity == "relu":
        return math.sqrt(2.0)
    if nonlinearity == "leaky_relu":
        if param is None:
            negative_slope = 0.01
        elif not isinstance(param, bool) and isinstance(param, int) or isinstance(param, float):
            negative_slope = param
        else:
            raise ValueError(f"negative_slope {param} not a valid number")
        return math.sqrt(2.0 / (1 + negative_slope ** 2))
    if nonlinearity == "selu":
        return 3.0 / 4
    raise ValueError(f"Unsupported nonlinearity {nonlinearity}")


def _fill(tensor: Any, values: Any) -> Any:
    """Writes `values` (broadcast) into tensor.data in place, counted; returns the tensor."""
    with writing(tensor):
        tensor.data[...] = values
    return tensor


def _gen(generator: Any) -> Any:
    return rng.generator if generator is None else generator


def uniform_(tensor: Tensor, a: Any = 0.0, b: Any = 1.0, generator: Any = None) -> Any:
    """Fills with U(a, b)."""
    return _fill(tensor, _gen(generator).uniform(a, b, size=tensor.shape))


def normal_(tensor: Tensor, mean: float = 0.0, std: float = 1.0, generator: Any = None) -> Any:
    """Fills with N(mean, std²)."""
    return _fill(tensor, _gen(generator).normal(mean, std, size=tensor.shape))


def constant_(tensor: Tensor, val: Any) -> Any:
    """tensor[...] = val, in place (the engine's write, counted by the in-place guards); returns tensor."""
    return _fill(tensor, val)


def ones_(tensor: Tensor) -> Any:
    """tensor[...] = 1, in place; returns tensor."""
    return _fill(tensor, 1.0)


def zeros_(tensor: Tensor) -> Any:
    """tensor[...] = 0, in place; returns tensor."""
    return _fill(tensor, 0.0)


def _calculate_fan_in_and_fan_out(tensor: Any) -> Any:
    """(fan_in, fan_out) = (size(1), size(0)) times the receptive field (the product of the dims after the 2nd)."""
    if tensor.ndim < 2:
        raise ValueError("Fan in and fan out can not be computed for tensor with fewer than 2 dimensions")
    receptive_field_size = 1
    for s in tensor.shape[2:]:
        receptive_field_size *= s
    return tensor.shape[1] * receptive_field_size, tensor.shape[0] * receptive_field_size


def _calculate_correct_fan(tensor: Any, mode: Any) -> Any:
    mode = mode.lower()
    valid_modes = ["fan_in", "fan_out"]
    if mode not in valid_modes:
        raise ValueError(f"Mode {mode} not supported, please use one of {valid_modes}")
    fan_in, fan_out = _calculate_fan_in_and_fan_out(tensor)
    return fan_in if mode == "fan_in" else fan_out


def xavier_uniform_(tensor: Tensor, gain: float = 1.0, generator: Any = None) -> Any:
    """Glorot & Bengio (2010): U(−a, a), a = gain·√(6/(fan_in + fan_out))."""
    fan_in, fan_out = _calculate_fan_in_and_fan_out(tensor)
    std = gain * math.sqrt(2.0 / float(fan_in + fan_out))
    a = math.sqrt(3.0) * std
    return uniform_(tensor, -a, a, generator)


def xavier_normal_(tensor: Tensor, gain: float = 1.0, generator: Any = None) -> Any:
    """Glorot & Bengio (2010): N(0, std²), std = gain·√(2/(fan_in + fan_out))."""
    fan_in, fan_out = _calculate_fan_in_and_fan_out(tensor)
    std = gain * math.sqrt(2.0 / float(fan_in + fan_out))
    return normal_(tensor, 0.0, std, generator)


def _kaiming_std(tensor: Any, a: Any, mode: Any, nonlinearity: str) -> Any:
    """gain/√fan, gain = calculate_gain(nonlinearity, a); None (with torch's warning) for a zero-element tensor."""
    if 0 in tensor.shape:
        warnings.warn("Initializing zero-element tensors is a no-op", stacklevel=3)
        return None
    return calculate_gain(nonlinearity, a) / math.sqrt(_calculate_correct_fan(tensor, mode))


def kaiming_uniform_(tensor: Tensor, a: Any = 0, mode: Any = "fan_in", nonlinearity: str = "leaky_relu",
                     generator: Any = None) -> Any:
    """He et al. (2015): U(−bound, bound), bound = gain·√(3/fan), gain = calculate_gain(nonlinearity, a)."""
    std = _kaiming_std(tensor, a, mode, nonlinearity)
    if std is None:
        return tensor
    bound = math.sqrt(3.0) * std
    return uniform_(tensor, -bound, bound, generator)


def kaiming_normal_(tensor: Tensor, a: Any = 0, mode: Any = "fan_in", nonlinearity: str = "leaky_relu",
                    generator: Any = None) -> Any:
    """He et al. (2015): N(0, std²), std = gain/√fan, gain = calculate_gain(nonlinearity, a)."""
    std = _kaiming_std(tensor, a, mode, nonlinearity)
    return tensor if std is None else normal_(tensor, 0.0, std, generator)


def orthogonal_(tensor: Tensor, gain: float = 1, generator: Any = None) -> Any:
    """Saxe et al. (2013): the Q of a Gaussian matrix's QR (signs fixed by R's diagonal, so Q is Haar-uniform),
    reshaped to (size(0), numel/size(0)) and scaled by gain: rows (or columns, if fewer) orthonormal."""
    if tensor.ndim < 2:
        raise ValueError("Only tensors with 2 or more dimensions are supported")
    if tensor.numel() == 0:
        return tensor
    rows = tensor.shape[0]
    cols = tensor.numel() // rows
    flattened = _gen(generator).normal(0.0, 1.0, size=(rows, cols))
    if rows < cols:
        flattened = flattened.T
    q, r = np.linalg.qr(flattened)
    q *= np.sign(np.diag(r, 0))
    if rows < cols:
        q = q.T
    return _fill(tensor, (q * gain).reshape(tensor.shape))
