"""Issue 15, item 1: `return_gates=True` through Scan and the sequence kernels, not the per-step Python loop.

The kernels write the gates (and an LSTM's c_t) for every step anyway; a Scan asked for the trace returns those
blocks after its final carry. The gates are for inspection (a gradient on them is refused, as a fused step refuses
it); an LSTM's c_t takes a gradient, which the sequence backward adds to the cell gradient it carries. Checked
against the per-step path (`reference_loop()`: one fused step node per time step, stacked), in float64 to 1e-12:
the trace, the output, the states and every gradient, with a loss on the trace's c_t, over every cell with a
sequence kernel, lengths masks, both directions and two layers. The kernels' own dcs input is checked bitwise at 1
and 2 threads in test_sequence_threads.py."""
import numpy as np
import pytest

import tinygrad_rnn as tg
from tinygrad_rnn import fused, nn
from tinygrad_rnn.fused import sequence

LAYERS = {
    "lstm": lambda: nn.LSTM(4, 6, num_layers=2, bidirectional=True, dtype=np.float64),
    "peephole": lambda: nn.PeepholeLSTM(4, 6, num_layers=2, bidirectional=True, dtype=np.float64),
    "gru": lambda: nn.GRU(4, 6, num_layers=2, bidirectional=True, dtype=np.float64),
    "gru_cho": lambda: nn.GRU(4, 6, num_layers=2, bidirectional=True, reset_after=False, dtype=np.float64),
    "rnn": lambda: nn.RNN(4, 6, num_layers=2, bidirectional=True, dtype=np.float64),
}
NAMES = {"lstm": ["gates", "c"], "peephole": ["gates", "c"], "gru": ["gates"], "gru_cho": ["gates"], "rnn": []}


def _run(layer, x, lengths, weights):
    out, state, traces = layer(x, lengths=lengths, return_gates=True)
    loss = (out * weights[0]).sum() + sum((s * w).sum() for s, w in zip(state if isinstance(state, tuple) else
                                                                       (state,), weights[1:3]))
    for k, trace in enumerate(traces):
        if "c" in trace:                                    # a loss on the cells themselves: dcs in the kernel
            loss = loss + ((trace["c"] * (0.5 + 0.1 * k)) ** 2).sum()
    layer.zero_grad()
    x.grad = None
    loss.backward()
    return out, state, traces, [p.grad.copy() for p in layer.parameters()], x.grad.copy()


