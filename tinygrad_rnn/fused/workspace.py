"""Large arrays handed out again, call after call, once nothing references them any more.

A training loop asks for the same shapes every step. Fresh memory costs a page fault per 4 KiB page the first time
it is written (several µs each on a virtual machine), and glibc returns freed heap memory to the system between
steps, so without reuse every step pays those faults again (benchmarks/ measure how much).

When is memory free again? Not by counting references (`sys.getrefcount` is an interpreter detail, documented to
change): by object lifetime. The cache keeps the memory (a plain uint8 array) and hands out an array made over a
memoryview of it. NumPy sets every view's `.base` to the first array up the chain whose own base is not an array,
which is that handed-out array, so it stays alive while any view of it does; a weak reference to it, kept by the
slot, marks the memory free when it goes.
"""
import math
import threading
import weakref

import numpy as np

from .. import inplace

MIN_BYTES = 256 * 1024       # smaller arrays come from malloc's free lists, which stay warm; and a kept array stays
                             # allocated after a call frees it, which adds to that call's peak
MAX_BYTES = 256 * 1024 ** 2  # kept in all; beyond it, the least recently used shapes are dropped
PER_SHAPE = 4                # arrays of one shape and dtype in use at once that are kept

_cache = {}                  # (shape, dtype) -> [_Slot], least recently used first
_kept = 0
_lock = threading.RLock()    # one thread at a time finds a free slot and marks it busy: two threads training at
                             # once must never be handed the same memory (the release callback needs no lock: it
                             # only marks its own slot free; reentrant: a finalizer that runs inside may call here)


class _Slot:
    """One kept piece of memory and whether an array over it is alive (`watch`: a weak reference to that array,
    whose callback frees the slot; the slot keeps it, so it fires while the slot is in use, and a slot dropped from
    the cache needs no callback. weakref.finalize did the same at three times the cost.)"""

    __slots__ = ("memory", "busy", "watch")

    def __init__(self, nbytes):
        self.memory, self.busy, self.watch = np.empty(nbytes, np.uint8), False, None

    def hand_out(self, shape, dtype):
        self.busy = True
        flat = np.frombuffer(memoryview(self.memory), dtype=dtype)   # base: the memoryview, not an array
        self.watch = weakref.ref(flat, self._release)
        inplace.engine_made(flat)                   # no view of it outlived its last array: a fresh root
        return flat.reshape(shape)                                   # a view: its views' base is `flat` too

    def _release(self, ref):
        if ref is self.watch:                       # (not a callback left over from an earlier hand_out)
            self.busy, self.watch = False, None


def empty(shape, dtype):
    """np.empty(shape, dtype), from an earlier array of the same shape and dtype if one is free."""
    dtype = np.dtype(dtype)
    nbytes = dtype.itemsize * math.prod(shape)     # (np.prod costs 2 µs a call: a tenth of a small layer's)
    if nbytes < MIN_BYTES or nbytes > MAX_BYTES:
        return inplace.engine_made(np.empty(shape, dtype))
    key = (tuple(shape), dtype)
    with _lock:
        return _hand_out(key, shape, dtype, nbytes)


def _hand_out(key, shape, dtype, nbytes):
    global _kept
    slots = _cache.pop(key, None)
    if slots is None:
        slots = []
    _cache[key] = slots                          # (re-inserted: most recently used last)
    for slot in slots:
        if not slot.busy:
            return slot.hand_out(shape, dtype)
    if len(slots) >= PER_SHAPE:
        return inplace.engine_made(np.empty(shape, dtype))
    slot = _Slot(nbytes)
    slots.append(slot)
    _kept += nbytes
    while _kept > MAX_BYTES and len(_cache) > 1:
        old_key = next(iter(_cache))
        for old in _cache.pop(old_key):          # arrays still alive over them keep their memory until they go
            _kept -= old.memory.nbytes
    return slot.hand_out(shape, dtype)


def kernel_output(shape, dtype):
    """empty() in native byte order for a kernel's output of a float32 or float64 operand; None for any other dtype
    (the kernel then makes its own output, or refuses the operand and says why)."""
    dtype = np.dtype(dtype)
    return empty(shape, dtype.newbyteorder("=")) if dtype.kind == "f" and dtype.itemsize >= 4 else None


def clear():
    """Drop every kept array (they are freed as soon as nothing else refers to them)."""
    global _kept
    with _lock:
        _cache.clear()
        _kept = 0
