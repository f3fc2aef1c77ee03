"""Sequence kernels: a recurrent layer's whole loop over time in one call, forward and backward.

Each forward runs the steps of steps.pyx one after another without returning to Python: per step the recurrent GEMM
(h_prev @ W_hhᵀ added to the hoisted input projection xp[t]) and the gate update, the carried state kept where a
sequence has ended (`keep`). Each backward applies the same step backward (the loops of _gate_loops.pxd, then
dz @ W_hh) in reverse order of the forward: backpropagation through time is still the chain rule over the recorded
steps. The weight gradients are not formed here: the caller reduces the per-step factors these return (dz, the
states) in one GEMM over T·B rows, as a Scan does.

Layout, for T steps of B rows and H units, time-major; step t is the one at time position t:
- keep (T, B), optional: nonzero where step t counts for row b (t < length of sequence b), 0 where it has ended;
  there the state is carried through unchanged, ys is 0, and in backward the gradient passes the step by, as
  fused/scan.py does;
- hs (T, B, H): the state after step t (carried where keep is 0); cs the same for the LSTMs' memory cell;
- ys (T, B, H): the output of step t, hs[t] where keep is nonzero, else 0;
- reverse: the steps run t = T−1 … 0, so step t reads the state of step t + 1 (h0 for t = T−1), else step t − 1.
The convention of steps.pyx (README.md): inputs, the activation name, the outputs (None: allocated here), then
`reverse` and, for a forward, `transposed` (w_hh given as W_hhᵀ). Every array is checked before anything is
written; outputs may share no memory with an input or each other (adjacent views of one buffer are fine).
"""
cimport numpy as cnp
from cython cimport floating
from libc.stdlib cimport free, malloc
from libc.string cimport memcpy, memset

from ._arrays cimport data, disjoint_arrays, dtype_name, float_type, optional_data, output, rows_cols
from ._blas cimport check_gemm, gemm
from ._skinny cimport (TG_ISA_AVX2, TG_ISA_AVX512, TG_ISA_SCALAR, TG_NR_D, TG_NR_F, tg_blocked_d, tg_blocked_f,
                      tg_gemm_d_of, tg_gemm_d_t, tg_gemm_f_of, tg_gemm_f_t, tg_pack_d, tg_pack_f, tg_packed_size,
                      tg_panels_d, tg_panels_f, tg_skinny_best_isa, tg_skinny_isa_name, tg_threads)
from ._gate_loops cimport gru_backward, gru_forward, lstm_backward, lstm_forward, peephole_backward, peephole_forward
from ._math cimport HARD_SIGMOID, gate_array, gate_code, gate_grad, tanh_array
from ._sums cimport add_arrays

cnp.import_array()


# ---- the skinny-batch recurrent product (skinny.h) -------------------------------------------------------------

cdef extern from "sequence_threads.h" nogil:
    void tg_lstm_threads_forward_f(int nt, tg_gemm_f_t kern, int hard, int reverse, Py_ssize_t T, Py_ssize_t B,
                                   Py_ssize_t H, const float* xp, const float* h0, const float* c0, const float* pk,
                                   const float* keep, float* gates, float* cs, float* hs, float* ys)
    void tg_lstm_threads_forward_d(int nt, tg_gemm_d_t kern, int hard, int reverse, Py_ssize_t T, Py_ssize_t B,
                                   Py_ssize_t H, const double* xp, const double* h0, const double* c0,
                                   const double* pk, const double* keep, double* gates, double* cs, double* hs,
                                   double* ys)
    void tg_lstm_threads_backward_f(int nt, tg_gemm_f_t kern, int hard, int reverse, Py_ssize_t T, Py_ssize_t B,
                                    Py_ssize_t H, const float* gates, const float* cs, const float* c0,
                                    const float* pk, const float* keep, const float* dys, const float* dh_n,
                                    const float* dc_n, const float* dcs, float* dz, float* dh0, float* dc0,
                                    float* work)
    void tg_lstm_threads_backward_d(int nt, tg_gemm_d_t kern, int hard, int reverse, Py_ssize_t T, Py_ssize_t B,
                                    Py_ssize_t H, const double* gates, const double* cs, const double* c0,
                                    const double* pk, const double* keep, const double* dys, const double* dh_n,
                                    const double* dc_n, const double* dcs, double* dz, double* dh0, double* dc0,
                                    double* work)

    void tg_gru_threads_forward_f(int nt, tg_gemm_f_t kern, int hard, int reverse, Py_ssize_t T, Py_ssize_t B,
                                  Py_ssize_t H, const float* xp, const float* h0, const float* b_hh, const float* pk,
                                  const float* keep, float* hps, float* gates, float* hs, float* ys)
    void tg_gru_threads_forward_d(int nt, tg_gemm_d_t kern, int hard, int reverse, Py_ssize_t T, Py_ssize_t B,
                                  Py_ssize_t H, const double* xp, const double* h0, const double* b_hh,
                                  const double* pk, const double* keep, double* hps, double* gates, double* hs,
                                  double* ys)
    void tg_gru_threads_backward_f(int nt, tg_gemm_f_t kern, int hard, int reverse, Py_ssize_t T, Py_ssize_t B,
                                   Py_ssize_t H, const float* gates, const float* hps, const float* hs,
                                   const float* h0, const float* pk, const float* keep, const float* dys,
                                   const float* dh_n, float* dxp, float* dhps, float* dh0, float* work)
    void tg_gru_threads_backward_d(int nt, tg_gemm_d_t kern, int hard, int reverse, Py_ssize_t T, Py_ssize_t B,
                                   Py_ssize_t H, const double* gates, const double* hps, const double* hs,
                                   const double* h0, const double* pk, const double* keep, const double* dys,
                                   const double* dh_n, double* dxp, double* dhps, double* dh0, double* work)
ISAS = tuple(tg_skinny_isa_name(i).decode() for i in range(TG_ISA_SCALAR, TG_ISA_AVX512 + 1))
# Which products the micro-kernel serves: at most SKINNY_ROWS rows (the batch) times a weight of at most
# SKINNY_BYTES (so that its panels stay in the caches from one step to the next: 64 × 512 · 512 × 2048 in float64,
# 8 MiB, ran at 74 GFLOP/s against BLAS's 40; beyond, BLAS, whose packing blocks for the caches, is faster:
# 8 × 1024 · 1024 × 4096 in float32, 16 MiB, ran at 9 GFLOP/s here against BLAS's 44).
# A build without AVX2 (portable, scalar) is slower than BLAS at M's shapes: it serves only the products small
# enough that a BLAS call's set-up costs more than the arithmetic.
SKINNY_ROWS = 64
SKINNY_BYTES = 8 * 1024 * 1024
SKINNY_SMALL = 65536                    # multiply-adds: a product this small goes to any build
cdef int _isa = tg_skinny_best_isa()
cdef Py_ssize_t _rows = SKINNY_ROWS
cdef Py_ssize_t _bytes = SKINNY_BYTES
cdef tg_gemm_f_t _skinny_f = tg_gemm_f_of(_isa)
cdef tg_gemm_d_t _skinny_d = tg_gemm_d_of(_isa)


def skinny_settings(isa=None, rows=None, nbytes=None):
    """(isa, rows, nbytes) in use by the sequence kernels' recurrent products, after setting those given: the
    micro-kernel build by name, the most rows and the largest weight (bytes) it serves; rows=0 sends every product
    to BLAS. A hook for the tests, which compare the builds and BLAS; returns the old settings."""
    global _isa, _rows, _bytes, _skinny_f, _skinny_d
    old = (ISAS[_isa], _rows, _bytes)
    if isa is not None:
        _isa = isa_code(isa)
        _skinny_f, _skinny_d = tg_gemm_f_of(_isa), tg_gemm_d_of(_isa)
    if rows is not None:
        _rows = rows
    if nbytes is not None:
        _bytes = nbytes
    return old


cdef void* packing(int t, Py_ssize_t M, Py_ssize_t K, Py_ssize_t N) except? NULL:
    """A buffer for the panels of a (K, N) weight when the micro-kernel serves its M-row products, else NULL (the
    products go to BLAS). The caller frees it."""
    cdef Py_ssize_t size = 8 if t == cnp.NPY_FLOAT64 else 4
    if M == 0 or M > _rows or K == 0 or N == 0 or K * N * size > _bytes:
        return NULL
    if _isa < TG_ISA_AVX2 and M * K * N > SKINNY_SMALL:
        return NULL
    return scratch(tg_packed_size(K, N, TG_NR_D if t == cnp.NPY_FLOAT64 else TG_NR_F), t)


cdef int isa_code(str isa) except -1:
    if isa not in ISAS:
        raise ValueError(f"isa: expected one of {', '.join(map(repr, ISAS))}, but got {isa!r}")
    cdef int code = ISAS.index(isa)
    if code > tg_skinny_best_isa():
        raise ValueError(f"isa: this CPU cannot run the {isa!r} build (the best it runs is "
                         f"{tg_skinny_isa_name(tg_skinny_best_isa()).decode()!r})")
    return code


