"""Issue 15, item 3: the LSTM and GRU sequence kernels on two threads in one OpenMP region for the whole sequence
(sequence_threads.h: each step, the threads split the recurrent product's panels, then the gate loops' batch rows).

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
GRU_SHAPES = [(7, 112, 5), (3, 172, 4), (16, 128, 6), (33, 70, 3)]  # each B·3H·H ≥ 2¹⁸


def _cy():
    pytest.importorskip("tinygrad_rnn.backend._kernels.sequence", reason="the Cython kernels are not built")
    from tinygrad_rnn.backend._kernels import sequence
    with threadpoolctl.threadpool_limits(2):
        if sequence.gemm_threads(1 << 30, 64) != 2:    # (setup.py leaves OpenMP out on macOS and on request)
            pytest.skip("the kernels are built without OpenMP: everything runs on one thread")
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
    dcs = rng.standard_normal((T, B, H)).astype(dtype)       # a gradient for the cells themselves (return_gates)
    return xp, h0, c0, w, keep, dys, dh_n, dc_n, dcs


def _run(cy, threads, args, act, reverse, grads):
    xp, h0, c0, w, keep, dys, dh_n, dc_n, dcs = args
    with threadpoolctl.threadpool_limits(threads):
        gates, cs, hs, ys = cy.lstm_sequence_forward(xp, h0, c0, w, keep, act, reverse=reverse)
        dys_, dh_, dc_, dcs_ = {"all": (dys, dh_n, dc_n, None), "dc": (None, None, dc_n, None),
                                "dys": (dys, None, None, None), "cells": (dys, dh_n, None, dcs)}[grads]
        dz, dh0, dc0 = cy.lstm_sequence_backward(gates, cs, c0, w, keep, dys_, dh_, dc_, dcs_, act, reverse=reverse)
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
    for act, grads in (("sigmoid", "all"), ("hard_sigmoid", "dc"), ("sigmoid", "dys"), ("sigmoid", "cells")):
        one = _run(cy, 1, args, act, reverse, grads)
        two = _run(cy, 2, args, act, reverse, grads)
        for name, a, b in zip(("gates", "cs", "hs", "ys", "dz", "dh0", "dc0"), one, two):
            np.testing.assert_array_equal(a, b, err_msg=f"{name} {act} {grads}")


def test_the_threaded_kernels_equal_the_numpy_twins():
    # not only equal to the one-thread loop: right (float64, to rounding)
    cy = _cy()
    from tinygrad_rnn.backend import numpy_twins
    rng = np.random.default_rng(5)
    xp, h0, c0, w, keep, dys, dh_n, dc_n, dcs = _problem(7, 100, 5, np.float64, True, rng)
    with threadpoolctl.threadpool_limits(2):
        got = cy.lstm_sequence_forward(xp, h0, c0, w, keep, "sigmoid")
        got_b = cy.lstm_sequence_backward(got[0], got[1], c0, w, keep, dys, dh_n, dc_n, dcs, "sigmoid")
    want = numpy_twins.lstm_sequence_forward(xp, h0, c0, w, keep, "sigmoid")
    want_b = numpy_twins.lstm_sequence_backward(want[0], want[1], c0, w, keep, dys, dh_n, dc_n, dcs, "sigmoid")
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


def _gru_run(cy, threads, args, act, reverse, grads, bias):
    xp, h0, _, w, keep, dys, dh_n, _ = args
    with threadpoolctl.threadpool_limits(threads):
        hp, gates, hs, ys = cy.gru_sequence_forward(xp, h0, w, bias, keep, act, reverse=reverse)
        dys_, dh_ = (dys, dh_n) if grads == "all" else (None, dh_n) if grads == "dh" else (dys, None)
        dxp, dhp, dh0 = cy.gru_sequence_backward(gates, hp, hs, h0, w, keep, dys_, dh_, act, reverse=reverse)
    return hp, gates, hs, ys, dxp, dhp, dh0


@pytest.mark.parametrize("dtype", [np.float32, np.float64], ids=["float32", "float64"])
@pytest.mark.parametrize("B,H,T", GRU_SHAPES, ids=[f"B{b}H{h}" for b, h, _ in GRU_SHAPES])
@pytest.mark.parametrize("lengths", [False, True], ids=["full", "lengths"])
@pytest.mark.parametrize("reverse", [False, True], ids=["forward", "reverse"])
def test_gru_two_threads_equal_one_bitwise(dtype, B, H, T, lengths, reverse):
    cy = _cy()
    nr = 16 if dtype == np.float64 else 32
    with threadpoolctl.threadpool_limits(2):
        assert cy.gemm_threads(B * 3 * H * H, (H + nr - 1) // nr) == 2      # the threaded path is taken
    rng = np.random.default_rng(B * H + T + 1)
    xp, h0, c0, w, keep, dys, dh_n, dc_n, _ = _problem(B, H, T, dtype, lengths, rng)
    args = (xp[..., :3 * H].copy(), h0, c0, w[:3 * H].copy(), keep, dys, dh_n, dc_n)
    bias = rng.standard_normal(3 * H).astype(dtype)
    for act, grads, b in (("sigmoid", "all", bias), ("hard_sigmoid", "dh", None), ("sigmoid", "dys", bias)):
        one = _gru_run(cy, 1, args, act, reverse, grads, b)
        two = _gru_run(cy, 2, args, act, reverse, grads, b)
        for name, x, y in zip(("hp", "gates", "hs", "ys", "dxp", "dhp", "dh0"), one, two):
            np.testing.assert_array_equal(x, y, err_msg=f"{name} {act} {grads}")


def test_a_gru_layer_on_two_threads_equals_one():
    import tinygrad_rnn as tg
    from tinygrad_rnn import nn
    results = []
    for threads in (1, 2):
        tg.manual_seed(0)
        gru = nn.GRU(24, 128, num_layers=2, bidirectional=True)
        x = tg.randn(6, 16, 24, requires_grad=True)
        with threadpoolctl.threadpool_limits(threads):
            out, h = gru(x)
            ((out * out).sum() + h.sum()).backward()
        results.append([out.data, h.data, x.grad] + [p.grad for p in gru.parameters()])
    for a, b in zip(*results):
        np.testing.assert_array_equal(a, b)


def test_the_threaded_gru_kernels_equal_the_numpy_twins():
    cy = _cy()
    from tinygrad_rnn.backend import numpy_twins
    rng = np.random.default_rng(6)
    with threadpoolctl.threadpool_limits(2):
        assert cy.gemm_threads(7 * 3 * 112 * 112, 7) == 2
    xp, h0, _, w, keep, dys, dh_n, _, _ = _problem(7, 112, 5, np.float64, True, rng)
    xp, w, b = xp[..., :336].copy(), w[:336].copy(), rng.standard_normal(336)
    with threadpoolctl.threadpool_limits(2):
        got = cy.gru_sequence_forward(xp, h0, w, b, keep, "sigmoid")
        got_b = cy.gru_sequence_backward(got[1], got[0], got[2], h0, w, keep, dys, dh_n, "sigmoid")
    want = numpy_twins.gru_sequence_forward(xp, h0, w, b, keep, "sigmoid")
    want_b = numpy_twins.gru_sequence_backward(want[1], want[0], want[2], h0, w, keep, dys, dh_n, "sigmoid")
    for x, y in zip(got + got_b, want + want_b):
        np.testing.assert_allclose(x, y, rtol=1e-12, atol=1e-12)
