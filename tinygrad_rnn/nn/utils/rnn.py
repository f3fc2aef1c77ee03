"""torch.nn.utils.rnn: padding and packing batches of variable-length sequences, and the PackedSequence that every
recurrent layer accepts and returns.

A PackedSequence stores a batch time step by time step, longest sequence first: `data` (Σ lengths, *) holds at step
t the rows of the `batch_sizes[t]` sequences still running; `sorted_indices[s]` is the batch position of the s-th
longest sequence (None when the batch came sorted) and `unsorted_indices` its inverse. Every conversion here is one
gather on the tape (an integer-array index), so gradients flow through packing and padding.

A layer given a PackedSequence runs it through its `lengths=` path (the simpler spelling, which stays): the data is
padded back to (T, B, *) in the caller's batch order, run with the lengths, and the output packed again in the same
order; h_n (and c_n) come out in the caller's batch order, as torch's do.

Every conversion is one tape node, PackRows (gather) or PadRows (scatter), each other's backward: no position is
read or written twice, so neither needs the accumulating np.add.at a general integer index does (25× slower here).
"""
from __future__ import annotations

import numbers
from typing import NamedTuple, Optional

import numpy as np

from ...function import Function
from ...tensor import Tensor, cat
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from typing import Any, Sequence

__all__ = ["PackedSequence", "pack_padded_sequence", "pack_sequence", "pad_packed_sequence", "pad_sequence",
           "unpack_sequence", "unpad_sequence"]

_UNSORTED = ("`lengths` array must be sorted in decreasing order when `enforce_sorted` is True. You can pass "
             "`enforce_sorted=False` to pack_padded_sequence and/or pack_sequence to sidestep this requirement if "
             "you do not need ONNX exportability.")


class _PackedFields(NamedTuple):
    data: Tensor
    batch_sizes: Tensor
    sorted_indices: Optional[Tensor]
    unsorted_indices: Optional[Tensor]


class PackedSequence(_PackedFields):
    """(data (Σ lengths, *), batch_sizes (T,) int64, sorted_indices (B,) int64 or None, unsorted_indices): a batch
    of sequences packed step by step, longest first. Made by pack_padded_sequence or pack_sequence, not by hand."""

    def __new__(cls, data: Any, batch_sizes: Any = None, sorted_indices: Any = None, unsorted_indices: Any = None
    ) -> Any:
        if not isinstance(data, Tensor):
            raise TypeError(f"PackedSequence: expected data to be a Tensor, but got {type(data).__name__}")
        if batch_sizes is None:
            raise TypeError("PackedSequence: batch_sizes is required (make packed sequences with "
                            "pack_padded_sequence or pack_sequence)")
        sizes = _index_tensor("PackedSequence", "batch_sizes", batch_sizes)
        counts = sizes.data
        if counts.size == 0 or counts.min() < 1 or np.any(np.diff(counts) > 0):
            raise ValueError(f"PackedSequence: batch_sizes must be positive and non-increasing, but got "
                             f"{counts.tolist()}")
        if data.ndim < 1 or data.shape[0] != counts.sum():
            raise ValueError(f"PackedSequence: data must have sum(batch_sizes) = {counts.sum()} rows, but got data "
                             f"of shape {tuple(data.shape)}")
        if sorted_indices is not None:
            sorted_indices = _permutation("sorted_indices", sorted_indices, counts[0])
        if unsorted_indices is not None:
            unsorted_indices = _permutation("unsorted_indices", unsorted_indices, counts[0])
        if sorted_indices is None and unsorted_indices is not None:      # each is the other's inverse
            sorted_indices = Tensor(np.argsort(unsorted_indices.data), dtype=np.int64)
        elif unsorted_indices is None and sorted_indices is not None:
            unsorted_indices = Tensor(np.argsort(sorted_indices.data), dtype=np.int64)
        elif sorted_indices is not None and np.any(unsorted_indices.data[sorted_indices.data] != np.arange(counts[0])):
            raise ValueError(f"PackedSequence: unsorted_indices must be the inverse of sorted_indices, but got "
                             f"{unsorted_indices.data.tolist()} for {sorted_indices.data.tolist()}")
        return super().__new__(cls, data, sizes, sorted_indices, unsorted_indices)

    def to(self, *args: Any, **kwargs: Any) -> Any:
        """The same packing with data.to(*args, **kwargs) (a dtype, "cpu"); self when data does not change."""
        data = self.data.to(*args, **kwargs)
        return self if data is self.data else self._replace(data=data)

    def float(self) -> Any:
        return self.to(np.float32)

    def double(self) -> Any:
        return self.to(np.float64)

    def long(self) -> Any:
        return self.to(np.int64)

    def int(self) -> Any:
        return self.to(np.int32)

    def cpu(self) -> Any:
        return self

    @property
    def is_cuda(self) -> Any:
        return False

    def is_pinned(self) -> Any:
        return False


