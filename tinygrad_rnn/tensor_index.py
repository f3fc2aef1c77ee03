"""Tensor's indexing methods (a mixin of Tensor): gathers and scatters along a dim (index_select, gather, scatter,
scatter_add), masks (masked_fill, masked_select), index_put; the in-place writes (x[index] = v, index_put_,
masked_fill_, scatter_, scatter_add_, fill_, zero_); and the torch-style functions of the same names.

In-place writes and the tape. The tape's edges are tensors (a node holds its input tensors), so a tensor rewritten
in place cannot keep its old place on the tape for the ops that already used it, as PyTorch's versioned edges do.
So this engine records no in-place op, and refuses, when grad mode is on:
- a write into a leaf that requires grad (PyTorch's own error); under no_grad() it is allowed, as in PyTorch;
- a write into a tensor that is on the tape (has a grad_fn), or of a value that requires grad into a float tensor
  (PyTorch would record both): build the result out of place instead (index_put, masked_fill, scatter, where,
  cat/stack), which records an ordinary node.
Every allowed write goes through inplace.writing, so a graph that saved the array (as an input, an output or an
index) raises PyTorch's "modified by an inplace operation" error in its backward, never a silently wrong gradient."""
import numbers

import numpy as np

from . import grad_mode, inplace, ops
from .dtypes import TORCH_NAMES
from .indexing import along_dim, broadcast_shape, extent, plan, put, value_shape, wrap_dim
from .tensor_shape import _int

_LEAF = "a leaf Variable that requires grad is being used in an in-place operation."
_VIEW_OF_LEAF = "a view of a leaf Variable that requires grad is being used in an in-place operation."
_NO_RECORD = ("{what}: {why}. This engine records no in-place ops (a tensor rewritten in place would send the "
              "gradient of the ops that already used it to the new values); build the result out of place (x = "
              "x.index_put(indices, values), masked_fill, scatter, where, cat/stack), or write under no_grad()")
_OVERLAP = ("unsupported operation: more than one element of the written-to tensor refers to a single memory location. "
            "Please clone() the tensor before performing the operation.")
_SMALL_NAMES = {np.dtype(np.float32): "float", np.dtype(np.float64): "double", np.dtype(np.int64): "long int",
                np.dtype(np.int32): "int", np.dtype(np.bool_): "bool"}


def _is_tensor(x):
    return hasattr(x, "_ctx")


def _index_array(t):
    """An integer or bool tensor used as an index is its data (rows, or a mask); a float tensor is refused, as
    PyTorch refuses it (Tensor([True, False]) holds 1.0 and 0.0: read as rows it would pick rows 1 and 0)."""
    if t.data.dtype.kind not in "biu":
        raise IndexError("tensors used as indices must be long, int, byte or bool tensors (this one holds "
                         f"{t.data.dtype}: Python lists become float32 here, so make indices with .long() or "
                         "dtype=tinygrad_rnn.int64, and masks with a comparison or .bool())")
    return t.data


def index_of(index):
    """A Python index with its Tensors (alone, in a tuple or in a list) as their arrays."""
    if _is_tensor(index):
        return _index_array(index)
    if (type(index) is tuple or type(index) is list) and any(_is_tensor(i) for i in index):
        return type(index)(_index_array(i) if _is_tensor(i) else i for i in index)
    return index


# ---- writing in place ----------------------------------------------------------------------------------------------
def _check_write(t, what, values=(), view=False):
    """Refuses (see the module's docstring) a write the tape could not follow: grad mode on and the target, or a
    value written into a float target, on the tape or requiring grad."""
    if not grad_mode.state.enabled:
        return
    if t.requires_grad:
        if t._ctx is None:
            raise RuntimeError(_VIEW_OF_LEAF if view else _LEAF)
        raise RuntimeError(_NO_RECORD.format(what=what, why="this tensor is on the tape (it has a grad_fn)"))
    if t.data.dtype.kind == "f" and any(_is_tensor(v) and v.requires_grad for v in values):
        raise RuntimeError(_NO_RECORD.format(what=what, why="the value requires grad and this tensor does not"))


