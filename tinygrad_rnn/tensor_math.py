"""Tensor's elementwise math methods (a mixin of Tensor: each method is one op of ops/ applied to self)."""
from . import ops


class MathMethods:
    __slots__ = ()

    def exp(self):
        """eˣ elementwise; ∂x = g·eˣ. Same shape."""
        if self.data.dtype.kind != "f":                  # an integer or bool tensor: float32, as PyTorch
            return ops.Exp.apply(self.float())
        return ops.Exp.apply(self)

    def log(self):
        """ln x elementwise; ∂x = g/x. Same shape."""
        if self.data.dtype.kind != "f":                  # an integer or bool tensor: float32, as PyTorch
            return ops.Log.apply(self.float())
        return ops.Log.apply(self)

    def sigmoid(self):
        """σ(x) = 1/(1 + e⁻ˣ) elementwise (stable at ±1000); ∂x = g·σ(1 − σ). Same shape."""
        if self.data.dtype.kind != "f":                  # an integer or bool tensor: float32, as PyTorch
            return ops.Sigmoid.apply(self.float())
        return ops.Sigmoid.apply(self)

    def tanh(self):
        """tanh x elementwise; ∂x = g·(1 − tanh²x). Same shape."""
        if self.data.dtype.kind != "f":                  # an integer or bool tensor: float32, as PyTorch
            return ops.Tanh.apply(self.float())
        return ops.Tanh.apply(self)

    def relu(self):
        """max(x, 0) elementwise; ∂x = g where x > 0, else 0. Same shape."""
        return ops.ReLU.apply(self)

    def hard_sigmoid(self):
        """clip(0.2x + 0.5, 0, 1) elementwise (Keras/Theano); ∂x = 0.2g strictly inside (0, 1). Same shape."""
        if self.data.dtype.kind != "f":                  # an integer or bool tensor: float32, as PyTorch
            return ops.HardSigmoid.apply(self.float())
        return ops.HardSigmoid.apply(self)

    def clip(self, min=None, max=None):
        """min(max(x, min), max) elementwise (either bound may be None); ∂x = g inside the bounds. Same shape."""
        return ops.Clip.apply(self, min=min, max=max)

    clamp = clip
