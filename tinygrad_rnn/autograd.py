"""The tape walk: reverse-mode backward from one or more tensors, iterative, freeing what it has consumed; and
torch.autograd's functions on it: `backward(tensors, grad_tensors)`, `grad(outputs, inputs)` (the gradients
returned, no `.grad` touched), `Tensor.register_hook` and `Tensor.retain_grad`."""
from __future__ import annotations

import itertools
import threading
import warnings
import weakref

import numpy as np

from . import anomaly, inplace
from .anomaly import detect_anomaly  # noqa: F401  (torch.autograd's names)
from .function import Fresh, Function, LazyGrad  # noqa: F401
from .grad_mode import enable_grad, no_grad  # noqa: F401
from .tensor import Tensor
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from typing import Any, Callable, Iterator, Sequence

FREED_GRAPH = (
    "Trying to backward through the graph a second time (or directly access saved tensors after they have "
    "already been freed). Saved intermediate values of the graph are freed when you call .backward() or "
    "autograd.grad(). Specify retain_graph=True if you need to backward through the graph a second time or if you "
    "need to access saved tensors after calling backward."
)


def _dense(g: Any) -> Any:
    """Gradients travel as ndarrays, or as a LazyGrad that becomes one when a node or leaf needs it."""
    return g.materialize() if isinstance(g, LazyGrad) else g


def _sum(a: Any, b: Any) -> Any:
    """a + b for gradients: a LazyGrad takes the other term in (it may reuse itself: only the tape holds it)."""
    if isinstance(a, LazyGrad):
        return a.accumulate(b)
    if isinstance(b, LazyGrad):
        return b.accumulate(a)
    return a + b


_accumulating = threading.Lock()  # two threads' backwards reaching one leaf must not lose a term (PyTorch's
                                  # AccumulateGrad locks too)


def _accumulate_leaf(t: Any, g: Any) -> None:
    owned = isinstance(g, LazyGrad) and g.fresh()    # its result is a fresh array nobody else holds
    g = _dense(g)
    if g.shape != t.data.shape:
        raise RuntimeError(f"internal error: gradient of shape {g.shape} for a leaf of shape {t.data.shape}")
    with _accumulating:
        _add_to_grad(t, g, owned)


def _add_to_grad(t: Any, g: Any, owned: Any) -> None:
    if t.grad is not None:
        t.grad = t.grad + g
    elif owned and g.dtype == t.data.dtype:          # taken as it is, as PyTorch's AccumulateGrad steals a
        t.grad = g                                   # gradient no one else references: no second copy of dW
    else:
        t.grad = np.array(g, dtype=t.data.dtype)     # may be shared (an add sends one array to both inputs)


# ---- gradient hooks (Tensor.register_hook) ------------------------------------------------------------------
# A tensor keeps its own hooks (`tensor._hooks`, {handle id: fn}), so they die with it even when a hook's closure
# refers to the tensor (a cycle the garbage collector frees; a table of ours holding the hooks would keep both
# alive forever). Backward finds the hooked tensors through this weak set: while it is empty, backward pays one
# truth test per call and one `is not None` per node.
class _WeakIdSet:
    """A set of tensors held weakly and compared by identity. (weakref.WeakSet compares its members with ==, which
    for tensors is elementwise, as in PyTorch, whose autograd keeps such tables by id for the same reason.)"""

    __slots__ = ("_refs",)

    def __init__(self) -> None:
        self._refs: dict[int, Any] = {}

    def add(self, t: Tensor) -> None:
        key, refs = id(t), self._refs
        if key not in refs:
            refs[key] = weakref.ref(t, lambda r, key=key, refs=refs: refs.pop(key, None) if refs.get(key) is r  # type: ignore[misc]
                                    else None)

    def discard(self, t: Tensor) -> None:
        self._refs.pop(id(t), None)

    def __iter__(self) -> Iterator[Any]:
        return iter([t for t in (r() for r in list(self._refs.values())) if t is not None])

    def __contains__(self, t: Tensor) -> bool:
        ref = self._refs.get(id(t))
        return ref is not None and ref() is t

    def __len__(self) -> int:
        return len(self._refs)

    def __bool__(self) -> bool:
        return bool(self._refs)


