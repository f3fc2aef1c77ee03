"""Seeing the tape: Graphviz DOT of the graph behind a tensor, grouped by time step; a per-step summary; and
‖∂L/∂h_t‖ for every step of a sequence layer, recorded by gradient hooks.

Time steps. Inside `with viz.recording() as rec:` the sequence layers record one node per step (not one Scan node
for the whole loop) and tag every node with its time step (one check per sequence and per step; nothing at all in
`Function.apply`): pass `steps=rec` to `to_dot` and `summary`. Without it, a node is placed in step t when it
consumes output t of an Unbind node, the layer driver's cut of the input projection into steps: exact for fused
layers recorded step by step (one node per step); unfused steps are then represented by their first op only. A loop
of your own can tag its steps with `rec.mark_step(t, *tensors)`.
"""
import collections
import contextlib

import numpy as np

from .function import Function
from .nn import step_watch
from .tensor import Tensor


class Recorder:
    """Time steps of the nodes recorded while active: `steps[node]` is t, or None for a node outside the loop."""

    def __init__(self):
        self.steps = {}

    def mark_outside(self, *tensors):
        """The nodes that made these tensors (a step's inputs made before the loop) belong to no step."""
        for t in _flatten(tensors):
            if t._ctx is not None:
                self.steps.setdefault(t._ctx, None)

    def mark_step(self, t, *tensors):
        """Every node behind these tensors not yet tagged (nor marked outside) belongs to step t."""
        stack = [x._ctx for x in _flatten(tensors) if x._ctx is not None]
        while stack:
            ctx = stack.pop()
            if ctx in self.steps:
                continue
            self.steps[ctx] = t
            stack.extend(p._ctx for p in ctx.parents or () if p._ctx is not None)


@contextlib.contextmanager
def recording():
    """`with viz.recording() as rec:` sequence layers run inside tag their nodes by time step into `rec`."""
    recorder = Recorder()
    previous = step_watch.install(recorder)
    try:
        yield recorder
    finally:
        step_watch.install(previous)


def _flatten(items):
    for x in items:
        if isinstance(x, Tensor):
            yield x
        elif isinstance(x, (tuple, list)):
            yield from _flatten(x)


# ---- walking the tape -------------------------------------------------------------------------------------------
class _Graph:
    """The nodes behind some tensors, parents before consumers, with their leaves, output shapes and steps."""

    def __init__(self, roots, params=None, steps=None):
        self.roots = list(_flatten([roots]))
        if not self.roots:
            raise TypeError("expected a Tensor or a sequence of Tensors")
        if params is not None and hasattr(params, "named_parameters"):
            params = dict(params.named_parameters())
        self.names = {id(p): name for name, p in (params or {}).items()}
        self.nodes, self.leaves, self.shapes = [], {}, {}
        done = set()
        for root in self.roots:
            if root._ctx is None:
                self.leaves.setdefault(id(root), root)
                continue
            self.shapes[root._ctx, root._idx] = root.shape
            stack = [(root._ctx, False)]
            while stack:
                ctx, finished = stack.pop()
                if finished:
                    self.nodes.append(ctx)
                    continue
                if ctx in done:
                    continue
                if ctx.freed or ctx.parents is None:
                    raise RuntimeError("the graph was freed by backward(): draw it before calling backward(), or "
                                       "call backward(retain_graph=True)")
                done.add(ctx)
                stack.append((ctx, True))
                for p in reversed(ctx.parents):
                    if p._ctx is None:
                        self.leaves.setdefault(id(p), p)
                    else:
                        self.shapes[p._ctx, p._idx] = p.shape
                        if p._ctx not in done:
                            stack.append((p._ctx, False))
        self.step = self._steps(steps)

    def _steps(self, steps):
        if steps is not None:
            table = steps.steps if isinstance(steps, Recorder) else steps
            return {ctx: table[ctx] for ctx in self.nodes if table.get(ctx) is not None}
        step = {}
        for ctx in self.nodes:  # inference: the node that consumes output t of an Unbind is step t
            seen = {p._idx for p in ctx.parents if p._ctx is not None and type(p._ctx).__name__ == "Unbind"
                    and p._ctx.n_out > 1}
            if len(seen) == 1:
                step[ctx] = seen.pop()
        return step

    def name(self, leaf):
        return self.names.get(id(leaf))

    def is_param(self, leaf):
        return id(leaf) in self.names or leaf.requires_grad

    def out_shapes(self, ctx):
        n = ctx.n_out or 1
        return [self.shapes.get((ctx, i)) for i in range(n)]


