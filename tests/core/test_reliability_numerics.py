"""Issue 8, numerics: activations at ±1000 raise no floating-point error, softmax and cross-entropy stay finite at
extreme logits, a saturated LSTM stays finite over 200 steps; hypothesis property tests of broadcasting gradients."""
import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import mutually_broadcastable_shapes

import tinygrad_rnn as tg
from tinygrad_rnn import nn
from tinygrad_rnn.backend import calls as _backend
from tinygrad_rnn.nn.functional import cross_entropy
from tinygrad_rnn.nn.functional import linear

EXTREMES = [-1000.0, -745.0, -100.0, 0.0, 100.0, 745.0, 1000.0]
RANGES = {"sigmoid": (0.0, 1.0), "tanh": (-1.0, 1.0), "hard_sigmoid": (0.0, 1.0)}


def finite(*arrays):
    return all(np.isfinite(a).all() for a in arrays)


# ---- 6. activations at the extremes ---------------------------------------------------------------------------
@pytest.mark.parametrize("act", sorted(RANGES))
def test_activations_at_extremes_raise_no_fp_error(act, dtype):
    lo, hi = RANGES[act]
    with np.errstate(all="raise"):
        x = tg.Tensor(np.array(EXTREMES, dtype=dtype), requires_grad=True)
        y = getattr(x, act)()
        (y * 1.0).sum().backward()
    assert y.dtype == dtype and finite(y.data, x.grad)
    assert (y.data >= lo).all() and (y.data <= hi).all()
    assert (y.data[-3:] > 0.99).all() and y.data[3] == {"tanh": 0.0}.get(act, 0.5)
    assert (x.grad >= 0).all() and x.grad[3] == {"sigmoid": 0.25, "tanh": 1.0, "hard_sigmoid": 0.2}[act]


@pytest.mark.parametrize("act", sorted(RANGES))
def test_fused_linear_act_at_extremes_raises_no_fp_error(act, dtype):
    """The same values through the fused kernel: x @ I, then the activation (forward and backward)."""
    lo, hi = RANGES[act]
    x = tg.Tensor(np.array([EXTREMES], dtype=dtype), requires_grad=True)
    w = tg.Tensor(np.eye(len(EXTREMES), dtype=dtype), requires_grad=True)
    with np.errstate(all="raise"):
        y = linear(x, w, act=act)
        y.sum().backward()
    assert finite(y.data, x.grad, w.grad) and (y.data >= lo).all() and (y.data <= hi).all()
    ref = getattr(tg.Tensor(x.data.copy()), act)()
    np.testing.assert_allclose(y.data, ref.data, rtol=0, atol=4 * np.finfo(dtype).eps)


@pytest.mark.parametrize("act", ["sigmoid", "hard_sigmoid"])
def test_lstm_and_gru_gates_at_extremes_raise_no_fp_error(act, dtype):
    z = np.array([EXTREMES * 4], dtype=dtype)                       # (1, 4H) with H = 7: every gate saturated
    c_prev = np.array([EXTREMES], dtype=dtype)
    with np.errstate(all="raise", under="ignore"):   # products of saturated gates may be subnormal: fine
        gates, c, h = _backend.call("lstm_gates_forward", z, c_prev, act)
        dz, dc_prev = _backend.call("lstm_gates_backward", gates, c_prev, c, np.ones_like(h), np.ones_like(c), act)
        xp = np.array([EXTREMES * 3], dtype=dtype)
        g_gates, g_h = _backend.call("gru_gates_forward", xp, xp[:, ::-1].copy(), c_prev, act)
        dxp, dhp, dh_prev = _backend.call("gru_gates_backward", g_gates, xp[:, ::-1].copy(), c_prev,
                                          np.ones_like(g_h), act)
    assert finite(gates, c, h, dz, dc_prev, g_gates, g_h, dxp, dhp, dh_prev)
    assert (gates >= -1).all() and (gates <= 1).all() and (np.abs(h) <= 1).all()


def stable_log_softmax(x):
    x = np.asarray(x, dtype=np.float64)
    shifted = x - x.max()
    return shifted - np.log(np.exp(shifted).sum())


@pytest.mark.parametrize("logits", [[1000.0, 0.0, -1000.0], [-1e4, -1e4]], ids=["spread", "equal-very-negative"])
def test_log_softmax_and_cross_entropy_at_extreme_logits(logits, dtype):
    expected = stable_log_softmax(logits)
    tol = dict(rtol=1e-6 if dtype == np.float32 else 1e-15, atol=1e-6 if dtype == np.float32 else 0)
    with np.errstate(all="raise", under="ignore"):   # e^(−2000) is 0: underflow is the right answer here
        x = tg.Tensor(np.array([logits], dtype=dtype), requires_grad=True)
        out = x.log_softmax(-1)
        out.sum().backward()
        assert finite(out.data, x.grad)
        np.testing.assert_allclose(out.data[0], expected, **tol)
        for target in range(len(logits)):
            x.grad = None
            loss = cross_entropy(x, np.array([target]))
            loss.backward()
            assert finite(loss.data, x.grad)
            np.testing.assert_allclose(loss.item(), -expected[target], **tol)
            onehot = np.eye(len(logits))[target]
            np.testing.assert_allclose(x.grad[0], np.exp(expected) - onehot, **tol)


