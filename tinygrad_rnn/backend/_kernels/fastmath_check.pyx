"""Test-only entry to the vectorized activations of fastmath.h (tests/test_fastmath.py): each takes a 1-D float32 or
float64 array and returns f applied to a copy; `isa` names the clone this CPU runs."""
import numpy as np

from ._math cimport (tg_exp_array_d, tg_exp_array_f, tg_fastmath_isa, tg_sigmoid_array_d, tg_sigmoid_array_f,
                     tg_tanh_array_d, tg_tanh_array_f)


def _apply(x, int which):
    y = np.array(x, copy=True, order="C")
    if y.ndim != 1 or y.dtype not in (np.float32, np.float64):
        raise TypeError(f"x: expected a 1-D float32 or float64 array, but got {y.dtype} with shape {y.shape}")
    cdef float[::1] yf
    cdef double[::1] yd
    cdef Py_ssize_t n = y.shape[0]
    if n == 0:
        return y
    if y.dtype == np.float32:
        yf = y
        with nogil:
            if which == 0:
                tg_exp_array_f(n, &yf[0], &yf[0])
            elif which == 1:
                tg_sigmoid_array_f(n, &yf[0], &yf[0])
            else:
                tg_tanh_array_f(n, &yf[0], &yf[0])
    else:
        yd = y
        with nogil:
            if which == 0:
                tg_exp_array_d(n, &yd[0], &yd[0])
            elif which == 1:
                tg_sigmoid_array_d(n, &yd[0], &yd[0])
            else:
                tg_tanh_array_d(n, &yd[0], &yd[0])
    return y


def exp(x):
    """e^x (0 below −746 / −104, inf above 710 / 89)"""
    return _apply(x, 0)


def sigmoid(x):
    """σ(x), |x| clamped at 708 / 87 as _math.pxd's scalar sigmoid"""
    return _apply(x, 1)


def tanh(x):
    return _apply(x, 2)


def isa():
    """The clone of the array functions this CPU runs: "x86-64-v4", "x86-64-v3", "baseline" or "portable"."""
    return tg_fastmath_isa().decode()
