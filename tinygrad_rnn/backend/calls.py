"""The kernel boundary: which kernels run, and one checked call for all of them.

The Cython kernels (`_kernels/`) are used when built; `TINYGRAD_RNN_BACKEND=numpy` selects their pure-NumPy twins
(`numpy_twins.py`), which have the same signatures. `call(name, *arguments)` runs kernel `name`: a Cython kernel
checks every array itself, so it is called straight away, and only when it refuses are the arguments checked
against its spec (checks.py), which either raises the error in the caller's terms or copies the input the kernel
could not take (non-contiguous, byte-swapped), and the kernel is called once more. The twins check nothing, so their
arguments are checked first, every time. Below `call`, one function per kernel the engine (fused/) calls.
"""
import contextlib
import functools
import importlib
import os
import warnings

import numpy as np

from . import blas, numpy_twins
from .checks import checked
from .specs import SPECS

KERNEL_BLAS = None   # which BLAS the kernels' GEMMs call (blas.py), once they are loaded


@functools.cache
def _cython_kernels():
    """{kernel name: Cython entry point}, raising ImportError when they are not built."""
    from ._kernels import gates, linear, sequence, steps
    modules = {"linear": linear, "gates": gates, "steps": steps, "sequence": sequence}
    return {name: getattr(modules[spec.module], name) for name, spec in SPECS.items()}


_TWINS = {name: getattr(numpy_twins, name) for name in SPECS}


def _load():
    """(backend name, kernels), chosen once from TINYGRAD_RNN_BACKEND."""
    global KERNEL_BLAS
    choice = os.environ.get("TINYGRAD_RNN_BACKEND", "").strip().lower() or "cython"
    if choice not in ("cython", "numpy"):
        raise ValueError(f"TINYGRAD_RNN_BACKEND: expected 'cython' or 'numpy', but got {choice!r}")
    if choice == "cython":
        try:
            kernels = _cython_kernels()
            from ._kernels import _blas
            KERNEL_BLAS = blas.choose(_blas)
            return "cython", kernels
        except ImportError as err:
            warnings.warn(f"tinygrad_rnn: the Cython kernels are not built ({err}); falling back to the slower NumPy "
                          "twins. Build them with `pip install -e .` from the project root (needs a C compiler), or "
                          "set TINYGRAD_RNN_BACKEND=numpy to silence this warning.", RuntimeWarning, stacklevel=2)
    return "numpy", _TWINS


BACKEND, _kernels = _load()


_extra_modules: dict = {}   # the kernels outside SPECS, imported when first called: optim_steps, rows


def _extra_kernel(module, name, *argv):
    """Kernel `name` of _kernels/`module`.pyx on argv → whether it ran: False on the NumPy twins, or when it does not
    take these arrays (each of these kernels says so instead of raising, and its caller then runs NumPy code)."""
    if _kernels is _TWINS:
        return False
    found = _extra_modules.get(module)
    if found is None:
        found = _extra_modules[module] = importlib.import_module(f"._kernels.{module}", __package__)
    return getattr(found, name)(*argv)


def optimizer_step(name, *argv):
    """The Cython kernels' one-pass optimiser update `name` (_kernels/optim_steps.pyx) → True; False when the NumPy
    twins are in use or the update does not take these arrays (the optimiser then runs its NumPy code, which gives
    the same numbers)."""
    return _extra_kernel("optim_steps", name, *argv)


def scatter_add_rows(out, indices, rows):
    """The Cython kernels' out[indices[r]] += rows[r] in order (_kernels/rows.pyx, bitwise np.add.at) → True; False
    when the NumPy twins are in use or the kernel does not take these arrays (the caller then runs NumPy code)."""
    return _extra_kernel("rows", "scatter_add_rows", out, indices, rows)


def log_softmax_rows(x, out):
    """The Cython kernels' log-softmax of each row of x (N, C) into out (_kernels/rows.pyx) → True; False when the
    NumPy twins are in use or the kernel does not take these arrays (the caller then runs NumPy code)."""
    return _extra_kernel("rows", "log_softmax_rows", x, out)


def cross_entropy_grad_rows(lp, coef, target, grad):
    """The Cython kernels' grad = coef·(exp(lp) − onehot(target)) per row (_kernels/rows.pyx) → True; False as
    log_softmax_rows."""
    return _extra_kernel("rows", "cross_entropy_grad_rows", lp, coef, target, grad)


def fingerprint_kernel():
    """The Cython kernels' one-pass array fingerprint (inplace.use_fingerprint), or None on the NumPy twins."""
    if BACKEND != "cython":
        return None
    from ._kernels.fingerprint import fingerprint
    return fingerprint


