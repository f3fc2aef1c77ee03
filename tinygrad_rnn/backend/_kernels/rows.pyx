# Row scatters for ops outside the layers' kernels (nn/embedding.py's gradient calls it through backend.calls when
# the arrays are the kind it takes; otherwise its NumPy code runs).
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