_hooked_tensors = _WeakIdSet()
_handle_ids = itertools.count()


class RemovableHandle:
    """What register_hook returns: `.remove()` unregisters the hook (also on leaving a `with` block)."""

    __slots__ = ("_tensor", "_id")

    def __init__(self, tensor: Tensor, hook_id: int) -> None:
        self._tensor, self._id = weakref.ref(tensor), hook_id

    def remove(self) -> None:
        tensor = self._tensor()
        if tensor is not None and tensor._hooks is not None:
            tensor._hooks.pop(self._id, None)
            if not tensor._hooks:
                tensor._hooks = None
                _hooked_tensors.discard(tensor)

    def __enter__(self) -> Any:
        return self

    def __exit__(self, *exc_info: Any) -> None:
        self.remove()


def register_hook(tensor: Tensor, fn: Callable[..., Any]) -> Any:
    """Calls fn(grad) each time backward computes the gradient w.r.t. `tensor` (an ndarray, like `.grad`); a
    non-None return value (ndarray or Tensor of the same shape) replaces that gradient from then on."""
    if not callable(fn):
        raise TypeError(f"register_hook: expected a callable, but got {type(fn).__name__}")
    if not tensor.requires_grad:
        raise RuntimeError("cannot register a hook on a tensor that doesn't require gradient")
    if tensor._hooks is None:
        tensor._hooks = {}
        _hooked_tensors.add(tensor)
    hook_id = next(_handle_ids)
    tensor._hooks[hook_id] = fn
    return RemovableHandle(tensor, hook_id)


def _hooks_by_node() -> Any:
    """{node: {output index: [fn, ...]}, leaf tensor: {0: [fn, ...]}} for the tensors alive with hooks; a
    retain_grad hook last (it stores the gradient the other hooks made, as PyTorch's does)."""
    table: dict[Any, dict[int, list[Any]]] = {}
    for t in list(_hooked_tensors):
        fns = t._hooks
        if not fns:
            continue
        key = t._ctx if t._ctx is not None else t
        ordered = sorted(fns.values(), key=lambda fn: type(fn) is _RetainGrad)    # stable: the rest keep order
        table.setdefault(key, {}).setdefault(t._idx if t._ctx is not None else 0, []).extend(ordered)
    return table


class _RetainGrad:
    """The hook Tensor.retain_grad registers: adds the gradient into the tensor's .grad (a copy), changes nothing.
    It holds its tensor weakly, so the tensor owning it can die."""

    __slots__ = ("tensor",)

    def __init__(self, tensor: Tensor) -> None:
        self.tensor = weakref.ref(tensor)

    def __call__(self, g: Any) -> None:
        t = self.tensor()
        if t is not None:
            with _accumulating:
                _add_to_grad(t, g, False)


def retain_grad(tensor: Tensor) -> None:
    """A non-leaf tensor keeps its gradient in `.grad` from the next backward on (summed over backwards, after its
    other hooks); a leaf keeps it anyway (no-op). RuntimeError for a tensor that does not require grad."""
    if not tensor.requires_grad:
        raise RuntimeError("can't retain_grad on Tensor that has requires_grad=False")
    if tensor._ctx is None or retains_grad(tensor):
        return
    register_hook(tensor, _RetainGrad(tensor))


def retains_grad(tensor: Tensor) -> Any:
    """True once retain_grad was called on this non-leaf tensor (False for leaves, as PyTorch's)."""
    return tensor._hooks is not None and any(type(fn) is _RetainGrad for fn in tensor._hooks.values())


def _call_hooks(fns: Any, g: Any) -> Any:
    for fn in fns:
        out = fn(g)
        if out is not None:
            out = out.data if hasattr(out, "_ctx") else np.asarray(out, dtype=g.dtype)
            if out.shape != g.shape:
                raise RuntimeError(f"hook {getattr(fn, '__name__', fn)!r} has changed the size of value: "
                                   f"expected {g.shape}, but got {out.shape}")
            g = out
    return g


