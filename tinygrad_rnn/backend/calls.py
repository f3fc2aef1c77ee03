"""The kernel boundary: picks the kernels once, checks every array, allocates the outputs.

The Cython kernels (`_kernels/`) are used when built; `TINYGRAD_RNN_BACKEND=numpy` selects their pure-NumPy twins
(`numpy_twins.py`), which have the same signatures. Kernels trust their inputs, so this module
is where wrong dtypes, shapes, non-contiguous or byte-swapped inputs (copied to native C order), read-only outputs
and outputs sharing memory with an input or another output are caught, with a message that names the argument and
gives expected versus received. (The Cython entry points check the same themselves and refuse what this module
would copy; a wrapper calls the kernel first and runs these checks only when it refuses.)
"""
import contextlib
import functools
import os
import warnings

import numpy as np

from . import blas, numpy_twins

ACTIVATIONS = ("identity", "sigmoid", "tanh", "hard_sigmoid")
GATE_ACTIVATIONS = ("sigmoid", "hard_sigmoid")
_FLOATS = (np.dtype(np.float32), np.dtype(np.float64))


def _load():
    """(name, linear module, gates module, steps module), chosen once from TINYGRAD_RNN_BACKEND."""
    choice = os.environ.get("TINYGRAD_RNN_BACKEND", "").strip().lower() or "cython"
    if choice not in ("cython", "numpy"):
        raise ValueError(f"TINYGRAD_RNN_BACKEND: expected 'cython' or 'numpy', but got {choice!r}")
    if choice == "cython":
        try:
            from ._kernels import _blas, gates, linear, steps
            global KERNEL_BLAS
            KERNEL_BLAS = blas.choose(_blas)
            return "cython", linear, gates, steps
        except ImportError as err:
            warnings.warn(f"tinygrad_rnn: the Cython kernels are not built ({err}); falling back to the slower NumPy "
                          "twins. Build them with `pip install -e .` from the project root (needs a C compiler), or "
                          "set TINYGRAD_RNN_BACKEND=numpy to silence this warning.", RuntimeWarning, stacklevel=2)
    return "numpy", numpy_twins, numpy_twins, numpy_twins


KERNEL_BLAS = None   # which BLAS the kernels' GEMMs call (blas.py), once they are loaded
BACKEND, _linear, _gates, _steps = _load()
# The Cython entry points check shapes themselves (typed memoryviews check dtype, rank and contiguity), so the
# gate and step wrappers call them straight away and run the Python checks only to explain a failure.
_KERNELS_CHECK_SHAPES = BACKEND == "cython"


@contextlib.contextmanager
def use_backend(name):
    """Run a block on the "cython" kernels or their "numpy" twins (benchmarks compare both in one process)."""
    global _linear, _gates, _steps, _KERNELS_CHECK_SHAPES
    if name not in ("cython", "numpy"):
        raise ValueError(f"use_backend: expected 'cython' or 'numpy', but got {name!r}")
    saved = _linear, _gates, _steps, _KERNELS_CHECK_SHAPES
    if name == "cython":
        from ._kernels import gates, linear, steps   # ImportError when they are not built: say so, do not fake it
        _linear, _gates, _steps, _KERNELS_CHECK_SHAPES = linear, gates, steps, True
    else:
        _linear, _gates, _steps, _KERNELS_CHECK_SHAPES = numpy_twins, numpy_twins, numpy_twins, False
    try:
        yield
    finally:
        _linear, _gates, _steps, _KERNELS_CHECK_SHAPES = saved


# ---- checks --------------------------------------------------------------------------------------------------

def _native(dtype):
    """dtype in native byte order: float32 for '>f4' on a little-endian machine (and for float32 itself)."""
    return dtype if dtype.isnative else dtype.newbyteorder("=")


def _float_array(name, a):
    """The dtype of a, which must be a float32 or float64 ndarray (of either byte order: the native one is
    returned, and _arg copies a byte-swapped array to it)."""
    if not isinstance(a, np.ndarray):
        raise TypeError(f"{name}: expected a numpy.ndarray, but got {type(a).__name__}")
    dtype = _native(a.dtype)
    if dtype not in _FLOATS:
        raise TypeError(f"{name}: expected dtype float32 or float64, but got {a.dtype}")
    return dtype


def _shape_text(shape):
    return "(" + ", ".join("*" if s is None else str(s) for s in shape) + ("," if len(shape) == 1 else "") + ")"


