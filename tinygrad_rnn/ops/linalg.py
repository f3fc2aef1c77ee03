"""Products of matrices: matmul, addmm and einsum (whose backward is an einsum too), with PyTorch's shape errors."""
from __future__ import annotations

import functools
import string

import numpy as np

from ..function import Function, unbroadcast
from .binary import _mismatch
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from typing import Any, Sequence
    from .._typing import Grads


class MatMul(Function):
    """a @ b with NumPy's matmul rules (1-D operands, batch broadcasting); ∂a = g @ bᵀ, ∂b = aᵀ @ g"""

    @staticmethod
    def forward(ctx: Function, a: np.ndarray, b: np.ndarray) -> Any:
        ctx.save_for_backward(a, b)
        try:
            return a @ b
        except ValueError as e:
            raise _matmul_error(a.shape, b.shape, e) from None

    @staticmethod
    def backward(ctx: Function, g: np.ndarray) -> Grads:
        a, b = ctx.saved
        da, db = ctx.needs_input_grad
        a2 = a[None, :] if a.ndim == 1 else a  # matmul's promotion of 1-D operands, made explicit
        b2 = b[:, None] if b.ndim == 1 else b
        batch = np.broadcast_shapes(a2.shape[:-2], b2.shape[:-2])
        g2 = g.reshape(batch + (a2.shape[-2], b2.shape[-1]))
        ga = unbroadcast(g2 @ b2.swapaxes(-1, -2), a2.shape).reshape(a.shape) if da else None
        gb = unbroadcast(a2.swapaxes(-1, -2) @ g2, b2.shape).reshape(b.shape) if db else None
        return ga, gb


def _matmul_error(sa: Any, sb: Any, error: Exception) -> Any:
    """PyTorch's message for operands matmul cannot multiply (NumPy's names core dimensions), by the kernel
    PyTorch would reach: dot (1-D·1-D), mv (·1-D), mm (·2-D, a's leading dims folded into rows), bmm."""
    if not sa or not sb:
        return RuntimeError(f"both arguments to matmul need to be at least 1D, but they are {len(sa)}D and "
                            f"{len(sb)}D")
    k = sa[-1]
    if len(sa) == 1 and len(sb) == 1:
        return RuntimeError(f"inconsistent tensor size, expected tensor [{k}] and src [{sb[0]}] to have the same "
                            f"number of elements, but got {k} and {sb[0]} elements respectively")
    if len(sb) == 1:
        rows = int(np.prod(sa[:-1]))
        return RuntimeError(f"size mismatch, got input ({rows}), mat ({rows}x{k}), vec ({sb[0]})")
    if len(sb) == 2:
        return RuntimeError(f"mat1 and mat2 shapes cannot be multiplied ({int(np.prod(sa[:-1]))}x{k} and "
                            f"{sb[0]}x{sb[1]})")
    try:
        batch = int(np.prod(np.broadcast_shapes(sa[:-2], sb[:-2])))
    except ValueError as e:
        return _mismatch(sa[:-2], sb[:-2], e)
    if k != sb[-2]:
        return RuntimeError(f"Expected size for first two dimensions of batch2 tensor to be: [{batch}, {k}] but "
                            f"got: [{batch}, {sb[-2]}].")
    return error


def check_mm(sa: tuple[int, ...], sb: tuple[int, ...]) -> None:
    """torch.mm's checks: two matrices whose inner sizes agree."""
    if len(sa) != 2:
        raise RuntimeError("self must be a matrix")
    if len(sb) != 2:
        raise RuntimeError("mat2 must be a matrix")
    if sa[1] != sb[0]:
        raise RuntimeError(f"mat1 and mat2 shapes cannot be multiplied ({sa[0]}x{sa[1]} and {sb[0]}x{sb[1]})")


def check_bmm(sa: tuple[int, ...], sb: tuple[int, ...]) -> None:
    """torch.bmm's checks: two 3-D tensors, the same batch (no broadcasting) and inner sizes that agree."""
    for name, shape in (("batch1", sa), ("batch2", sb)):
        if len(shape) != 3:
            raise RuntimeError(f"{name} must be a 3D tensor")
    if sb[:2] != (sa[0], sa[2]):
        raise RuntimeError(f"Expected size for first two dimensions of batch2 tensor to be: [{sa[0]}, {sa[2]}] but "
                           f"got: [{sb[0]}, {sb[1]}].")


