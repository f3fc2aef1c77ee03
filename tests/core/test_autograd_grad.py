"""autograd.grad, autograd.backward, Tensor.retain_grad, is_leaf and requires_grad propagation, each against torch
(float64, 1e-12), with torch's error messages. The same graph is built on both sides by `build`."""
import gc
import re
import weakref

import numpy as np
import pytest

import tinygrad_rnn as tg
from tinygrad_rnn import Tensor, autograd, nn
from tinygrad_rnn.autograd import FREED_GRAPH

F64 = np.float64
TIGHT = dict(rtol=1e-12, atol=1e-12)


def leaves(rng, lib, *shapes):
    """Seeded float64 leaves requiring grad, the same numbers for tg and torch."""
    arrays = [np.random.default_rng(7 + i).standard_normal(s) for i, s in enumerate(shapes)]
    if lib is tg:
        return [Tensor(a, requires_grad=True, dtype=F64) for a in arrays]
    return [lib.tensor(a, requires_grad=True) for a in arrays]


def build(lib, x, w):
    """A graph with a shared input (x used twice), a matmul, a nonlinearity and two outputs."""
    h = (x @ w).tanh()          # (3, 4)
    y = h * x.sum() + h.exp()    # (3, 4)
    return h, y, (y ** 2).sum()


def torch_message(torch, fn):
    with pytest.raises(Exception) as info:
        fn()
    return str(info.value)


def shapes_as_tuples(message):
    """torch.Size([3, 4]) -> (3, 4): the engine prints shapes as tuples."""
    def tup(m):
        dims = [d.strip() for d in m.group(1).split(",") if d.strip()]
        return "(" + ", ".join(dims) + ("," if len(dims) == 1 else "") + ")"
    return re.sub(r"torch\.Size\(\[([^\]]*)\]\)", tup, message)


# ---- autograd.grad --------------------------------------------------------------------------------------------
def test_grad_of_leaves_matches_torch_and_touches_no_grad(torch, rng):
    x, w = leaves(rng, tg, (3, 2), (2, 4))
    xt, wt = leaves(rng, torch, (3, 2), (2, 4))
    x.grad = np.full((3, 2), 5.0)                       # a .grad from before must stay as it is
    gx, gw = autograd.grad(build(tg, x, w)[2], [x, w])
    gxt, gwt = torch.autograd.grad(build(torch, xt, wt)[2], [xt, wt])
    np.testing.assert_allclose(gx.data, gxt.numpy(), **TIGHT)
    np.testing.assert_allclose(gw.data, gwt.numpy(), **TIGHT)
    assert isinstance(gx, Tensor) and gx.dtype == F64 and not gx.requires_grad and gx.is_leaf
    np.testing.assert_array_equal(x.grad, np.full((3, 2), 5.0))
    assert w.grad is None


def test_grad_of_non_leaves_and_several_outputs_matches_torch(torch, rng):
    x, w = leaves(rng, tg, (3, 2), (2, 4))
    xt, wt = leaves(rng, torch, (3, 2), (2, 4))
    h, y, loss = build(tg, x, w)
    ht, yt, losst = build(torch, xt, wt)
    go = np.random.default_rng(3).standard_normal((3, 4))
    ours = autograd.grad([loss, y], [h, x, w], grad_outputs=[None, Tensor(go, dtype=F64)])
    theirs = torch.autograd.grad([losst, yt], [ht, xt, wt], grad_outputs=[None, torch.tensor(go)])
    for a, b in zip(ours, theirs):
        np.testing.assert_allclose(a.data, b.numpy(), **TIGHT)
    # the output itself as an input: its grad_output comes back
    h, y, loss = build(tg, x, w)
    (same,) = autograd.grad(y, y, grad_outputs=go)
    np.testing.assert_array_equal(same.data, go)
    assert x.grad is None and w.grad is None and h.grad is None


def test_grad_of_a_multi_output_nodes_outputs(torch, rng):
    (x,) = leaves(rng, tg, (4, 3))
    (xt,) = leaves(rng, torch, (4, 3))
    a, b = x.split(2)
    at, bt = xt.split(2)
    loss = (a.exp() * 3).sum() + (b * b).sum()
    losst = (at.exp() * 3).sum() + (bt * bt).sum()
    ours = autograd.grad(loss, [b, a, x])
    theirs = torch.autograd.grad(losst, [bt, at, xt])
    for p, q in zip(ours, theirs):
        np.testing.assert_allclose(p.data, q.numpy(), **TIGHT)