def _hooked(by_index: Any, g: Any, n_out: int) -> Any:
    """A node's output gradient(s) after the hooks of its output tensors (outputs that got none are skipped)."""
    if not n_out:
        return _call_hooks(by_index[0], g)
    g = list(g)
    for idx, fns in by_index.items():
        if g[idx] is not None:
            g[idx] = _call_hooks(fns, g[idx])
    return tuple(g)




# ---- the walk -------------------------------------------------------------------------------------------------
def _count_consumers(root_ctxs: Any, boundary: Any = None) -> Any:
    """Pass 1: how many recorded uses each node and each leaf has below the roots (Kahn's in-degrees). A freed
    node raises, unless it is in `boundary` (a node whose output autograd.grad wants: nothing below it is
    needed through it); returns (counts, whether such a freed boundary node was met)."""
    pending: dict[Any, int] = {}
    roots = set(root_ctxs)
    stack = list(roots)
    met_freed = False
    while stack:
        ctx = stack.pop()
        if ctx.freed:
            if boundary is not None and ctx in boundary:
                met_freed = True
                continue
            raise RuntimeError(FREED_GRAPH)
        for p in ctx.parents:
            if p.requires_grad:
                key = p._ctx if p._ctx is not None else p
                if key in pending:
                    pending[key] += 1
                else:
                    pending[key] = 1
                    if p._ctx is not None and key not in roots:
                        stack.append(p._ctx)
    return pending, met_freed


class _Capture:
    """What grad() and backward(inputs=) collect instead of accumulating into every leaf: the gradient reaching each
    input (a leaf's after its hooks; a non-leaf's, its node's output gradient after that output's hooks). Only the
    nodes with a path to an input run (`run`); the others are neither run nor freed, as in PyTorch."""

    __slots__ = ("leaves", "outputs", "grads", "run")

    def __init__(self, inputs: Any) -> None:
        self.leaves: dict[int, list[int]] = {}        # id(leaf) -> [positions in inputs]
        self.outputs: dict[Any, dict[int, list[int]]] = {}       # node -> {output index -> [positions]}
        for i, t in enumerate(inputs):
            if t._ctx is None:
                self.leaves.setdefault(id(t), []).append(i)
            else:
                self.outputs.setdefault(t._ctx, {}).setdefault(t._idx, []).append(i)
        self.grads = [None] * len(inputs)
        self.run = None

    def take(self, positions: Any, g: Any) -> None:
        for i in positions:
            self.grads[i] = g

    def take_outputs(self, ctx: Any, g: Any) -> None:
        for idx, positions in self.outputs[ctx].items():
            self.take(positions, g[idx] if ctx.n_out else g)


def _nodes_to_run(root_ctxs: Any, capture: Any) -> Any:
    """The nodes below the roots with a path through their parents to an input of `capture` (an iterative
    post-order: a node is decided after all its parents' nodes)."""
    leads = {}
    stack = [(ctx, False) for ctx in set(root_ctxs)]
    while stack:
        ctx, expanded = stack.pop()
        if ctx in leads:
            continue
        if ctx.freed:                  # a freed boundary node: nothing below it is reachable
            leads[ctx] = False
            continue
        if not expanded:
            stack.append((ctx, True))
            stack.extend([(p._ctx, False) for p in ctx.parents
                          if p.requires_grad and p._ctx is not None and p._ctx not in leads])
            continue
        leads[ctx] = any(p.requires_grad and (id(p) in capture.leaves if p._ctx is None else
                                              p._ctx in capture.outputs or leads[p._ctx]) for p in ctx.parents)
    return {ctx for ctx, yes in leads.items() if yes}


class _Backward(threading.local):
    retaining = False   # True while this thread runs a backward with retain_graph=True: nodes must keep what they saved


state = _Backward()     # per thread: another thread's backward must not free (or keep) this one's saved arrays


def is_retaining() -> Any:
    return state.retaining


def run_backward(root: Any, gradient: Any, retain_graph: bool | None = False) -> None:
    """Tensor.backward: sends `gradient` from `root` into every leaf's .grad; a node runs once all its consumers
    have sent theirs."""
    run_walk([root], [gradient], retain_graph)


