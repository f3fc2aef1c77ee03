# Row kernels for ops outside the layers' kernels: the embedding gradient's scatter (nn/embedding.py), cross-entropy's
# log-softmax and gradient (nn/losses.py, softmax_rows.h). Called through backend.calls when the arrays are the kind
# they take (each returns False otherwise, and the caller's NumPy code runs).
cimport numpy as cnp
from cython cimport floating

cnp.import_array()


cdef void _scatter(floating kind, Py_ssize_t n, Py_ssize_t d, const cnp.npy_intp* idx, const floating* rows,
                   floating* out) noexcept nogil:
    cdef Py_ssize_t r, j
    cdef floating* dst
    cdef const floating* src
    for r in range(n):
        dst = out + idx[r] * d
        src = rows + r * d
        for j in range(d):
            dst[j] += src[j]


def scatter_add_rows(out, indices, rows):
    """out[indices[r]] += rows[r] for r = 0, 1, … in order (np.add.at(out, indices, rows), bitwise: the same adds in
    the same order) → True; False (nothing written) when an array is not one it takes: out (V, D) and rows (N, D)
    of one float dtype, indices (N,) of intp, all C-contiguous and native, out writeable and apart from the others.
    IndexError, before anything is written, for an index outside [0, V)."""
    if not (type(out) is cnp.ndarray and type(indices) is cnp.ndarray and type(rows) is cnp.ndarray):
        return False
    cdef cnp.ndarray o = out, i = indices, g = rows
    cdef int t = cnp.PyArray_TYPE(o)
    if (t != cnp.NPY_FLOAT32 and t != cnp.NPY_FLOAT64) or cnp.PyArray_TYPE(g) != t \
            or cnp.PyArray_TYPE(i) != cnp.NPY_INTP:
        return False
    if cnp.PyArray_NDIM(o) != 2 or cnp.PyArray_NDIM(g) != 2 or cnp.PyArray_NDIM(i) != 1:
        return False
    cdef Py_ssize_t V = cnp.PyArray_DIMS(o)[0], D = cnp.PyArray_DIMS(o)[1], N = cnp.PyArray_DIMS(i)[0]
    if cnp.PyArray_DIMS(g)[0] != N or cnp.PyArray_DIMS(g)[1] != D:
        return False
    for a in (o, i, g):
        if not (cnp.PyArray_IS_C_CONTIGUOUS(<cnp.ndarray>a) and cnp.PyArray_ISNOTSWAPPED(<cnp.ndarray>a)):
            return False
    if not cnp.PyArray_ISWRITEABLE(o):
        return False
    cdef char* lo = <char*>cnp.PyArray_DATA(o)
    cdef char* hi = lo + cnp.PyArray_NBYTES(o)
    for a in (i, g):                             # rows read after out was written to would see the sums
        if cnp.PyArray_NBYTES(<cnp.ndarray>a) and <char*>cnp.PyArray_DATA(<cnp.ndarray>a) < hi \
                and lo < <char*>cnp.PyArray_DATA(<cnp.ndarray>a) + cnp.PyArray_NBYTES(<cnp.ndarray>a):
            return False
    cdef const cnp.npy_intp* idx = <const cnp.npy_intp*>cnp.PyArray_DATA(i)
    cdef Py_ssize_t r
    for r in range(N):
        if idx[r] < 0 or idx[r] >= V:
            raise IndexError(f"scatter_add_rows: expected indices in [0, {V - 1}], but got {idx[r]} at position {r}")
    with nogil:
        if t == cnp.NPY_FLOAT32:
            _scatter(<float>0, N, D, idx, <const float*>cnp.PyArray_DATA(g), <float*>cnp.PyArray_DATA(o))
        else:
            _scatter(<double>0, N, D, idx, <const double*>cnp.PyArray_DATA(g), <double*>cnp.PyArray_DATA(o))
    return True


cdef extern from "softmax_rows.h" nogil:
    void tg_log_softmax_rows_f(Py_ssize_t n, Py_ssize_t c, const float* x, float* out)
    void tg_log_softmax_rows_d(Py_ssize_t n, Py_ssize_t c, const double* x, double* out)
    void tg_ce_grad_rows_f(Py_ssize_t n, Py_ssize_t c, const float* lp, const float* coef, const cnp.npy_intp* target,
                           float* grad)
    void tg_ce_grad_rows_d(Py_ssize_t n, Py_ssize_t c, const double* lp, const double* coef,
                           const cnp.npy_intp* target, double* grad)


cdef bint _matrix(object a, int t, Py_ssize_t n, Py_ssize_t c):
    """a is an (n, c) C-contiguous native ndarray of type t"""
    return (type(a) is cnp.ndarray and cnp.PyArray_TYPE(<cnp.ndarray>a) == t and cnp.PyArray_NDIM(<cnp.ndarray>a) == 2
            and cnp.PyArray_DIMS(<cnp.ndarray>a)[0] == n and cnp.PyArray_DIMS(<cnp.ndarray>a)[1] == c
            and cnp.PyArray_IS_C_CONTIGUOUS(<cnp.ndarray>a) and cnp.PyArray_ISNOTSWAPPED(<cnp.ndarray>a))


