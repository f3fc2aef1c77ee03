"""The kernel boundary: picks the kernels once, checks every array, allocates the outputs.

The Cython kernels (`_kernels/`) are used when built; `TINYGRAD_RNN_BACKEND=numpy` selects their pure-NumPy twins
(`_reference.py`, `_reference_gates.py`), which have the same signatures. Kernels trust their inputs, so this module
is where wrong dtypes, shapes, non-contiguous inputs (copied) and read-only outputs are caught, with a message that
names the argument and gives expected versus received.
"""
import os
import warnings

import numpy as np

from . import _reference, _reference_gates

ACTIVATIONS = ("identity", "sigmoid", "tanh", "hard_sigmoid")
GATE_ACTIVATIONS = ("sigmoid", "hard_sigmoid")
_FLOATS = (np.dtype(np.float32), np.dtype(np.float64))


def _load():
    """(name, linear module, gates module), chosen once from TINYGRAD_RNN_BACKEND."""
    choice = os.environ.get("TINYGRAD_RNN_BACKEND", "").strip().lower() or "cython"
    if choice not in ("cython", "numpy"):
        raise ValueError(f"TINYGRAD_RNN_BACKEND: expected 'cython' or 'numpy', but got {choice!r}")
    if choice == "cython":
        try:
            from ._kernels import gates, linear
            return "cython", linear, gates
        except ImportError as err:
            warnings.warn(f"tinygrad_rnn: the Cython kernels are not built ({err}); falling back to the slower NumPy "
                          "twins. Build them with `pip install -e .` from the project root (needs a C compiler), or "
                          "set TINYGRAD_RNN_BACKEND=numpy to silence this warning.", RuntimeWarning, stacklevel=2)
    return "numpy", _reference, _reference_gates


BACKEND, _linear, _gates = _load()


# ---- checks --------------------------------------------------------------------------------------------------

def _float_array(name, a):
    """The dtype of a, which must be a float32 or float64 ndarray."""
    if not isinstance(a, np.ndarray):
        raise TypeError(f"{name}: expected a numpy.ndarray, but got {type(a).__name__}")
    if a.dtype not in _FLOATS:
        raise TypeError(f"{name}: expected dtype float32 or float64, but got {a.dtype}")
    return a.dtype


def _shape_text(shape):
    return "(" + ", ".join("*" if s is None else str(s) for s in shape) + ("," if len(shape) == 1 else "") + ")"


def _arg(name, a, shape, dtype, first):
    """a, C-contiguous (copied if it was not), after checking its type, dtype (that of `first`) and shape."""
    if not isinstance(a, np.ndarray):
        raise TypeError(f"{name}: expected a numpy.ndarray, but got {type(a).__name__}")
    if a.dtype != dtype:
        raise TypeError(f"{name}: expected dtype {dtype} (the dtype of {first}), but got {a.dtype}")
    if a.ndim != len(shape) or any(s is not None and s != n for s, n in zip(shape, a.shape)):
        raise ValueError(f"{name}: expected shape {_shape_text(shape)}, but got {tuple(a.shape)}")
    return a if a.flags.c_contiguous else np.ascontiguousarray(a)


def _out(name, out, shape, dtype, inputs):
    """Allocate an output, or check a caller's: right dtype and shape, C-contiguous, writeable, aliasing no input."""
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
    if any(a is not None and np.may_share_memory(out, a) for a in inputs):
        raise ValueError(f"{name}: expected an array that shares no memory with the inputs, but it overlaps one")
    return out


def _act(name, act, allowed):
    if act not in allowed:
        raise ValueError(f"{name}: expected one of {', '.join(map(repr, allowed))}, but got {act!r}")
    return act


def _grad_or_zeros(name, g, shape, dtype, first):
    return np.zeros(shape, dtype) if g is None else _arg(name, g, shape, dtype, first)


