# sums.h's loops (per-CPU builds of two memory-bound passes), on fused float/double pointers.
from cython cimport floating


cdef extern from "sums.h" nogil:
    void tg_column_sums_f(Py_ssize_t rows, Py_ssize_t cols, const float* a, float* out)
    void tg_column_sums_d(Py_ssize_t rows, Py_ssize_t cols, const double* a, double* out)
    void tg_add_arrays_f(Py_ssize_t n, const float* a, const float* b, float* out)
    void tg_add_arrays_d(Py_ssize_t n, const double* a, const double* b, double* out)


cdef inline void column_sums(Py_ssize_t rows, Py_ssize_t cols, const floating* a, floating* out) noexcept nogil:
    """out[j] = Σ_r a[r·cols + j], r in order; out must not overlap a"""
    if floating is float:
        tg_column_sums_f(rows, cols, a, out)
    else:
        tg_column_sums_d(rows, cols, a, out)


cdef inline void add_arrays(Py_ssize_t n, const floating* a, const floating* b, floating* out) noexcept nogil:
    """out[i] = a[i] + b[i]; out may be a or b"""
    if floating is float:
        tg_add_arrays_f(n, a, b, out)
    else:
        tg_add_arrays_d(n, a, b, out)
