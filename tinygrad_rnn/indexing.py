"""PyTorch's indexing rules on ndarrays (no Tensors here): x[index] read as torch reads it, made NumPy steps.

NumPy and PyTorch place the dimensions of a mixed index differently. NumPy counts an int as an advanced index, so
in `x[:, 1, :, idx]` the int and `idx` are two advanced indices separated by a slice and their dimension goes to the
front: (len(idx), x.shape[0], x.shape[2]). PyTorch first applies ints, slices, None and Ellipsis as a view (an int
is a `select`, which drops its dimension), then indexes that view with the tensors alone:
(x.shape[0], x.shape[2], len(idx)). So `plan` splits an index in two steps:

- `basic`: ints, slices and None, a NumPy basic index (a view: its backward writes through it);
- `advanced`: on that view, slice(None) and integer arrays (bool masks as their nonzero() arrays, or one mask
  alone), or None when there are none. With no ints left, NumPy's rule is PyTorch's: adjacent advanced indices
  put their broadcast dimensions where the first one was, separated ones put them in front.

Also as in PyTorch: a 0-d integer array is an int; True/False are None plus the index [0] / [] (so they broadcast
with other indices); a short list holding a sequence, slice, None or Ellipsis is read as a tuple (PyTorch's old
rule, with its warning); errors are PyTorch's IndexErrors, worded as torch 2.13 words them. Two differences: a slice
may step backwards (x[::-1], NumPy's meaning; PyTorch refuses), and a second Ellipsis is refused (PyTorch 2.13
accepts some, with results that depend on where they stand)."""
import numbers
import operator
import warnings

import numpy as np

_SEQUENCE_AS_TUPLE = (
    "Using a non-tuple sequence for multidimensional indexing is deprecated and will be changed in pytorch 2.9; use "
    "x[tuple(seq)] instead of x[seq]. In pytorch 2.9 this will be interpreted as tensor index, x[torch.tensor(seq)], "
    "which will result either in an error or a different result")
_INDEX_TYPES = "only integers, slices (`:`), ellipsis (`...`), None and long or byte Variables are valid indices"
_INDEX_DTYPES = "tensors used as indices must be long, int, byte or bool tensors"


def wrap_dim(dim, ndim):
    """`dim` counted from 0 (negative from the end), or PyTorch's IndexError; a 0-d tensor takes -1 and 0."""
    n = max(ndim, 1)
    if not -n <= dim < n:
        raise IndexError(f"Dimension out of range (expected to be in range of [{-n}, {n - 1}], but got {dim})")
    return dim % n


class Plan:
    """x[index] as two NumPy steps: view = x[basic]; result = view[advanced] (or the view when advanced is None).
    `shape`: the result's; `unique`: advanced picks each element at most once (a mask), so a backward may assign
    instead of accumulate; `whole`: basic is the whole array (no int, None or narrowing slice)."""

    __slots__ = ("basic", "advanced", "shape", "unique", "whole")

    def __init__(self, basic, advanced, shape, unique, whole):
        self.basic, self.advanced, self.shape, self.unique, self.whole = basic, advanced, shape, unique, whole


def _as_tuple(index):
    """The index as a tuple of items, PyTorch's way (treatSequenceAsTuple)."""
    if type(index) is tuple:
        return index
    if isinstance(index, list) and len(index) < 32 and any(
            isinstance(i, (list, tuple, np.ndarray, slice)) or i is None or i is Ellipsis for i in index):
        warnings.warn(_SEQUENCE_AS_TUPLE, UserWarning, stacklevel=4)
        return tuple(index)
    return (index,)


def _array(item):
    """A list or an array item as an ndarray index (integer or bool); PyTorch's IndexError for anything else."""
    arr = np.asarray(item)
    if arr.size == 0 and arr.dtype.kind == "f" and not isinstance(item, np.ndarray):
        return arr.astype(np.int64)            # [] is an empty integer index, as torch.tensor([]) is taken there
    if arr.dtype.kind not in "biu":
        raise IndexError(_INDEX_DTYPES)
    return arr


