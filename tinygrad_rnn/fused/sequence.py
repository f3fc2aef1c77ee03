"""A Scan run by a sequence kernel: the whole loop over time in one call forward and one call backward.

Scan (scan.py) drives a fused step from Python, one kernel call per step and direction. For the five cells that
have a sequence kernel (backend/_kernels/sequence.pyx: RNN, LSTM, peephole LSTM, both GRUs) the same loop runs
inside one call: per step the recurrent GEMM and the gate update, forward; the step's own backward in reverse
order, backward. Backpropagation through time is still the chain rule over the recorded steps, applied by the
kernel instead of by Scan's loop, with the same numbers (tests/fused/test_sequence_kernels.py: 1e-12 in float64).
What it saves is the Python around each step (a context object, two checked kernel calls, the mask `where`s), which
at batch 1 costs more than the step's arithmetic. The weight gradients stay as Scan makes them: the per-step
factors (dz and the states, one array each over all T steps) reduced by one GEMM over T·B rows (an OuterSum).

Scan.forward hands a loop here when `driver_for` finds a driver for its step; Scan's Python loop remains the
reference path, taken for every other step, inside `detect_anomaly()` (which names the step and time of a NaN) and
inside `with reference_loop():`.

Arrays per call (workspace.empty, so a training loop gets the same memory back every step): the states
`states` (T+1, B, H), h0 and the state after every step, in time order, so that the states the steps read (h_{t−1},
or h_{t+1} for a reverse loop) are one slice for the weight GEMM; the outputs ys (T, B, H); what each cell's
backward reads (gates, memory cells, ...); and in backward the input gradient (T, B, G·H).
"""
import contextlib
import threading

import numpy as np

from .. import anomaly
from ..backend import calls
from . import workspace
from .outer_sum import OuterSum
from .steps import GRUChoStep, GRUStep, LSTMStep, PeepholeLSTMStep, RNNStep, _refuse_gate_grad

_state = threading.local()   # .reference: this thread's Scans run their Python loop (reference_loop)


@contextlib.contextmanager
def reference_loop():
    """Inside the block, this thread's Scans run their Python loop step by step instead of a sequence kernel (the
    reference path the kernels are tested against)."""
    saved = getattr(_state, "reference", False)
    _state.reference = True
    try:
        yield
    finally:
        _state.reference = saved


def runs_kernel(step):
    """Whether a Scan of `step` runs in a sequence kernel here and now (given (T, B, ·) inputs, T > 0): it has a
    driver, and neither reference_loop() nor detect_anomaly() is on. A layer asks before it makes what only Scan's
    Python loop uses (W_hhᵀ: the kernels pack W_hh as it is), and before it asks a Scan for the trace that only
    the kernels give (`return_gates`; Scan's Python loop keeps none, so the layer records step by step then)."""
    return step in DRIVERS and not getattr(_state, "reference", False) and not anomaly.state.enabled


def trace_names(step):
    """The names of the trace a sequence kernel gives back with `return_gates` (after the final carry, in this
    order), as a layer's trace dict names them: ("gates", "c") for the LSTMs, ("gates",) for the GRUs, () for the
    vanilla RNN, which has no gates."""
    return DRIVERS[step].trace


def driver_for(step, xs, carry, options):
    """The driver that runs this Scan in a sequence kernel, or None: Scan's Python loop then runs it."""
    driver = DRIVERS.get(step)
    if (driver is None or not runs_kernel(step) or not set(options) <= driver.options or xs.ndim != 3
            or xs.shape[0] == 0 or any(c.ndim != 2 for c in carry)):
        return None
    return driver


def keep_of(masks, dtype):
    """Scan's masks ((T, B, 1) booleans, or a list of T (B, 1)) as the kernels' keep (T, B): 1 where a step counts,
    0 where the sequence has ended; None without masks."""
    if masks is None:
        return None
    return np.ascontiguousarray(np.asarray(masks).reshape(len(masks), -1), dtype=dtype)