def _write(t, what, fn):
    """fn(t.data) writes in place, counted by the in-place guards; a read-only array is refused with the reason."""
    try:
        with inplace.writing(t):
            fn(t.data)
        return t
    except ValueError as err:
        if "read-only" not in str(err):
            raise
    data = t.data
    if any(s == 0 and n > 1 for s, n in zip(data.strides, data.shape)):
        raise RuntimeError(_OVERLAP)
    try:              # a view made while a node pinned its base inherited read-only; NumPy lets it be writeable
        data.flags.writeable = True    # again once nothing holds the base read-only (no live node saved it)
    except ValueError:
        raise RuntimeError(f"{what}: this tensor's data is read-only: it views an array that a recorded op saved "
                           f"for its backward (until that backward has run), or a read-only buffer. Write after "
                           f"backward(), or into a clone().") from None
    with inplace.writing(t):
        fn(t.data)
    return t


def _value(t, value, what):
    """The value of a write as an ndarray: a Tensor's data, an ndarray, or a number (cast to t's dtype on writing)."""
    if _is_tensor(value):
        return value.data
    if isinstance(value, np.ndarray):
        return value
    if isinstance(value, (numbers.Number, np.generic)):
        return np.asarray(value)
    raise TypeError(f"can't assign a {type(value).__name__} to a torch.{TORCH_NAMES[t.data.dtype]}Tensor")


def _check_dtype_match(t, values):
    if values.dtype != t.data.dtype:
        source = TORCH_NAMES.get(values.dtype, values.dtype)
        raise RuntimeError(f"Index put requires the source and destination dtypes match, got "
                           f"{TORCH_NAMES[t.data.dtype]} for the destination and {source} for the source.")


def _check_fits(values_shape, target, advanced, values_dtype):
    """PyTorch's check that a value (its leading 1s dropped) broadcasts to the indexing result."""
    shape = value_shape(values_shape)
    if advanced:
        if len(shape) > len(target) or any(v != 1 and v != n for v, n in zip(shape[::-1], target[::-1])):
            raise RuntimeError(f"shape mismatch: value tensor of shape {list(shape)} cannot be broadcast to indexing "
                               f"result of shape {list(target)}")
        return shape
    if len(shape) > len(target):
        raise RuntimeError(f"expand(torch.{TORCH_NAMES.get(values_dtype, 'Float')}Tensor{{{list(values_shape)}}}, "
                           f"size={list(target)}): the number of sizes provided ({len(target)}) must be greater or "
                           f"equal to the number of dimensions in the tensor ({len(values_shape)})")
    for k in range(1, len(shape) + 1):
        if shape[-k] != 1 and shape[-k] != target[-k]:
            raise RuntimeError(f"The expanded size of the tensor ({target[-k]}) must match the existing size "
                               f"({shape[-k]}) at non-singleton dimension {len(target) - k}.  Target sizes: "
                               f"{list(target)}.  Tensor sizes: {list(shape)}")
    return shape


def set_item(t, index, value):
    """t[index] = value, as PyTorch's index assignment (index_put_ semantics: the value broadcast to the indexing
    result, repeated indices writing one of their values); see the module's docstring for what is refused."""
    p = plan(t.data.shape, index)
    values = _value(t, value, "x[index] = value")
    _check_write(t, "x[index] = value", (value,), view=not p.whole)
    if p.advanced is not None and _is_tensor(value):
        _check_dtype_match(t, values)
    shape = _check_fits(values.shape, p.shape, p.advanced is not None, values.dtype)
    return _write(t, "x[index] = value", lambda data: put(data, p, values.reshape(shape)))


def _index_tensors(name, indices, ndim):
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


def _values_tensor(name, values):
    if not _is_tensor(values):
        raise TypeError(f"{name}(): argument 'values' (position 2) must be Tensor, not {type(values).__name__}")
    return values


# ---- gathers and scatters: argument checks in PyTorch's words ------------------------------------------------------
def _index_arg(name, index, pos=2):
    if _is_tensor(index):
        return index.data
    if isinstance(index, np.ndarray):
        return index
    raise TypeError(f"{name}(): argument 'index' (position {pos}) must be Tensor, not {type(index).__name__}")


