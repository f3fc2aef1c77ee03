"""The fingerprint of a saved array that a view made before the forward could write through (inplace.py): with the
Cython kernels, one pass over the 64-bit words (a position-weighted sum and their XOR), which sees any changed
word and words moved around; the NumPy path (the twins) sees any change below 16 KiB and above it misses writes
that only permute words."""
import numpy as np
import pytest

import tinygrad_rnn as tg
from tinygrad_rnn import inplace, nn

MODIFIED = "one of the variables needed for gradient computation has been modified by an inplace operation"
fingerprint_kernel = tg.backend.calls.fingerprint_kernel()
needs_kernel = pytest.mark.skipif(fingerprint_kernel is None, reason="the NumPy twins keep the NumPy fingerprint")


@needs_kernel
def test_the_kernels_fingerprint_is_the_one_in_use():
    assert inplace._one_pass is fingerprint_kernel


@needs_kernel
@pytest.mark.parametrize("nbytes", [0, 1, 7, 8, 9, 4096 + 3, 20000, 1 << 20])
def test_every_changed_byte_changes_the_fingerprint(nbytes):
    rng = np.random.default_rng(nbytes)
    a = rng.integers(0, 256, nbytes, dtype=np.uint8)
    before = fingerprint_kernel(a)
    assert fingerprint_kernel(a.copy()) == before
    for at in sorted({0, nbytes // 3, nbytes // 2, nbytes - 1} & set(range(nbytes))):
        b = a.copy()
        b[at] ^= 1 << (at % 8)
        assert fingerprint_kernel(b) != before, at


@needs_kernel
def test_words_moved_around_change_the_fingerprint_where_sum_and_xor_do_not():
    a = np.random.default_rng(0).standard_normal(4096)           # 32 KiB: the NumPy path's sum and XOR
    b = a.copy()
    b[[10, 3000]] = b[[3000, 10]]
    words_a, words_b = a.view(np.uint64), b.view(np.uint64)
    assert (int(np.add.reduce(words_a, dtype=np.uint64)), int(np.bitwise_xor.reduce(words_a))) == \
           (int(np.add.reduce(words_b, dtype=np.uint64)), int(np.bitwise_xor.reduce(words_b)))
    assert fingerprint_kernel(a) != fingerprint_kernel(b)


@needs_kernel
def test_an_unaligned_array_is_read_as_its_bytes():
    raw = np.random.default_rng(1).integers(0, 256, 1001, dtype=np.uint8)
    unaligned = np.frombuffer(raw.tobytes(), dtype=np.uint8, offset=1)    # data one byte off alignment
    assert fingerprint_kernel(unaligned) == fingerprint_kernel(raw[1:].copy())


@needs_kernel
def test_a_strided_array_is_refused_not_misread():
    with pytest.raises(ValueError, match="C-contiguous"):
        fingerprint_kernel(np.zeros((4, 4))[:, ::2])


def test_the_fingerprint_cannot_change_while_arrays_are_pinned():
    x = tg.Tensor(np.ones(3), requires_grad=True, dtype=np.float64)
    y = (x * x).sum()                                              # pins x's array
    with pytest.raises(RuntimeError, match="before any forward"):
        inplace.use_fingerprint(lambda a: 0)
    y.backward()


def test_a_parameter_whose_rows_are_swapped_through_an_old_view_is_caught():
    # 64 × 64 float64 = 32 KiB: above the NumPy path's CRC-32 limit, so only the kernels' fingerprint sees this
    tg.manual_seed(0)
    lstm = nn.LSTM(64, 16, dtype=np.float64)
    w = lstm.weight_ih_l0.data                                      # (64, 64)
    view = w[:]                                                     # taken before the forward: stays writeable
    out, _ = lstm(tg.randn(3, 2, 64, dtype=np.float64))
    view[[0, 1]] = view[[1, 0]]                                     # a write that only moves words
    if fingerprint_kernel is None:
        out.sum().backward()                                        # the NumPy fingerprint misses it (documented)
        return
    with pytest.raises(RuntimeError, match=MODIFIED):
        out.sum().backward()