def test_grad_through_an_lstm_layer_matches_torch_and_backward(torch, rng):
    """The fused layer (a Scan node; weight gradients as a LazyGrad OuterSum) and the tape path."""
    for fused in (True, False):
        ours = nn.LSTM(3, 5, num_layers=2, dtype=F64, fused=fused)
        ref = torch.nn.LSTM(3, 5, num_layers=2).double()
        ref.load_state_dict({k: torch.from_numpy(v.numpy()) for k, v in ours.state_dict().items()})
        xd = rng.standard_normal((6, 2, 3))
        x, xt = Tensor(xd, requires_grad=True, dtype=F64), torch.tensor(xd, requires_grad=True)
        params, params_t = list(ours.parameters()), list(ref.parameters())
        out, (h, c) = ours(x)
        out_t, (h_t, c_t) = ref(xt)
        got = autograd.grad((out ** 2).sum() + h.sum(), [x, out] + params, retain_graph=True)
        want = torch.autograd.grad((out_t ** 2).sum() + h_t.sum(), [xt, out_t] + params_t)
        for a, b in zip(got, want):
            np.testing.assert_allclose(a.data, b.numpy(), rtol=1e-10, atol=1e-11)
        assert all(p.grad is None for p in params)
        ((out ** 2).sum() + h.sum()).backward()                # the retained graph, through .grad: the same
        for p, g in zip(params, got[2:]):
            np.testing.assert_allclose(p.grad, g.data, rtol=1e-12, atol=1e-13)


def test_unused_inputs_allow_unused_and_materialize_grads(torch, rng):
    x, w, u = leaves(rng, tg, (3, 2), (2, 4), (2,))
    xt, wt, ut = leaves(rng, torch, (3, 2), (2, 4), (2,))
    msg = torch_message(torch, lambda: torch.autograd.grad(build(torch, xt, wt)[2], [xt, ut]))
    with pytest.raises(RuntimeError, match=re.escape(msg)):
        autograd.grad(build(tg, x, w)[2], [x, u])
    assert "index 1" in msg
    gx, gu = autograd.grad(build(tg, x, w)[2], [x, u], allow_unused=True)
    gxt, gut = torch.autograd.grad(build(torch, xt, wt)[2], [xt, ut], allow_unused=True)
    assert gu is None and gut is None
    np.testing.assert_allclose(gx.data, gxt.numpy(), **TIGHT)
    _, gu = autograd.grad(build(tg, x, w)[2], [x, u], materialize_grads=True)
    _, gut = torch.autograd.grad(build(torch, xt, wt)[2], [xt, ut], materialize_grads=True)
    np.testing.assert_array_equal(gu.data, gut.numpy())
    assert gu.dtype == F64 and gu.shape == (2,)
    msg = torch_message(torch, lambda: torch.autograd.grad(build(torch, xt, wt)[2], [xt], allow_unused=False,
                                                           materialize_grads=True))
    with pytest.raises(ValueError, match=re.escape(msg)):
        autograd.grad(build(tg, x, w)[2], [x], allow_unused=False, materialize_grads=True)


def test_grad_dict_inputs_return_a_dict(torch, rng):
    x, w = leaves(rng, tg, (3, 2), (2, 4))
    xt, wt = leaves(rng, torch, (3, 2), (2, 4))
    ours = autograd.grad(build(tg, x, w)[2], {"x": x, "w": w})
    theirs = torch.autograd.grad(build(torch, xt, wt)[2], {"x": xt, "w": wt})
    assert list(ours) == list(theirs) == ["x", "w"]
    for k in ours:
        np.testing.assert_allclose(ours[k].data, theirs[k].numpy(), **TIGHT)


