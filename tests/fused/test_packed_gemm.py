"""Issue 15, round 2: the engine's own GEMM (skinny.h's micro-kernels, blocked for the caches) that the kernels use
instead of BLAS for products of at least PACKED_ROWS rows, and its split across two cores.

Checked against NumPy's matmul in float64 (sizes that cross every block edge: K beyond one TG_KC block, M beyond one
TG_MC block, N not a multiple of the panel width, Aᵀ and Bᵀ given), against BLAS through the kernels' own switch
(packed_gemm_settings(rows=0)), and at 1 against 2 OpenMP threads (bitwise: threads split columns and row blocks,
never a sum). The thread count follows threadpoolctl's limit at every call."""
import numpy as np
import pytest

from tinygrad_rnn.backend import calls, numpy_twins

threadpoolctl = pytest.importorskip("threadpoolctl")


def _kernels():
    pytest.importorskip("tinygrad_rnn.backend._kernels.sequence", reason="the Cython kernels are not built")
    from tinygrad_rnn.backend._kernels import _blas, linear, sequence
    return sequence, _blas, linear


def _builds(cy):
    return [isa for isa in cy.ISAS if cy.ISAS.index(isa) <= cy.ISAS.index(cy.skinny_isa())]


@pytest.mark.parametrize("dtype", [np.float32, np.float64], ids=["float32", "float64"])
@pytest.mark.parametrize("trans_a", [False, True], ids=["A", "At"])
@pytest.mark.parametrize("trans_b", [False, True], ids=["B", "Bt"])
def test_packed_gemm_equals_numpy_across_the_block_edges(dtype, trans_a, trans_b):
    cy, _, _ = _kernels()
    rng = np.random.default_rng(1)
    for M, K, N in ((1, 1, 1), (9, 300, 33), (130, 257, 70), (260, 1025, 31), (4, 256, 32), (131, 1, 17),
                    (70, 2100, 40)):     # K: 1, 2 and 3 blocks of TG_KC = 1024; M: 1, 2, 3 blocks of TG_MC = 128
        # float32: sums of K products of about 1 each, so rounding grows with K (about 1e-4 at K = 2100)
        tol = dict(rtol=1e-12, atol=1e-11) if dtype == np.float64 else dict(rtol=1e-4, atol=1e-4 * max(1, K / 512))
        a = rng.standard_normal((K, M) if trans_a else (M, K)).astype(dtype)
        b = rng.standard_normal((N, K) if trans_b else (K, N)).astype(dtype)
        want_ab = (a.T if trans_a else a).astype(np.float64) @ (b.T if trans_b else b)
        c0 = rng.standard_normal((M, N)).astype(dtype)
        bias = rng.standard_normal(N).astype(dtype)
        for isa in _builds(cy):
            for beta in (0.0, 1.0, 0.5):
                c = c0.copy()
                cy.packed_gemm(a, b, c, beta=beta, trans_a=trans_a, trans_b=trans_b, isa=isa)
                np.testing.assert_allclose(c, want_ab + beta * c0, err_msg=f"{isa} {M, K, N} beta {beta}", **tol)
                c = c0.copy()          # with a bias: the micro-kernel adds it as it stores (beta 0), or each tile
                cy.packed_gemm(a, b, c, beta=beta, trans_a=trans_a, trans_b=trans_b, isa=isa, bias=bias)  # first
                np.testing.assert_allclose(c, want_ab + beta * c0 + bias, err_msg=f"{isa} {M, K, N} beta {beta} bias",
                                           **tol)


def test_packed_gemm_refuses_bad_arguments():
    cy, _, _ = _kernels()
    a, b = np.ones((2, 3)), np.ones((3, 4))
    with pytest.raises(ValueError, match=r"c: expected shape \(2, 4\)"):
        cy.packed_gemm(a, b, np.empty((2, 5)))
    with pytest.raises(ValueError, match=r"b: expected 3 × N"):
        cy.packed_gemm(a, np.ones((4, 4)), np.empty((2, 4)))
    with pytest.raises(TypeError, match="b: expected dtype float64"):
        cy.packed_gemm(a, b.astype(np.float32), np.empty((2, 4)))
    with pytest.raises(ValueError, match="isa: expected one of"):
        cy.packed_gemm(a, b, np.empty((2, 4)), isa="neon")
    with pytest.raises(TypeError, match="b: expected a numpy.ndarray"):
        cy.packed_gemm(a, [[1.0] * 4] * 3, np.empty((2, 4)))
    with pytest.raises(ValueError, match="shares no memory"):
        cy.packed_gemm(a, np.ones((3, 3)), a)


