"""Memory-efficient BPTT in the layers (checkpoint_every=k): the same gradients as the plain tape, to 1e-12 in
float64, for every cell, fused and unfused, with lengths=, bidirectional, stacked, proj_size and dropout; the tape
really holds segments (one Checkpoint node per k steps) and fewer saved bytes; bad k refused by name."""
import numpy as np
import pytest

import tinygrad_rnn as tg
from tinygrad_rnn import nn, viz
from tinygrad_rnn.utils.checkpoint import Checkpoint

F64 = np.float64
T, B, I, H = 7, 3, 4, 5


def _layers():
    """(name, factory(**options) -> layer): every sequence layer, fused and unfused where it has both."""
    made = []
    for fused in (True, False):
        tag = "fused" if fused else "unfused"
        made += [
            (f"rnn-tanh-{tag}", lambda fused=fused, **o: nn.RNN(I, H, fused=fused, dtype=F64, **o)),
            (f"rnn-relu-{tag}", lambda fused=fused, **o: nn.RNN(I, H, nonlinearity="relu", fused=fused, dtype=F64,
                                                                 **o)),
            (f"lstm-{tag}", lambda fused=fused, **o: nn.LSTM(I, H, fused=fused, dtype=F64, **o)),
            (f"lstm-proj-{tag}", lambda fused=fused, **o: nn.LSTM(I, H, proj_size=3, fused=fused, dtype=F64, **o)),
            (f"peephole-{tag}", lambda fused=fused, **o: nn.PeepholeLSTM(I, H, fused=fused, dtype=F64, **o)),
            (f"gru-{tag}", lambda fused=fused, **o: nn.GRU(I, H, fused=fused, dtype=F64, **o)),
            (f"gru-cho-{tag}", lambda fused=fused, **o: nn.GRU(I, H, reset_after=False, fused=fused, dtype=F64,
                                                                **o)),
            (f"lstm-hard-sigmoid-{tag}", lambda fused=fused, **o: nn.LSTM(I, H, gate_activation="hard_sigmoid",
                                                                           fused=fused, dtype=F64, **o)),
        ]
    made += [
        ("no-output-tanh-lstm", lambda **o: nn.NoOutputTanhLSTM(I, H, dtype=F64, **o)),
        ("depth-gated-lstm", lambda **o: nn.DepthGatedLSTM(I, H, **{"num_layers": 2, **o}, dtype=F64)),
        ("clockwork-rnn", lambda **o: nn.ClockworkRNN(I, 6, 3, dtype=F64, **o)),
    ]
    return made


LAYERS = _layers()
NAMES = [name for name, _ in LAYERS]


def _data(layer, seed=0, batch=B, steps=T):
    rng = np.random.default_rng(seed)
    x = tg.Tensor(rng.standard_normal((steps, batch, I)), dtype=F64, requires_grad=True)
    count = layer.num_layers * (2 if layer.bidirectional else 1)
    h0 = tg.Tensor(rng.standard_normal((count, batch, layer.proj_size or layer.hidden_size)), dtype=F64,
                   requires_grad=True)
    c0 = tg.Tensor(rng.standard_normal((count, batch, layer.hidden_size)), dtype=F64, requires_grad=True)
    cell = layer.recurrence.has_cell_state
    return x, ((h0, c0) if cell else h0), rng


def _gradients(layer, every, seed=0, lengths=None, with_hx=True, state_loss=True, dropout_seed=None):
    """The output, the final state and the gradients of every parameter, x and hx under a loss on the output and
    on (h_n, c_n), for checkpoint_every=every."""
    layer.checkpoint_every = every
    x, hx, rng = _data(layer, seed)
    layer.zero_grad()
    if dropout_seed is not None:
        tg.manual_seed(dropout_seed)
    out, state = layer(x, hx if with_hx else None, lengths=lengths)
    states = list(state) if isinstance(state, tuple) else [state]
    loss = (out * tg.Tensor(rng.standard_normal(out.shape), dtype=F64)).sum()
    if state_loss:
        for s in states:
            loss = loss + (s * tg.Tensor(rng.standard_normal(s.shape), dtype=F64)).sum()
    assert (_checkpoint_nodes(loss) > 0) == (every is not None)     # the path under test is the one taken
    loss.backward()
    grads = {name: p.grad.copy() for name, p in layer.named_parameters()}
    grads["x"] = x.grad.copy()
    if with_hx:
        for j, s in enumerate(hx if isinstance(hx, tuple) else (hx,)):
            grads[f"hx{j}"] = s.grad.copy()
    return out.data.copy(), [s.data.copy() for s in states], grads


