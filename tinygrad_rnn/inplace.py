"""Writes into arrays the tape saved: caught, never silently wrong gradients.

A node's backward reads the arrays its forward saved. Leaf tensors (parameters, inputs) are the ones whose arrays
someone may write into between forward and backward; two guards cover them:

- the engine's own in-place writes (optimiser steps, `load_state_dict`) go through `writing(tensor)`, which bumps
  `tensor._version`; backward then raises PyTorch's RuntimeError ("one of the variables needed for gradient
  computation has been modified by an inplace operation: ... is at version 1; expected version 0 instead") naming
  the op that saved the array;
- a raw write (`param.data[...] = 0`, `x.data += 1`) cannot be counted, so it is refused instead: while a live node
  holds a leaf's array, the array is read-only (`flags.writeable = False`) and the write raises numpy's
  "ValueError: assignment destination is read-only" on the spot. The array becomes writeable again as soon as the
  last node holding it is freed by backward or garbage-collected (a Pin per array, shared by those nodes, restores
  the flag when it dies). Keep no graph alive across updates you make by hand: `del` it, or `.detach()` what you
  keep.

Only what a node saved counts (found by identity when the node is made: ops save their inputs as given): an op that
saved nothing (addition, reshape, ...) does not hold its inputs. A leaf that reaches a node only through a view op
on the tape (x.reshape(...).linear(W) with x requiring grad) is not guarded there, nor are constants made from
Python numbers.
"""
import contextlib
import weakref

_pins = {}   # id(array) -> weakref to the Pin holding it read-only
writes = 0   # the engine's in-place writes into pinned arrays so far: while a node's snapshot of it holds, no
             # array that node saved can have been written


class Pin:
    """Keeps one array read-only while it lives; nodes that saved the array share it. `stamps` lists the engine's
    in-place writes made meanwhile (writing() lifts the pin for each), as values of the global count `writes`."""

    __slots__ = ("array", "was_writeable", "stamps", "__weakref__")

    def __init__(self, array):
        self.array, self.was_writeable, self.stamps = array, array.flags.writeable, []
        _pins[id(array)] = weakref.ref(self)
        array.flags.writeable = False     # last: if anything above is interrupted, __del__ restores nothing amiss

    def __del__(self):
        try:
            if self.was_writeable:        # first: the one thing that must happen
                self.array.flags.writeable = True
            ref = _pins.get(id(self.array))
            if ref is not None and ref() in (None, self):
                del _pins[id(self.array)]
        except Exception:  # interpreter shutdown, or a base array made read-only meanwhile: nothing to restore
            pass


def _pin_of(array):
    ref = _pins.get(id(array))
    return None if ref is None else ref()


def guards(tensors, saved):
    """For a node being recorded: (writes, pin, pin, ...) with a pin for each leaf input whose array the node saved
    (the array itself: ops save their inputs as given), or None. Holding the pins keeps those arrays read-only."""
    found = None
    for t in tensors:
        if t._ctx is None and t._version is not None and id(t.data) in map(id, saved):
            ref = _pins.get(id(t.data))
            pin = ref() if ref is not None else None
            found = (found or (writes,)) + (pin or Pin(t.data),)
    return found


def check(ctx):
    """Before a node's backward, once `writes` moved since the node was made: RuntimeError if an array it saved was
    written in place since then."""
    made = ctx.guards[0]
    for pin in ctx.guards[1:]:
        since = sum(stamp > made for stamp in pin.stamps)
        if since:
            index, t = next((i, p) for i, p in enumerate(ctx.parents) if p.data is pin.array)
            now = max(t._version, since)                 # (a write through another tensor sharing the array)
            raise RuntimeError(
                f"one of the variables needed for gradient computation has been modified by an inplace operation: "
                f"[{t.data.dtype} array of shape {tuple(t.data.shape)}], which is input {index} of "
                f"{type(ctx).__name__}, is at version {now}; expected version {now - since} instead. "
                f"Hint: an optimizer step or load_state_dict ran between this forward and its backward; call "
                f"backward() first."
            )


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
    if tensor._version is not None:
        tensor._version += 1
