"""viz: DOT of the tape grouped by time step, the per-step summary, Tensor.register_hook, ‖∂L/∂h_t‖ recording."""
import gc
import re
import shutil
import subprocess
import weakref

import numpy as np
import pytest

import tinygrad_rnn as tg
from tinygrad_rnn import autograd, nn, viz
from tinygrad_rnn.apps.graph import CELLS, build_graph
from tinygrad_rnn.nn import step_watch
from tinygrad_rnn.nn.functional import linear

STEP_OPS = {"rnn": "RNNStep", "lstm": "LSTMStep", "gru": "GRUStep", "peephole": "PeepholeLSTMStep"}


def tape_nodes(*roots):
    """Every node behind the roots, found independently of viz: a plain walk over ctx.parents."""
    seen, stack = {}, [r._ctx for r in roots if r._ctx is not None]
    while stack:
        ctx = stack.pop()
        if id(ctx) in seen:
            continue
        seen[id(ctx)] = ctx
        stack.extend(p._ctx for p in ctx.parents if p._ctx is not None)
    return list(seen.values())


def strip_quoted(text):
    return re.sub(r'"(\\.|[^"\\])*"', '""', text)


def check_braces(text):
    depth = 0
    for ch in strip_quoted(text):
        depth += ch == "{"
        depth -= ch == "}"
        assert depth >= 0
    assert depth == 0


def node_lines(text):
    return re.findall(r"^\s*(n\d+) \[label=\"([^\\\"]+)", text, flags=re.M)


# ---- DOT ------------------------------------------------------------------------------------------------------------
@pytest.mark.parametrize("fused", [True, False], ids=["fused", "unfused"])
@pytest.mark.parametrize("cell", sorted(CELLS))
@pytest.mark.parametrize("steps", [3, 5])
def test_dot_has_one_cluster_per_step_and_a_node_per_op(cell, steps, fused):
    loss, layer, rec = build_graph(cell, steps, fused=fused)
    text = viz.to_dot(loss, params=layer, steps=rec)
    check_braces(text)
    assert text.startswith("digraph tape {")
    clusters = re.findall(r"subgraph cluster_t(\d+) \{", text)
    assert sorted(map(int, clusters)) == list(range(steps))
    nodes = tape_nodes(loss)
    drawn = node_lines(text)
    assert len(drawn) == len(set(n for n, _ in drawn)) == len(nodes)
    assert sorted(op for _, op in drawn) == sorted(type(ctx).__name__ for ctx in nodes)
    if fused:  # one step node in each cluster
        for t in range(steps):
            body = text.split(f"subgraph cluster_t{t} {{")[1].split("}")[0]
            assert body.count("[label=") == 1 and STEP_OPS[cell] in body
    for name, p in layer.named_parameters():
        assert re.search(rf'l\d+ \[label="{name}\\n[^"]*", shape=box, style=filled, [^\]]*class="param"', text), name
    # every edge joins two declared nodes
    declared = set(re.findall(r"^\s*([nl]\d+|more) \[", text, flags=re.M))
    for a, b in re.findall(r"^\s*(\w+) -> (\w+)", text, flags=re.M):
        assert a in declared and b in declared


@pytest.mark.skipif(shutil.which("dot") is None, reason="Graphviz is not installed")
def test_dot_output_is_accepted_by_graphviz():
    loss, layer, rec = build_graph("lstm", 3, fused=False)
    result = subprocess.run(["dot", "-Tsvg"], input=viz.to_dot(loss, params=layer, steps=rec), capture_output=True,
                            text=True)
    assert result.returncode == 0, result.stderr
    assert result.stdout.count('class="cluster"') == 3


def test_dot_without_recording_infers_steps_from_unbind():
    """A loop of fused nodes over x.unbind(0): each node consuming output t of the Unbind is step t."""
    tg.manual_seed(0)
    w = tg.randn(4, 4, requires_grad=True)
    xs = tg.randn(5, 2, 4, requires_grad=True).unbind(0)
    h = tg.zeros(2, 4)
    for x in xs:
        h = linear(x, w, act="tanh") + h
    text = viz.to_dot(h, params={"w": w})
    assert len(re.findall(r"subgraph cluster_t\d+", text)) == 5
    assert 'label="w\\n(4, 4)"' in text
    assert text.count('class="param"') == 2  # w by name, the requires_grad input as an unnamed leaf