def _check_gather_index(name, t, index, dim):
    """dim counted from 0; index int32/int64 with t's number of dims (a 0-d tensor counts as 1-d)."""
    if index.dtype.kind not in "iu":
        raise RuntimeError(f"{name}(): Expected dtype int32/int64 for index")
    if max(index.ndim, 1) != max(t.data.ndim, 1):
        raise RuntimeError(f"Index tensor must have the same number of dimensions as "
                           f"{'input' if name == 'gather' else 'self'} tensor")
    return wrap_dim(_int(name, "dim", 1, dim), t.data.ndim)


def _check_bounds(index, dim, size):
    if index.size and (index.min() < 0 or index.max() >= size):
        flat = index.reshape(-1)
        bad = flat[np.flatnonzero((flat < 0) | (flat >= size))[0]]
        raise RuntimeError(f"index {int(bad)} is out of bounds for dimension {dim} with size {size}")


def _at_least_1d(t, index):
    """A 0-d tensor gathers and scatters as a 1-d one of one element (as in PyTorch)."""
    return (t.reshape(1) if t.data.ndim == 0 else t), (index.reshape(1) if index.ndim == 0 else index)


def _scatter_args(name, t, dim, index, src):
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


def _mask_arg(name, mask, message):
    data = mask.data if _is_tensor(mask) else np.asarray(mask) if isinstance(mask, np.ndarray) else None
    if data is None:
        raise TypeError(f"{name}(): argument 'mask' (position 1) must be Tensor, not {type(mask).__name__}")
    if data.dtype != np.bool_:
        raise RuntimeError(message.format(_SMALL_NAMES.get(data.dtype, data.dtype)))
    return data


def _fill_value(t, name, value, message):
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


def _constant(t, array):
    const = t._make(array, None)
    const._version = None        # made here, reachable by nobody else: the in-place guards need not protect it
    return const