def run_walk(roots: Any, gradients: Any, retain_graph: Any = False, capture: Any = None) -> None:
    """The walk from several roots at once (their gradients summed where the graphs meet), into the leaves' .grad,
    or into `capture` (a _Capture) with no .grad touched."""
    outer, state.retaining = state.retaining, retain_graph
    inplace.begin_pass()
    try:
        _walk(roots, gradients, retain_graph, capture)
    finally:
        state.retaining = outer


def _seed(roots: Any, gradients: Any) -> Any:
    """The roots' gradients in the walk's table (summed when a root repeats), and their distinct nodes."""
    grads: dict[Any, Any] = {}
    root_ctxs: list[Any] = []
    for t, g in zip(roots, gradients):
        ctx = t._ctx
        if ctx is None:
            grads[t] = _sum(grads[t], g) if t in grads else g
            continue
        if ctx not in grads:
            root_ctxs.append(ctx)
            grads[ctx] = [None] * ctx.n_out if ctx.n_out else None
        if ctx.n_out:
            slots = grads[ctx]
            slots[t._idx] = g if slots[t._idx] is None else _sum(slots[t._idx], g)
        else:
            grads[ctx] = g if grads[ctx] is None else _sum(grads[ctx], g)
    return grads, root_ctxs


def _finish_leaf(p: Any, g: Any, hooks: Any, capture: Any) -> None:
    """All of a leaf's gradient has arrived: its hooks, then into .grad (or into `capture`, for an input only)."""
    if capture is not None:
        positions = capture.leaves.get(id(p))
        if positions is None:
            return                     # not asked for: neither its hooks nor its .grad, as PyTorch
    if hooks is not None and p in hooks:
        g = _call_hooks(hooks[p][0], _dense(g))
    if capture is None:
        _accumulate_leaf(p, g)
    else:
        capture.take(positions, g)


def _partner(ctx: Any, parent_grads: Any, g: Any, grads: Any, pending: Any) -> Any:
    """The node that may give g's partner: a parent of ctx whose whole incoming gradient is the array g's shared
    factor views (a Scan's dz, all of the projection node's gradient), that has all of it already (it runs next),
    has one output, and only reads its incoming gradient (Function.grad_read_only: a backward that wrote into it
    would change the held factor). None: no such node."""
    factor = g.shared_factor()
    if factor is None:
        return None
    root = factor if factor.base is None else factor.base
    for p, pg in zip(ctx.parents, parent_grads):
        node = p._ctx
        if (node is not None and type(pg) is np.ndarray and (pg if pg.base is None else pg.base) is root
                and type(node).grad_read_only and not node.n_out and node not in pending and grads.get(node) is pg):
            return node
    return None


def _finish_leaves(ctx: Any, p: Any, g: Any, parent_grads: Any, walk: Any, hooks: Any, capture: Any) -> None:
    """_finish_leaf, pairing lazy leaf gradients that share a factor (an LSTM layer's dW_hh and dW_ih, both of one
    dz: one GEMM pass for the two). A leaf whose gradient's factor is all the gradient of a node about to run waits
    in walk.deferred for that node's backward, which runs next; walk None: no pairing (hooks, autograd.grad,
    anomaly mode)."""
    if walk is not None and isinstance(g, LazyGrad):
        waiting = walk.deferred.get(ctx)
        for i, (q, h) in enumerate(waiting or ()):
            if h.pairs_with(g):
                del waiting[i]
                a, b = h.materialize_pair(g)
                _finish_leaf(q, Fresh(a), hooks, capture)
                _finish_leaf(p, Fresh(b), hooks, capture)
                return
        node = _partner(ctx, parent_grads, g, walk.grads, walk.pending)
        if node is not None:
            walk.deferred.setdefault(node, []).append((p, g))
            walk.ready.remove(node)      # (it has all its gradient, so it is in ready): next, so that the held
            walk.ready.append(node)      # factors live no longer than they did
            return
    _finish_leaf(p, g, hooks, capture)


