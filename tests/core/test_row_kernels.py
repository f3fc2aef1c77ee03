"""Issue 15: the row kernels of _kernels/rows.pyx, used when the kernels are built.

The embedding gradient's row scatter: bitwise np.add.at (the same adds in position order), in float32 and float64,
with repeated indices; arrays it does not take (a strided gradient, a mixed dtype, overlapping memory) go back to the
NumPy code, and an index out of range is an IndexError before anything is written. Through nn.Embedding: the
gradient equals np.add.at's bitwise with the kernel and to rounding without it.

Cross-entropy's log-softmax per row and its gradient coef·(softmax − onehot): equal to the NumPy code to a few ulp,
NaN and ±inf rows as NumPy gives them, arrays it does not take left to NumPy; through F.cross_entropy the loss and
the gradient equal the NumPy path's (1e-13 in float64)."""
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


def _numpy_log_softmax(x):
    shifted = x - x.max(axis=1, keepdims=True)
    return shifted - np.log(np.exp(shifted).sum(axis=1, keepdims=True))


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("classes", [1, 7, 16, 65, 300])
def test_log_softmax_rows_equals_numpy(dtype, classes):
    x = (np.random.default_rng(classes).standard_normal((37, classes)) * 4).astype(dtype)
    out = np.empty_like(x)
    assert calls.log_softmax_rows(x, out) is True
    eps = np.finfo(dtype).eps
    np.testing.assert_allclose(out, _numpy_log_softmax(x), rtol=32 * eps, atol=32 * eps * max(1, np.log(classes)))


def test_log_softmax_rows_gives_numpys_nan_and_inf_rows():
    x = np.array([[1, np.nan, 2], [-np.inf, -np.inf, -np.inf], [np.inf, 0, 1], [0, -np.inf, 1], [np.nan, np.inf, 0],
                  [-np.inf, 3, -np.inf]])
    out = np.empty_like(x)
    assert calls.log_softmax_rows(x, out)
    with np.errstate(all="ignore"):
        np.testing.assert_array_equal(out, _numpy_log_softmax(x))


def test_row_kernels_leave_arrays_they_do_not_take_to_numpy_and_check_targets():
    x = np.random.default_rng(0).standard_normal((6, 5))
    assert calls.log_softmax_rows(x[:, ::2], np.empty((6, 3))) is False              # strided
    assert calls.log_softmax_rows(x, np.empty((6, 5), np.float32)) is False          # mixed dtypes
    assert calls.log_softmax_rows(x, x) is False                                     # in place: refused
    assert calls.log_softmax_rows(x.astype(np.float16), np.empty((6, 5), np.float16)) is False
    coef, target = np.ones(6), np.arange(6) % 5
    assert calls.cross_entropy_grad_rows(x, coef, target.astype(np.int32), np.empty_like(x)) is False
    assert calls.cross_entropy_grad_rows(x, coef[:5], target, np.empty_like(x)) is False
    target[3] = 5
    grad = np.zeros_like(x)
    with pytest.raises(IndexError, match=r"expected targets in \[0, 4\], but got 5 at row 3"):
        calls.cross_entropy_grad_rows(x, coef, target, grad)
    assert not grad.any()


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
def test_cross_entropy_through_the_row_kernels_equals_the_numpy_path(dtype, reduction, monkeypatch):
    rng = np.random.default_rng(1)
    x = (rng.standard_normal((50, 65)) * 2).astype(dtype)
    t = rng.integers(0, 65, 50)
    t[7] = -100                                                  # ignore_index: a zero coefficient
    results = []
    for kernels in (True, False):
        if not kernels:
            monkeypatch.setattr(calls, "log_softmax_rows", lambda *a: False)
            monkeypatch.setattr(calls, "cross_entropy_grad_rows", lambda *a: False)
        xt = tg.Tensor(x, requires_grad=True)
        loss = nn.functional.cross_entropy(xt, t, reduction=reduction)
        (loss.sum() if reduction == "none" else loss).backward()
        results.append((loss.data, xt.grad))
    tol = dict(rtol=1e-13, atol=1e-14) if dtype == np.float64 else dict(rtol=2e-6, atol=2e-6)
    for got, want in zip(*results):
        np.testing.assert_allclose(got, want, **tol)


def test_cross_entropys_own_log_softmax_is_not_fingerprinted(monkeypatch):
    # lp (N, C), which the loss's forward allocates and saves, is memory no view can have been made of before that
    # forward: it was fingerprinted at the forward and again at backward (2 × 208 KB a char-LM step)
    from tinygrad_rnn import inplace
    sizes = []
    real = inplace._fingerprint
    monkeypatch.setattr(inplace, "_fingerprint", lambda a: sizes.append(a.size) or real(a))
    logits = tg.randn(800, 65, requires_grad=True)
    target = np.random.default_rng(0).integers(0, 65, 800)
    loss = nn.functional.cross_entropy(logits, target)
    loss.backward()
    assert 800 * 65 not in sizes                      # (the targets and weights, 800 each, still are)
    want = np.exp(logits.data - logits.data.max(1, keepdims=True))
    want = (want / want.sum(1, keepdims=True) - np.eye(65)[target]) / 800
    np.testing.assert_allclose(logits.grad, want, rtol=1e-5, atol=1e-7)
