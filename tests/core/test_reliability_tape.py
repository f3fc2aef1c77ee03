"""Issue 8, tape and memory: 20,000-step sequences at the default recursion limit (memory, linear time, a deep graph
freed without a crash), 1,000 training steps that leak nothing with the garbage collector off, truncated BPTT."""
import gc
import os
import subprocess
import sys
import tracemalloc
import weakref

import numpy as np
import pytest

import tinygrad_rnn as tg
from tinygrad_rnn import nn, optim
from tinygrad_rnn.apps.charlm import CharLM, detach_state
from tinygrad_rnn.nn.functional import cross_entropy

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
H, LONG, SHORT = 32, 20_000, 2_000


def one_blas_thread():
    from threadpoolctl import threadpool_limits

    return threadpool_limits(1)


def lstm_case(steps, scan, seed=0):
    """A float64 LSTM (H=32, B=1) and an input of `steps` steps; the layer records a Scan node or one per step."""
    tg.manual_seed(seed)
    lstm = nn.LSTM(H, H, dtype=np.float64)
    lstm.scan = scan
    return lstm, tg.randn(steps, 1, H, dtype=np.float64)


def forward_backward(lstm, x):
    out, (h, c) = lstm(x)
    loss = (out * out).mean() + h.sum() + c.sum()
    loss.backward()
    return loss


# ---- 1. an LSTM over 20,000 steps -------------------------------------------------------------------------------
@pytest.mark.slow
@pytest.mark.parametrize("scan", [True, False], ids=["scan", "per-step"])
def test_20000_steps_at_default_recursion_limit_and_bounded_memory(scan):
    assert sys.getrecursionlimit() <= 1000
    lstm, x = lstm_case(LONG, scan)
    gc.collect()
    tracemalloc.start()
    try:
        with one_blas_thread():
            forward_backward(lstm, x)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak < 320e6, f"peak memory growth {peak / 1e6:.0f} MB"
    grads = [p.grad for p in lstm.parameters()]
    assert all(g is not None and np.isfinite(g).all() for g in grads)
    assert np.abs(lstm.weight_hh_l0.grad).max() > 0


TIMING = """
import gc, sys, time
sys.path.insert(0, {tests!r})
from test_reliability_tape import lstm_case, one_blas_thread

def timed(steps, repeats=1):
    cases = [lstm_case(steps, {scan}) for _ in range(repeats)]
    gc.disable()                                     # as timeit does: the collector's passes are not the engine's
    try:
        start = time.process_time()              # CPU time: other processes on the machine do not count
        losses = []
        for lstm, x in cases:                    # every forward first, then every backward: the short runs hold
            out, (h, c) = lstm(x)                # as much memory at once as the long one, so page faults and
            losses.append((out * out).mean() + h.sum() + c.sum())   # cache misses weigh the same on both
        for loss in losses:
            loss.backward()
        return (time.process_time() - start) / repeats
    finally:
        gc.enable()

with one_blas_thread():
    timed({short})                                   # warm-up
    short, long = [], []
    for _ in range(7):                               # interleaved: load on the machine hits both lengths alike;
        short.append(timed({short}, {long} // {short}))   # the short one is run LONG/SHORT times per sample, so
        long.append(timed({long}))                   # both samples take as long and meet the same noise
print(min(short), min(long))
"""


@pytest.mark.slow
@pytest.mark.parametrize("scan", [True, False], ids=["scan", "per-step"])
def test_20000_steps_take_linear_time(scan):
    """Best of 7: T=20,000 takes at most 20 × T=2,000 in CPU time. Linear work gives 10; a per-step scan of the
    whole tape (quadratic) gives about 100, so 20 (an exponent of 1.3) tells them apart with room for a loaded
    machine: CI once measured 12.6 for the per-step tape, under load, with the work exactly linear
    (test_work_per_step_is_constant counts it). The short sample is 10 sequences of T=2,000 whose graphs are
    all alive together, so it touches as much memory as one T=20,000 graph: a first touch of fresh pages (kernel
    time, once cost 25% of the long run alone) and cache misses cost both alike, and only how the work grows with
    the length of one chain is compared. Timed as `timeit` times, in a fresh interpreter with the cyclic garbage
    collector paused: its full passes over every live object land in the long run only. The tape needs no
    collector: test_graph_holds_no_reference_cycles."""
    code = TIMING.format(tests=os.path.dirname(os.path.abspath(__file__)), scan=scan, short=SHORT, long=LONG)
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=300, cwd=ROOT)
    assert result.returncode == 0, result.stderr[-2000:]
    short, long = map(float, result.stdout.split())
    assert long / short <= 20, f"T={LONG}: {long:.3f} s, T={SHORT}: {short:.3f} s, ratio {long / short:.1f}"