def _item_kind(item):
    """'int', 'slice', 'none', 'ellipsis', 'bool' (a Python or 0-d bool), 'mask' or 'array', with the item made
    canonical (ints as int, lists as arrays)."""
    if item is None:
        return "none", None
    if item is Ellipsis:
        return "ellipsis", None
    if isinstance(item, slice):
        return "slice", item
    if isinstance(item, (bool, np.bool_)):
        return "bool", bool(item)
    if isinstance(item, (numbers.Integral, np.integer)):
        return "int", int(item)
    if isinstance(item, (list, np.ndarray)):
        arr = _array(item)
        if arr.ndim == 0:
            return ("bool", bool(arr)) if arr.dtype.kind == "b" else ("int", int(arr))
        return ("mask" if arr.dtype.kind == "b" or arr.dtype == np.uint8 else "array"), arr
    if hasattr(item, "__index__") and not isinstance(item, float):
        return "int", operator.index(item)
    raise IndexError(f"{_INDEX_TYPES} (got {type(item).__name__})")


def _slice(s, size):
    """A slice with int bounds, and its length. A negative step keeps NumPy's meaning (this engine always took
    one; PyTorch raises "step must be greater than zero")."""
    step = 1 if s.step is None else operator.index(s.step)
    if step == 0:
        raise ValueError("slice step cannot be zero")
    start = None if s.start is None else operator.index(s.start)
    stop = None if s.stop is None else operator.index(s.stop)
    s = slice(start, stop, step)
    return s, len(range(*s.indices(size)))


def plan(shape, index):
    """The Plan of x[index] for an array of `shape`, PyTorch's rules (see the module's docstring)."""
    kind = type(index)
    if kind is int or kind is slice or kind is tuple and all(type(i) is int or type(i) is slice for i in index):
        fast = _basic_plan(shape, index if kind is tuple else (index,))   # x[t], x[:, t], x[a:b]: the hot path
        if fast is not None:
            return fast
    elif kind is np.ndarray and index.ndim and index.dtype.kind == "i" and shape and shape[0] and index.size:
        n = shape[0]                            # x[rows]: the other hot path (embedding-like lookups)
        if -n <= index.min() and index.max() < n:
            return Plan((Ellipsis,), (index,), index.shape + tuple(shape[1:]), False, True)
    items = [_item_kind(i) for i in _as_tuple(index)]
    ndim = len(shape)
    specified = sum(v.ndim if k == "mask" else 1 for k, v in items if k in ("int", "slice", "array", "mask"))
    if specified > ndim:
        if ndim == 0 and any(k == "int" for k, _ in items):
            raise IndexError("invalid index of a 0-dim tensor. Use `tensor.item()` in Python or `tensor.item<T>()` "
                             "in C++ to convert a 0-dim tensor to a number")
        raise IndexError(f"too many indices for tensor of dimension {ndim}")
    basic, advanced, view_shape = [], [], []   # view_shape: the shape of x[basic] so far
    dim, whole, seen_ellipsis, masks = 0, True, False, []
    for pos, (kind, value) in enumerate(items):
        if kind == "int":
            size = shape[dim]
            if not -size <= value < size:
                raise IndexError(f"index {value} is out of bounds for dimension {pos} with size {size}")
            basic.append(value)
            dim, whole = dim + 1, False
        elif kind == "slice":
            s, length = _slice(value, shape[dim])
            basic.append(s)
            advanced.append(slice(None))
            view_shape.append(length)
            whole = whole and length == shape[dim] and s.step == 1
            dim += 1
        elif kind == "none" or kind == "bool":
            basic.append(None)
            advanced.append(slice(None) if kind == "none" else np.zeros(1 if value else 0, np.int64))
            view_shape.append(1)
            whole = False
        elif kind == "ellipsis":
            if seen_ellipsis:
                raise IndexError("an index can only have a single ellipsis ('...')")
            seen_ellipsis = True
            n = ndim - specified
            basic.extend([slice(None)] * n)
            advanced.extend([slice(None)] * n)
            view_shape.extend(shape[dim:dim + n])
            dim += n
        else:                                   # an integer array, or a mask over value.ndim dims
            n = value.ndim if kind == "mask" else 1
            if kind == "mask":
                masks.append((value, len(view_shape)))
            basic.extend([slice(None)] * n)
            advanced.append((kind, value))
            view_shape.extend(shape[dim:dim + n])
            dim += n
    view_shape.extend(shape[dim:])
    for mask, at in masks:                      # checked against the whole view, as PyTorch (after every None)
        for j, n in enumerate(mask.shape):
            if n != view_shape[at + j]:
                raise IndexError(f"The shape of the mask {list(mask.shape)} at index {j} does not match the shape of "
                                 f"the indexed tensor {view_shape} at index {at + j}")
    return _advanced_plan(tuple(basic) + (Ellipsis,), advanced, view_shape, whole)   # (...: a view even when
                                                                                    # ints pick one element)