def _arg(name, a, shape, dtype, first):
    """a, C-contiguous and in native byte order (copied if it was not), after checking its type, dtype (that of
    `first`, native) and shape."""
    if not isinstance(a, np.ndarray):
        raise TypeError(f"{name}: expected a numpy.ndarray, but got {type(a).__name__}")
    if _native(a.dtype) != dtype:
        raise TypeError(f"{name}: expected dtype {dtype} (the dtype of {first}), but got {a.dtype}")
    if a.ndim != len(shape) or any(s is not None and s != n for s, n in zip(shape, a.shape)):
        raise ValueError(f"{name}: expected shape {_shape_text(shape)}, but got {tuple(a.shape)}")
    return a if a.flags.c_contiguous and a.dtype.isnative else np.ascontiguousarray(a, dtype)


def _out(name, out, shape, dtype, others):
    """Allocate an output, or check a caller's: right dtype (native byte order) and shape, C-contiguous, writeable,
    sharing no memory with the arrays in `others`, (name, array) pairs: the caller's inputs, before any copy (those
    are what a write would clobber), and the other outputs."""
    if out is None:
        return np.empty(shape, dtype)
    if not isinstance(out, np.ndarray):
        raise TypeError(f"{name}: expected a numpy.ndarray, but got {type(out).__name__}")
    if out.dtype != dtype or out.shape != tuple(shape):
        raise ValueError(f"{name}: expected a {dtype} array of shape {tuple(shape)}, but got a {out.dtype} array of "
                         f"shape {out.shape}")
    if not out.flags.writeable:
        raise ValueError(f"{name}: expected a writeable array, but got a read-only one")
    if not out.flags.c_contiguous:
        raise ValueError(f"{name}: expected a C-contiguous array, but got a non-contiguous one")
    for other, a in others:
        if isinstance(a, np.ndarray) and np.may_share_memory(out, a):
            raise ValueError(f"{name}: expected an array that shares no memory with the inputs or the other outputs, "
                             f"but it overlaps {other}")
    return out


def _act(name, act, allowed):
    if act not in allowed:
        raise ValueError(f"{name}: expected one of {', '.join(map(repr, allowed))}, but got {act!r}")
    return act


# ---- linear + activation -------------------------------------------------------------------------------------

def linear_act_forward(x, weight, bias=None, act="identity", out=None):
    """y = act(x @ Wᵀ + b): x (B, I), W (O, I), b (O,) or None → y (B, O)"""
    if _KERNELS_CHECK_SHAPES and out is None:
        try:
            return _linear.linear_act_forward(x, weight, bias, act)
        except (AttributeError, TypeError, ValueError):
            pass                     # the checks below name what is wrong, or copy what was not contiguous
    dtype = _float_array("x", x)
    _act("act", act, ACTIVATIONS)
    if x.ndim != 2:
        raise ValueError(f"x: expected shape (B, I), but got {tuple(x.shape)}")
    given = (("x", x), ("weight", weight), ("bias", bias))     # the caller's arrays, which out must not overlap
    x = _arg("x", x, (None, None), dtype, "x")
    weight = _arg("weight", weight, (None, x.shape[1]), dtype, "x")
    if bias is not None:
        bias = _arg("bias", bias, (weight.shape[0],), dtype, "x")
    y = _out("out", out, (x.shape[0], weight.shape[0]), dtype, given)
    _linear.linear_act_forward(x, weight, bias, act, y)
    return y


def linear_act_backward(x, weight, y, dy, act="identity", need_dx=True, need_dW=True, need_db=True):
    """dz = dy⊙act'(y) → (dx = dz @ W, dW = dzᵀ @ x, db = Σ_b dz), None for what is not needed"""
    if _KERNELS_CHECK_SHAPES:
        try:
            B, I, O, dtype = x.shape[0], x.shape[1], weight.shape[0], x.dtype
            grads = (np.empty((B, I), dtype) if need_dx else None, np.empty((O, I), dtype) if need_dW else None,
                     np.empty((O,), dtype) if need_db else None)
            _linear.linear_act_backward(x, weight, y, dy, act, *grads)
            return grads
        except (AttributeError, IndexError, TypeError, ValueError):
            pass
    dtype = _float_array("x", x)
    _act("act", act, ACTIVATIONS)
    x = _arg("x", x, (None, None), dtype, "x")
    B, I = x.shape
    weight = _arg("weight", weight, (None, I), dtype, "x")
    O = weight.shape[0]
    y = _arg("y", y, (B, O), dtype, "x")
    dy = _arg("dy", dy, (B, O), dtype, "x")
    grads = (np.empty((B, I), dtype) if need_dx else None, np.empty((O, I), dtype) if need_dW else None,
             np.empty((O,), dtype) if need_db else None)
    _linear.linear_act_backward(x, weight, y, dy, act, *grads)
    return grads


