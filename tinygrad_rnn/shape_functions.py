"""The torch-style functions of the shape and indexing methods: tinygrad_rnn.flatten(x) is x.flatten(), with
PyTorch's argument names (and cat/stack, which only exist as functions)."""
from __future__ import annotations

import numpy as np

from .tensor_shape import cat
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from typing import Any, Sequence
    from ._typing import DimArg, ShapeArg
    from .tensor import Tensor

concat = concatenate = cat


def _tensor(name: str, input: Any) -> Tensor:
    """torch._tensor: `name._tensor(…)` as a function (see the Tensor method for the math and shapes)."""
    if not hasattr(input, "_ctx"):
        raise TypeError(f"{name}(): argument 'input' (position 1) must be Tensor, not {type(input).__name__}")
    return input


def reshape(input: Tensor, shape: ShapeArg) -> Tensor:
    """torch.reshape: `input.reshape(…)` as a function (see the Tensor method for the math and shapes)."""
    return _tensor("reshape", input).reshape(shape)


def unsqueeze(input: Tensor, dim: DimArg) -> Tensor:
    """torch.unsqueeze: `input.unsqueeze(…)` as a function (see the Tensor method for the math and shapes)."""
    return _tensor("unsqueeze", input).unsqueeze(dim)


def squeeze(input: Tensor, dim: DimArg = None) -> Tensor:
    """torch.squeeze: `input.squeeze(…)` as a function (see the Tensor method for the math and shapes)."""
    return _tensor("squeeze", input).squeeze(dim)


def flatten(input: Tensor, start_dim: int = 0, end_dim: int = -1) -> Tensor:
    """torch.flatten: `input.flatten(…)` as a function (see the Tensor method for the math and shapes)."""
    return _tensor("flatten", input).flatten(start_dim, end_dim)


def ravel(input: Tensor) -> Tensor:
    """torch.ravel: `input.ravel(…)` as a function (see the Tensor method for the math and shapes)."""
    return _tensor("ravel", input).flatten()


def unflatten(input: Tensor, dim: DimArg, sizes: ShapeArg) -> Tensor:
    """torch.unflatten: `input.unflatten(…)` as a function (see the Tensor method for the math and shapes)."""
    return _tensor("unflatten", input).unflatten(dim, sizes)


def broadcast_to(input: Tensor, size: ShapeArg) -> Tensor:
    """torch.broadcast_to: `input.broadcast_to(…)` as a function (see the Tensor method for the math and shapes)."""
    return _tensor("broadcast_to", input).expand(size)


def permute(input: Tensor, dims: Any) -> Tensor:
    """torch.permute: `input.permute(…)` as a function (see the Tensor method for the math and shapes)."""
    return _tensor("permute", input).permute(dims)


def transpose(input: Tensor, dim0: int, dim1: int) -> Tensor:
    """torch.transpose: `input.transpose(…)` as a function (see the Tensor method for the math and shapes)."""
    return _tensor("transpose", input).transpose(dim0, dim1)


def swapaxes(input: Tensor, axis0: int, axis1: int) -> Tensor:
    """torch.swapaxes: `input.swapaxes(…)` as a function (see the Tensor method for the math and shapes)."""
    return _tensor("swapaxes", input).transpose(axis0, axis1)


def swapdims(input: Tensor, dim0: int, dim1: int) -> Tensor:
    """torch.swapdims: `input.swapdims(…)` as a function (see the Tensor method for the math and shapes)."""
    return _tensor("swapdims", input).transpose(dim0, dim1)


def movedim(input: Tensor, source: Any, destination: Any) -> Tensor:
    """torch.movedim: `input.movedim(…)` as a function (see the Tensor method for the math and shapes)."""
    return _tensor("movedim", input).movedim(source, destination)


def moveaxis(input: Tensor, source: Any, destination: Any) -> Tensor:
    """torch.moveaxis: `input.moveaxis(…)` as a function (see the Tensor method for the math and shapes)."""
    return _tensor("moveaxis", input).movedim(source, destination)


def t(input: Tensor) -> Tensor:
    """torch.t: `input.t(…)` as a function (see the Tensor method for the math and shapes)."""
    return _tensor("t", input).t()


def narrow(input: Tensor, dim: DimArg, start: Any, length: Any) -> Tensor:
    """torch.narrow: `input.narrow(…)` as a function (see the Tensor method for the math and shapes)."""
    return _tensor("narrow", input).narrow(dim, start, length)


def select(input: Tensor, dim: DimArg, index: Any) -> Tensor:
    """torch.select: `input.select(…)` as a function (see the Tensor method for the math and shapes)."""
    return _tensor("select", input).select(dim, index)