def _basic_plan(shape, items):
    """The Plan of an index of ints and slices only, where NumPy and PyTorch agree; None when the full path must
    word an error (an int out of range, too many indices, a zero step)."""
    if len(items) > len(shape):
        return None
    out, whole = [], True
    for i, n in zip(items, shape):
        if type(i) is int:
            if not -n <= i < n:
                return None
            whole = False
        else:
            if i.step == 0:
                return None
            length = len(range(*i.indices(n)))
            out.append(length)
            whole = whole and length == n and (i.step is None or i.step == 1)
    out.extend(shape[len(items):])
    return Plan(items + (Ellipsis,), None, tuple(out), True, whole)


def _advanced_plan(basic, items, view_shape, whole):
    """The advanced step on the view of `view_shape`: masks expanded, indices checked against PyTorch's rules."""
    arrays = [i for i in items if type(i) is tuple or isinstance(i, np.ndarray)]
    if not arrays:
        return Plan(basic, None, tuple(view_shape), True, whole)
    if len(arrays) == 1 and type(arrays[0]) is tuple and arrays[0][0] == "mask":
        mask = arrays[0][1].astype(bool, copy=False)
        first = next(d for d, i in enumerate(_positions(items)) if i is not None)
        shape = view_shape[:first] + [int(np.count_nonzero(mask))] + view_shape[first + mask.ndim:]
        return Plan(basic, tuple(_spread(items, [mask])), tuple(shape), True, whole)
    expanded = []                               # every index array, masks as their nonzero() arrays
    for i in arrays:
        if type(i) is tuple:
            expanded.extend(np.nonzero(i[1]) if i[0] == "mask" else [i[1]])
        else:
            expanded.append(i)
    try:
        broadcast = np.broadcast_shapes(*[a.shape for a in expanded])
    except ValueError:
        shapes = ", ".join(str(list(a.shape)) for a in expanded)
        raise IndexError(f"shape mismatch: indexing tensors could not be broadcast together with shapes {shapes}") \
            from None
    dims = [d for d, i in enumerate(_expanded_positions(items)) if i]
    adjacent = dims == list(range(dims[0], dims[0] + len(dims)))
    rest = [n for d, n in enumerate(view_shape) if d not in dims]
    at = dims[0] if adjacent else 0
    shape = tuple(rest[:at] + list(broadcast) + rest[at:])
    for a, d in zip(expanded, dims):
        if a.size and view_shape[d] == 0:
            raise IndexError("index is out of bounds for dimension with size 0")
    if 0 in shape:                              # nothing is read, so PyTorch checks no index: nor does NumPy here
        return Plan(basic, _EMPTY, shape, True, whole)
    for ordinal, (a, d) in enumerate(zip(expanded, dims)):
        size = view_shape[d]
        if a.size and (a.min() < -size or a.max() >= size):
            bad = a.reshape(-1)[np.flatnonzero((a.reshape(-1) < -size) | (a.reshape(-1) >= size))[0]]
            raise IndexError(f"index {int(bad)} is out of bounds for dimension {ordinal} with size {size}")
    return Plan(basic, tuple(_spread(items, expanded)), shape, False, whole)


