"""Switch for recording the tape: `no_grad()` and `enable_grad()`, as context managers or decorators.

The mode is per thread, as PyTorch's is: a `no_grad` evaluation or sampling thread must not cut the graph a
training thread is recording. A new thread starts with recording on.
"""
from __future__ import annotations

import functools
import threading
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from typing import Any, Callable, TypeVar

    F = TypeVar("F", bound=Callable[..., Any])


class _Mode(threading.local):
    enabled = True          # the class attribute is every thread's starting value


state = _Mode()             # read as `grad_mode.state.enabled` on the hot path (Function.apply)


class _GradMode:
    """Sets grad mode to `self.mode` inside the block and restores the previous mode after it."""

    mode = True

    def __enter__(self) -> None:
        self._previous, state.enabled = state.enabled, self.mode

    def __exit__(self, *exc: object) -> None:
        state.enabled = self._previous

    def __call__(self, fn: F) -> F:
        @functools.wraps(fn)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            with type(self)():
                return fn(*args, **kwargs)

        return wrapper  # type: ignore[return-value]  # functools.wraps keeps fn's signature


class no_grad(_GradMode):
    """Ops inside record nothing: results have requires_grad=False and no graph."""

    mode = False


class enable_grad(_GradMode):
    """Turns recording back on inside a `no_grad` block."""

    mode = True


class set_grad_enabled(_GradMode):
    """set_grad_enabled(mode): switches recording to `mode` at once, as a call (`torch.set_grad_enabled(False)`);
    as a context manager or decorator, the previous mode comes back after the block."""

    def __init__(self, mode: bool) -> None:
        if not isinstance(mode, bool):
            raise TypeError(f"set_grad_enabled(): argument 'mode' (position 1) must be bool, not {type(mode).__name__}")
        self._previous, self.mode = state.enabled, mode
        state.enabled = mode

    def __enter__(self) -> None:
        state.enabled = self.mode

    def __call__(self, fn: F) -> F:
        state.enabled = self._previous           # used as a decorator: the call above switched nothing for good

        @functools.wraps(fn)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            with set_grad_enabled(self.mode):
                return fn(*args, **kwargs)
        return wrapper  # type: ignore[return-value]  # functools.wraps keeps fn's signature


class inference_mode(_GradMode):
    """As no_grad here (torch's inference_mode also skips version counting, which this engine has no cost for);
    inference_mode(False) records as usual."""

    def __init__(self, mode: bool = True) -> None:
        self.mode = not mode

    def __call__(self, fn: F) -> F:
        mode = self.mode

        @functools.wraps(fn)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            with inference_mode(not mode):
                return fn(*args, **kwargs)
        return wrapper  # type: ignore[return-value]  # functools.wraps keeps fn's signature


def is_grad_enabled() -> bool:
    """Whether ops record the tape in this thread now (no_grad turns it off, enable_grad on)."""
    return state.enabled