@contextlib.contextmanager
def use_backend(name):
    """Run a block on the "cython" kernels or their "numpy" twins (benchmarks compare both in one process)."""
    global _kernels
    if name not in ("cython", "numpy"):
        raise ValueError(f"use_backend: expected 'cython' or 'numpy', but got {name!r}")
    saved = _kernels
    _kernels = _cython_kernels() if name == "cython" else _TWINS   # not built: ImportError, not a fake
    try:
        yield
    finally:
        _kernels = saved


def call(name, *argv):
    """kernel `name`(*argv) → its outputs, argv laid out as the kernel takes it: inputs, the activation name, the
    outputs (None: allocated), `reverse` (sequence kernels), `transposed` (specs.py). Arguments left off the end take
    their defaults (the spec's first activation, new outputs, not reversed, not transposed)."""
    spec = SPECS[name]
    if len(argv) < spec.arity:
        if len(argv) < len(spec.inputs):
            raise TypeError(f"{name}: expected the inputs {', '.join(n for n, _, _ in spec.inputs)}, but got "
                            f"{len(argv)} arguments")
        argv += spec.defaults[len(argv) - len(spec.inputs):]
    return _call(name, argv)


def _call(name, argv):
    """call() with every argument given (the functions below, which the engine calls once per step)."""
    kernel = _kernels[name]
    if _kernels is _TWINS:
        return kernel(*checked(SPECS[name], argv))
    try:
        return kernel(*argv)
    except (TypeError, ValueError) as err:
        refused = err
    fixed = checked(SPECS[name], argv)   # raises the caller's error when an argument is wrong
    if fixed is argv:
        raise refused                    # nothing to copy: the kernel's own reason stands (a GEMM too big for the BLAS)
    del refused                          # its traceback holds this frame and, up the chain, the callers' arrays (a
    return kernel(*fixed)                # backward's whole walk) until the garbage collector finds the cycle


# ---- the kernels the engine calls ------------------------------------------------------------------------------

def linear_act_forward(x, weight, bias=None, act="identity", out=None):
    """y = act(x @ Wᵀ + b): x (B, I), W (O, I), b (O,) or None → y (B, O), written into out if given"""
    return _call("linear_act_forward", (x, weight, bias, act, out))


def linear_act_backward(x, weight, y, dy, act="identity", need_dx=True, need_dW=True, need_db=True, empty=np.empty):
    """dz = dy⊙act'(y) → (dx = dz @ W, dW = dzᵀ @ x, db = Σ_b dz), None for what is not needed; dx and dW made by
    empty(shape, dtype) (the engine's workspace.empty, so a training loop writes into the same memory each step)"""
    if not (isinstance(x, np.ndarray) and x.ndim == 2 and isinstance(weight, np.ndarray) and weight.ndim == 2):
        checked(SPECS["linear_act_backward"], (x, weight, y, dy, act, None, None, None))   # raises, naming which
    (B, I), O, dtype = x.shape, weight.shape[0], x.dtype.newbyteorder("=")
    return _call("linear_act_backward", (x, weight, y, dy, act, empty((B, I), dtype) if need_dx else None,
                                         empty((O, I), dtype) if need_dW else None,
                                         np.empty(O, dtype) if need_db else None))


def outer_product(left, right, out=None):
    """leftᵀ @ right: left (N, O), right (N, I) → (O, I), a shared weight's gradient summed over N rows (OuterSum),
    written into out if given"""
    return _call("outer_product", (left, right, out))


def outer_products(left, right, right2, out=None, out2=None):
    """(leftᵀ @ right, leftᵀ @ right2) in one GEMM pass: two weights' gradients from one left factor (an LSTM
    layer's dz for dW_ih and dW_hh), written into out and out2 if given"""
    return _call("outer_products", (left, right, right2, out, out2))


# LSTM and peephole LSTM: gate order i, f, g, o; `act` is the gate activation. A step forward's `transposed`: w_hh is
# given as W_hhᵀ (H, G·H), which BLAS multiplies faster (a Scan makes it once); gates, c, h, dz: arrays to write
# the outputs into (None: new ones).

def lstm_step_forward(xp, h_prev, c_prev, w_hh, act="sigmoid", transposed=False, gates=None, c=None, h=None):
    """z = xp + h_prev @ W_hhᵀ, then the LSTM gates → gates (B, 4H), c, h (B, H)"""
    return _call("lstm_step_forward", (xp, h_prev, c_prev, w_hh, act, gates, c, h, transposed))


def lstm_step_backward(gates, c_prev, c, w_hh, dh, dc, act="sigmoid", dz=None):
    """∂L/∂h, ∂L/∂c (None: zero) → (∂L/∂z (B, 4H), ∂L/∂c_prev, ∂L/∂h_prev = ∂L/∂z @ W_hh (B, H))"""
    return _call("lstm_step_backward", (gates, c_prev, c, w_hh, dh, dc, act, dz, None, None))