def test_mark_step_tags_a_loop_of_your_own():
    tg.manual_seed(0)
    cell = nn.LSTMCell(3, 4, fused=False)
    x = tg.randn(4, 2, 3)
    state = None
    with viz.recording() as rec:
        for t in range(4):
            state = cell(x[t], state)
            rec.mark_step(t, state)
    loss = state[0].sum()
    s = viz.summary(loss, params=cell, steps=rec)
    assert list(s.nodes_per_step) == [0, 1, 2, 3]
    assert len(set(list(s.nodes_per_step.values())[1:])) == 1
    assert "weight_hh" in s.shared and "weight_ih" in s.shared  # a cell projects x_t inside each step


def test_dot_marks_constants_truncates_and_refuses_a_freed_graph():
    loss, layer, rec = build_graph("gru", 5, fused=False)
    n = len(tape_nodes(loss))
    assert 'class="const"' in viz.to_dot(loss, steps=rec)
    assert 'class="const"' not in viz.to_dot(loss, steps=rec, constants=False)
    text = viz.to_dot(loss, params=layer, steps=rec, max_nodes=20)
    check_braces(text)
    assert len(node_lines(text)) == 20 and f"… {n - 20} earlier nodes not shown" in text
    assert "more -> n" in text
    loss.backward()
    with pytest.raises(RuntimeError, match="freed by backward"):
        viz.to_dot(loss)


def test_dot_of_several_roots_and_of_a_leaf():
    loss, layer, rec = build_graph("lstm", 2)
    out = viz.to_dot([loss, loss * 2], steps=rec)
    assert out.count("peripheries=2") == 2
    leaf = tg.Tensor([1.0, 2.0], requires_grad=True)
    assert 'class="param"' in viz.to_dot(leaf)
    with pytest.raises(TypeError):
        viz.to_dot("not a tensor")


# ---- summary --------------------------------------------------------------------------------------------------------
@pytest.mark.parametrize("fused", [True, False], ids=["fused", "unfused"])
@pytest.mark.parametrize("cell", sorted(CELLS))
@pytest.mark.parametrize("steps", [3, 5])
def test_summary_counts_per_step(cell, steps, fused):
    loss, layer, rec = build_graph(cell, steps, fused=fused)
    s = viz.summary(loss, params=layer, steps=rec)
    assert list(s.nodes_per_step) == list(range(steps))
    assert len(set(s.nodes_per_step.values())) == 1                   # every step records the same ops
    assert all(b > 0 for b in s.saved_bytes_per_step.values())
    assert s.shared["weight_hh_l0"][1] == list(range(steps))          # the recurrent weight: every step
    assert "weight_ih_l0" not in s.shared                             # projected once, before the loop
    total = sum(s.nodes_per_step.values()) + s.outside_nodes
    assert total == len(tape_nodes(loss))
    text = str(s)
    assert "t=0" in text and "weight_hh_l0" in text and f"{steps} time steps" in text


def test_summary_saved_bytes_match_the_saved_arrays():
    """Fused LSTM step t keeps h_{t−1}, c_{t−1}, W_hh, its gates (B, 4H) and c_t (B, H). Each array counts once:
    c_{t−1} is step t−1's own c_t, W_hh a parameter, and h_0, c_0 are leaves (inputs)."""
    loss, layer, rec = build_graph("lstm", 4, input_size=2, hidden=4)
    s = viz.summary(loss, params=layer, steps=rec)
    per = 4 * (4 + 16 + 4)                          # float32, batch 1: h_{t−1}, gates, c_t
    assert s.saved_bytes_per_step[1] == s.saved_bytes_per_step[3] == per
    assert s.saved_bytes_per_step[0] == per - 4 * 4


# ---- register_hook ------------------------------------------------------------------------------------------------
def test_hook_sees_the_gradient_and_can_replace_it():
    rng = np.random.default_rng(0)
    x = tg.Tensor(rng.standard_normal((3, 4)), requires_grad=True, dtype=tg.float64)
    w = tg.Tensor(rng.standard_normal((3, 4)), dtype=tg.float64)
    y = x.tanh()
    seen = []
    handle = y.register_hook(lambda g: seen.append(g.copy()))
    (y * y * w).sum().backward()
    np.testing.assert_allclose(seen[0], 2 * y.data * w.data, rtol=1e-12)
    np.testing.assert_allclose(x.grad, seen[0] * (1 - y.data ** 2), rtol=1e-12)
    handle.remove()
    x.grad = None
    y = x.tanh()
    y.register_hook(lambda g: g * 0 + 1)             # replacement: ∂L/∂y := 1
    y.register_hook(lambda g: seen.append(g.copy()))  # later hooks see the replaced gradient
    (y * w).sum().backward()
    np.testing.assert_allclose(x.grad, 1 - y.data ** 2, rtol=1e-12)
    np.testing.assert_array_equal(seen[-1], np.ones((3, 4)))


