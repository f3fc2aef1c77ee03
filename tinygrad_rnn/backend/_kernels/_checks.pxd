# Shape checks at a kernel's entry, so a kernel called with wrong shapes raises instead of reading out of bounds.
# (dtype, rank and C-contiguity are already enforced by the typed memoryview arguments.)

cdef inline int expect(str name, Py_ssize_t rows, Py_ssize_t cols, Py_ssize_t want_rows,
                       Py_ssize_t want_cols) except -1:
    if rows != want_rows or cols != want_cols:
        raise ValueError(f"{name}: expected shape ({want_rows}, {want_cols}), but got ({rows}, {cols})")
    return 0


cdef inline int expect1(str name, Py_ssize_t n, Py_ssize_t want) except -1:
    if n != want:
        raise ValueError(f"{name}: expected shape ({want},), but got ({n},)")
    return 0


cdef inline int gate_code(str act) except -1:
    if act == "sigmoid":
        return 1
    if act == "hard_sigmoid":
        return 3
    raise ValueError(f"act: expected one of 'sigmoid', 'hard_sigmoid', but got {act!r}")