def gemm_threads(Py_ssize_t fmas, Py_ssize_t tiles):
    """How many threads the products split across for a product of `fmas` multiply-adds over `tiles` tiles, under
    the OpenMP limit in force now (threadpoolctl's threadpool_limits, OMP_NUM_THREADS): 1 below skinny.h's
    TG_PARALLEL_FMAS or without OpenMP. A hook for the tests."""
    return tg_threads(fmas, tiles)


def skinny_isa():
    """The name of the micro-kernel build this CPU runs: 'avx512', 'avx2', 'portable' or 'scalar'."""
    return tg_skinny_isa_name(tg_skinny_best_isa()).decode()


def skinny_gemm(a, b, c, double beta=0, bint trans=False, str isa=None, Py_ssize_t repeat=1, bias=None):
    """c = a @ B + beta·c through the packed micro-kernel (a hook for tests/fused/test_sequence_kernels.py and
    benchmarks/): a (M, K), B = b (K, N), or bᵀ with trans (b (N, K)), c (M, N), float32 or float64; isa: a build by
    name (default the best this CPU runs); repeat: the product that many times on one packing of b; bias (N,):
    c = a @ B + bias instead (the GRU forward's b_hh)."""
    cdef int t = float_type("a", a), code = tg_skinny_best_isa() if isa is None else isa_code(isa)
    cdef Py_ssize_t K, M = rows_cols("a", a, &K), N = -1, rows, r
    rows = rows_cols("b", b, &N) if isinstance(b, cnp.ndarray) and b.ndim == 2 else -1
    if trans:
        N = rows
    cdef void* p_a = data("a", a, t, M, K)
    cdef void* p_b = data("b", b, t, N, K) if trans else data("b", b, t, K, N)
    cdef void* p_c = data("c", c, t, M, N, True)
    cdef void* p_bias = optional_data("bias", bias, t, N, -1)
    disjoint_arrays(("c", "a", "b", "bias"), 1, (c, a, b, bias))
    cdef Py_ssize_t nr = TG_NR_D if t == cnp.NPY_FLOAT64 else TG_NR_F
    cdef void* packed = scratch(tg_packed_size(K, N, nr), t)
    try:
        with nogil:
            if t == cnp.NPY_FLOAT64:
                tg_pack_d(K, N, <double*>p_b, K if trans else N, trans, <double*>packed)
                for r in range(repeat):
                    tg_panels_d(tg_gemm_d_of(code), M, N, K, <double*>p_a, K, 1, <double*>packed, beta,
                                <double*>p_c, N, <double*>p_bias)
            else:
                tg_pack_f(K, N, <float*>p_b, K if trans else N, trans, <float*>packed)
                for r in range(repeat):
                    tg_panels_f(tg_gemm_f_of(code), M, N, K, <float*>p_a, K, 1, <float*>packed, <float>beta,
                                <float*>p_c, N, <float*>p_bias)
    finally:
        free(packed)
    return c


def packed_gemm(a, b, c, double beta=0, bint trans_a=False, bint trans_b=False, str isa=None, bias=None):
    """c = op(a) @ op(b) + beta·c (+ bias (N,) in every row) through skinny.h's blocked GEMM (what _blas.pyx runs
    instead of BLAS; a hook for the tests and benchmarks): op(a) (M, K) is a, or aᵀ with trans_a (a (K, M)); op(b)
    (K, N) the same; c (M, N), float32 or float64; isa: a build by name (default the best this CPU runs). Threads as
    skinny.h's tg_threads."""
    cdef int t = float_type("a", a), code = tg_skinny_best_isa() if isa is None else isa_code(isa), status
    cdef Py_ssize_t ra, ca = -1, rb, cb = -1
    ra = rows_cols("a", a, &ca)
    float_type("b", b)                                   # an ndarray of a float type (dtype checked by data)
    rb = rows_cols("b", b, &cb)
    cdef void* p_a = data("a", a, t, ra, ca)
    cdef void* p_b = data("b", b, t, rb, cb)
    cdef Py_ssize_t M = ca if trans_a else ra, K = ra if trans_a else ca, N = rb if trans_b else cb
    if (cb if trans_b else rb) != K:
        raise ValueError(f"b: expected {'N' if trans_b else K} × {K if trans_b else 'N'} to multiply a "
                         f"{'transposed ' if trans_a else ''}{a.shape}, but got shape {b.shape}")
    cdef void* p_c = data("c", c, t, M, N, True)
    cdef void* p_bias = optional_data("bias", bias, t, N, -1)
    disjoint_arrays(("c", "a", "b", "bias"), 1, (c, a, b, bias))
    if M == 0 or N == 0:
        return c
    if K == 0:
        c[...] = (0 if beta == 0 else beta * c) + (0 if bias is None else bias)
        return c
    with nogil:
        if t == cnp.NPY_FLOAT64:
            status = tg_blocked_d(tg_gemm_d_of(code), trans_a, trans_b, M, N, K, <double*>p_a, ca, <double*>p_b, cb,
                                  beta, <double*>p_c, N, <double*>p_bias)
        else:
            status = tg_blocked_f(tg_gemm_f_of(code), trans_a, trans_b, M, N, K, <float*>p_a, ca, <float*>p_b, cb,
                                  <float>beta, <float*>p_c, N, <float*>p_bias)
    if status != 0:
        raise MemoryError("packed_gemm: cannot allocate the panels of b")
    return c


# ---- arguments ------------------------------------------------------------------------------------------------

cdef void* data3(str name, object a, int typenum, Py_ssize_t T, Py_ssize_t B, Py_ssize_t N,
                 bint writeable=False) except NULL:
    """a's data pointer after checking it is a C-contiguous (T, B, N) ndarray of that dtype (data() for 3-D)."""
    if not isinstance(a, cnp.ndarray):
        raise TypeError(f"{name}: expected a numpy.ndarray, but got {type(a).__name__}")
    cdef cnp.ndarray arr = <cnp.ndarray>a
    if cnp.PyArray_TYPE(arr) != typenum:
        raise TypeError(f"{name}: expected dtype {dtype_name(typenum)}, but got {a.dtype}")
    if not cnp.PyArray_ISNOTSWAPPED(arr):
        raise TypeError(f"{name}: expected dtype {dtype_name(typenum)} in native byte order, but got a byte-swapped "
                        f"array ({a.dtype.str})")
    cdef cnp.npy_intp* dims = cnp.PyArray_DIMS(arr)
    if cnp.PyArray_NDIM(arr) != 3 or dims[0] != T or dims[1] != B or dims[2] != N:
        raise ValueError(f"{name}: expected shape ({T}, {B}, {N}), but got {a.shape}")
    if not cnp.PyArray_IS_C_CONTIGUOUS(arr):
        raise ValueError(f"{name}: expected a C-contiguous array, but got a non-contiguous one")
    if writeable and not cnp.PyArray_ISWRITEABLE(arr):
        raise ValueError(f"{name}: expected a writeable array, but got a read-only one")
    return cnp.PyArray_DATA(arr)


cdef object output3(str name, object a, int typenum, Py_ssize_t T, Py_ssize_t B, Py_ssize_t N):
    """The output array a (checked, writeable), or a new (T, B, N) one when a is None."""
    cdef cnp.npy_intp dims[3]
    if a is None:
        dims[0], dims[1], dims[2] = T, B, N
        return cnp.PyArray_EMPTY(3, dims, typenum, 0)
    data3(name, a, typenum, T, B, N, True)
    return a


cdef Py_ssize_t steps_of(str name, object a) except -1:
    """T, the first dimension of the 3-D array that sets it (type and dtype are checked later, by data3)."""
    if not isinstance(a, cnp.ndarray):
        raise TypeError(f"{name}: expected a numpy.ndarray, but got {type(a).__name__}")
    if cnp.PyArray_NDIM(<cnp.ndarray>a) != 3:
        raise ValueError(f"{name}: expected shape (T, B, N), but got {a.shape}")
    return cnp.PyArray_DIMS(<cnp.ndarray>a)[0]


cdef void* weight_data(w_hh, int t, Py_ssize_t rows, Py_ssize_t cols, bint transposed) except NULL:
    """The data of w_hh, checked as (rows, cols), or as (cols, rows) when it is given transposed."""
    return data("w_hh", w_hh, t, cols, rows) if transposed else data("w_hh", w_hh, t, rows, cols)


cdef void* scratch(Py_ssize_t n, int typenum) except NULL:
    """n floats of the dtype, uninitialized, for a kernel's per-step buffers (freed by the caller)."""
    cdef size_t size = (n if n > 0 else 1) * (8 if typenum == cnp.NPY_FLOAT64 else 4)
    cdef void* p = malloc(size)
    if p == NULL:
        raise MemoryError(f"cannot allocate {size} bytes of per-step buffers")
    return p