class _Pairing:
    """What _finish_leaves reads of a walk: the held leaves by the node they wait for, and the walk's state."""

    __slots__ = ("deferred", "grads", "pending", "ready")

    def __init__(self, grads: Any, pending: Any, ready: Any) -> None:
        self.deferred: dict[Any, list[Any]] = {}
        self.grads, self.pending, self.ready = grads, pending, ready

    def release(self, hooks: Any, capture: Any, node: Any = None) -> None:
        """Finish the held leaves waiting for `node` (None: all of them) one by one."""
        if node is None:
            held, self.deferred = list(self.deferred.values()), {}
        else:
            held = [self.deferred.pop(node, [])]
        for waiting in held:
            for q, h in waiting:
                _finish_leaf(q, h, hooks, capture)


def _walk(roots: Any, gradients: Any, retain_graph: bool | None, capture: Any) -> None:
    hooks = _hooks_by_node() if _hooked_tensors else None
    check = anomaly.state.enabled
    # grads: node -> its output's gradient (a list, one per output, for multi-output nodes); leaf -> gradient
    grads, root_ctxs = _seed(roots, gradients)
    pending, met_freed = _count_consumers(root_ctxs, None if capture is None else capture.outputs)
    run = None
    if capture is not None:
        if met_freed and (capture.leaves or any(not ctx.freed for ctx in capture.outputs)):
            raise RuntimeError(FREED_GRAPH)   # an input might lie below the freed node: its gradient would be short
        run = capture.run = _nodes_to_run(root_ctxs, capture)
    for t in roots:
        if t._ctx is None and t in grads and t not in pending:   # a leaf root nothing else reaches
            _finish_leaf(t, grads.pop(t), hooks, capture)
    ready = [ctx for ctx in root_ctxs if ctx not in pending]
    pairing = _Pairing(grads, pending, ready) if hooks is None and capture is None and not check else None
    try:
        while ready:
            ctx = ready.pop()
            g = grads.pop(ctx, None)
            runs = run is None or ctx in run
            wanted = capture is not None and ctx in capture.outputs
            if g is None or not (runs or wanted):  # nothing reached this node (or nothing below needs it): its
                parent_grads = None                # inputs get nothing from it either
            else:
                if ctx.n_out:
                    g = tuple([_dense(x) for x in g])
                elif isinstance(g, LazyGrad):
                    g = g.materialize()
                if hooks is not None and ctx in hooks:
                    g = _hooked(hooks[ctx], g, ctx.n_out)
                if wanted:
                    capture.take_outputs(ctx, g)
                if runs:
                    if ctx.guards is not None and (ctx.guards[0] != inplace.writes or ctx.guards[1] is not None):
                        inplace.check(ctx)
                    parent_grads = type(ctx).backward(ctx, g)
                    if type(parent_grads) is not tuple:
                        parent_grads = (parent_grads,)
                    if check:
                        anomaly.check_backward(type(ctx).__name__, parent_grads, getattr(ctx, "trace", None))
                else:
                    parent_grads = None
            if ctx.parents is None:        # a freed boundary node: nothing below it was counted
                continue
            if parent_grads is None:
                parent_grads = (None,) * len(ctx.parents)
            for p, pg in zip(ctx.parents, parent_grads):
                if not p.requires_grad:
                    continue
                key = p._ctx if p._ctx is not None else p
                if pg is not None:
                    if key is p or not key.n_out:
                        grads[key] = _sum(grads[key], pg) if key in grads else pg
                    else:
                        slots = grads.get(key) or grads.setdefault(key, [None] * key.n_out)
                        slots[p._idx] = pg if slots[p._idx] is None else _sum(slots[p._idx], pg)
                left = pending[key] - 1
                if left:
                    pending[key] = left
                    continue
                del pending[key]
                if key is p:
                    if p in grads:
                        _finish_leaves(ctx, p, grads.pop(p), parent_grads, pairing, hooks, capture)
                else:
                    ready.append(key)
            if pairing is not None and pairing.deferred:
                pairing.release(hooks, capture, ctx)     # no leaf of this node's shared the factor: alone, now
            if not retain_graph and runs:
                # dropping the guards lets the saved arrays be written again
                ctx.parents = ctx.saved = ctx.guards = None
                ctx.freed = True
    except BaseException:
        if pairing is not None:            # the leaves held back get their .grad, as they would have without it
            pairing.release(hooks, capture)
        raise
    if pairing is not None:
        pairing.release(hooks, capture)    # (a partner node that never came up: not reached)