def calls_made(steps, scan):
    """Every call the interpreter makes (Python functions and C builtins) in one forward and backward."""
    lstm, x = lstm_case(steps, scan)
    count = 0

    def profile(frame, event, arg):
        nonlocal count
        if event in ("call", "c_call"):
            count += 1

    sys.setprofile(profile)
    try:
        forward_backward(lstm, x)
    finally:
        sys.setprofile(None)
    return count


@pytest.mark.parametrize("scan", [True, False], ids=["scan", "per-step"])
def test_work_per_step_is_constant(scan):
    """The noise-free half of the linear-time check: from T=2,000 to 4,000 and from 4,000 to 8,000, each added step
    costs no more calls than before (the per-step tape makes about 130 a step; the Scan node over the sequence
    kernels a constant number in all). A walk over the tape per step, a visited-list lookup or a growing re-sort
    would add calls that grow with T (checked: a generator over the nodes done so far, run once per node in the
    walk, fails this). A loop of bare bytecode makes no call: the timed test above is the check for that."""
    c2, c4, c8 = (calls_made(steps, scan) for steps in (2_000, 4_000, 8_000))
    assert c2 > 0, (c2, c4, c8)
    # 1% for first-call work (a cache filled once) landing in one sample; a term in T² would double the slope
    assert (c8 - c4) / 4_000 <= 1.01 * max(c4 - c2, 0) / 2_000 + 1e-3, (c2, c4, c8)


def test_long_sequence_gradients_equal_per_step_tape():
    """The Scan node and the per-step tape give the same gradients on a long-ish sequence (to rounding: BLAS may
    round differently for differently aligned buffers)."""
    grads = []
    for scan in (True, False):
        lstm, x = lstm_case(300, scan)
        forward_backward(lstm, x)
        grads.append([p.grad for p in lstm.parameters()])
    for a, b in zip(*grads):
        np.testing.assert_allclose(a, b, rtol=1e-12, atol=1e-13)


DELETE_GRAPH = """
import gc, sys
import numpy as np
import tinygrad_rnn as tg
from tinygrad_rnn import nn
tg.manual_seed(0)
lstm = nn.LSTM(32, 32, dtype=np.float64)
lstm.scan = {scan}
out, (h, c) = lstm(tg.randn({steps}, 1, 32, dtype=np.float64))
loss = (out * out).sum() + h.sum() + c.sum()
y = tg.Tensor([1.0], requires_grad=True)
for _ in range({steps}):                             # and a plain chain of {steps} primitive ops
    y = y * 1.0
del out, h, c, loss, y                               # the whole graph goes, node by node, with nothing run on it
gc.collect()
print("freed")
"""


@pytest.mark.slow
@pytest.mark.parametrize("scan", [True, False], ids=["scan", "per-step"])
def test_deleting_a_20000_step_graph_does_not_crash(scan):
    code = DELETE_GRAPH.format(scan=scan, steps=LONG)
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120, cwd=ROOT)
    assert result.returncode == 0 and result.stdout.strip() == "freed", (result.returncode, result.stderr[-2000:])