# ---- the per-step pieces shared by every cell ------------------------------------------------------------------

cdef inline Py_ssize_t time_of(Py_ssize_t k, Py_ssize_t T, bint reverse) noexcept nogil:
    """The time position of the k-th step run (k = 0 … T−1)."""
    return T - 1 - k if reverse else k


cdef inline void carry_where_ended(Py_ssize_t B, Py_ssize_t H, const floating* keep_t, floating* new,
                                   const floating* old) noexcept nogil:
    """new[b] = old[b] for the rows whose sequence has ended at this step (keep_t[b] == 0)."""
    cdef Py_ssize_t b
    for b in range(B):
        if keep_t[b] == 0:
            memcpy(new + b * H, old + b * H, H * sizeof(floating))


cdef inline void output_rows(Py_ssize_t B, Py_ssize_t H, const floating* keep_t, const floating* h,
                             floating* y) noexcept nogil:
    """y = h where the step counts, 0 where the sequence has ended (keep_t NULL: y = h)."""
    cdef Py_ssize_t b
    if keep_t == NULL:
        memcpy(y, h, B * H * sizeof(floating))
        return
    for b in range(B):
        if keep_t[b] != 0:
            memcpy(y + b * H, h + b * H, H * sizeof(floating))
        else:
            memset(y + b * H, 0, H * sizeof(floating))


cdef inline void step_grad(Py_ssize_t B, Py_ssize_t H, const floating* keep_t, const floating* carried,
                           const floating* dy_t, floating* out) noexcept nogil:
    """What the step's backward gets: the carried gradient plus ∂L/∂y_t (dy_t NULL: none), 0 where the sequence
    has ended (the step did not count there)."""
    cdef Py_ssize_t b
    if keep_t == NULL and dy_t != NULL:
        add_arrays(B * H, carried, dy_t, out)
        return
    for b in range(B):
        if keep_t != NULL and keep_t[b] == 0:
            memset(out + b * H, 0, H * sizeof(floating))
        elif dy_t == NULL:
            memcpy(out + b * H, carried + b * H, H * sizeof(floating))
        else:
            add_arrays(H, carried + b * H, dy_t + b * H, out + b * H)


cdef inline void pass_where_ended(Py_ssize_t B, Py_ssize_t H, const floating* keep_t, floating* new,
                                  const floating* carried) noexcept nogil:
    """new[b] += carried[b] where the sequence has ended: the gradient skips the step there."""
    cdef Py_ssize_t b, j
    for b in range(B):
        if keep_t[b] == 0:
            for j in range(H):
                new[b * H + j] = new[b * H + j] + carried[b * H + j]


cdef inline void product(bint trans_w, Py_ssize_t M, Py_ssize_t N, Py_ssize_t K, const floating* a, Py_ssize_t lda,
                         const floating* w, Py_ssize_t ldw, const void* packed, floating beta, floating* c,
                         Py_ssize_t ldc, const floating* bias) noexcept nogil:
    """c (M, N) = a @ op(w) + beta·c, or + bias (N,) in every row when bias is not NULL, op(w) = w (K, N) or,
    trans_w, wᵀ of w (N, K): through w's packed panels when the skinny kernel serves the product (packed not NULL;
    the bias added as the sums are stored), else through BLAS (the bias copied into c first)."""
    cdef Py_ssize_t i
    if packed == NULL:
        if bias != NULL:
            for i in range(M):
                memcpy(c + i * ldc, bias, N * sizeof(floating))
            beta = 1
        gemm(False, trans_w, M, N, K, 1, a, lda, w, ldw, beta, c, ldc)
    elif floating is float:
        tg_panels_f(_skinny_f, M, N, K, a, lda, 1, <const float*>packed, beta, c, ldc, bias)
    else:
        tg_panels_d(_skinny_d, M, N, K, a, lda, 1, <const double*>packed, beta, c, ldc, bias)


cdef inline void pack(bint trans_w, Py_ssize_t N, Py_ssize_t K, const floating* w, Py_ssize_t ldw,
                      void* packed) noexcept nogil:
    """w's panels for product() (packed NULL: nothing to do, the product goes to BLAS)."""
    if packed == NULL:
        return
    if floating is float:
        tg_pack_f(K, N, w, ldw, trans_w, <float*>packed)
    else:
        tg_pack_d(K, N, w, ldw, trans_w, <double*>packed)


cdef inline void recurrent_gemm(bint transposed, Py_ssize_t B, Py_ssize_t N, Py_ssize_t H, const floating* h_prev,
                                const floating* w, const void* packed, floating beta, floating* out,
                                const floating* bias) noexcept nogil:
    """out (B, N) = h_prev @ W_hhᵀ + beta·out (or + bias (N,) in every row), W_hh given as (N, H) or transposed as
    (H, N) (steps.pyx's).

    The LSTM's and the RNN's forward copy the step's input projection into out and accumulate onto it (beta = 1):
    reading it in the micro-kernel's stores instead (one pass less) ran 5–10 % slower per sequence at M, measured
    in a C harness that evicts the caches between calls; the stores then wait on lines a plain copy streams in."""
    product(not transposed, B, N, H, h_prev, H, w, N if transposed else H, packed, beta, out, N, bias)


cdef inline void pack_recurrent(bint transposed, Py_ssize_t N, Py_ssize_t H, const floating* w,
                                void* packed) noexcept nogil:
    """The panels of W_hhᵀ (H, N) for recurrent_gemm, from W_hh (N, H) or from W_hhᵀ itself."""
    pack(not transposed, N, H, w, N if transposed else H, packed)


