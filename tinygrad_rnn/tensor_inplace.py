"""Tensor's in-place math (`add_`, `mul_`, `clamp_`, `copy_`, `uniform_`, ...; a mixin of Tensor).

Each computes the out-of-place op's result, with its broadcasting and type promotion, and writes it into self, which
keeps its shape and dtype (PyTorch's rules: the result must broadcast to self's shape, and a float result cannot go
into an integer tensor). The tape records no in-place op (see writes.py): these refuse a target on the tape or a
leaf that requires grad while grad mode is on, and are allowed under no_grad(), which is where a PyTorch script
writes them (`with torch.no_grad(): p.add_(p.grad, alpha=-lr)`). The index writes (fill_, masked_fill_, scatter_,
index_put_) are in tensor_index.py.
"""
import numbers

import numpy as np

from . import grad_mode, rng
from .dtypes import TORCH_NAMES
from .writes import check_write, write


def _check_result(t, result):
    """PyTorch's refusals of an in-place result that does not fit its target's shape or dtype."""
    if result.shape != t.data.shape:
        raise RuntimeError(f"output with shape {list(t.data.shape)} doesn't match the broadcast shape "
                           f"{list(result.shape)}")
    if not np.can_cast(result.dtype, t.data.dtype, "same_kind"):
        raise RuntimeError(f"result type {TORCH_NAMES.get(result.dtype, result.dtype)} can't be cast to the desired "
                           f"output type {TORCH_NAMES[t.data.dtype]}")


def _store(t, what, compute, values=()):
    """t ← compute() (an out-of-place op, run off the tape), after the write checks; returns t."""
    check_write(t, what, values)
    with grad_mode.no_grad():
        result = compute()
    data = result.data if hasattr(result, "_ctx") else np.asarray(result)
    _check_result(t, data)
    return write(t, what, lambda target: np.copyto(target, data, casting="unsafe"))


def _augmented(t, what, other, compute):
    """`t op= other`: in place, as PyTorch's, when the tape is not involved (under no_grad, or plain tensors: this
    is what makes `with no_grad(): p -= lr * p.grad` update the parameter). On the tape this engine records no
    in-place op, so `loss += term` on a recorded tensor returns the out-of-place result, which Python binds to the
    name: the same value and gradient as PyTorch's, but other names for the old tensor keep the old value. A leaf
    that requires grad is refused, as PyTorch refuses it."""
    recording = grad_mode.state.enabled and (t._ctx is not None or (hasattr(other, "_ctx") and other.requires_grad))
    if recording and not (t._ctx is None and t.requires_grad):
        return compute()
    return _store(t, what, compute, (other,))


def _float_target(t, what):
    if t.data.dtype.kind != "f":
        raise RuntimeError(f"{what}: expected a floating-point tensor, but got {TORCH_NAMES[t.data.dtype]}")


