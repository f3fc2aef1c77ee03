"""What the machine can hold: the CLI refuses a model whose estimated memory exceeds it, before allocating any of it
(--layers 1000000 would otherwise allocate for minutes, --hidden 10**9 die with a MemoryError traceback)."""
import os

from .cli import UsageError


def machine_memory():
    """Physical memory in bytes, or the cgroup's limit where a container has a smaller one; None if unknown."""
    try:
        total = os.sysconf("SC_PHYS_PAGES") * os.sysconf("SC_PAGE_SIZE")
    except (AttributeError, ValueError, OSError):
        total = None
    for limit_file in ("/sys/fs/cgroup/memory.max", "/sys/fs/cgroup/memory/memory.limit_in_bytes"):
        try:
            with open(limit_file, encoding="ascii") as f:
                limit = int(f.read().strip())         # "max" (no limit) raises ValueError
        except (OSError, ValueError):
            continue
        total = limit if total is None else min(total, limit)
    return total


def _size(n):
    for unit in ("bytes", "KB", "MB", "GB", "TB", "PB"):
        if n < 1000 or unit == "PB":
            return f"{n:,.0f} {unit}" if unit == "bytes" else f"{n:,.1f} {unit}"
        n /= 1000


def require_memory(estimate, what, available=None):
    """UsageError naming the estimate if `estimate` bytes exceed the machine's memory (`available`, default
    machine_memory()); `what` says what needs it ("--hidden 1000000000 --layers 2")."""
    available = machine_memory() if available is None else available
    if available is not None and estimate > available:
        raise UsageError(f"{what} needs about {_size(estimate)} of memory (weights, gradients, optimiser state and "
                         f"activations), more than this machine's {_size(available)}")