def test_grad_errors_are_torchs(torch, rng):
    x, w = leaves(rng, tg, (3, 2), (2, 4))
    xt, wt = leaves(rng, torch, (3, 2), (2, 4))
    cases = [  # (ours, theirs)
        (lambda: autograd.grad(Tensor(np.ones(2)).sum(), [x]),
         lambda: torch.autograd.grad(torch.ones(2).sum(), [xt])),                       # output needs no grad
        (lambda: autograd.grad([build(tg, x, w)[2], Tensor(1.0)], [x]),
         lambda: torch.autograd.grad([build(torch, xt, wt)[2], torch.tensor(1.0)], [xt])),   # element 1
        (lambda: autograd.grad(build(tg, x, w)[2], [Tensor(np.ones(2))]),
         lambda: torch.autograd.grad(build(torch, xt, wt)[2], [torch.ones(2)])),        # input needs no grad
        (lambda: autograd.grad(build(tg, x, w)[1], [x]),
         lambda: torch.autograd.grad(build(torch, xt, wt)[1], [xt])),                   # non-scalar, no grad_outputs
        (lambda: autograd.grad(build(tg, x, w)[1], [x], grad_outputs=np.ones((4, 3))),
         lambda: torch.autograd.grad(build(torch, xt, wt)[1], [xt],
                                     grad_outputs=torch.ones(4, 3, dtype=torch.float64))),
        (lambda: autograd.grad(list(build(tg, x, w)[1:]), [x], grad_outputs=[None]),
         lambda: torch.autograd.grad(list(build(torch, xt, wt)[1:]), [xt], grad_outputs=[None])),  # counts
        (lambda: autograd.grad(build(tg, x, w)[2], []),
         lambda: torch.autograd.grad(build(torch, xt, wt)[2], [])),
        (lambda: autograd.grad(build(tg, x, w)[2], [3]),
         lambda: torch.autograd.grad(build(torch, xt, wt)[2], [3])),
    ]
    for ours, theirs in cases:
        with pytest.raises(Exception) as info:
            ours()
        with pytest.raises(type(info.value)):
            theirs()
        assert str(info.value) == shapes_as_tuples(torch_message(torch, theirs))
    with pytest.raises(NotImplementedError, match="create_graph=True.*higher-order gradients are not supported"):
        autograd.grad(build(tg, x, w)[2], [x], create_graph=True)
    with pytest.raises(NotImplementedError, match="create_graph=True"):
        autograd.backward(build(tg, x, w)[2], create_graph=True)
    with pytest.raises(NotImplementedError, match="is_grads_batched"):
        autograd.grad(build(tg, x, w)[2], [x], is_grads_batched=True)
    assert x.grad is None and w.grad is None


def test_retain_graph_and_freeing_as_torch(torch, rng):
    x, w = leaves(rng, tg, (3, 2), (2, 4))
    loss = build(tg, x, w)[2]
    first = autograd.grad(loss, [x], retain_graph=True)[0]
    second = autograd.grad(loss, [x])[0]                      # retained: the same again, then freed
    np.testing.assert_array_equal(first.data, second.data)
    with pytest.raises(RuntimeError, match=re.escape(FREED_GRAPH)):
        loss.backward()
    xt, wt = leaves(rng, torch, (3, 2), (2, 4))
    losst = build(torch, xt, wt)[2]
    torch.autograd.grad(losst, [xt])
    assert FREED_GRAPH == torch_message(torch, losst.backward)


def test_only_the_needed_part_runs_and_is_freed(torch, rng):
    """As torch: grad(z, [h]) runs the nodes above h only; h's own node is neither run nor freed, so a later
    backward through it works; and a graph below h that an earlier backward freed does not matter."""
    calls = []
    for lib in (tg, torch):
        x, w = leaves(rng, lib, (3, 2), (2, 4))
        h = (x @ w).tanh()
        z = (h * h).sum()
        (gh,) = (autograd if lib is tg else lib.autograd).grad(z, [h])
        h.backward(gh)                                        # h's node was not freed by grad
        calls.append((gh if lib is tg else gh.numpy(), x.grad if lib is tg else x.grad.numpy()))
    for a, b in zip(calls[0], calls[1]):
        np.testing.assert_allclose(np.asarray(a.data if isinstance(a, Tensor) else a), b, **TIGHT)
    x, w = leaves(rng, tg, (3, 2), (2, 4))
    h = (x @ w).tanh()
    h.sum().backward()                                        # frees the nodes below h
    (gh,) = autograd.grad((h * 3).sum(), [h])                 # fine: nothing below h is needed
    np.testing.assert_array_equal(gh.data, np.full((3, 4), 3.0))
    with pytest.raises(RuntimeError, match="backward through the graph a second time"):
        autograd.grad((h * 3).sum(), [x])                     # x lies below the freed node