def forward(ctx, driver, xs, carry, consts, reverse, masks, options):
    """Scan.forward through the driver: returns (ys, *final carry) and saves what backward needs in ctx."""
    T, B, H = xs.shape[0], carry[0].shape[0], carry[0].shape[1]
    keep = keep_of(masks, xs.dtype)
    states = workspace.empty((T + 1, B, H), xs.dtype)
    h0, hs = (states[T], states[:T]) if reverse else (states[0], states[1:])
    h0[...] = carry[0]
    outs, saved = driver.forward(xs, h0, hs, carry[1:], consts, keep, reverse, options)
    # the step and the inputs are saved too: inplace.guards protects every array a node saved
    ctx.save_for_backward(driver, reverse, keep, states, xs.shape, saved, *carry, *consts)
    return outs


def backward(ctx, grads):
    """Scan.backward through the driver: (∂xs, ∂carry_0..., ∂consts...)."""
    driver, reverse, keep, states, xs_shape, saved = ctx.saved[:6]
    T = xs_shape[0]
    h_prev = states[1:] if reverse else states[:T]            # the state each step read, in time order
    out = driver.backward(saved, h_prev, keep, grads, reverse, xs_shape)
    if anomaly.state.enabled:                                 # (forward ran outside detect_anomaly())
        _check(driver, out, reverse, T, getattr(ctx, "trace", None))
    return out


def _check(driver, out, reverse, T, trace):
    """Anomaly mode's report for the first step (in backward order) whose input gradient is not finite."""
    for t in (range(T) if reverse else range(T - 1, -1, -1)):
        anomaly.check_backward(driver.step.__name__, (out[0][t],), trace, f" at time step {t} of a Scan")
    anomaly.check_backward(driver.step.__name__, out[1:], trace, " after the first step of a Scan")


def _rows(a):
    """(T, B, n) -> (T·B, n), a view"""
    return a.reshape(-1, a.shape[-1])


def _recurrent_weight(w_hh, options):
    """(weight, transposed): W_hhᵀ when the Scan was handed that copy (`w_hh_t`), else W_hh (steps.py's rule)."""
    w_hh_t = options.get("w_hh_t")
    return (w_hh, False) if w_hh_t is None else (w_hh_t, True)


class Driver:
    """How one fused step runs as a sequence kernel. `step` is the Function it stands in for, `options` the Scan
    options it understands. forward(xs, h0, hs, cells, consts, keep, reverse, options) calls the forward kernel
    (hs: where the states go, a view of `states`; cells: the LSTMs' c0) and returns ((ys, *final carry, *trace),
    what backward needs), the trace (`trace` names it) only with the option return_gates: the per-step arrays the
    kernel writes anyway; backward(saved, h_prev, keep, grads, reverse, xs_shape) returns the Scan's gradients.
    The gates are for inspection (no gradient, as a fused step's); an LSTM's c_t takes one: the kernel adds it to
    the cell gradient it carries back through the steps."""

    step = None
    options = frozenset()
    trace = ()


class RNNDriver(Driver):
    """RNNStep over a sequence: h_t = act(xp[t] + h_{t∓1} @ W_hhᵀ)"""

    step = RNNStep
    options = {"nonlinearity", "w_hh_t", "return_gates"}

    @staticmethod
    def forward(xs, h0, hs, cells, consts, keep, reverse, options):
        (w_hh,) = consts
        nonlinearity = options.get("nonlinearity", "tanh")
        ys = workspace.empty(hs.shape, xs.dtype)
        w, transposed = _recurrent_weight(w_hh, options)
        calls.rnn_sequence_forward(xs, h0, w, keep, nonlinearity, reverse, transposed, hs, ys)
        return (ys, hs[0 if reverse else -1]), (hs, w_hh, nonlinearity)

    @staticmethod
    def backward(saved, h_prev, keep, grads, reverse, xs_shape):
        hs, w_hh, nonlinearity = saved
        dys, dh_n = grads
        dz, dh0 = calls.rnn_sequence_backward(hs, w_hh, keep, dys, dh_n, nonlinearity, reverse,
                                              workspace.empty(xs_shape, hs.dtype))
        return dz, dh0, OuterSum(_rows(dz), _rows(h_prev))


