"""Fused linear + activation: y = act(x @ Wᵀ + b) in one GEMM and one elementwise pass, and its backward.

The convention of gates.pyx and steps.pyx (see README.md): every array checked through _arrays.pxd, GEMM sizes
checked against the BLAS's integer, outputs returned (forward: y=None allocates it; backward: an output given as
None is not computed).
"""
cimport numpy as cnp
from cython cimport floating

from ._arrays cimport data, disjoint_arrays, float_type, optional_data, output
from ._blas cimport check_gemm, gemm, gemm_bias, gemm_tn_two
from ._math cimport IDENTITY, act_code, activate, activate_grad
from ._sums cimport column_sums

cnp.import_array()


cdef Py_ssize_t dim(str name, object a, int axis) except -1:
    """a.shape[axis] of a 2-D ndarray (already known to be one of float type), or ValueError naming it."""
    if cnp.PyArray_NDIM(<cnp.ndarray>a) != 2:
        raise ValueError(f"{name}: expected a 2-D array, but got shape {a.shape}")
    return cnp.PyArray_DIMS(<cnp.ndarray>a)[axis]


cdef void _forward(floating kind, int code, Py_ssize_t B, Py_ssize_t I, Py_ssize_t O, void* x, void* w, void* b,
                   void* y) noexcept nogil:
    cdef floating* out = <floating*>y
    cdef const floating* bias = <const floating*>b
    cdef Py_ssize_t r, o
    if code == IDENTITY and bias != NULL and gemm_bias(False, True, B, O, I, <floating*>x, max(I, 1), <floating*>w,
                                                       max(I, 1), out, max(O, 1), bias):
        return                                   # (the own GEMM added the bias tile by tile)
    gemm(False, True, B, O, I, 1, <floating*>x, max(I, 1), <floating*>w, max(I, 1), 0, out, max(O, 1))
    if bias != NULL or code != IDENTITY:
        for r in range(B):
            for o in range(O):
                out[r * O + o] = activate(code, out[r * O + o] + (bias[o] if bias != NULL else 0))


def linear_act_forward(x, weight, bias, str act, y=None):
    """y = act(x @ Wᵀ + b): x (B, I), W (O, I), b (O,) or None → y (B, O)"""
    cdef int code = act_code(act), t = float_type("x", x)
    cdef Py_ssize_t B = dim("x", x, 0), I = dim("x", x, 1), O = dim("weight", weight, 0) if float_type("weight", weight) else 0
    cdef void* p_x = data("x", x, t, B, I)
    cdef void* p_w = data("weight", weight, t, O, I)
    cdef void* p_b = optional_data("bias", bias, t, O, -1)
    y = output("y", y, t, B, O)
    cdef void* p_y = data("y", y, t, B, O, True)
    disjoint_arrays(("y", "x", "weight", "bias"), 1, (y, x, weight, bias))
    check_gemm("x", B, O, I, max(I, 1), max(I, 1), max(O, 1))
    with nogil:
        if t == cnp.NPY_FLOAT64:
            _forward(<double>0, code, B, I, O, p_x, p_w, p_b, p_y)
        else:
            _forward(<float>0, code, B, I, O, p_x, p_w, p_b, p_y)
    return y


cdef void _backward(floating kind, int code, Py_ssize_t B, Py_ssize_t I, Py_ssize_t O, void* x, void* w, void* y,
                    void* dy, void* dz_buf, void* dx, void* dw, void* db) noexcept nogil:
    cdef const floating* out = <const floating*>y
    cdef const floating* g = <const floating*>dy
    cdef floating* dz = <floating*>dz_buf
    cdef floating* dbias = <floating*>db
    cdef Py_ssize_t r
    if code == IDENTITY:
        dz = <floating*>dy
    else:
        for r in range(B * O):
            dz[r] = g[r] * activate_grad(code, out[r])
    if dx != NULL:
        gemm(False, False, B, I, O, 1, dz, max(O, 1), <floating*>w, max(I, 1), 0, <floating*>dx, max(I, 1))
    if dw != NULL:
        gemm(True, False, O, I, B, 1, dz, max(O, 1), <floating*>x, max(I, 1), 0, <floating*>dw, max(I, 1))
    if dbias != NULL:
        column_sums(B, O, dz, dbias)


