"""Primitive ops, one Function class each: forward on ndarrays, backward right beside it.

One file a family: binary (broadcasting arithmetic), unary (elementwise of one tensor, casts), reduce (reductions
and softmaxes along a dim), norms (var, std, norm), sort (index orders), linalg (matmul, addmm, einsum), shape
(reshape, permute, join, split), index (getitem, gathers)."""
from __future__ import annotations

from .binary import Add, Div, Mul, Pow, Sub, Where
from .binary import ClampTensors, Fmod, Maximum, Minimum, Remainder, RoundedDiv
from .linalg import Addmm, Einsum, MatMul, check_bmm, check_mm, parse_einsum
from .norms import Norm, Std, Var
from .reduce import CumSum, LogSumExp, Prod
from .sort import sort_indices, topk_indices
from .unary import Abs, Cos, Expm1, Log1p, Reciprocal, Round, Rsqrt, Sign, Sin, Sqrt, Square
from .index import GetItem, TakeAlong
from .index import Gather, IndexPut, IndexSelect, MaskedFill, MaskedSelect, Scatter, ScatterAdd
from .reduce import LogSoftmax, Max, Mean, Softmax, Sum, _axes
from .shape import Cat, Permute, Reshape, Split, Stack, Unbind
from .shape import Expand, Flip, Repeat, Roll
from .unary import Cast, Clip, Clone, Exp, HardSigmoid, Log, Neg, ReLU, Sigmoid, Tanh

__all__ = ["Add", "Cast", "Cat", "Clip", "Clone", "Div", "Exp", "GetItem", "HardSigmoid", "Log", "LogSoftmax",
           "MatMul", "Max", "Mean", "Mul", "Neg", "Permute", "Pow", "ReLU", "Reshape", "Sigmoid", "Softmax", "Split",
           "Stack", "Sub", "Sum", "TakeAlong", "Tanh", "Unbind", "Where", "_axes"]
__all__ += ["Expand", "Flip", "Gather", "IndexPut", "IndexSelect", "MaskedFill", "MaskedSelect", "Repeat", "Roll",
            "Scatter", "ScatterAdd"]
__all__ += ["Abs", "Addmm", "ClampTensors", "Cos", "CumSum", "Einsum", "Expm1", "Fmod", "Log1p", "LogSumExp",
            "Maximum", "Minimum", "Norm", "Prod", "Reciprocal", "Remainder", "Round", "RoundedDiv", "Rsqrt", "Sign",
            "Sin", "Sqrt", "Square", "Std", "Var", "check_bmm", "check_mm", "parse_einsum", "sort_indices",
            "topk_indices"]
