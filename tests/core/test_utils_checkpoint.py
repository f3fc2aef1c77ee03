"""utils.checkpoint: the forward records nothing inside fn, the backward recomputes it; the gradients are the plain
path's (an LSTM over segments, to 1e-12 in float64), torch.utils.checkpoint's, and finite differences'."""
import collections

import numpy as np
import pytest

import tinygrad_rnn as tg
from tinygrad_rnn import nn, viz
from tinygrad_rnn.utils import checkpoint, checkpoint_sequential

f64 = tg.float64
LAYERS = {"lstm": nn.LSTM, "gru": nn.GRU, "rnn": nn.RNN, "peephole": nn.PeepholeLSTM}


def tape_nodes(root):
    seen, stack = {}, [root._ctx]
    while stack:
        ctx = stack.pop()
        if id(ctx) not in seen:
            seen[id(ctx)] = ctx
            stack.extend(p._ctx for p in ctx.parents if p._ctx is not None)
    return list(seen.values())


def grads(layer, x):
    return {name: p.grad.copy() for name, p in layer.named_parameters()} | {"x": x.grad.copy()}


def run_plain(layer, x, lengths_loss):
    out, state = layer(x)
    h = state[0] if isinstance(state, tuple) else state
    return lengths_loss(out) + (h * h).sum()


def run_segments(layer, x, k, lengths_loss):
    """The sequence in segments of k steps, each segment one checkpoint; the state carried across segments."""
    cell_state = layer.recurrence.has_cell_state
    shape = (layer.num_layers * (2 if layer.bidirectional else 1), x.shape[1], layer.hidden_size)
    h = tg.zeros(*shape, dtype=f64)
    state = (h, tg.zeros(*shape, dtype=f64)) if cell_state else h
    outs = []
    for start in range(0, x.shape[0], k):
        if cell_state:
            out, state = checkpoint(lambda xs, h, c: layer(xs, (h, c)), x[start:start + k], *state)
        else:
            out, state = checkpoint(lambda xs, h: layer(xs, h), x[start:start + k], state)
        outs.append(out)
    h = state[0] if cell_state else state
    return lengths_loss(tg.cat(outs, dim=0)) + (h * h).sum(), outs


def weighted(out):
    w = np.cos(np.arange(out.data.size)).reshape(out.shape)
    return (out * tg.Tensor(w, dtype=f64)).sum()


@pytest.mark.parametrize("fused", [True, False], ids=["fused", "unfused"])
@pytest.mark.parametrize("cell", sorted(LAYERS))
@pytest.mark.parametrize("k", [1, 3, 4, 12])
def test_segments_give_the_plain_gradients(cell, fused, k):
    tg.manual_seed(0)
    layer = LAYERS[cell](3, 5, num_layers=2, fused=fused, dtype=f64)
    x = tg.Tensor(np.random.default_rng(1).standard_normal((12, 2, 3)), requires_grad=True, dtype=f64)
    plain_loss = run_plain(layer, x, weighted)
    plain_loss.backward()
    plain = grads(layer, x)
    layer.zero_grad()
    x.grad = None
    loss, _ = run_segments(layer, x, k, weighted)
    assert abs(loss.item() - plain_loss.item()) <= 1e-12 * abs(plain_loss.item())
    loss.backward()
    got = grads(layer, x)
    assert got.keys() == plain.keys()
    for name in plain:
        np.testing.assert_allclose(got[name], plain[name], rtol=1e-12, atol=1e-12, err_msg=name)


def test_parameters_get_gradients_when_no_argument_requires_grad():
    """The first segment of a sequence: x and the zero state need no gradient, the layer's weights do (torch's
    use_reentrant=True would give them none there; use_reentrant=False, like this, does)."""
    tg.manual_seed(0)
    layer = nn.LSTM(3, 4, dtype=f64)
    x = tg.Tensor(np.random.default_rng(0).standard_normal((6, 1, 3)), dtype=f64)
    out, _ = layer(x)
    weighted(out).backward()
    plain = {n: p.grad.copy() for n, p in layer.named_parameters()}
    layer.zero_grad()
    out, _ = checkpoint(layer, x)
    assert out.requires_grad
    weighted(out).backward()
    for n, p in layer.named_parameters():
        np.testing.assert_allclose(p.grad, plain[n], rtol=1e-12, atol=1e-14, err_msg=n)


