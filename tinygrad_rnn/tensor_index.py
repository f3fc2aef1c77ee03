"""Tensor's indexing methods (a mixin of Tensor): gathers and scatters along a dim (index_select, gather, scatter,
scatter_add), masks (masked_fill, masked_select), index_put, their in-place forms (index_put_, masked_fill_,
scatter_, scatter_add_, fill_, zero_: see writes.py for what the tape refuses), and index_of, the Tensors of an
index as arrays. Arguments are checked here and refused with PyTorch's messages."""
from __future__ import annotations

import numbers

import numpy as np

from . import ops
from .indexing import along_dim, broadcast_shape, extent, plan, put, wrap_dim
from .tensor_shape import _int
from .writes import check_dtype_match, check_fits, check_write, write
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from typing import Any
    from ._typing import DimArg
    from .tensor import Tensor

_SMALL_NAMES = {np.dtype(np.float32): "float", np.dtype(np.float64): "double", np.dtype(np.int64): "long int",
                np.dtype(np.int32): "int", np.dtype(np.bool_): "bool"}


def _is_tensor(x: Any) -> Any:
    return hasattr(x, "_ctx")


def _index_array(t: Any) -> Any:
    """An integer or bool tensor used as an index is its data (rows, or a mask); a float tensor is refused, as
    PyTorch refuses it (Tensor([True, False]) holds 1.0 and 0.0: read as rows it would pick rows 1 and 0)."""
    if t.data.dtype.kind not in "biu":
        raise IndexError("tensors used as indices must be long, int, byte or bool tensors (this one holds "
                         f"{t.data.dtype}: Python lists become float32 here, so make indices with .long() or "
                         "dtype=tinygrad_rnn.int64, and masks with a comparison or .bool())")
    return t.data


def index_of(index: Any) -> Any:
    """A Python index with its Tensors (alone, in a tuple or in a list) as their arrays."""
    if _is_tensor(index):
        return _index_array(index)
    if (type(index) is tuple or type(index) is list) and any(_is_tensor(i) for i in index):
        return type(index)(_index_array(i) if _is_tensor(i) else i for i in index)
    return index


def _index_tensors(name: str, indices: Any, ndim: int) -> Any:
    """index_put's `indices`: a tuple or list of integer or bool Tensors, as PyTorch takes them."""
    if not isinstance(indices, (tuple, list)):
        raise TypeError(f"{name}(): argument 'indices' (position 1) must be tuple of Tensors, not "
                        f"{type(indices).__name__}")
    for k, i in enumerate(indices):
        if not _is_tensor(i):
            raise TypeError(f"expected Tensor as element {k} in argument 0, but got {type(i).__name__}")
    arrays = tuple(_index_array(i) for i in indices)
    used = sum(a.ndim if a.dtype.kind == "b" else 1 for a in arrays)
    if used > ndim:
        raise IndexError(f"too many indices for tensor of dimension {ndim} (got {used})")
    return arrays


def _values_tensor(name: str, values: Any) -> Any:
    if not _is_tensor(values):
        raise TypeError(f"{name}(): argument 'values' (position 2) must be Tensor, not {type(values).__name__}")
    return values


# ---- gathers and scatters: argument checks in PyTorch's words ------------------------------------------------------
def _index_arg(name: str, index: Any, pos: Any = 2) -> Any:
    if _is_tensor(index):
        return index.data
    if isinstance(index, np.ndarray):
        return index
    raise TypeError(f"{name}(): argument 'index' (position {pos}) must be Tensor, not {type(index).__name__}")


def _check_gather_index(name: str, t: Any, index: Any, dim: Any) -> Any:
    """dim counted from 0; index int32/int64 with t's number of dims (a 0-d tensor counts as 1-d)."""
    if index.dtype.kind not in "iu":
        raise RuntimeError(f"{name}(): Expected dtype int32/int64 for index")
    if max(index.ndim, 1) != max(t.data.ndim, 1):
        raise RuntimeError(f"Index tensor must have the same number of dimensions as "
                           f"{'input' if name == 'gather' else 'self'} tensor")
    return wrap_dim(_int(name, "dim", 1, dim), t.data.ndim)


