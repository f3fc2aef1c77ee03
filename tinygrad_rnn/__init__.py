"""tinygrad_rnn: a tape-based reverse-mode autodiff engine for recurrent networks, with Cython kernels."""
import numpy as _np

from .tensor import Tensor, cat, ones, randn, stack, tensor, where, zeros
from .function import Function, unbroadcast
from .grad_mode import enable_grad, is_grad_enabled, no_grad
from .anomaly import detect_anomaly
from .gradcheck import GradcheckError, gradcheck
from .rng import manual_seed
from . import nn, optim
from .backend import BACKEND

float32 = _np.float32
float64 = _np.float64

__version__ = "0.1.0"
__all__ = [
    "BACKEND", "Function", "GradcheckError", "Tensor", "cat", "detect_anomaly", "enable_grad", "float32", "float64",
    "gradcheck", "is_grad_enabled", "manual_seed", "nn", "no_grad", "optim", "ones", "randn", "stack", "tensor",
    "unbroadcast", "where", "zeros",
]
