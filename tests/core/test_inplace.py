"""Issue 8, item 3: writes into arrays the tape saved, between forward and backward, never give silently wrong
gradients: the engine's own in-place writes (optimiser steps, load_state_dict) make backward raise PyTorch's
version-counter error; raw writes into a saved leaf array are refused on the spot (read-only while a graph holds it)."""
import gc

import numpy as np
import pytest

import tinygrad_rnn as tg
from tinygrad_rnn import nn, optim
from tinygrad_rnn.nn.functional import linear

MODIFIED = "one of the variables needed for gradient computation has been modified by an inplace operation"


def lstm_case(scan):
    tg.manual_seed(0)
    lstm = nn.LSTM(3, 4, dtype=np.float64)
    lstm.scan = scan
    return lstm, tg.randn(5, 2, 3, dtype=np.float64)


@pytest.mark.parametrize("scan,op", [(True, "Scan"), (False, "LSTMStep")], ids=["scan", "per-step"])
def test_optimizer_step_between_forward_and_backward_raises(scan, op):
    lstm, x = lstm_case(scan)
    out, _ = lstm(x)
    loss = out.sum()
    (out * 2).sum().backward(retain_graph=True)      # a first backward, as a GAN's or a closure's would
    opt = optim.SGD(lstm.parameters(), lr=0.1)
    opt.step()                                       # the engine's own write: allowed, and counted
    assert lstm.weight_hh_l0._version == 1
    with pytest.raises(RuntimeError) as info:
        loss.backward()
    message = str(info.value)
    assert MODIFIED in message and f"of {op}," in message
    assert "is at version 1; expected version 0 instead" in message
    assert f"[float64 array of shape {lstm.weight_hh_l0.shape}]" in message


def test_version_counts_every_engine_write():
    w = nn.Parameter(np.ones((2, 2)))
    x = tg.Tensor(np.ones((3, 2)), dtype=np.float64)
    y = linear(x, w)                                  # LinearAct saves w
    opt = optim.SGD([w], lr=0.5)
    w.grad = np.ones((2, 2))
    opt.step()
    opt.step()
    with pytest.raises(RuntimeError, match=r"input 1 of LinearAct, is at version 2; expected version 0 instead"):
        y.sum().backward()


def test_load_state_dict_between_forward_and_backward_raises():
    lstm, x = lstm_case(scan=True)
    out, _ = lstm(x)
    lstm.load_state_dict(lstm.state_dict())
    with pytest.raises(RuntimeError, match=MODIFIED):
        out.sum().backward()


@pytest.mark.parametrize("scan", [True, False], ids=["scan", "per-step"])
def test_raw_write_into_a_saved_parameter_is_refused_at_once(scan):
    lstm, x = lstm_case(scan)
    out, _ = lstm(x)
    before = lstm.weight_hh_l0.data.copy()
    with pytest.raises(ValueError, match="read-only"):
        lstm.weight_hh_l0.data[...] = 0
    with pytest.raises(ValueError, match="read-only"):
        lstm.weight_ih_l0.data *= 2
    np.testing.assert_array_equal(lstm.weight_hh_l0.data, before)
    out.sum().backward()                             # the gradient is the right one
    reference, _ = lstm_case(scan)
    reference(x)[0].sum().backward()
    for p, q in zip(lstm.parameters(), reference.parameters()):
        assert p.grad.tobytes() == q.grad.tobytes()
    lstm.weight_hh_l0.data[...] = 0                  # backward freed the graph: writes are fine again
    assert lstm.weight_hh_l0.data.flags.writeable


def test_raw_write_into_a_saved_input_is_refused():
    w = tg.Tensor(np.ones((2, 3)), requires_grad=True)
    x = tg.Tensor(np.arange(6.0).reshape(3, 2))
    y = x @ w                                        # MatMul saves x for w's gradient
    with pytest.raises(ValueError, match="read-only"):
        x.data[0, 0] = 100.0
    y.sum().backward()
    np.testing.assert_array_equal(w.grad, np.arange(6.0).reshape(3, 2).sum(axis=0)[:, None] * np.ones((1, 3)))


def test_arrays_are_writeable_again_when_the_graph_is_dropped_without_backward():
    lstm, x = lstm_case(scan=True)
    out, (h, c) = lstm(x)
    assert not lstm.weight_hh_l0.data.flags.writeable
    del out, h, c
    gc.collect()
    assert all(p.data.flags.writeable for p in lstm.parameters())
    assert x.data.flags.writeable


def test_retained_graph_keeps_arrays_read_only_until_freed():
    w = tg.Tensor(np.ones(3), requires_grad=True)
    y = (w * w).sum()
    y.backward(retain_graph=True)
    assert not w.data.flags.writeable
    y.backward()
    assert w.data.flags.writeable
    np.testing.assert_array_equal(w.grad, [4.0, 4.0, 4.0])


def test_an_op_that_saved_nothing_holds_nothing():
    """Addition's backward does not read its inputs: writing one (raw or by an optimiser) is harmless and allowed."""
    b = nn.Parameter(np.zeros(3))
    x = tg.Tensor(np.ones((2, 3)), requires_grad=True, dtype=np.float64)
    y = (x + b).sum()
    assert b.data.flags.writeable
    b.data[...] = 5.0
    y.backward()
    np.testing.assert_array_equal(b.grad, [2.0, 2.0, 2.0])


def test_read_only_arrays_stay_read_only():
    a = np.ones(3)
    a.flags.writeable = False
    t = tg.Tensor._make(a, None)
    w = tg.Tensor(np.ones(3), requires_grad=True, dtype=np.float64)
    (t * w).sum().backward()
    assert not a.flags.writeable


def test_a_detached_alias_shares_the_guard():
    """p.detach() shares p's array: a step on p still trips the graph that saved the alias."""
    p = nn.Parameter(np.ones((2, 2)))
    x = tg.Tensor(np.ones((1, 2)), requires_grad=True, dtype=np.float64)
    y = (x @ p.detach()).sum()
    p.grad = np.ones((2, 2))
    optim.SGD([p], lr=1.0).step()
    with pytest.raises(RuntimeError, match=MODIFIED):
        y.backward()


def test_training_loop_never_trips():
    """The usual order (forward, backward, step) over several steps, with retain_graph and zero_grad."""
    lstm, x = lstm_case(scan=True)
    opt = optim.Adam(lstm.parameters(), lr=0.01)
    for _ in range(5):
        out, _ = lstm(x)
        opt.zero_grad()
        out.sum().backward()
        opt.step()
        assert all(p.data.flags.writeable for p in lstm.parameters())
    assert lstm.weight_hh_l0._version == 5