def _check_bounds(index: Any, dim: Any, size: Any) -> None:
    if index.size and (index.min() < 0 or index.max() >= size):
        flat = index.reshape(-1)
        bad = flat[np.flatnonzero((flat < 0) | (flat >= size))[0]]
        raise RuntimeError(f"index {int(bad)} is out of bounds for dimension {dim} with size {size}")


def _at_least_1d(t: Any, index: Any) -> Any:
    """A 0-d tensor gathers and scatters as a 1-d one of one element (as in PyTorch)."""
    return (t.reshape(1) if t.data.ndim == 0 else t), (index.reshape(1) if index.ndim == 0 else index)


def _scatter_args(name: str, t: Any, dim: Any, index: Any, src: Any) -> Any:
    """(dim, index, src data or None) for scatter/scatter_add, checked as PyTorch checks them."""
    index = _index_arg(name, index)
    dim = _check_gather_index("scatter", t, index, dim)
    shape = t.data.shape or (1,)
    ishape = index.shape or (1,)
    if src is not None:
        sshape = src.data.shape or (1,)
        if len(ishape) != len(sshape):
            raise RuntimeError("Index tensor must have the same number of dimensions as src tensor")
        if src.data.dtype != t.data.dtype:
            raise RuntimeError("scatter(): Expected self.dtype to be equal to src.dtype")
        if any(i > s or (d != dim and i > n) for d, (i, s, n) in enumerate(zip(ishape, sshape, shape))):
            raise RuntimeError(f"Expected index {list(ishape)} to be no larger than self {list(shape)} apart from "
                               f"dimension {dim} and to be no larger size than src {list(sshape)}")
    elif any(d != dim and i > n for d, (i, n) in enumerate(zip(ishape, shape))):
        raise RuntimeError(f"Expected index {list(ishape)} to be no larger than self {list(shape)} apart from "
                           f"dimension {dim}")
    _check_bounds(index, dim, shape[dim])
    return dim, index


def _mask_arg(name: str, mask: Any, message: str) -> Any:
    data = mask.data if _is_tensor(mask) else np.asarray(mask) if isinstance(mask, np.ndarray) else None
    if data is None:
        raise TypeError(f"{name}(): argument 'mask' (position 1) must be Tensor, not {type(mask).__name__}")
    if data.dtype != np.bool_:
        raise RuntimeError(message.format(_SMALL_NAMES.get(data.dtype, data.dtype)))
    return data


def _fill_value(t: Any, name: str, value: Any, message: str) -> Any:
    """A fill value: a number or a 0-d tensor (its dtype cast to t's, on the tape when it requires grad)."""
    if _is_tensor(value):
        if value.data.ndim:
            raise RuntimeError(message.format(value.data.ndim))
        if value.requires_grad and t.data.dtype.kind == "f":
            return value if value.data.dtype == t.data.dtype else value.to(t.data.dtype)
        return _constant(t, value.data.astype(t.data.dtype))
    if isinstance(value, (numbers.Number, np.generic)) and not isinstance(value, complex):
        return _constant(t, np.asarray(value).astype(t.data.dtype))
    raise TypeError(f"{name}(): argument 'value' must be a Number or a 0-dim Tensor, not {type(value).__name__}")


def _constant(t: Any, array: Any) -> Any:
    const = t._make(array, None)
    const._version = None        # made here, reachable by nobody else: the in-place guards need not protect it
    return const


