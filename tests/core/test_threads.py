"""Issue 11, item 1: grad mode, anomaly mode and the retain-graph flag are per thread.

Each test forces the interleaving that broke the process-wide flags with events, so it fails on the old code every
time, not by luck."""
import threading

import numpy as np
import pytest

import tinygrad_rnn as tg
from tinygrad_rnn import anomaly, nn

TIMEOUT = 30


def run_in_thread(fn):
    """Start fn in a thread; return (thread, box) where box collects its exception, if any."""
    box = []

    def target():
        try:
            fn()
        except BaseException as err:  # re-raised in the main thread by join()
            box.append(err)

    thread = threading.Thread(target=target, daemon=True)
    thread.start()
    return thread, box


def join(thread, box):
    thread.join(TIMEOUT)
    assert not thread.is_alive(), "the helper thread hung"
    if box:
        raise box[0]


def lstm_and_data():
    tg.manual_seed(0)
    lstm = nn.LSTM(3, 5, dtype=np.float64)
    return lstm, tg.randn(7, 2, 3, dtype=np.float64)


def train_step(lstm, x):
    lstm.zero_grad()
    out, (h, c) = lstm(x)
    ((out * out).sum() + c.sum()).backward()
    return {name: p.grad.copy() for name, p in lstm.named_parameters()}


def test_no_grad_in_an_eval_thread_does_not_cut_the_training_graph():
    lstm, x = lstm_and_data()
    alone = train_step(lstm, x)
    inside, release = threading.Event(), threading.Event()

    def evaluate():
        with tg.no_grad():
            inside.set()
            release.wait(TIMEOUT)                  # stays inside no_grad while the training thread runs its step
            out, _ = lstm(x)
            assert not out.requires_grad

    thread, box = run_in_thread(evaluate)
    assert inside.wait(TIMEOUT)
    try:
        assert tg.is_grad_enabled()
        beside = train_step(lstm, x)
    finally:
        release.set()
        join(thread, box)
    assert beside.keys() == alone.keys()
    for name in alone:
        assert np.array_equal(beside[name], alone[name]), name


def test_interleaved_blocks_in_two_threads_leave_each_threads_mode_as_it_was():
    # Thread 1 enters no_grad, thread 2 enters no_grad, thread 1 exits, thread 2 exits: with one process-wide flag
    # thread 2 restores the False it saw on entry, and recording stays off for everyone.
    turns = [threading.Event() for _ in range(4)]
    seen = {}

    def one():
        with tg.no_grad():
            turns[0].set()
            turns[1].wait(TIMEOUT)
        seen["one after"] = tg.is_grad_enabled()
        turns[2].set()

    def two():
        turns[0].wait(TIMEOUT)
        with tg.no_grad():
            turns[1].set()
            turns[2].wait(TIMEOUT)
            seen["two inside"] = tg.is_grad_enabled()
        seen["two after"] = tg.is_grad_enabled()

    threads = [run_in_thread(one), run_in_thread(two)]
    for thread, box in threads:
        join(thread, box)
    assert seen == {"one after": True, "two inside": False, "two after": True}
    assert tg.is_grad_enabled()
    assert tg.Tensor([1.0], requires_grad=True).exp().requires_grad


def test_new_threads_start_with_grad_on_and_anomaly_off():
    seen = {}

    def look():
        seen["grad"], seen["anomaly"] = tg.is_grad_enabled(), anomaly.is_anomaly_enabled()

    with tg.no_grad(), tg.detect_anomaly():
        join(*run_in_thread(look))
    assert seen == {"grad": True, "anomaly": False}


def test_detect_anomaly_in_one_thread_does_not_switch_it_on_in_another():
    inside, release = threading.Event(), threading.Event()

    def checked():
        with tg.detect_anomaly():
            inside.set()
            release.wait(TIMEOUT)

    thread, box = run_in_thread(checked)
    assert inside.wait(TIMEOUT)
    try:
        assert not anomaly.is_anomaly_enabled()
        x = tg.Tensor([-1.0], requires_grad=True)
        with np.errstate(invalid="ignore"):
            y = x.log()                            # a NaN forward raises only where anomaly mode is on
        assert np.isnan(y.data).all()
    finally:
        release.set()
        join(thread, box)


def test_retain_graph_in_one_thread_survives_a_plain_backward_in_another():
    # Thread A's backward(retain_graph=True) pauses (in a hook) before its Scan; thread B starts a plain backward and
    # pauses before its own Scan; A resumes. With one process-wide flag A's Scan saw B's False and freed its step
    # contexts, and A's second backward failed.
    lstm, x = lstm_and_data()
    a_paused, b_paused, a_done, b_done = (threading.Event() for _ in range(4))
    grads = {}

    def graph(pause, wait_for):
        out, _ = lstm(x)

        def hook(g):
            pause.set()
            assert wait_for.wait(TIMEOUT)

        out.register_hook(hook)
        return (out * out).sum()

    def a():
        loss = graph(a_paused, b_paused)
        loss.backward(retain_graph=True)
        a_done.set()
        assert b_done.wait(TIMEOUT)
        loss.backward()                            # the second backward through the retained graph
        grads["a"] = {n: p.grad.copy() for n, p in lstm.named_parameters()}

    def b():
        assert a_paused.wait(TIMEOUT)
        loss = graph(b_paused, a_done)
        loss.backward()
        b_done.set()

    lstm.zero_grad()
    threads = [run_in_thread(a), run_in_thread(b)]
    for thread, box in threads:
        join(thread, box)
    second = grads["a"]                            # A's two backwards and B's one, on the same weights and data
    lstm.zero_grad()
    loss = graph(threading.Event(), _set_event())
    loss.backward()
    one = {n: p.grad.copy() for n, p in lstm.named_parameters()}
    for name in one:
        np.testing.assert_allclose(second[name], 3 * one[name], rtol=1e-12, atol=1e-12)


def _set_event():
    event = threading.Event()
    event.set()
    return event


@pytest.mark.parametrize("mode", ["grad", "anomaly"])
def test_mode_is_restored_after_an_exception_in_the_block(mode):
    block = tg.no_grad() if mode == "grad" else tg.detect_anomaly()
    before = tg.is_grad_enabled(), anomaly.is_anomaly_enabled()
    with pytest.raises(KeyError):
        with block:
            raise KeyError("x")
    assert (tg.is_grad_enabled(), anomaly.is_anomaly_enabled()) == before


class _SlowGrad(np.ndarray):
    """A .grad whose + waits (up to a second) for a second thread to start adding too: without a lock around the
    accumulation both read the old value and one term is lost; with it the second waits, and the first times out."""

    entered = None

    def __add__(self, other):
        first = not _SlowGrad.entered.is_set()
        _SlowGrad.entered.set()
        if first:
            _SlowGrad.second.wait(1.0)
        else:
            _SlowGrad.second.set()
        return np.add(np.asarray(self), other)


def test_two_threads_accumulating_into_one_leaf_lose_no_term():
    _SlowGrad.entered, _SlowGrad.second = threading.Event(), threading.Event()
    w = tg.Tensor([1.0, 2.0], requires_grad=True, dtype=np.float64)
    w.grad = np.zeros(2).view(_SlowGrad)

    def contribute(k):
        return lambda: (w * float(k)).sum().backward()

    threads = [run_in_thread(contribute(k)) for k in (3, 5)]
    for thread, box in threads:
        join(thread, box)
    np.testing.assert_array_equal(np.asarray(w.grad), [8.0, 8.0])
