"""The Function contract: static forward/backward on raw ndarrays; `apply` records the node on the tape."""
from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np

from . import anomaly, grad_mode, inplace

if TYPE_CHECKING:
    from typing import Callable

    from .tensor import Tensor


def unbroadcast(grad: np.ndarray, shape: tuple[int, ...]) -> np.ndarray:
    """Sum `grad` over the axes NumPy broadcasting added or stretched, so it gets `shape` back."""
    if grad.shape == shape:
        return grad
    extra = grad.ndim - len(shape)
    if extra:
        grad = grad.sum(axis=tuple(range(extra)))
    stretched = tuple(i for i, n in enumerate(shape) if n == 1 and grad.shape[i] != 1)
    if stretched:
        grad = grad.sum(axis=stretched, keepdims=True)
    return grad


def _promote(cls: type, arrays: list[np.ndarray]) -> list[np.ndarray]:
    """Inputs of different dtypes: integer and bool ones take the one float dtype among them (int + float32 is
    float32, as PyTorch), or the widest integer when none is a float (int32 + int64 is int64); float32 mixed with
    float64 is a TypeError, by design (no silent upcast)."""
    floats = [a.dtype for a in arrays if a.dtype.kind == "f"]
    other = [d for d in floats if d != floats[0]] if floats else ()
    if other:
        raise TypeError(
            f"{cls.__name__}: expected all inputs to have the same dtype, but got {floats[0]} and "
            f"{other[0]} (convert one with .float() or .double())"
        )
    target = floats[0] if floats else np.result_type(*arrays)
    return [a if a.dtype == target else a.astype(target) for a in arrays]


class LazyGrad:
    """A gradient kept in pieces until someone needs the array (fused/outer_sum.py's OuterSum: Σₖ aₖᵀ bₖ, so that a
    weight shared by T steps costs one GEMM). The tape sums gradients with `accumulate(other)`, which may reuse
    self (only the tape holds it) and returns the sum, and calls `materialize()` where a node or a leaf needs the
    ndarray; `fresh()` says the materialized array is new (a leaf may take it without a copy); `arrays()` lists the
    pieces, which anomaly mode checks instead of the product."""

    __slots__ = ()

    def accumulate(self, other: np.ndarray | LazyGrad) -> np.ndarray | LazyGrad:
        raise NotImplementedError

    def materialize(self) -> np.ndarray:
        raise NotImplementedError

    def fresh(self) -> bool:
        return False

    def arrays(self) -> list[np.ndarray]:
        raise NotImplementedError

    def shared_factor(self) -> np.ndarray | None:
        """A factor another node's leaf gradient may be built on too (an OuterSum's one left factor, dz), which the
        tape may then materialize together with it (`materialize_pair`); None: none."""
        return None

    def pairs_with(self, other: LazyGrad) -> bool:
        """Whether materialize_pair(other) does both in one pass (they share their factor)."""
        return False

    def materialize_pair(self, other: LazyGrad) -> tuple[np.ndarray, np.ndarray]:
        """(self, other) materialized in one pass; called only once pairs_with(other) has said they can be."""
        return self.materialize(), other.materialize()


class Fresh(LazyGrad):
    """An array a LazyGrad was materialized into ahead of its leaf (materialize_pair): new, nobody else's, so the
    leaf takes it without a copy."""

    __slots__ = ("array",)

    def __init__(self, array: np.ndarray) -> None:
        self.array = array

    def materialize(self) -> np.ndarray:
        return self.array

    def fresh(self) -> bool:
        return True

    def accumulate(self, other: np.ndarray | LazyGrad) -> np.ndarray | LazyGrad:
        return self.array + (other.materialize() if isinstance(other, LazyGrad) else other)

    def arrays(self) -> list[np.ndarray]:
        return [self.array]


class Function:
    """One node of the tape. The instance is the `ctx` handed to forward and backward.

    Subclasses write `forward(ctx, *arrays, **options) -> ndarray` and `backward(ctx, grad) -> tuple`
    (one entry per Tensor input, None where no gradient is needed), both static, on ndarrays only.
    A forward may return a tuple of arrays: `apply` then returns a tuple of Tensors, and backward gets a
    tuple of gradients, None for an output that received none. Each gradient a backward returns is an ndarray of
    its input's shape, None, or a LazyGrad standing for such an array.
    """

    __slots__ = ("parents", "saved", "needs_input_grad", "freed", "n_out", "trace", "guards")
    # True where backward only reads the gradient it is given (never writes into it): the tape may then hold a
    # leaf's lazy gradient over that memory until this node's backward has run (autograd._finish_leaves)
    grad_read_only = False
    parents: tuple[Tensor, ...]
    saved: tuple[Any, ...]
    needs_input_grad: tuple[bool, ...]
    freed: bool
    n_out: int
    trace: Any
    guards: Any

    def save_for_backward(self, *arrays: Any) -> None:
        """Keeps arrays (or shapes, indices) on the node for backward, as `ctx.saved`; freed after backward."""
        self.saved = arrays

    @classmethod
    def apply(cls, *tensors: Any, **options: Any) -> Any:  # Tensors (a method family's self among them)
        """Runs forward on the tensors' arrays and returns the output Tensor(s); records the node on the tape when
        grad mode is on and some input requires grad (options are passed to forward as keywords)."""
        arrays = [t.data for t in tensors]
        dtype = arrays[0].dtype
        for a in arrays:
            if a.dtype is not dtype and a.dtype != dtype:
                arrays = _promote(cls, arrays)
                break
        ctx: Any = cls()                    # None below when nothing is recorded
        ctx.needs_input_grad = needs = tuple([t.requires_grad for t in tensors])
        ctx.saved = ()
        ctx.freed = False
        forward = inplace.begin_forward()
        out = cls.forward(ctx, *arrays, **options)
        record = grad_mode.state.enabled and True in needs
        if record:
            ctx.parents = tensors
            ctx.guards = inplace.guards(tensors, ctx.saved, out, forward) if ctx.saved else None  # what it saved
            if anomaly.state.enabled:
                anomaly.record(ctx, out)
        else:
            ctx = None
        if type(out) is tuple:
            if record:
                ctx.n_out = len(out)
            return tuple([_output(o, ctx, i) for i, o in enumerate(out)])
        if record:
            ctx.n_out = 0
        return _output(out, ctx, 0)

    @staticmethod
    def forward(ctx: Any, *arrays: Any, **options: Any) -> Any:
        """ndarrays in, an ndarray (or a tuple of them) out; save what backward needs with ctx.save_for_backward."""
        raise NotImplementedError

    @staticmethod
    def backward(ctx: Any, grad: Any) -> Any:
        """∂L/∂output (an ndarray, or a tuple for several outputs) -> one ∂L/∂input per input, None where
        ctx.needs_input_grad says none is needed."""
        raise NotImplementedError

    def __repr__(self) -> str:
        return f"<{type(self).__name__}>"


# Tensor._make, which wraps each output. Tensor's methods make nodes and nodes make Tensors, so one of the two modules
# learns of the other late: tensor.py hands it over once the class exists. A module global, so the call every node
# makes per output needs no attribute lookup.
_output: Callable[[Any, Function | None, int], Tensor] = None  # type: ignore[assignment]  # set by tensor.py


def set_output(make: Callable[[Any, Function | None, int], Tensor]) -> None:
    global _output
    _output = make
