"""A shared weight's gradient Σₜ aₜᵀ bₜ kept as its factors, so the T steps of a sequence cost one GEMM in all.

Both containers live here: OuterSum, what a step's backward returns for its recurrent weight and what the tape adds
up (`accumulate`) and materializes once; and StepFactors, a Scan's per-step collection of the same factors, kept by
time step so that a left factor that is also the step's input gradient is read from the Scan's dxs buffer instead
of being kept twice.
"""
import numpy as np

from ..backend import calls
from ..function import LazyGrad
from . import workspace


class OuterSum(LazyGrad):
    """Σₖ aₖᵀ bₖ (+ a dense term), materialized as concat(a)ᵀ concat(b): `OuterSum(dz, h)` stands for dzᵀ h."""

    __slots__ = ("lefts", "rights", "dense")
    __array_ufunc__ = None  # an ndarray never adds one behind the tape's back: the tape calls accumulate

    def __init__(self, left, right):
        self.lefts, self.rights, self.dense = [left], [right], None

    def accumulate(self, other):
        """self + other, in place (only the tape holds an OuterSum); other is an OuterSum or an ndarray."""
        if type(other) is OuterSum:
            self.lefts += other.lefts
            self.rights += other.rights
            other = other.dense
        if other is not None:
            self.dense = other if self.dense is None else self.dense + other
        return self

    def materialize(self):
        left, right = ((self.lefts[0], self.rights[0]) if len(self.lefts) == 1 else
                       (np.concatenate(self.lefts), np.concatenate(self.rights)))
        out = calls.outer_product(left, right, workspace.kernel_output((left.shape[-1], right.shape[-1]), left.dtype)
                                  if left.ndim == right.ndim == 2 else None)
        if self.dense is not None:
            out += self.dense
        return out

    def fresh(self):
        return bool(self.lefts)             # a GEMM result: a new array nobody else references

    def arrays(self):
        return [a for a in (*self.lefts, *self.rights, self.dense) if a is not None]

    def shared_factor(self):
        single = len(self.lefts) == 1 and self.dense is None and self.lefts[0].ndim == self.rights[0].ndim == 2
        return self.lefts[0] if single else None

    def pairs_with(self, other):
        x, y = self.shared_factor(), other.shared_factor() if type(other) is OuterSum else None
        if (x is None or y is None or x.shape != y.shape or x.strides != y.strides or x.dtype != y.dtype
                or (x if x.base is None else x.base) is not (y if y.base is None else y.base)):
            return False                   # (the cheap tests first: __array_interface__ builds a dict)
        return x.__array_interface__["data"][0] == y.__array_interface__["data"][0]

    def materialize_pair(self, other):
        """Both products in one GEMM pass, for an `other` that pairs_with(self) said shares the left factor (a
        layer's dz: the Scan's W_hh term and the projection's W_ih term), whose copy of dzᵀ then serves both (880
        against 916 µs an LSTM layer call at M, timed in the engine)."""
        left, r1, r2 = self.lefts[0], self.rights[0], other.rights[0]
        return calls.outer_products(left, r1, r2, workspace.kernel_output((left.shape[-1], r1.shape[-1]), left.dtype),
                                    workspace.kernel_output((left.shape[-1], r2.shape[-1]), left.dtype))


class StepFactors:
    """A Scan's factors aₜ, bₜ of one shared weight, by time step, joined into one OuterSum over (T·B)-row matrices
    at the end. When aₜ is the step's input gradient (an LSTM's dz is its dxp) it is read from dxs instead of being
    kept twice; other aₜ are kept as the steps return them and joined once at the end (a buffer for all T made at
    the first step would add to the backward's peak, while every step's saved arrays still live)."""

    __slots__ = ("lefts", "rights")

    def __init__(self, steps):
        self.lefts, self.rights = [None] * steps, [None] * steps

    def add(self, t, left, right, left_is_dxs_t):
        self.rights[t] = right
        self.lefts[t] = _IN_DXS if left_is_dxs_t else left

    def outer_sum(self, dxs):
        if all(left is _IN_DXS for left in self.lefts):
            lefts = dxs
        else:
            lefts = np.stack([dxs[t] if left is _IN_DXS else left for t, left in enumerate(self.lefts)])
        return OuterSum(lefts.reshape(-1, lefts.shape[-1]), np.concatenate(self.rights))


_IN_DXS = object()  # StepFactors: this step's left factor is dxs[t]
