"""pad(input, pad, mode, value) as torch.nn.functional.pad: one tape node whose gradient folds the padding back.

`pad` lists (before, after) pairs from the last dim backwards; a negative amount crops. Every mode is an index
map per padded dim (output position → input position): constant fills what maps outside, reflect mirrors about
the edge (the edge itself not repeated), replicate repeats the edge, circular wraps around (after cropping, as
torch). Backward sums the gradient of every output position into the input position it came from.
"""
from __future__ import annotations

import numbers

import numpy as np

from ..function import Function
from ..tensor import Tensor
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from typing import Any, Sequence

__all__ = ["pad"]

MODES = ("constant", "reflect", "replicate", "circular")


def _source(mode: Any, n: int, before: Any, after: Any) -> Any:
    """For one dim of size n padded by (before, after): the input index of each output position, and for
    'constant' the mask of positions that map inside (None otherwise)."""
    i = np.arange(n + before + after) - before
    if mode == "constant":
        inside = (i >= 0) & (i < n)
        return np.where(inside, i, 0), inside
    if mode == "reflect":
        i = np.abs(i)                                  # left edge: -k -> k
        return np.where(i >= n, 2 * (n - 1) - i, i), None
    if mode == "replicate":
        return np.clip(i, 0, n - 1), None
    lo, hi = max(-before, 0), n - max(-after, 0)       # circular, as torch: crop first, then wrap in what is left
    return lo + (np.arange(n + before + after) - max(before, 0)) % max(hi - lo, 1), None


class Pad(Function):
    """out[j] = a[src(j)] along each padded dim (`value` where src falls outside, for 'constant');
    ∂a[i] = Σ of g over the positions j with src(j) = i"""

    @staticmethod
    def forward(ctx: Any, a: Any, pairs: Any, mode: Any, value: Any) -> Tensor:
        out = a
        maps = []
        for dim, before, after in pairs:
            src, inside = _source(mode, a.shape[dim], before, after)
            out = np.take(out, src, axis=dim)
            if inside is not None and not inside.all():
                view = np.moveaxis(out, dim, 0)
                view[~inside] = value
            maps.append((dim, src, inside))
        ctx.save_for_backward(a.shape, maps)
        return out if out is not a else out.copy()

    @staticmethod
    def backward(ctx: Any, g: Any) -> Tensor:
        shape, maps = ctx.saved
        for dim, src, inside in reversed(maps):
            moved = np.moveaxis(g, dim, 0)
            if inside is not None:
                src, moved = src[inside], moved[inside]
            folded = np.zeros((shape[dim],) + moved.shape[1:], dtype=g.dtype)
            np.add.at(folded, src, moved)
            g = np.moveaxis(folded, 0, dim)
        return g


def _pairs(input: Any, pad: Any) -> Any:
    """(dim, before, after) for each padded dim, last dim first, with torch's checks."""
    try:
        amounts = list(pad)
    except TypeError:
        raise TypeError(f"pad(): argument 'pad' (position 2) must be tuple of ints, not "
                        f"{type(pad).__name__}") from None
    for pos, p in enumerate(amounts):
        if isinstance(p, bool) or not isinstance(p, numbers.Integral):
            raise TypeError(f"pad(): argument 'pad' (position 2) must be tuple of ints, but found element of type "
                            f"{type(p).__name__} at pos {pos}")
    if len(amounts) % 2:
        raise RuntimeError("Padding length must be divisible by 2")
    if len(amounts) // 2 > input.ndim:
        raise RuntimeError(f"Padding length should be less than or equal to two times the input dimension but got "
                           f"padding length {len(amounts)} and input of dimension {input.ndim}")
    return [(input.ndim - 1 - k, int(amounts[2 * k]), int(amounts[2 * k + 1])) for k in range(len(amounts) // 2)]


def _check_non_constant(mode: Any, input: Any, pairs: Any) -> None:
    k = len(pairs)
    if k == 0:
        return
    if k > 3 or input.ndim not in (k + 1, k + 2):
        raise NotImplementedError(
            f"Padding size {2 * k} is not supported for {input.ndim}D input tensor.\n"
            f"Supported combinations for non-constant padding:\n"
            f"  - 2D or 3D input: padding size = 2 (pads last dimension)\n"
            f"  - 3D or 4D input: padding size = 4 (pads last 2 dimensions)\n"
            f"  - 4D or 5D input: padding size = 6 (pads last 3 dimensions)")
    if any(n == 0 for n in input.shape[1:]):
        raise RuntimeError(f"Expected {k + 1}D or {k + 2}D (batch mode) tensor with possibly 0 batch size and other "
                           f"non-zero dimensions for input, but got: {list(input.shape)}")
    for dim, before, after in pairs:
        n = input.shape[dim]
        if mode == "reflect" and (before >= n or after >= n):
            raise RuntimeError(f"Argument #4: Padding size should be less than the corresponding input dimension, "
                               f"but got: padding ({before}, {after}) at dimension {dim} of input "
                               f"{list(input.shape)}")
        if mode == "circular" and (before > n or after > n):
            raise RuntimeError("Padding value causes wrapping around more than once.")


def pad(input: Tensor, pad: Sequence[int], mode: Any = "constant", value: Any = None) -> Tensor:
    """input padded by `pad` = (left, right) for the last dim, then (top, bottom) for the one before, ...; mode
    'constant' (fill `value`, default 0; negative amounts crop), 'reflect', 'replicate' or 'circular' (the last
    1-3 dims of a batched input, as torch)."""
    if not isinstance(input, Tensor):
        raise TypeError(f"pad: expected input to be a Tensor, but got {type(input).__name__}")
    if mode not in MODES:
        raise NotImplementedError(f"Unrecognised padding mode {mode}")
    pairs = _pairs(input, pad)
    if mode != "constant":
        if value is not None and value != 0:
            raise RuntimeError(f'Padding mode "{mode}" doesn\'t take in value argument')
        _check_non_constant(mode, input, pairs)
    for dim, before, after in pairs:
        n = input.shape[dim]
        if n + before + after < 0:
            raise RuntimeError(f"The input size {n}, plus negative padding {before} and {after} resulted in a "
                               f"negative output size, which is invalid. Check dimension {dim} of your input.")
    fill = input.dtype.type(0 if value is None else value)
    return Pad.apply(input, pairs=pairs, mode=mode, value=fill)