# ---- 2. 1,000 training steps, garbage collector off ------------------------------------------------------------
@pytest.mark.slow
def test_1000_training_steps_leak_nothing_without_gc():
    tg.manual_seed(0)
    text = np.random.default_rng(0).integers(0, 20, size=(4, 2000))
    model = CharLM(20, hidden=16, layers=2, cell="lstm", dropout=0.1, embedding=8)
    opt = optim.Adam(model.parameters(), lr=3e-3)
    state, seq = None, 8
    was_enabled = gc.isenabled()
    gc.collect()
    gc.disable()
    tracemalloc.start()
    try:
        with one_blas_thread():
            for step in range(1, 1001):
                start = (step * seq) % (text.shape[1] - seq - 1)
                chunk = text[:, start:start + seq + 1].T
                logits, state = model(chunk[:-1], state)
                T, B, V = logits.shape
                loss = cross_entropy(logits.reshape(T * B, V), chunk[1:].reshape(-1))
                opt.zero_grad()
                loss.backward()
                optim.clip_grad_norm_(model.parameters(), 5.0)
                opt.step()
                state = detach_state(state)
                loss_ref, logits_ref = weakref.ref(loss), weakref.ref(logits)
                del loss, logits
                assert loss_ref() is None and logits_ref() is None, f"step {step}'s loss outlived the step"
                if step == 100:
                    after_100 = tracemalloc.get_traced_memory()[0]
            after_1000 = tracemalloc.get_traced_memory()[0]
    finally:
        tracemalloc.stop()
        if was_enabled:
            gc.enable()
    assert after_1000 - after_100 < 10e6, f"memory grew by {(after_1000 - after_100) / 1e6:.1f} MB"


def test_graph_holds_no_reference_cycles():
    """With the garbage collector off, a loss, its graph and its saved arrays go as soon as the last name does."""
    was_enabled = gc.isenabled()
    gc.collect()
    gc.disable()
    try:
        for scan in (True, False):
            lstm, x = lstm_case(20, scan)
            out, (h, c) = lstm(x)
            loss = (out * out).sum()
            refs = [weakref.ref(t) for t in (loss, out, h, c)] + [weakref.ref(loss._ctx)]
            del out, h, c
            loss.backward()
            del loss
            assert all(r() is None for r in refs)
    finally:
        if was_enabled:
            gc.enable()


# ---- 5. truncated BPTT --------------------------------------------------------------------------------------------
@pytest.mark.parametrize("make", [
    lambda: nn.LSTM(3, 5, num_layers=2, dtype=np.float64),
    lambda: nn.LSTM(3, 5, fused=False, dtype=np.float64),
    lambda: nn.GRU(3, 5, dtype=np.float64),
    lambda: nn.PeepholeLSTM(3, 5, dtype=np.float64),
    lambda: nn.RNN(3, 5, bidirectional=False, dtype=np.float64),
], ids=["lstm-2-layers", "lstm-unfused", "gru", "peephole", "rnn"])
@pytest.mark.parametrize("scan", [True, False], ids=["scan", "per-step"])
def test_truncated_bptt_window_2_equals_window_2_alone(make, scan):
    tg.manual_seed(1)
    layer = make()
    layer.scan = scan
    g = np.random.default_rng(2)
    w1, w2 = (tg.Tensor(g.standard_normal((6, 2, 3))) for _ in range(2))

    def loss_of(out):
        return (out * out).sum()

    out1, state = layer(w1)
    loss_of(out1).backward()
    layer.zero_grad()
    state = detach_state(state)                          # the carried state, cut from window 1's tape
    out2, _ = layer(w2, state)
    loss_of(out2).backward()
    carried = {name: p.grad.copy() for name, p in layer.named_parameters()}

    layer.zero_grad()
    alone = tuple(tg.Tensor(s.data.copy()) for s in state) if isinstance(state, tuple) else tg.Tensor(state.data.copy())
    out2_alone, _ = layer(w2, alone)
    loss_of(out2_alone).backward()
    np.testing.assert_allclose(out2.data, out2_alone.data, rtol=1e-14, atol=0)     # the same computation: equal
    for name, p in layer.named_parameters():                                          # up to BLAS alignment effects
        np.testing.assert_allclose(carried[name], p.grad, rtol=1e-13, atol=1e-15, err_msg=name)


def test_detached_state_passes_no_gradient_back():
    tg.manual_seed(1)
    layer = nn.LSTM(3, 4, dtype=np.float64)
    x1 = tg.Tensor(np.ones((3, 1, 3)), requires_grad=True)
    _, state = layer(x1)
    out, _ = layer(tg.Tensor(np.ones((3, 1, 3))), detach_state(state))
    out.sum().backward()
    assert x1.grad is None