def test_the_tape_keeps_only_the_segments_inputs():
    """What makes it worth it: no step of the layer is on the tape, only one Checkpoint node per segment, and the
    bytes saved for backward are the carried states, not T steps of gates."""
    tg.manual_seed(0)
    layer = nn.LSTM(3, 8, dtype=f64)
    x = tg.Tensor(np.random.default_rng(0).standard_normal((40, 4, 3)), dtype=f64)
    with viz.recording():
        out, (h, c) = layer(x)
    plain_bytes = viz.summary(h.sum()).saved_bytes_per_step
    loss, outs = run_segments(layer, x, 10, lambda out: out.sum() * 0)
    kinds = collections.Counter(type(n).__name__ for n in tape_nodes(loss))
    assert kinds["Checkpoint"] == 4
    assert not {"LSTMStep", "Scan", "MatMul", "LinearAct"} & set(kinds)
    saved = sum(a.nbytes for n in tape_nodes(loss) if type(n).__name__ == "Checkpoint" for a in n.saved)
    assert saved == 4 * (10 * 4 * 3 + 2 * 1 * 4 * 8) * 8        # per segment: its slice of x, and (h, c)
    assert saved < sum(plain_bytes.values()) / 8


def test_gradcheck_through_a_checkpoint_with_kwargs_nested_outputs_and_a_shared_argument():
    rng = np.random.default_rng(3)
    a = tg.Tensor(rng.standard_normal((3, 4)), requires_grad=True, dtype=f64)
    b = tg.Tensor(rng.standard_normal((4, 2)), requires_grad=True, dtype=f64)

    def fn(a, pair, scale=1.0, extra=None):
        left, right = pair
        y = (left @ right).tanh() * scale
        return {"y": y, "rest": (y.sum() * extra["w"], y.argmax(dim=1))}

    def through(a, b):
        out = checkpoint(fn, a, (a, b), scale=2.0, extra={"w": b[0, 0]})
        assert out["rest"][1].dtype == np.int64 and not out["rest"][1].requires_grad    # indices: off the tape
        return out["y"], out["rest"][0]

    assert tg.gradcheck(through, (a, b))


def test_torch_utils_checkpoint_gives_the_same_gradients(torch):
    tg.manual_seed(0)
    layer = nn.LSTM(3, 5, dtype=f64)
    ref = torch.nn.LSTM(3, 5, dtype=torch.float64)
    ref.load_state_dict({n: torch.from_numpy(p.data.copy()) for n, p in layer.named_parameters()})
    data = np.random.default_rng(0).standard_normal((9, 2, 3))
    x = tg.Tensor(data, requires_grad=True, dtype=f64)
    loss, _ = run_segments(layer, x, 3, weighted)
    loss.backward()
    xt = torch.tensor(data, requires_grad=True)
    h = c = torch.zeros(1, 2, 5, dtype=torch.float64)
    outs = []
    for start in range(0, 9, 3):
        out, (h, c) = torch.utils.checkpoint.checkpoint(lambda xs, h, c: ref(xs, (h, c)), xt[start:start + 3], h, c,
                                                        use_reentrant=False)
        outs.append(out)
    out = torch.cat(outs)
    w = torch.from_numpy(np.cos(np.arange(out.numel())).reshape(out.shape))
    ((out * w).sum() + (h * h).sum()).backward()
    np.testing.assert_allclose(x.grad, xt.grad.numpy(), rtol=1e-10, atol=1e-13)
    for n, p in layer.named_parameters():
        np.testing.assert_allclose(p.grad, getattr(ref, n).grad.numpy(), rtol=1e-10, atol=1e-13, err_msg=n)


@pytest.mark.parametrize("preserve", [True, False])
def test_dropout_inside_replays_the_same_mask_and_leaves_the_generator_where_it_was(preserve):
    x = tg.Tensor(np.random.default_rng(0).standard_normal((50,)), requires_grad=True, dtype=f64)

    def fn(x):
        return nn.functional.dropout(x * 3, 0.5)

    tg.manual_seed(7)
    fn(x).sum().backward()
    plain, after_plain = x.grad.copy(), tg.randn(3).data
    x.grad = None
    tg.manual_seed(7)
    y = checkpoint(fn, x, preserve_rng_state=preserve)
    y.sum().backward()
    np.testing.assert_array_equal(y.data != 0, plain != 0)   # the forward drew the plain path's mask
    if preserve:
        np.testing.assert_array_equal(x.grad, plain)
        np.testing.assert_array_equal(tg.randn(3).data, after_plain)   # the replay did not move the generator
    else:                                                              # a second mask: other gradients
        assert not np.array_equal(x.grad, plain)


