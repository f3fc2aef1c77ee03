"""Issue 15: the embedding gradient's row scatter in one pass (_kernels/rows.pyx) when the kernels are built:
bitwise np.add.at (the same adds in position order), in float32 and float64, with repeated indices; arrays it does
not take (a strided gradient, a mixed dtype, overlapping memory) go back to the NumPy code, and an index out of
range is an IndexError before anything is written. Through nn.Embedding: the gradient equals np.add.at's bitwise
with the kernel and to rounding without it."""
import numpy as np
import pytest

import tinygrad_rnn as tg
from tinygrad_rnn import nn
from tinygrad_rnn.backend import calls

pytestmark = pytest.mark.skipif(tg.BACKEND != "cython", reason="the kernels are not in use")


def _case(dtype, n=800, vocab=65, d=64, seed=0):
    rng = np.random.default_rng(seed)
    return rng.integers(0, vocab, n).astype(np.intp), rng.standard_normal((n, d)).astype(dtype), vocab


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_scatter_add_rows_is_bitwise_np_add_at(dtype):
    idx, rows, vocab = _case(dtype)
    idx[:50] = 3                                       # one row hit many times: the order of the adds shows
    got = np.full((vocab, rows.shape[1]), 0.25, dtype)
    want = got.copy()
    assert calls.scatter_add_rows(got, idx, rows) is True
    np.add.at(want, idx, rows)
    np.testing.assert_array_equal(got, want)


def test_arrays_it_does_not_take_are_left_to_numpy():
    idx, rows, vocab = _case(np.float32, n=10, d=4)
    out = np.zeros((vocab, 4), np.float32)
    for args in [(out, idx, np.asfortranarray(np.repeat(rows, 2, axis=1))[:, ::2]),   # strided rows
                 (out, idx, rows.astype(np.float64)),                               # mixed dtypes
                 (out, idx.astype(np.int32), rows),                                 # not intp
                 (out.astype(np.float16), idx, rows.astype(np.float16)),            # not float32/64
                 (out[:, :4].T.copy().T, idx, rows)]:                               # not C-contiguous
        before = args[0].copy()
        assert calls.scatter_add_rows(*args) is False
        np.testing.assert_array_equal(args[0], before)
    shared = np.zeros((10 + vocab, 4), np.float32)
    shared[:10] = rows
    assert calls.scatter_add_rows(shared[:vocab], idx, shared[:10]) is False   # rows overlapping out: refused
    np.testing.assert_array_equal(shared[:10], rows)


def test_an_index_out_of_range_raises_before_anything_is_written():
    idx, rows, vocab = _case(np.float64, n=6, d=3)
    idx[4] = vocab
    out = np.zeros((vocab, 3))
    with pytest.raises(IndexError, match=rf"expected indices in \[0, {vocab - 1}\], but got {vocab} at position 4"):
        calls.scatter_add_rows(out, idx, rows)
    assert not out.any()


def test_the_embedding_gradient_goes_through_the_kernel_bitwise(monkeypatch):
    tg.manual_seed(0)
    emb = nn.Embedding(65, 64)
    idx, g, _ = _case(np.float32, n=800)
    idx = idx.reshape(50, 16)
    g = g.reshape(50, 16, 64)
    emb(tg.Tensor(idx, dtype=tg.int64)).backward(g)
    want = np.zeros((65, 64), np.float32)
    np.add.at(want, idx.reshape(-1), g.reshape(-1, 64))
    np.testing.assert_array_equal(emb.weight.grad, want)
    emb.weight.grad = None
    monkeypatch.setattr(calls, "scatter_add_rows", lambda *a: False)        # the NumPy path
    emb(tg.Tensor(idx, dtype=tg.int64)).backward(g)
    np.testing.assert_allclose(emb.weight.grad, want, rtol=1e-5, atol=1e-5)
