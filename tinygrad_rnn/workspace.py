"""Large arrays handed out again, call after call, once nothing references them any more.

A training loop asks for the same shapes every step. Fresh memory costs a page fault per 4 KiB page the first time
it is written (several µs each on a virtual machine), and glibc returns freed heap memory to the system between
steps, so without reuse every step pays those faults again: at shape M they were a quarter of the step. An array is
free again when only this cache refers to it; a view holds its base, so an array with a view alive is not reused.
"""
import sys

import numpy as np

MIN_BYTES = 256 * 1024       # smaller arrays come from malloc's free lists, which stay warm; and a kept array stays
                             # allocated after a call frees it, which adds to that call's peak
MAX_BYTES = 256 * 1024 ** 2  # kept in all; beyond it, the least recently used shapes are dropped
PER_SHAPE = 4                # arrays of one shape and dtype in use at once that are kept

_cache = {}                  # (shape, dtype) -> [arrays], least recently used first
_kept = 0


def empty(shape, dtype):
    """np.empty(shape, dtype), from an earlier array of the same shape and dtype if one is free."""
    global _kept
    dtype = np.dtype(dtype)
    nbytes = dtype.itemsize * int(np.prod(shape))
    if nbytes < MIN_BYTES:
        return np.empty(shape, dtype)
    key = (tuple(shape), dtype)
    arrays = _cache.pop(key, None)
    if arrays is None:
        arrays = []
    else:
        for a in arrays:
            if sys.getrefcount(a) == 3:          # the list, the loop variable, getrefcount's own argument
                _cache[key] = arrays             # (re-inserted: most recently used last)
                return a
    a = np.empty(shape, dtype)
    if len(arrays) < PER_SHAPE:
        arrays.append(a)
        _kept += nbytes
    _cache[key] = arrays
    while _kept > MAX_BYTES and _cache:
        old_key = next(iter(_cache))
        for old in _cache.pop(old_key):
            _kept -= old.nbytes
    return a


def clear():
    """Drop every kept array (they are freed as soon as nothing else refers to them)."""
    global _kept
    _cache.clear()
    _kept = 0