def _shape(shape):
    return "?" if shape is None else "(" + ", ".join(map(str, shape)) + ")"


def _quote(text):
    return '"' + str(text).replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n") + '"'


# ---- DOT ----------------------------------------------------------------------------------------------------------
def to_dot(tensor, params=None, steps=None, max_nodes=500, constants=True, rankdir="LR"):
    """Graphviz DOT text of the graph that produced `tensor` (or a list of tensors).

    One ellipse per tape node (op name, output shapes), one box per leaf: parameters filled blue (named when
    `params`, a {name: tensor} dict or a Module, lists them; otherwise any leaf with requires_grad), constants
    dashed grey (omitted with constants=False). Edges run parent → consumer, labelled [k] when they carry output
    k of a multi-output node. Nodes of time step t sit in `subgraph cluster_t<t>`. Above `max_nodes` nodes only
    the max_nodes nearest the output are drawn. Call it before backward(), which frees the graph.
    """
    g = _Graph(tensor, params, steps)
    nodes = g.nodes
    hidden = max(0, len(nodes) - int(max_nodes))
    if hidden:
        nodes = nodes[hidden:]  # parents come first: the tail is closed under consumers
    ids = {ctx: f"n{k}" for k, ctx in enumerate(nodes)}
    roots = {r._ctx for r in g.roots}
    lines = ["digraph tape {", f"  rankdir={rankdir};", '  node [fontname="Helvetica", fontsize=10];',
             '  edge [fontname="Helvetica", fontsize=8];']
    by_step = collections.defaultdict(list)
    for ctx in nodes:
        by_step[g.step.get(ctx)].append(ctx)

    def node_line(ctx, indent):
        shapes = g.out_shapes(ctx)
        if len(shapes) > 2 and len(set(shapes)) == 1:  # an Unbind into T steps: "T × (B, G·H)"
            text = f"{len(shapes)} × {_shape(shapes[0])}"
        else:
            text = " ".join(_shape(s) for s in shapes)
        label = type(ctx).__name__ + "\n" + text
        extra = ", peripheries=2" if ctx in roots else ""
        if ctx in g.step:
            extra += ', style=filled, fillcolor="#fff3c4"'
        return f'{indent}{ids[ctx]} [label={_quote(label)}, class="op"{extra}];'

    for ctx in by_step.pop(None, []):
        lines.append(node_line(ctx, "  "))
    for t in sorted(by_step):
        lines.append(f"  subgraph cluster_t{t} {{")
        lines.append(f'    label="t = {t}"; style=rounded; color="#b08800";')
        lines.extend(node_line(ctx, "    ") for ctx in by_step[t])
        lines.append("  }")
    leaf_ids = {}
    used = {id(p) for ctx in nodes for p in ctx.parents if p._ctx is None} | {id(r) for r in g.roots}
    for k, (key, leaf) in enumerate(g.leaves.items()):
        if key not in used or not (constants or g.is_param(leaf)):
            continue
        leaf_ids[id(leaf)] = f"l{k}"
        if g.is_param(leaf):
            label = (g.name(leaf) or "leaf") + "\n" + _shape(leaf.shape)
            attrs = 'shape=box, style=filled, fillcolor="#cfe2ff", class="param"'
        else:
            label = "const\n" + _shape(leaf.shape)
            attrs = 'shape=box, style=dashed, color=grey50, fontcolor=grey40, class="const"'
        lines.append(f"  l{k} [label={_quote(label)}, {attrs}];")
    if hidden:
        lines.append(f'  more [shape=plaintext, label="… {hidden} earlier nodes not shown"];')
    cut = set()
    for ctx in nodes:
        for p in ctx.parents:
            if p._ctx is None:
                if id(p) in leaf_ids:
                    lines.append(f"  {leaf_ids[id(p)]} -> {ids[ctx]};")
            elif p._ctx in ids:
                label = f' [label="[{p._idx}]"]' if p._ctx.n_out else ""
                lines.append(f"  {ids[p._ctx]} -> {ids[ctx]}{label};")
            elif ctx not in cut:
                cut.add(ctx)
                lines.append(f"  more -> {ids[ctx]} [style=dashed];")
    lines.append("}")
    return "\n".join(lines) + "\n"