class Addmm(Function):
    """β·c + α·(m1 @ m2), c broadcast to the product's shape (ignored when β = 0, so its nan and inf do not
    spread, as PyTorch); ∂c = β·g summed back, ∂m1 = α·g @ m2ᵀ, ∂m2 = α·m1ᵀ @ g"""

    @staticmethod
    def forward(ctx: Function, c: np.ndarray, m1: np.ndarray, m2: np.ndarray, beta: float = 1, alpha: float = 1) -> Any:
        for name, m in (("mat1", m1), ("mat2", m2)):
            if m.ndim != 2:
                raise RuntimeError(f"{name} must be a matrix, got {m.ndim}-D tensor")
        if m1.shape[1] != m2.shape[0]:
            raise RuntimeError(f"mat1 and mat2 shapes cannot be multiplied ({m1.shape[0]}x{m1.shape[1]} and "
                               f"{m2.shape[0]}x{m2.shape[1]})")
        target = (m1.shape[0], m2.shape[1])
        _check_expand(c.shape, target)
        ctx.save_for_backward(c.shape, m1, m2, beta, alpha)
        out = m1 @ m2
        if alpha != 1:
            out *= alpha
        if beta == 1:
            out += c
        elif beta != 0:
            out += beta * c
        return out

    @staticmethod
    def backward(ctx: Function, g: np.ndarray) -> Grads:
        shape, m1, m2, beta, alpha = ctx.saved
        dc, d1, d2 = ctx.needs_input_grad
        ga = g if alpha == 1 else alpha * g
        return (unbroadcast(g if beta == 1 else beta * g, shape) if dc else None,
                ga @ m2.T if d1 else None, m1.T @ ga if d2 else None)


def _check_expand(shape: Any, target: Any) -> None:
    """PyTorch's messages for a tensor that cannot be expanded to `target` (addmm's input)."""
    if len(shape) > len(target):
        raise RuntimeError(f"expand({list(shape)}, size={list(target)}): the number of sizes provided "
                           f"({len(target)}) must be greater or equal to the number of dimensions in the tensor "
                           f"({len(shape)})")
    padded = (1,) * (len(target) - len(shape)) + tuple(shape)
    for i in reversed(range(len(target))):                  # PyTorch reports the last mismatch first
        n, t = padded[i], target[i]
        if n != t and n != 1:
            raise RuntimeError(f"The expanded size of the tensor ({t}) must match the existing size ({n}) at "
                               f"non-singleton dimension {i}.  Target sizes: {list(target)}.  Tensor sizes: "
                               f"{list(shape)}")


# ---- einsum ---------------------------------------------------------------------------------------------------
def _einsum_error(message: str) -> Any:
    return RuntimeError(f"einsum(): {message}")


@functools.lru_cache(maxsize=256)
def parse_einsum(equation: str, shapes: Sequence[tuple[int, ...]]) -> Any:
    """(input subscripts, output subscripts) of `equation` for operands of `shapes`, every ellipsis spelled out in
    letters the equation does not use (right-aligned, as broadcasting aligns), the implicit output (no "->") made
    explicit: the ellipsis, then the letters used once, in alphabetical order. PyTorch's errors for bad input."""
    arrow = equation.find("->")
    lhs = equation if arrow < 0 else equation[:arrow]
    for i, ch in enumerate(lhs):
        if not (ch in string.ascii_letters or ch in ",. "):
            raise _einsum_error(f"invalid subscript given at index {i} in the equation string, subscripts must be "
                                f"in [a-zA-Z]")
    terms = lhs.replace(" ", "").split(",")
    if len(terms) > len(shapes):
        raise _einsum_error("fewer operands were provided than specified in the equation")
    if len(terms) < len(shapes):
        raise _einsum_error("more operands were provided than specified in the equation")
    spare = [ch for ch in string.ascii_letters if ch not in equation]
    ellipsis_dims = max((len(s) - len(t.replace("...", "")) for t, s in zip(terms, shapes) if "..." in t),
                        default=0)
    ellipsis = "".join(spare[:ellipsis_dims])
    inputs = [_expand_term(k, t, s, ellipsis) for k, (t, s) in enumerate(zip(terms, shapes))]
    sizes = _letter_sizes(inputs, shapes)
    if arrow < 0:
        counts = "".join(inputs)
        output = ellipsis + "".join(sorted(ch for ch in set(counts) if counts.count(ch) == 1 and ch not in ellipsis))
    else:
        rhs = equation[arrow + 2:].replace(" ", "")
        output = rhs.replace("...", ellipsis)
        for i, ch in enumerate(rhs.replace("...", "")):
            if ch not in string.ascii_letters:
                raise _einsum_error(f"invalid subscript given at index {arrow + 2 + i} in the equation string, "
                                    f"subscripts must be in [a-zA-Z]")
            if ch not in sizes:
                raise _einsum_error(f"output subscript {ch} does not appear in the equation for any input operand")
            if rhs.count(ch) > 1:
                raise _einsum_error(f"output subscript {ch} appears more than once in the output")
    return tuple(inputs), output


