"""Tensor's shape methods (a mixin of Tensor): views and rearrangements (reshape/view, squeeze, flatten, expand,
permute, movedim, narrow, select, ...), copies that move elements (repeat, flip, roll), splits. Arguments are
checked here and refused with PyTorch's messages; the ops in ops/shape.py and ops/index.py see valid arguments
only."""
from __future__ import annotations

import math
import numbers
import operator

import numpy as np

from . import ops
from .dtypes import TORCH_NAMES
from .indexing import wrap_dim
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from typing import Any, Sequence
    from ._typing import DimArg, ShapeArg
    from .tensor import Tensor


# ---- arguments, checked as PyTorch's argument parser checks them ----------------------------------------------------
def _int(name: str, arg: Any, pos: Any, value: Any) -> Any:
    """An int argument (NumPy ints and one-element integer tensors too), or PyTorch's TypeError."""
    if isinstance(value, (bool, float)) or not hasattr(value, "__index__"):
        raise TypeError(f"{name}(): argument '{arg}' (position {pos}) must be int, not {type(value).__name__}")
    return operator.index(value)


def _ints(name: str, arg: Any, pos: Any, values: Any) -> Any:
    """A tuple of ints given as separate arguments or as one tuple, list or torch.Size, or PyTorch's TypeError."""
    if len(values) == 1 and isinstance(values[0], (tuple, list)):
        values = values[0]
    elif len(values) == 1 and not hasattr(values[0], "__index__"):
        raise TypeError(f"{name}(): argument '{arg}' (position {pos}) must be tuple of ints, not "
                        f"{type(values[0]).__name__}")
    out = []
    for i, v in enumerate(values):
        if isinstance(v, (bool, float)) or not hasattr(v, "__index__"):
            raise TypeError(f"{name}(): argument '{arg}' (position {pos}) must be tuple of ints, but found element "
                            f"of type {type(v).__name__} at pos {i}")
        out.append(operator.index(v))
    return tuple(out)


def _dim_list(name: str, arg: Any, pos: Any, dims: Any, ndim: int) -> Any:
    """Distinct dims, each counted from 0, from an int or a sequence of them."""
    dims = _ints(name, arg, pos, dims if isinstance(dims, (tuple, list)) else (dims,))
    wrapped = tuple(wrap_dim(d, ndim) for d in dims)
    for d in wrapped:
        if wrapped.count(d) > 1:
            raise RuntimeError(f"dim {d} appears multiple times in the list of dims")
    return wrapped


