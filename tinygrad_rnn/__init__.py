"""tinygrad_rnn: a tape-based reverse-mode autodiff engine for recurrent networks, with Cython kernels."""
import typing as _typing

import numpy as _np

from .tensor import Tensor, cat, device, stack, where
from .factories import (arange, empty, empty_like, eye, full, full_like, linspace, multinomial, ones, ones_like,
                        rand, rand_like, randint, randn, randn_like, randperm, tensor, zeros, zeros_like)
from .shape_functions import (broadcast_to, chunk, concat, concatenate, flatten, flip, fliplr, flipud, gather,
                              index_put, index_put_, index_select, masked_fill, masked_select, movedim, moveaxis,
                              narrow, permute, ravel, repeat_interleave, reshape, roll, scatter, scatter_add, select,
                              split, squeeze, swapaxes, swapdims, t, tile, transpose, unbind, unflatten, unsqueeze)
from .function import Function, unbroadcast
# PyTorch's free functions (abs, max, min, sum, pow, round shadow the builtins here, as torch's do in torch)
from .functions import (abs, absolute, add, addmm, amax, amin, argmax, argmin, argsort, bmm, ceil, clamp, clip,  # noqa: A004
                        cos, cumsum, div, divide, eq, einsum, exp, expm1, floor, floor_divide, fmod, ge, gt, isfinite,
                        isinf, isnan, le, log, log1p, log_softmax, logical_and, logical_not, logical_or, logical_xor,
                        logsumexp, lt, matmul, max, maximum, mean, min, minimum, mm, mul, multiply, ne, neg, negative,
                        norm, pow, prod, reciprocal, relu, remainder, round, rsqrt, rsub, sigmoid, sign, sin, softmax,
                        sort, sqrt, square, std, std_mean, sub, subtract, sum, tanh, topk, tril, triu, outer, ger,
                        true_divide, trunc, var, var_mean)
from .interop import (Size, allclose, equal, finfo, from_numpy, get_default_dtype, iinfo, is_floating_point, is_tensor,
                      isclose, numel, set_default_dtype)
from .devices import backends, cuda
from .grad_mode import enable_grad, inference_mode, is_grad_enabled, no_grad, set_grad_enabled
from .anomaly import detect_anomaly
from .gradcheck import GradcheckError, gradcheck
from .rng import Generator, get_rng_state, initial_seed, manual_seed, seed, set_rng_state
from .threads import get_num_threads, set_num_threads
from .factories import BoolTensor, DoubleTensor, FloatTensor, IntTensor, LongTensor
from . import nn, optim, utils
from .backend import BACKEND
from . import inplace as _inplace
from .backend.calls import fingerprint_kernel as _fingerprint_kernel

if _fingerprint_kernel() is not None:   # (wired here, where core and kernels meet: the core imports no kernel)
    _inplace.use_fingerprint(_fingerprint_kernel())

float32 = _np.float32
float64 = _np.float64
int64 = long = _np.int64      # labels, indices: no gradient (as are int32 and bool)
int32 = _np.int32

__all__ = [
    "BACKEND", "Function", "GradcheckError", "Tensor", "__version__", "arange", "bool", "cat", "detect_anomaly",
    "device", "double", "empty", "empty_like", "enable_grad", "eye", "float", "float32", "float64", "full",
    "full_like", "gradcheck", "int", "int32", "int64", "is_grad_enabled", "linspace", "load", "load_torch_state_dict",
    "long", "manual_seed", "multinomial", "nn", "no_grad", "ones", "ones_like", "optim", "rand", "rand_like",
    "randint", "randn", "randn_like", "randperm", "save", "stack", "tensor", "unbroadcast", "utils", "where", "zeros",
    "zeros_like",
]
__all__ += [
    "broadcast_to", "chunk", "concat", "concatenate", "flatten", "flip", "fliplr", "flipud", "gather", "index_put",
    "index_put_", "index_select", "masked_fill", "masked_select", "movedim", "moveaxis", "narrow", "permute", "ravel",
    "repeat_interleave", "reshape", "roll", "scatter", "scatter_add", "select", "split", "squeeze", "swapaxes",
    "swapdims", "t", "tile", "transpose", "unbind", "unflatten", "unsqueeze",
]
__all__ += [
    "abs", "absolute", "add", "addmm", "amax", "amin", "argmax", "argmin", "argsort", "bmm", "ceil", "clamp", "clip",
    "cos", "cumsum", "div", "divide", "eq", "einsum", "exp", "expm1", "floor", "floor_divide", "fmod", "ge", "gt",
    "isfinite", "isinf", "isnan", "le", "log", "log1p", "log_softmax", "logical_and", "logical_not", "logical_or",
    "logical_xor", "logsumexp", "lt", "matmul", "max", "maximum", "mean", "min", "minimum", "mm", "mul", "multiply",
    "ne", "neg", "negative", "norm", "pow", "prod", "reciprocal", "relu", "remainder", "round", "rsqrt", "rsub",
    "sigmoid", "sign", "sin", "softmax", "sort", "sqrt", "square", "std", "std_mean", "sub", "subtract", "sum", "tanh",
    "topk", "true_divide", "trunc", "var", "var_mean", "tril", "triu", "outer", "ger",
]
__all__ += [
    "Generator", "Size", "allclose", "backends", "cuda", "equal", "finfo", "from_numpy", "get_default_dtype", "iinfo",
    "inference_mode", "is_floating_point", "is_tensor", "isclose", "numel", "set_default_dtype", "set_grad_enabled",
    "get_rng_state", "initial_seed", "seed", "set_rng_state", "get_num_threads", "set_num_threads",
    "BoolTensor", "DoubleTensor", "FloatTensor", "IntTensor", "LongTensor",
]


if _typing.TYPE_CHECKING:  # what __getattr__ below loads on first use, named for mypy
    from .serialization import load, load_torch_state_dict, save

    __version__: str


def __getattr__(name: str) -> _typing.Any:
    """What is loaded when first asked for, so that `import tinygrad_rnn` stays quick: save, load and
    load_torch_state_dict (serialization.py, with the checkpoint readers), and __version__, read from the installed
    package's metadata (pyproject.toml is its one source; importlib.metadata is slow to import)."""
    if name in ("save", "load", "load_torch_state_dict"):
        from . import serialization
        globals().update(save=serialization.save, load=serialization.load,
                         load_torch_state_dict=serialization.load_torch_state_dict)
        return globals()[name]
    if name == "__version__":
        from importlib.metadata import PackageNotFoundError, version
        try:
            value = version("tinygrad_rnn")
        except PackageNotFoundError:          # run from a source tree that was never installed
            value = "0+unknown"
        globals()["__version__"] = value
        return value
    raise AttributeError(f"module 'tinygrad_rnn' has no attribute {name!r}")

# PyTorch's short names, set last: inside this module they shadow the builtins
bool = _np.bool_  # noqa: A001
int = _np.int32  # noqa: A001  (torch.int is int32)
float = _np.float32  # noqa: A001
double = _np.float64
