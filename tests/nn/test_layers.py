"""Sequence layers: PyTorch parity, fused == unfused, lengths, inspection trace, dropout, errors."""
import contextlib

import numpy as np
import pytest

from tinygrad_rnn import Tensor, from_numpy, gradcheck, manual_seed, nn

F64 = np.float64
LAYERS = {
    "rnn": (nn.RNN, {}),
    "rnn_relu": (nn.RNN, {"nonlinearity": "relu"}),
    "lstm": (nn.LSTM, {}),
    "lstm_hard": (nn.LSTM, {"gate_activation": "hard_sigmoid"}),
    "peephole": (nn.PeepholeLSTM, {}),
    "gru": (nn.GRU, {}),
    "gru_cho": (nn.GRU, {"reset_after": False}),
}


def has_c(layer):
    return isinstance(layer, (nn.LSTM, nn.PeepholeLSTM))


def forward_backward(layer, x, h0=None, c0=None, lengths=None, weights=None, rng=None):
    """Forward, a random linear loss over output and final states, backward; returns (out, states, loss weights)."""
    hx = None if h0 is None else ((h0, c0) if has_c(layer) else h0)
    out, state = layer(x, hx, lengths=lengths)
    states = list(state) if has_c(layer) else [state]
    if weights is None:
        weights = [rng.standard_normal(t.shape) for t in [out, *states]]
    loss = sum((t * Tensor(w, dtype=t.dtype)).sum() for t, w in zip([out, *states], weights))
    loss.backward()
    return out, states, weights


def leaves(rng, shape, n, dtype=F64):
    return [Tensor(rng.standard_normal(shape), requires_grad=True, dtype=dtype) for _ in range(n)]


@pytest.mark.parametrize("name", list(LAYERS))
def test_fused_equals_unfused(rng, name):
    cls, kwargs = LAYERS[name]
    results = []
    for fused in (True, False):
        manual_seed(3)
        layer = cls(4, 5, num_layers=2, bidirectional=True, fused=fused, dtype=F64, **kwargs)
        data = np.random.default_rng(0)
        x, h0, c0 = leaves(data, (6, 3, 4), 1) + leaves(data, (4, 3, 5), 2)
        out, states, _ = forward_backward(layer, x, h0, c0, lengths=[6, 2, 4], rng=np.random.default_rng(1))
        grads = [x.grad, h0.grad] + ([c0.grad] if has_c(layer) else []) + [p.grad for p in layer.parameters()]
        results.append([out.data] + [s.data for s in states] + grads)
    for a, b in zip(*results):
        np.testing.assert_allclose(a, b, rtol=1e-12, atol=1e-13)


@pytest.mark.parametrize("name", ["peephole", "gru_cho", "lstm_hard"])
def test_gradcheck_layer(rng, name):
    cls, kwargs = LAYERS[name]
    layer = cls(2, 3, num_layers=2, bidirectional=True, dtype=F64, **kwargs)
    x, h0, c0 = leaves(rng, (4, 2, 2), 1) + leaves(rng, (4, 2, 3), 2)
    hx = (h0, c0) if has_c(layer) else h0
    inputs = [x, h0] + ([c0] if has_c(layer) else []) + list(layer.parameters())
    assert gradcheck(lambda *a: layer(x, hx, lengths=[4, 3]), inputs)