def _infer_shape(shape: Any, numel: int) -> Any:
    """`shape` with its one -1 worked out for `numel` elements, or PyTorch's RuntimeError (view, reshape)."""
    infer = None
    for i, n in enumerate(shape):
        if n == -1:
            if infer is not None:
                raise RuntimeError("only one dimension can be inferred")
            infer = i
        elif n < 0:
            raise RuntimeError(f"invalid shape dimension {n} at index {i} of shape {list(shape)}")
    known = math.prod(n for n in shape if n != -1)
    if infer is None:
        if known != numel:
            raise RuntimeError(f"shape '{list(shape)}' is invalid for input of size {numel}")
        return shape
    if known == 0 and numel == 0:
        raise RuntimeError(f"cannot reshape tensor of 0 elements into shape {list(shape)} because the unspecified "
                           f"dimension size -1 can be any value and is ambiguous")
    if known == 0 or numel % known:
        raise RuntimeError(f"shape '{list(shape)}' is invalid for input of size {numel}")
    return shape[:infer] + (numel // known,) + shape[infer + 1:]


def _type_name(t: Any) -> Any:
    return f"torch.{TORCH_NAMES[t.data.dtype]}Tensor"


def _is_dtype(value: Any) -> Any:
    return isinstance(value, (type, np.dtype, str))


class ShapeMethods:
    __slots__ = ()
    if TYPE_CHECKING:  # what these methods use of Tensor (which defines each), declared for mypy
        data: np.ndarray

    # ---- same elements, another shape (views where the layout allows) ---------------------------------------------
    def reshape(self, *shape: Any) -> Tensor:
        """The same elements in `shape` (one entry may be -1: inferred); a view when the layout allows."""
        shape = _infer_shape(_ints("reshape", "shape", 1, shape), self.data.size)
        return ops.Reshape.apply(self, shape=shape)

    def view(self, *shape: Any) -> Tensor:
        """As reshape. PyTorch's view never copies and raises when the strides do not allow a view; here a
        non-contiguous tensor is copied instead (so writing into the result does not reach self then)."""
        if len(shape) == 1 and _is_dtype(shape[0]):
            raise TypeError("view(dtype): reinterpreting a tensor's bytes as another dtype is not supported here; "
                            ".to(dtype) converts the values")
        shape = _infer_shape(_ints("view", "size", 1, shape), self.data.size)
        return ops.Reshape.apply(self, shape=shape)

    def view_as(self, other: Tensor) -> Tensor:
        return self.view(other.shape)

    def reshape_as(self, other: Tensor) -> Tensor:
        return self.reshape(other.shape)

    def unsqueeze(self, dim: Any) -> Tensor:
        """A new dim of size 1 at `dim` (in [-ndim-1, ndim])."""
        dim = wrap_dim(_int("unsqueeze", "dim", 1, dim), self.data.ndim + 1)
        shape = self.data.shape
        return ops.Reshape.apply(self, shape=shape[:dim] + (1,) + shape[dim:])

    def squeeze(self, dim: DimArg = None) -> Tensor:
        """Without the dims of size 1: all of them, or those among `dim` (an int or a tuple); others stay."""
        shape = self.data.shape
        dims = range(len(shape)) if dim is None else _dim_list("squeeze", "dim", 1, dim, len(shape))
        drop = {d for d in dims if d < len(shape) and shape[d] == 1}
        return ops.Reshape.apply(self, shape=tuple(n for d, n in enumerate(shape) if d not in drop))

    def flatten(self, start_dim: int = 0, end_dim: int = -1) -> Tensor:
        """Dims start_dim..end_dim merged into one (a 0-d tensor becomes 1-d)."""
        shape = self.data.shape
        start = wrap_dim(_int("flatten", "start_dim", 1, start_dim), len(shape))
        end = wrap_dim(_int("flatten", "end_dim", 2, end_dim), len(shape))
        if start > end:
            raise RuntimeError("flatten() has invalid args: start_dim cannot come after end_dim")
        if not shape:
            return ops.Reshape.apply(self, shape=(1,))
        return ops.Reshape.apply(self, shape=shape[:start] + (math.prod(shape[start:end + 1]),) + shape[end + 1:])

    def ravel(self) -> Tensor:
        return self.flatten()

    def unflatten(self, dim: Any, sizes: Any) -> Tensor:
        """Dim `dim` split into `sizes` (one may be -1), the inverse of flatten."""
        sizes = _ints("unflatten", "sizes", 2, (sizes,) if isinstance(sizes, numbers.Integral) else tuple(sizes))
        shape = self.data.shape
        if not shape:
            raise IndexError("Dimension specified as 0 but tensor has no dimensions")
        dim = wrap_dim(_int("unflatten", "dim", 1, dim), len(shape))
        if not sizes:
            raise RuntimeError("unflatten: sizes must be non-empty")
        if sizes.count(-1) > 1:
            raise RuntimeError("unflatten got an unexpected error:\nonly one dimension can be inferred")
        known = math.prod(n for n in sizes if n != -1)
        size = shape[dim]
        if (-1 in sizes and (known == 0 or size % known)) or (-1 not in sizes and known != size):
            raise RuntimeError(f"unflatten: Provided sizes {list(sizes)} don't multiply up to the size of dim {dim} "
                               f"({size}) in the input tensor")
        sizes = tuple(size // known if n == -1 else n for n in sizes)
        return ops.Reshape.apply(self, shape=shape[:dim] + sizes + shape[dim + 1:])

    def expand(self, *sizes: Any) -> Tensor:
        """A read-only view broadcast to `sizes`: dims of size 1 stretched, new leading dims added; -1 keeps a
        dim's size. ∂ sums over the stretched dims."""
        sizes = _ints("expand", "size", 1, sizes)
        shape = self.data.shape
        if len(sizes) < len(shape):
            raise RuntimeError(f"expand({_type_name(self)}{{{list(shape)}}}, size={list(sizes)}): the number of sizes "
                               f"provided ({len(sizes)}) must be greater or equal to the number of dimensions in the "
                               f"tensor ({len(shape)})")
        lead, target = len(sizes) - len(shape), []
        for i, n in enumerate(sizes):
            if i < lead:
                if n < 0:
                    raise RuntimeError(f"The expanded size of the tensor ({n}) isn't allowed in a leading, "
                                       f"non-existing dimension {i}")
            else:
                have = shape[i - lead]
                if n == -1:
                    n = have
                elif have != 1 and n != have or n < 0:
                    raise RuntimeError(f"The expanded size of the tensor ({n}) must match the existing size ({have}) "
                                       f"at non-singleton dimension {i}.  Target sizes: {list(sizes)}.  Tensor "
                                       f"sizes: {list(shape)}")
            target.append(n)
        return ops.Expand.apply(self, shape=tuple(target))

    def expand_as(self, other: Tensor) -> Tensor:
        return self.expand(other.shape)

    def broadcast_to(self, size: ShapeArg) -> Tensor:
        return self.expand(size)

    # ---- dims reordered -------------------------------------------------------------------------------------------
    def permute(self, *dims: Any) -> Tensor:
        dims = _ints("permute", "dims", 1, dims)
        ndim = self.data.ndim
        if len(dims) != ndim:
            raise RuntimeError(f"permute(sparse_coo): number of dimensions in the tensor input does not match the "
                               f"length of the desired ordering of dimensions i.e. input.dim() = {ndim} is not equal "
                               f"to len(dims) = {len(dims)}")
        wrapped = tuple(wrap_dim(d, ndim) for d in dims)
        if len(set(wrapped)) != len(wrapped):
            raise RuntimeError("permute(): duplicate dims are not allowed.")
        return ops.Permute.apply(self, dims=wrapped)

    def transpose(self, dim0: int, dim1: int) -> Tensor:
        """dim0 and dim1 swapped (a view)."""
        n = self.data.ndim
        dim0 = wrap_dim(_int("transpose", "dim0", 1, dim0), n)
        dim1 = wrap_dim(_int("transpose", "dim1", 2, dim1), n)
        if n == 0:
            return self  # type: ignore[return-value]  # self is a Tensor (this mixin's one subclass)
        dims = list(range(n))
        dims[dim0], dims[dim1] = dims[dim1], dims[dim0]
        return ops.Permute.apply(self, dims=tuple(dims))

    def swapaxes(self, axis0: int, axis1: int) -> Tensor:
        return self.transpose(axis0, axis1)

    def swapdims(self, dim0: int, dim1: int) -> Tensor:
        return self.transpose(dim0, dim1)

    def movedim(self, source: Any, destination: Any) -> Tensor:
        """The dims in `source` moved to the positions in `destination`, the others keeping their order."""
        src = _ints("movedim", "source", 1, source if isinstance(source, (tuple, list)) else (source,))
        dst = _ints("movedim", "destination", 2, destination if isinstance(destination, (tuple, list))
                    else (destination,))
        if len(src) != len(dst):
            raise RuntimeError(f"movedim: Invalid source or destination dims: source ({list(src)} dims) should "
                               f"contain the same number of dims as destination ({list(dst)} dims)")
        ndim = self.data.ndim
        src_w, dst_w = [wrap_dim(d, ndim) for d in src], [wrap_dim(d, ndim) for d in dst]
        for name, given, wrapped in (("source", src, src_w), ("destination", dst, dst_w)):
            if len(set(wrapped)) != len(wrapped):
                raise RuntimeError(f"movedim: repeated dim in `{name}` ({list(given)})")
        if ndim == 0:
            return self  # type: ignore[return-value]  # self is a Tensor (this mixin's one subclass)
        order = [None] * ndim
        for s, d in zip(src_w, dst_w):
            order[d] = s
        rest = iter(d for d in range(ndim) if d not in src_w)
        return ops.Permute.apply(self, dims=tuple(next(rest) if o is None else o for o in order))

    def moveaxis(self, source: Any, destination: Any) -> Tensor:
        return self.movedim(source, destination)

    def t(self) -> Tensor:
        """The transpose of a matrix; a 0-d or 1-d tensor is itself."""
        if self.data.ndim > 2:
            raise RuntimeError(f"t() expects a tensor with <= 2 dimensions, but self is {self.data.ndim}D")
        return self.transpose(0, 1) if self.data.ndim == 2 else self  # type: ignore[return-value]  # self is a Tensor (this mixin's one subclass)

    @property
    def mT(self) -> Tensor:
        """The last two dims swapped (a batch of matrices transposed)."""
        if self.data.ndim < 2:
            raise RuntimeError(f"tensor.mT is only supported on matrices or batches of matrices. Got "
                               f"{self.data.ndim}-D tensor.")
        return self.transpose(-2, -1)

    @property
    def mH(self) -> Tensor:
        """mT (the conjugate of a real tensor is itself)."""
        if self.data.ndim < 2:
            raise RuntimeError(f"tensor.mH is only supported on matrices or batches of matrices. Got "
                               f"{self.data.ndim}-D tensor.")
        return self.transpose(-2, -1)

    @property
    def H(self) -> Tensor:
        """The (conjugate) transpose of a matrix."""
        if self.data.ndim != 2:
            raise RuntimeError(f"tensor.H is only supported on matrices (2-D tensors). Got {self.data.ndim}-D "
                               f"tensor. For batches of matrices, consider using tensor.mH")
        return self.transpose(0, 1)

    # ---- parts ----------------------------------------------------------------------------------------------------
    def narrow(self, dim: Any, start: Any, length: Any) -> Tensor:
        """Elements start..start+length-1 along `dim` (a view)."""
        shape = self.data.shape
        if not shape:
            raise RuntimeError("narrow() cannot be applied to a 0-dim tensor.")
        dim = wrap_dim(_int("narrow", "dim", 1, dim), len(shape))
        start, length, size = _int("narrow", "start", 2, start), _int("narrow", "length", 3, length), shape[dim]
        if not -size <= start <= size:
            raise IndexError(f"start out of range (expected to be in range of [{-size}, {size}], but got {start})")
        start = start + size if start < 0 else start
        if length < 0:
            raise RuntimeError("narrow(): length must be non-negative.")
        if start + length > size:
            raise RuntimeError(f"start ({start}) + length ({length}) exceeds dimension size ({size}).")
        return ops.GetItem.apply(self, index=(slice(None),) * dim + (slice(start, start + length),))

    def select(self, dim: Any, index: Any) -> Tensor:
        """The slice at `index` along `dim`, that dim removed (a view): x.select(1, i) is x[:, i]."""
        shape = self.data.shape
        if not shape:
            raise IndexError("select() cannot be applied to a 0-dim tensor.")
        dim = wrap_dim(_int("select", "dim", 1, dim), len(shape))
        index, size = _int("select", "index", 2, index), shape[dim]
        if not -size <= index < size:
            raise IndexError(f"select(): index {index} out of range for tensor of size {list(shape)} at dimension "
                             f"{dim}")
        return ops.GetItem.apply(self, index=(slice(None),) * dim + (index,))

    def split(self, split_size_or_sections: Any, dim: int = 0) -> Any:
        """Pieces of `split_size` along `dim` (the last may be smaller), or of the listed sizes."""
        n = self.data.shape[dim]
        if isinstance(split_size_or_sections, numbers.Integral):
            if split_size_or_sections <= 0:
                raise ValueError(f"split: split_size must be positive, but got {split_size_or_sections}")
            sizes = [min(split_size_or_sections, n - s) for s in range(0, n, split_size_or_sections)]
        else:
            sizes = list(split_size_or_sections)
            if sum(sizes) != n:
                raise ValueError(f"split: sizes {sizes} must sum to {n} (the size of dim {dim}), but sum to "
                                 f"{sum(sizes)}")
        return ops.Split.apply(self, sizes=sizes, dim=dim)

    def chunk(self, chunks: int, dim: Any = 0) -> Tensor:
        """`chunks` pieces of equal size along `dim` (the last may be smaller), as torch.chunk."""
        if chunks <= 0:
            raise ValueError(f"chunk: chunks must be positive, but got {chunks}")
        n = self.data.shape[dim]
        return self.split(max(1, -(-n // chunks)), dim)

    def unbind(self, dim: DimArg = 0) -> Tensor:
        """The slices along `dim` as a tuple of tensors: one tape node however many there are."""
        return ops.Unbind.apply(self, dim=dim)

    # ---- copies that move elements --------------------------------------------------------------------------------
    def repeat(self, *sizes: Any) -> Tensor:
        """self tiled sizes[d] times along each dim d (more sizes than dims add leading dims)."""
        if not sizes:
            raise TypeError('repeat() missing 1 required positional arguments: "repeats"')
        reps = _ints("repeat", "repeats", 1, sizes)
        shape = self.data.shape
        if len(reps) < len(shape):
            raise RuntimeError("Number of dimensions of repeat dims can not be smaller than number of dimensions of "
                               "tensor")
        target = [r * n for r, n in zip(reps, (1,) * (len(reps) - len(shape)) + shape)]
        for r, n in zip(reps, target):
            if r < 0:
                raise RuntimeError(f"Trying to create tensor with negative dimension {n}: {target}")
        return ops.Repeat.apply(self, reps=reps)

    def tile(self, *dims: Any) -> Tensor:
        """repeat, with missing leading repeats taken as 1 (torch.tile)."""
        reps = _ints("tile", "dims", 1, dims)
        return self.repeat((1,) * (self.data.ndim - len(reps)) + reps)

    def repeat_interleave(self, repeats: Any, dim: DimArg = None, *, output_size: Any = None) -> Tensor:
        """Each element (slice along `dim`; of the flattened tensor when dim is None) repeated `repeats` times, an
        int or one count per element (an integer tensor)."""
        if isinstance(repeats, numbers.Integral):
            if repeats < 0:
                raise RuntimeError("Repeats must be non-negative")
            counts = np.asarray(repeats)
        else:
            counts = np.asarray(getattr(repeats, "data", repeats))
            if counts.dtype.kind not in "iu":
                raise NotImplementedError(f'"repeat_interleave_cpu" not implemented for '
                                          f"'{TORCH_NAMES.get(counts.dtype, counts.dtype)}'")
            if counts.ndim > 1:
                raise RuntimeError("repeats must be 0-dim or 1-dim tensor")
            if (counts < 0).any():
                raise RuntimeError("repeats can not be negative")
        x = self.flatten() if dim is None or self.data.ndim == 0 else self
        dim = 0 if dim is None else wrap_dim(_int("repeat_interleave", "dim", 2, dim), self.data.ndim)
        n = x.data.shape[dim]
        if counts.size != 1 and counts.size != n:
            raise RuntimeError(f"repeats must have the same size as input along dim, but got repeats.size(0) = "
                               f"{counts.size} and input.size({dim}) = {n}")
        index = np.repeat(np.arange(n), counts.reshape(-1) if counts.size != 1 else int(counts.reshape(-1)[0]))
        if output_size is not None and output_size != index.size:
            if isinstance(repeats, numbers.Integral):
                raise RuntimeError(f"repeat_interleave: Invalid output_size, expected {index.size} but got "
                                   f"{output_size}")
            raise RuntimeError("allocated size does not match required size")
        return ops.IndexSelect.apply(x, index=index, dim=dim)

    def flip(self, *dims: Any) -> Tensor:
        """self reversed along `dims` (a copy)."""
        if not dims:
            raise TypeError('flip() missing 1 required positional arguments: "dims"')
        dims = _dim_list("flip", "dims", 1, dims[0] if len(dims) == 1 else dims, self.data.ndim)
        return ops.Flip.apply(self, dims=dims)

    def fliplr(self) -> Tensor:
        if self.data.ndim < 2:
            raise RuntimeError("Input must be >= 2-d.")
        return self.flip(1)

    def flipud(self) -> Tensor:
        if self.data.ndim < 1:
            raise RuntimeError("Input must be >= 1-d.")
        return self.flip(0)

    def roll(self, shifts: Any, dims: Any = None) -> Tensor:
        """self shifted cyclically by `shifts` along `dims` (over the flattened tensor when dims is None)."""
        shifts = _ints("roll", "shifts", 1, shifts if isinstance(shifts, (tuple, list)) else (shifts,))
        if not shifts:
            raise RuntimeError("`shifts` required")
        if dims is None:
            if len(shifts) != 1:
                raise RuntimeError(f"shifts and dimensions must align. shifts: {len(shifts)}, dims:0")
            return ops.Roll.apply(self, shifts=shifts[0], dims=None)
        dims = _ints("roll", "dims", 2, dims if isinstance(dims, (tuple, list)) else (dims,))
        if len(shifts) != len(dims):
            raise RuntimeError(f"shifts and dimensions must align. shifts: {len(shifts)}, dims:{len(dims)}")
        if self.data.ndim == 0:
            raise IndexError("Dimension specified as 0 but tensor has no dimensions")
        return ops.Roll.apply(self, shifts=shifts, dims=tuple(wrap_dim(d, self.data.ndim) for d in dims))


# cat and stack, functions only (tensor.py and the package export them)
def cat(tensors: Sequence[Tensor], dim: DimArg = 0) -> Any:
    """The tensors joined along the existing axis `dim` (shapes equal elsewhere); ∂ split back."""
    tensors = list(tensors)
    if not tensors:
        raise ValueError("cat(): expected a non-empty list of Tensors")
    return ops.Cat.apply(*tensors, dim=dim)


def stack(tensors: Sequence[Tensor], dim: DimArg = 0) -> Any:
    """The tensors (all of one shape) joined along a new axis `dim`; ∂ unstacked."""
    tensors = list(tensors)
    if not tensors:
        raise RuntimeError("stack expects a non-empty TensorList")
    return ops.Stack.apply(*tensors, dim=dim)