# ---- gate and step kernels -----------------------------------------------------------------------------------
# A kernel's arrays are described by shapes in terms of (B, H), read from one reference argument of shape (B, H).

def _bh(B, H):
    return B, H


def _b2h(B, H):
    return B, 2 * H


def _b3h(B, H):
    return B, 3 * H


def _b4h(B, H):
    return B, 4 * H


def _h(B, H):
    return (H,)


def _3h(B, H):
    return (3 * H,)


def _w3(B, H):
    return 3 * H, H


def _w4(B, H):
    return 4 * H, H


def _transposed(shape):
    """The shape of a weight given transposed: (H, G·H) for (G·H, H)."""
    return lambda B, H: shape(B, H)[::-1]


def _step_kernel(kernel, transposed):
    """The step kernel, told that w_hh comes transposed (the fallback path passes arguments by position)."""
    return functools.partial(kernel, transposed=True) if transposed else kernel


_OPTIONAL = frozenset({"dh", "dc", "b_hh"})   # None allowed: a zero upstream gradient, or no bias


def _call(kernel, names, shapes, ref, args, act, allowed, out_shapes=None, given=None):
    """kernel(*args, [act,] *outs) → its outputs as a tuple. names/shapes describe args; args[ref] is (B, H);
    `allowed` lists the valid act names (None: the kernel takes no act). out_shapes=None: a step kernel, which
    allocates and returns its outputs itself; otherwise the outputs are allocated here and passed in."""
    acts = () if allowed is None else (act,)
    if _KERNELS_CHECK_SHAPES and out_shapes is not None:     # (step kernels were tried by their wrapper)
        try:
            B, H = args[ref].shape
            outs = tuple(np.empty(shape(B, H), args[ref].dtype) for shape in out_shapes)
            kernel(*args, *acts, *outs)
            return outs
        except (AttributeError, TypeError, ValueError):
            pass                     # the checks below name what is wrong, or copy what was not contiguous
    first = names[ref]
    dtype = _float_array(first, args[ref])
    if args[ref].ndim != 2:
        raise ValueError(f"{first}: expected shape (B, H), but got {tuple(args[ref].shape)}")
    B, H = args[ref].shape
    if allowed is not None:
        _act("nonlinearity" if "tanh" in allowed else "act", act, allowed)
    checked = [a if a is None and name in _OPTIONAL else _arg(name, a, shape(B, H), dtype, first)
               for name, shape, a in zip(names, shapes, args)]
    if given:                                    # a step kernel's caller-given outputs: name -> (array, shape)
        outs = {name: a for name, (a, _) in given.items() if a is not None}
        kernel = functools.partial(kernel, **{
            name: _out(name, a, given[name][1](B, H), dtype,
                       [*zip(names, args), *((n, o) for n, o in outs.items() if n != name)])
            for name, a in outs.items()})
    if out_shapes is None:
        return kernel(*checked, *acts)
    outs = tuple(np.empty(shape(B, H), dtype) for shape in out_shapes)
    kernel(*checked, *acts, *outs)
    return outs


# LSTM and peephole LSTM: gate order i, f, g, o; `act` is the gate activation.

def lstm_gates_forward(z, c_prev, act="sigmoid"):
    """z (B, 4H) pre-activations, c_prev (B, H) → gates [i, f, g, o] (B, 4H), c, h (B, H)"""
    return _call(_gates.lstm_gates_forward, ("z", "c_prev"), (_b4h, _bh), 1, (z, c_prev), act, GATE_ACTIVATIONS,
                 (_b4h, _bh, _bh))


def lstm_gates_backward(gates, c_prev, c, dh, dc, act="sigmoid"):
    """∂L/∂h, ∂L/∂c (None: zero) → (∂L/∂z (B, 4H), ∂L/∂c_prev (B, H))"""
    return _call(_gates.lstm_gates_backward, ("gates", "c_prev", "c", "dh", "dc"), (_b4h, _bh, _bh, _bh, _bh), 1,
                 (gates, c_prev, c, dh, dc), act, GATE_ACTIVATIONS, (_b4h, _bh))


