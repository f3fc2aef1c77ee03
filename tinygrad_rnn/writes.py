"""In-place writes into a tensor's data: x[index] = value (set_item) and the checks the *_ methods share.

The tape's edges are tensors (a node holds its input tensors), so a tensor rewritten in place cannot keep its old
place on the tape for the ops that already used it, as PyTorch's versioned edges do. So this engine records no
in-place op, and refuses, when grad mode is on:
- a write into a leaf that requires grad (PyTorch's own error); under no_grad() it is allowed, as in PyTorch;
- a write into a tensor that is on the tape (has a grad_fn), or of a value that requires grad into a float tensor
  (PyTorch would record both): build the result out of place instead (index_put, masked_fill, scatter, where,
  cat/stack), which records an ordinary node.
Every allowed write goes through inplace.writing, so a graph that saved the array (as an input, an output or an
index) raises PyTorch's "modified by an inplace operation" error in its backward, never a silently wrong gradient."""
import numbers

import numpy as np

from . import grad_mode, inplace
from .dtypes import TORCH_NAMES
from .indexing import plan, put, value_shape

_LEAF = "a leaf Variable that requires grad is being used in an in-place operation."
_VIEW_OF_LEAF = "a view of a leaf Variable that requires grad is being used in an in-place operation."
_NO_RECORD = ("{what}: {why}. This engine records no in-place ops (a tensor rewritten in place would send the "
              "gradient of the ops that already used it to the new values); build the result out of place (x = "
              "x.index_put(indices, values), masked_fill, scatter, where, cat/stack), or write under no_grad()")
_OVERLAP = ("unsupported operation: more than one element of the written-to tensor refers to a single memory location. "
            "Please clone() the tensor before performing the operation.")


def _is_tensor(x):
    return hasattr(x, "_ctx")


def check_write(t, what, values=(), view=False):
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


def write(t, what, fn):
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


def check_dtype_match(t, values):
    if values.dtype != t.data.dtype:
        source = TORCH_NAMES.get(values.dtype, values.dtype)
        raise RuntimeError(f"Index put requires the source and destination dtypes match, got "
                           f"{TORCH_NAMES[t.data.dtype]} for the destination and {source} for the source.")


def check_fits(values_shape, target, advanced, values_dtype):
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
    check_write(t, "x[index] = value", (value,), view=not p.whole)
    if p.advanced is not None and _is_tensor(value):
        check_dtype_match(t, values)
    shape = check_fits(values.shape, p.shape, p.advanced is not None, values.dtype)
    return write(t, "x[index] = value", lambda data: put(data, p, values.reshape(shape)))