@pytest.mark.parametrize("fused", [True, False], ids=["fused", "unfused"])
@pytest.mark.parametrize("scan", [True, False], ids=["scan", "per-step"])
def test_lstm_with_weights_times_10_stays_finite_over_200_steps(fused, scan, dtype):
    tg.manual_seed(0)
    lstm = nn.LSTM(4, 8, fused=fused, dtype=dtype)
    lstm.scan = scan
    for p in lstm.parameters():
        p.data *= 10
    x = tg.Tensor(np.random.default_rng(0).standard_normal((200, 3, 4)).astype(dtype) * 10)
    with np.errstate(all="raise", under="ignore"):   # subnormal products of saturated gates are fine
        out, (h, c) = lstm(x)
        (out.sum() + c.sum()).backward()
    assert finite(out.data, h.data, c.data) and (np.abs(out.data) <= 1).all()
    assert all(finite(p.grad) for p in lstm.parameters())


# ---- 7. broadcasting gradients, by hypothesis -------------------------------------------------------------------
OPS = {
    "add": lambda a, b: a + b,
    "sub": lambda a, b: a - b,
    "mul": lambda a, b: a * b,
    "div": lambda a, b: a / b,
    "pow": lambda a, b: a ** b,
    "where": lambda a, b: tg.where(a.data > 0.2, a, b),
}


def operands(shapes, seed, op):
    g = np.random.default_rng(seed)
    a = g.uniform(0.5, 1.5, shapes[0]) if op in ("pow", "div") else g.standard_normal(shapes[0])
    b = g.uniform(0.5, 1.5, shapes[1]) * g.choice([-1.0, 1.0], shapes[1]) if op == "div" else \
        g.uniform(-1.5, 1.5, shapes[1]) if op == "pow" else g.standard_normal(shapes[1])
    return (tg.Tensor(np.asarray(a, dtype=np.float64), requires_grad=True),
            tg.Tensor(np.asarray(b, dtype=np.float64), requires_grad=True))


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(shapes=mutually_broadcastable_shapes(num_shapes=2, min_dims=0, max_dims=4, min_side=1, max_side=3),
       op=st.sampled_from(sorted(OPS)), seed=st.integers(0, 2**32 - 1))
def test_broadcasting_binary_op_gradients(shapes, op, seed):
    a, b = operands(shapes.input_shapes, seed, op)
    out = OPS[op](a, b)
    assert out.shape == shapes.result_shape
    out.sum().backward()
    assert a.grad.shape == a.shape and b.grad.shape == b.shape
    a.grad = b.grad = None
    tg.gradcheck(lambda x, y: OPS[op](x, y), (a, b), atol=1e-6, rtol=1e-5)


@settings(max_examples=50, deadline=None)
@given(shapes=mutually_broadcastable_shapes(num_shapes=2, min_dims=2, max_dims=4, min_side=1, max_side=3),
       seed=st.integers(0, 2**32 - 1))
def test_batched_matmul_gradients(shapes, seed):
    """matmul broadcasts its batch dimensions: (…, n, k) @ (…, k, m), with the batch shapes drawn mutually
    broadcastable."""
    a_batch, b_batch = shapes.input_shapes[0][:-2], shapes.input_shapes[1][:-2]
    n, k, m = shapes.input_shapes[0][-2], shapes.input_shapes[1][-2], shapes.input_shapes[1][-1]
    g = np.random.default_rng(seed)
    a = tg.Tensor(g.standard_normal(a_batch + (n, k)), requires_grad=True)
    b = tg.Tensor(g.standard_normal(b_batch + (k, m)), requires_grad=True)
    (a @ b).sum().backward()
    assert a.grad.shape == a.shape and b.grad.shape == b.shape
    tg.gradcheck(lambda x, y: x @ y, (a, b), atol=1e-6, rtol=1e-5)


@settings(max_examples=40, deadline=None)
@given(T=st.integers(1, 5), B=st.integers(1, 4), H=st.integers(1, 6), seed=st.integers(0, 2**32 - 1))
def test_bias_used_across_time_and_batch_gets_the_sum(T, B, H, seed):
    g = np.random.default_rng(seed)
    x = tg.Tensor(g.standard_normal((T, B, H)), requires_grad=True)
    bias = tg.Tensor(g.standard_normal(H), requires_grad=True)
    w = g.standard_normal((T, B, H))
    ((x + bias) * tg.Tensor(w)).sum().backward()
    assert bias.grad.shape == (H,)
    np.testing.assert_allclose(bias.grad, w.sum(axis=(0, 1)), rtol=1e-13, atol=1e-13)
    np.testing.assert_array_equal(x.grad, w)