# ---- summary ------------------------------------------------------------------------------------------------------
class GraphSummary:
    """Per-step numbers of a tape; str() (and repr) is the text table."""

    def __init__(self, nodes_per_step, saved_bytes_per_step, ops_per_step, outside_nodes, outside_bytes, shared,
                 n_params):
        self.nodes_per_step = nodes_per_step          # {t: number of nodes}
        self.saved_bytes_per_step = saved_bytes_per_step  # {t: bytes the step's nodes keep for backward}
        self.ops_per_step = ops_per_step              # {t: Counter of op names}
        self.outside_nodes, self.outside_bytes = outside_nodes, outside_bytes
        self.shared = shared                          # {parameter name: (shape, steps using it)}
        self.n_params = n_params

    def __str__(self):
        steps = sorted(self.nodes_per_step)
        rows = [(f"t={t}", self.nodes_per_step[t], self.saved_bytes_per_step[t],
                 ", ".join(f"{op}×{n}" if n > 1 else op for op, n in sorted(self.ops_per_step[t].items())))
                for t in steps]
        rows.append(("outside", self.outside_nodes, self.outside_bytes, "(input projection, loss, ...)"))
        total_nodes = sum(self.nodes_per_step.values()) + self.outside_nodes
        total_bytes = sum(self.saved_bytes_per_step.values()) + self.outside_bytes
        out = [f"tape: {total_nodes} nodes, {len(steps)} time steps, {self.n_params} parameters, "
               f"{total_bytes:,} bytes saved for backward",
               f"{'step':>8}  {'nodes':>5}  {'saved bytes':>11}  ops"]
        out += [f"{s:>8}  {n:>5}  {b:>11,}  {ops}" for s, n, b, ops in rows]
        if self.shared:
            out.append("parameters shared across steps:")
            out += [f"  {name} {_shape(shape)}: used in {len(used)} of {len(steps)} steps"
                    for name, (shape, used) in self.shared.items()]
        else:
            out.append("parameters shared across steps: none")
        return "\n".join(out)

    __repr__ = __str__


def _owner(a):
    while isinstance(a.base, np.ndarray):
        a = a.base
    return a


def _saved_arrays(saved):
    """The ndarrays in a ctx.saved, also inside tuples, lists and the per-step contexts a Scan node keeps."""
    for x in saved or ():
        if isinstance(x, np.ndarray):
            yield x
        elif isinstance(x, (tuple, list)):
            yield from _saved_arrays(x)
        elif isinstance(x, Function):
            yield from _saved_arrays(x.saved)