def peephole_step_forward(xp, h_prev, c_prev, w_hh, w_ci, w_cf, w_co, act="sigmoid", transposed=False, gates=None,
                          c=None, h=None):
    """z = xp + h_prev @ W_hhᵀ, then the peephole gates (w_ci, w_cf, w_co (H,)) → gates (B, 4H), c, h (B, H)"""
    return _call("peephole_step_forward", (xp, h_prev, c_prev, w_hh, w_ci, w_cf, w_co, act, gates, c, h,
                                           transposed))


def peephole_step_backward(gates, c_prev, c, w_hh, w_ci, w_cf, w_co, dh, dc, act="sigmoid", dz=None):
    """→ (∂L/∂z (B, 4H), ∂L/∂c_prev, ∂L/∂h_prev (B, H), ∂L/∂w_ci, ∂L/∂w_cf, ∂L/∂w_co (H,))"""
    return _call("peephole_step_backward", (gates, c_prev, c, w_hh, w_ci, w_cf, w_co, dh, dc, act, dz, None, None,
                None, None, None))


# GRU: gate order r, z, n. Reset-after (PyTorch's) in one kernel; Cho et al. 2014 in two halves around W_hn.

def gru_step_forward(xp, h_prev, w_hh, b_hh=None, act="sigmoid", transposed=False, hp=None, gates=None, h=None):
    """hp = h_prev @ W_hhᵀ + b_hh, then the reset-after gates → hp, gates (B, 3H), h (B, H)"""
    return _call("gru_step_forward", (xp, h_prev, w_hh, b_hh, act, hp, gates, h, transposed))


def gru_step_backward(gates, hp, h_prev, w_hh, dh, act="sigmoid", dxp=None):
    """→ (∂L/∂xp, ∂L/∂hp (B, 3H), ∂L/∂h_prev = dh⊙z + ∂L/∂hp @ W_hh (B, H)); dxp: where ∂L/∂xp goes"""
    return _call("gru_step_backward", (gates, hp, h_prev, w_hh, dh, act, dxp, None, None))


def gru_cho_reset_forward(xp, hp_rz, h_prev, act="sigmoid"):
    """Cho GRU, first half: xp (B, 3H), hp_rz = W_hr,hz h_prev (B, 2H) → gates [r, z] (B, 2H), r⊙h_prev (B, H)"""
    return _call("gru_cho_reset_forward", (xp, hp_rz, h_prev, act, None, None))


def gru_cho_update_forward(xp, hn, gates_rz, h_prev):
    """Cho GRU, second half: hn = W_hn (r⊙h_prev) (B, H) → n = tanh(xp_n + hn), h = (1−z)⊙n + z⊙h_prev"""
    return _call("gru_cho_update_forward", (xp, hn, gates_rz, h_prev, None, None))


def gru_cho_update_backward(gates_rz, n, h_prev, dh, act="sigmoid"):
    """→ (∂L/∂z_pre, ∂L/∂n_pre, ∂L/∂h_prev through z⊙h_prev), each (B, H); dh None: zero"""
    if dh is None and isinstance(h_prev, np.ndarray):          # the Cho kernels take no None gradient
        dh = np.zeros_like(h_prev)
    return _call("gru_cho_update_backward", (gates_rz, n, h_prev, dh, act, None, None, None))


def gru_cho_reset_backward(gates_rz, h_prev, d_rh, act="sigmoid"):
    """d_rh = ∂L/∂(r⊙h_prev) (B, H) → (∂L/∂r_pre, ∂L/∂h_prev through r⊙h_prev)"""
    return _call("gru_cho_reset_backward", (gates_rz, h_prev, d_rh, act, None, None))


# Vanilla RNN: nonlinearity tanh or relu.

def rnn_step_forward(xp, h_prev, w_hh, nonlinearity="tanh", transposed=False, h=None):
    """h = act(xp + h_prev @ W_hhᵀ) (B, H)"""
    return _call("rnn_step_forward", (xp, h_prev, w_hh, nonlinearity, h, transposed))


def rnn_step_backward(h, w_hh, dh, nonlinearity="tanh", dz=None):
    """→ (∂L/∂z = dh⊙act'(h), ∂L/∂h_prev = ∂L/∂z @ W_hh), each (B, H); dz: where ∂L/∂z goes (None: new)"""
    return _call("rnn_step_backward", (h, w_hh, dh, nonlinearity, dz, None))