def _batch_hidden(name, a, gates):
    """(B, H) from a (B, gates·H) array, checking the width divides."""
    dtype = _float_array(name, a)
    if a.ndim != 2 or a.shape[1] % gates:
        raise ValueError(f"{name}: expected shape (B, {gates}*H), but got {tuple(a.shape)}")
    return a.shape[0], a.shape[1] // gates, dtype


# ---- linear + activation -------------------------------------------------------------------------------------

def linear_act_forward(x, weight, bias=None, act="identity", out=None):
    """y = act(x @ Wᵀ + b): x (B, I), W (O, I), b (O,) or None → y (B, O)"""
    dtype = _float_array("x", x)
    _act("act", act, ACTIVATIONS)
    if x.ndim != 2:
        raise ValueError(f"x: expected shape (B, I), but got {tuple(x.shape)}")
    x = _arg("x", x, (None, None), dtype, "x")
    weight = _arg("weight", weight, (None, x.shape[1]), dtype, "x")
    if bias is not None:
        bias = _arg("bias", bias, (weight.shape[0],), dtype, "x")
    y = _out("out", out, (x.shape[0], weight.shape[0]), dtype, (x, weight, bias))
    _linear.linear_act_forward(x, weight, bias, act, y)
    return y


def linear_act_backward(x, weight, y, dy, act="identity", need_dx=True, need_dW=True, need_db=True):
    """dz = dy⊙act'(y) → (dx = dz @ W, dW = dzᵀ @ x, db = Σ_b dz), None for what is not needed"""
    dtype = _float_array("x", x)
    _act("act", act, ACTIVATIONS)
    x = _arg("x", x, (None, None), dtype, "x")
    B, I = x.shape
    weight = _arg("weight", weight, (None, I), dtype, "x")
    O = weight.shape[0]
    y = _arg("y", y, (B, O), dtype, "x")
    dy = _arg("dy", dy, (B, O), dtype, "x")
    dx = np.empty((B, I), dtype) if need_dx else None
    dw = np.empty((O, I), dtype) if need_dW else None
    db = np.empty((O,), dtype) if need_db else None
    _linear.linear_act_backward(x, weight, y, dy, act, dx, dw, db)
    return dx, dw, db


# ---- LSTM and peephole LSTM gates ----------------------------------------------------------------------------

def lstm_gates_forward(z, c_prev, act="sigmoid"):
    """z (B, 4H) pre-activations, c_prev (B, H) → gates [i, f, g, o] (B, 4H), c, h (B, H)"""
    B, H, dtype = _batch_hidden("z", z, 4)
    _act("act", act, GATE_ACTIVATIONS)
    z = _arg("z", z, (B, 4 * H), dtype, "z")
    c_prev = _arg("c_prev", c_prev, (B, H), dtype, "z")
    gates, c, h = np.empty((B, 4 * H), dtype), np.empty((B, H), dtype), np.empty((B, H), dtype)
    _gates.lstm_gates_forward(z, c_prev, act, gates, c, h)
    return gates, c, h


def lstm_gates_backward(gates, c_prev, c, dh, dc, act="sigmoid"):
    """∂L/∂h, ∂L/∂c (None: zero) → (∂L/∂z (B, 4H), ∂L/∂c_prev (B, H))"""
    B, H, dtype = _batch_hidden("gates", gates, 4)
    _act("act", act, GATE_ACTIVATIONS)
    gates = _arg("gates", gates, (B, 4 * H), dtype, "gates")
    c_prev, c = (_arg(n, a, (B, H), dtype, "gates") for n, a in (("c_prev", c_prev), ("c", c)))
    dh = _grad_or_zeros("dh", dh, (B, H), dtype, "gates")
    dc = _grad_or_zeros("dc", dc, (B, H), dtype, "gates")
    dz, dc_prev = np.empty((B, 4 * H), dtype), np.empty((B, H), dtype)
    _gates.lstm_gates_backward(gates, c_prev, c, dh, dc, act, dz, dc_prev)
    return dz, dc_prev


def _peepholes(w_ci, w_cf, w_co, H, dtype, first):
    return [_arg(n, w, (H,), dtype, first) for n, w in (("w_ci", w_ci), ("w_cf", w_cf), ("w_co", w_co))]


