"""Issue 15, item 3: the LSTM sequence kernels on two threads in one OpenMP region for the whole sequence
(lstm_threads.h: each step, the threads split the recurrent product's panels, then the gate loops' batch rows).

Checked bitwise against the one-thread loop of sequence.pyx (every element is computed by the same code in the
same order), at sizes that split unevenly (odd batch, H not a multiple of the panel width), with lengths masks,
reverse, missing upstream gradients, hard_sigmoid gates and both dtypes; and through a layer, against the
one-thread layer. The sizes are above the split threshold (TG_PARALLEL_FMAS multiply-adds a step), which the test
asserts, so the two-thread path is the one taken."""
import numpy as np
import pytest

threadpoolctl = pytest.importorskip("threadpoolctl")
pytestmark = pytest.mark.requires_kernels

SHAPES = [(7, 100, 5), (3, 150, 4), (16, 128, 6), (33, 70, 3)]   # (B, H, T): each B·4H·H ≥ 2¹⁸


def _cy():
    pytest.importorskip("tinygrad_rnn.backend._kernels.sequence", reason="the Cython kernels are not built")
    from tinygrad_rnn.backend._kernels import sequence
    return sequence


def _problem(B, H, T, dtype, lengths, rng):
    xp = rng.standard_normal((T, B, 4 * H)).astype(dtype)
    h0, c0 = (rng.uniform(-0.5, 0.5, (B, H)).astype(dtype) for _ in range(2))
    w = (rng.standard_normal((4 * H, H)) / np.sqrt(H)).astype(dtype)
    keep = None
    if lengths:
        steps = rng.integers(1, T + 1, B)
        keep = (np.arange(T)[:, None] < steps[None, :]).astype(dtype)
    dys = rng.standard_normal((T, B, H)).astype(dtype)
    dh_n, dc_n = (rng.standard_normal((B, H)).astype(dtype) for _ in range(2))
    return xp, h0, c0, w, keep, dys, dh_n, dc_n


def _run(cy, threads, args, act, reverse, grads):
    xp, h0, c0, w, keep, dys, dh_n, dc_n = args
    with threadpoolctl.threadpool_limits(threads):
        gates, cs, hs, ys = cy.lstm_sequence_forward(xp, h0, c0, w, keep, act, reverse=reverse)
        dys_, dh_, dc_ = (dys, dh_n, dc_n) if grads == "all" else (None, None, dc_n) if grads == "dc" else (
            dys, None, None)
        dz, dh0, dc0 = cy.lstm_sequence_backward(gates, cs, c0, w, keep, dys_, dh_, dc_, act, reverse=reverse)
    return gates, cs, hs, ys, dz, dh0, dc0


@pytest.mark.parametrize("dtype", [np.float32, np.float64], ids=["float32", "float64"])
@pytest.mark.parametrize("B,H,T", SHAPES, ids=[f"B{b}H{h}" for b, h, _ in SHAPES])
@pytest.mark.parametrize("lengths", [False, True], ids=["full", "lengths"])
@pytest.mark.parametrize("reverse", [False, True], ids=["forward", "reverse"])
def test_two_threads_equal_one_bitwise(dtype, B, H, T, lengths, reverse):
    cy = _cy()
    nr = 16 if dtype == np.float64 else 32
    with threadpoolctl.threadpool_limits(2):
        assert cy.gemm_threads(B * 4 * H * H, (H + nr - 1) // nr) == 2      # the threaded path is taken
    rng = np.random.default_rng(B * H + T)
    args = _problem(B, H, T, dtype, lengths, rng)
    for act, grads in (("sigmoid", "all"), ("hard_sigmoid", "dc"), ("sigmoid", "dys")):
        one = _run(cy, 1, args, act, reverse, grads)
        two = _run(cy, 2, args, act, reverse, grads)
        for name, a, b in zip(("gates", "cs", "hs", "ys", "dz", "dh0", "dc0"), one, two):
            np.testing.assert_array_equal(a, b, err_msg=f"{name} {act} {grads}")


def test_the_threaded_kernels_equal_the_numpy_twins():
    # not only equal to the one-thread loop: right (float64, to rounding)
    cy = _cy()
    from tinygrad_rnn.backend import numpy_twins
    rng = np.random.default_rng(5)
    xp, h0, c0, w, keep, dys, dh_n, dc_n = _problem(7, 100, 5, np.float64, True, rng)
    with threadpoolctl.threadpool_limits(2):
        got = cy.lstm_sequence_forward(xp, h0, c0, w, keep, "sigmoid")
        got_b = cy.lstm_sequence_backward(got[0], got[1], c0, w, keep, dys, dh_n, dc_n, "sigmoid")
    want = numpy_twins.lstm_sequence_forward(xp, h0, c0, w, keep, "sigmoid")
    want_b = numpy_twins.lstm_sequence_backward(want[0], want[1], c0, w, keep, dys, dh_n, dc_n, "sigmoid")
    for a, b in zip(got + got_b, want + want_b):
        np.testing.assert_allclose(a, b, rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("bidirectional", [False, True], ids=["one-way", "bidirectional"])
def test_a_layer_on_two_threads_equals_one(bidirectional):
    import tinygrad_rnn as tg
    from tinygrad_rnn import nn
    results = []
    for threads in (1, 2):
        tg.manual_seed(0)
        lstm = nn.LSTM(24, 128, num_layers=2, bidirectional=bidirectional)
        x = tg.randn(6, 16, 24, requires_grad=True)
        with threadpoolctl.threadpool_limits(threads):
            out, (h, c) = lstm(x)
            ((out * out).sum() + h.sum() + c.sum()).backward()
        results.append([out.data, h.data, c.data, x.grad] + [p.grad for p in lstm.parameters()])
    for a, b in zip(*results):
        np.testing.assert_array_equal(a, b)
