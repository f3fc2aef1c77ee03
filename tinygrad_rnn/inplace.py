"""Writes into arrays the tape saved: caught, never silently wrong gradients.

A node's backward reads the arrays its forward saved: its inputs' arrays, its own outputs', views of either, index
arrays and masks. Every ndarray a recorded node saved is protected until the node is freed (by backward, or when the
graph is garbage-collected), and so is each array up its `.base` chain (the array a view looks into: an LSTM layer
saves a reshaped view of its input batch, so the batch's own array is what a data loader would refill):

- the engine's own in-place writes (optimiser steps, `load_state_dict`) go through `writing(tensor)`, which bumps
  `tensor._version`; backward then raises PyTorch's RuntimeError ("one of the variables needed for gradient
  computation has been modified by an inplace operation: ... is at version 1; expected version 0 instead") naming
  the op that saved the array;
- a raw write (`b.data[...] = 5`, `x.data += 1`) cannot be counted, so it is refused instead: the array is read-only
  (`flags.writeable = False`) and the write raises numpy's "ValueError: assignment destination is read-only" on the
  spot, as does a write through any view made of it afterwards (NumPy makes views of a read-only array read-only).
  It becomes writeable again when the last node holding it is freed (a Pin per array, shared by those nodes,
  restores the flag when it dies; a view whose base is still pinned is restored when the base's pin goes);
- a view made *before* the forward keeps its own writeable flag, which nothing can take back (a parameter's rows
  kept for a manual update, a slice of an input buffer). So the root of every saved chain, the array the views look
  into, also gets a fingerprint, unless a forward made it (nobody held a view of it before); backward compares it
  once per pass, and a write through such a view raises the same RuntimeError. With the Cython kernels the
  fingerprint is one pass over the 64-bit words (a position-weighted sum and the XOR: any changed word is seen);
  without them, a CRC-32 up to 16 KiB and beyond it the sum and the XOR of the words (where a write that only
  permutes words escapes).

Keep no graph alive across updates you make by hand: `del` it, or `.detach()` what you keep.
"""
import contextlib
import itertools
import weakref
import zlib

import numpy as np

_pins = {}   # id(array) -> weakref to the Pin holding it read-only
writes = 0   # the engine's in-place writes into pinned arrays so far: while a node's snapshot of it holds, no
             # array that node saved can have been written
_passes = itertools.count(1)
current_pass = 0  # the backward pass running (or last run): a fingerprint is compared once per pass


class Pin:
    """Keeps one array read-only while it lives; nodes that saved the array share it. `stamps` lists the engine's
    in-place writes made meanwhile (writing() lifts the pin for each), as values of the global count `writes`."""

    __slots__ = ("array", "was_writeable", "stamps", "fingerprint", "checked", "deferred", "__weakref__")

    def __init__(self, array, fingerprinted=False):
        self.array, self.was_writeable, self.stamps = array, array.flags.writeable, []
        self.fingerprint = _fingerprint(array) if fingerprinted else None
        self.checked, self.deferred = current_pass, None
        _pins[id(array)] = weakref.ref(self)
        if self.was_writeable:
            array.flags.writeable = False  # last: if anything above is interrupted, __del__ restores nothing amiss

    def __del__(self):
        try:
            if self.was_writeable:        # first: the one thing that must happen
                _restore(self.array)
            ref = _pins.get(id(self.array))
            if ref is not None and ref() in (None, self):
                del _pins[id(self.array)]
            for view in self.deferred or ():
                _restore(view)
        except Exception:  # interpreter shutdown: nothing to restore
            pass


def _restore(array):
    """Make a pinned array writeable again; a view whose base is still pinned waits for that base's pin."""
    try:
        array.flags.writeable = True
    except ValueError:                    # NumPy refuses while the base is read-only
        base = array.base
        while isinstance(base, np.ndarray):
            pin = _pin_of(base)
            if pin is not None:
                if pin.deferred is None:
                    pin.deferred = []
                pin.deferred.append(array)
                return
            base = base.base              # read-only for a reason of its own: the view stays read-only


_engine_made = {}   # id(array) -> (weakref to it, the forward it was allocated in): engine_made's arrays
_forward = 0        # forwards begun so far (begin_forward): a node's forward and the ones nested in it count above it


