"""Global switch for recording the tape: `no_grad()` and `enable_grad()`, as context managers or decorators."""
import functools

enabled = True


class _GradMode:
    """Sets grad mode to `self.mode` inside the block and restores the previous mode after it."""

    mode = True

    def __enter__(self):
        global enabled
        self._previous, enabled = enabled, self.mode

    def __exit__(self, *exc):
        global enabled
        enabled = self._previous

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


def is_grad_enabled():
    return enabled