def _assert_same(layer, every, **options):
    want_out, want_state, want = _gradients(layer, None, **options)
    got_out, got_state, got = _gradients(layer, every, **options)
    np.testing.assert_allclose(got_out, want_out, rtol=0, atol=1e-12)
    for g, w in zip(got_state, want_state):
        np.testing.assert_allclose(g, w, rtol=0, atol=1e-12)
    assert set(got) == set(want)
    for name in want:
        scale = max(1.0, np.abs(want[name]).max())
        np.testing.assert_allclose(got[name], want[name], rtol=0, atol=1e-12 * scale, err_msg=f"{every}: {name}")


def _checkpoint_nodes(root):
    """The Checkpoint nodes on the tape behind root (an iterative walk over ctx.parents)."""
    seen, stack, count = set(), [root._ctx], 0
    while stack:
        ctx = stack.pop()
        if ctx is None or id(ctx) in seen:
            continue
        seen.add(id(ctx))
        count += type(ctx) is Checkpoint
        stack.extend(p._ctx for p in ctx.parents)
    return count


@pytest.mark.parametrize("name", NAMES)
@pytest.mark.parametrize("every", [1, 3, 7, 10])           # k = 1, T not a multiple of k, k = T, k > T
def test_gradients_equal_the_plain_tape(name, every):
    factory = dict(LAYERS)[name]
    _assert_same(factory(), every)


@pytest.mark.parametrize("name", [n for n in NAMES if n != "clockwork-rnn"])   # (clockwork: unidirectional)
def test_bidirectional_stacked_with_lengths(name):
    factory = dict(LAYERS)[name]
    layer = factory(num_layers=2, bidirectional=True)
    _assert_same(layer, 3, lengths=[7, 4, 1])


@pytest.mark.parametrize("name", ["lstm-fused", "gru-unfused", "rnn-tanh-fused", "lstm-proj-unfused",
                                  "clockwork-rnn"])
def test_lengths_and_no_initial_state(name):
    layer = dict(LAYERS)[name]()
    _assert_same(layer, 2, lengths=np.array([3, 7, 5]), with_hx=False)


@pytest.mark.parametrize("name", ["lstm-fused", "gru-unfused", "depth-gated-lstm", "peephole-fused"])
def test_only_the_final_state_in_the_loss(name):
    """A loss on (h_n, c_n) alone: no gradient reaches the segments' outputs (None, not zeros)."""
    layer = dict(LAYERS)[name]()
    grads = []
    for every in (None, 3):
        layer.checkpoint_every = every
        x, hx, _ = _data(layer)
        layer.zero_grad()
        _, state = layer(x, hx)
        loss = sum((s * s).sum() for s in (state if isinstance(state, tuple) else (state,)))
        assert (_checkpoint_nodes(loss) > 0) == (every is not None)
        loss.backward()
        grads.append({"x": x.grad.copy(), **{n: p.grad.copy() for n, p in layer.named_parameters()}})
    for n, want in grads[0].items():
        np.testing.assert_allclose(grads[1][n], want, rtol=0, atol=1e-12 * max(1.0, np.abs(want).max()), err_msg=n)


@pytest.mark.parametrize("fused", [True, False])
def test_dropout_between_layers_draws_the_same_masks(fused):
    layer = nn.LSTM(I, H, num_layers=3, dropout=0.5, fused=fused, dtype=F64)
    _assert_same(layer, 2, dropout_seed=123)
    # and the masks matter: another seed gives other gradients, so the equality above is not vacuous
    a = _gradients(layer, 2, dropout_seed=123)[2]["weight_ih_l2"]
    b = _gradients(layer, 2, dropout_seed=124)[2]["weight_ih_l2"]
    assert np.abs(a - b).max() > 1e-3