def test_the_thread_count_is_read_at_every_call_from_the_openmp_limit():
    cy, _, _ = _kernels()
    big, tiles = 1 << 30, 64
    with threadpoolctl.threadpool_limits(1):
        assert cy.gemm_threads(big, tiles) == 1
    with threadpoolctl.threadpool_limits(2):
        two = cy.gemm_threads(big, tiles)
        if two == 1:
            pytest.skip("built without OpenMP: every product runs on one thread")
        assert two == 2
        assert cy.gemm_threads(1000, tiles) == 1        # too small to pay for a second thread
        assert cy.gemm_threads(big, 1) == 1             # one tile: nothing to split
    with threadpoolctl.threadpool_limits(1):
        assert cy.gemm_threads(big, tiles) == 1         # and back: the limit is read again, not cached


def _two_threads_or_skip(cy):
    with threadpoolctl.threadpool_limits(2):
        if cy.gemm_threads(1 << 30, 64) != 2:
            pytest.skip("built without OpenMP")


@pytest.mark.parametrize("dtype", [np.float32, np.float64], ids=["float32", "float64"])
def test_packed_gemm_is_bitwise_the_same_at_one_and_two_threads(dtype):
    cy, _, _ = _kernels()
    _two_threads_or_skip(cy)
    rng = np.random.default_rng(2)
    # K over two blocks of TG_KC, M over three of TG_MC: each thread copies its blocks of Aᵀ for each block of K
    a, b = rng.standard_normal((1300, 300)).astype(dtype), rng.standard_normal((1300, 200)).astype(dtype)
    out = {}
    for n in (1, 2):
        with threadpoolctl.threadpool_limits(n):
            out[n] = cy.packed_gemm(a, b, np.empty((300, 200), dtype), trans_a=True)
    np.testing.assert_array_equal(out[1], out[2])
    np.testing.assert_allclose(out[1], a.T.astype(np.float64) @ b, rtol=1e-4 if dtype == np.float32 else 1e-12,
                               atol=1e-3 if dtype == np.float32 else 1e-11)


@pytest.mark.requires_kernels
@pytest.mark.parametrize("cell", ["lstm", "gru", "peephole"])
@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_a_layers_outputs_and_gradients_are_bitwise_the_same_at_one_and_two_threads(cell, dtype):
    """A shape whose per-step products (16 × 128 · 128 × 512) and weight-gradient GEMMs are split across two
    threads: every gradient bitwise equal to the one-thread run, and to the numbers of the BLAS path to rounding."""
    cy, blas_module, _ = _kernels()
    _two_threads_or_skip(cy)
    from tinygrad_rnn.apps import bench_candidates
    shape = (16, 24, 128, 6)
    grads = {}
    for n in (1, 2):
        with threadpoolctl.threadpool_limits(n):
            assert cy.gemm_threads(16 * 128 * 512, 16) == n
            run = bench_candidates.make_engine(cell, shape, dtype, np.random.default_rng(0))
            grads[n] = run()
    old = blas_module.packed_gemm_settings(rows=0)
    try:
        with threadpoolctl.threadpool_limits(1):
            grads["blas"] = bench_candidates.make_engine(cell, shape, dtype, np.random.default_rng(0))()
    finally:
        blas_module.packed_gemm_settings(*old)
    for name in grads[1]:
        np.testing.assert_array_equal(grads[1][name], grads[2][name], err_msg=name)
        tol = dict(rtol=1e-10, atol=1e-12) if dtype == "float64" else dict(rtol=2e-4, atol=2e-5)
        np.testing.assert_allclose(grads[1][name], grads["blas"][name], err_msg=name, **tol)


