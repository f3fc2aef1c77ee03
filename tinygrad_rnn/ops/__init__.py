"""Primitive ops, one Function class each: forward on ndarrays, backward right beside it.

One file a family: binary (broadcasting arithmetic), unary (elementwise of one tensor, casts), reduce (reductions
and softmaxes along a dim), shape (reshape, permute, join, split), index (getitem, gathers)."""
from .binary import Add, Div, MatMul, Mul, Pow, Sub, Where
from .index import GetItem, TakeAlong
from .reduce import LogSoftmax, Max, Mean, Softmax, Sum, _axes
from .shape import Cat, Permute, Reshape, Split, Stack, Unbind
from .unary import Cast, Clip, Clone, Exp, HardSigmoid, Log, Neg, ReLU, Sigmoid, Tanh

__all__ = ["Add", "Cast", "Cat", "Clip", "Clone", "Div", "Exp", "GetItem", "HardSigmoid", "Log", "LogSoftmax",
           "MatMul", "Max", "Mean", "Mul", "Neg", "Permute", "Pow", "ReLU", "Reshape", "Sigmoid", "Softmax", "Split",
           "Stack", "Sub", "Sum", "TakeAlong", "Tanh", "Unbind", "Where", "_axes"]
