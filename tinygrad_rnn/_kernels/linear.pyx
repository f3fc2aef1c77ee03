"""Fused linear + activation: y = act(x @ Wᵀ + b) in one GEMM and one elementwise pass.

Entry points take C-contiguous arrays and write into the outputs they are given; _backend.py checks them first.
"""
import numpy as np

from ._blas cimport gemm
from ._math cimport IDENTITY, act_code, activate, activate_grad
from cython cimport floating


def linear_act_forward(const floating[:, ::1] x, const floating[:, ::1] weight, const floating[::1] bias,
                       str act, floating[:, ::1] y):
    """y = act(x @ Wᵀ + b): x (B, I), W (O, I), b (O,) or None, y (B, O)"""
    cdef int code = act_code(act)
    cdef Py_ssize_t B = x.shape[0], I = x.shape[1], O = weight.shape[0], b, o
    cdef bint has_bias = bias is not None
    with nogil:
        gemm(False, True, B, O, I, 1, &x[0, 0] if B and I else NULL, max(I, 1),
             &weight[0, 0] if O and I else NULL, max(I, 1), 0, &y[0, 0] if B and O else NULL, max(O, 1))
        if has_bias or code != IDENTITY:
            for b in range(B):
                for o in range(O):
                    y[b, o] = activate(code, y[b, o] + bias[o] if has_bias else y[b, o])


def linear_act_backward(const floating[:, ::1] x, const floating[:, ::1] weight, const floating[:, ::1] y,
                        const floating[:, ::1] dy, str act, floating[:, ::1] dx, floating[:, ::1] dweight,
                        floating[::1] dbias):
    """dz = dy⊙act'(y); dx = dz @ W, dW = dzᵀ @ x, db = Σ_b dz (outputs given as None are skipped)"""
    cdef int code = act_code(act)
    cdef Py_ssize_t B = x.shape[0], I = x.shape[1], O = weight.shape[0], b, o
    cdef const floating[:, ::1] dz = dy
    cdef floating[:, ::1] dz_buf
    if code != IDENTITY:
        dz_buf = np.empty((B, O), np.float32 if floating is float else np.float64)
        with nogil:
            for b in range(B):
                for o in range(O):
                    dz_buf[b, o] = dy[b, o] * activate_grad(code, y[b, o])
        dz = dz_buf
    cdef bint want_dx = dx is not None, want_dw = dweight is not None, want_db = dbias is not None
    cdef const floating* pdz = &dz[0, 0] if B and O else NULL
    with nogil:
        if want_dx:
            gemm(False, False, B, I, O, 1, pdz, max(O, 1), &weight[0, 0] if O and I else NULL, max(I, 1),
                 0, &dx[0, 0] if B and I else NULL, max(I, 1))
        if want_dw:
            gemm(True, False, O, I, B, 1, pdz, max(O, 1), &x[0, 0] if B and I else NULL, max(I, 1),
                 0, &dweight[0, 0] if O and I else NULL, max(I, 1))
        if want_db:
            for o in range(O):
                dbias[o] = 0
            for b in range(B):
                for o in range(O):
                    dbias[o] += dz[b, o]