def pack_padded_sequence(input: Tensor, lengths: Any, batch_first: bool = False, enforce_sorted: bool = True) -> Any:
    """Packs a padded batch (T, B, *) (batch_first: (B, T, *)) of sequences of the given lengths (B,); with
    enforce_sorted=False the lengths may come in any order (the batch is sorted, and the order kept to undo it)."""
    if not isinstance(input, Tensor):
        raise TypeError(f"pack_padded_sequence: expected input to be a Tensor, but got {type(input).__name__}")
    if input.ndim < 2:
        raise ValueError(f"pack_padded_sequence: expected input of at least 2 dimensions ((T, B, *), or (B, T, *) "
                         f"with batch_first=True), but got input of shape {tuple(input.shape)}")
    lengths = _lengths(lengths)
    steps, batch = (input.shape[1], input.shape[0]) if batch_first else (input.shape[0], input.shape[1])
    if lengths.size != batch:
        raise RuntimeError(f"Expected `len(lengths)` to be equal to batch_size, but got {lengths.size} "
                           f"(batch_size={batch})")
    if batch == 0:
        raise RuntimeError("Cannot pack empty tensors.")
    order = None if enforce_sorted else np.argsort(-lengths, kind="stable")   # torch.sort(descending=True) keeps ties
    ordered = lengths if order is None else lengths[order]
    if ordered[-1] <= 0:
        raise RuntimeError("Length of all samples has to be greater than 0, but found an element in 'lengths' "
                           "that is <= 0")
    if np.any(np.diff(ordered) > 0):
        raise RuntimeError(_UNSORTED)
    if ordered[0] > steps:
        raise ValueError(f"pack_padded_sequence: lengths must be at most the sequence length {steps} (dimension "
                         f"{1 if batch_first else 0} of input of shape {tuple(input.shape)}), but got "
                         f"{lengths.tolist()}")
    batch_sizes = (ordered[None, :] > np.arange(ordered[0])[:, None]).sum(axis=1)
    t, slot = _packed_positions(batch_sizes)
    b = slot if order is None else order[slot]
    data = PackRows.apply(input, index=(b, t) if batch_first else (t, b))
    sorted_indices = None if order is None else Tensor(order, dtype=np.int64)
    return PackedSequence(data, Tensor(batch_sizes, dtype=np.int64), sorted_indices, None)


def pad_packed_sequence(sequence: Any, batch_first: bool = False, padding_value: float = 0.0,
                        total_length: int | None = None) -> Any:
    """The padded batch (T, B, *) (batch_first: (B, T, *)) and the lengths (B,) int64 of a PackedSequence, in the
    batch order it was packed from; total_length pads T up to that many steps."""
    if not isinstance(sequence, PackedSequence):
        raise TypeError(f"pad_packed_sequence: expected sequence to be a PackedSequence, but got "
                        f"{type(sequence).__name__}")
    steps = len(sequence.batch_sizes.data)
    if total_length is not None:
        if isinstance(total_length, bool) or not isinstance(total_length, numbers.Integral):
            raise TypeError(f"pad_packed_sequence: total_length must be an int, but got {type(total_length).__name__}")
        if total_length < steps:
            raise ValueError(f"Expected total_length to be at least the length of the longest sequence in input, "
                             f"but got total_length={total_length} and max sequence length being {steps}")
        steps = int(total_length)
    t, b, lengths = _padded_positions(sequence)
    data = sequence.data
    shape = ((len(lengths), steps) if batch_first else (steps, len(lengths))) + tuple(data.shape[1:])
    padded = PadRows.apply(data, index=(b, t) if batch_first else (t, b), shape=shape, padding_value=padding_value)
    return padded, Tensor(lengths, dtype=np.int64)


