"""The packed-panel GEMM (backend/_kernels/packed_gemm.h) against NumPy's matmul: every ISA version this CPU runs,
both dtypes, both packings (W_hhᵀ for the forward product, W_hh for the backward one), overwrite and accumulate,
and the sizes that reach each code path: one row, rows not a multiple of a block, columns not a multiple of a panel,
K = 0 and 1, empty M or N."""
import numpy as np
import pytest
from hypothesis import given, settings, strategies as st

pytestmark = pytest.mark.requires_kernels


@pytest.fixture(scope="module")
def pg():
    return pytest.importorskip("tinygrad_rnn.backend._kernels.packed_gemm")


TOL = {np.float32: 2e-5, np.float64: 1e-13}


def check(pg, M, K, N, dtype, transposed, accumulate, isa, seed=0):
    g = np.random.default_rng(seed)
    w = g.standard_normal((N, K) if transposed else (K, N)).astype(dtype)   # B = wᵀ when transposed
    b = w.T if transposed else w
    a = g.standard_normal((M, K)).astype(dtype)
    packed = pg.pack(w, transposed=transposed)
    out = g.standard_normal((M, N)).astype(dtype)
    want = a.astype(np.float64) @ b.astype(np.float64) + (out if accumulate else 0)
    got = pg.gemm(a, packed, K, N, out=out, accumulate=accumulate, isa=isa)
    assert got is out
    np.testing.assert_allclose(got, want, rtol=TOL[dtype], atol=TOL[dtype] * max(K, 1) ** 0.5 * 4)


def isas(pg):
    return list(range(pg.best_isa() + 1))


SIZES = [(1, 1, 1), (1, 32, 128), (16, 128, 512), (7, 33, 70), (9, 5, 17), (8, 16, 32), (17, 3, 47), (64, 64, 257),
         (3, 1, 100), (2, 200, 15), (0, 4, 4), (4, 0, 4), (4, 4, 0)]


@pytest.mark.parametrize("M, K, N", SIZES)
@pytest.mark.parametrize("dtype", [np.float32, np.float64], ids=["float32", "float64"])
@pytest.mark.parametrize("transposed", [True, False], ids=["w_hh_T", "w_hh"])
def test_against_numpy(pg, M, K, N, dtype, transposed):
    for isa in isas(pg):
        for accumulate in (False, True):
            check(pg, M, K, N, dtype, transposed, accumulate, isa)


@settings(max_examples=60, deadline=None, derandomize=True)
@given(M=st.integers(1, 70), K=st.integers(1, 80), N=st.integers(1, 140), double=st.booleans(),
       transposed=st.booleans(), accumulate=st.booleans())
def test_random_sizes(pg, M, K, N, double, transposed, accumulate):
    for isa in isas(pg):
        check(pg, M, K, N, np.float64 if double else np.float32, transposed, accumulate, isa, seed=M * K + N)


def test_packing_layout(pg):
    """Panels of 64 bytes of columns: panel p holds B[k, pW : pW+W] for every k, zero past the last column."""
    w = np.arange(3 * 20, dtype=np.float32).reshape(3, 20)     # B = w: K = 3, N = 20, W = 16: two panels
    packed = pg.pack(w)
    W = pg.width(np.float32)
    assert W == 16 and packed.shape == (2 * 3 * 16,)
    panels = packed.reshape(2, 3, 16)
    np.testing.assert_array_equal(panels[0], w[:, :16])
    np.testing.assert_array_equal(panels[1, :, :4], w[:, 16:])
    assert (panels[1, :, 4:] == 0).all()
    np.testing.assert_array_equal(pg.pack(np.ascontiguousarray(w.T), transposed=True), packed)


def test_bad_arguments(pg):
    w = np.ones((4, 3), np.float32)
    p = pg.pack(w)
    with pytest.raises(ValueError, match=r"a: expected shape \(M, 4\)"):
        pg.gemm(np.ones((2, 5), np.float32), p, 4, 3)
    with pytest.raises(TypeError, match="packed: expected dtype float32"):
        pg.gemm(np.ones((2, 4), np.float32), p.astype(np.float64), 4, 3)
    with pytest.raises(ValueError, match=r"packed: expected shape \(64,\)"):
        pg.gemm(np.ones((2, 4), np.float32), p[:10], 4, 3)
    with pytest.raises(ValueError, match="accumulate=True needs an out array"):
        pg.gemm(np.ones((2, 4), np.float32), p, 4, 3, accumulate=True)
    with pytest.raises(TypeError, match="b: expected dtype float32 or float64"):
        pg.pack(np.ones((2, 2), np.int64))