class IndexMethods:
    __slots__ = ()

    # ---- out of place: ordinary nodes on the tape -----------------------------------------------------------------
    def index_select(self, dim, index):
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

    def gather(self, dim, index, *, sparse_grad=False):
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

    def scatter(self, dim, index, src=None, value=None, *, reduce=None):
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

    def scatter_add(self, dim, index, src):
        """A copy of self with src[i][j] added at self[i][index[i][j]] for dim 1 (repeats add up). ∂self = g; ∂src
        is g read back there."""
        if not _is_tensor(src):
            raise TypeError(f"scatter_add(): argument 'src' (position 3) must be Tensor, not {type(src).__name__}")
        dim, index = _scatter_args("scatter_add", self, dim, index, src)
        x, idx = _at_least_1d(self, index)
        out = ops.ScatterAdd.apply(x, src.reshape(1) if src.data.ndim == 0 else src, index=idx, dim=dim)
        return out if x is self else out.reshape(())

    def masked_fill(self, mask, value):
        """value where mask (a bool tensor, broadcast with self) is True, self elsewhere; value a number or a 0-d
        tensor, which gets the gradient summed over the filled places."""
        mask = _mask_arg("masked_fill", mask, "masked_fill_ only supports boolean masks, but got mask with dtype {}")
        broadcast_shape(mask.shape, self.data.shape)
        fill = _fill_value(self, "masked_fill", value, "masked_fill_ only supports a 0-dimensional value tensor, but "
                                                       "got tensor with {} dimension(s).")
        return ops.MaskedFill.apply(self, fill, mask=mask)

    def masked_select(self, mask):
        """The elements where mask (a bool tensor, broadcast with self) is True, as a 1-d tensor."""
        mask = _mask_arg("masked_select", mask, "masked_select: expected BoolTensor for mask")
        broadcast_shape(mask.shape, self.data.shape)
        return ops.MaskedSelect.apply(self, mask=mask)

    def index_put(self, indices, values, accumulate=False):
        """A copy of self with self[indices] = values (broadcast), or += with repeated indices adding up; indices a
        tuple of integer or bool tensors. ∂self is g (zero where written unless accumulating); ∂values = g[indices]."""
        index = _index_tensors("index_put", indices, self.data.ndim)
        values = _values_tensor("index_put", values)
        _check_dtype_match(self, values.data)
        p = plan(self.data.shape, index)
        _check_fits(values.data.shape, p.shape, True, values.data.dtype)
        return ops.IndexPut.apply(self, values, index=index, accumulate=bool(accumulate))

    # ---- in place (see the module's docstring) --------------------------------------------------------------------
    def index_put_(self, indices, values, accumulate=False):
        index = _index_tensors("index_put_", indices, self.data.ndim)
        values = _values_tensor("index_put_", values)
        _check_write(self, "index_put_", (values,))
        _check_dtype_match(self, values.data)
        p = plan(self.data.shape, index)
        shape = _check_fits(values.data.shape, p.shape, True, values.data.dtype)
        v = values.data.reshape(shape)
        return _write(self, "index_put_", lambda data: put(data, p, v, accumulate=bool(accumulate)))

    def masked_fill_(self, mask, value):
        mask = _mask_arg("masked_fill_", mask, "masked_fill_ only supports boolean masks, but got mask with dtype {}")
        fill = _fill_value(self, "masked_fill_", value, "masked_fill_ only supports a 0-dimensional value tensor, "
                                                        "but got tensor with {} dimension(s).")
        _check_write(self, "masked_fill_", (value,))
        if broadcast_shape(mask.shape, self.data.shape) != self.data.shape:
            raise RuntimeError(f"output with shape {list(self.data.shape)} doesn't match the broadcast shape "
                               f"{list(broadcast_shape(mask.shape, self.data.shape))}")
        return _write(self, "masked_fill_", lambda data: np.copyto(data, fill.data, casting="unsafe", where=mask))

    def fill_(self, value):
        fill = _fill_value(self, "fill_", value, "fill_ only supports 0-dimension value tensor but got tensor with {} "
                                                 "dimensions.")
        _check_write(self, "fill_", (value,))

        def fill_all(data):
            data[...] = fill.data
        return _write(self, "fill_", fill_all)

    def zero_(self):
        return self.fill_(0)

    def scatter_(self, dim, index, src=None, value=None, *, reduce=None):
        if reduce is not None:
            if reduce == "add" and _is_tensor(src):
                return self.scatter_add_(dim, index, src)
            raise RuntimeError(f"scatter_(reduce={reduce!r}) is not supported here (reduce='add' with a src tensor "
                               f"is scatter_add_)")
        src, value = (None, src) if src is not None and not _is_tensor(src) else (src, value)
        if src is None and value is None:
            raise TypeError("scatter_(): expected a src Tensor or a value Number")
        dim, index = _scatter_args("scatter_", self, dim, index, src)
        _check_write(self, "scatter_", (src,))
        idx = index.reshape(1) if index.ndim == 0 else index

        def scatter(data):
            view = data.reshape(1) if data.ndim == 0 else data
            if src is None:
                view[along_dim(idx, dim)] = value
            else:
                view[along_dim(idx, dim)] = src.data.reshape(src.data.shape or (1,))[extent(idx)]
        return _write(self, "scatter_", scatter)

    def scatter_add_(self, dim, index, src):
        if not _is_tensor(src):
            raise TypeError(f"scatter_add_(): argument 'src' (position 3) must be Tensor, not {type(src).__name__}")
        dim, index = _scatter_args("scatter_add_", self, dim, index, src)
        _check_write(self, "scatter_add_", (src,))
        idx = index.reshape(1) if index.ndim == 0 else index

        def scatter_add(data):
            view = data.reshape(1) if data.ndim == 0 else data
            np.add.at(view, along_dim(idx, dim), src.data.reshape(src.data.shape or (1,))[extent(idx)])
        return _write(self, "scatter_add_", scatter_add)


# ---- the torch-style functions -------------------------------------------------------------------------------------
def _tensor(name, input):
    if not _is_tensor(input):
        raise TypeError(f"{name}(): argument 'input' (position 1) must be Tensor, not {type(input).__name__}")
    return input


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