@pytest.mark.parametrize("batch_first", [False, True], ids=["seq_first", "batch_first"])
@pytest.mark.parametrize("dtype", [np.float64, np.float32], ids=["float64", "float32"])
@pytest.mark.parametrize("name", ["RNN", "LSTM", "GRU"])
def test_matches_torch(rng, name, dtype, batch_first, torch):
    tol = dict(rtol=1e-10, atol=1e-11) if dtype == np.float64 else dict(rtol=1e-5, atol=1e-5)
    ours = getattr(nn, name)(4, 6, num_layers=2, bidirectional=True, batch_first=batch_first, dtype=dtype)
    ref = getattr(torch.nn, name)(4, 6, num_layers=2, bidirectional=True, batch_first=batch_first)
    ref = ref.double() if dtype == np.float64 else ref
    ref.load_state_dict({k: torch.from_numpy(v.numpy()) for k, v in ours.state_dict().items()})
    shape = (3, 5, 4) if batch_first else (5, 3, 4)
    x, h0, c0 = leaves(rng, shape, 1, dtype) + leaves(rng, (4, 3, 6), 2, dtype)
    xt, h0t, c0t = (torch.tensor(t.data, requires_grad=True) for t in (x, h0, c0))
    out, states, weights = forward_backward(ours, x, h0, c0, rng=rng)
    out_t, state_t = ref(xt, (h0t, c0t) if name == "LSTM" else h0t)
    states_t = list(state_t) if name == "LSTM" else [state_t]
    sum((t * torch.tensor(w)).sum() for t, w in zip([out_t, *states_t], weights)).backward()
    for a, b in zip([out, *states], [out_t, *states_t]):
        np.testing.assert_allclose(a.data, b.detach().numpy(), **tol)
    for a, b in [(x, xt), (h0, h0t)] + ([(c0, c0t)] if name == "LSTM" else []):
        np.testing.assert_allclose(a.grad, b.grad.numpy(), **tol)
    for k, p in ours.named_parameters():
        np.testing.assert_allclose(p.grad, getattr(ref, k).grad.numpy(), **tol, err_msg=k)