def lstm_step_forward(xp, h_prev, c_prev, w_hh, act="sigmoid", transposed=False, gates=None, c=None, h=None):
    """z = xp + h_prev @ W_hhᵀ, then the LSTM gates → gates (B, 4H), c, h (B, H): one kernel call.
    transposed: w_hh is given as W_hhᵀ (H, 4H), which BLAS multiplies faster (a Scan makes it once).
    gates, c, h: arrays to write the outputs into (None: new ones)."""
    if _KERNELS_CHECK_SHAPES:                     # the kernel checks its arguments: try it first
        try:
            return _steps.lstm_step_forward(xp, h_prev, c_prev, w_hh, act, gates, c, h, transposed)
        except (TypeError, ValueError):
            pass
    w = _transposed(_w4) if transposed else _w4
    return _call(_step_kernel(_steps.lstm_step_forward, transposed), ("xp", "h_prev", "c_prev", "w_hh"),
                 (_b4h, _bh, _bh, w), 1, (xp, h_prev, c_prev, w_hh), act, GATE_ACTIVATIONS,
                 given={"gates": (gates, _b4h), "c": (c, _bh), "h": (h, _bh)})


def lstm_step_backward(gates, c_prev, c, w_hh, dh, dc, act="sigmoid", dz=None):
    """→ (∂L/∂z (B, 4H), ∂L/∂c_prev, ∂L/∂h_prev = ∂L/∂z @ W_hh (B, H)); dz: where ∂L/∂z goes (None: a new array)"""
    if _KERNELS_CHECK_SHAPES:                     # the kernel checks its arguments: try it first
        try:
            return _steps.lstm_step_backward(gates, c_prev, c, w_hh, dh, dc, act, dz)
        except (TypeError, ValueError):
            pass
    return _call(_steps.lstm_step_backward, ("gates", "c_prev", "c", "w_hh", "dh", "dc"),
                 (_b4h, _bh, _bh, _w4, _bh, _bh), 1, (gates, c_prev, c, w_hh, dh, dc), act, GATE_ACTIVATIONS,
                 given={"dz": (dz, _b4h)})


def peephole_gates_forward(z, c_prev, w_ci, w_cf, w_co, act="sigmoid"):
    """z (B, 4H), c_prev (B, H), peephole weights (H,) → gates [i, f, g, o] (B, 4H), c, h (B, H)"""
    return _call(_gates.peephole_gates_forward, ("z", "c_prev", "w_ci", "w_cf", "w_co"), (_b4h, _bh, _h, _h, _h),
                 1, (z, c_prev, w_ci, w_cf, w_co), act, GATE_ACTIVATIONS, (_b4h, _bh, _bh))


def peephole_gates_backward(gates, c_prev, c, w_ci, w_cf, w_co, dh, dc, act="sigmoid"):
    """→ (∂L/∂z (B, 4H), ∂L/∂c_prev (B, H), ∂L/∂w_ci, ∂L/∂w_cf, ∂L/∂w_co (H,))"""
    return _call(_gates.peephole_gates_backward, ("gates", "c_prev", "c", "w_ci", "w_cf", "w_co", "dh", "dc"),
                 (_b4h, _bh, _bh, _h, _h, _h, _bh, _bh), 1, (gates, c_prev, c, w_ci, w_cf, w_co, dh, dc), act,
                 GATE_ACTIVATIONS, (_b4h, _bh, _h, _h, _h))


def peephole_step_forward(xp, h_prev, c_prev, w_hh, w_ci, w_cf, w_co, act="sigmoid", transposed=False, gates=None,
                          c=None, h=None):
    """z = xp + h_prev @ W_hhᵀ, then the peephole gates → gates (B, 4H), c, h (B, H): one kernel call
    (transposed: w_hh given as W_hhᵀ, as lstm_step_forward)"""
    if _KERNELS_CHECK_SHAPES:                     # the kernel checks its arguments: try it first
        try:
            return _steps.peephole_step_forward(xp, h_prev, c_prev, w_hh, w_ci, w_cf, w_co, act, gates, c, h,
                                                transposed)
        except (TypeError, ValueError):
            pass
    w = _transposed(_w4) if transposed else _w4
    return _call(_step_kernel(_steps.peephole_step_forward, transposed),
                 ("xp", "h_prev", "c_prev", "w_hh", "w_ci", "w_cf", "w_co"), (_b4h, _bh, _bh, w, _h, _h, _h), 1,
                 (xp, h_prev, c_prev, w_hh, w_ci, w_cf, w_co), act, GATE_ACTIVATIONS,
                 given={"gates": (gates, _b4h), "c": (c, _bh), "h": (h, _bh)})


