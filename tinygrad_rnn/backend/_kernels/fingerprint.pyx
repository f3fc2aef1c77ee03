# The fingerprint inplace.py takes of a saved array that a view made before the forward could write through: one
# pass over its bytes (fingerprint.h), where NumPy needs a CRC-32 (4 GB/s) or two reductions (each with its own
# call overhead, and blind to words moved around).
cimport numpy as cnp
from libc.stdint cimport uint64_t
from libc.string cimport memcpy

cnp.import_array()


cdef extern from "fingerprint.h" nogil:
    void tg_fingerprint_words(Py_ssize_t n, const char* p, uint64_t* s, uint64_t* x)


def fingerprint(cnp.ndarray a):
    """(Σᵢ (2i+1)·wᵢ, ⊕ᵢ wᵢ) mod 2⁶⁴ over the 64-bit words wᵢ of a C-contiguous array (the last bytes zero-padded):
    a change to any one word changes the sum (2i+1 is odd, so invertible mod 2⁶⁴), and moving words around
    changes it too, unlike a plain sum"""
    if not cnp.PyArray_IS_C_CONTIGUOUS(a):
        raise ValueError("fingerprint: expected a C-contiguous array")
    cdef const char* p = <const char*>cnp.PyArray_DATA(a)
    cdef Py_ssize_t nbytes = cnp.PyArray_NBYTES(a), n = nbytes // 8
    cdef uint64_t s = 0, x = 0, w = 0
    with nogil:
        tg_fingerprint_words(n, p, &s, &x)
        if nbytes > 8 * n:
            memcpy(&w, p + 8 * n, nbytes - 8 * n)
            s += (2 * <uint64_t>n + 1) * w
            x ^= w
    return s, x
