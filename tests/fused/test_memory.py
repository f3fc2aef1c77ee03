"""Peak memory of a layer's forward+backward against the hand-derived NumPy BPTT (issue 6: at most 1.25×), and
the leaf gradients the tape hands over without a copy: they must still be arrays nobody else holds."""
import numpy as np
import pytest

import tinygrad_rnn as tg
from tinygrad_rnn.apps import bench_candidates as bc
from tinygrad_rnn import nn

SHAPES = {"S": (1, 32, 32, 100),           # B, I, H, T: per-step arrays and their Python objects dominate
          "wide": (8, 256, 512, 10)}       # the weight gradients dominate, as at XL


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("shape", list(SHAPES))
@pytest.mark.parametrize("cell", ["lstm", "gru", "peephole"])
@pytest.mark.parametrize("candidate", ["engine", "engine-numpy"])
def test_peak_memory_at_most_1_25_times_the_oracle(cell, candidate, shape, dtype):
    """tracemalloc counts bytes, not time: a deterministic measure, fine for a test."""
    peaks = {}
    for name in (candidate, "oracle"):
        try:
            run = bc.make(name, cell, SHAPES[shape], dtype, np.random.default_rng(0))
        except bc.Unavailable as err:
            pytest.skip(str(err))
        run()
        peaks[name] = bc.peak_memory(run)
    assert peaks[candidate] <= 1.25 * peaks["oracle"], peaks


def test_weight_gradient_is_not_copied_twice():
    """Without the copy, the GRU's peak is its saved activations plus one dW_hh and one dW_ih: measured here
    against the bytes of those two gradients, with the activations far smaller (B=T=2)."""
    tg.manual_seed(0)
    gru = nn.GRU(256, 512, dtype=np.float64)
    x = tg.randn(2, 2, 256, dtype=np.float64)

    def forward_backward():
        for p in gru.parameters():
            p.grad = None
        out, h = gru(x)
        out.sum().backward()
    forward_backward()
    grads = gru.weight_hh_l0.data.nbytes + gru.weight_ih_l0.data.nbytes
    assert bc.peak_memory(forward_backward) < 1.15 * grads


def test_leaves_fed_by_one_array_get_arrays_of_their_own():
    """An add sends the same gradient array to both inputs: each leaf's .grad must still be its own."""
    a = tg.Tensor(np.ones(3), requires_grad=True)
    b = tg.Tensor(np.ones(3), requires_grad=True)
    (a + b).sum().backward()
    a.grad *= 5
    np.testing.assert_array_equal(b.grad, np.ones(3))
    assert not np.shares_memory(a.grad, b.grad)


def test_stolen_weight_gradients_are_their_own_and_right():
    """A Linear's and an LSTM's weight gradients come from OuterSums taken without a copy: each is a fresh,
    writable array, and scaling one in place (as clip_grad_norm_ does) leaves the others alone."""
    tg.manual_seed(0)
    lstm, head = nn.LSTM(3, 4, dtype=np.float64), nn.Linear(4, 2, dtype=np.float64)
    x = tg.randn(5, 2, 3, dtype=np.float64)
    out, _ = lstm(x)
    head(out).sum().backward()
    params = list(lstm.parameters()) + list(head.parameters())
    before = [p.grad.copy() for p in params]
    for i, p in enumerate(params):
        assert p.grad.flags.writeable and p.grad.dtype == p.data.dtype
        assert not any(np.shares_memory(p.grad, q.grad) for q in params[i + 1:])
        assert not np.shares_memory(p.grad, p.data)
    params[0].grad *= 0
    for p, b in zip(params[1:], before[1:]):
        np.testing.assert_array_equal(p.grad, b)
    assert np.abs(before[0]).max() > 0