@pytest.mark.parametrize("lengths", [None, [5, 2, 4]], ids=["full", "lengths"])
@pytest.mark.parametrize("cell", list(LAYERS))
def test_the_kernel_trace_and_gradients_equal_the_step_by_step_path(cell, lengths):
    rng = np.random.default_rng(len(cell))
    layer = LAYERS[cell]()
    x = tg.tensor(rng.standard_normal((5, 3, 4)), requires_grad=True)
    weights = [rng.standard_normal(s) for s in ((5, 3, 12), (4, 3, 6), (4, 3, 6))]
    got = _run(layer, x, None if lengths is None else np.array(lengths), weights)
    with sequence.reference_loop():                        # no sequence kernel: one step node per time step
        want = _run(layer, x, None if lengths is None else np.array(lengths), weights)
    assert [sorted(t) for t in got[2]] == [sorted(NAMES[cell])] * 4 == [sorted(t) for t in want[2]]
    for a, b in zip(got[2], want[2]):
        for name in a:
            assert a[name].shape == b[name].shape
            np.testing.assert_allclose(a[name].data, b[name].data, rtol=0, atol=1e-12, err_msg=name)
    np.testing.assert_allclose(got[0].data, want[0].data, rtol=0, atol=1e-12)
    for a, b in zip(got[3] + [got[4]], want[3] + [want[4]]):
        np.testing.assert_allclose(a, b, rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("cell", ["lstm", "gru", "rnn"])
def test_the_trace_comes_from_one_scan_node_not_from_per_step_nodes(cell, monkeypatch):
    # before: return_gates sent the layer past Scan, into T step nodes a layer and direction (here 7 · 2 · 2)
    steps = {"lstm": fused.LSTMStep, "gru": fused.GRUStep, "rnn": fused.RNNStep}[cell]
    calls = []
    real = steps.apply.__func__
    monkeypatch.setattr(steps, "apply", classmethod(lambda cls, *a, **k: calls.append(1) or real(cls, *a, **k)))
    scans = []
    real_scan = fused.Scan.apply.__func__
    monkeypatch.setattr(fused.Scan, "apply", classmethod(lambda cls, *a, **k: scans.append(1) or real_scan(cls, *a,
                                                                                                          **k)))
    layer = LAYERS[cell]()
    out, _, traces = layer(tg.randn(7, 2, 4, dtype=tg.float64), return_gates=True)
    assert calls == [] and len(scans) == 4
    if cell != "rnn":
        assert traces[0]["gates"].shape == (7, 2, 6 * (4 if cell == "lstm" else 3))


@pytest.mark.parametrize("cell", ["lstm", "gru", "gru_cho"])
def test_a_gradient_on_the_gates_is_refused_as_a_fused_step_refuses_it(cell):
    layer = LAYERS[cell]()
    out, _, traces = layer(tg.randn(3, 2, 4, dtype=tg.float64), return_gates=True)
    with pytest.raises(RuntimeError, match="for inspection only"):
        traces[1]["gates"].sum().backward()


def test_the_trace_is_read_only_while_the_backward_needs_it():
    # the trace is the kernels' own blocks (before, the steps' stacked copies), which backward reads: a raw write
    # into them is refused on the spot, as into any array the tape saved
    layer = LAYERS["lstm"]()
    x = tg.randn(3, 2, 4, dtype=tg.float64, requires_grad=True)
    out, _, traces = layer(x, return_gates=True)
    with pytest.raises(ValueError, match="read-only"):
        traces[0]["c"].data[...] = 0                   # the backward reads these very blocks
    before = x.grad
    out.sum().backward()
    assert before is None and np.isfinite(x.grad).all()
    traces[0]["c"].data[...] = 0                         # freed by backward: writeable again


@pytest.mark.requires_kernels          # (the twins' products are NumPy's, whose BLAS splits sums by thread count)
def test_float32_at_two_threads_equals_one_thread():
    threadpoolctl = pytest.importorskip("threadpoolctl")
    rng = np.random.default_rng(3)
    layer = nn.LSTM(64, 128, dtype=np.float32)               # big enough for the kernels' thread region
    x = tg.tensor(rng.standard_normal((6, 16, 64)).astype(np.float32), requires_grad=True)
    weights = [rng.standard_normal(s).astype(np.float32) for s in ((6, 16, 128), (1, 16, 128), (1, 16, 128))]
    results = []
    for threads in (1, 2):
        with threadpoolctl.threadpool_limits(threads):
            results.append(_run(layer, x, None, weights))
    (a_out, _, a_tr, a_g, a_x), (b_out, _, b_tr, b_g, b_x) = results
    np.testing.assert_array_equal(a_tr[0]["c"].data, b_tr[0]["c"].data)
    for a, b in zip(a_g + [a_x], b_g + [b_x]):
        np.testing.assert_array_equal(a, b)


@pytest.mark.parametrize("cell", ["lstm", "peephole"])
def test_the_cells_gradient_equals_finite_differences(cell):
    # independent of both engine paths: a loss on the trace's c_t alone (through the kernels' dcs), checked against
    # central differences of the input, the initial state and every weight, with lengths and both directions
    from tinygrad_rnn import gradcheck
    rng = np.random.default_rng(7)
    layer = {"lstm": nn.LSTM, "peephole": nn.PeepholeLSTM}[cell](3, 4, bidirectional=True, dtype=np.float64)
    x = tg.tensor(rng.standard_normal((4, 2, 3)), requires_grad=True)
    h0, c0 = (tg.tensor(rng.standard_normal((2, 2, 4)) * 0.5, requires_grad=True) for _ in range(2))
    weights = [rng.standard_normal((4, 2, 4)) for _ in range(2)]

    def loss(*_):
        _, _, traces = layer(x, (h0, c0), lengths=np.array([4, 2]), return_gates=True)
        return sum((t["c"] * w).sum() for t, w in zip(traces, weights))
    assert gradcheck(loss, [x, h0, c0, *layer.parameters()])