def test_retain_graph_recomputes_again_and_a_freed_graph_says_so():
    x = tg.Tensor([1.0, 2.0, 3.0], requires_grad=True, dtype=f64)
    y = checkpoint(lambda t: (t * t).sum(), x)
    y.backward(retain_graph=True)
    y.backward()
    np.testing.assert_array_equal(x.grad, 4 * x.data)
    with pytest.raises(RuntimeError, match="backward through the graph a second time"):
        y.backward()


def test_an_argument_written_in_place_before_backward_is_refused():
    x = tg.Tensor([1.0, 2.0, 3.0], requires_grad=True, dtype=f64)
    h = x * 2
    y = checkpoint(lambda t: (t * t).sum(), h)
    with pytest.raises(ValueError, match="read-only"):
        h.data[0] = 5.0                                   # the recomputation would read the new value
    y.backward()
    np.testing.assert_array_equal(x.grad, 8 * x.data)


def test_a_function_that_computes_something_else_the_second_time_is_refused():
    calls = []

    def fn(t):
        calls.append(1)
        return t.reshape(-1) if len(calls) == 1 else t
    x = tg.Tensor(np.ones((2, 2)), requires_grad=True, dtype=f64)
    y = checkpoint(fn, x)
    with pytest.raises(RuntimeError, match="Recomputed values .* different metadata.*\n.*position 0"):
        y.sum().backward()


def test_nested_checkpoints_and_checkpoint_sequential():
    tg.manual_seed(0)
    model = nn.Sequential(*[m for _ in range(3) for m in (nn.Linear(4, 4, dtype=f64), nn.Tanh())])
    x = tg.Tensor(np.random.default_rng(0).standard_normal((5, 4)), requires_grad=True, dtype=f64)
    weighted(model(x)).backward()
    plain = [p.grad.copy() for p in model.parameters()] + [x.grad.copy()]
    for run in (lambda: checkpoint_sequential(model, 3, x, use_reentrant=False),
                lambda: checkpoint(lambda t: checkpoint(model, t) * 1.0, x)):
        model.zero_grad()
        x.grad = None
        weighted(run()).backward()
        for got, want in zip([p.grad for p in model.parameters()] + [x.grad], plain):
            np.testing.assert_allclose(got, want, rtol=1e-12, atol=1e-14)


def test_without_grad_mode_it_is_just_the_call():
    x = tg.Tensor([1.0, 2.0], requires_grad=True)
    with tg.no_grad():
        y = checkpoint(lambda t: t * 2, x)
    assert y._ctx is None and not y.requires_grad
    np.testing.assert_array_equal(y.data, [2.0, 4.0])


def test_bad_input_has_torchs_messages(torch):
    x = tg.Tensor([1.0], requires_grad=True)
    calls = (lambda ck, t: ck(3, t, use_reentrant=False),
             lambda ck, t: ck(lambda a: a, t, use_reentrant=False, determinism_check="x"))
    for call in calls:
        with pytest.raises(Exception) as theirs:
            call(torch.utils.checkpoint.checkpoint, torch.ones(1, requires_grad=True))
        with pytest.raises(type(theirs.value)) as ours:
            call(checkpoint, x)
        assert str(ours.value) == str(theirs.value)
    with pytest.raises(ValueError, match="Unexpected keyword arguments: foo"):
        checkpoint_sequential([lambda t: t], 1, x, foo=1)


def test_torchs_spellings_reach_the_same_function():
    import tinygrad_rnn.utils.checkpoint as module_or_function
    from tinygrad_rnn.utils.checkpoint import checkpoint as imported

    assert imported is checkpoint is tg.utils.checkpoint is tg.utils.checkpoint.checkpoint
    assert module_or_function.checkpoint is checkpoint
    assert tg.utils.checkpoint.checkpoint_sequential is checkpoint_sequential
