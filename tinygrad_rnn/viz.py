"""Seeing the tape: Graphviz DOT of the graph behind a tensor, grouped by time step; a per-step summary; and
‖∂L/∂h_t‖ for every step of a sequence layer, recorded by gradient hooks.

Time steps. Inside `with viz.recording() as rec:` the sequence layers record one node per step (not one Scan node
for the whole loop) and tag every node with its time step (one check per sequence and per step; nothing at all in
`Function.apply`), and name the carried state (h, c) and the initial state (h₀, c₀). `to_dot` and `summary` use
`steps=rec`, or by default the latest recordings that tagged the graph's nodes (a recorder holds nodes weakly, so
keeping it keeps no graph alive). A graph no recording saw falls back to inference: a node is placed in step t when
it consumes output t of an Unbind node, the layer driver's cut of the input projection into steps: exact for fused
layers recorded step by step; unfused steps are then represented by their first op only. A loop of your own can tag
its steps with `rec.mark_step(t, state)`.
"""
import collections
import contextlib
import weakref

import numpy as np

from .function import Function
from .nn import step_watch
from .tensor import Tensor


class _StepTable:
    """node -> time step, holding the nodes weakly (a recorder kept around must not keep graphs alive, nor their
    saved arrays read-only); a node class without __weakref__ (one of your own with __slots__) is held strongly."""

    def __init__(self):
        self._weak, self._strong = weakref.WeakKeyDictionary(), {}

    def _table(self, ctx):
        return self._strong if ctx in self._strong or not hasattr(type(ctx), "__weakref__") else self._weak

    def __contains__(self, ctx):
        return ctx in self._weak or ctx in self._strong

    def __getitem__(self, ctx):
        return self._table(ctx)[ctx]

    def __setitem__(self, ctx, t):
        self._table(ctx)[ctx] = t

    def get(self, ctx, default=None):
        return self._table(ctx).get(ctx, default)

    def setdefault(self, ctx, t):
        return self._table(ctx).setdefault(ctx, t)

    def __len__(self):
        return len(self._weak) + len(self._strong)


STATE_NAMES = ("h", "c")          # a carried state's parts, in the order the cells return them
INITIAL_NAMES = ("h₀", "c₀")


class Recorder:
    """Time steps of the nodes recorded while active: `steps[node]` is t, or None for a node outside the loop; and
    which tensors are the carried state (`states[node]`: {output index: "h" or "c"}) and the initial state
    (`initial_names(tensor)`: {"h₀", "c₀"}), so that pictures can name them.

    The layer driver calls `mark_outside(step inputs, initial state, prepared weights)` before its loop and
    `mark_step(t, output, new state, gates)` after each step; a list or tuple of one or two tensors among the
    arguments is read as a state (h, or (h, c)). A loop of your own calls `mark_step(t, state)` the same way."""

    def __init__(self):
        self.steps = _StepTable()
        self.states = weakref.WeakKeyDictionary()
        self.initial = {}   # id(tensor) -> (weak reference, names): tensors compare elementwise, so not a WeakKeyDict
        _recent.append(self)

    def mark_outside(self, *tensors):
        """The nodes that made these tensors (a step's inputs made before the loop) belong to no step; the second
        argument, when it is a state list, is the initial state."""
        for t in _flatten(tensors):
            if t._ctx is not None:
                self.steps.setdefault(t._ctx, None)
        if len(tensors) >= 2:
            for name, t in _state_parts(tensors[1], INITIAL_NAMES):
                if t._ctx is None:
                    ref, names = self.initial.get(id(t), (None, set()))
                    if ref is None or ref() is not t:
                        ref, names = weakref.ref(t), set()
                        self.initial[id(t)] = (ref, names)
                    names.add(name)
                else:
                    self._name_state(t, name)

    def mark_step(self, t, *tensors):
        """Every node behind these tensors not yet tagged (nor marked outside) belongs to step t; a state among
        them (a list or tuple of h and c, or a lone tensor h) is named on the edges it travels."""
        stack = [x._ctx for x in _flatten(tensors) if x._ctx is not None]
        while stack:
            ctx = stack.pop()
            if ctx in self.steps:
                continue
            self.steps[ctx] = t
            stack.extend(p._ctx for p in ctx.parents or () if p._ctx is not None)
        states = [x for x in tensors if isinstance(x, (list, tuple))]
        if not states and len(tensors) == 1:
            states = [tensors]
        for state in states:
            for name, x in _state_parts(state, STATE_NAMES):
                if x._ctx is not None:
                    self._name_state(x, name)

    def initial_names(self, tensor):
        """The names ("h₀", "c₀") under which `tensor` entered a loop as its initial state, or an empty set."""
        ref, names = self.initial.get(id(tensor), (None, set()))
        return names if ref is not None and ref() is tensor else set()

    def _name_state(self, tensor, name):
        try:
            self.states.setdefault(tensor._ctx, {})[tensor._idx] = name
        except TypeError:                                 # a node class that cannot be weakly referenced
            pass