def test_leaf_hook_runs_before_accumulation_and_may_return_a_tensor():
    x = tg.Tensor([1.0, 2.0, 3.0], requires_grad=True)
    calls = []
    x.register_hook(lambda g: calls.append(g.copy()))
    x.register_hook(lambda g: tg.Tensor(g * 2))
    (x * x).sum().backward()
    np.testing.assert_allclose(calls[0], [2, 4, 6])
    np.testing.assert_allclose(x.grad, [4, 8, 12])
    x.sum().backward()                                # a leaf that is the root's only input
    np.testing.assert_allclose(x.grad, [6, 10, 14])
    x.grad = None
    x.backward(tg.Tensor([1.0, 1.0, 1.0]))            # the root itself is the leaf
    np.testing.assert_allclose(x.grad, [2, 2, 2])


def test_hook_remove_and_context_manager_and_errors():
    x = tg.Tensor([1.0, 2.0], requires_grad=True)
    calls = []
    handle = x.register_hook(calls.append)
    handle.remove()
    handle.remove()                                   # twice is harmless
    (x * 3).sum().backward()
    assert calls == [] and x not in autograd._hooked_tensors and x._hooks is None
    with x.register_hook(calls.append):
        (x * 3).sum().backward()
    (x * 3).sum().backward()
    assert len(calls) == 1 and x not in autograd._hooked_tensors
    with pytest.raises(RuntimeError, match="doesn't require gradient"):
        tg.Tensor([1.0]).register_hook(print)
    with pytest.raises(TypeError, match="callable"):
        x.register_hook(3)
    x.register_hook(lambda g: np.zeros(5))
    with pytest.raises(RuntimeError, match="changed the size"):
        (x * 3).sum().backward()


def test_hooks_die_with_their_tensor():
    x = tg.Tensor([1.0, 2.0], requires_grad=True)
    y = x * 2
    y.register_hook(lambda g: None)
    alive = weakref.ref(y)
    assert y in autograd._hooked_tensors
    del y
    gc.collect()
    assert alive() is None and len(autograd._hooked_tensors) == 0


def test_a_hook_whose_closure_holds_its_tensor_dies_with_it():
    # Issue 11, item 5: the hook table held such hooks, and so their tensors, forever (+50 MiB per 400 steps).
    lstm = nn.LSTM(3, 4)
    x = tg.randn(5, 2, 3)
    alive = []
    for _ in range(20):
        out, (h, c) = lstm(x)
        h.register_hook(lambda g, h=h: g * 1.0 if h.shape == g.shape else g)   # the closure refers to h
        (out.sum() + h.sum()).backward()
        alive.append(weakref.ref(h))
        del out, h, c
    gc.collect()
    assert [r for r in alive if r() is not None] == []
    assert len(autograd._hooked_tensors) == 0


def test_root_hook_and_a_node_output_that_gets_no_gradient():
    x = tg.Tensor(np.arange(6.0).reshape(2, 3), requires_grad=True, dtype=tg.float64)
    a, b = x.unbind(0)                                # one node, two outputs
    calls = {"a": 0, "b": 0, "root": []}
    a.register_hook(lambda g: calls.__setitem__("a", calls["a"] + 1))
    b.register_hook(lambda g: calls.__setitem__("b", calls["b"] + 1))
    loss = (a * a).sum()
    loss.register_hook(lambda g: calls["root"].append(float(g)))
    loss.backward()
    assert calls == {"a": 1, "b": 0, "root": [1.0]}  # nothing reached b: its hook is not called