def test_the_random_stream_after_the_backward_is_the_plain_paths():
    layer = nn.LSTM(I, H, num_layers=2, dropout=0.3, dtype=F64)
    after = []
    for every in (None, 2):
        _gradients(layer, every, dropout_seed=7)
        after.append(tg.rand(4).numpy())
    np.testing.assert_array_equal(after[0], after[1])


def test_return_gates_traces_are_the_plain_ones():
    layer = nn.LSTM(I, H, num_layers=2, fused=False, dtype=F64)
    x, hx, _ = _data(layer)
    traces = []
    for every in (None, 3):
        layer.checkpoint_every = every
        _, _, trace = layer(x, hx, return_gates=True)
        assert (_checkpoint_nodes(trace[-1]["gates"].sum()) > 0) == (every is not None)
        traces.append(trace)
    for plain, cut in zip(*traces):
        assert set(plain) == set(cut) == {"gates", "c"}
        for key in plain:
            np.testing.assert_allclose(cut[key].data, plain[key].data, rtol=0, atol=1e-12)


@pytest.mark.parametrize("every, segments", [(1, 7), (2, 4), (3, 3), (7, 1), (100, 1)])
def test_the_tape_holds_one_checkpoint_per_segment(every, segments):
    layer = nn.LSTM(I, H, num_layers=2, bidirectional=True, dtype=F64, checkpoint_every=every)
    x, hx, _ = _data(layer)
    out, (h, c) = layer(x, hx)
    assert _checkpoint_nodes(out.sum() + h.sum() + c.sum()) == 4 * segments      # 2 layers × 2 directions
    layer.checkpoint_every = None
    out, (h, c) = layer(x, hx)
    assert _checkpoint_nodes(out.sum() + h.sum() + c.sum()) == 0


@pytest.mark.parametrize("fused", [True, False])
def test_the_tape_keeps_fewer_bytes(fused):
    """What the tape saved after the forward (viz.summary): O(T) per-step tensors plain, only the carried states
    and the outputs with segments."""
    layer = nn.LSTM(I, H, fused=fused, dtype=F64)
    rng = np.random.default_rng(0)
    x = tg.Tensor(rng.standard_normal((60, B, I)), dtype=F64)
    saved = {}
    for every in (None, 10):
        layer.checkpoint_every = every
        out, _ = layer(x)
        s = viz.summary(out.sum())
        saved[every] = s.outside_bytes + sum(s.saved_bytes_per_step.values())
    per_step = B * H * 8
    assert saved[None] >= 60 * 6 * per_step            # at least the gates and c_t (and h_{t−1}) of every step
    assert saved[10] <= saved[None] / 4


def test_no_grad_runs_plain_and_gives_the_same_output():
    layer = nn.GRU(I, H, dtype=F64)
    x, hx, _ = _data(layer)
    with tg.no_grad():
        want, _ = layer(x, hx)
        layer.checkpoint_every = 2
        got, _ = layer(x, hx)
    assert got._ctx is None
    np.testing.assert_array_equal(got.data, want.data)


def test_batch_first_and_unbatched_input():
    layer = nn.GRU(I, H, batch_first=True, dtype=F64)
    rng = np.random.default_rng(1)
    for shape in ((B, T, I), (T, I)):
        data = rng.standard_normal(shape)
        runs = []
        for every in (None, 3):
            layer.checkpoint_every = every
            layer.zero_grad()
            x = tg.Tensor(data, dtype=F64, requires_grad=True)
            out, h = layer(x)
            loss = out.sum() + (h * h).sum()
            assert (_checkpoint_nodes(loss) > 0) == (every is not None)
            loss.backward()
            runs.append([out.data.copy(), x.grad.copy()] + [p.grad.copy() for p in layer.parameters()])
        for got, want in zip(runs[1], runs[0]):
            np.testing.assert_allclose(got, want, rtol=0, atol=1e-12)


def test_repr_names_it():
    assert "checkpoint_every=5" in repr(nn.LSTM(2, 3, checkpoint_every=5))
    assert "checkpoint_every" not in repr(nn.LSTM(2, 3))