def begin_forward():
    """Called by Function.apply before a node's forward runs: returns the number that tells the arrays the engine
    allocates from now on (in this forward, or in a forward nested in it) from those it allocated before."""
    global _forward
    _forward += 1
    return _forward


def engine_made(array):
    """Mark `array` as memory the engine allocated for a node to fill (the workspace's arrays). The node whose forward
    filled it needs no fingerprint of it: nobody outside can have made a view of it before that forward (a Scan's
    gate blocks, 1.6 MB each, were fingerprinted four times a char-LM step). Later nodes treat it as an earlier
    node's output: no fingerprint when an input that a forward made views it, but once it reaches a node through a
    tensor no forward made (`.detach()`, a no_grad output), a view the user made of it since is fingerprinted as any
    array's would be. Returns the array."""
    key = id(array)

    def forget(ref, key=key):
        entry = _engine_made.get(key)
        if entry is not None and entry[0] is ref:
            del _engine_made[key]
    _engine_made[key] = (weakref.ref(array, forget), _forward)
    return array


_CRC_BYTES = 16 * 1024  # up to here zlib's CRC-32 is the cheaper pass (and sees order); beyond, two NumPy reductions
_one_pass = None        # a faster fingerprint of a C-contiguous array, when the kernels provide one (use_fingerprint)


def use_fingerprint(function):
    """Fingerprint with function(c_contiguous_array) -> hashable from now on; set once, at import (by the package,
    from the Cython kernels), before any array is pinned: a fingerprint is only ever compared with one made the
    same way."""
    global _one_pass
    if _pins:
        raise RuntimeError("use_fingerprint: arrays are pinned already; set the fingerprint before any forward")
    _one_pass = function


def _fingerprint(array):
    data = array if array.flags.c_contiguous else np.ascontiguousarray(array)
    if _one_pass is not None:
        return _one_pass(data)
    if data.nbytes <= _CRC_BYTES:
        return zlib.crc32(memoryview(data.reshape(-1)).cast("B"))
    words = data.reshape(-1).view(np.uint64 if data.nbytes % 8 == 0 else np.uint8)
    return int(np.add.reduce(words, dtype=np.uint64)), int(np.bitwise_xor.reduce(words))


def _pin_of(array):
    ref = _pins.get(id(array))
    return None if ref is None else ref()


def _chain(array):
    """The array and the arrays up its .base chain (what it is a view of)."""
    while isinstance(array, np.ndarray):
        yield array
        array = array.base


def guards(tensors, saved, out, forward=None):
    """For a node being recorded: (writes, fingerprinted pins, pin, pin, ...) with a pin for every ndarray it saved
    (also inside a tuple, as an index is), for the arrays those are views of, and for the inputs' and outputs'
    arrays that view those (made before the pins, so not read-only by inheritance); or None when it saved none.
    Holding the pins keeps those arrays read-only. The root of each chain (the array that the views look into) is
    fingerprinted, unless a forward made it (this node's output, or an earlier node's that is this node's input):
    only other arrays can have views made before the forward."""
    found = None
    for item in saved:
        if isinstance(item, np.ndarray):
            arrays = (item,)
        elif type(item) is tuple:
            arrays = [a for a in item if isinstance(a, np.ndarray)]
        else:
            continue
        if found is None:
            found = {}
        for a in arrays:
            if forward is not None and _scratch(a, out, forward):
                continue
            while a is not None:
                base = a.base
                if not isinstance(base, np.ndarray):
                    base = None                   # a is the root: what every view of it looks into
                if id(a) not in found:
                    found[id(a)] = _pin(a, base is None and not _made_by_a_forward(a, tensors, out, forward))
                a = base
    if not found:
        return None
    for t in tensors:                    # (inputs and outputs that view a pinned array: the base collapses chains,
        _pin_view(t.data, found)         # so one level is all there is)
    if type(out) is tuple:
        for o in out:
            _pin_view(o, found)
    else:
        _pin_view(out, found)
    pins = tuple(found.values())
    return (writes, tuple([p for p in pins if p.fingerprint is not None]) or None) + pins