class LSTMDriver(Driver):
    """LSTMStep over a sequence"""

    step = LSTMStep
    options = {"act", "w_hh_t", "return_gates"}
    trace = ("gates", "c")

    @staticmethod
    def forward(xs, h0, hs, cells, consts, keep, reverse, options):
        (c0,), (w_hh,) = cells, consts
        act = options.get("act", "sigmoid")
        gates, cs, ys = (workspace.empty(xs.shape, xs.dtype), workspace.empty(hs.shape, xs.dtype),
                         workspace.empty(hs.shape, xs.dtype))
        w, transposed = _recurrent_weight(w_hh, options)
        calls.lstm_sequence_forward(xs, h0, c0, w, keep, act, reverse, transposed, gates, cs, hs, ys)
        last = 0 if reverse else -1
        return (ys, hs[last], cs[last], *_trace(options, gates, cs)), (gates, cs, c0, w_hh, act)

    @staticmethod
    def backward(saved, h_prev, keep, grads, reverse, xs_shape):
        gates, cs, c0, w_hh, act = saved
        dys, dh_n, dc_n = grads[:3]
        dz, dh0, dc0 = calls.lstm_sequence_backward(gates, cs, c0, w_hh, keep, dys, dh_n, dc_n, act, reverse,
                                                    workspace.empty(xs_shape, gates.dtype), _cells_grad(grads, 3))
        return dz, dh0, dc0, OuterSum(_rows(dz), _rows(h_prev))


class PeepholeLSTMDriver(Driver):
    """PeepholeLSTMStep over a sequence"""

    step = PeepholeLSTMStep
    options = {"act", "w_hh_t", "return_gates"}
    trace = ("gates", "c")

    @staticmethod
    def forward(xs, h0, hs, cells, consts, keep, reverse, options):
        (c0,), (w_hh, w_ci, w_cf, w_co) = cells, consts
        act = options.get("act", "sigmoid")
        gates, cs, ys = (workspace.empty(xs.shape, xs.dtype), workspace.empty(hs.shape, xs.dtype),
                         workspace.empty(hs.shape, xs.dtype))
        w, transposed = _recurrent_weight(w_hh, options)
        calls.peephole_sequence_forward(xs, h0, c0, w, w_ci, w_cf, w_co, keep, act, reverse, transposed, gates, cs,
                                        hs, ys)
        last = 0 if reverse else -1
        return (ys, hs[last], cs[last], *_trace(options, gates, cs)), (gates, cs, c0, w_hh, w_ci, w_cf, w_co, act)

    @staticmethod
    def backward(saved, h_prev, keep, grads, reverse, xs_shape):
        gates, cs, c0, w_hh, w_ci, w_cf, w_co, act = saved
        dys, dh_n, dc_n = grads[:3]
        dz, dh0, dc0, dw_ci, dw_cf, dw_co = calls.peephole_sequence_backward(
            gates, cs, c0, w_hh, w_ci, w_cf, w_co, keep, dys, dh_n, dc_n, act, reverse,
            workspace.empty(xs_shape, gates.dtype), _cells_grad(grads, 3))
        return dz, dh0, dc0, OuterSum(_rows(dz), _rows(h_prev)), dw_ci, dw_cf, dw_co