# ---- torch.autograd's functions -------------------------------------------------------------------------------
def _tensors(value: Any, name: str) -> Any:
    """A Tensor or a sequence of them, as a tuple (PyTorch's `_tensor_or_tensors_to_tuple`)."""
    if isinstance(value, Tensor):
        return (value,)
    if isinstance(value, (str, bytes)) or not hasattr(value, "__iter__"):
        raise TypeError(f"{name}: expected a Tensor or a sequence of Tensors, but got {type(value).__name__}")
    items = tuple(value)
    for i, t in enumerate(items):
        if not isinstance(t, Tensor):
            raise TypeError(f"{name}: expected a Tensor or a sequence of Tensors, but element {i} is "
                            f"{type(t).__name__}")
    return items


def _make_grads(outputs: Any, grad_outputs: Any) -> Any:
    """One gradient per output, as ndarrays of the output's dtype: ones for a scalar output given None. Checked in
    PyTorch's order, with its messages: shapes and implicit gradients pair by pair, then the counts, then that
    every output requires grad."""
    if grad_outputs is None:
        given: tuple[Any, ...] = (None,) * len(outputs)
    elif isinstance(grad_outputs, (Tensor, np.ndarray, np.generic, int, float)):   # one gradient, not a list
        given = (grad_outputs,)
    else:
        given = tuple(grad_outputs)
    grads = []
    for i, (out, g) in enumerate(zip(outputs, given)):
        if g is None:
            if out.requires_grad and out.data.size != 1:
                raise RuntimeError("grad can be implicitly created only for scalar outputs")
            grads.append(np.ones_like(out.data))
            continue
        data = np.asarray(g.data if isinstance(g, Tensor) else g)
        if data.shape != out.data.shape:
            raise RuntimeError(f"Mismatch in shape: grad_output[{i}] has a shape of {data.shape} and output[{i}] "
                               f"has a shape of {out.data.shape}.")
        grads.append(data if data.dtype == out.data.dtype else data.astype(out.data.dtype))
    if len(given) != len(outputs):
        raise RuntimeError(f"got {len(outputs)} tensors and {len(given)} gradients")
    for i, out in enumerate(outputs):
        if not out.requires_grad:
            raise RuntimeError(f"element {i} of tensors does not require grad and does not have a grad_fn")
    return grads


def _no_create_graph(name: str, create_graph: bool) -> None:
    if create_graph:
        raise NotImplementedError(
            f"autograd.{name}(create_graph=True): higher-order gradients are not supported here: backward functions "
            f"work on ndarrays, off the tape, so a gradient cannot be differentiated again (write the first "
            f"derivative out as tape ops, or use torch for double backward)")


def _as_gradient(g: Any, like: Any) -> Any:
    """A captured gradient as a fresh array of `like`'s dtype (the tape's own arrays may be shared or read-only)."""
    if isinstance(g, LazyGrad):
        fresh = g.fresh()
        g = g.materialize()
        if fresh and g.dtype == like.data.dtype:
            return g
    return np.array(g, dtype=like.data.dtype)


def backward(tensors: Sequence[Tensor], grad_tensors: Any = None, retain_graph: bool | None = None,
             create_graph: bool = False, grad_variables: Any = None, inputs: Any = None) -> None:
    """Σ over `tensors` of d(tensor)/d(leaf) · grad_tensor, accumulated into every leaf's .grad (or only into the
    .grad of `inputs`, leaves or not), as torch.autograd.backward. grad_tensors: one per tensor (None for a
    scalar: ones)."""
    _no_create_graph("backward", create_graph)
    if grad_variables is not None:
        warnings.warn("'grad_variables' is deprecated. Use 'grad_tensors' instead.", FutureWarning, stacklevel=2)
        if grad_tensors is not None:
            raise RuntimeError("'grad_tensors' and 'grad_variables' (deprecated) arguments both passed to "
                               "backward(). Please only use 'grad_tensors'.")
        grad_tensors = grad_variables
    tensors = _tensors(tensors, "backward")
    if inputs is not None:
        inputs = _tensors(inputs, "backward")
        if not inputs:
            raise RuntimeError("`inputs` argument to `backward()` cannot be empty.")
        for t in inputs:
            if not t.requires_grad:
                raise RuntimeError("One of the differentiated Tensors does not require grad")
    grads = _make_grads(tensors, grad_tensors)
    retain = bool(create_graph) if retain_graph is None else bool(retain_graph)
    if inputs is None:
        run_walk(list(tensors), grads, retain)
        return
    capture = _Capture(inputs)
    run_walk(list(tensors), grads, retain, capture)
    done: set[int] = set()
    for t, g in zip(inputs, capture.grads):
        if g is not None and id(t) not in done:        # an input listed twice gets its gradient once
            done.add(id(t))
            with _accumulating:
                _add_to_grad(t, _as_gradient(g, t), True)