def test_hooks_during_grad_are_torchs(torch, rng):
    """A non-leaf input's hooks run before its gradient is captured, a leaf input's too; a leaf not asked for
    runs none (its AccumulateGrad does not run). (When a non-leaf input's node must also run, because another input
    lies below it, torch 2.13 captures that input's gradient before its hooks; here it is always after them.)"""
    seen = {"tg": [], "torch": []}
    results = {}
    for lib, key in ((tg, "tg"), (torch, "torch")):
        fn = autograd.grad if lib is tg else lib.autograd.grad
        got = []
        for wanted in ("a", "x"):
            x, w = leaves(rng, lib, (3,), (3,))
            a = x * 1
            a.register_hook(lambda g: g * 10)
            x.register_hook(lambda g: g * 100)
            w.register_hook(lambda g, key=key: seen[key].append("w"))
            loss = (a * 3 * w).sum()
            (g,) = fn(loss, [a if wanted == "a" else x])
            got.append(np.asarray(g.data if lib is tg else g.numpy()))
            assert x.grad is None and w.grad is None
        results[key] = got
    for a, b in zip(results["tg"], results["torch"]):
        np.testing.assert_allclose(a, b, **TIGHT)
    assert seen["tg"] == seen["torch"] == []


def test_grad_works_inside_no_grad_and_anomaly_mode_checks_it(rng):
    x, w = leaves(rng, tg, (3, 2), (2, 4))
    ref = autograd.grad(build(tg, x, w)[2], [x])[0]
    loss = build(tg, x, w)[2]
    with tg.no_grad():
        (g,) = autograd.grad(loss, [x])
    np.testing.assert_array_equal(g.data, ref.data)
    z = Tensor(np.array([0.0, 1.0]), requires_grad=True, dtype=F64)
    with tg.detect_anomaly():
        out = (z ** 0.5).sum()                                # d√z/dz = inf at 0
        with pytest.raises(RuntimeError, match="Function .PowBackward. returned inf values in its 0th output"):
            autograd.grad(out, [z])


# ---- autograd.backward ------------------------------------------------------------------------------------------
def test_backward_several_tensors_matches_torch(torch, rng):
    go = np.random.default_rng(5).standard_normal((3, 4))
    grads = []
    for lib in (tg, torch):
        x, w = leaves(rng, lib, (3, 2), (2, 4))
        h, y, loss = build(lib, x, w)
        g = Tensor(go, dtype=F64) if lib is tg else torch.tensor(go)
        # loss depends on y and h: roots that reach each other, plus a leaf root and a repeated root
        (autograd if lib is tg else lib.autograd).backward([y, loss, h, x, loss], [g, None, g, g[:, :2], None])
        grads.append([t.grad if lib is tg else t.grad.numpy() for t in (x, w)])
    for a, b in zip(*grads):
        np.testing.assert_allclose(a, b, **TIGHT)


def test_backward_inputs_matches_torch(torch, rng):
    got = {}
    for lib in (tg, torch):
        x, w = leaves(rng, lib, (3, 2), (2, 4))
        h, y, loss = build(lib, x, w)
        h.retain_grad()
        (autograd if lib is tg else lib.autograd).backward(loss, inputs=[x, y])
        as_np = (lambda t: t) if lib is tg else (lambda t: None if t is None else t.numpy())
        got[lib.__name__] = [as_np(x.grad), as_np(w.grad), as_np(y.grad), as_np(h.grad)]
    ours, theirs = got["tinygrad_rnn"], got["torch"]
    assert ours[1] is None and theirs[1] is None              # w is not among the inputs
    for i in (0, 2, 3):                                       # y: a non-leaf input gets .grad; h: retained
        np.testing.assert_allclose(ours[i], theirs[i], **TIGHT)


def test_backward_errors_are_torchs(torch, rng):
    x, w = leaves(rng, tg, (3, 2), (2, 4))
    xt, wt = leaves(rng, torch, (3, 2), (2, 4))
    cases = [
        (lambda: autograd.backward(Tensor(np.ones(2))), lambda: torch.autograd.backward(torch.ones(2))),
        (lambda: autograd.backward([build(tg, x, w)[2], Tensor(1.0)]),
         lambda: torch.autograd.backward([build(torch, xt, wt)[2], torch.tensor(1.0)])),
        (lambda: autograd.backward([build(tg, x, w)[1]], [None]),
         lambda: torch.autograd.backward([build(torch, xt, wt)[1]], [None])),
        (lambda: autograd.backward(build(tg, x, w)[1], np.ones(3)),
         lambda: torch.autograd.backward(build(torch, xt, wt)[1], torch.ones(3, dtype=torch.float64))),
        (lambda: autograd.backward(list(build(tg, x, w)[1:]), [None]),
         lambda: torch.autograd.backward(list(build(torch, xt, wt)[1:]), [None])),
        (lambda: autograd.backward(build(tg, x, w)[2], inputs=[]),
         lambda: torch.autograd.backward(build(torch, xt, wt)[2], inputs=[])),
    ]
    for ours, theirs in cases:
        with pytest.raises(Exception) as info:
            ours()
        with pytest.raises(type(info.value)):
            theirs()
        assert str(info.value) == shapes_as_tuples(torch_message(torch, theirs))
    assert x.grad is None and w.grad is None