@pytest.mark.parametrize("name", ["LSTM", "GRU"])
def test_lengths_match_torch_packed_sequences(rng, name, torch):
    from torch.nn.utils.rnn import pack_padded_sequence, pad_packed_sequence

    ours = getattr(nn, name)(3, 4, num_layers=2, bidirectional=True, dtype=F64)
    ref = getattr(torch.nn, name)(3, 4, num_layers=2, bidirectional=True).double()
    ref.load_state_dict({k: torch.from_numpy(v.numpy()) for k, v in ours.state_dict().items()})
    lengths = [5, 2, 4]
    (x,) = leaves(rng, (5, 3, 3), 1)
    xt = torch.tensor(x.data, requires_grad=True)
    out, states, weights = forward_backward(ours, x, lengths=lengths, rng=rng)
    packed_out, state_t = ref(pack_padded_sequence(xt, torch.tensor(lengths), enforce_sorted=False))
    out_t, _ = pad_packed_sequence(packed_out, total_length=5)
    states_t = list(state_t) if name == "LSTM" else [state_t]
    sum((t * torch.tensor(w)).sum() for t, w in zip([out_t, *states_t], weights)).backward()
    for a, b in zip([out, *states], [out_t, *states_t]):
        np.testing.assert_allclose(a.data, b.detach().numpy(), rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(x.grad, xt.grad.numpy(), rtol=1e-10, atol=1e-12)
    for k, p in ours.named_parameters():
        np.testing.assert_allclose(p.grad, getattr(ref, k).grad.numpy(), rtol=1e-10, atol=1e-12, err_msg=k)


def test_lengths_semantics(rng):
    layer = nn.GRU(3, 4, dtype=F64)
    (x,) = leaves(rng, (6, 2, 3), 1)
    out, h_n = layer(x, lengths=[6, 3])
    assert np.all(out.data[3:, 1] == 0)
    alone_out, alone_h = layer(Tensor(x.data[:3, 1:2], dtype=F64))
    np.testing.assert_allclose(h_n.data[0, 1], alone_h.data[0, 0], rtol=1e-14)
    np.testing.assert_allclose(out.data[:3, 1], alone_out.data[:, 0], rtol=1e-14)
    out.sum().backward()
    assert np.all(x.grad[3:, 1] == 0)  # padded steps get no gradient


def test_state_dict_names_match_pytorch():
    layer = nn.LSTM(3, 4, num_layers=2, bidirectional=True)
    names = list(layer.state_dict())
    assert names[:4] == ["weight_ih_l0", "weight_hh_l0", "bias_ih_l0", "bias_hh_l0"]
    assert "weight_hh_l1_reverse" in names and len(names) == 16
    assert layer.weight_ih_l1.shape == (16, 8)
    assert {"weight_ci_l0", "weight_co_l0_reverse"} <= set(nn.PeepholeLSTM(3, 4, bidirectional=True).state_dict())


def test_unbatched_input_and_default_state(rng):
    layer = nn.LSTM(3, 4, num_layers=2, dtype=F64)
    x = rng.standard_normal((5, 3))
    out, (h, c) = layer(Tensor(x, dtype=F64))
    out_b, (h_b, c_b) = layer(Tensor(x[:, None], dtype=F64))
    assert out.shape == (5, 4) and h.shape == (2, 4)
    np.testing.assert_allclose(out.data, out_b.data[:, 0], rtol=1e-15)
    np.testing.assert_allclose(c.data, c_b.data[:, 0], rtol=1e-15)


@pytest.mark.parametrize("fused", [True, False])
def test_return_gates_trace(rng, fused):
    layer = nn.LSTM(3, 4, fused=fused, dtype=F64)
    (x,) = leaves(rng, (5, 2, 3), 1)
    out, (h, c), traces = layer(x, return_gates=True)
    trace = traces[0]
    assert trace["gates"].shape == (5, 2, 16) and trace["c"].shape == (5, 2, 4)
    i, f, g, o = np.split(trace["gates"].data, 4, axis=2)
    np.testing.assert_allclose(out.data, o * np.tanh(trace["c"].data), rtol=1e-14)
    np.testing.assert_allclose(trace["c"].data[-1], c.data[0], rtol=1e-15)
    if fused:
        with pytest.raises(RuntimeError, match="inspection only"):
            trace["gates"].sum().backward()


def test_dropout_between_layers_only_in_training(rng):
    layer = nn.GRU(3, 4, num_layers=2, dropout=0.5, dtype=F64)
    x = Tensor(rng.standard_normal((4, 2, 3)), dtype=F64)
    manual_seed(0)
    a = layer(x)[0].data
    manual_seed(1)
    b = layer(x)[0].data
    assert not np.allclose(a, b)
    layer.eval()
    np.testing.assert_array_equal(layer(x)[0].data, layer(x)[0].data)
    with pytest.warns(UserWarning, match="non-zero dropout expects num_layers greater than 1"):  # as torch
        single = nn.GRU(3, 4, num_layers=1, dropout=0.5, dtype=F64)  # no dropout after the last layer
    np.testing.assert_array_equal(single(x)[0].data, single(x)[0].data)


def f32(*shape):
    return Tensor(np.zeros(shape, dtype=np.float32))


def test_errors():
    lstm = nn.LSTM(3, 4, num_layers=2)
    with pytest.raises(ValueError, match="LSTM: Expected input to be 2D or 3D, got 4D instead"):
        lstm(f32(1, 1, 1, 3))
    with pytest.raises(ValueError, match="input.size\\(-1\\) must be equal to input_size. Expected 3, got 2"):
        lstm(f32(5, 2, 2))
    with pytest.raises(ValueError, match=r"LSTM: Expected hx\[0\] size \(2, 2, 4\), got \(1, 2, 4\)"):
        lstm(f32(5, 2, 3), (f32(1, 2, 4), f32(2, 2, 4)))
    with pytest.raises(ValueError, match=r"LSTM: lengths must be in \[1, 5\].*\[6, 2\]"):
        lstm(f32(5, 2, 3), lengths=[6, 2])
    with pytest.raises(ValueError, match=r"Expected lengths of shape \(2,\), got \(3,\)"):
        lstm(f32(5, 2, 3), lengths=[1, 2, 3])
    with pytest.raises(ValueError, match="GRU: expected input of dtype float32.*got float64"):
        nn.GRU(3, 4)(Tensor(np.zeros((5, 2, 3))))
    with pytest.raises(ValueError, match="dropout should be a number in range"):
        nn.RNN(3, 4, dropout=1.5)


@pytest.mark.parametrize("name", list(LAYERS))
def test_scan_node_equals_one_node_per_step(rng, name):
    """The Scan node (default for fused layers) and the per-step tape give the same numbers (the weight gradients'
    per-step terms are summed in a different order, hence rounding-level differences)."""
    cls, kwargs = LAYERS[name]
    results = []
    for scan in (True, False):
        layer = cls(3, 4, num_layers=2, bidirectional=True, dtype=F64, **kwargs)
        layer.load_state_dict(cls(3, 4, num_layers=2, bidirectional=True, dtype=F64, **kwargs).state_dict()
                              if not results else results[0][0])
        layer.scan = scan
        (x,) = leaves(np.random.default_rng(5), (5, 3, 3), 1)
        out, states, weights = forward_backward(layer, x, lengths=[5, 2, 4], rng=np.random.default_rng(6))
        grads = [x.grad] + [p.grad for p in layer.parameters()]
        results.append((layer.state_dict(), [out.data] + [s.data for s in states] + grads))
    for got, want in zip(results[0][1], results[1][1]):
        np.testing.assert_allclose(got, want, rtol=1e-12, atol=1e-14)


@pytest.mark.parametrize("fused", [True, False], ids=["fused", "unfused"])
def test_an_empty_batch_with_lengths_runs_as_without(fused):
    # Issue 11, item 13: lengths of shape (0,) for B = 0 raised numpy's "zero-size array to reduction operation".
    layer = nn.LSTM(3, 4, fused=fused, bidirectional=True, dtype=np.float64)
    x = Tensor(np.zeros((5, 0, 3)), requires_grad=True)
    out, (h, c) = layer(x, lengths=np.zeros(0, dtype=np.int64))
    assert out.shape == (5, 0, 8) and h.shape == c.shape == (2, 0, 4)
    (out.sum() + h.sum()).backward()
    assert x.grad.shape == (5, 0, 3)
    np.testing.assert_array_equal(layer.weight_hh_l0.grad, np.zeros((16, 4)))


def test_a_fused_layer_projects_the_whole_sequence_without_reshape_nodes_and_an_own_project_gets_rows(tape_ops):
    """The fused recurrences' project takes x (T, B, I) as it is (LinearAct takes any leading dimensions): no
    Reshape node on either side of it. A subclass that overrides project without @takes_sequences still gets the
    (T·B, I) rows it was written for, and the same numbers."""
    from tinygrad_rnn.nn.layers import RNNBase
    from tinygrad_rnn.nn.recurrences import LSTMRecurrence

    manual_seed(0)
    lstm = nn.LSTM(3, 5, dtype=np.float64)
    x = Tensor(np.random.default_rng(0).standard_normal((6, 2, 3)), requires_grad=True)
    out, _ = lstm(x)
    assert "Reshape" not in tape_ops(out) and "LinearAct" in tape_ops(out)

    shapes = []

    class RowsOnly(LSTMRecurrence):
        def project(self, x, p):
            shapes.append(x.shape)
            return super().project(x, p)

    mine = RNNBase(RowsOnly(), 3, 5, dtype=np.float64)
    mine.load_state_dict(lstm.state_dict())
    got, _ = mine(x)
    assert shapes == [(12, 3)]
    np.testing.assert_allclose(got.data, out.data, rtol=1e-13, atol=1e-15)


@pytest.mark.parametrize("cell", ["LSTM", "GRU", "RNN"])
def test_a_one_layer_layer_hands_its_given_state_to_the_scan_as_it_is(cell, tape_ops):
    """num_layers=1, one direction, hx given as (1, B, H): the Scan takes it and gives h_n back as (1, B, H), with
    no Unbind before it nor Stack after (four nodes of nine at batch 1). The numbers and every gradient equal the
    unfused layer's and those of Scan's reference loop (which reshapes the state for its steps)."""
    from tinygrad_rnn.fused import sequence

    rng = np.random.default_rng(0)
    x = rng.standard_normal((7, 3, 4))
    states = [rng.standard_normal((1, 3, 5)) for _ in range(2 if cell == "LSTM" else 1)]
    runs = {}
    for name, fused, reference in (("kernel", True, False), ("loop", True, True), ("unfused", False, False)):
        manual_seed(0)
        layer = getattr(nn, cell)(4, 5, dtype=np.float64, fused=fused)
        xt = Tensor(x, requires_grad=True)
        hx = [Tensor(s, requires_grad=True) for s in states]
        with sequence.reference_loop() if reference else contextlib.nullcontext():
            out, hn = layer(xt, tuple(hx) if cell == "LSTM" else hx[0])
        finals = list(hn) if cell == "LSTM" else [hn]
        if name == "kernel":
            assert not {"Unbind", "Stack"} & set(tape_ops(out)) and all(f.shape == (1, 3, 5) for f in finals)
        loss = (out * out).sum() + sum((f * f * (i + 2)).sum() for i, f in enumerate(finals))
        loss.backward()
        runs[name] = [out.data, *[f.data for f in finals], xt.grad, *[h.grad for h in hx],
                      *[p.grad for p in layer.parameters()]]
    for name in ("loop", "unfused"):
        for got, want in zip(runs["kernel"], runs[name]):
            np.testing.assert_allclose(got, want, rtol=1e-12, atol=1e-13, err_msg=name)


@pytest.mark.parametrize("cell", ["LSTM", "RNN", "PeepholeLSTM"])
def test_a_fused_layer_adds_both_biases_inside_its_projection_node(cell, tape_ops):
    """b_ih + b_hh join the fused input projection (one LinearAct with two biases, no Add node of their own); each
    bias gets its own gradient array, equal to the unfused layer's; a hook that changes one in place leaves the
    other alone; only the bias that requires a gradient gets one."""
    rng = np.random.default_rng(0)
    x = rng.standard_normal((6, 2, 3))
    grads = {}
    for fused in (True, False):
        manual_seed(0)
        layer = getattr(nn, cell)(3, 5, dtype=np.float64, fused=fused)
        xt = Tensor(x, requires_grad=True)
        out, _ = layer(xt)
        if fused:
            assert "Add" not in tape_ops(out) and "LinearAct" in tape_ops(out)
        (out * out).sum().backward()
        grads[fused] = (xt.grad, layer.bias_ih_l0.grad, layer.bias_hh_l0.grad, layer.weight_ih_l0.grad)
    for got, want in zip(grads[True], grads[False]):
        np.testing.assert_allclose(got, want, rtol=1e-12, atol=1e-13)
    assert not np.shares_memory(grads[True][1], grads[True][2])

    manual_seed(0)
    layer = getattr(nn, cell)(3, 5, dtype=np.float64)
    layer.bias_ih_l0.register_hook(lambda g: g.__imul__(0))
    out, _ = layer(Tensor(x))
    (out * out).sum().backward()
    np.testing.assert_array_equal(layer.bias_ih_l0.grad, 0)
    np.testing.assert_allclose(layer.bias_hh_l0.grad, grads[False][2], rtol=1e-12, atol=1e-13)

    manual_seed(0)
    layer = getattr(nn, cell)(3, 5, dtype=np.float64)
    layer.bias_ih_l0.requires_grad_(False)
    out, _ = layer(Tensor(x))
    (out * out).sum().backward()
    assert layer.bias_ih_l0.grad is None
    np.testing.assert_allclose(layer.bias_hh_l0.grad, grads[False][2], rtol=1e-12, atol=1e-13)


@pytest.mark.parametrize("cell", ["LSTM", "GRU", "RNN"])
def test_a_layers_two_weight_gradients_of_one_dz_come_from_one_gemm_pass(cell, monkeypatch):
    """dW_hh (the Scan's) and dW_ih (the projection's) are both dzᵀ·(something): the tape holds W_hh's until the
    projection's backward gives W_ih's and materializes the two in one outer_products call, with the numbers two
    products give (bitwise: the same sums). With a hook on any tensor, under autograd.grad or anomaly mode nothing
    is held back, and the numbers are the same. Stacked and bidirectional layers pair each layer and direction."""
    from tinygrad_rnn import autograd
    from tinygrad_rnn.backend import calls

    counts = {"outer_products": 0, "outer_product": 0}
    for name in counts:
        real = getattr(calls, name)

        def counted(*args, name=name, real=real):
            counts[name] += 1
            return real(*args)
        monkeypatch.setattr(calls, name, counted)
    rng = np.random.default_rng(0)
    x = rng.standard_normal((9, 4, 3))

    def run(how, layers=1, bidirectional=False):
        manual_seed(0)
        layer = getattr(nn, cell)(3, 6, num_layers=layers, bidirectional=bidirectional, dtype=np.float64)
        xt = Tensor(x, requires_grad=True)
        params = list(layer.parameters())
        for k in counts:
            counts[k] = 0
        if how == "anomaly":
            with autograd.detect_anomaly():
                out, _ = layer(xt)
                (out * out).sum().backward()
            return [xt.grad] + [p.grad for p in params]
        out, _ = layer(xt)
        loss = (out * out).sum()
        if how == "grad":
            return list(autograd.grad(loss, [xt, *params]))
        if how == "hook":
            handle = xt.register_hook(lambda g: None)
            loss.backward()
            handle.remove()
        else:
            loss.backward()
        return [xt.grad] + [p.grad for p in params]

    paired = run("backward")
    if cell == "GRU":      # dW_hh's factor is dhp, not dz: nothing to pair
        assert counts["outer_products"] == 0
    else:
        assert counts == {"outer_products": 1, "outer_product": 0}
    for how in ("grad", "hook", "anomaly"):
        alone = run(how)
        assert counts["outer_products"] == 0, how
        for a, b in zip(paired, alone):
            if how == "anomaly":      # (anomaly mode runs Scan's Python loop: the same sums to rounding)
                np.testing.assert_allclose(a, b, rtol=1e-12, atol=1e-13, err_msg=how)
            else:
                np.testing.assert_array_equal(a, b, err_msg=how)
    run("backward", layers=2, bidirectional=True)
    assert counts["outer_products"] == (0 if cell == "GRU" else 4)


def test_a_lazy_weight_gradient_is_held_back_only_for_a_node_that_reads_its_gradient_and_runs_next():
    """The tape holds W_hh's lazy gradient (a factor over dz) only while the node dz goes to runs, and only when that
    node's class says its backward reads its gradient without writing it (Function.grad_read_only: LinearAct). A
    user's Function that writes into its incoming gradient (here dz, in place) leaves dW_hh as it would be with no
    holding at all (a review found it doubled); and when the projection's backward raises, W_hh, whose gradient was
    complete, still gets it."""
    from tinygrad_rnn import fused as F
    from tinygrad_rnn.function import Function

    class Scale(Function):
        @staticmethod
        def forward(ctx, x):
            return 2 * x

        @staticmethod
        def backward(ctx, g):
            g *= 2                          # its own incoming gradient, in place
            return g

    def scan_grad(hook):
        rng = np.random.default_rng(0)
        xs = Tensor(rng.standard_normal((6, 3, 16)), requires_grad=True)
        w_hh = Tensor(rng.standard_normal((16, 4)) * 0.3, requires_grad=True)
        h0 = c0 = Tensor(np.zeros((3, 4)))
        handle = w_hh.register_hook(lambda g: None) if hook else None   # a hook: nothing is ever held back
        ys, _, _ = F.Scan.apply(Scale.apply(xs), h0, c0, w_hh, step=F.LSTMStep, n_carry=2)
        (ys * ys).sum().backward()
        if handle is not None:
            handle.remove()
        return w_hh.grad
    np.testing.assert_array_equal(scan_grad(hook=False), scan_grad(hook=True))

    manual_seed(0)
    lstm = nn.LSTM(3, 5, dtype=np.float64)
    buffer = np.random.default_rng(0).standard_normal((6, 2, 3))
    view = buffer[:]                                     # made before the forward: a write through it is caught
    out, _ = lstm(from_numpy(buffer))
    loss = (out * out).sum()
    view[0, 0, 0] += 1.0
    with pytest.raises(RuntimeError, match="modified by an inplace operation"):
        loss.backward()
    assert lstm.weight_hh_l0.grad is not None and lstm.weight_ih_l0.grad is None