def peephole_step_backward(gates, c_prev, c, w_hh, w_ci, w_cf, w_co, dh, dc, act="sigmoid", dz=None):
    """→ (∂L/∂z (B, 4H), ∂L/∂c_prev, ∂L/∂h_prev (B, H), ∂L/∂w_ci, ∂L/∂w_cf, ∂L/∂w_co (H,)); dz as lstm's"""
    if _KERNELS_CHECK_SHAPES:                     # the kernel checks its arguments: try it first
        try:
            return _steps.peephole_step_backward(gates, c_prev, c, w_hh, w_ci, w_cf, w_co, dh, dc, act, dz)
        except (TypeError, ValueError):
            pass
    return _call(_steps.peephole_step_backward,
                 ("gates", "c_prev", "c", "w_hh", "w_ci", "w_cf", "w_co", "dh", "dc"),
                 (_b4h, _bh, _bh, _w4, _h, _h, _h, _bh, _bh), 1, (gates, c_prev, c, w_hh, w_ci, w_cf, w_co, dh, dc),
                 act, GATE_ACTIVATIONS, given={"dz": (dz, _b4h)})


# GRU: gate order r, z, n. Reset-after (PyTorch's) in one kernel; Cho et al. 2014 in two halves around W_hn.

def gru_gates_forward(xp, hp, h_prev, act="sigmoid"):
    """reset-after GRU: xp = W_ih x + b_ih, hp = W_hh h_prev + b_hh (B, 3H) → gates [r, z, n] (B, 3H), h (B, H)"""
    return _call(_gates.gru_gates_forward, ("xp", "hp", "h_prev"), (_b3h, _b3h, _bh), 2, (xp, hp, h_prev), act,
                 GATE_ACTIVATIONS, (_b3h, _bh))


def gru_gates_backward(gates, hp, h_prev, dh, act="sigmoid"):
    """→ (∂L/∂xp, ∂L/∂hp (B, 3H), ∂L/∂h_prev (B, H) not counting the path through hp)"""
    return _call(_gates.gru_gates_backward, ("gates", "hp", "h_prev", "dh"), (_b3h, _b3h, _bh, _bh), 2,
                 (gates, hp, h_prev, dh), act, GATE_ACTIVATIONS, (_b3h, _b3h, _bh))


def gru_step_forward(xp, h_prev, w_hh, b_hh=None, act="sigmoid", transposed=False, hp=None, gates=None, h=None):
    """hp = h_prev @ W_hhᵀ + b_hh, then the reset-after gates → hp, gates (B, 3H), h (B, H): one kernel call
    (transposed: w_hh given as W_hhᵀ, as lstm_step_forward)"""
    if _KERNELS_CHECK_SHAPES:                     # the kernel checks its arguments: try it first
        try:
            return _steps.gru_step_forward(xp, h_prev, w_hh, b_hh, act, hp, gates, h, transposed)
        except (TypeError, ValueError):
            pass
    w = _transposed(_w3) if transposed else _w3
    return _call(_step_kernel(_steps.gru_step_forward, transposed), ("xp", "h_prev", "w_hh", "b_hh"),
                 (_b3h, _bh, w, _3h), 1, (xp, h_prev, w_hh, b_hh), act, GATE_ACTIVATIONS,
                 given={"hp": (hp, _b3h), "gates": (gates, _b3h), "h": (h, _bh)})


def gru_step_backward(gates, hp, h_prev, w_hh, dh, act="sigmoid", dxp=None):
    """→ (∂L/∂xp, ∂L/∂hp (B, 3H), ∂L/∂h_prev = dh⊙z + ∂L/∂hp @ W_hh (B, H)); dxp: where ∂L/∂xp goes"""
    if _KERNELS_CHECK_SHAPES:                     # the kernel checks its arguments: try it first
        try:
            return _steps.gru_step_backward(gates, hp, h_prev, w_hh, dh, act, dxp)
        except (TypeError, ValueError):
            pass
    return _call(_steps.gru_step_backward, ("gates", "hp", "h_prev", "w_hh", "dh"), (_b3h, _b3h, _bh, _w3, _bh), 2,
                 (gates, hp, h_prev, w_hh, dh), act, GATE_ACTIVATIONS, given={"dxp": (dxp, _b3h)})


