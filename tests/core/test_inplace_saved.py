"""Issue 11, item 2: every array a live node saved is protected, not only leaves' own arrays: intermediates, the
bases of saved views (an input batch a data loader refills), index arrays, outputs that view a saved array, and
parameters written through a view made before the forward (found by the fingerprint at backward)."""
import gc

import numpy as np
import pytest

import tinygrad_rnn as tg
from tinygrad_rnn import nn
from tinygrad_rnn.nn.functional import linear

MODIFIED = "one of the variables needed for gradient computation has been modified by an inplace operation"


def test_an_intermediates_array_is_read_only_while_a_node_holds_it():
    a = tg.Tensor([0.3, -0.7, 1.1], requires_grad=True, dtype=np.float64)
    b = a.tanh()
    y = (b * b).sum()                                     # Mul saves b's array; Tanh saved it too
    with pytest.raises(ValueError, match="read-only"):
        b.data[...] = 5
    y.backward()
    t = np.tanh(a.data)
    np.testing.assert_allclose(a.grad, 2 * t * (1 - t ** 2), rtol=1e-14)
    assert b.data.flags.writeable                          # freed by backward: writeable again


@pytest.mark.parametrize("fused,scan", [(True, True), (True, False), (False, False)],
                         ids=["scan", "per-step", "unfused"])
@pytest.mark.parametrize("input_grad", [False, True], ids=["data", "requires_grad"])
def test_an_lstm_input_batch_refilled_after_the_forward_is_refused(fused, scan, input_grad):
    # The layer saves a reshaped view of x's array (the input projection's x2), not x's array itself.
    tg.manual_seed(0)
    lstm = nn.LSTM(3, 4, fused=fused, dtype=np.float64)
    lstm.scan = scan
    batch = np.random.default_rng(0).standard_normal((6, 2, 3))
    x = tg.Tensor(batch, requires_grad=input_grad)
    out, _ = lstm(x)
    with pytest.raises(ValueError, match="read-only"):
        x.data[...] = batch[::-1]                          # the data loader's refill
    (out * out).sum().backward()
    grads = {n: p.grad.copy() for n, p in lstm.named_parameters()}
    lstm.zero_grad()
    out, _ = lstm(tg.Tensor(batch))
    (out * out).sum().backward()
    for name, p in lstm.named_parameters():
        np.testing.assert_array_equal(grads[name], p.grad, err_msg=name)
    x.data[...] = 0                                        # the graph is freed: the buffer is the user's again


def test_an_embedding_index_array_changed_before_backward_does_not_move_the_gradient():
    tg.manual_seed(0)
    emb = nn.Embedding(5, 3, dtype=np.float64)
    idx = np.array([[0, 1], [1, 4]])
    out = emb(idx)
    idx[...] = 2                                            # the caller's buffer: refilled (the lookup kept a copy)
    out.sum().backward()
    np.testing.assert_array_equal(emb.weight.grad.sum(axis=1), [3.0, 6.0, 0.0, 0.0, 3.0])


@pytest.mark.parametrize("fused", [True, False], ids=["fused", "unfused"])
def test_a_parameter_written_through_a_view_made_before_the_forward_is_caught_at_backward(fused):
    tg.manual_seed(0)
    lstm = nn.LSTM(3, 4, fused=fused, dtype=np.float64)
    rows = lstm.weight_hh_l0.data[:4]                       # a view taken before the forward: stays writeable
    out, _ = lstm(tg.randn(5, 2, 3, dtype=np.float64))
    rows += 1.0
    with pytest.raises(RuntimeError, match=MODIFIED) as info:
        out.sum().backward()
    assert f"[float64 array of shape {lstm.weight_hh_l0.shape}]" in str(info.value)
    assert "a view made before the forward" in str(info.value)


def test_a_write_through_a_view_of_a_plain_input_array_is_caught_too():
    w = tg.Tensor(np.ones((3, 2)), requires_grad=True, dtype=np.float64)
    buf = np.arange(6.0).reshape(2, 3)
    row = buf[1]                                            # made before the forward
    y = (tg.Tensor._make(buf, None) @ w).sum()               # a float ndarray operand is not copied: buf is saved
    row[...] = 0
    with pytest.raises(RuntimeError, match=MODIFIED):
        y.backward()


def test_an_output_that_views_a_saved_array_is_read_only():
    # LinearAct saves y (B·T, O) and returns a reshaped view of it: writing the view would change what tanh's
    # backward reads.
    w = tg.Tensor(np.ones((4, 3)), requires_grad=True, dtype=np.float64)
    x = tg.Tensor(np.ones((2, 5, 3)), dtype=np.float64)
    y = linear(x, w, act="tanh")
    assert y.data.base is not None
    with pytest.raises(ValueError, match="read-only"):
        y.data[...] = 0
    y.sum().backward()
    np.testing.assert_allclose(w.grad, np.full((4, 3), 10 * (1 - np.tanh(3.0) ** 2)), rtol=1e-14)


def test_a_saved_view_and_its_base_are_writeable_again_after_backward_in_either_order():
    base = tg.Tensor(np.arange(6.0).reshape(2, 3), requires_grad=True, dtype=np.float64)
    row = base[1]                                           # a view of base's array
    first = (row * row).sum()                               # saves the view
    second = (base * base).sum()                            # saves the base
    with pytest.raises(ValueError, match="read-only"):
        base.data[0, 0] = 7
    with pytest.raises(ValueError, match="read-only"):
        row.data[0] = 7
    first.backward()                                        # the view's node goes first: the base is still held
    assert not base.data.flags.writeable and not row.data.flags.writeable
    second.backward()
    assert base.data.flags.writeable and row.data.flags.writeable


def test_dropping_a_graph_restores_views_and_bases():
    base = tg.Tensor(np.arange(6.0).reshape(2, 3), requires_grad=True, dtype=np.float64)
    row = base[0]
    y = (row * base).sum()
    assert not base.data.flags.writeable and not row.data.flags.writeable
    del y
    gc.collect()
    assert base.data.flags.writeable and row.data.flags.writeable


def test_a_mask_saved_by_where_is_protected():
    cond = np.array([True, False, True])
    a = tg.Tensor([1.0, 2.0, 3.0], requires_grad=True)
    y = tg.where(cond, a * 2, a * 3).sum()
    with pytest.raises(ValueError, match="read-only"):
        cond[1] = True
    y.backward()
    np.testing.assert_array_equal(a.grad, [2.0, 3.0, 2.0])
    cond[1] = True


@pytest.mark.parametrize("size", [6, 5000], ids=["small", "large"])
def test_a_swap_through_an_old_view_is_caught(size):
    # The kernels' fingerprint weights each word by its position: a swap is caught at any size. Without them (the
    # NumPy twins) an array up to 16 KiB gets a CRC (order-sensitive: caught) and a larger one the words' sum and
    # XOR, which a swap leaves alone: the README says so.
    w = tg.Tensor(np.arange(float(size)), requires_grad=True, dtype=np.float64)
    view = w.data[:2]
    y = (w * w * tg.Tensor(np.arange(float(size)), dtype=np.float64)).sum()
    view[...] = view[::-1].copy()
    if size == 6 or tg.backend.calls.fingerprint_kernel() is not None:
        with pytest.raises(RuntimeError, match=MODIFIED):
            y.backward()
    else:
        y.backward()                                      # not caught, as documented