@pytest.mark.parametrize("bad, kind, words", [
    (0, ValueError, "checkpoint_every must be greater than zero"),
    (-1, ValueError, "checkpoint_every must be greater than zero"),
    (2.5, TypeError, "checkpoint_every should be of type int or None, got: float"),
    (True, TypeError, "checkpoint_every should be of type int or None, got: bool"),
    ("4", TypeError, "checkpoint_every should be of type int or None, got: str"),
])
@pytest.mark.parametrize("layer", [nn.LSTM, nn.GRU, nn.RNN, nn.PeepholeLSTM])
def test_bad_k_is_refused_by_name(layer, bad, kind, words):
    with pytest.raises(kind, match=words) as caught:
        layer(I, H, checkpoint_every=bad)
    assert str(caught.value).startswith(layer.__name__ + ": ")
    made = layer(I, H)                                  # set after construction: refused at the call
    made.checkpoint_every = bad
    with pytest.raises(kind, match=words):
        made(tg.zeros(T, B, I))


@pytest.mark.parametrize("layer", [lambda **o: nn.DepthGatedLSTM(I, H, **o), lambda **o: nn.ClockworkRNN(I, 6, 3, **o),
                                   lambda **o: nn.NoOutputTanhLSTM(I, H, **o)])
def test_the_other_layers_refuse_bad_k_too(layer):
    with pytest.raises(ValueError, match="checkpoint_every must be greater than zero, but got 0|"
                                         "checkpoint_every must be greater than zero"):
        layer(checkpoint_every=0)


def test_packed_sequence_input():
    from tinygrad_rnn.nn.utils.rnn import pack_padded_sequence
    layer = nn.LSTM(I, H, num_layers=2, bidirectional=True, dtype=F64)
    data = np.random.default_rng(3).standard_normal((T, B, I))
    runs = []
    for every in (None, 2):
        layer.checkpoint_every = every
        layer.zero_grad()
        x = tg.Tensor(data, dtype=F64, requires_grad=True)
        out, (h, c) = layer(pack_padded_sequence(x, [7, 5, 2]))
        loss = (out.data * out.data).sum() + h.sum() + (c * c).sum()
        assert (_checkpoint_nodes(loss) > 0) == (every is not None)
        loss.backward()
        runs.append([out.data.data.copy(), x.grad.copy()] + [p.grad.copy() for p in layer.parameters()])
    for got, want in zip(runs[1], runs[0]):
        np.testing.assert_allclose(got, want, rtol=0, atol=1e-12)


def test_retain_graph_backward_twice_doubles_and_a_third_is_refused():
    layer = nn.GRU(I, H, dtype=F64, checkpoint_every=3)
    x, hx, _ = _data(layer)
    out, h = layer(x, hx)
    loss = (out * out).sum() + h.sum()
    loss.backward(retain_graph=True)
    once = layer.weight_hh_l0.grad.copy()
    loss.backward()
    np.testing.assert_allclose(layer.weight_hh_l0.grad, 2 * once, rtol=1e-13, atol=0)
    with pytest.raises(RuntimeError, match="backward through the graph a second time"):
        loss.backward()


def test_an_empty_batch_runs():
    layer = nn.LSTM(I, H, checkpoint_every=2)
    x = tg.zeros(T, 0, I, requires_grad=True)
    out, (h, c) = layer(x)
    (out.sum() + h.sum()).backward()
    assert out.shape == (T, 0, H) and x.grad.shape == (T, 0, I)
    np.testing.assert_array_equal(layer.weight_hh_l0.grad, 0)


def test_a_frozen_layer_records_nothing_as_the_plain_one():
    layer = nn.LSTM(I, H, dtype=F64, checkpoint_every=2)
    for p in layer.parameters():
        p.requires_grad_(False)
    x, _, _ = _data(layer)
    out, (h, c) = layer(x.detach())
    assert not out.requires_grad and out._ctx is None and not h.requires_grad
    out, _ = layer(x)                                     # x requires grad: its gradient only, as plain
    (out * out).sum().backward()
    want = x.grad.copy()
    x.grad = None
    layer.checkpoint_every = None
    out, _ = layer(x)
    (out * out).sum().backward()
    np.testing.assert_allclose(want, x.grad, rtol=0, atol=1e-12)