def pad_sequence(sequences: Any, batch_first: bool = False, padding_value: float = 0.0,
                 padding_side: str = "right") -> Any:
    """Sequences (L_i, *) stacked into (max L, B, *) (batch_first: (B, max L, *)), each padded with padding_value
    on the right (after its end) or, with padding_side="left", before its start."""
    if isinstance(sequences, Tensor):
        sequences = sequences.unbind(0) if sequences.ndim else [sequences]
    sequences = list(sequences)
    if not sequences:
        raise RuntimeError("received an empty list of sequences")
    if padding_side not in ("left", "right"):
        raise RuntimeError(f"Expected padding_side to be one of left or right, but got {padding_side}.")
    first = sequences[0]
    for i, s in enumerate(sequences):
        if not isinstance(s, Tensor):
            raise TypeError(f"pad_sequence: expected Tensor as element {i} in argument 0, but got {type(s).__name__}")
        if s.ndim < 1:
            raise ValueError(f"pad_sequence: expected every sequence to have at least 1 dimension (L, *), but "
                             f"sequences[{i}] is 0-d")
        if s.shape[1:] != first.shape[1:]:
            size = "(" + ", ".join(["L", *map(str, first.shape[1:])]) + ("," if first.ndim == 1 else "") + ")"
            raise ValueError(f"pad_sequence: expected every sequence of size {size} as sequences[0], but got "
                             f"sequences[{i}] of size {tuple(s.shape)}")
        if s.dtype != first.dtype:
            raise TypeError(f"pad_sequence: expected every sequence of dtype {first.dtype} as sequences[0], but got "
                            f"sequences[{i}] of dtype {s.dtype}")
    lengths = np.array([s.shape[0] for s in sequences], dtype=np.int64)
    steps = int(lengths.max())
    b = np.repeat(np.arange(lengths.size), lengths)                    # each row of cat(sequences): its sequence,
    t = np.arange(b.size) - np.concatenate([[0], np.cumsum(lengths)[:-1]])[b]    # its step in it
    if padding_side == "left":
        t += steps - lengths[b]
    shape = ((lengths.size, steps) if batch_first else (steps, lengths.size)) + tuple(first.shape[1:])
    flat = sequences[0] if len(sequences) == 1 else cat(sequences)
    return PadRows.apply(flat, index=(b, t) if batch_first else (t, b), shape=shape, padding_value=padding_value)


def pack_sequence(sequences: Sequence[Tensor], enforce_sorted: bool = True) -> Any:
    """pack_padded_sequence(pad_sequence(sequences), their lengths, enforce_sorted=enforce_sorted)."""
    sequences = list(sequences)
    if not sequences:
        raise RuntimeError("received an empty list of sequences")
    lengths = [s.shape[0] if isinstance(s, Tensor) and s.ndim else 0 for s in sequences]
    return pack_padded_sequence(pad_sequence(sequences), lengths, enforce_sorted=enforce_sorted)


def unpack_sequence(packed_sequences: Any) -> Any:
    """The list of the sequences (L_i, *) a PackedSequence holds, in the order they were packed from."""
    padded, lengths = pad_packed_sequence(packed_sequences, batch_first=True)
    return [padded[b, :n] for b, n in enumerate(lengths.data.tolist())]


def unpad_sequence(padded_sequences: Any, lengths: Any, batch_first: bool = False) -> Any:
    """The list of sequences (L_i, *) of a padded batch (T, B, *) (batch_first: (B, T, *)) of the given lengths."""
    lengths = _lengths(lengths)
    if not batch_first:
        padded_sequences = padded_sequences.transpose(0, 1)
    return [padded_sequences[b, :n] for b, n in enumerate(lengths.tolist())]


# ---- for the recurrent layers: a PackedSequence in, the same packing out ------------------------------------------
def padded_from_packed(sequence: Any) -> Any:
    """(data padded to (T, B, *) with zeros in the caller's batch order, lengths (B,) int64 ndarray)."""
    padded, lengths = pad_packed_sequence(sequence)
    return padded, lengths.data