cdef inline int region_threads(floating kind, const void* pk, Py_ssize_t fmas, Py_ssize_t columns) noexcept nogil:
    """Threads for a sequence's one-region loop (sequence_threads.h): its products go to the micro-kernel (pk, the
    packed weight, not NULL) and are big enough to split (`fmas` multiply-adds a step, over `columns` columns of
    the product's output); 1: the one-thread loop runs."""
    cdef Py_ssize_t nr = TG_NR_D if floating is double else TG_NR_F
    return 1 if pk == NULL else tg_threads(fmas, (columns + nr - 1) // nr)


cdef int check_recurrent(bint transposed, Py_ssize_t B, Py_ssize_t N, Py_ssize_t H) except -1:
    return check_gemm("h0", B, N, H, H, N if transposed else H, N)


# ---- vanilla RNN -----------------------------------------------------------------------------------------------

cdef int rnn_code(str nonlinearity) except -1:
    if nonlinearity == "tanh":
        return 0
    if nonlinearity == "relu":
        return 1
    raise ValueError(f"nonlinearity: expected one of 'tanh', 'relu', but got {nonlinearity!r}")


cdef void _rnn_forward(floating kind, bint relu, bint reverse, bint transposed, Py_ssize_t T, Py_ssize_t B,
                       Py_ssize_t H, void* xp_, void* h0_, void* w_, void* keep_, void* hs_, void* ys_,
                       void* pk) noexcept nogil:
    cdef const floating* xp = <floating*>xp_
    cdef const floating* keep = <floating*>keep_
    cdef floating* hs = <floating*>hs_
    cdef const floating* h_prev = <floating*>h0_
    cdef const floating* keep_t = NULL
    cdef floating* h
    cdef Py_ssize_t k, t, i, n = B * H
    pack_recurrent(transposed, H, H, <floating*>w_, pk)
    for k in range(T):
        t = time_of(k, T, reverse)
        h = hs + t * n
        memcpy(h, xp + t * n, n * sizeof(floating))
        recurrent_gemm(transposed, B, H, H, h_prev, <floating*>w_, pk, 1, h, NULL)
        if relu:
            for i in range(n):
                h[i] = 0 if h[i] < 0 else h[i]             # max(z, 0), NaN kept (as steps.pyx)
        else:
            tanh_array(n, h, h)
        if keep != NULL:
            keep_t = keep + t * B
            carry_where_ended(B, H, keep_t, h, h_prev)
        output_rows(B, H, keep_t, h, <floating*>ys_ + t * n)
        h_prev = h


def rnn_sequence_forward(xp, h0, w_hh, keep, str nonlinearity, hs=None, ys=None, bint reverse=False,
                         bint transposed=False):
    """h_t = act(xp[t] + h_{t∓1} @ W_hhᵀ) for every step (act tanh or relu), carried where keep is 0 → (hs, ys)"""
    cdef int relu = rnn_code(nonlinearity), t = float_type("h0", h0)
    cdef Py_ssize_t H, B = rows_cols("h0", h0, &H), T = steps_of("xp", xp)
    cdef void* p_xp = data3("xp", xp, t, T, B, H)
    cdef void* p_h0 = data("h0", h0, t, B, H)
    cdef void* p_w = weight_data(w_hh, t, H, H, transposed)
    cdef void* p_keep = optional_data("keep", keep, t, T, B)
    hs, ys = output3("hs", hs, t, T, B, H), output3("ys", ys, t, T, B, H)
    cdef void* p_hs = data3("hs", hs, t, T, B, H)
    cdef void* p_ys = data3("ys", ys, t, T, B, H)
    disjoint_arrays(("hs", "ys", "xp", "h0", "w_hh", "keep"), 2, (hs, ys, xp, h0, w_hh, keep))
    check_recurrent(transposed, B, H, H)
    if T == 0 or B == 0 or H == 0:
        return hs, ys
    cdef void* pk = packing(t, B, H, H)
    try:
        with nogil:
            if t == cnp.NPY_FLOAT64:
                _rnn_forward(<double>0, relu, reverse, transposed, T, B, H, p_xp, p_h0, p_w, p_keep, p_hs, p_ys, pk)
            else:
                _rnn_forward(<float>0, relu, reverse, transposed, T, B, H, p_xp, p_h0, p_w, p_keep, p_hs, p_ys, pk)
    finally:
        free(pk)
    return hs, ys


cdef void _rnn_backward(floating kind, bint relu, bint reverse, Py_ssize_t T, Py_ssize_t B, Py_ssize_t H,
                        void* hs_, void* w_, void* keep_, void* dys_, void* dh_n_, void* dz_, void* dh0_,
                        void* work_, void* pk) noexcept nogil:
    cdef const floating* hs = <floating*>hs_
    cdef const floating* keep = <floating*>keep_
    cdef const floating* dys = <floating*>dys_
    cdef const floating* keep_t = NULL
    cdef const floating* y
    cdef Py_ssize_t n = B * H, k, t, i
    cdef floating* dh = <floating*>work_                 # the gradient carried to the step before
    cdef floating* dh_new = dh + n
    cdef floating* g = dh_new + n                        # what this step's backward gets
    cdef floating* dz
    if dh_n_ != NULL:
        memcpy(dh, dh_n_, n * sizeof(floating))
    else:
        memset(dh, 0, n * sizeof(floating))
    pack(False, H, H, <floating*>w_, H, pk)
    for k in range(T - 1, -1, -1):
        t = time_of(k, T, reverse)
        if keep != NULL:
            keep_t = keep + t * B
        step_grad(B, H, keep_t, dh, NULL if dys == NULL else dys + t * n, g)
        y, dz = hs + t * n, <floating*>dz_ + t * n
        for i in range(n):
            dz[i] = g[i] * ((1 if y[i] > 0 else 0) if relu else 1 - y[i] * y[i])
        product(False, B, H, H, dz, H, <floating*>w_, H, pk, 0, dh_new, H, NULL)
        if keep_t != NULL:
            pass_where_ended(B, H, keep_t, dh_new, dh)
        dh, dh_new = dh_new, dh
    memcpy(dh0_, dh, n * sizeof(floating))


def rnn_sequence_backward(hs, w_hh, keep, dys, dh_n, str nonlinearity, dz=None, dh0=None, bint reverse=False):
    """Each step's rnn_step_backward in reverse order: dz[t] = (dh + dys[t])⊙act'(h_t), dh ← dz[t] @ W_hh, passed
    by where keep is 0 (dys, dh_n None: zero) → (dz (T, B, H), dh0 (B, H))"""
    cdef int relu = rnn_code(nonlinearity), t = float_type("hs", hs)
    cdef Py_ssize_t T = steps_of("hs", hs), B, H
    B, H = hs.shape[1], hs.shape[2]
    cdef void* p_hs = data3("hs", hs, t, T, B, H)
    cdef void* p_w = data("w_hh", w_hh, t, H, H)
    cdef void* p_keep = optional_data("keep", keep, t, T, B)
    cdef void* p_dys = NULL if dys is None else data3("dys", dys, t, T, B, H)
    cdef void* p_dh_n = optional_data("dh_n", dh_n, t, B, H)
    dz, dh0 = output3("dz", dz, t, T, B, H), output("dh0", dh0, t, B, H)
    cdef void* p_dz = data3("dz", dz, t, T, B, H)
    cdef void* p_dh0 = data("dh0", dh0, t, B, H)
    disjoint_arrays(("dz", "dh0", "hs", "w_hh", "keep", "dys", "dh_n"), 2, (dz, dh0, hs, w_hh, keep, dys, dh_n))
    check_gemm("hs", B, H, H, H, H, H)
    if B == 0 or H == 0:
        return dz, dh0
    cdef void* work = scratch(3 * B * H, t)
    cdef void* pk = NULL
    try:
        pk = packing(t, B, H, H)
        with nogil:
            if t == cnp.NPY_FLOAT64:
                _rnn_backward(<double>0, relu, reverse, T, B, H, p_hs, p_w, p_keep, p_dys, p_dh_n, p_dz, p_dh0, work,
                              pk)
            else:
                _rnn_backward(<float>0, relu, reverse, T, B, H, p_hs, p_w, p_keep, p_dys, p_dh_n, p_dz, p_dh0, work,
                              pk)
    finally:
        free(work)
        free(pk)
    return dz, dh0


# ---- LSTM and peephole LSTM -------------------------------------------------------------------------------------

cdef void _lstm_forward(floating kind, int a, bint peephole, bint reverse, bint transposed, Py_ssize_t T,
                        Py_ssize_t B, Py_ssize_t H, void* xp_, void* h0_, void* c0_, void* w_, void* w_ci,
                        void* w_cf, void* w_co, void* keep_, void* gates_, void* cs_, void* hs_,
                        void* ys_, void* pk) noexcept nogil:
    cdef const floating* keep = <floating*>keep_
    cdef const floating* keep_t = NULL
    cdef const floating* h_prev = <floating*>h0_
    cdef const floating* c_prev = <floating*>c0_
    cdef floating* z
    cdef floating* c
    cdef floating* h
    cdef Py_ssize_t k, t, n = B * H
    cdef int nt = 1 if peephole else region_threads(kind, pk, B * 4 * H * H, 4 * H)
    pack_recurrent(transposed, 4 * H, H, <floating*>w_, pk)
    if nt > 1:                           # product and gate loops split across threads, one region for all steps
        if floating is float:
            tg_lstm_threads_forward_f(nt, _skinny_f, a == HARD_SIGMOID, reverse, T, B, H, <float*>xp_, <float*>h0_,
                                      <float*>c0_, <float*>pk, <float*>keep_, <float*>gates_, <float*>cs_,
                                      <float*>hs_, <float*>ys_)
        else:
            tg_lstm_threads_forward_d(nt, _skinny_d, a == HARD_SIGMOID, reverse, T, B, H, <double*>xp_,
                                      <double*>h0_, <double*>c0_, <double*>pk, <double*>keep_, <double*>gates_,
                                      <double*>cs_, <double*>hs_, <double*>ys_)
        return
    for k in range(T):
        t = time_of(k, T, reverse)
        z, c, h = <floating*>gates_ + t * 4 * n, <floating*>cs_ + t * n, <floating*>hs_ + t * n
        memcpy(z, <floating*>xp_ + t * 4 * n, 4 * n * sizeof(floating))
        recurrent_gemm(transposed, B, 4 * H, H, h_prev, <floating*>w_, pk, 1, z, NULL)
        if peephole:
            peephole_forward(a, B, H, z, c_prev, <floating*>w_ci, <floating*>w_cf, <floating*>w_co, z, c, h)
        else:
            lstm_forward(a, B, H, z, c_prev, z, c, h)
        if keep != NULL:
            keep_t = keep + t * B
            carry_where_ended(B, H, keep_t, c, c_prev)
            carry_where_ended(B, H, keep_t, h, h_prev)
        output_rows(B, H, keep_t, h, <floating*>ys_ + t * n)
        h_prev, c_prev = h, c


def lstm_sequence_forward(xp, h0, c0, w_hh, keep, str act, gates=None, cs=None, hs=None, ys=None,
                          bint reverse=False, bint transposed=False):
    """lstm_step_forward for every step, the state carried where keep is 0 → (gates (T, B, 4H), cs, hs, ys)"""
    return _lstm_sequence_forward(False, xp, h0, c0, w_hh, None, None, None, keep, act, gates, cs, hs, ys, reverse,
                                  transposed)


def peephole_sequence_forward(xp, h0, c0, w_hh, w_ci, w_cf, w_co, keep, str act, gates=None, cs=None, hs=None,
                              ys=None, bint reverse=False, bint transposed=False):
    """peephole_step_forward for every step, the state carried where keep is 0 → (gates (T, B, 4H), cs, hs, ys)"""
    return _lstm_sequence_forward(True, xp, h0, c0, w_hh, w_ci, w_cf, w_co, keep, act, gates, cs, hs, ys, reverse,
                                  transposed)


cdef tuple _lstm_sequence_forward(bint peephole, xp, h0, c0, w_hh, w_ci, w_cf, w_co, keep, str act, gates, cs, hs,
                                  ys, bint reverse, bint transposed):
    cdef int a = gate_code(act), t = float_type("h0", h0)
    cdef Py_ssize_t H, B = rows_cols("h0", h0, &H), T = steps_of("xp", xp)
    cdef void* p_xp = data3("xp", xp, t, T, B, 4 * H)
    cdef void* p_h0 = data("h0", h0, t, B, H)
    cdef void* p_c0 = data("c0", c0, t, B, H)
    cdef void* p_w = weight_data(w_hh, t, 4 * H, H, transposed)
    cdef void* p_ci = data("w_ci", w_ci, t, H, -1) if peephole else NULL
    cdef void* p_cf = data("w_cf", w_cf, t, H, -1) if peephole else NULL
    cdef void* p_co = data("w_co", w_co, t, H, -1) if peephole else NULL
    cdef void* p_keep = optional_data("keep", keep, t, T, B)
    gates, cs = output3("gates", gates, t, T, B, 4 * H), output3("cs", cs, t, T, B, H)
    hs, ys = output3("hs", hs, t, T, B, H), output3("ys", ys, t, T, B, H)
    cdef void* p_g = data3("gates", gates, t, T, B, 4 * H)
    cdef void* p_cs = data3("cs", cs, t, T, B, H)
    cdef void* p_hs = data3("hs", hs, t, T, B, H)
    cdef void* p_ys = data3("ys", ys, t, T, B, H)
    disjoint_arrays(("gates", "cs", "hs", "ys", "xp", "h0", "c0", "w_hh", "w_ci", "w_cf", "w_co", "keep"), 4,
                    (gates, cs, hs, ys, xp, h0, c0, w_hh, w_ci, w_cf, w_co, keep))
    check_recurrent(transposed, B, 4 * H, H)
    if T == 0 or B == 0 or H == 0:
        return gates, cs, hs, ys
    cdef void* pk = packing(t, B, H, 4 * H)
    try:
        with nogil:
            if t == cnp.NPY_FLOAT64:
                _lstm_forward(<double>0, a, peephole, reverse, transposed, T, B, H, p_xp, p_h0, p_c0, p_w, p_ci,
                              p_cf, p_co, p_keep, p_g, p_cs, p_hs, p_ys, pk)
            else:
                _lstm_forward(<float>0, a, peephole, reverse, transposed, T, B, H, p_xp, p_h0, p_c0, p_w, p_ci,
                              p_cf, p_co, p_keep, p_g, p_cs, p_hs, p_ys, pk)
    finally:
        free(pk)
    return gates, cs, hs, ys


cdef void _lstm_backward(floating kind, int a, bint peephole, bint reverse, Py_ssize_t T, Py_ssize_t B, Py_ssize_t H,
                         void* gates_, void* cs_, void* c0_, void* w_, void* w_ci, void* w_cf, void* w_co,
                         void* keep_, void* dys_, void* dh_n_, void* dc_n_, void* dcs_, void* dz_, void* dh0_,
                         void* dc0_, void* dw_ci_, void* dw_cf_, void* dw_co_, void* work_, void* pk) noexcept nogil:
    cdef const floating* cs = <floating*>cs_
    cdef const floating* dcs = <floating*>dcs_
    cdef const floating* keep = <floating*>keep_
    cdef const floating* dys = <floating*>dys_
    cdef const floating* keep_t = NULL
    cdef const floating* c_prev
    cdef floating* dw_ci = <floating*>dw_ci_
    cdef floating* dw_cf = <floating*>dw_cf_
    cdef floating* dw_co = <floating*>dw_co_
    cdef Py_ssize_t n = B * H, k, t, j
    cdef floating* dh = <floating*>work_                 # the gradients carried to the step before
    cdef floating* dc = dh + n
    cdef floating* dh_new = dc + n
    cdef floating* dc_new = dh_new + n
    cdef floating* gh = dc_new + n                       # what this step's backward gets
    cdef floating* gc = gh + n
    cdef floating* step_dw = gc + n                      # a peephole step's dw_ci, dw_cf, dw_co (3H)
    cdef floating* dz
    cdef int nt = 1 if peephole else region_threads(kind, pk, B * 4 * H * H, H)
    if nt > 1:                           # product and gate loops split across threads, one region for all steps
        pack(False, H, 4 * H, <floating*>w_, H, pk)
        if floating is float:
            tg_lstm_threads_backward_f(nt, _skinny_f, a == HARD_SIGMOID, reverse, T, B, H, <float*>gates_,
                                       <float*>cs_, <float*>c0_, <float*>pk, <float*>keep_, <float*>dys_,
                                       <float*>dh_n_, <float*>dc_n_, <float*>dcs_, <float*>dz_, <float*>dh0_,
                                       <float*>dc0_, <float*>work_)
        else:
            tg_lstm_threads_backward_d(nt, _skinny_d, a == HARD_SIGMOID, reverse, T, B, H, <double*>gates_,
                                       <double*>cs_, <double*>c0_, <double*>pk, <double*>keep_, <double*>dys_,
                                       <double*>dh_n_, <double*>dc_n_, <double*>dcs_, <double*>dz_,
                                       <double*>dh0_, <double*>dc0_, <double*>work_)
        return
    if dh_n_ != NULL:
        memcpy(dh, dh_n_, n * sizeof(floating))
    else:
        memset(dh, 0, n * sizeof(floating))
    if dc_n_ != NULL:
        memcpy(dc, dc_n_, n * sizeof(floating))
    else:
        memset(dc, 0, n * sizeof(floating))
    pack(False, H, 4 * H, <floating*>w_, H, pk)
    if peephole:
        memset(dw_ci, 0, H * sizeof(floating))
        memset(dw_cf, 0, H * sizeof(floating))
        memset(dw_co, 0, H * sizeof(floating))
    for k in range(T - 1, -1, -1):
        t = time_of(k, T, reverse)
        c_prev = <floating*>c0_ if k == 0 else cs + time_of(k - 1, T, reverse) * n
        if keep != NULL:
            keep_t = keep + t * B
        if dcs != NULL:              # c_t's own gradient, on every row: where the step did not count, c_t is the
            add_arrays(n, dc, dcs + t * n, dc)             # carried c, and it passes the step by with the rest
        step_grad(B, H, keep_t, dh, NULL if dys == NULL else dys + t * n, gh)
        step_grad(B, H, keep_t, dc, NULL, gc)
        dz = <floating*>dz_ + t * 4 * n
        if peephole:
            peephole_backward(a, B, H, <floating*>gates_ + t * 4 * n, c_prev, cs + t * n, <floating*>w_ci,
                              <floating*>w_cf, <floating*>w_co, gh, gc, dz, dc_new, step_dw, step_dw + H,
                              step_dw + 2 * H)
            for j in range(H):
                dw_ci[j] += step_dw[j]
                dw_cf[j] += step_dw[H + j]
                dw_co[j] += step_dw[2 * H + j]
        else:
            lstm_backward(a, B, H, <floating*>gates_ + t * 4 * n, c_prev, cs + t * n, gh, gc, dz, dc_new)
        product(False, B, H, 4 * H, dz, 4 * H, <floating*>w_, H, pk, 0, dh_new, H, NULL)
        if keep_t != NULL:
            pass_where_ended(B, H, keep_t, dh_new, dh)
            pass_where_ended(B, H, keep_t, dc_new, dc)
        dh, dh_new = dh_new, dh
        dc, dc_new = dc_new, dc
    memcpy(dh0_, dh, n * sizeof(floating))
    memcpy(dc0_, dc, n * sizeof(floating))


def lstm_sequence_backward(gates, cs, c0, w_hh, keep, dys, dh_n, dc_n, dcs, str act, dz=None, dh0=None, dc0=None,
                           bint reverse=False):
    """Each step's lstm_step_backward in reverse order, passed by where keep is 0 (dys, dh_n, dc_n, dcs None:
    zero; dcs (T, B, H): ∂L/∂c_t of the cells the forward returned, return_gates' trace) → (dz (T, B, 4H), dh0,
    dc0 (B, H))"""
    return _lstm_sequence_backward(False, gates, cs, c0, w_hh, None, None, None, keep, dys, dh_n, dc_n, dcs, act,
                                   dz, dh0, dc0, None, None, None, reverse)


def peephole_sequence_backward(gates, cs, c0, w_hh, w_ci, w_cf, w_co, keep, dys, dh_n, dc_n, dcs, str act,
                               dz=None, dh0=None, dc0=None, dw_ci=None, dw_cf=None, dw_co=None, bint reverse=False):
    """Each step's peephole_step_backward in reverse order, the peephole weights' gradients summed over the steps
    → (dz (T, B, 4H), dh0, dc0 (B, H), dw_ci, dw_cf, dw_co (H,)); dcs as lstm_sequence_backward's"""
    return _lstm_sequence_backward(True, gates, cs, c0, w_hh, w_ci, w_cf, w_co, keep, dys, dh_n, dc_n, dcs, act, dz,
                                   dh0, dc0, dw_ci, dw_cf, dw_co, reverse)


cdef tuple _lstm_sequence_backward(bint peephole, gates, cs, c0, w_hh, w_ci, w_cf, w_co, keep, dys, dh_n, dc_n, dcs,
                                   str act, dz, dh0, dc0, dw_ci, dw_cf, dw_co, bint reverse):
    cdef int a = gate_code(act), t = float_type("c0", c0)
    cdef Py_ssize_t H, B = rows_cols("c0", c0, &H), T = steps_of("gates", gates)
    cdef void* p_g = data3("gates", gates, t, T, B, 4 * H)
    cdef void* p_cs = data3("cs", cs, t, T, B, H)
    cdef void* p_c0 = data("c0", c0, t, B, H)
    cdef void* p_w = data("w_hh", w_hh, t, 4 * H, H)
    cdef void* p_ci = data("w_ci", w_ci, t, H, -1) if peephole else NULL
    cdef void* p_cf = data("w_cf", w_cf, t, H, -1) if peephole else NULL
    cdef void* p_co = data("w_co", w_co, t, H, -1) if peephole else NULL
    cdef void* p_keep = optional_data("keep", keep, t, T, B)
    cdef void* p_dys = NULL if dys is None else data3("dys", dys, t, T, B, H)
    cdef void* p_dh_n = optional_data("dh_n", dh_n, t, B, H)
    cdef void* p_dc_n = optional_data("dc_n", dc_n, t, B, H)
    cdef void* p_dcs = NULL if dcs is None else data3("dcs", dcs, t, T, B, H)
    dz, dh0, dc0 = output3("dz", dz, t, T, B, 4 * H), output("dh0", dh0, t, B, H), output("dc0", dc0, t, B, H)
    cdef void* p_dz = data3("dz", dz, t, T, B, 4 * H)
    cdef void* p_dh0 = data("dh0", dh0, t, B, H)
    cdef void* p_dc0 = data("dc0", dc0, t, B, H)
    cdef void* p_dci = NULL
    cdef void* p_dcf = NULL
    cdef void* p_dco = NULL
    if peephole:
        dw_ci, dw_cf, dw_co = (output("dw_ci", dw_ci, t, H, -1), output("dw_cf", dw_cf, t, H, -1),
                               output("dw_co", dw_co, t, H, -1))
        p_dci, p_dcf, p_dco = data("dw_ci", dw_ci, t, H, -1), data("dw_cf", dw_cf, t, H, -1), data("dw_co", dw_co, t, H, -1)
    outs, out_names = (dz, dh0, dc0, dw_ci, dw_cf, dw_co), ("dz", "dh0", "dc0", "dw_ci", "dw_cf", "dw_co")
    # two calls: disjoint_arrays takes at most 16 arrays (each output is checked against every array either way)
    disjoint_arrays(out_names + ("gates", "cs", "c0", "w_hh", "w_ci", "w_cf"), 6, outs + (gates, cs, c0, w_hh, w_ci,
                                                                                          w_cf))
    disjoint_arrays(out_names + ("w_co", "keep", "dys", "dh_n", "dc_n", "dcs"), 6,
                    outs + (w_co, keep, dys, dh_n, dc_n, dcs))
    check_gemm("c0", B, H, 4 * H, 4 * H, H, H)
    if H == 0:
        return (dz, dh0, dc0, dw_ci, dw_cf, dw_co) if peephole else (dz, dh0, dc0)
    cdef void* work = scratch(6 * B * H + 3 * H, t)
    cdef void* pk = NULL
    try:
        pk = packing(t, B, 4 * H, H)
        with nogil:
            if t == cnp.NPY_FLOAT64:
                _lstm_backward(<double>0, a, peephole, reverse, T, B, H, p_g, p_cs, p_c0, p_w, p_ci, p_cf, p_co,
                               p_keep, p_dys, p_dh_n, p_dc_n, p_dcs, p_dz, p_dh0, p_dc0, p_dci, p_dcf, p_dco, work,
                               pk)
            else:
                _lstm_backward(<float>0, a, peephole, reverse, T, B, H, p_g, p_cs, p_c0, p_w, p_ci, p_cf, p_co,
                               p_keep, p_dys, p_dh_n, p_dc_n, p_dcs, p_dz, p_dh0, p_dc0, p_dci, p_dcf, p_dco, work,
                               pk)
    finally:
        free(work)
        free(pk)
    return (dz, dh0, dc0, dw_ci, dw_cf, dw_co) if peephole else (dz, dh0, dc0)


# ---- GRU (reset-after) -----------------------------------------------------------------------------------------

cdef void _gru_forward(floating kind, int a, bint reverse, bint transposed, Py_ssize_t T, Py_ssize_t B, Py_ssize_t H,
                       void* xp_, void* h0_, void* w_, void* b_hh_, void* keep_, void* hp_, void* gates_, void* hs_,
                       void* ys_, void* pk) noexcept nogil:
    cdef const floating* keep = <floating*>keep_
    cdef const floating* keep_t = NULL
    cdef const floating* h_prev = <floating*>h0_
    cdef floating* hp
    cdef floating* h
    cdef Py_ssize_t k, t, n = B * H
    cdef int nt = region_threads(kind, pk, B * 3 * H * H, 3 * H)
    pack_recurrent(transposed, 3 * H, H, <floating*>w_, pk)
    if nt > 1:                           # product and gate loops split across threads, one region for all steps
        if floating is float:
            tg_gru_threads_forward_f(nt, _skinny_f, a == HARD_SIGMOID, reverse, T, B, H, <float*>xp_, <float*>h0_,
                                     <float*>b_hh_, <float*>pk, <float*>keep_, <float*>hp_, <float*>gates_,
                                     <float*>hs_, <float*>ys_)
        else:
            tg_gru_threads_forward_d(nt, _skinny_d, a == HARD_SIGMOID, reverse, T, B, H, <double*>xp_,
                                     <double*>h0_, <double*>b_hh_, <double*>pk, <double*>keep_, <double*>hp_,
                                     <double*>gates_, <double*>hs_, <double*>ys_)
        return
    for k in range(T):
        t = time_of(k, T, reverse)
        hp, h = <floating*>hp_ + t * 3 * n, <floating*>hs_ + t * n
        recurrent_gemm(transposed, B, 3 * H, H, h_prev, <floating*>w_, pk, 0, hp, <floating*>b_hh_)  # + b_hh
        gru_forward(a, B, H, <floating*>xp_ + t * 3 * n, hp, h_prev, <floating*>gates_ + t * 3 * n, h)
        if keep != NULL:
            keep_t = keep + t * B
            carry_where_ended(B, H, keep_t, h, h_prev)
        output_rows(B, H, keep_t, h, <floating*>ys_ + t * n)
        h_prev = h


def gru_sequence_forward(xp, h0, w_hh, b_hh, keep, str act, hp=None, gates=None, hs=None, ys=None,
                         bint reverse=False, bint transposed=False):
    """gru_step_forward for every step (b_hh None: no bias), the state carried where keep is 0
    → (hp, gates (T, B, 3H), hs, ys (T, B, H))"""
    cdef int a = gate_code(act), t = float_type("h0", h0)
    cdef Py_ssize_t H, B = rows_cols("h0", h0, &H), T = steps_of("xp", xp)
    cdef void* p_xp = data3("xp", xp, t, T, B, 3 * H)
    cdef void* p_h0 = data("h0", h0, t, B, H)
    cdef void* p_w = weight_data(w_hh, t, 3 * H, H, transposed)
    cdef void* p_b = optional_data("b_hh", b_hh, t, 3 * H, -1)
    cdef void* p_keep = optional_data("keep", keep, t, T, B)
    hp, gates = output3("hp", hp, t, T, B, 3 * H), output3("gates", gates, t, T, B, 3 * H)
    hs, ys = output3("hs", hs, t, T, B, H), output3("ys", ys, t, T, B, H)
    cdef void* p_hp = data3("hp", hp, t, T, B, 3 * H)
    cdef void* p_g = data3("gates", gates, t, T, B, 3 * H)
    cdef void* p_hs = data3("hs", hs, t, T, B, H)
    cdef void* p_ys = data3("ys", ys, t, T, B, H)
    disjoint_arrays(("hp", "gates", "hs", "ys", "xp", "h0", "w_hh", "b_hh", "keep"), 4,
                    (hp, gates, hs, ys, xp, h0, w_hh, b_hh, keep))
    check_recurrent(transposed, B, 3 * H, H)
    if T == 0 or B == 0 or H == 0:
        return hp, gates, hs, ys
    cdef void* pk = packing(t, B, H, 3 * H)
    try:
        with nogil:
            if t == cnp.NPY_FLOAT64:
                _gru_forward(<double>0, a, reverse, transposed, T, B, H, p_xp, p_h0, p_w, p_b, p_keep, p_hp, p_g,
                             p_hs, p_ys, pk)
            else:
                _gru_forward(<float>0, a, reverse, transposed, T, B, H, p_xp, p_h0, p_w, p_b, p_keep, p_hp, p_g,
                             p_hs, p_ys, pk)
    finally:
        free(pk)
    return hp, gates, hs, ys


cdef void _gru_backward(floating kind, int a, bint reverse, Py_ssize_t T, Py_ssize_t B, Py_ssize_t H, void* gates_,
                        void* hp_, void* hs_, void* h0_, void* w_, void* keep_, void* dys_, void* dh_n_, void* dxp_,
                        void* dhp_, void* dh0_, void* work_, void* pk) noexcept nogil:
    cdef const floating* hs = <floating*>hs_
    cdef const floating* keep = <floating*>keep_
    cdef const floating* dys = <floating*>dys_
    cdef const floating* keep_t = NULL
    cdef const floating* h_prev
    cdef Py_ssize_t n = B * H, k, t, b
    cdef floating* dh = <floating*>work_
    cdef floating* dh_new = dh + n
    cdef floating* g = dh_new + n
    cdef floating* dhp
    cdef int nt = region_threads(kind, pk, B * 3 * H * H, H)
    pack(False, H, 3 * H, <floating*>w_, H, pk)
    if nt > 1:                           # product and gate loops split across threads, one region for all steps
        if floating is float:
            tg_gru_threads_backward_f(nt, _skinny_f, a == HARD_SIGMOID, reverse, T, B, H, <float*>gates_,
                                      <float*>hp_, <float*>hs_, <float*>h0_, <float*>pk, <float*>keep_,
                                      <float*>dys_, <float*>dh_n_, <float*>dxp_, <float*>dhp_, <float*>dh0_,
                                      <float*>work_)
        else:
            tg_gru_threads_backward_d(nt, _skinny_d, a == HARD_SIGMOID, reverse, T, B, H, <double*>gates_,
                                      <double*>hp_, <double*>hs_, <double*>h0_, <double*>pk, <double*>keep_,
                                      <double*>dys_, <double*>dh_n_, <double*>dxp_, <double*>dhp_, <double*>dh0_,
                                      <double*>work_)
        return
    if dh_n_ != NULL:
        memcpy(dh, dh_n_, n * sizeof(floating))
    else:
        memset(dh, 0, n * sizeof(floating))
    for k in range(T - 1, -1, -1):
        t = time_of(k, T, reverse)
        h_prev = <floating*>h0_ if k == 0 else hs + time_of(k - 1, T, reverse) * n
        if keep != NULL:
            keep_t = keep + t * B
        step_grad(B, H, keep_t, dh, NULL if dys == NULL else dys + t * n, g)
        dhp = <floating*>dhp_ + t * 3 * n
        gru_backward(a, B, H, <floating*>gates_ + t * 3 * n, <floating*>hp_ + t * 3 * n, h_prev, g,
                     <floating*>dxp_ + t * 3 * n, dhp, dh_new)
        product(False, B, H, 3 * H, dhp, 3 * H, <floating*>w_, H, pk, 1, dh_new, H, NULL)
        if keep_t != NULL:
            pass_where_ended(B, H, keep_t, dh_new, dh)
        dh, dh_new = dh_new, dh
    memcpy(dh0_, dh, n * sizeof(floating))


def gru_sequence_backward(gates, hp, hs, h0, w_hh, keep, dys, dh_n, str act, dxp=None, dhp=None, dh0=None,
                          bint reverse=False):
    """Each step's gru_step_backward in reverse order, passed by where keep is 0 (dys, dh_n None: zero)
    → (dxp, dhp (T, B, 3H), dh0 (B, H))"""
    cdef int a = gate_code(act), t = float_type("h0", h0)
    cdef Py_ssize_t H, B = rows_cols("h0", h0, &H), T = steps_of("gates", gates)
    cdef void* p_g = data3("gates", gates, t, T, B, 3 * H)
    cdef void* p_hp = data3("hp", hp, t, T, B, 3 * H)
    cdef void* p_hs = data3("hs", hs, t, T, B, H)
    cdef void* p_h0 = data("h0", h0, t, B, H)
    cdef void* p_w = data("w_hh", w_hh, t, 3 * H, H)
    cdef void* p_keep = optional_data("keep", keep, t, T, B)
    cdef void* p_dys = NULL if dys is None else data3("dys", dys, t, T, B, H)
    cdef void* p_dh_n = optional_data("dh_n", dh_n, t, B, H)
    dxp, dhp, dh0 = output3("dxp", dxp, t, T, B, 3 * H), output3("dhp", dhp, t, T, B, 3 * H), output("dh0", dh0, t, B, H)
    cdef void* p_dxp = data3("dxp", dxp, t, T, B, 3 * H)
    cdef void* p_dhp = data3("dhp", dhp, t, T, B, 3 * H)
    cdef void* p_dh0 = data("dh0", dh0, t, B, H)
    disjoint_arrays(("dxp", "dhp", "dh0", "gates", "hp", "hs", "h0", "w_hh", "keep", "dys", "dh_n"), 3,
                    (dxp, dhp, dh0, gates, hp, hs, h0, w_hh, keep, dys, dh_n))
    check_gemm("h0", B, H, 3 * H, 3 * H, H, H)
    if B == 0 or H == 0:
        return dxp, dhp, dh0
    cdef void* work = scratch(3 * B * H, t)
    cdef void* pk = NULL
    try:
        pk = packing(t, B, 3 * H, H)
        with nogil:
            if t == cnp.NPY_FLOAT64:
                _gru_backward(<double>0, a, reverse, T, B, H, p_g, p_hp, p_hs, p_h0, p_w, p_keep, p_dys, p_dh_n,
                              p_dxp, p_dhp, p_dh0, work, pk)
            else:
                _gru_backward(<float>0, a, reverse, T, B, H, p_g, p_hp, p_hs, p_h0, p_w, p_keep, p_dys, p_dh_n,
                              p_dxp, p_dhp, p_dh0, work, pk)
    finally:
        free(work)
        free(pk)
    return dxp, dhp, dh0


# ---- GRU (Cho et al. 2014: reset before the recurrent product) -----------------------------------------------

cdef void _cho_forward(floating kind, int a, bint reverse, Py_ssize_t T, Py_ssize_t B, Py_ssize_t H, void* xp_,
                       void* h0_, void* w_rz_, void* w_n_, void* keep_, void* gates_rz_, void* rh_, void* n_,
                       void* hs_, void* ys_, void* pk_rz, void* pk_n) noexcept nogil:
    cdef const floating* keep = <floating*>keep_
    cdef const floating* keep_t = NULL
    cdef const floating* h_prev = <floating*>h0_
    cdef const floating* xp
    cdef floating* g
    cdef floating* rh
    cdef floating* nn
    cdef floating* h
    cdef floating z
    cdef Py_ssize_t k, t, b, j, n = B * H
    pack(True, 2 * H, H, <floating*>w_rz_, H, pk_rz)
    pack(True, H, H, <floating*>w_n_, H, pk_n)
    for k in range(T):
        t = time_of(k, T, reverse)
        xp, g, rh = <floating*>xp_ + t * 3 * n, <floating*>gates_rz_ + t * 2 * n, <floating*>rh_ + t * n
        nn, h = <floating*>n_ + t * n, <floating*>hs_ + t * n
        product(True, B, 2 * H, H, h_prev, H, <floating*>w_rz_, H, pk_rz, 0, g, 2 * H, NULL)  # h_prev @ W_rzᵀ
        for b in range(B):                               # gru_cho_reset_forward
            for j in range(2 * H):
                g[b * 2 * H + j] = xp[b * 3 * H + j] + g[b * 2 * H + j]
            gate_array(a, 2 * H, g + b * 2 * H, g + b * 2 * H)
            for j in range(H):
                rh[b * H + j] = g[b * 2 * H + j] * h_prev[b * H + j]
        product(True, B, H, H, rh, H, <floating*>w_n_, H, pk_n, 0, nn, H, NULL)              # (r⊙h_prev) @ W_nᵀ
        for b in range(B):                               # gru_cho_update_forward
            for j in range(H):
                nn[b * H + j] = xp[b * 3 * H + 2 * H + j] + nn[b * H + j]
            tanh_array(H, nn + b * H, nn + b * H)
            for j in range(H):
                z = g[b * 2 * H + H + j]
                h[b * H + j] = (1 - z) * nn[b * H + j] + z * h_prev[b * H + j]
        if keep != NULL:
            keep_t = keep + t * B
            carry_where_ended(B, H, keep_t, h, h_prev)
        output_rows(B, H, keep_t, h, <floating*>ys_ + t * n)
        h_prev = h


def gru_cho_sequence_forward(xp, h0, w_rz, w_n, keep, str act, gates_rz=None, rh=None, n=None, hs=None, ys=None,
                             bint reverse=False):
    """GRUChoStep's forward for every step (W_hh cut into W_rz (2H, H) and W_n (H, H)), the state carried where keep
    is 0 → (gates_rz (T, B, 2H), rh, n, hs, ys (T, B, H))"""
    cdef int a = gate_code(act), t = float_type("h0", h0)
    cdef Py_ssize_t H, B = rows_cols("h0", h0, &H), T = steps_of("xp", xp)
    cdef void* p_xp = data3("xp", xp, t, T, B, 3 * H)
    cdef void* p_h0 = data("h0", h0, t, B, H)
    cdef void* p_rz = data("w_rz", w_rz, t, 2 * H, H)
    cdef void* p_wn = data("w_n", w_n, t, H, H)
    cdef void* p_keep = optional_data("keep", keep, t, T, B)
    gates_rz, rh, n = output3("gates_rz", gates_rz, t, T, B, 2 * H), output3("rh", rh, t, T, B, H), output3("n", n, t, T, B, H)
    hs, ys = output3("hs", hs, t, T, B, H), output3("ys", ys, t, T, B, H)
    cdef void* p_g = data3("gates_rz", gates_rz, t, T, B, 2 * H)
    cdef void* p_rh = data3("rh", rh, t, T, B, H)
    cdef void* p_n = data3("n", n, t, T, B, H)
    cdef void* p_hs = data3("hs", hs, t, T, B, H)
    cdef void* p_ys = data3("ys", ys, t, T, B, H)
    disjoint_arrays(("gates_rz", "rh", "n", "hs", "ys", "xp", "h0", "w_rz", "w_n", "keep"), 5,
                    (gates_rz, rh, n, hs, ys, xp, h0, w_rz, w_n, keep))
    check_gemm("h0", B, 2 * H, H, H, H, 2 * H)
    if T == 0 or B == 0 or H == 0:
        return gates_rz, rh, n, hs, ys
    cdef void* pk_rz = NULL
    cdef void* pk_n = NULL
    try:
        pk_rz, pk_n = packing(t, B, H, 2 * H), packing(t, B, H, H)
        with nogil:
            if t == cnp.NPY_FLOAT64:
                _cho_forward(<double>0, a, reverse, T, B, H, p_xp, p_h0, p_rz, p_wn, p_keep, p_g, p_rh, p_n, p_hs,
                             p_ys, pk_rz, pk_n)
            else:
                _cho_forward(<float>0, a, reverse, T, B, H, p_xp, p_h0, p_rz, p_wn, p_keep, p_g, p_rh, p_n, p_hs,
                             p_ys, pk_rz, pk_n)
    finally:
        free(pk_rz)
        free(pk_n)
    return gates_rz, rh, n, hs, ys


cdef void _cho_backward(floating kind, int a, bint reverse, Py_ssize_t T, Py_ssize_t B, Py_ssize_t H,
                        void* gates_rz_, void* n_, void* hs_, void* h0_, void* w_rz_, void* w_n_, void* keep_,
                        void* dys_, void* dh_n_, void* dxp_, void* dh0_, void* work_, void* pk_rz,
                        void* pk_n) noexcept nogil:
    cdef const floating* hs = <floating*>hs_
    cdef const floating* keep = <floating*>keep_
    cdef const floating* dys = <floating*>dys_
    cdef const floating* keep_t = NULL
    cdef const floating* h_prev
    cdef const floating* gr
    cdef const floating* nn
    cdef Py_ssize_t n = B * H, k, t, b, j, i
    cdef floating* dh = <floating*>work_
    cdef floating* dh_new = dh + n
    cdef floating* g = dh_new + n
    cdef floating* d_rh = g + n
    cdef floating* dxp
    cdef floating z, r, v
    pack(False, H, H, <floating*>w_n_, H, pk_n)
    pack(False, H, 2 * H, <floating*>w_rz_, H, pk_rz)
    if dh_n_ != NULL:
        memcpy(dh, dh_n_, n * sizeof(floating))
    else:
        memset(dh, 0, n * sizeof(floating))
    for k in range(T - 1, -1, -1):
        t = time_of(k, T, reverse)
        h_prev = <floating*>h0_ if k == 0 else hs + time_of(k - 1, T, reverse) * n
        if keep != NULL:
            keep_t = keep + t * B
        step_grad(B, H, keep_t, dh, NULL if dys == NULL else dys + t * n, g)
        gr, nn, dxp = <floating*>gates_rz_ + t * 2 * n, <floating*>n_ + t * n, <floating*>dxp_ + t * 3 * n
        for b in range(B):                               # gru_cho_update_backward: dz_pre, dn_pre, dh⊙z
            for j in range(H):
                i = b * H + j
                z, v = gr[b * 2 * H + H + j], nn[i]
                dxp[b * 3 * H + 2 * H + j] = g[i] * (1 - z) * (1 - v * v)
                dxp[b * 3 * H + H + j] = g[i] * (h_prev[i] - v) * gate_grad(a, z)
                dh_new[i] = g[i] * z
        product(False, B, H, H, dxp + 2 * H, 3 * H, <floating*>w_n_, H, pk_n, 0, d_rh, H, NULL)  # dn_pre @ W_n
        for b in range(B):                               # gru_cho_reset_backward: dr_pre, and dh through r⊙h_prev
            for j in range(H):
                i = b * H + j
                r = gr[b * 2 * H + j]
                dxp[b * 3 * H + j] = d_rh[i] * h_prev[i] * gate_grad(a, r)
                dh_new[i] = dh_new[i] + d_rh[i] * r
        product(False, B, H, 2 * H, dxp, 3 * H, <floating*>w_rz_, H, pk_rz, 1, dh_new, H, NULL)  # + [dr, dz] @ W_rz
        if keep_t != NULL:
            pass_where_ended(B, H, keep_t, dh_new, dh)
        dh, dh_new = dh_new, dh
    memcpy(dh0_, dh, n * sizeof(floating))


def gru_cho_sequence_backward(gates_rz, n, hs, h0, w_rz, w_n, keep, dys, dh_n, str act, dxp=None, dh0=None,
                              bint reverse=False):
    """Each step's GRUChoStep backward in reverse order, passed by where keep is 0 (dys, dh_n None: zero)
    → (dxp = [dr, dz, dn] pre-activation gradients (T, B, 3H), dh0 (B, H))"""
    cdef int a = gate_code(act), t = float_type("h0", h0)
    cdef Py_ssize_t H, B = rows_cols("h0", h0, &H), T = steps_of("gates_rz", gates_rz)
    cdef void* p_g = data3("gates_rz", gates_rz, t, T, B, 2 * H)
    cdef void* p_n = data3("n", n, t, T, B, H)
    cdef void* p_hs = data3("hs", hs, t, T, B, H)
    cdef void* p_h0 = data("h0", h0, t, B, H)
    cdef void* p_rz = data("w_rz", w_rz, t, 2 * H, H)
    cdef void* p_wn = data("w_n", w_n, t, H, H)
    cdef void* p_keep = optional_data("keep", keep, t, T, B)
    cdef void* p_dys = NULL if dys is None else data3("dys", dys, t, T, B, H)
    cdef void* p_dh_n = optional_data("dh_n", dh_n, t, B, H)
    dxp, dh0 = output3("dxp", dxp, t, T, B, 3 * H), output("dh0", dh0, t, B, H)
    cdef void* p_dxp = data3("dxp", dxp, t, T, B, 3 * H)
    cdef void* p_dh0 = data("dh0", dh0, t, B, H)
    disjoint_arrays(("dxp", "dh0", "gates_rz", "n", "hs", "h0", "w_rz", "w_n", "keep", "dys", "dh_n"), 2,
                    (dxp, dh0, gates_rz, n, hs, h0, w_rz, w_n, keep, dys, dh_n))
    check_gemm("h0", B, H, 2 * H, 3 * H, H, H)
    if B == 0 or H == 0:
        return dxp, dh0
    cdef void* work = scratch(4 * B * H, t)
    cdef void* pk_rz = NULL
    cdef void* pk_n = NULL
    try:
        pk_rz, pk_n = packing(t, B, 2 * H, H), packing(t, B, H, H)
        with nogil:
            if t == cnp.NPY_FLOAT64:
                _cho_backward(<double>0, a, reverse, T, B, H, p_g, p_n, p_hs, p_h0, p_rz, p_wn, p_keep, p_dys,
                              p_dh_n, p_dxp, p_dh0, work, pk_rz, pk_n)
            else:
                _cho_backward(<float>0, a, reverse, T, B, H, p_g, p_n, p_hs, p_h0, p_rz, p_wn, p_keep, p_dys,
                              p_dh_n, p_dxp, p_dh0, work, pk_rz, pk_n)
    finally:
        free(work)
        free(pk_rz)
        free(pk_n)
    return dxp, dh0