def _lstm_state_grads_by_cutting(layer, x, t):
    """∂L/∂h_t and ∂L/∂c_t computed independently: run step by step with cells, cut the tape at step t (h_t, c_t
    become leaves), continue, backward. L = Σ h_T over the sequence x."""
    cell = nn.LSTMCell(layer.input_size, layer.hidden_size, dtype=x.dtype)
    cell.load_state_dict({k[:-3]: v for k, v in layer.state_dict().items()})
    state = None
    for s in range(x.shape[0]):
        state = cell(x[s], state)
        if s == t:
            h, c = (tg.Tensor(v.data, requires_grad=True) for v in state)
            state = (h, c)
    state[0].sum().backward()
    return h.grad, c.grad


@pytest.mark.parametrize("fused", [True, False], ids=["fused", "unfused"])
def test_hooks_on_lstm_h_and_c_outputs(fused):
    """Fused, h_t and c_t are outputs 0 and 1 of one node: their hooks see the totals assembled in its slots, and
    c_t's is ∂L/∂c_t with h_t held (the node's own h = o⊙tanh(c) path is inside its backward). Unfused, c_t is an
    Add node whose consumers include tanh(c_t) → h_t: its hook sees that path too, + ∂L/∂h_t ⊙ o ⊙ (1 − tanh²c_t)."""
    tg.manual_seed(1)
    layer = nn.LSTM(3, 5, fused=fused, dtype=tg.float64)
    x = tg.randn(6, 2, 3, dtype=tg.float64)
    t = 2
    state, states = None, []  # the layer's recurrence, step by step with its weights, keeping every (h_t, c_t)
    cell = nn.LSTMCell(3, 5, fused=fused, dtype=tg.float64)
    cell.load_state_dict({k[:-3]: v for k, v in layer.state_dict().items()})
    for s in range(6):
        state = cell(x[s], state)
        states.append(state)
    got = {}
    handles = [states[t][0].register_hook(lambda g: got.__setitem__("h", g.copy())),
               states[t][1].register_hook(lambda g: got.__setitem__("c", g.copy()))]
    if fused:
        assert states[t][0]._ctx is states[t][1]._ctx and (states[t][0]._idx, states[t][1]._idx) == (0, 1)
    states[-1][0].sum().backward()
    for h in handles:
        h.remove()
    want_h, want_c = _lstm_state_grads_by_cutting(layer, x, t)
    if not fused:
        w = {k: v.data for k, v in layer.named_parameters()}
        z = (x.data[t] @ w["weight_ih_l0"].T + w["bias_ih_l0"] + w["bias_hh_l0"]
             + states[t - 1][0].data @ w["weight_hh_l0"].T)
        o = 1 / (1 + np.exp(-z[:, 15:]))
        want_c = want_c + want_h * o * (1 - np.tanh(states[t][1].data) ** 2)
    np.testing.assert_allclose(got["h"], want_h, rtol=1e-10, atol=1e-14)
    np.testing.assert_allclose(got["c"], want_c, rtol=1e-10, atol=1e-14)


def test_hook_gradient_matches_finite_differences():
    """‖∂L/∂h_t‖ of a GRU layer's step t: perturbing h_t in a cut-open run changes L by ⟨∂L/∂h_t, δ⟩."""
    tg.manual_seed(2)
    layer = nn.GRU(2, 3, dtype=tg.float64)
    x = tg.randn(5, 1, 2, dtype=tg.float64)
    with viz.recording():
        out, _ = layer(x)
    with viz.record_state_grads(out, keep=True) as rec:
        out[-1].sum().backward()
    cell = nn.GRUCell(2, 3, dtype=tg.float64)
    cell.load_state_dict({k[:-3]: v for k, v in layer.state_dict().items()})

    def loss_from(t, h_t):
        h = tg.Tensor(h_t)
        for s in range(t + 1, 5):
            h = cell(x[s], h)
        return h.sum().item()

    h = None
    eps = 1e-6
    for t in range(5):
        h = cell(x[t], h)
        fd = np.zeros_like(h.data)
        for i in np.ndindex(h.shape):
            up, down = h.data.copy(), h.data.copy()
            up[i] += eps
            down[i] -= eps
            fd[i] = (loss_from(t, up) - loss_from(t, down)) / (2 * eps)
        np.testing.assert_allclose(rec.grads[t], fd, rtol=1e-6, atol=1e-9)
        assert rec.norms[t] == pytest.approx(np.linalg.norm(fd), rel=1e-6)