def transposed(w):
    """wᵀ (C-contiguous) of a 2-D float array: the W_hhᵀ a Scan hands its steps (see lstm_step_forward)"""
    return _call("transposed", (w, None))


# Sequences: the whole loop over T steps in one call (sequence.pyx; fused/sequence.py drives them). keep (T, B) is
# nonzero where a step counts (t < length), None when all do; outputs given are written into (None: new arrays).

def rnn_sequence_forward(xp, h0, w_hh, keep, nonlinearity, reverse, transposed, hs, ys):
    """h_t = act(xp[t] + h_{t∓1} @ W_hhᵀ) for every step → hs, ys (T, B, H)"""
    return _call("rnn_sequence_forward", (xp, h0, w_hh, keep, nonlinearity, hs, ys, reverse, transposed))


def rnn_sequence_backward(hs, w_hh, keep, dys, dh_n, nonlinearity, reverse, dz):
    """→ (∂L/∂xp (T, B, H), ∂L/∂h0 (B, H))"""
    return _call("rnn_sequence_backward", (hs, w_hh, keep, dys, dh_n, nonlinearity, dz, None, reverse))


def lstm_sequence_forward(xp, h0, c0, w_hh, keep, act, reverse, transposed, gates, cs, hs, ys):
    """every LSTM step → gates (T, B, 4H), cs, hs, ys (T, B, H)"""
    return _call("lstm_sequence_forward", (xp, h0, c0, w_hh, keep, act, gates, cs, hs, ys, reverse, transposed))


def lstm_sequence_backward(gates, cs, c0, w_hh, keep, dys, dh_n, dc_n, act, reverse, dz, dcs=None):
    """→ (∂L/∂xp (T, B, 4H), ∂L/∂h0, ∂L/∂c0 (B, H)); dcs (T, B, H): a gradient for cs itself (return_gates' trace)"""
    return _call("lstm_sequence_backward", (gates, cs, c0, w_hh, keep, dys, dh_n, dc_n, dcs, act, dz, None, None,
                                            reverse))


def peephole_sequence_forward(xp, h0, c0, w_hh, w_ci, w_cf, w_co, keep, act, reverse, transposed, gates, cs, hs, ys):
    """every peephole LSTM step → gates (T, B, 4H), cs, hs, ys (T, B, H)"""
    return _call("peephole_sequence_forward", (xp, h0, c0, w_hh, w_ci, w_cf, w_co, keep, act, gates, cs, hs, ys,
                                               reverse, transposed))


def peephole_sequence_backward(gates, cs, c0, w_hh, w_ci, w_cf, w_co, keep, dys, dh_n, dc_n, act, reverse, dz,
                               dcs=None):
    """→ (∂L/∂xp (T, B, 4H), ∂L/∂h0, ∂L/∂c0 (B, H), ∂L/∂w_ci, ∂L/∂w_cf, ∂L/∂w_co (H,)); dcs as the LSTM's"""
    return _call("peephole_sequence_backward", (gates, cs, c0, w_hh, w_ci, w_cf, w_co, keep, dys, dh_n, dc_n, dcs,
                                                act, dz, None, None, None, None, None, reverse))


def gru_sequence_forward(xp, h0, w_hh, b_hh, keep, act, reverse, transposed, hp, gates, hs, ys):
    """every reset-after GRU step → hp, gates (T, B, 3H), hs, ys (T, B, H)"""
    return _call("gru_sequence_forward", (xp, h0, w_hh, b_hh, keep, act, hp, gates, hs, ys, reverse, transposed))


def gru_sequence_backward(gates, hp, hs, h0, w_hh, keep, dys, dh_n, act, reverse, dxp):
    """→ (∂L/∂xp, ∂L/∂hp (T, B, 3H), ∂L/∂h0 (B, H))"""
    return _call("gru_sequence_backward", (gates, hp, hs, h0, w_hh, keep, dys, dh_n, act, dxp, None, None, reverse))


def gru_cho_sequence_forward(xp, h0, w_rz, w_n, keep, act, reverse, gates_rz, rh, n, hs, ys):
    """every Cho GRU step → gates_rz (T, B, 2H), rh, n, hs, ys (T, B, H)"""
    return _call("gru_cho_sequence_forward", (xp, h0, w_rz, w_n, keep, act, gates_rz, rh, n, hs, ys, reverse))


def gru_cho_sequence_backward(gates_rz, n, hs, h0, w_rz, w_n, keep, dys, dh_n, act, reverse, dxp):
    """→ (∂L/∂xp = [dr, dz, dn] (T, B, 3H), ∂L/∂h0 (B, H))"""
    return _call("gru_cho_sequence_backward", (gates_rz, n, hs, h0, w_rz, w_n, keep, dys, dh_n, act, dxp, None,
                                               reverse))