def _positions(items):
    """Per view dim: the advanced item indexing it, else None (a mask covers mask.ndim dims)."""
    out = []
    for i in items:
        if type(i) is tuple:
            out.extend([i] * (i[1].ndim if i[0] == "mask" else 1))
        else:
            out.append(i if isinstance(i, np.ndarray) else None)
    return out


def _expanded_positions(items):
    return [p is not None for p in _positions(items)]


def _spread(items, arrays):
    """The advanced NumPy tuple: slice(None) where no array indexes, the arrays (in order) where they do."""
    arrays, out = iter(arrays), []
    for i in items:
        if type(i) is tuple and i[0] == "mask":
            first = next(arrays)
            out.append(first)
            if first.dtype != bool:             # expanded: one array per mask dim
                out.extend(next(arrays) for _ in range(i[1].ndim - 1))
        elif type(i) is tuple or isinstance(i, np.ndarray):
            out.append(next(arrays))
        else:
            out.append(slice(None))
    return out


def value_shape(shape):
    """A written value's shape as PyTorch's index assignment reads it: leading dims of size 1 dropped."""
    k = 0
    while k < len(shape) and shape[k] == 1:
        k += 1
    return shape[k:]


_EMPTY = "empty"   # Plan.advanced of an advanced index whose result has no elements (its indices unchecked)


def take(array, p):
    """array[index] for the index `p` was planned from."""
    view = array[p.basic]
    if p.advanced is None:
        return view
    return np.empty(p.shape, array.dtype) if p.advanced is _EMPTY else view[p.advanced]


def put(array, p, values, accumulate=False):
    """array[index] = values (broadcast), or += with repeats accumulating; in place."""
    view = array[p.basic]
    if p.advanced is _EMPTY:
        return
    if p.advanced is None:
        if accumulate:
            view += values
        else:
            view[...] = values
    elif accumulate:
        np.add.at(view, p.advanced, values)
    else:
        view[p.advanced] = values


def scatter_back(g, shape, dtype, p):
    """The gradient of take(x, p) for x of `shape`: g put back where it was taken from, repeats accumulating."""
    grad = np.zeros(shape, dtype)
    put(grad, p, g, accumulate=not p.unique)
    return grad


def along_dim(index, dim):
    """The NumPy index of a gather or scatter along `dim`: each element of `index` at its own position in every dim
    but `dim`, where its value is the position (out[i][j][k] = a[i][index[i][j][k]][k] for dim 1)."""
    grid = list(np.ogrid[tuple(slice(n) for n in index.shape)])
    grid[dim] = index
    return tuple(grid)


def extent(index):
    """The part of a scatter's src that it reads: index's extent in every dim (src may be larger)."""
    return tuple(slice(n) for n in index.shape)


def broadcast_shape(a, b):
    """The broadcast of shapes a and b, or PyTorch's RuntimeError naming the first clash from the right."""
    ndim = max(len(a), len(b))
    out = []
    for i in range(ndim - 1, -1, -1):
        k = ndim - 1 - i
        sa = a[len(a) - 1 - k] if k < len(a) else 1
        sb = b[len(b) - 1 - k] if k < len(b) else 1
        if sa != sb and sa != 1 and sb != 1:
            raise RuntimeError(f"The size of tensor a ({sa}) must match the size of tensor b ({sb}) at non-singleton "
                               f"dimension {i}")
        out.append(sb if sa == 1 else sa)
    return tuple(reversed(out))