def gru_cho_reset_forward(xp, hp_rz, h_prev, act="sigmoid"):
    """Cho GRU, first half: xp (B, 3H), hp_rz = W_hr,hz h_prev (B, 2H) → gates [r, z] (B, 2H), r⊙h_prev (B, H)"""
    return _call(_gates.gru_cho_reset_forward, ("xp", "hp_rz", "h_prev"), (_b3h, _b2h, _bh), 2, (xp, hp_rz, h_prev),
                 act, GATE_ACTIVATIONS, (_b2h, _bh))


def gru_cho_update_forward(xp, hn, gates_rz, h_prev):
    """Cho GRU, second half: hn = W_hn (r⊙h_prev) (B, H) → n = tanh(xp_n + hn), h = (1−z)⊙n + z⊙h_prev"""
    return _call(_gates.gru_cho_update_forward, ("xp", "hn", "gates_rz", "h_prev"), (_b3h, _bh, _b2h, _bh), 3,
                 (xp, hn, gates_rz, h_prev), None, None, (_bh, _bh))


def gru_cho_update_backward(gates_rz, n, h_prev, dh, act="sigmoid"):
    """→ (∂L/∂z_pre, ∂L/∂n_pre, ∂L/∂h_prev through z⊙h_prev), each (B, H)"""
    return _call(_gates.gru_cho_update_backward, ("gates_rz", "n", "h_prev", "dh"), (_b2h, _bh, _bh, _bh), 2,
                 (gates_rz, n, h_prev, _zeros_for(dh, h_prev)), act, GATE_ACTIVATIONS, (_bh, _bh, _bh))


def gru_cho_reset_backward(gates_rz, h_prev, d_rh, act="sigmoid"):
    """d_rh = ∂L/∂(r⊙h_prev) (B, H) → (∂L/∂r_pre, ∂L/∂h_prev through r⊙h_prev)"""
    return _call(_gates.gru_cho_reset_backward, ("gates_rz", "h_prev", "d_rh"), (_b2h, _bh, _bh), 1,
                 (gates_rz, h_prev, d_rh), act, GATE_ACTIVATIONS, (_bh, _bh))


def _zeros_for(g, like):
    """The Cho kernels take no None gradient: a missing one is zeros like `like` (if that is an array)."""
    return np.zeros_like(like) if g is None and isinstance(like, np.ndarray) else g


def transposed(w):
    """wᵀ (C-contiguous) of a 2-D float array: the W_hhᵀ a Scan hands its steps (see lstm_step_forward)"""
    if _KERNELS_CHECK_SHAPES:
        try:
            return _steps.transposed(w)
        except (TypeError, ValueError):
            pass
    dtype = _float_array("w", w)
    if w.ndim != 2:
        raise ValueError(f"w: expected a 2-D array, but got shape {tuple(w.shape)}")
    return _steps.transposed(np.ascontiguousarray(w, dtype))


# Vanilla RNN: act tanh or relu.

def rnn_step_forward(xp, h_prev, w_hh, nonlinearity="tanh", transposed=False, h=None):
    """h = act(xp + h_prev @ W_hhᵀ) (B, H): one kernel call (transposed: w_hh given as W_hhᵀ)"""
    if _KERNELS_CHECK_SHAPES:                     # the kernel checks its arguments: try it first
        try:
            return _steps.rnn_step_forward(xp, h_prev, w_hh, nonlinearity, h, transposed)
        except (TypeError, ValueError):
            pass
    return _call(_step_kernel(_steps.rnn_step_forward, transposed), ("xp", "h_prev", "w_hh"), (_bh, _bh, _w1), 1,
                 (xp, h_prev, w_hh), nonlinearity, ("tanh", "relu"), given={"h": (h, _bh)})


def rnn_step_backward(h, w_hh, dh, nonlinearity="tanh", dz=None):
    """→ (∂L/∂z = dh⊙act'(h), ∂L/∂h_prev = ∂L/∂z @ W_hh), each (B, H); dz: where ∂L/∂z goes (None: new)"""
    if _KERNELS_CHECK_SHAPES:                     # the kernel checks its arguments: try it first
        try:
            return _steps.rnn_step_backward(h, w_hh, dh, nonlinearity, dz)
        except (TypeError, ValueError):
            pass
    return _call(_steps.rnn_step_backward, ("h", "w_hh", "dh"), (_bh, _w1, _bh), 0, (h, w_hh, dh),
                 nonlinearity, ("tanh", "relu"), given={"dz": (dz, _bh)})


def _w1(B, H):
    return H, H