class InplaceMethods:
    __slots__ = ()

    # ---- augmented assignment: x += y, x -= y, ... -------------------------------------------------------------
    def __iadd__(self, other):
        return _augmented(self, "+=", other, lambda: self + other)

    def __isub__(self, other):
        return _augmented(self, "-=", other, lambda: self - other)

    def __imul__(self, other):
        return _augmented(self, "*=", other, lambda: self * other)

    def __itruediv__(self, other):
        return _augmented(self, "/=", other, lambda: self / other)

    def __ipow__(self, other):
        return _augmented(self, "**=", other, lambda: self ** other)

    def __iand__(self, other):
        return _augmented(self, "&=", other, lambda: self & other)

    def __ior__(self, other):
        return _augmented(self, "|=", other, lambda: self | other)

    def __ixor__(self, other):
        return _augmented(self, "^=", other, lambda: self ^ other)

    # ---- arithmetic ----------------------------------------------------------------------------------------------
    def add_(self, other, *, alpha=1):
        """self ← self + alpha·other"""
        return _store(self, "add_", lambda: self.add(other, alpha=alpha), (other,))

    def sub_(self, other, *, alpha=1):
        """self ← self − alpha·other"""
        return _store(self, "sub_", lambda: self.sub(other, alpha=alpha), (other,))

    def mul_(self, other):
        """self ← self · other"""
        return _store(self, "mul_", lambda: self.mul(other), (other,))

    def div_(self, other, *, rounding_mode=None):
        """self ← self / other"""
        return _store(self, "div_", lambda: self.div(other, rounding_mode=rounding_mode), (other,))

    def pow_(self, exponent):
        """self ← self ** exponent"""
        return _store(self, "pow_", lambda: self.pow(exponent), (exponent,))

    def neg_(self):
        """self ← −self"""
        return _store(self, "neg_", lambda: -self)

    def abs_(self):
        """self ← |self|"""
        return _store(self, "abs_", lambda: self.abs())

    def addcmul_(self, tensor1, tensor2, *, value=1):
        """self ← self + value · tensor1 · tensor2"""
        return _store(self, "addcmul_", lambda: self + tensor1 * tensor2 * value, (tensor1, tensor2))

    def addcdiv_(self, tensor1, tensor2, *, value=1):
        """self ← self + value · tensor1 / tensor2"""
        return _store(self, "addcdiv_", lambda: self + tensor1 / tensor2 * value, (tensor1, tensor2))

    def lerp_(self, end, weight):
        """self ← self + weight · (end − self)"""
        return _store(self, "lerp_", lambda: self + (end - self) * weight, (end, weight))

    # ---- elementwise functions ---------------------------------------------------------------------------------
    def exp_(self):
        """self ← eˢᵉˡᶠ"""
        return _store(self, "exp_", lambda: self.exp())

    def log_(self):
        """self ← ln self"""
        return _store(self, "log_", lambda: self.log())

    def sqrt_(self):
        """self ← √self"""
        return _store(self, "sqrt_", lambda: self.sqrt())

    def sigmoid_(self):
        """self ← σ(self)"""
        return _store(self, "sigmoid_", lambda: self.sigmoid())

    def tanh_(self):
        """self ← tanh(self)"""
        return _store(self, "tanh_", lambda: self.tanh())

    def relu_(self):
        """self ← max(self, 0)"""
        return _store(self, "relu_", lambda: self.relu())

    def clamp_(self, min=None, max=None):
        """self ← min(max(self, min), max)"""
        return _store(self, "clamp_", lambda: self.clamp(min, max), (min, max))

    clip_ = clamp_

    def clamp_min_(self, min):
        """self ← max(self, min)"""
        return _store(self, "clamp_min_", lambda: self.clamp_min(min), (min,))

    def clamp_max_(self, max):
        """self ← min(self, max)"""
        return _store(self, "clamp_max_", lambda: self.clamp_max(max), (max,))

    # ---- copies and random fills -------------------------------------------------------------------------------
    def copy_(self, src, non_blocking=False):
        """self ← src, broadcast to self's shape and cast to self's dtype (any dtype: copy_ casts, as torch's)."""
        if not hasattr(src, "_ctx"):
            raise TypeError(f"copy_(): argument 'src' (position 1) must be Tensor, not {type(src).__name__}")
        check_write(self, "copy_", (src,))
        try:
            value = np.broadcast_to(src.data, self.data.shape)
        except ValueError:
            raise RuntimeError(f"output with shape {list(self.data.shape)} doesn't match the broadcast shape "
                               f"{list(np.broadcast_shapes(self.data.shape, src.data.shape))}") from None
        return write(self, "copy_", lambda target: np.copyto(target, value, casting="unsafe"))

    def uniform_(self, a=0.0, b=1.0, *, generator=None, **bounds):
        """self ← draws from U[a, b) (torch spells the bounds `from` and `to`; both spellings are taken)."""
        a, b = bounds.pop("from", a), bounds.pop("to", b)
        if bounds:
            raise TypeError(f"uniform_() got an unexpected keyword argument '{next(iter(bounds))}'")
        _float_target(self, "uniform_")
        if a > b:
            raise RuntimeError(f"uniform_ expects to return a [from, to) range, but found from={a} > to={b}")
        draws = (generator or rng).generator.uniform(a, b, size=self.data.shape)
        return _store(self, "uniform_", lambda: draws.astype(self.data.dtype))

    def normal_(self, mean=0.0, std=1.0, *, generator=None):
        """self ← draws from N(mean, std²)"""
        _float_target(self, "normal_")
        if not isinstance(std, numbers.Real) or std < 0:
            raise RuntimeError(f"normal expects std >= 0.0, but found std {std}")
        draws = (generator or rng).generator.normal(mean, std, size=self.data.shape)
        return _store(self, "normal_", lambda: draws.astype(self.data.dtype))
