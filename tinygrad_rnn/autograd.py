"""The tape walk: reverse-mode backward from one tensor, iterative, freeing what it has consumed."""
import itertools
import threading
import weakref

import numpy as np

from . import anomaly, inplace
from .function import LazyGrad

FREED_GRAPH = (
    "Trying to backward through the graph a second time (or directly access saved tensors after they have "
    "already been freed). Saved intermediate values of the graph are freed when you call .backward(). "
    "Specify retain_graph=True if you need to backward through the graph a second time."
)


def _dense(g):
    """Gradients travel as ndarrays, or as a LazyGrad that becomes one when a node or leaf needs it."""
    return g.materialize() if isinstance(g, LazyGrad) else g


def _sum(a, b):
    """a + b for gradients: a LazyGrad takes the other term in (it may reuse itself: only the tape holds it)."""
    if isinstance(a, LazyGrad):
        return a.accumulate(b)
    if isinstance(b, LazyGrad):
        return b.accumulate(a)
    return a + b


_accumulating = threading.Lock()  # two threads' backwards reaching one leaf must not lose a term (PyTorch's
                                  # AccumulateGrad locks too)


def _accumulate_leaf(t, g):
    owned = isinstance(g, LazyGrad) and g.fresh()    # its result is a fresh array nobody else holds
    g = _dense(g)
    if g.shape != t.data.shape:
        raise RuntimeError(f"internal error: gradient of shape {g.shape} for a leaf of shape {t.data.shape}")
    with _accumulating:
        _add_to_grad(t, g, owned)


def _add_to_grad(t, g, owned):
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

    def __init__(self):
        self._refs = {}

    def add(self, t):
        key, refs = id(t), self._refs
        if key not in refs:
            refs[key] = weakref.ref(t, lambda r, key=key, refs=refs: refs.pop(key, None) if refs.get(key) is r
                                    else None)

    def discard(self, t):
        self._refs.pop(id(t), None)

    def __iter__(self):
        return iter([t for t in (r() for r in list(self._refs.values())) if t is not None])

    def __contains__(self, t):
        ref = self._refs.get(id(t))
        return ref is not None and ref() is t

    def __len__(self):
        return len(self._refs)

    def __bool__(self):
        return bool(self._refs)


_hooked_tensors = _WeakIdSet()
_handle_ids = itertools.count()


class RemovableHandle:
    """What register_hook returns: `.remove()` unregisters the hook (also on leaving a `with` block)."""

    __slots__ = ("_tensor", "_id")

    def __init__(self, tensor, hook_id):
        self._tensor, self._id = weakref.ref(tensor), hook_id

    def remove(self):
        tensor = self._tensor()
        if tensor is not None and tensor._hooks is not None:
            tensor._hooks.pop(self._id, None)
            if not tensor._hooks:
                tensor._hooks = None
                _hooked_tensors.discard(tensor)

    def __enter__(self):
        return self

    def __exit__(self, *exc_info):
        self.remove()


def register_hook(tensor, fn):
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


def _hooks_by_node():
    """{node: {output index: [fn, ...]}, leaf tensor: {0: [fn, ...]}} for the tensors alive with hooks."""
    table = {}
    for t in list(_hooked_tensors):
        fns = t._hooks
        if not fns:
            continue
        key = t._ctx if t._ctx is not None else t
        table.setdefault(key, {}).setdefault(t._idx if t._ctx is not None else 0, []).extend(fns.values())
    return table


def _call_hooks(fns, g):
    for fn in fns:
        out = fn(g)
        if out is not None:
            out = out.data if hasattr(out, "_ctx") else np.asarray(out, dtype=g.dtype)
            if out.shape != g.shape:
                raise RuntimeError(f"hook {getattr(fn, '__name__', fn)!r} has changed the size of value: "
                                   f"expected {g.shape}, but got {out.shape}")
            g = out
    return g


def _hooked(by_index, g, n_out):
    """A node's output gradient(s) after the hooks of its output tensors (outputs that got none are skipped)."""
    if not n_out:
        return _call_hooks(by_index[0], g)
    g = list(g)
    for idx, fns in by_index.items():
        if g[idx] is not None:
            g[idx] = _call_hooks(fns, g[idx])
    return tuple(g)


def _count_consumers(root_ctx):
    """Pass 1: how many recorded uses each node and each leaf has below the root (Kahn's in-degrees)."""
    pending = {}
    stack = [root_ctx]
    while stack:
        ctx = stack.pop()
        if ctx.freed:
            raise RuntimeError(FREED_GRAPH)
        for p in ctx.parents:
            if p.requires_grad:
                key = p._ctx if p._ctx is not None else p
                if key in pending:
                    pending[key] += 1
                else:
                    pending[key] = 1
                    if p._ctx is not None:
                        stack.append(p._ctx)
    return pending


class _Backward(threading.local):
    retaining = False   # True while this thread runs a backward with retain_graph=True: nodes must keep what they saved


state = _Backward()     # per thread: another thread's backward must not free (or keep) this one's saved arrays


def is_retaining():
    return state.retaining


def run_backward(root, gradient, retain_graph=False):
    """Sends `gradient` from `root` to every leaf: a node runs once all its consumers have sent theirs."""
    outer, state.retaining = state.retaining, retain_graph
    inplace.begin_pass()
    try:
        _run_backward(root, gradient, retain_graph)
    finally:
        state.retaining = outer


def _run_backward(root, gradient, retain_graph):
    root_ctx = root._ctx
    hooks = _hooks_by_node() if _hooked_tensors else None
    check = anomaly.state.enabled
    if root_ctx is None:
        if hooks is not None and root in hooks:
            gradient = _call_hooks(hooks[root][0], gradient)
        _accumulate_leaf(root, gradient)
        return
    pending = _count_consumers(root_ctx)
    # grads: node -> its output's gradient (a list, one per output, for multi-output nodes); leaf -> gradient
    if root_ctx.n_out:
        grads = {root_ctx: [None] * root_ctx.n_out}
        grads[root_ctx][root._idx] = gradient
    else:
        grads = {root_ctx: gradient}
    ready = [root_ctx]
    while ready:
        ctx = ready.pop()
        g = grads.pop(ctx, None)
        if g is None:  # nothing reached this node: its inputs get nothing from it either
            parent_grads = (None,) * len(ctx.parents)
        else:
            if ctx.n_out:
                g = tuple([_dense(x) for x in g])
            elif isinstance(g, LazyGrad):
                g = g.materialize()
            if hooks is not None and ctx in hooks:
                g = _hooked(hooks[ctx], g, ctx.n_out)
            if ctx.guards is not None and (ctx.guards[0] != inplace.writes or ctx.guards[1] is not None):
                inplace.check(ctx)
            parent_grads = type(ctx).backward(ctx, g)
            if type(parent_grads) is not tuple:
                parent_grads = (parent_grads,)
            if check:
                anomaly.check_backward(type(ctx).__name__, parent_grads, getattr(ctx, "trace", None))
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
                    if hooks is not None and p in hooks:
                        _accumulate_leaf(p, _call_hooks(hooks[p][0], _dense(grads.pop(p))))
                    else:
                        _accumulate_leaf(p, grads.pop(p))
            else:
                ready.append(key)
        if not retain_graph:
            ctx.parents = ctx.saved = ctx.guards = None  # dropping the guards lets the saved arrays be written again
            ctx.freed = True