cdef bint _vector(object a, int t, Py_ssize_t n):
    return (type(a) is cnp.ndarray and cnp.PyArray_TYPE(<cnp.ndarray>a) == t and cnp.PyArray_NDIM(<cnp.ndarray>a) == 1
            and cnp.PyArray_DIMS(<cnp.ndarray>a)[0] == n and cnp.PyArray_IS_C_CONTIGUOUS(<cnp.ndarray>a)
            and cnp.PyArray_ISNOTSWAPPED(<cnp.ndarray>a))


cdef bint _apart(cnp.ndarray out, tuple others):
    cdef char* lo = <char*>cnp.PyArray_DATA(out)
    cdef char* hi = lo + cnp.PyArray_NBYTES(out)
    for a in others:
        if cnp.PyArray_NBYTES(<cnp.ndarray>a) and <char*>cnp.PyArray_DATA(<cnp.ndarray>a) < hi \
                and lo < <char*>cnp.PyArray_DATA(<cnp.ndarray>a) + cnp.PyArray_NBYTES(<cnp.ndarray>a):
            return False
    return True


def log_softmax_rows(x, out):
    """out[r] = (x[r] − max x[r]) − log Σ exp(x[r] − max x[r]) for x (N, C) → True; False (nothing written) when
    the arrays are not ones it takes: float32 or float64, both (N, C), C-contiguous, native, out writeable and apart
    from x. NaN in a row makes the row NaN, as NumPy's max does."""
    if type(x) is not cnp.ndarray or cnp.PyArray_NDIM(<cnp.ndarray>x) != 2:
        return False
    cdef int t = cnp.PyArray_TYPE(<cnp.ndarray>x)
    cdef Py_ssize_t n = cnp.PyArray_DIMS(<cnp.ndarray>x)[0], c = cnp.PyArray_DIMS(<cnp.ndarray>x)[1]
    if (t != cnp.NPY_FLOAT32 and t != cnp.NPY_FLOAT64) or not (_matrix(x, t, n, c) and _matrix(out, t, n, c)):
        return False
    if not cnp.PyArray_ISWRITEABLE(<cnp.ndarray>out) or not _apart(out, (x,)):
        return False
    cdef void* px = cnp.PyArray_DATA(<cnp.ndarray>x)
    cdef void* po = cnp.PyArray_DATA(<cnp.ndarray>out)
    with nogil:
        if t == cnp.NPY_FLOAT32:
            tg_log_softmax_rows_f(n, c, <const float*>px, <float*>po)
        else:
            tg_log_softmax_rows_d(n, c, <const double*>px, <double*>po)
    return True


def cross_entropy_grad_rows(lp, coef, target, grad):
    """grad[r] = coef[r]·(exp(lp[r]) − onehot(target[r])) for lp, grad (N, C), coef (N,), target (N,) of intp →
    True; False (nothing written) when the arrays are not ones it takes (as log_softmax_rows; target intp). IndexError,
    before anything is written, for a target outside [0, C)."""
    if type(lp) is not cnp.ndarray or cnp.PyArray_NDIM(<cnp.ndarray>lp) != 2:
        return False
    cdef int t = cnp.PyArray_TYPE(<cnp.ndarray>lp)
    cdef Py_ssize_t n = cnp.PyArray_DIMS(<cnp.ndarray>lp)[0], c = cnp.PyArray_DIMS(<cnp.ndarray>lp)[1], r
    if (t != cnp.NPY_FLOAT32 and t != cnp.NPY_FLOAT64) or not (_matrix(lp, t, n, c) and _matrix(grad, t, n, c)
                                                               and _vector(coef, t, n)
                                                               and _vector(target, cnp.NPY_INTP, n)):
        return False
    if not cnp.PyArray_ISWRITEABLE(<cnp.ndarray>grad) or not _apart(grad, (lp, coef, target)):
        return False
    cdef const cnp.npy_intp* tg = <const cnp.npy_intp*>cnp.PyArray_DATA(<cnp.ndarray>target)
    for r in range(n):
        if tg[r] < 0 or tg[r] >= c:
            raise IndexError(f"cross_entropy_grad_rows: expected targets in [0, {c - 1}], but got {tg[r]} at row {r}")
    cdef void* pl = cnp.PyArray_DATA(<cnp.ndarray>lp)
    cdef void* pc = cnp.PyArray_DATA(<cnp.ndarray>coef)
    cdef void* pg = cnp.PyArray_DATA(<cnp.ndarray>grad)
    with nogil:
        if t == cnp.NPY_FLOAT32:
            tg_ce_grad_rows_f(n, c, <const float*>pl, <const float*>pc, tg, <float*>pg)
        else:
            tg_ce_grad_rows_d(n, c, <const double*>pl, <const double*>pc, tg, <double*>pg)
    return True
