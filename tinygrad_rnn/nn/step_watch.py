"""The per-step hook of the sequence layers: who watches their time steps (nobody, or what `viz.recording()`
installs). Per thread, like grad mode.

A watcher has `mark_outside(*tensors)` (the nodes made before the loop) and `mark_step(t, *tensors)` (the nodes of
step t). While one is installed, a layer records one node per step instead of one Scan, so that every step has
nodes to tag. nn does not import viz: viz installs itself here.
"""
from __future__ import annotations

import threading
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from typing import Any


class _Watch(threading.local):
    watcher = None


_state = _Watch()


def watcher() -> Any:
    """The installed watcher, or None."""
    return _state.watcher


def install(new: Any) -> Any:
    """Installs `new` (or None) and returns the watcher it replaces, to be installed again after."""
    previous, _state.watcher = _state.watcher, new
    return previous
