# Argument handling for every kernel entry point: ndarrays checked and unpacked through NumPy's C API (tens of
# nanoseconds per array; a typed memoryview argument costs far more), so one step is one cheap call. The messages
# name the argument; backend/calls.py explains a refusal in the caller's terms (expected versus received).
cimport numpy as cnp

from ._overlap cimport Span, disjoint, span


cdef inline str dtype_name(int typenum):
    return "float32" if typenum == cnp.NPY_FLOAT32 else "float64"


cdef inline int float_type(str name, object a) except -1:
    """The NumPy type number of a float32 or float64 ndarray, else TypeError naming the argument."""
    if not isinstance(a, cnp.ndarray):
        raise TypeError(f"{name}: expected a numpy.ndarray, but got {type(a).__name__}")
    cdef int t = cnp.PyArray_TYPE(<cnp.ndarray>a)
    if t != cnp.NPY_FLOAT32 and t != cnp.NPY_FLOAT64:
        raise TypeError(f"{name}: expected dtype float32 or float64, but got {a.dtype}")
    return t


cdef inline void* data(str name, object a, int typenum, Py_ssize_t rows, Py_ssize_t cols,
                       bint writeable=False) except NULL:
    """a's data pointer after checking it is a C-contiguous ndarray of that dtype and shape (cols < 0: 1-D)."""
    if not isinstance(a, cnp.ndarray):
        raise TypeError(f"{name}: expected a numpy.ndarray, but got {type(a).__name__}")
    cdef cnp.ndarray arr = <cnp.ndarray>a
    if cnp.PyArray_TYPE(arr) != typenum:
        raise TypeError(f"{name}: expected dtype {dtype_name(typenum)}, but got {a.dtype}")
    if not cnp.PyArray_ISNOTSWAPPED(arr):        # '>f4' has float32's type number, but its bytes read as garbage
        raise TypeError(f"{name}: expected dtype {dtype_name(typenum)} in native byte order, but got a byte-swapped "
                        f"array ({a.dtype.str})")
    cdef int ndim = cnp.PyArray_NDIM(arr)
    cdef cnp.npy_intp* dims = cnp.PyArray_DIMS(arr)
    if cols < 0:
        if ndim != 1 or dims[0] != rows:
            raise ValueError(f"{name}: expected shape ({rows},), but got {a.shape}")
    elif ndim != 2 or dims[0] != rows or dims[1] != cols:
        raise ValueError(f"{name}: expected shape ({rows}, {cols}), but got {a.shape}")
    if not cnp.PyArray_IS_C_CONTIGUOUS(arr):
        raise ValueError(f"{name}: expected a C-contiguous array, but got a non-contiguous one")
    if writeable and not cnp.PyArray_ISWRITEABLE(arr):
        raise ValueError(f"{name}: expected a writeable array, but got a read-only one")
    return cnp.PyArray_DATA(arr)


cdef inline void* optional_data(str name, object a, int typenum, Py_ssize_t rows, Py_ssize_t cols) except? NULL:
    """NULL for None (a zero upstream gradient, or no bias), else data(...)."""
    if a is None:
        return NULL
    return data(name, a, typenum, rows, cols)


cdef inline object output(str name, object a, int typenum, Py_ssize_t rows, Py_ssize_t cols):
    """The output array a (checked, writeable), or a new one when a is None."""
    cdef cnp.npy_intp dims[2]
    if a is None:
        dims[0], dims[1] = rows, cols
        return cnp.PyArray_EMPTY(1 if cols < 0 else 2, dims, typenum, 0)
    data(name, a, typenum, rows, cols, True)
    return a


cdef inline Py_ssize_t rows_cols(str name, object a, Py_ssize_t* cols) except -1:
    """The shape (rows, *cols) of a 2-D ndarray (already known to be one of float type)."""
    cdef cnp.ndarray arr = <cnp.ndarray>a
    if cnp.PyArray_NDIM(arr) != 2:
        raise ValueError(f"{name}: expected shape (B, H), but got {a.shape}")
    cols[0] = cnp.PyArray_DIMS(arr)[1]
    return cnp.PyArray_DIMS(arr)[0]


cdef inline Span array_span(cnp.ndarray a) noexcept:
    """The bytes of a C-contiguous array (its size multiplied out here: PyArray_NBYTES is a call through NumPy's
    API table, and this runs for every array of every kernel call)."""
    cdef Py_ssize_t nbytes = cnp.PyArray_ITEMSIZE(a)
    cdef cnp.npy_intp* dims = cnp.PyArray_DIMS(a)
    cdef int k
    for k in range(cnp.PyArray_NDIM(a)):
        nbytes *= dims[k]
    return span(cnp.PyArray_DATA(a), nbytes)


cdef enum:
    MAX_ARRAYS = 16                              # the most arrays a kernel takes (peephole_step_backward: 15)


cdef inline int disjoint_arrays(tuple names, int n_out, tuple arrays) except -1:
    """ValueError when one of the outputs arrays[:n_out] shares memory with another array in `arrays` (inputs after
    the outputs, all checked C-contiguous ndarrays, or None: nothing), named by `names` (see _overlap.pxd)."""
    cdef Span s[MAX_ARRAYS]
    cdef int i, n = len(arrays)
    if n > MAX_ARRAYS:
        raise ValueError(f"disjoint_arrays: expected at most {MAX_ARRAYS} arrays, but got {n}")
    for i in range(n):
        a = arrays[i]
        s[i] = span(NULL, 0) if a is None else array_span(<cnp.ndarray>a)
    return disjoint(names, s, n_out, n)