# ---- retain_grad, is_leaf, requires_grad ------------------------------------------------------------------------
def test_retain_grad_matches_torch(torch, rng):
    got = {}
    for lib in (tg, torch):
        x, w = leaves(rng, lib, (3, 2), (2, 4))
        h, y, loss = build(lib, x, w)
        h.retain_grad()
        h.retain_grad()                                   # twice: still once
        y.retain_grad()
        y.register_hook(lambda g: g * 5)                  # registered after retain_grad: .grad still sees it
        loss.retain_grad()
        x.retain_grad()                                   # a leaf: no-op
        flags = (h.retains_grad, x.retains_grad, w.retains_grad, h.is_leaf, x.is_leaf)
        loss.backward(retain_graph=True)
        loss.backward()                                   # accumulates
        as_np = (lambda t: t) if lib is tg else (lambda t: t.numpy())
        got[lib.__name__] = flags, [as_np(t.grad) for t in (h, y, loss, x, w)]
    (f1, g1), (f2, g2) = got["tinygrad_rnn"], got["torch"]
    assert f1 == f2 == (True, False, False, False, True)
    for a, b in zip(g1, g2):
        np.testing.assert_allclose(a, b, **TIGHT)
    with pytest.raises(RuntimeError, match=re.escape(torch_message(torch, lambda: torch.ones(2).retain_grad()))):
        Tensor(np.ones(2)).retain_grad()


def test_retain_grad_during_autograd_grad_and_on_a_split_output(torch, rng):
    got = {}
    for lib in (tg, torch):
        (x,) = leaves(rng, lib, (4, 3))
        a, b = x.split(2)
        c = a * 2
        b.retain_grad()
        c.retain_grad()
        loss = (c * c).sum() + (b ** 3).sum()
        (autograd if lib is tg else lib.autograd).grad(loss, [x])
        got[lib.__name__] = [t.grad if lib is tg else t.grad.numpy() for t in (b, c)] + [x.grad]
    assert got["tinygrad_rnn"][2] is None and got["torch"][2] is None
    for a, b in zip(got["tinygrad_rnn"][:2], got["torch"][:2]):
        np.testing.assert_allclose(a, b, **TIGHT)


def test_retain_grad_does_not_keep_its_tensor_alive(rng):
    x = Tensor(np.ones(3), requires_grad=True, dtype=F64)
    y = x * 2
    y.retain_grad()
    ref = weakref.ref(y)
    del y
    gc.collect()
    assert ref() is None


def test_retained_grad_is_a_copy(rng):
    """The .grad a non-leaf keeps is its own array: a later op on the tape cannot change it, nor it the tape."""
    x = Tensor(np.ones(3), requires_grad=True, dtype=F64)
    y = x + 0
    y.retain_grad()
    go = np.arange(3.0)
    y.backward(go)
    assert not np.shares_memory(y.grad, go) and not np.shares_memory(y.grad, x.grad)
    np.testing.assert_array_equal(y.grad, go)
    np.testing.assert_array_equal(x.grad, go)


def test_is_leaf_and_requires_grad_propagate_as_torch(torch, rng):
    def cases(lib, f):
        x = lib.tensor(np.ones((2, 3)), requires_grad=True)
        c = lib.tensor(np.ones((2, 3)))
        x32 = (lib.tensor(np.ones((2, 3)), dtype=lib.float32) if lib is not tg
               else Tensor(np.ones((2, 3)), dtype=tg.float32)).requires_grad_()
        out = {
            "leaf": x, "const": c, "op(req, const)": x * c, "op(const, const)": c + c,
            "detach": (x * 2).detach(), "argmax": x.argmax(1), "compare": x > 0, "long": (x * 2).long(),
            "float() of float32": x32.float(), "double() of float32": x32.double(), "getitem": x[0],
            "sum": x.sum(), "requires_grad_": c.clone().requires_grad_(), "softmax": x.softmax(1),
        }
        with f():
            out["under no_grad"] = x * 2
        return {k: (v.is_leaf, v.requires_grad) for k, v in out.items()}
    assert cases(tg, tg.no_grad) == cases(torch, torch.no_grad)
