"""Anomaly detection, as torch.autograd.detect_anomaly: find the op whose backward made a NaN or an Inf.

While `detect_anomaly()` is active, every recorded node remembers where it was created (the forward call stack), a
forward output holding NaN raises at once, and backward checks every gradient each node returns: a NaN or Inf
raises RuntimeError naming the backward op and showing where its forward was called. Outside the block the tape
pays one flag test per recorded node and one per backward call. A Scan node checks each time step's gradients, so
the error names the step's op (LSTMStepBackward, ...) and the time step.

The mode is per thread, like grad mode (PyTorch keeps this one process-wide; per thread, a thread checking its
own backward cannot switch the checks on, or off, under another thread's feet).
"""
import functools
import threading
import traceback

import numpy as np


class _Mode(threading.local):
    enabled = False         # every thread's starting value


state = _Mode()


def is_anomaly_enabled():
    return state.enabled


class detect_anomaly:
    """Context manager (or decorator) turning anomaly detection on inside the block."""

    def __enter__(self):
        self._previous, state.enabled = state.enabled, True
        return self

    def __exit__(self, *exc_info):
        state.enabled = self._previous

    def __call__(self, fn):
        @functools.wraps(fn)
        def wrapper(*args, **kwargs):
            with detect_anomaly():
                return fn(*args, **kwargs)

        return wrapper


def record(ctx, out):
    """Called by Function.apply for a recorded node while enabled: keep the creation stack, refuse NaN outputs."""
    ctx.trace = traceback.extract_stack()[:-2]           # without apply's and this function's frames
    outs = out if type(out) is tuple else (out,)
    for i, o in enumerate(outs):
        if isinstance(o, np.ndarray) and o.dtype.kind == "f" and np.isnan(o).any():
            raise RuntimeError(f"Function '{type(ctx).__name__}' returned nan values in its {i}th output "
                               f"(in forward).")


def _bad(g):
    """'nan' or 'inf' if the gradient g holds one, else None. g is an ndarray, or a LazyGrad (function.py), whose
    pieces are checked instead of the array it stands for."""
    arrays = [g] if isinstance(g, np.ndarray) else g.arrays()
    for a in arrays:
        if a is not None and a.dtype.kind == "f":
            if np.isnan(a).any():
                return "nan"
            if np.isinf(a).any():
                return "inf"
    return None


def check_backward(name, grads, trace, where=""):
    """Raise if any gradient in `grads` (what the backward of op `name` returned) holds NaN or Inf."""
    for i, g in enumerate(grads):
        if g is not None:
            kind = _bad(g)
            if kind is not None:
                raise RuntimeError(f"Function '{name}Backward' returned {kind} values in its {i}th output{where}."
                                   + forward_trace(trace))


def forward_trace(trace):
    if trace is None:
        return ("\n\nThe node was created outside detect_anomaly(), so where its forward ran is unknown: run the "
                "forward pass inside the block too.")
    return "\n\nTraceback of forward call that caused the error:\n" + "".join(traceback.format_list(trace)).rstrip()