def peephole_gates_forward(z, c_prev, w_ci, w_cf, w_co, act="sigmoid"):
    """z (B, 4H), c_prev (B, H), peephole weights (H,) → gates [i, f, g, o] (B, 4H), c, h (B, H)"""
    B, H, dtype = _batch_hidden("z", z, 4)
    _act("act", act, GATE_ACTIVATIONS)
    z = _arg("z", z, (B, 4 * H), dtype, "z")
    c_prev = _arg("c_prev", c_prev, (B, H), dtype, "z")
    w_ci, w_cf, w_co = _peepholes(w_ci, w_cf, w_co, H, dtype, "z")
    gates, c, h = np.empty((B, 4 * H), dtype), np.empty((B, H), dtype), np.empty((B, H), dtype)
    _gates.peephole_gates_forward(z, c_prev, w_ci, w_cf, w_co, act, gates, c, h)
    return gates, c, h


def peephole_gates_backward(gates, c_prev, c, w_ci, w_cf, w_co, dh, dc, act="sigmoid"):
    """→ (∂L/∂z (B, 4H), ∂L/∂c_prev (B, H), ∂L/∂w_ci, ∂L/∂w_cf, ∂L/∂w_co (H,))"""
    B, H, dtype = _batch_hidden("gates", gates, 4)
    _act("act", act, GATE_ACTIVATIONS)
    gates = _arg("gates", gates, (B, 4 * H), dtype, "gates")
    c_prev, c = (_arg(n, a, (B, H), dtype, "gates") for n, a in (("c_prev", c_prev), ("c", c)))
    w_ci, w_cf, w_co = _peepholes(w_ci, w_cf, w_co, H, dtype, "gates")
    dh = _grad_or_zeros("dh", dh, (B, H), dtype, "gates")
    dc = _grad_or_zeros("dc", dc, (B, H), dtype, "gates")
    dz, dc_prev = np.empty((B, 4 * H), dtype), np.empty((B, H), dtype)
    dw = [np.empty((H,), dtype) for _ in range(3)]
    _gates.peephole_gates_backward(gates, c_prev, c, w_ci, w_cf, w_co, dh, dc, act, dz, dc_prev, *dw)
    return (dz, dc_prev, *dw)


# ---- GRU gates -----------------------------------------------------------------------------------------------

def gru_gates_forward(xp, hp, h_prev, act="sigmoid"):
    """reset-after GRU: xp = W_ih x + b_ih, hp = W_hh h_prev + b_hh (B, 3H) → gates [r, z, n] (B, 3H), h (B, H)"""
    B, H, dtype = _batch_hidden("xp", xp, 3)
    _act("act", act, GATE_ACTIVATIONS)
    xp = _arg("xp", xp, (B, 3 * H), dtype, "xp")
    hp = _arg("hp", hp, (B, 3 * H), dtype, "xp")
    h_prev = _arg("h_prev", h_prev, (B, H), dtype, "xp")
    gates, h = np.empty((B, 3 * H), dtype), np.empty((B, H), dtype)
    _gates.gru_gates_forward(xp, hp, h_prev, act, gates, h)
    return gates, h


def gru_gates_backward(gates, hp, h_prev, dh, act="sigmoid"):
    """→ (∂L/∂xp, ∂L/∂hp (B, 3H), ∂L/∂h_prev (B, H) not counting the path through hp)"""
    B, H, dtype = _batch_hidden("gates", gates, 3)
    _act("act", act, GATE_ACTIVATIONS)
    gates = _arg("gates", gates, (B, 3 * H), dtype, "gates")
    hp = _arg("hp", hp, (B, 3 * H), dtype, "gates")
    h_prev = _arg("h_prev", h_prev, (B, H), dtype, "gates")
    dh = _grad_or_zeros("dh", dh, (B, H), dtype, "gates")
    dxp, dhp, dh_prev = np.empty((B, 3 * H), dtype), np.empty((B, 3 * H), dtype), np.empty((B, H), dtype)
    _gates.gru_gates_backward(gates, hp, h_prev, dh, act, dxp, dhp, dh_prev)
    return dxp, dhp, dh_prev