def split(tensor: Tensor, split_size_or_sections: int | Sequence[int], dim: int = 0) -> Any:
    """torch.split: `tensor.split(…)` as a function (see the Tensor method for the math and shapes)."""
    return _tensor("split", tensor).split(split_size_or_sections, dim)


def chunk(input: Tensor, chunks: int, dim: DimArg = 0) -> Tensor:
    """torch.chunk: `input.chunk(…)` as a function (see the Tensor method for the math and shapes)."""
    return _tensor("chunk", input).chunk(chunks, dim)


def unbind(input: Tensor, dim: DimArg = 0) -> Tensor:
    """torch.unbind: `input.unbind(…)` as a function (see the Tensor method for the math and shapes)."""
    return _tensor("unbind", input).unbind(dim)


def tile(input: Tensor, dims: Any) -> Tensor:
    """torch.tile: `input.tile(…)` as a function (see the Tensor method for the math and shapes)."""
    return _tensor("tile", input).tile(dims)


def repeat_interleave(input: Tensor, repeats: Any = None, dim: DimArg = None, *, output_size: Any = None) -> Tensor:
    """input.repeat_interleave(repeats, dim); with no repeats, input holds the counts and the result is the indices
    they repeat (repeat_interleave(tensor([1, 2])) is tensor([0, 1, 1]))."""
    if repeats is None:
        counts = _tensor("repeat_interleave", input)
        arange = counts._make(np.arange(counts.data.reshape(-1).size, dtype=np.int64), None)
        return arange.repeat_interleave(counts.reshape(-1), 0, output_size=output_size)
    return _tensor("repeat_interleave", input).repeat_interleave(repeats, dim, output_size=output_size)


def flip(input: Tensor, dims: Any) -> Tensor:
    """torch.flip: `input.flip(…)` as a function (see the Tensor method for the math and shapes)."""
    return _tensor("flip", input).flip(dims)


def fliplr(input: Tensor) -> Tensor:
    """torch.fliplr: `input.fliplr(…)` as a function (see the Tensor method for the math and shapes)."""
    return _tensor("fliplr", input).fliplr()


def flipud(input: Tensor) -> Tensor:
    """torch.flipud: `input.flipud(…)` as a function (see the Tensor method for the math and shapes)."""
    return _tensor("flipud", input).flipud()


def roll(input: Tensor, shifts: Any, dims: Any = None) -> Tensor:
    """torch.roll: `input.roll(…)` as a function (see the Tensor method for the math and shapes)."""
    return _tensor("roll", input).roll(shifts, dims)


def index_select(input: Tensor, dim: DimArg, index: Any) -> Tensor:
    """torch.index_select: `input.index_select(…)` as a function (see the Tensor method for the math and shapes)."""
    return _tensor("index_select", input).index_select(dim, index)


def gather(input: Tensor, dim: DimArg, index: Any, *, sparse_grad: bool = False) -> Tensor:
    """torch.gather: `input.gather(…)` as a function (see the Tensor method for the math and shapes)."""
    return _tensor("gather", input).gather(dim, index)


def scatter(input: Tensor, dim: DimArg, index: Any, src: Any = None, value: Any = None, *,
            reduce: str | None = None) -> Tensor:
    """torch.scatter: `input.scatter(…)` as a function (see the Tensor method for the math and shapes)."""
    return _tensor("scatter", input).scatter(dim, index, src, value, reduce=reduce)


def scatter_add(input: Tensor, dim: DimArg, index: Any, src: Any) -> Tensor:
    """torch.scatter_add: `input.scatter_add(…)` as a function (see the Tensor method for the math and shapes)."""
    return _tensor("scatter_add", input).scatter_add(dim, index, src)


def masked_fill(input: Tensor, mask: Any, value: Any) -> Tensor:
    """torch.masked_fill: `input.masked_fill(…)` as a function (see the Tensor method for the math and shapes)."""
    return _tensor("masked_fill", input).masked_fill(mask, value)


def masked_select(input: Tensor, mask: Any) -> Tensor:
    """torch.masked_select: `input.masked_select(…)` as a function (see the Tensor method for the math and shapes)."""
    return _tensor("masked_select", input).masked_select(mask)


def index_put(input: Tensor, indices: Any, values: Any, accumulate: bool = False) -> Tensor:
    """torch.index_put: `input.index_put(…)` as a function (see the Tensor method for the math and shapes)."""
    return _tensor("index_put", input).index_put(indices, values, accumulate)


def index_put_(input: Tensor, indices: Any, values: Any, accumulate: bool = False) -> Tensor:
    """torch.index_put_: `input.index_put_(…)` as a function (see the Tensor method for the math and shapes)."""
    return _tensor("index_put_", input).index_put_(indices, values, accumulate)