def _expand_term(k: int, term: Any, shape: Any, ellipsis: Any) -> Any:
    """One operand's subscripts with its ellipsis replaced by the last letters of `ellipsis`."""
    if "..." in term:
        head, _, tail = term.partition("...")
        if "." in head + tail:
            raise _einsum_error(f"found '.' for operand {k} for which an ellipsis was already found")
        letters = len(head) + len(tail)
        if letters > len(shape):
            raise _einsum_error(f"the number of subscripts in the equation ({letters}) is more than the number of "
                                f"dimensions ({len(shape)}) for operand {k}")
        n = len(shape) - letters
        return head + (ellipsis[len(ellipsis) - n:] if n else "") + tail
    if "." in term:
        raise _einsum_error(f"found '.' for operand {k} that is not part of any ellipsis")
    if len(term) != len(shape):
        raise _einsum_error(f"the number of subscripts in the equation ({len(term)}) does not match the number of "
                            f"dimensions ({len(shape)}) for operand {k} and no ellipsis was given")
    return term


def _letter_sizes(inputs: Any, shapes: Sequence[tuple[int, ...]]) -> Any:
    """Each letter's size; a size of 1 broadcasts, as in PyTorch. Repeated letters in one operand must agree."""
    sizes: dict[str, int] = {}
    for k, (term, shape) in enumerate(zip(inputs, shapes)):
        own: dict[str, int] = {}
        for ch, n in zip(term, shape):
            if ch in own and own[ch] != n:
                raise _einsum_error(f"subscript {ch} is repeated for operand {k} but the sizes don't match, "
                                    f"{n} != {own[ch]}")
            own[ch] = n
            seen = sizes.get(ch)
            if seen is not None and n != seen and n != 1 and seen != 1:
                raise _einsum_error(f"subscript {ch} has size {n} for operand {k} which does not broadcast with "
                                    f"previously seen size {seen}")
            sizes[ch] = n if seen is None or seen == 1 else seen
    return sizes


class Einsum(Function):
    """Σ over the letters not in the output of Π operands (`inputs` → `output`, as parse_einsum spells them);
    ∂ operand k = the einsum of g with the other operands onto k's letters (a diagonal "ii" written back into its
    diagonal; a letter only k has, or one k has at size 1 and the others broadcast, spread back)"""

    @staticmethod
    def forward(ctx: Function, *arrays: np.ndarray, inputs: Any, output: Any) -> Any:
        shapes = tuple(a.shape for a in arrays)
        ctx.save_for_backward(arrays if len(arrays) > 1 else (), shapes, inputs, output)  # one operand: its shape
        spec = ",".join(inputs) + "->" + output
        return np.einsum(spec, *arrays, optimize=len(arrays) > 1)   # optimize: pairs go through BLAS (tensordot)

    @staticmethod
    def backward(ctx: Function, g: np.ndarray) -> Grads:
        arrays, shapes, inputs, output = ctx.saved
        sizes = _letter_sizes(inputs, shapes)
        return tuple(_einsum_grad(k, g, arrays, shapes, inputs, output, sizes) if need else None
                     for k, need in enumerate(ctx.needs_input_grad))


def _einsum_grad(k: int, g: Any, arrays: Any, shapes: Sequence[tuple[int, ...]], inputs: Any,
                 output: Any, sizes: Any) -> Any:
    term, shape = inputs[k], shapes[k]
    own = dict(zip(term, shape))
    letters = "".join(dict.fromkeys(term))                       # k's letters once each, in order
    others = [t for i, t in enumerate(inputs) if i != k]
    elsewhere = set(output).union(*others)
    kept = "".join(ch for ch in letters if ch in elsewhere and own[ch] == sizes[ch])   # what the einsum can give
    spec = ",".join([output] + others) + "->" + kept
    grad = np.einsum(spec, g, *[a for i, a in enumerate(arrays) if i != k], optimize=len(arrays) > 1)
    grad = np.broadcast_to(grad.reshape([own[ch] if ch in kept else 1 for ch in letters]),
                           [own[ch] for ch in letters])
    if letters == term:
        return grad
    full = np.zeros(shape, g.dtype)                              # a repeated letter: only its diagonal is used
    np.einsum(term + "->" + letters, full)[...] = grad            # (einsum's diagonal view is writeable)
    return full
