"""Tensor's elementwise math methods (a mixin of Tensor: each method is one op of ops/ applied to self)."""
from . import ops


class MathMethods:
    __slots__ = ()

    def exp(self):
        if self.data.dtype.kind != "f":                  # an integer or bool tensor: float32, as PyTorch
            return ops.Exp.apply(self.float())
        return ops.Exp.apply(self)

    def log(self):
        if self.data.dtype.kind != "f":                  # an integer or bool tensor: float32, as PyTorch
            return ops.Log.apply(self.float())
        return ops.Log.apply(self)

    def sigmoid(self):
        if self.data.dtype.kind != "f":                  # an integer or bool tensor: float32, as PyTorch
            return ops.Sigmoid.apply(self.float())
        return ops.Sigmoid.apply(self)

    def tanh(self):
        if self.data.dtype.kind != "f":                  # an integer or bool tensor: float32, as PyTorch
            return ops.Tanh.apply(self.float())
        return ops.Tanh.apply(self)

    def relu(self):
        return ops.ReLU.apply(self)

    def hard_sigmoid(self):
        if self.data.dtype.kind != "f":                  # an integer or bool tensor: float32, as PyTorch
            return ops.HardSigmoid.apply(self.float())
        return ops.HardSigmoid.apply(self)

    def clip(self, min=None, max=None):
        return ops.Clip.apply(self, min=min, max=max)

    clamp = clip