def _scratch(array, out, forward):
    """Whether `array` is the node's own scratch: memory the engine allocated in this node's forward (engine_made)
    that no output of the node looks into. Nobody else holds it, nobody can write it, and the node frees it, so it
    needs no pin (a Scan's gate, cell and state blocks were six of an LSTM layer's sixteen pins a call)."""
    root = array.base if isinstance(array.base, np.ndarray) else array
    entry = _engine_made.get(id(root))
    if entry is None or entry[1] < forward or entry[0]() is not root:
        return False
    for o in out if type(out) is tuple else (out,):
        if o is root or o.base is root:
            return False
    return True


def _made_by_a_forward(array, tensors, out, forward=None):
    """Whether `array` is this node's output (or what it views), an earlier node's output that is an input here
    (or an engine constant), or memory the engine allocated (engine_made) in this node's forward (`forward`: the
    number begin_forward gave it), or for an earlier node whose output an input here views: arrays nobody outside
    could have viewed before."""
    entry = _engine_made.get(id(array))
    if entry is not None and entry[0]() is array:
        if forward is not None and entry[1] >= forward:
            return True
        for t in tensors:
            if t._ctx is not None and t.data.base is array:
                return True
    for o in out if type(out) is tuple else (out,):
        if array is o or array is o.base:
            return True
    for t in tensors:
        if t.data is array and (t._ctx is not None or t._version is None):
            return True
    return False


def _pin_view(array, found):
    base = array.base
    if base is not None and id(base) in found and id(array) not in found and isinstance(array, np.ndarray):
        found[id(array)] = _pin(array, False)


def _pin(array, fingerprinted):
    """The array's pin, made if it has none; with a fingerprint if asked for."""
    ref = _pins.get(id(array))
    pin = ref() if ref is not None else None
    if pin is None:
        return Pin(array, fingerprinted)
    if fingerprinted and pin.fingerprint is None:
        pin.fingerprint, pin.checked = _fingerprint(array), current_pass
    return pin


def begin_pass():
    """Called by each backward before it runs: fingerprints are compared again in this pass."""
    global current_pass
    current_pass = next(_passes)


def check(ctx):
    """Before a node's backward, when the engine wrote a pinned array since the node was made or the node holds
    fingerprinted arrays: RuntimeError if an array it saved was written in place since its forward."""
    made, fingerprinted = ctx.guards[0], ctx.guards[1]
    if made != writes:
        for pin in ctx.guards[2:]:
            since = sum(stamp > made for stamp in pin.stamps)
            if since:
                t, index = _input_of(ctx, pin.array)
                now = max(since, 0 if t is None else t._version)  # (a write through another tensor sharing it)
                raise RuntimeError(_modified(ctx, pin.array, index, f"is at version {now}; expected version "
                                             f"{now - since} instead. Hint: an optimizer step or load_state_dict "
                                             f"ran between this forward and its backward; call backward() first."))
    for pin in fingerprinted or ():
        if pin.checked != current_pass:
            pin.checked = current_pass
            if _fingerprint(pin.array) != pin.fingerprint:
                _, index = _input_of(ctx, pin.array)
                raise RuntimeError(_modified(ctx, pin.array, index, "was written in place after the forward saved "
                                             "it (through a view made before the forward, which cannot be made "
                                             "read-only). Hint: write through views only after backward()."))


def _input_of(ctx, array):
    """(tensor, index) of the node's input whose array is `array` or a view of it, else (None, None)."""
    for i, p in enumerate(ctx.parents):
        if any(a is array for a in _chain(p.data)):
            return p, i
    return None, None


def _modified(ctx, array, index, what):
    which = f"input {index} of {type(ctx).__name__}" if index is not None else f"saved by {type(ctx).__name__}"
    return (f"one of the variables needed for gradient computation has been modified by an inplace operation: "
            f"[{array.dtype} array of shape {tuple(array.shape)}], which is {which}, {what}")


@contextlib.contextmanager
def writing(tensor):
    """The engine's in-place write into tensor.data: allowed while a graph holds the array (that graph's backward
    then raises), and counted in tensor._version."""
    global writes
    pin = _pin_of(tensor.data)
    if pin is None:
        yield
    else:
        writes += 1
        pin.stamps.append(writes)
        tensor.data.flags.writeable = pin.was_writeable
        try:
            yield
        finally:
            tensor.data.flags.writeable = False
            if pin.fingerprint is not None:  # counted by the version above: not a write the fingerprint must catch
                pin.fingerprint = _fingerprint(tensor.data)
    if tensor._version is not None:
        tensor._version += 1
