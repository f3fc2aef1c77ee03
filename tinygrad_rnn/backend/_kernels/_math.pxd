# Activations shared by the kernels. Scalar ones (libm) are inlined into loops; the array ones (fastmath.h:
# vectorized, dispatched per CPU) serve the gate loops. Derivatives are taken from the output y.
# Codes: 0 identity, 1 sigmoid, 2 tanh, 3 hard_sigmoid (Keras/Theano: clip(0.2·x + 0.5, 0, 1)).
from cython cimport floating
from libc.math cimport exp, expf, fabs, fabsf, tanh, tanhf


cdef extern from "fastmath.h" nogil:
    # y[i] = f(x[i]) for i < n, y == x allowed; σ and tanh keep the clamps and special values of the scalar
    # sigmoid and tanh_ below, to within a few ulp (tests/test_fastmath.py)
    void tg_exp_array_f(Py_ssize_t n, const float* x, float* y)
    void tg_exp_array_d(Py_ssize_t n, const double* x, double* y)
    void tg_sigmoid_array_f(Py_ssize_t n, const float* x, float* y)
    void tg_sigmoid_array_d(Py_ssize_t n, const double* x, double* y)
    void tg_tanh_array_f(Py_ssize_t n, const float* x, float* y)
    void tg_tanh_array_d(Py_ssize_t n, const double* x, double* y)
    const char* tg_fastmath_isa()

cdef enum:
    IDENTITY = 0
    SIGMOID = 1
    TANH = 2
    HARD_SIGMOID = 3


cdef inline int act_code(str name) except -1:
    if name == "identity":
        return IDENTITY
    if name == "sigmoid":
        return SIGMOID
    if name == "tanh":
        return TANH
    if name == "hard_sigmoid":
        return HARD_SIGMOID
    raise ValueError(f"act: expected one of 'identity', 'sigmoid', 'tanh', 'hard_sigmoid', but got {name!r}")


cdef inline int gate_code(str name) except -1:
    """The code of a gate activation (the gate kernels take no identity or tanh gates)."""
    if name == "sigmoid":
        return SIGMOID
    if name == "hard_sigmoid":
        return HARD_SIGMOID
    raise ValueError(f"act: expected one of 'sigmoid', 'hard_sigmoid', but got {name!r}")


cdef inline floating sigmoid(floating x) noexcept nogil:
    """σ(x) = 1 / (1 + e^(−x)) via e = e^(−|x|) (|x| clamped where e would go subnormal), so nothing overflows."""
    cdef floating e
    if floating is float:
        e = expf(-min(fabsf(x), <float>87.0))
    else:
        e = exp(-min(fabs(x), 708.0))
    return 1 / (1 + e) if x >= 0 else e / (1 + e)


cdef inline floating hard_sigmoid(floating x) noexcept nogil:
    """clip(0.2·x + 0.5, 0, 1)"""
    cdef floating y = x * <floating>0.2 + <floating>0.5
    return 0 if y < 0 else (1 if y > 1 else y)


cdef inline floating tanh_(floating x) noexcept nogil:
    if floating is float:
        return tanhf(x)
    else:
        return tanh(x)


cdef inline floating gate(int act, floating x) noexcept nogil:
    """A gate activation: sigmoid or hard_sigmoid."""
    return sigmoid(x) if act == SIGMOID else hard_sigmoid(x)


cdef inline floating gate_grad(int act, floating y) noexcept nogil:
    """d gate / dx from the output y: y(1 − y), or 0.2 strictly inside (0, 1) for hard_sigmoid."""
    if act == SIGMOID:
        return y * (1 - y)
    return <floating>0.2 if 0 < y < 1 else 0


cdef inline floating activate(int act, floating x) noexcept nogil:
    if act == IDENTITY:
        return x
    if act == TANH:
        return tanh_(x)
    return gate(act, x)


cdef inline floating activate_grad(int act, floating y) noexcept nogil:
    if act == IDENTITY:
        return 1
    if act == TANH:
        return 1 - y * y
    return gate_grad(act, y)


# ---- array activations: y[:n] = f(x[:n]), y may be x ------------------------------------------------------------

cdef inline void sigmoid_array(Py_ssize_t n, const floating* x, floating* y) noexcept nogil:
    if floating is float:
        tg_sigmoid_array_f(n, x, y)
    else:
        tg_sigmoid_array_d(n, x, y)


cdef inline void tanh_array(Py_ssize_t n, const floating* x, floating* y) noexcept nogil:
    if floating is float:
        tg_tanh_array_f(n, x, y)
    else:
        tg_tanh_array_d(n, x, y)


cdef inline void gate_array(int act, Py_ssize_t n, const floating* x, floating* y) noexcept nogil:
    """A gate activation over an array: sigmoid or hard_sigmoid."""
    cdef Py_ssize_t i
    if act == SIGMOID:
        sigmoid_array(n, x, y)
    else:
        for i in range(n):
            y[i] = hard_sigmoid(x[i])