class GRUDriver(Driver):
    """GRUStep (reset-after) over a sequence; consts (W_hh,) or (W_hh, b_hh)"""

    step = GRUStep
    options = {"act", "w_hh_t", "return_gates"}
    trace = ("gates",)

    @staticmethod
    def forward(xs, h0, hs, cells, consts, keep, reverse, options):
        w_hh, b_hh = consts[0], (consts[1] if len(consts) > 1 else None)
        act = options.get("act", "sigmoid")
        hp, gates, ys = (workspace.empty(xs.shape, xs.dtype), workspace.empty(xs.shape, xs.dtype),
                         workspace.empty(hs.shape, xs.dtype))
        w, transposed = _recurrent_weight(w_hh, options)
        calls.gru_sequence_forward(xs, h0, w, b_hh, keep, act, reverse, transposed, hp, gates, hs, ys)
        return (ys, hs[0 if reverse else -1], *_trace(options, gates)), (gates, hp, hs, h0, w_hh, act, len(consts))

    @staticmethod
    def backward(saved, h_prev, keep, grads, reverse, xs_shape):
        gates, hp, hs, h0, w_hh, act, n_consts = saved
        dys, dh_n = grads[:2]
        _refuse_gate_grad(grads, 2)
        dxp, dhp, dh0 = calls.gru_sequence_backward(gates, hp, hs, h0, w_hh, keep, dys, dh_n, act, reverse,
                                                    workspace.empty(xs_shape, gates.dtype))
        dw_hh = OuterSum(_rows(dhp), _rows(h_prev))
        return (dxp, dh0, dw_hh) if n_consts == 1 else (dxp, dh0, dw_hh, _rows(dhp).sum(axis=0))


class GRUChoDriver(Driver):
    """GRUChoStep (Cho et al. 2014) over a sequence; consts (W_rz, W_n), W_hh cut in its [r; z] and n rows"""

    step = GRUChoStep
    options = {"act", "return_gates"}
    trace = ("gates",)

    @staticmethod
    def forward(xs, h0, hs, cells, consts, keep, reverse, options):
        w_rz, w_n = consts
        act = options.get("act", "sigmoid")
        shape, H = hs.shape, hs.shape[2]
        gates_rz = workspace.empty(shape[:2] + (2 * H,), xs.dtype)
        rh, n, ys = (workspace.empty(shape, xs.dtype) for _ in range(3))
        calls.gru_cho_sequence_forward(xs, h0, w_rz, w_n, keep, act, reverse, gates_rz, rh, n, hs, ys)
        trace = ()
        if options.get("return_gates"):            # (r, z, n) side by side, as GRUChoStep's trace: a joined copy
            trace = (np.concatenate([gates_rz, n], axis=2, out=workspace.empty(shape[:2] + (3 * H,), xs.dtype)),)
        return (ys, hs[0 if reverse else -1], *trace), (gates_rz, rh, n, hs, h0, w_rz, w_n, act)

    @staticmethod
    def backward(saved, h_prev, keep, grads, reverse, xs_shape):
        gates_rz, rh, n, hs, h0, w_rz, w_n, act = saved
        dys, dh_n = grads[:2]
        _refuse_gate_grad(grads, 2)
        dxp, dh0 = calls.gru_cho_sequence_backward(gates_rz, n, hs, h0, w_rz, w_n, keep, dys, dh_n, act, reverse,
                                                   workspace.empty(xs_shape, gates_rz.dtype))
        H = h0.shape[1]
        return (dxp, dh0, OuterSum(_rows(dxp[..., :2 * H]), _rows(h_prev)),
                OuterSum(_rows(dxp[..., 2 * H:]), _rows(rh)))


def _trace(options, *arrays):
    """The trace outputs of a forward: the blocks the kernel wrote, with return_gates; else none."""
    return arrays if options.get("return_gates") else ()


def _cells_grad(grads, n_out):
    """An LSTM Scan's gradient for its trace's c (T, B, H), after refusing one for the gates (n_out: the outputs
    before the trace); None without a trace or without that gradient."""
    if len(grads) <= n_out:
        return None
    _refuse_gate_grad(grads, n_out)
    return grads[n_out + 1]


DRIVERS = {d.step: d() for d in (RNNDriver, LSTMDriver, PeepholeLSTMDriver, GRUDriver, GRUChoDriver)}