class IndexMethods:
    __slots__ = ()
    if TYPE_CHECKING:  # what these methods use of Tensor (which defines each), declared for mypy
        data: np.ndarray
        def reshape(self, *shape: Any) -> Tensor: ...

    # ---- out of place: ordinary nodes on the tape -----------------------------------------------------------------
    def index_select(self, dim: Any, index: Any) -> Tensor:
        """The slices at `index` (a 1-d integer tensor, repeats allowed) along `dim`."""
        index = _index_arg("index_select", index)
        if index.dtype.kind not in "iu":
            raise RuntimeError("index_select(): Expected dtype int32 or int64 for index")
        if index.ndim > 1:
            raise IndexError("index_select(): Index is supposed to be a vector")
        dim = wrap_dim(_int("index_select", "dim", 1, dim), self.data.ndim)
        if self.data.ndim == 0:
            if index.size != 1:
                raise RuntimeError(f"index_select(): Index to scalar can have only 1 value, got {index.size} value(s)")
            return self.reshape(1).index_select(0, index.reshape(1)).reshape(())
        size = self.data.shape[dim]
        if index.size and (index.min() < 0 or index.max() >= size):
            flat = index.reshape(-1)
            bad = flat[np.flatnonzero((flat < 0) | (flat >= size))[0]]
            raise RuntimeError(f"INDICES element is out of DATA bounds, id={int(bad)} axis_dim={size}")
        return ops.IndexSelect.apply(self, index=index.reshape(-1), dim=dim)

    def gather(self, dim: DimArg, index: Any, *, sparse_grad: bool = False) -> Tensor:
        """out[i][j][k] = self[i][index[i][j][k]][k] for dim 1; index has self's number of dims, no larger than self
        in the others. ∂ adds g back at those places (repeats accumulate)."""
        index = _index_arg("gather", index)
        dim = _check_gather_index("gather", self, index, dim)
        x, idx = _at_least_1d(self, index)
        for d, (i, n) in enumerate(zip(idx.shape, x.data.shape)):
            if d != dim and i > n:
                raise RuntimeError(f"Size does not match at dimension {d} expected index {list(idx.shape)} to be no "
                                   f"larger than self {list(x.data.shape)} apart from dimension {dim}")
        _check_bounds(idx, dim, x.data.shape[dim])
        out = ops.Gather.apply(x, index=idx, dim=dim)
        return out if idx is index else out.reshape(index.shape)

    def scatter(self, dim: DimArg, index: Any, src: Any = None, value: Any = None, *, reduce: str | None = None
    ) -> Tensor:
        """A copy of self with self[i][index[i][j]] = src[i][j] for dim 1 (or = value, a number); repeated indices
        write one of their values. ∂self is zero where written; ∂src is g read back there."""
        if reduce is not None:
            if reduce == "add" and src is not None and _is_tensor(src):
                return self.scatter_add(dim, index, src)
            raise RuntimeError(f"scatter(reduce={reduce!r}) is not supported here (reduce='add' with a src tensor is "
                               f"scatter_add; torch.scatter_reduce is not here yet)")
        src, value = (None, src) if src is not None and not _is_tensor(src) else (src, value)
        if src is None and value is None:
            raise TypeError("scatter(): expected a src Tensor or a value Number")
        dim, index = _scatter_args("scatter", self, dim, index, src)
        x, idx = _at_least_1d(self, index)
        if src is None:
            out = ops.Scatter.apply(x, index=idx, dim=dim, value=value)
        else:
            out = ops.Scatter.apply(x, src.reshape(1) if src.data.ndim == 0 else src, index=idx, dim=dim)
        return out if x is self else out.reshape(())

    def scatter_add(self, dim: DimArg, index: Any, src: Tensor) -> Tensor:
        """A copy of self with src[i][j] added at self[i][index[i][j]] for dim 1 (repeats add up). ∂self = g; ∂src
        is g read back there."""
        if not _is_tensor(src):
            raise TypeError(f"scatter_add(): argument 'src' (position 3) must be Tensor, not {type(src).__name__}")
        dim, index = _scatter_args("scatter_add", self, dim, index, src)
        x, idx = _at_least_1d(self, index)
        out = ops.ScatterAdd.apply(x, src.reshape(1) if src.data.ndim == 0 else src, index=idx, dim=dim)
        return out if x is self else out.reshape(())

    def masked_fill(self, mask: Tensor, value: Any) -> Tensor:
        """value where mask (a bool tensor, broadcast with self) is True, self elsewhere; value a number or a 0-d
        tensor, which gets the gradient summed over the filled places."""
        mask = _mask_arg("masked_fill", mask, "masked_fill_ only supports boolean masks, but got mask with dtype {}")
        broadcast_shape(mask.shape, self.data.shape)
        fill = _fill_value(self, "masked_fill", value, "masked_fill_ only supports a 0-dimensional value tensor, but "
                                                       "got tensor with {} dimension(s).")
        return ops.MaskedFill.apply(self, fill, mask=mask)

    def masked_select(self, mask: Tensor) -> Tensor:
        """The elements where mask (a bool tensor, broadcast with self) is True, as a 1-d tensor."""
        mask = _mask_arg("masked_select", mask, "masked_select: expected BoolTensor for mask")
        broadcast_shape(mask.shape, self.data.shape)
        return ops.MaskedSelect.apply(self, mask=mask)

    def index_put(self, indices: Any, values: Any, accumulate: bool = False) -> Tensor:
        """A copy of self with self[indices] = values (broadcast), or += with repeated indices adding up; indices a
        tuple of integer or bool tensors. ∂self is g (zero where written unless accumulating); ∂values = g[indices]."""
        index = _index_tensors("index_put", indices, self.data.ndim)
        values = _values_tensor("index_put", values)
        check_dtype_match(self, values.data)
        p = plan(self.data.shape, index)
        check_fits(values.data.shape, p.shape, True, values.data.dtype)
        return ops.IndexPut.apply(self, values, index=index, accumulate=bool(accumulate))

    # ---- in place (see the module's docstring) --------------------------------------------------------------------
    def index_put_(self, indices: Any, values: Any, accumulate: bool = False) -> Tensor:
        index = _index_tensors("index_put_", indices, self.data.ndim)
        values = _values_tensor("index_put_", values)
        check_write(self, "index_put_", (values,))
        check_dtype_match(self, values.data)
        p = plan(self.data.shape, index)
        shape = check_fits(values.data.shape, p.shape, True, values.data.dtype)
        v = values.data.reshape(shape)
        return write(self, "index_put_", lambda data: put(data, p, v, accumulate=bool(accumulate)))

    def masked_fill_(self, mask: Tensor, value: Any) -> Tensor:
        mask = _mask_arg("masked_fill_", mask, "masked_fill_ only supports boolean masks, but got mask with dtype {}")
        fill = _fill_value(self, "masked_fill_", value, "masked_fill_ only supports a 0-dimensional value tensor, "
                                                        "but got tensor with {} dimension(s).")
        check_write(self, "masked_fill_", (value,))
        if broadcast_shape(mask.shape, self.data.shape) != self.data.shape:
            raise RuntimeError(f"output with shape {list(self.data.shape)} doesn't match the broadcast shape "
                               f"{list(broadcast_shape(mask.shape, self.data.shape))}")
        return write(self, "masked_fill_", lambda data: np.copyto(data, fill.data, casting="unsafe", where=mask))

    def fill_(self, value: Any) -> Tensor:
        fill = _fill_value(self, "fill_", value, "fill_ only supports 0-dimension value tensor but got tensor with {} "
                                                 "dimensions.")
        check_write(self, "fill_", (value,))

        def fill_all(data: Any) -> None:
            data[...] = fill.data
        return write(self, "fill_", fill_all)

    def zero_(self) -> Tensor:
        return self.fill_(0)

    def scatter_(self, dim: DimArg, index: Any, src: Any = None, value: Any = None, *, reduce: str | None = None
    ) -> Tensor:
        if reduce is not None:
            if reduce == "add" and _is_tensor(src):
                return self.scatter_add_(dim, index, src)
            raise RuntimeError(f"scatter_(reduce={reduce!r}) is not supported here (reduce='add' with a src tensor "
                               f"is scatter_add_)")
        src, value = (None, src) if src is not None and not _is_tensor(src) else (src, value)
        if src is None and value is None:
            raise TypeError("scatter_(): expected a src Tensor or a value Number")
        dim, index = _scatter_args("scatter_", self, dim, index, src)
        check_write(self, "scatter_", (src,))
        idx = index.reshape(1) if index.ndim == 0 else index

        def scatter(data: Any) -> None:
            view = data.reshape(1) if data.ndim == 0 else data
            if src is None:
                view[along_dim(idx, dim)] = value
            else:
                view[along_dim(idx, dim)] = src.data.reshape(src.data.shape or (1,))[extent(idx)]
        return write(self, "scatter_", scatter)

    def scatter_add_(self, dim: DimArg, index: Any, src: Any) -> Tensor:
        if not _is_tensor(src):
            raise TypeError(f"scatter_add_(): argument 'src' (position 3) must be Tensor, not {type(src).__name__}")
        dim, index = _scatter_args("scatter_add_", self, dim, index, src)
        check_write(self, "scatter_add_", (src,))
        idx = index.reshape(1) if index.ndim == 0 else index

        def scatter_add(data: Any) -> None:
            view = data.reshape(1) if data.ndim == 0 else data
            np.add.at(view, along_dim(idx, dim), src.data.reshape(src.data.shape or (1,))[extent(idx)])
        return write(self, "scatter_add_", scatter_add)
