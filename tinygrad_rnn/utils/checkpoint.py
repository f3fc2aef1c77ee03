"""Activation checkpointing (Chen et al. 2016; for BPTT, Gruslys et al. 2016): trade memory for recomputation.

`checkpoint(fn, *args)` runs fn without recording (no_grad: nothing inside is saved for backward) and puts one node
on the tape whose backward runs fn again, recorded this time, and sweeps that short tape with the gradients that
reached fn's outputs. The node keeps only fn's tensor arguments. A long sequence cut into segments of k steps, each
checkpointed, keeps T/k carried states plus one segment's tape at a time instead of T steps' tapes: O(T/k + k)
memory for about one more forward pass of time.

Gradients reach every tensor that fn uses and that requires grad, arguments and parameters alike (a closure over
a Module's weights, as in `checkpoint(lambda x, h, c: lstm(x, (h, c)), x, h, c)`): the parameters' gradients are
accumulated while the recomputed tape is swept, inside the outer backward. That is what torch.utils.checkpoint does
with use_reentrant=False; `use_reentrant=True` is accepted and behaves the same way here (torch's reentrant variant
gives the parameters no gradient when no argument requires grad; this one does not drop them).
"""
import numpy as np

from .. import anomaly, autograd, grad_mode, inplace, rng
from ..function import Function
from ..tensor import Tensor


class Checkpoint(Function):
    """outputs = fn(*args), recorded as one node; ∂ by running fn again on the tape and sweeping it"""

    @staticmethod
    def forward(ctx, *arrays, **options):
        raise RuntimeError("Checkpoint nodes are made by tinygrad_rnn.utils.checkpoint(), not by Checkpoint.apply")

    @staticmethod
    def backward(ctx, grad):
        grads = (grad,) if not ctx.n_out else grad
        leaves = [_leaf(a, needs) for a, needs in zip(ctx.saved, ctx.needs_input_grad)]
        args, kwargs = _rebuild(ctx.template, iter(leaves))
        with _replayed_rng(ctx.rng_state), grad_mode.enable_grad():
            outputs = ctx.function(*args, **kwargs)
        recomputed = list(_tensors(outputs))
        _check_same_outputs(ctx.forward_outputs, recomputed)
        wanted = [(o, g) for o, g in zip((recomputed[k] for k in ctx.differentiable), grads)
                  if g is not None and o.requires_grad]
        if wanted:
            seeds = tuple([o for o, _ in wanted])
            root = _Seed.record(seeds, np.zeros((), seeds[0].dtype), save=False, grads=tuple([g for _, g in wanted]))
            _sweep_within_this_pass(root)
        return tuple([leaf.grad if needs else None for leaf, needs in zip(leaves, ctx.needs_input_grad)])

    @classmethod
    def record(cls, parents, out, save=True, **fields):
        """The node for `out` (an ndarray or a tuple of them) made from `parents`, as Function.apply records one,
        without apply's dtype promotion: the arguments of fn may be of any dtypes. It saves the parents' arrays
        (unless save=False). Returns the output tensor(s)."""
        ctx = cls()
        ctx.needs_input_grad = tuple([t.requires_grad for t in parents])
        ctx.saved = tuple([t.data for t in parents]) if save else ()
        ctx.freed = False
        ctx.parents = parents
        ctx.guards = inplace.guards(parents, ctx.saved, out) if ctx.saved else None  # its inputs stay read-only
        for name, value in fields.items():
            setattr(ctx, name, value)
        if anomaly.state.enabled:
            anomaly.record(ctx, out)
        if type(out) is tuple:
            ctx.n_out = len(out)
            return tuple([Tensor._make(o, ctx, i) for i, o in enumerate(out)])
        ctx.n_out = 0
        return Tensor._make(out, ctx, 0)


class _Seed(Checkpoint):
    """0 = Σ nothing: a root joining the recomputed outputs, whose backward hands each its incoming gradient"""

    @staticmethod
    def backward(ctx, grad):
        return ctx.grads


def checkpoint(function, *args, use_reentrant=None, preserve_rng_state=True, determinism_check="default",
               debug=False, early_stop=True, **kwargs):
    """function(*args, **kwargs) with its intermediate results recomputed in backward instead of stored.

    Memory: the tape keeps the tensor arguments (and the outputs) only; backward runs `function` again with
    gradients on. With preserve_rng_state (default) the recomputation draws the same random numbers (dropout
    masks) as the forward did. Tensors may sit in args and kwargs, also inside tuples, lists and dicts; outputs
    may be a Tensor or any nesting of tuples, lists and dicts of them. `function` must compute the same thing
    twice: outputs of another shape or dtype on recomputation raise a RuntimeError (a global read by `function`
    that changed in between cannot be seen, and gives wrong gradients, as in PyTorch). Outside grad mode it is
    simply function(*args, **kwargs). use_reentrant, debug and early_stop are taken for torch's signature: there is
    one implementation (use_reentrant=False's behaviour), and it always recomputes all of `function`.
    """
    if determinism_check not in ("default", "none"):
        raise ValueError(f"determinism_check should be one of ['default', 'none'], but got {determinism_check}")
    if not grad_mode.is_grad_enabled():
        return function(*args, **kwargs)
    rng_state = (type(rng.generator.bit_generator), rng.generator.bit_generator.state) if preserve_rng_state else None
    with grad_mode.no_grad():
        outputs = function(*args, **kwargs)
    flat = list(_tensors(outputs))
    differentiable = [k for k, o in enumerate(flat) if o.data.dtype.kind == "f"]   # indices and masks: no grad
    if not differentiable:
        return outputs
    inputs = tuple(_tensors((args, kwargs)))
    out = tuple([flat[k].data for k in differentiable])
    made = Checkpoint.record(inputs, out if len(out) > 1 else out[0], function=function,
                             template=_template((args, kwargs)), rng_state=rng_state, differentiable=differentiable,
                             forward_outputs=None if determinism_check == "none" else
                             [(o.shape, o.dtype) for o in flat])
    made = made if type(made) is tuple else (made,)
    replaced = dict(zip(differentiable, made))
    return _rebuild(outputs, iter([replaced.get(k, o) for k, o in enumerate(flat)]))