def gru_cho_reset_forward(xp, hp_rz, h_prev, act="sigmoid"):
    """Cho GRU, first half: xp (B, 3H), hp_rz = W_hr,hz h_prev (B, 2H) → gates [r, z] (B, 2H), r⊙h_prev (B, H)"""
    B, H, dtype = _batch_hidden("xp", xp, 3)
    _act("act", act, GATE_ACTIVATIONS)
    xp = _arg("xp", xp, (B, 3 * H), dtype, "xp")
    hp_rz = _arg("hp_rz", hp_rz, (B, 2 * H), dtype, "xp")
    h_prev = _arg("h_prev", h_prev, (B, H), dtype, "xp")
    gates_rz, rh = np.empty((B, 2 * H), dtype), np.empty((B, H), dtype)
    _gates.gru_cho_reset_forward(xp, hp_rz, h_prev, act, gates_rz, rh)
    return gates_rz, rh


def gru_cho_update_forward(xp, hn, gates_rz, h_prev):
    """Cho GRU, second half: hn = W_hn (r⊙h_prev) (B, H) → n = tanh(xp_n + hn), h = (1−z)⊙n + z⊙h_prev"""
    B, H, dtype = _batch_hidden("xp", xp, 3)
    xp = _arg("xp", xp, (B, 3 * H), dtype, "xp")
    hn = _arg("hn", hn, (B, H), dtype, "xp")
    gates_rz = _arg("gates_rz", gates_rz, (B, 2 * H), dtype, "xp")
    h_prev = _arg("h_prev", h_prev, (B, H), dtype, "xp")
    n, h = np.empty((B, H), dtype), np.empty((B, H), dtype)
    _gates.gru_cho_update_forward(xp, hn, gates_rz, h_prev, n, h)
    return n, h


def gru_cho_update_backward(gates_rz, n, h_prev, dh, act="sigmoid"):
    """→ (∂L/∂z_pre, ∂L/∂n_pre, ∂L/∂h_prev through z⊙h_prev), each (B, H)"""
    B, H, dtype = _batch_hidden("gates_rz", gates_rz, 2)
    _act("act", act, GATE_ACTIVATIONS)
    gates_rz = _arg("gates_rz", gates_rz, (B, 2 * H), dtype, "gates_rz")
    n, h_prev = (_arg(name, a, (B, H), dtype, "gates_rz") for name, a in (("n", n), ("h_prev", h_prev)))
    dh = _grad_or_zeros("dh", dh, (B, H), dtype, "gates_rz")
    dz_pre, dn_pre, dh_prev = (np.empty((B, H), dtype) for _ in range(3))
    _gates.gru_cho_update_backward(gates_rz, n, h_prev, dh, act, dz_pre, dn_pre, dh_prev)
    return dz_pre, dn_pre, dh_prev


def gru_cho_reset_backward(gates_rz, h_prev, d_rh, act="sigmoid"):
    """d_rh = ∂L/∂(r⊙h_prev) (B, H) → (∂L/∂r_pre, ∂L/∂h_prev through r⊙h_prev)"""
    B, H, dtype = _batch_hidden("gates_rz", gates_rz, 2)
    _act("act", act, GATE_ACTIVATIONS)
    gates_rz = _arg("gates_rz", gates_rz, (B, 2 * H), dtype, "gates_rz")
    h_prev, d_rh = (_arg(name, a, (B, H), dtype, "gates_rz") for name, a in (("h_prev", h_prev), ("d_rh", d_rh)))
    dr_pre, dh_prev = np.empty((B, H), dtype), np.empty((B, H), dtype)
    _gates.gru_cho_reset_backward(gates_rz, h_prev, d_rh, act, dr_pre, dh_prev)
    return dr_pre, dh_prev