def summary(tensor, params=None, steps=None):
    """Nodes per time step, bytes saved for backward per step and the parameters used by ≥ 2 steps (see to_dot
    for `params` and `steps`). Saved bytes count each saved ndarray once and leave out the arrays of leaf tensors
    (parameters, inputs), which exist anyway. Returns a GraphSummary: print it for the table."""
    g = _Graph(tensor, params, steps)
    leaf_owners = {id(_owner(leaf.data)) for leaf in g.leaves.values()}
    counted = set()
    nodes = collections.Counter()
    saved = collections.Counter()
    ops = collections.defaultdict(collections.Counter)
    for ctx in g.nodes:
        t = g.step.get(ctx)
        nodes[t] += 1
        ops[t][type(ctx).__name__] += 1
        for a in _saved_arrays(ctx.saved):
            if id(a) not in counted and id(_owner(a)) not in leaf_owners:
                counted.add(id(a))
                saved[t] += a.nbytes
    users = collections.defaultdict(set)
    for ctx in g.nodes:
        if ctx in g.step:
            for p in ctx.parents:
                if p._ctx is None and g.is_param(p):
                    users[id(p)].add(g.step[ctx])
    shared = {}
    for k, (key, leaf) in enumerate(g.leaves.items()):
        if len(users.get(key, ())) >= 2:
            shared[g.name(leaf) or f"leaf{k}"] = (leaf.shape, sorted(users[key]))
    step_ids = sorted(t for t in nodes if t is not None)
    return GraphSummary({t: nodes[t] for t in step_ids}, {t: saved[t] for t in step_ids},
                        {t: ops[t] for t in step_ids}, nodes[None], saved[None], shared,
                        sum(1 for leaf in g.leaves.values() if g.is_param(leaf)))


# ---- gradients through time -----------------------------------------------------------------------------------
def step_states(output):
    """The per-step outputs h_0 … h_{T−1} behind a sequence layer's `output` (the tensors its Stack node joined;
    for stacked layers, the last layer's)."""
    t = output
    while t._ctx is not None and type(t._ctx).__name__ in ("Permute", "Reshape") and len(t._ctx.parents) == 1:
        t = t._ctx.parents[0]  # batch_first and unbatched inputs add one of these after the stack
    if t._ctx is not None and type(t._ctx).__name__ == "Scan":
        raise ValueError("the layer recorded its loop as one Scan node, which has no per-step h_t: run it inside "
                         "`with viz.recording():` (or set layer.scan = False) to record one node per step")
    if t._ctx is None or type(t._ctx).__name__ != "Stack":
        raise ValueError("expected the output of a (unidirectional) sequence layer, recorded with gradients, or a "
                         "list of per-step state tensors")
    return list(t._ctx.parents)


class StateGrads:
    """‖∂L/∂h_t‖ (Frobenius norm over batch and features) for every step t, filled in by the next backward()."""

    def __init__(self, states, keep=False):
        self.norms = np.zeros(len(states))
        self.grads = [None] * len(states) if keep else None
        self._handles = [h.register_hook(self._hook(t)) for t, h in enumerate(states)]

    def _hook(self, t):
        def record(grad):
            self.norms[t] = np.linalg.norm(grad)
            if self.grads is not None:
                self.grads[t] = grad.copy()
        return record

    @property
    def by_distance(self):
        """The norms reordered by distance from the last step: by_distance[d] = ‖∂L/∂h_{T−1−d}‖."""
        return self.norms[::-1].copy()

    def remove(self):
        for h in self._handles:
            h.remove()

    def __enter__(self):
        return self

    def __exit__(self, *exc_info):
        self.remove()


def record_state_grads(layer_output_states, keep=False):
    """Hooks that record ‖∂L/∂h_t‖ at every step t during the next backward(); `layer_output_states` is a sequence
    layer's output (T, B, H) or a list of per-step state tensors (e.g. from a loop of cells). The gradient is the
    total one: what reaches h_t from the loss directly and through all later steps. keep=True also keeps copies
    of the gradients in `.grads`."""
    if isinstance(layer_output_states, Tensor):
        states = step_states(layer_output_states)
    else:
        states = list(layer_output_states)
        if not all(isinstance(s, Tensor) for s in states):
            raise TypeError("record_state_grads: expected a Tensor or a list of Tensors")
    return StateGrads(states, keep)