def grad(outputs: Any, inputs: Any, grad_outputs: Any = None, retain_graph: bool | None = None,
         create_graph: bool = False, only_inputs: bool = True, allow_unused: bool | None = None,
         is_grads_batched: bool = False, materialize_grads: bool = False) -> Any:
    """The gradients Σ d(output)/d(input) · grad_output for each of `inputs` (leaves or not), returned as a tuple
    of Tensors (a dict when `inputs` is a dict of named tensors), without touching any .grad, as
    torch.autograd.grad. An input the outputs do not depend on is an error unless allow_unused (then None, or
    zeros with materialize_grads). retain_graph defaults to create_graph (False): the graph is freed."""
    _no_create_graph("grad", create_graph)
    if is_grads_batched:
        raise NotImplementedError("autograd.grad(is_grads_batched=True) is not supported here (it needs vmap): "
                                  "call grad once per grad_output")
    if not only_inputs:
        warnings.warn("only_inputs argument is deprecated and is ignored now (defaults to True). To accumulate "
                      "gradient for other parts of the graph, please use torch.autograd.backward.",
                      FutureWarning, stacklevel=2)
    if materialize_grads and allow_unused is False:
        raise ValueError("Expected allow_unused to be True or not passed when materialize_grads=True, but got: "
                         "allow_unused=False.")
    if allow_unused is None:
        allow_unused = materialize_grads
    names = None
    if isinstance(inputs, dict):
        names, inputs = list(inputs.keys()), list(inputs.values())
    if isinstance(inputs, Tensor):
        inputs = (inputs,)
    inputs = tuple(inputs)
    if not inputs:
        raise RuntimeError("`inputs` argument to `grad()` cannot be empty.")
    for t in inputs:
        if not isinstance(t, Tensor):
            raise RuntimeError(f"all inputs have to be Tensors or GradientEdges, but got {type(t).__name__}")
    outputs = _tensors(outputs, "grad")
    grads = _make_grads(outputs, grad_outputs)
    for t in inputs:
        if not t.requires_grad:
            raise RuntimeError("One of the differentiated Tensors does not require grad")
    capture = _Capture(inputs)
    run_walk(list(outputs), grads, bool(create_graph) if retain_graph is None else bool(retain_graph), capture)
    result = []
    for i, (t, g) in enumerate(zip(inputs, capture.grads)):
        if g is None:
            if not allow_unused:
                raise RuntimeError(f"The differentiated Tensor at index {i} appears to not have been used in the "
                                   f"graph. Set allow_unused=True if this is the desired behavior.")
            result.append(Tensor._make(np.zeros_like(t.data), None) if materialize_grads else None)
        else:
            result.append(Tensor._make(_as_gradient(g, t), None))
    return dict(zip(names, result)) if names is not None else tuple(result)


def Variable(data: Any, requires_grad: bool = False, volatile: bool = False) -> Tensor:
    """The pre-0.4 wrapper, as torch keeps it for old scripts: a new leaf over `data`'s memory (a Tensor or an
    array), requiring grad if asked."""
    array = data.data if isinstance(data, Tensor) else np.asarray(data)
    leaf = Tensor._make(array, None)
    return leaf.requires_grad_(bool(requires_grad) and not volatile)