@pytest.mark.requires_kernels
@pytest.mark.parametrize("dtype", [np.float32, np.float64], ids=["float32", "float64"])
def test_the_kernels_gemms_give_blas_numbers_through_the_own_gemm(dtype):
    """linear_act_forward/backward and outer_product with their GEMMs on the own kernel (default) and on BLAS
    (rows=0), and the NumPy twins: equal to rounding."""
    _, blas_module, linear = _kernels()
    rng = np.random.default_rng(4)
    x, w, b = (rng.standard_normal(s).astype(dtype) for s in ((300, 70), (130, 70), (130,)))
    dy = rng.standard_normal((300, 130)).astype(dtype)
    tol = dict(rtol=1e-12, atol=1e-11) if dtype == np.float64 else dict(rtol=1e-4, atol=1e-4)
    results = {}
    old = blas_module.packed_gemm_settings()
    assert old[1] == blas_module.PACKED_ROWS or old[1] == 0
    try:
        for rows in (blas_module.PACKED_ROWS, 0):
            blas_module.packed_gemm_settings(rows=rows)
            assert blas_module.packed_gemm_settings()[1] == rows
            y = linear.linear_act_forward(x, w, b, "tanh")
            dx, dw, db = linear.linear_act_backward(x, w, y, dy, "tanh", np.empty_like(x), np.empty_like(w),
                                                    np.empty_like(b))
            # identity with a bias: the own GEMM adds the bias in its stores, BLAS's product gets a pass after it
            results[rows] = (y, dx, dw, db, linear.outer_product(dy, x),
                             linear.linear_act_forward(x, w, b, "identity"))
    finally:
        blas_module.packed_gemm_settings(*old)
    y = numpy_twins.linear_act_forward(x, w, b, "tanh")
    twin = (y, *numpy_twins.linear_act_backward(x, w, y, dy, "tanh", np.empty_like(x), np.empty_like(w),
                                                 np.empty_like(b)), numpy_twins.outer_product(dy, x),
            numpy_twins.linear_act_forward(x, w, b, "identity"))
    for got, blas, want in zip(results[blas_module.PACKED_ROWS], results[0], twin):
        np.testing.assert_allclose(got, blas, **tol)
        np.testing.assert_allclose(got, want, **tol)
    np.testing.assert_allclose(calls.outer_product(dy, x), dy.T.astype(np.float64) @ x, **tol)


def test_packed_gemm_settings_refuses_bad_values():
    _, blas_module, _ = _kernels()
    with pytest.raises(ValueError, match="isa: expected one of"):
        blas_module.packed_gemm_settings(isa="neon")
    with pytest.raises(ValueError, match="rows: expected a count of at least 0"):
        blas_module.packed_gemm_settings(rows=-1)


def test_outer_product_refuses_mismatched_rows_naming_the_argument():
    a = np.ones((5, 3))
    with pytest.raises(ValueError, match=r"right: expected shape \(5, \*\)"):
        calls.outer_product(a, np.ones((4, 2)))


@pytest.mark.requires_kernels
def test_python_threads_calling_the_own_gemm_at_once_each_get_their_own_scratch_memory():
    """The blocked GEMM keeps its packed panels in memory per calling thread: four Python threads multiplying
    different matrices at once (the kernels run without the GIL) each get their own product, bitwise the one a
    single call gives, and threads that end free theirs (run again in new threads: still right)."""
    import threading
    _, _, linear = _kernels()
    rng = np.random.default_rng(3)
    pairs = [(rng.standard_normal((700, 96 + 8 * i)), rng.standard_normal((700, 40 + i))) for i in range(4)]
    with threadpoolctl.threadpool_limits(1):
        want = [linear.outer_product(a, b) for a, b in pairs]
        for _ in range(2):
            got, errors = [None] * 4, []

            def work(i):
                try:
                    for _ in range(20):
                        got[i] = linear.outer_product(*pairs[i])
                        np.testing.assert_array_equal(got[i], want[i])
                except Exception as err:  # (re-raised below, in the test's thread)
                    errors.append(err)

            threads = [threading.Thread(target=work, args=(i,)) for i in range(4)]
            for t in threads:
                t.start()
            for t in threads:
                t.join()
            assert not errors, errors[0]
    for (a, b), w in zip(pairs, want):
        np.testing.assert_allclose(w, a.T @ b, rtol=1e-12, atol=1e-11)