def _state_parts(state, names):
    """[(name, tensor)] for a state given as a list or tuple of one or two tensors; [] for anything else."""
    if isinstance(state, Tensor):
        state = (state,)
    if not isinstance(state, (list, tuple)) or not 1 <= len(state) <= len(names):
        return []
    if not all(isinstance(x, Tensor) for x in state):
        return []
    return list(zip(names, state))


_recent = collections.deque(maxlen=16)   # the latest recorders: `summary(out)` after `with viz.recording():` finds
                                         # its steps without being handed the recorder (they hold nodes weakly)


@contextlib.contextmanager
def recording():
    """`with viz.recording() as rec:` sequence layers run inside tag their nodes by time step into `rec`; to_dot and
    summary find the tags by themselves afterwards (or take `steps=rec`)."""
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
        self.recorders = self._recorders(steps)
        self.step = self._steps(steps)
        self.state_names = {}   # (node, output index) -> "h" / "c" / "h₀" ...; leaf id -> "h₀, c₀"
        self.initial = {}
        for rec in self.recorders:
            for ctx in self.nodes:
                for idx, name in (rec.states.get(ctx) or {}).items():
                    self.state_names.setdefault((ctx, idx), name)
            for leaf in self.leaves.values():
                names = rec.initial_names(leaf)
                if names:
                    self.initial.setdefault(id(leaf), set()).update(names)

    def _recorders(self, steps):
        """The recorders whose tags apply: the one given, or (steps=None) the recent ones that tagged a node here."""
        if isinstance(steps, Recorder):
            return [steps]
        if steps is not None:
            return []
        return [rec for rec in reversed(_recent) if any(ctx in rec.steps for ctx in self.nodes)]

    def _steps(self, steps):
        if steps is not None and not isinstance(steps, Recorder):
            return {ctx: steps[ctx] for ctx in self.nodes if steps.get(ctx) is not None}
        if self.recorders:
            step = {}
            for ctx in self.nodes:
                for rec in self.recorders:
                    if ctx in rec.steps:
                        if rec.steps[ctx] is not None:
                            step[ctx] = rec.steps[ctx]
                        break
            return step
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
    return "(unused)" if shape is None else "(" + ", ".join(map(str, shape)) + ")"   # None: no consumer here


def _quote(text):
    return '"' + str(text).replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n") + '"'


# ---- DOT ----------------------------------------------------------------------------------------------------------
def _folded(g, nodes, max_steps):
    """(steps drawn, fold) for a recording of more than max_steps steps: the first max_steps − 2 and the last step
    are drawn, the steps between become one box, fold = (first, last, the step they are like or None, nodes
    per step); fold is None when every step is drawn."""
    all_steps = sorted({g.step[ctx] for ctx in nodes if ctx in g.step})
    if max_steps is None or len(all_steps) <= max(int(max_steps), 3):
        return set(all_steps), None
    head = max(1, int(max_steps) - 2)
    drawn = set(all_steps[:head] + all_steps[-1:])
    middle = all_steps[head:-1]
    ops = collections.defaultdict(collections.Counter)
    for ctx in nodes:
        if ctx in g.step:
            ops[g.step[ctx]][type(ctx).__name__] += 1
    like = all_steps[head - 1]
    same = all(ops[t] == ops[like] for t in middle)
    return drawn, (middle[0], middle[-1], like if same else None, sum(ops[middle[0]].values()))