def packed_like(padded: Any, sequence: Any) -> Any:
    """padded (T, B, *) packed as `sequence` is packed: the same batch_sizes, sorted and unsorted indices."""
    t, slot = _packed_positions(sequence.batch_sizes.data)
    b = slot if sequence.sorted_indices is None else sequence.sorted_indices.data[slot]
    return PackedSequence(PackRows.apply(padded, index=(t, b)), sequence.batch_sizes, sequence.sorted_indices,
                          sequence.unsorted_indices)


# ---- the two tape nodes: a gather and a scatter of rows, each position at most once ----------------------------------
class PackRows(Function):
    """a[index], index a pair of integer arrays (t, b) naming distinct positions; ∂a = g put back at them"""

    @staticmethod
    def forward(ctx: Any, a: Any, index: Any) -> Any:
        ctx.save_for_backward(a.shape, index)
        return a[index]

    @staticmethod
    def backward(ctx: Any, g: Any) -> Any:
        shape, index = ctx.saved
        grad = np.zeros(shape, g.dtype)
        grad[index] = g                          # distinct positions: an assignment, not an accumulation
        return grad


class PadRows(Function):
    """out = padding_value everywhere but out[index] = a, index naming distinct positions of out; ∂a = g[index]"""

    @staticmethod
    def forward(ctx: Any, a: Any, index: Any, shape: Any, padding_value: float = 0.0) -> Any:
        ctx.save_for_backward(index)
        out = np.full(shape, padding_value, dtype=a.dtype)
        out[index] = a
        return out

    @staticmethod
    def backward(ctx: Any, g: Any) -> Any:
        (index,) = ctx.saved
        return g[index]


# ---- index arithmetic (ndarrays only) -----------------------------------------------------------------------------
def _packed_positions(batch_sizes: Any) -> Any:
    """For every row of packed data, (its time step t, its slot s in the sorted batch): rows run t by t."""
    batch_sizes = np.asarray(batch_sizes, dtype=np.int64)
    t = np.repeat(np.arange(batch_sizes.size), batch_sizes)
    offsets = np.concatenate([[0], np.cumsum(batch_sizes)[:-1]])
    return t, np.arange(t.size) - offsets[t]


def _padded_positions(sequence: Any) -> Any:
    """For every row of packed data, (its step t, its position b in the caller's batch); and the lengths (B,) in the
    caller's order."""
    batch_sizes = sequence.batch_sizes.data
    t, slot = _packed_positions(batch_sizes)
    slots = np.arange(batch_sizes[0])
    sorted_lengths = (batch_sizes[:, None] > slots[None, :]).sum(axis=0)
    if sequence.sorted_indices is None:
        return t, slot, sorted_lengths
    return t, sequence.sorted_indices.data[slot], sorted_lengths[sequence.unsorted_indices.data]


def _lengths(lengths: Any) -> Any:
    """lengths as a 1-D int64 ndarray: a list, tuple, ndarray or Tensor of whole numbers."""
    arr = np.asarray(lengths.data if isinstance(lengths, Tensor) else lengths)
    if arr.ndim != 1:
        raise RuntimeError(f"'lengths' argument should be a 1D CPU int64 tensor, but got {arr.ndim}D")
    if arr.size and (arr.dtype.kind not in "iuf" or np.any(arr != np.round(arr))):
        raise ValueError(f"lengths must be whole numbers, but got {arr.tolist()}")
    return arr.astype(np.int64)


def _index_tensor(owner: str, name: str, value: Any) -> Any:
    """A 1-D int64 Tensor from a Tensor, ndarray or list of whole numbers."""
    arr = np.asarray(value.data if isinstance(value, Tensor) else value)
    if arr.ndim != 1 or (arr.size and arr.dtype.kind not in "iu"):
        raise TypeError(f"{owner}: expected {name} to be a 1-D integer tensor, but got "
                        f"{arr.ndim}-D of dtype {arr.dtype}")
    return Tensor(arr.astype(np.int64), dtype=np.int64)


def _permutation(name: str, value: Any, batch: int) -> Any:
    indices = _index_tensor("PackedSequence", name, value)
    if not np.array_equal(np.sort(indices.data), np.arange(batch)):
        raise ValueError(f"PackedSequence: {name} must be a permutation of range({batch}) (batch_sizes[0] = "
                         f"{batch}), but got {indices.data.tolist()}")
    return indices