_RETAINED = """
import gc, os
import numpy as np
from tinygrad_rnn.backend._kernels import linear
def resident():
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 2**20
base = resident()
x, w = np.ones((64, 1024), np.float32), np.ones((50000, 1024), np.float32)   # a 50,000-word output layer
y = linear.linear_act_forward(x, w, None, "identity")
del x, w, y
gc.collect()
print(resident() - base)
"""


@pytest.mark.requires_kernels
@pytest.mark.skipif(not __import__("sys").platform.startswith("linux"), reason="reads /proc/self/statm")
def test_the_gemm_keeps_no_more_than_its_cap_of_scratch_memory_after_a_huge_product():
    """The per-thread scratch memory is kept only up to TG_SCRATCH_KEEP (16 MiB): one product with a 50,000-word
    output layer (195 MiB of packed panels) leaves the process's resident memory where it was once its arrays are
    gone (it kept the 195 MiB for the rest of the process before the cap)."""
    import subprocess
    import sys
    out = subprocess.run([sys.executable, "-c", _RETAINED], capture_output=True, text=True, timeout=300,
                         env={**__import__("os").environ, "OMP_NUM_THREADS": "1"})
    assert out.returncode == 0, out.stderr
    assert float(out.stdout.strip().splitlines()[-1]) < 40


@pytest.mark.requires_kernels
@pytest.mark.parametrize("dtype", [np.float32, np.float64], ids=["float32", "float64"])
def test_two_weight_gradients_of_one_left_factor_in_one_pass_equal_two_products_bitwise(dtype):
    """outer_products(left, r1, r2) = (leftᵀ r1, leftᵀ r2) in one pass of the blocked GEMM (the panels of both
    packed side by side, one copy of leftᵀ per row block): bitwise what outer_product gives for each, across the
    block edges (K over 1, 2, 3 blocks of TG_KC, O over row blocks of TG_MC, widths not multiples of the panel,
    one width 0), at 1 and 2 threads; and what BLAS gives (rows=0: two products), to rounding."""
    _, blas_module, linear = _kernels()
    rng = np.random.default_rng(5)
    for N, O, I, J in ((800, 512, 64, 128), (300, 130, 33, 70), (1025, 260, 31, 1), (2100, 8, 40, 17),
                       (5, 3, 2, 0), (0, 4, 3, 2)):
        left = rng.standard_normal((N, O)).astype(dtype)
        r1, r2 = rng.standard_normal((N, I)).astype(dtype), rng.standard_normal((N, J)).astype(dtype)
        for threads in (1, 2):
            with threadpoolctl.threadpool_limits(threads):
                want = (linear.outer_product(left, r1), linear.outer_product(left, r2))
                got = linear.outer_products(left, r1, r2)
            for g, w in zip(got, want):
                assert g.shape == w.shape and g.dtype == w.dtype
                np.testing.assert_array_equal(g, w, err_msg=f"{N, O, I, J} at {threads} threads")
        old = blas_module.packed_gemm_settings()
        try:
            blas_module.packed_gemm_settings(rows=0)
            blas = linear.outer_products(left, r1, r2)
        finally:
            blas_module.packed_gemm_settings(*old)
        tol = dict(rtol=1e-12, atol=1e-10) if dtype == np.float64 else dict(rtol=1e-4, atol=1e-4 * max(1, N / 512))
        for g, b, r in zip(got, blas, (r1, r2)):
            np.testing.assert_allclose(g, b, **tol)
            np.testing.assert_allclose(g, left.T.astype(np.float64) @ r, **tol)
        twin = numpy_twins.outer_products(left, r1, r2)
        for g, t in zip(got, twin):
            np.testing.assert_allclose(g, t, **tol)


def test_outer_products_refuses_a_factor_of_other_rows_naming_it():
    a = np.ones((5, 3))
    with pytest.raises(ValueError, match=r"right2: expected shape \(5, \*\)"):
        calls.outer_products(a, np.ones((5, 2)), np.ones((4, 2)))
    with pytest.raises(ValueError, match="out2"):
        calls.outer_products(a, np.ones((5, 2)), np.ones((5, 2)), None, np.empty((3, 3)))