def to_dot(tensor, params=None, steps=None, max_nodes=500, constants=True, rankdir="LR", max_steps=5):
    """Graphviz DOT text of the graph that produced `tensor` (or a list of tensors).

    One ellipse per tape node (op name, output shapes), one box per leaf: parameters filled blue (named when
    `params`, a {name: tensor} dict or a Module, lists them; otherwise any leaf with requires_grad), the initial
    state named h₀ (c₀) in green, other constants dashed grey (omitted with constants=False). Edges run parent →
    consumer; those carrying the state are labelled h (c), other outputs k of a multi-output node [k]. Nodes of
    time step t sit in `subgraph cluster_t<t>`, in time order from left to right. A recording of more than
    `max_steps` steps is folded: the first max_steps − 2 steps and the last are drawn, the ones between are one box
    ("steps 3–18 as step 2"); max_steps=None draws them all. Above `max_nodes` nodes only the max_nodes nearest the
    output are drawn. `steps`: a viz.recording() recorder or a {node: t} dict; by default the tags of the latest
    recording that saw these nodes. Call it before backward(), which frees the graph.
    """
    g = _Graph(tensor, params, steps)
    drawn_steps, fold = _folded(g, g.nodes, max_steps)
    folded = {ctx for ctx in g.nodes if ctx in g.step and g.step[ctx] not in drawn_steps}
    nodes = [ctx for ctx in g.nodes if ctx not in folded]
    hidden = max(0, len(nodes) - int(max_nodes))
    if hidden:
        nodes = nodes[hidden:]  # parents come first: the tail is closed under consumers
    ids = {ctx: f"n{k}" for k, ctx in enumerate(nodes)}
    if fold is not None:
        ids.update({ctx: "fold" for ctx in folded})
    roots = {r._ctx for r in g.roots}
    lines = ["digraph tape {", f"  rankdir={rankdir}; newrank=true;", '  node [fontname="Helvetica", fontsize=10];',
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
    clusters = sorted(by_step) if fold is None else sorted(set(by_step) | {fold[0]})
    for t in clusters:
        if fold is not None and t == fold[0]:
            first, last, like, count = fold
            what = f"as step {like}" if like is not None else "not drawn"
            lines.append("  subgraph cluster_fold {")
            lines.append(f'    label="t = {first} … {last}"; style="rounded,dashed"; color="#b08800";')
            each = f"{count} node{'s' if count != 1 else ''} each"
            label = f"steps {first}–{last} {what}\n({last - first + 1} steps, {each})"
            lines.append(f'    fold [label={_quote(label)}, shape=box, style="rounded,filled", fillcolor="#fff3c4", '
                         'class="fold"];')
            lines.append("  }")
            continue
        lines.append(f"  subgraph cluster_t{t} {{")
        lines.append(f'    label="t = {t}"; style=rounded; color="#b08800";')
        lines.extend(node_line(ctx, "    ") for ctx in by_step[t])
        lines.append("  }")
    firsts = {t: ("fold" if fold is not None and t == fold[0] else ids[by_step[t][0]]) for t in clusters}
    lasts = {t: ("fold" if fold is not None and t == fold[0] else ids[by_step[t][-1]]) for t in clusters}
    for a, b in zip(clusters, clusters[1:]):    # time runs left to right: a step starts after the last one ends
        lines.append(f"  {lasts[a]} -> {firsts[b]} [style=invis, weight=4];")
    leaf_ids = {}
    used = {id(p) for ctx in nodes for p in ctx.parents if p._ctx is None} | {id(r) for r in g.roots}
    if fold is not None:
        used |= {id(p) for ctx in folded for p in ctx.parents if p._ctx is None}
    for k, (key, leaf) in enumerate(g.leaves.items()):
        if key not in used:
            continue
        if key in g.initial:
            leaf_ids[key] = f"l{k}"
            label = " = ".join(sorted(g.initial[key], key=INITIAL_NAMES.index)) + "\n" + _shape(leaf.shape)
            lines.append(f'  l{k} [label={_quote(label)}, shape=box, style="rounded,filled", fillcolor="#d8f0d2", '
                         'class="state"];')
            continue
        if not (constants or g.is_param(leaf)):
            continue
        leaf_ids[key] = f"l{k}"
        if g.is_param(leaf):
            label = (g.name(leaf) or "leaf") + "\n" + _shape(leaf.shape)
            attrs = 'shape=box, style=filled, fillcolor="#cfe2ff", class="param"'
        else:
            label = "const\n" + _shape(leaf.shape)
            attrs = 'shape=box, style=dashed, color=grey50, fontcolor=grey40, class="const"'
        lines.append(f"  l{k} [label={_quote(label)}, {attrs}];")
    if hidden:
        lines.append(f'  more [shape=plaintext, label="… {hidden} earlier nodes not shown"];')
    cut, edges = set(), {}          # (tail, head) -> [labels]: the folded steps' many edges become one each

    def edge(a, b, label=None, style=""):
        if a == b == "fold":
            return
        labels = edges.setdefault((a, b, style), [])
        if label is not None and label not in labels:
            labels.append(label)

    for ctx in nodes + ([c for c in g.nodes if c in folded] if fold is not None else []):
        for p in ctx.parents:
            if p._ctx is None:
                if id(p) in leaf_ids:
                    edge(leaf_ids[id(p)], ids[ctx])
            elif p._ctx in ids:
                name = g.state_names.get((p._ctx, p._idx))
                edge(ids[p._ctx], ids[ctx], name if name else f"[{p._idx}]" if p._ctx.n_out else None,
                     ", penwidth=1.6" if name else "")
            elif ctx not in cut:
                cut.add(ctx)
                edge("more", ids[ctx], style=", style=dashed")
    for (a, b, style), labels in edges.items():
        text = _label_list(labels)
        attrs = (f'label="{text}"' if text else "") + style
        lines.append(f"  {a} -> {b}" + (f" [{attrs.lstrip(', ')}]" if attrs else "") + ";")
    lines.append("}")
    return "\n".join(lines) + "\n"


def _label_list(labels):
    """One edge label for several: h, c as they are; output indices [3], [4], ..., [18] as [3–18]."""
    indices = sorted(int(x[1:-1]) for x in labels if x.startswith("["))
    names = [x for x in labels if not x.startswith("[")]
    if len(indices) > 2 and indices == list(range(indices[0], indices[-1] + 1)):
        names.append(f"[{indices[0]}–{indices[-1]}]")
    else:
        names += [f"[{i}]" for i in indices]
    return ", ".join(names)


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
        runs = []          # [first step, last step, (nodes, bytes, ops)]: a run of identical consecutive steps
        for t in steps:
            row = (self.nodes_per_step[t], self.saved_bytes_per_step[t],
                   ", ".join(f"{op}×{n}" if n > 1 else op for op, n in sorted(self.ops_per_step[t].items())))
            if runs and runs[-1][2] == row and runs[-1][1] == t - 1:
                runs[-1][1] = t
            else:
                runs.append([t, t, row])
        rows = []
        for first, last, row in runs:     # three or more identical steps are one row, "t=1–18" (numbers per step)
            if last - first >= 2:
                rows.append((f"t={first}–{last}",) + row)
            else:
                rows += [(f"t={t}",) + row for t in range(first, last + 1)]
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
    for `params` and `steps`: by default the tags of the latest viz.recording() that saw these nodes). Saved bytes
    count each saved ndarray once and leave out the arrays of leaf tensors (parameters, inputs), which exist anyway.
    Returns a GraphSummary: print it for the table (a run of three or more identical steps is one row)."""
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