def test_record_state_grads_by_distance_and_errors():
    tg.manual_seed(0)
    layer = nn.RNN(2, 3, batch_first=True)
    x = tg.randn(2, 4, 2)
    with viz.recording():
        out, _ = layer(x)
    rec = viz.record_state_grads(out)
    out[:, -1].sum().backward()
    assert rec.norms.shape == (4,) and np.all(rec.norms > 0)
    np.testing.assert_array_equal(rec.by_distance, rec.norms[::-1])
    rec.remove()
    assert not any(h._tensor() in autograd._hooked_tensors for h in rec._handles)
    with pytest.raises(ValueError, match="sequence layer"):
        viz.record_state_grads(tg.Tensor([1.0], requires_grad=True) * 2)
    with pytest.raises(TypeError):
        viz.record_state_grads([1, 2])
    if hasattr(nn.LSTM, "scan"):  # a fused layer outside recording() may record its loop as one Scan node
        layer = nn.LSTM(2, 3)
        out, _ = layer(tg.randn(4, 1, 2))
        if type(out._ctx).__name__ == "Scan":
            with pytest.raises(ValueError, match="recording"):
                viz.record_state_grads(out)


def test_recording_changes_no_numbers():
    tg.manual_seed(0)
    layer = nn.LSTM(3, 4, num_layers=2, bidirectional=True, dtype=tg.float64)
    x = tg.randn(5, 2, 3, dtype=tg.float64)
    out, _ = layer(x)
    out.sum().backward()
    plain = [p.grad.copy() for p in layer.parameters()]
    layer.zero_grad()
    with viz.recording() as rec:
        out2, _ = layer(x)
    out2.sum().backward(retain_graph=True)
    np.testing.assert_allclose(out2.data, out.data, rtol=1e-12)
    for p, g in zip(layer.parameters(), plain):
        np.testing.assert_allclose(p.grad, g, rtol=1e-10)
    s = viz.summary(out2, params=layer, steps=rec)
    assert list(s.nodes_per_step) == list(range(5))
    assert set(s.nodes_per_step.values()) == {4}      # 2 layers × 2 directions
    assert step_watch.watcher() is None


# ---- the graph command ------------------------------------------------------------------------------------------
def test_graph_cli_writes_dot(tmp_path, run_cli):
    out = tmp_path / "g.dot"
    result = run_cli("graph", "--cell", "peephole", "--steps", "4", "--unfused", "--out", str(out))
    assert result.returncode == 0, result.stderr
    text = out.read_text()
    check_braces(text)
    assert len(re.findall(r"subgraph cluster_t\d+", text)) == 4
    assert "weight_hh_l0" in result.stdout and f"wrote {out}" in result.stdout


@pytest.mark.skipif(shutil.which("dot") is None, reason="Graphviz is not installed")
def test_graph_cli_renders_png(tmp_path, run_cli):
    result = run_cli("graph", "--cell", "gru", "--out", str(tmp_path / "g.dot"), "--png")
    assert result.returncode == 0, result.stderr
    assert (tmp_path / "g.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_graph_cli_png_without_graphviz_is_one_line_and_keeps_the_dot(tmp_path, monkeypatch, run_main,
                                                                        assert_refused):
    from tinygrad_rnn.apps import graph as graph_cli

    monkeypatch.setattr(graph_cli.shutil, "which", lambda name: None)
    line = assert_refused(run_main(["graph", "--out", str(tmp_path / "g.dot"), "--png"]), "Graphviz")
    assert "install" in line
    assert (tmp_path / "g.dot").exists() and not (tmp_path / "g.png").exists()


@pytest.mark.parametrize("args,needle", [(("--cell", "lstmx"), "invalid choice"), (("--steps", "0"), "--steps"),
                                         (("--out", "/nonexistent/dir/g.dot"), "cannot write")])
def test_graph_cli_bad_input_is_one_line_and_exit_2(args, needle, run_cli, assert_refused):
    assert_refused(run_cli("graph", *args), needle)


# ---- readable pictures (issue 17, item 6) --------------------------------------------------------------------
def test_the_readme_recipe_as_written_sees_every_step():
    """`with viz.recording(): out, _ = lstm(x)` then `viz.summary(out)`, no recorder passed: the tags are found. (It
    used to infer steps from the Unbind alone: one node per unfused step and "no shared parameters".)"""
    tg.manual_seed(0)
    lstm = nn.LSTM(2, 4, fused=False)
    x = tg.randn(3, 1, 2)
    with viz.recording():
        out, _ = lstm(x)
    s = viz.summary(out)
    assert s.nodes_per_step == {0: 13, 1: 13, 2: 13}
    assert [shape for shape, _ in s.shared.values()] == [(16, 4)] and list(s.shared.values())[0][1] == [0, 1, 2]
    assert len(re.findall(r"subgraph cluster_t\d+", viz.to_dot(out))) == 3


