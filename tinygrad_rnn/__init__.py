"""tinygrad_rnn: a tape-based reverse-mode autodiff engine for recurrent networks, with Cython kernels."""
import numpy as _np

from .tensor import Tensor, cat, device, stack, where
from .factories import (arange, empty, empty_like, eye, full, full_like, linspace, multinomial, ones, ones_like,
                        rand, rand_like, randint, randn, randn_like, randperm, tensor, zeros, zeros_like)
from .function import Function, unbroadcast
from .grad_mode import enable_grad, is_grad_enabled, no_grad
from .anomaly import detect_anomaly
from .gradcheck import GradcheckError, gradcheck
from .rng import manual_seed
from . import nn, optim
from .backend import BACKEND

float32 = _np.float32
float64 = _np.float64
int64 = long = _np.int64      # labels, indices: no gradient (as are int32 and bool)
int32 = _np.int32

__version__ = "0.1.0"
__all__ = [
    "BACKEND", "Function", "arange", "empty", "empty_like", "eye", "full", "full_like", "linspace", "multinomial",
    "ones_like", "rand", "rand_like", "randint", "randn_like", "randperm", "zeros_like", "GradcheckError", "Tensor", "bool", "cat", "detect_anomaly", "device", "double",
    "enable_grad", "float", "float32", "float64", "gradcheck", "int", "int32", "int64", "is_grad_enabled", "long",
    "manual_seed", "nn", "no_grad", "optim", "ones", "randn", "stack", "tensor",
    "unbroadcast", "where", "zeros",
]

# PyTorch's short names, set last: inside this module they shadow the builtins
bool = _np.bool_  # noqa: A001
int = _np.int32  # noqa: A001  (torch.int is int32)
float = _np.float32  # noqa: A001
double = _np.float64