def linear_act_backward(x, weight, y, dy, str act, dx, dweight, dbias):
    """dz = dy⊙act'(y); dx = dz @ W, dW = dzᵀ @ x, db = Σ_b dz → (dx, dweight, dbias) (those given as None are not
    computed)"""
    cdef int code = act_code(act), t = float_type("x", x)
    cdef Py_ssize_t B = dim("x", x, 0), I = dim("x", x, 1), O = dim("weight", weight, 0) if float_type("weight", weight) else 0
    cdef void* p_x = data("x", x, t, B, I)
    cdef void* p_w = data("weight", weight, t, O, I)
    cdef void* p_y = data("y", y, t, B, O)
    cdef void* p_dy = data("dy", dy, t, B, O)
    cdef void* p_dx = NULL if dx is None else data("dx", dx, t, B, I, True)
    cdef void* p_dw = NULL if dweight is None else data("dweight", dweight, t, O, I, True)
    cdef void* p_db = NULL if dbias is None else data("dbias", dbias, t, O, -1, True)
    disjoint_arrays(("dx", "dweight", "dbias", "x", "weight", "y", "dy"), 3, (dx, dweight, dbias, x, weight, y, dy))
    if dx is not None:
        check_gemm("x", B, I, O, max(O, 1), max(I, 1), max(I, 1))
    if dweight is not None:
        check_gemm("x", O, I, B, max(O, 1), max(I, 1), max(I, 1))
    buf = None if code == IDENTITY else output("dz", None, t, B, O)
    cdef void* p_dz = NULL if buf is None else data("dz", buf, t, B, O)
    with nogil:
        if t == cnp.NPY_FLOAT64:
            _backward(<double>0, code, B, I, O, p_x, p_w, p_y, p_dy, p_dz, p_dx, p_dw, p_db)
        else:
            _backward(<float>0, code, B, I, O, p_x, p_w, p_y, p_dy, p_dz, p_dx, p_dw, p_db)
    return dx, dweight, dbias


def outer_product(left, right, out=None):
    """out = leftᵀ @ right: left (N, O), right (N, I) → out (O, I) (a weight's gradient summed over N rows)"""
    cdef int t = float_type("left", left)
    cdef Py_ssize_t N = dim("left", left, 0), O = dim("left", left, 1)
    cdef Py_ssize_t I = dim("right", right, 1) if float_type("right", right) else 0
    cdef void* p_l = data("left", left, t, N, O)
    cdef void* p_r = data("right", right, t, N, I)
    out = output("out", out, t, O, I)
    cdef void* p_o = data("out", out, t, O, I, True)
    disjoint_arrays(("out", "left", "right"), 1, (out, left, right))
    check_gemm("left", O, I, N, max(O, 1), max(I, 1), max(I, 1))
    with nogil:
        if t == cnp.NPY_FLOAT64:
            gemm(True, False, O, I, N, <double>1, <double*>p_l, max(O, 1), <double*>p_r, max(I, 1), <double>0,
                 <double*>p_o, max(I, 1))
        else:
            gemm(True, False, O, I, N, <float>1, <float*>p_l, max(O, 1), <float*>p_r, max(I, 1), <float>0,
                 <float*>p_o, max(I, 1))
    return out


def outer_products(left, right, right2, out=None, out2=None):
    """out = leftᵀ @ right, out2 = leftᵀ @ right2: left (N, O), right (N, I), right2 (N, J) → out (O, I), out2 (O, J)
    (two weight gradients of one dz, an LSTM layer's dW_ih and dW_hh, in one GEMM pass that copies dzᵀ once)"""
    cdef int t = float_type("left", left)
    cdef Py_ssize_t N = dim("left", left, 0), O = dim("left", left, 1)
    cdef Py_ssize_t I = dim("right", right, 1) if float_type("right", right) else 0
    cdef Py_ssize_t J = dim("right2", right2, 1) if float_type("right2", right2) else 0
    cdef void* p_l = data("left", left, t, N, O)
    cdef void* p_r = data("right", right, t, N, I)
    cdef void* p_r2 = data("right2", right2, t, N, J)
    out, out2 = output("out", out, t, O, I), output("out2", out2, t, O, J)
    cdef void* p_o = data("out", out, t, O, I, True)
    cdef void* p_o2 = data("out2", out2, t, O, J, True)
    disjoint_arrays(("out", "out2", "left", "right", "right2"), 2, (out, out2, left, right, right2))
    check_gemm("left", O, I, N, max(O, 1), max(I, 1), max(I, 1))
    check_gemm("left", O, J, N, max(O, 1), max(J, 1), max(J, 1))
    with nogil:
        if t == cnp.NPY_FLOAT64:
            _outer_products(<double>0, N, O, I, J, p_l, p_r, p_r2, p_o, p_o2)
        else:
            _outer_products(<float>0, N, O, I, J, p_l, p_r, p_r2, p_o, p_o2)
    return out, out2


cdef void _outer_products(floating kind, Py_ssize_t N, Py_ssize_t O, Py_ssize_t I, Py_ssize_t J, void* left,
                          void* right, void* right2, void* out, void* out2) noexcept nogil:
    if gemm_tn_two(O, I, J, N, <floating*>left, max(O, 1), <floating*>right, max(I, 1), <floating*>right2, max(J, 1),
                   <floating*>out, max(I, 1), <floating*>out2, max(J, 1)):
        return
    gemm(True, False, O, I, N, 1, <floating*>left, max(O, 1), <floating*>right, max(I, 1), 0, <floating*>out, max(I, 1))
    gemm(True, False, O, J, N, 1, <floating*>left, max(O, 1), <floating*>right2, max(J, 1), 0, <floating*>out2,
         max(J, 1))