def test_a_recorder_holds_no_graph_alive():
    tg.manual_seed(0)
    lstm = nn.LSTM(2, 4)
    with viz.recording() as rec:
        out, state = lstm(tg.randn(3, 1, 2))
    node = weakref.ref(out._ctx)
    assert len(rec.steps) > 0 and not lstm.weight_hh_l0.data.flags.writeable   # saved by the live graph
    del out, state
    gc.collect()
    assert node() is None and len(rec.steps) == 0
    assert lstm.weight_hh_l0.data.flags.writeable                                  # no longer pinned


def edges(text):
    """[(tail, head, label or None)] of the visible edges."""
    found = []
    for a, b, attrs in re.findall(r"^\s*(\w+) -> (\w+)(?: \[([^\]]*)\])?;", text, flags=re.M):
        if "invis" not in attrs:
            label = re.search(r'label="([^"]*)"', attrs)
            found.append((a, b, label.group(1) if label else None))
    return found


def cluster_of(text):
    """node id -> cluster name (t0, t1, ..., fold)."""
    owner = {}
    for name, body in re.findall(r"subgraph cluster_(\w+) \{(.*?)\n  \}", text, flags=re.S):
        for node in re.findall(r"^\s*(\w+) \[", body, flags=re.M):
            owner[node] = name
    return owner


@pytest.mark.parametrize("fused", [True, False], ids=["fused", "unfused"])
@pytest.mark.parametrize("cell", sorted(CELLS))
def test_edges_between_steps_carry_the_state_names(cell, fused):
    loss, layer, rec = build_graph(cell, 4, fused=fused)
    text = viz.to_dot(loss, params=layer, steps=rec)
    owner = cluster_of(text)
    crossing = [(a, b, label) for a, b, label in edges(text)
                if owner.get(a, "").startswith("t") and owner.get(b, "").startswith("t")
                and int(owner[b][1:]) == int(owner[a][1:]) + 1]
    assert crossing
    names = set()
    for _, _, label in crossing:
        assert label is not None, crossing
        names |= set(label.split(", "))
    assert names == ({"h", "c"} if layer.recurrence.has_cell_state else {"h"})
    initial = re.findall(r'label="([^"]*)\\n\(1, 4\)", shape=box, style="rounded,filled"[^\]]*class="state"', text)
    # hx=None: the layer's zeros, one tensor for both
    assert initial == (["h₀ = c₀"] if layer.recurrence.has_cell_state else ["h₀"])


def test_a_given_initial_state_is_named_on_its_edges():
    tg.manual_seed(0)
    lstm = nn.LSTM(2, 3)
    h0, c0 = tg.randn(1, 1, 3, requires_grad=True), tg.randn(1, 1, 3, requires_grad=True)
    with viz.recording() as rec:
        out, _ = lstm(tg.randn(2, 1, 2), (h0, c0))
    labels = {label for _, _, label in edges(viz.to_dot(out, params=lstm, steps=rec))}
    assert {"h₀", "c₀"} <= labels


def test_steps_run_left_to_right_in_the_dot_text():
    loss, layer, rec = build_graph("lstm", 4, fused=False)
    text = viz.to_dot(loss, params=layer, steps=rec)
    owner = cluster_of(text)
    order = re.findall(r"^\s*(\w+) -> (\w+) \[style=invis, weight=\d+\];", text, flags=re.M)
    assert [(owner[a], owner[b]) for a, b in order] == [("t0", "t1"), ("t1", "t2"), ("t2", "t3")]
    body = {t: re.findall(r"^\s*(n\d+) \[", text.split(f"subgraph cluster_{t} {{")[1].split("\n  }")[0], flags=re.M)
            for t in ("t0", "t1", "t2", "t3")}
    for (a, b), (t, u) in zip(order, [("t0", "t1"), ("t1", "t2"), ("t2", "t3")]):
        assert a == body[t][-1] and b == body[u][0]      # the last node of a step before the first of the next


