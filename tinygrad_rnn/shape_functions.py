"""The torch-style functions of the shape and indexing methods: tinygrad_rnn.flatten(x) is x.flatten(), with
PyTorch's argument names (and cat/stack, which only exist as functions)."""
import numpy as np

from .tensor_shape import cat

concat = concatenate = cat


def _tensor(name, input):
    if not hasattr(input, "_ctx"):
        raise TypeError(f"{name}(): argument 'input' (position 1) must be Tensor, not {type(input).__name__}")
    return input


def reshape(input, shape):
    return _tensor("reshape", input).reshape(shape)


def unsqueeze(input, dim):
    return _tensor("unsqueeze", input).unsqueeze(dim)


def squeeze(input, dim=None):
    return _tensor("squeeze", input).squeeze(dim)


def flatten(input, start_dim=0, end_dim=-1):
    return _tensor("flatten", input).flatten(start_dim, end_dim)


def ravel(input):
    return _tensor("ravel", input).flatten()


def unflatten(input, dim, sizes):
    return _tensor("unflatten", input).unflatten(dim, sizes)


def broadcast_to(input, size):
    return _tensor("broadcast_to", input).expand(size)


def permute(input, dims):
    return _tensor("permute", input).permute(dims)


def transpose(input, dim0, dim1):
    return _tensor("transpose", input).transpose(dim0, dim1)


def swapaxes(input, axis0, axis1):
    return _tensor("swapaxes", input).transpose(axis0, axis1)


def swapdims(input, dim0, dim1):
    return _tensor("swapdims", input).transpose(dim0, dim1)


def movedim(input, source, destination):
    return _tensor("movedim", input).movedim(source, destination)


def moveaxis(input, source, destination):
    return _tensor("moveaxis", input).movedim(source, destination)


def t(input):
    return _tensor("t", input).t()


def narrow(input, dim, start, length):
    return _tensor("narrow", input).narrow(dim, start, length)


def select(input, dim, index):
    return _tensor("select", input).select(dim, index)


def split(tensor, split_size_or_sections, dim=0):
    return _tensor("split", tensor).split(split_size_or_sections, dim)


def chunk(input, chunks, dim=0):
    return _tensor("chunk", input).chunk(chunks, dim)


def unbind(input, dim=0):
    return _tensor("unbind", input).unbind(dim)


def tile(input, dims):
    return _tensor("tile", input).tile(dims)


def repeat_interleave(input, repeats=None, dim=None, *, output_size=None):
    """input.repeat_interleave(repeats, dim); with no repeats, input holds the counts and the result is the indices
    they repeat (repeat_interleave(tensor([1, 2])) is tensor([0, 1, 1]))."""
    if repeats is None:
        counts = _tensor("repeat_interleave", input)
        arange = counts._make(np.arange(counts.data.reshape(-1).size, dtype=np.int64), None)
        return arange.repeat_interleave(counts.reshape(-1), 0, output_size=output_size)
    return _tensor("repeat_interleave", input).repeat_interleave(repeats, dim, output_size=output_size)


def flip(input, dims):
    return _tensor("flip", input).flip(dims)


def fliplr(input):
    return _tensor("fliplr", input).fliplr()


def flipud(input):
    return _tensor("flipud", input).flipud()


def roll(input, shifts, dims=None):
    return _tensor("roll", input).roll(shifts, dims)


def index_select(input, dim, index):
    return _tensor("index_select", input).index_select(dim, index)


def gather(input, dim, index, *, sparse_grad=False):
    return _tensor("gather", input).gather(dim, index)


def scatter(input, dim, index, src=None, value=None, *, reduce=None):
    return _tensor("scatter", input).scatter(dim, index, src, value, reduce=reduce)


def scatter_add(input, dim, index, src):
    return _tensor("scatter_add", input).scatter_add(dim, index, src)


def masked_fill(input, mask, value):
    return _tensor("masked_fill", input).masked_fill(mask, value)


def masked_select(input, mask):
    return _tensor("masked_select", input).masked_select(mask)


def index_put(input, indices, values, accumulate=False):
    return _tensor("index_put", input).index_put(indices, values, accumulate)


def index_put_(input, indices, values, accumulate=False):
    return _tensor("index_put_", input).index_put_(indices, values, accumulate)