def checkpoint_sequential(functions, segments, input, use_reentrant=None, **kwargs):
    """torch.utils.checkpoint.checkpoint_sequential: `functions` (a Sequential or a list of callables) run in order
    on `input`, cut into `segments` runs of len(functions) // segments functions, each but the last checkpointed
    (the last run, with the remainder, is recorded as usual)."""
    preserve = kwargs.pop("preserve_rng_state", True)
    if kwargs:
        raise ValueError("Unexpected keyword arguments: " + ",".join(arg for arg in kwargs))
    if not isinstance(functions, (list, tuple)) and hasattr(functions, "children"):
        functions = list(functions.children())
    functions = list(functions)
    size = len(functions) // segments

    def run(start, end):
        def forward(x):
            for f in functions[start:end + 1]:
                x = f(x)
            return x
        return forward

    end = -1
    for start in range(0, size * (segments - 1), size):
        end = start + size - 1
        input = checkpoint(run(start, end), input, use_reentrant=use_reentrant, preserve_rng_state=preserve)
    return run(end + 1, len(functions) - 1)(input)


checkpoint.checkpoint = checkpoint                         # torch's spelling, torch.utils.checkpoint.checkpoint(...),
checkpoint.checkpoint_sequential = checkpoint_sequential   # also works as tinygrad_rnn.utils.checkpoint.checkpoint(...)


# ---- helpers --------------------------------------------------------------------------------------------------
class _Slot:
    """Where a tensor stood in the arguments (the template keeps everything else as it was)."""

    __slots__ = ()


_SLOT = _Slot()


def _tensors(value):
    """The tensors inside value (a Tensor, or tuples, lists and dicts of them), depth first, in order."""
    if isinstance(value, Tensor):
        yield value
    elif isinstance(value, (tuple, list)):
        for v in value:
            yield from _tensors(v)
    elif isinstance(value, dict):
        for v in value.values():
            yield from _tensors(v)


def _template(value):
    """value with every tensor replaced by a slot, to be filled by _rebuild."""
    if isinstance(value, Tensor):
        return _SLOT
    if isinstance(value, (tuple, list)):
        items = [_template(v) for v in value]
        return type(value)(items) if type(value) in (tuple, list) else _retype(value, items)
    if isinstance(value, dict):
        return {k: _template(v) for k, v in value.items()}
    return value


def _rebuild(value, fill):
    """value (a template, or the original structure) with its tensors or slots replaced, in order, from fill."""
    if isinstance(value, (Tensor, _Slot)):
        return next(fill)
    if isinstance(value, (tuple, list)):
        items = [_rebuild(v, fill) for v in value]
        return type(value)(items) if type(value) in (tuple, list) else _retype(value, items)
    if isinstance(value, dict):
        return {k: _rebuild(v, fill) for k, v in value.items()}
    return value


def _retype(value, items):
    """A tuple subclass (a namedtuple such as max's (values, indices)) rebuilt with new items."""
    return type(value)(*items) if hasattr(value, "_fields") else type(value)(items)


def _sweep_within_this_pass(root):
    """Backward from `root` as part of the backward pass running now: not a pass of its own (run_backward would
    start one), so that the in-place guards compare each fingerprint once per pass, not once per segment: a sequence
    cut into T/k segments would otherwise fingerprint the arrays the segments view (x, the targets) T/k times over,
    time quadratic in T. The recomputed tape is freed as it is swept (no retain_graph)."""
    outer, autograd.state.retaining = autograd.state.retaining, False
    try:
        autograd._walk([root], [np.ones((), dtype=root.data.dtype)], False, None)
    finally:
        autograd.state.retaining = outer


def _leaf(array, requires_grad):
    """A fresh leaf over a saved argument's array: the recomputed tape starts here. Nobody else can reach it, and
    the saved array is guarded by the Checkpoint node already, so the recomputed nodes need not guard it again."""
    t = Tensor._make(array, None)
    t.requires_grad = requires_grad
    t._version = None
    return t


class _replayed_rng:
    """Inside: the engine's generator as it was when the forward ran (the same dropout masks); after: as before.
    `state` is (bit generator class, its state dict), a hundred times cheaper to take than a deepcopy."""

    def __init__(self, state):
        self.state = state

    def __enter__(self):
        if self.state is not None:
            kind, state = self.state
            bits = kind()
            bits.state = state
            self.current, rng.generator = rng.generator, np.random.Generator(bits)

    def __exit__(self, *exc_info):
        if self.state is not None:
            rng.generator = self.current


def _check_same_outputs(forward, recomputed):
    if forward is None:
        return
    again = [(o.shape, o.dtype) for o in recomputed]
    if len(again) != len(forward):
        raise RuntimeError(f"checkpoint: the recomputed function returned {len(again)} tensors, but during the "
                           f"forward pass it returned {len(forward)}")
    for k, ((shape, dtype), (shape2, dtype2)) in enumerate(zip(forward, again)):
        if shape != shape2 or dtype != dtype2:
            raise RuntimeError(
                "checkpoint: Recomputed values for the following tensors have different metadata than during the "
                f"forward pass.\ntensor at position {k}:\nsaved metadata: {{'shape': {shape}, 'dtype': {dtype}}}\n"
                f"recomputed metadata: {{'shape': {shape2}, 'dtype': {dtype2}}}")
