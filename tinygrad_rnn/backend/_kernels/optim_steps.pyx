# Optimiser updates in one pass over a parameter (optim/optimizers.py calls them through backend.calls when the
# arrays are the kind they take; otherwise its NumPy code runs). The formulas live in the headers.
cimport numpy as cnp

cnp.import_array()


cdef extern from "adam_step.h" nogil:
    void tg_adam_steps_f(Py_ssize_t n, float* p, const float* grad, float* m, float* v, float* vmax, int wd_mode,
                         float wd, float decay, float w, float one_minus_w, int small_w, float beta2,
                         float one_minus_beta2, float step_size, float bc2, float eps)
    void tg_adam_steps_d(Py_ssize_t n, double* p, const double* grad, double* m, double* v, double* vmax,
                         int wd_mode, double wd, double decay, double w, double one_minus_w, int small_w,
                         double beta2, double one_minus_beta2, double step_size, double bc2, double eps)


cdef bint _takes(cnp.ndarray a, int typenum, Py_ssize_t n):
    return (cnp.PyArray_TYPE(a) == typenum and cnp.PyArray_IS_C_CONTIGUOUS(a) and cnp.PyArray_ISWRITEABLE(a)
            and cnp.PyArray_ISNOTSWAPPED(a) and cnp.PyArray_SIZE(a) == n)


def adam_step(param, grad, exp_avg, exp_avg_sq, max_exp_avg_sq, bint decoupled, double lr, double weight_decay,
              double beta1, double beta2, double step_size, double bias_correction2_sqrt, double eps):
    """Adam's update of param, exp_avg, exp_avg_sq (and max_exp_avg_sq, or None) in place, as Adam._update's NumPy
    code computes it → True; False (nothing written) when an array is not one it takes: float32 or float64, all of
    one dtype and size, C-contiguous, native byte order, writeable (grad may be read-only); or when they overlap."""
    arrays = (param, grad, exp_avg, exp_avg_sq) + (() if max_exp_avg_sq is None else (max_exp_avg_sq,))
    if not all(type(a) is cnp.ndarray for a in arrays):
        return False
    cdef cnp.ndarray p = param, g = grad, m = exp_avg, v = exp_avg_sq
    cdef int t = cnp.PyArray_TYPE(p)
    cdef Py_ssize_t n = cnp.PyArray_SIZE(p)
    if t != cnp.NPY_FLOAT32 and t != cnp.NPY_FLOAT64:
        return False
    if not (_takes(p, t, n) and _takes(m, t, n) and _takes(v, t, n)):
        return False
    if not (cnp.PyArray_TYPE(g) == t and cnp.PyArray_IS_C_CONTIGUOUS(g) and cnp.PyArray_ISNOTSWAPPED(g)
            and cnp.PyArray_SIZE(g) == n):
        return False
    cdef cnp.ndarray vm = None
    if max_exp_avg_sq is not None:
        vm = max_exp_avg_sq
        if not _takes(vm, t, n):
            return False
    # an update in one pass reads and writes each element once: arrays sharing memory would see half-done values
    cdef Py_ssize_t nbytes = n * cnp.PyArray_ITEMSIZE(p), i, j
    cdef char* starts[5]
    cdef int count = len(arrays)
    for i in range(count):
        starts[i] = <char*>cnp.PyArray_DATA(<cnp.ndarray>arrays[i])
    for i in range(count):
        for j in range(i + 1, count):
            if nbytes and starts[i] < starts[j] + nbytes and starts[j] < starts[i] + nbytes:
                return False
    cdef double w = 1 - beta1
    cdef int small_w = abs(w) < 0.5
    cdef void* p_vm = NULL if vm is None else cnp.PyArray_DATA(vm)
    cdef int wd_mode = 0 if weight_decay == 0 else (2 if decoupled else 1)
    with nogil:
        if t == cnp.NPY_FLOAT32:
            tg_adam_steps_f(n, <float*>cnp.PyArray_DATA(p), <const float*>cnp.PyArray_DATA(g),
                            <float*>cnp.PyArray_DATA(m), <float*>cnp.PyArray_DATA(v),
                            <float*>p_vm, wd_mode, <float>weight_decay,
                            <float>(1 - lr * weight_decay), <float>w, <float>(1 - w), small_w, <float>beta2,
                            <float>(1 - beta2), <float>step_size, <float>bias_correction2_sqrt, <float>eps)
        else:
            tg_adam_steps_d(n, <double*>cnp.PyArray_DATA(p), <const double*>cnp.PyArray_DATA(g),
                            <double*>cnp.PyArray_DATA(m), <double*>cnp.PyArray_DATA(v),
                            <double*>p_vm, wd_mode, weight_decay,
                            1 - lr * weight_decay, w, 1 - w, small_w, beta2, 1 - beta2, step_size,
                            bias_correction2_sqrt, eps)
    return True
