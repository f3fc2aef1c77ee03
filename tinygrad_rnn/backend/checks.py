"""A kernel's arguments checked against its spec (specs.py), in the caller's terms.

The Cython kernels check every array themselves and refuse what is wrong; these checks say why, naming the argument
and giving expected versus received ("z: expected shape (2, 12), but got (2, 8)"), and copy what the kernels refuse
but the boundary accepts: a non-contiguous or byte-swapped input, copied to C order in native byte order. The NumPy
twins, which check nothing, get their arguments through here every time.
"""
import numpy as np

_FLOATS = (np.dtype(np.float32), np.dtype(np.float64))


def checked(spec, argv):
    """argv, a kernel's arguments laid out as `spec` says, after checking every one of them (TypeError or
    ValueError naming the first that is wrong); argv itself when no input had to be copied, else a new tuple with
    the copies."""
    n = len(spec.inputs)
    ref_name, ref_shape, _ = spec.inputs[spec.ref]
    dtype = _float_dtype(ref_name, argv[spec.ref])
    if spec.act is not None and argv[n] not in spec.acts:
        raise ValueError(f"{spec.act}: expected one of {', '.join(map(repr, spec.acts))}, but got {argv[n]!r}")
    dims = {}
    _check_shape(ref_name, argv[spec.ref], ref_shape, dims)           # the dimensions the others are checked against
    transposed = spec.transposes is not None and argv[-1]
    inputs = list(argv[:n])
    for k, (name, shape, optional) in enumerate(spec.inputs):
        if inputs[k] is None and optional:
            continue
        inputs[k] = _input(name, inputs[k], shape[::-1] if transposed and k == spec.transposes else shape, dtype,
                           ref_name, dims)
    first_out = n + (spec.act is not None)
    given = [(name, a) for (name, _), a in zip(spec.outputs, argv[first_out:]) if a is not None]
    callers = [(name, a) for (name, _, _), a in zip(spec.inputs, argv)]     # before any copy: what a write clobbers
    for name, out in given:
        shape = dict(spec.outputs)[name]
        _output(name, out, _sizes(shape, dims), dtype, callers + [(m, a) for m, a in given if m != name])
    if all(a is b for a, b in zip(inputs, argv)):
        return argv
    return (*inputs, *argv[n:])


def _native(dtype):
    """dtype in native byte order: float32 for '>f4' on a little-endian machine (and for float32 itself)."""
    return dtype if dtype.isnative else dtype.newbyteorder("=")


def _float_dtype(name, a):
    """The dtype (native order) of a, which must be a float32 or float64 ndarray of either byte order."""
    if not isinstance(a, np.ndarray):
        raise TypeError(f"{name}: expected a numpy.ndarray, but got {type(a).__name__}")
    dtype = _native(a.dtype)
    if dtype not in _FLOATS:
        raise TypeError(f"{name}: expected dtype float32 or float64, but got {a.dtype}")
    return dtype


def _sizes(shape, dims):
    """The sizes of `shape` with the dimensions known so far; None for one not known yet."""
    return tuple(k * dims[d] if d in dims else None for k, d in shape)


def _shape_text(shape, dims):
    """'(2, 12)' once the dimensions are known; '(*, 3)' for a partly known one; '(B, H)' before any is known."""
    if not any(d in dims for _, d in shape):
        if all(d.islower() for _, d in shape):
            return None                                   # any sizes: only the rank is asked for
        return "(" + ", ".join(("" if k == 1 else str(k)) + d for k, d in shape) + ")"
    sizes = ["*" if s is None else str(s) for s in _sizes(shape, dims)]
    return "(" + ", ".join(sizes) + ("," if len(sizes) == 1 else "") + ")"


def _check_shape(name, a, shape, dims):
    """ValueError unless a's shape fits `shape` given `dims`; then the dimensions a is the first to show go into
    dims."""
    fits = a.ndim == len(shape) and all(
        (s % k == 0) if d not in dims else s == k * dims[d] for (k, d), s in zip(shape, a.shape))
    if not fits:
        text = _shape_text(shape, dims)
        if text is None:
            raise ValueError(f"{name}: expected a {len(shape)}-D array, but got shape {tuple(a.shape)}")
        raise ValueError(f"{name}: expected shape {text}, but got {tuple(a.shape)}")
    for (k, d), s in zip(shape, a.shape):
        dims.setdefault(d, s // k)


def _input(name, a, shape, dtype, ref_name, dims):
    """a, C-contiguous and in native byte order (copied if it was not), after checking its type, dtype (that of
    the reference input, native) and shape."""
    if not isinstance(a, np.ndarray):
        raise TypeError(f"{name}: expected a numpy.ndarray, but got {type(a).__name__}")
    if _native(a.dtype) != dtype:
        raise TypeError(f"{name}: expected dtype {dtype} (the dtype of {ref_name}), but got {a.dtype}")
    _check_shape(name, a, shape, dims)
    return a if a.flags.c_contiguous and a.dtype.isnative else np.ascontiguousarray(a, dtype)


def _output(name, out, shape, dtype, others):
    """Check a caller's output: right dtype (native byte order) and shape, C-contiguous, writeable, sharing no memory
    with the arrays in `others`, (name, array) pairs: the caller's inputs and the other outputs."""
    if not isinstance(out, np.ndarray):
        raise TypeError(f"{name}: expected a numpy.ndarray, but got {type(out).__name__}")
    if out.dtype != dtype or out.shape != shape:
        raise ValueError(f"{name}: expected a {dtype} array of shape {shape}, but got a {out.dtype} array of "
                         f"shape {out.shape}")
    if not out.flags.writeable:
        raise ValueError(f"{name}: expected a writeable array, but got a read-only one")
    if not out.flags.c_contiguous:
        raise ValueError(f"{name}: expected a C-contiguous array, but got a non-contiguous one")
    for other, a in others:
        if isinstance(a, np.ndarray) and np.may_share_memory(out, a):
            raise ValueError(f"{name}: expected an array that shares no memory with the inputs or the other outputs, "
                             f"but it overlaps {other}")
