"""Switch for recording the tape: `no_grad()` and `enable_grad()`, as context managers or decorators.

The mode is per thread, as PyTorch's is: a `no_grad` evaluation or sampling thread must not cut the graph a
training thread is recording. A new thread starts with recording on.
"""
import functools
import threading


class _Mode(threading.local):
    enabled = True          # the class attribute is every thread's starting value


state = _Mode()             # read as `grad_mode.state.enabled` on the hot path (Function.apply)


class _GradMode:
    """Sets grad mode to `self.mode` inside the block and restores the previous mode after it."""

    mode = True

    def __enter__(self):
        self._previous, state.enabled = state.enabled, self.mode

    def __exit__(self, *exc):
        state.enabled = self._previous

    def __call__(self, fn):
        @functools.wraps(fn)
        def wrapper(*args, **kwargs):
            with type(self)():
                return fn(*args, **kwargs)

        return wrapper


class no_grad(_GradMode):
    """Ops inside record nothing: results have requires_grad=False and no graph."""

    mode = False


class enable_grad(_GradMode):
    """Turns recording back on inside a `no_grad` block."""

    mode = True


class set_grad_enabled(_GradMode):
    """set_grad_enabled(mode): switches recording to `mode` at once, as a call (`torch.set_grad_enabled(False)`);
    as a context manager or decorator, the previous mode comes back after the block."""

    def __init__(self, mode):
        if not isinstance(mode, bool):
            raise TypeError(f"set_grad_enabled(): argument 'mode' (position 1) must be bool, not {type(mode).__name__}")
        self._previous, self.mode = state.enabled, mode
        state.enabled = mode

    def __enter__(self):
        state.enabled = self.mode

    def __call__(self, fn):
        state.enabled = self._previous           # used as a decorator: the call above switched nothing for good

        @functools.wraps(fn)
        def wrapper(*args, **kwargs):
            with set_grad_enabled(self.mode):
                return fn(*args, **kwargs)
        return wrapper


class inference_mode(_GradMode):
    """As no_grad here (torch's inference_mode also skips version counting, which this engine has no cost for);
    inference_mode(False) records as usual."""

    def __init__(self, mode=True):
        self.mode = not mode

    def __call__(self, fn):
        mode = self.mode

        @functools.wraps(fn)
        def wrapper(*args, **kwargs):
            with inference_mode(not mode):
                return fn(*args, **kwargs)
        return wrapper


def is_grad_enabled():
    """Whether ops record the tape in this thread now (no_grad turns it off, enable_grad on)."""
    return state.enabled