@pytest.mark.skipif(shutil.which("dot") is None, reason="Graphviz is not installed")
@pytest.mark.parametrize("fused", [True, False], ids=["fused", "unfused"])
def test_graphviz_places_the_steps_left_to_right(fused):
    import json

    loss, layer, rec = build_graph("lstm", 7, fused=fused)
    result = subprocess.run(["dot", "-Tjson"], input=viz.to_dot(loss, params=layer, steps=rec), capture_output=True,
                            text=True)
    assert result.returncode == 0, result.stderr
    boxes = {o["name"]: [float(v) for v in o["bb"].split(",")] for o in json.loads(result.stdout)["objects"]
             if o.get("name", "").startswith("cluster_")}
    order = ["cluster_t0", "cluster_t1", "cluster_t2", "cluster_fold", "cluster_t6"]
    assert sorted(boxes) == sorted(order)
    for left, right in zip(order, order[1:]):
        assert boxes[left][2] <= boxes[right][0], (left, right, boxes)   # x1 of one ≤ x0 of the next


@pytest.mark.parametrize("fused", [True, False], ids=["fused", "unfused"])
def test_long_sequences_are_folded(fused):
    loss, layer, rec = build_graph("lstm", 20, fused=fused)
    nodes = tape_nodes(loss)
    per_step = viz.summary(loss, params=layer, steps=rec).nodes_per_step[2]
    text = viz.to_dot(loss, params=layer, steps=rec)
    check_braces(text)
    assert sorted(re.findall(r"subgraph cluster_(\w+) \{", text)) == ["fold", "t0", "t1", "t19", "t2"]
    assert f"steps 3–18 as step 2\\n(16 steps, {per_step} node{'s' if per_step > 1 else ''} each)" in text
    assert len(node_lines(text)) == len(nodes) - 16 * per_step
    assert ("fold", "fold") not in {(a, b) for a, b, _ in edges(text)}
    assert len([1 for a, b, _ in edges(text) if b == "fold"]) == len(set((a, b) for a, b, _ in edges(text)
                                                                         if b == "fold"))
    assert any(a == "fold" and label and "h" in label.split(", ") for a, b, label in edges(text))
    everything = viz.to_dot(loss, params=layer, steps=rec, max_steps=None)
    assert len(re.findall(r"subgraph cluster_t\d+ \{", everything)) == 20
    assert len(node_lines(everything)) == len(nodes)


def test_summary_rows_of_identical_steps_are_one_row():
    loss, layer, rec = build_graph("gru", 20)
    s = viz.summary(loss, params=layer, steps=rec)
    assert list(s.nodes_per_step) == list(range(20))
    rows = [line.split()[0] for line in str(s).splitlines()[2:] if line.strip().startswith("t=")]
    assert rows == ["t=0", "t=1–19"]
    loss, layer, rec = build_graph("gru", 3)
    assert [line.split()[0] for line in str(viz.summary(loss, params=layer, steps=rec)).splitlines()[2:5]] == \
        ["t=0", "t=1", "t=2"]


def test_graph_cli_folds_twenty_steps(tmp_path, run_main):
    out = tmp_path / "g.dot"
    result = run_main(["graph", "--steps", "20", "--unfused", "--out", str(out)])
    assert result.returncode == 0, result.stderr
    assert "steps 3–18 as step 2" in out.read_text()
    result = run_main(["graph", "--steps", "20", "--max-steps", "30", "--out", str(out)])
    assert result.returncode == 0 and "fold" not in out.read_text()


def test_gradflow_legend_and_table_name_the_cells_alike(tmp_path, monkeypatch, capsys):
    pytest.importorskip("matplotlib")
    from tinygrad_rnn.apps import cli, gradflow

    figures = []
    plot = gradflow.plot
    monkeypatch.setattr(gradflow, "plot", lambda *a: figures.append(plot(*a)))
    assert cli.main(["gradflow", "--length", "12", "--iters", "2", "--hidden", "4", "--out", str(tmp_path / "f.png"),
                     "--csv", str(tmp_path / "f.csv")]) == 0
    lines = capsys.readouterr().out.splitlines()
    header = next(k for k, line in enumerate(lines) if line.startswith("cell"))
    table = [re.split(r"\s{2,}| (?=\d\.\d+e)", line)[0].strip() for line in lines[header + 1:header + 6]]
    legend = [t.get_text() for t in figures[0].axes[0].get_legend().get_texts()]
    assert table == legend == [gradflow.LABELS[c] for c in (*gradflow.CELLS, "rnn_large_w")]
