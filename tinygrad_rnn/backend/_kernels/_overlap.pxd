# Outputs that share memory with an input or with another output are refused: the kernels write outputs before they
# have read all their inputs (h = tanh(xp + h_prev @ W_hhᵀ) is built in h, so h = h_prev reads half-written rows;
# dh_prev = dz @ W_hh reads dz after the gate pass wrote it), so an overlap is a silently wrong answer.
# The test is np.may_share_memory's: the byte ranges [lo, hi) of the two buffers intersect. It is exact for the
# C-contiguous arrays the kernels take, and costs two pointer comparisons per pair.

cdef struct Span:
    const char* lo
    const char* hi


cdef inline Span span(const void* p, Py_ssize_t nbytes) noexcept nogil:
    """The bytes [p, p + nbytes); an empty buffer (or NULL) is (NULL, NULL), which intersects nothing."""
    cdef Span s
    if p == NULL or nbytes <= 0:
        s.lo = s.hi = NULL
    else:
        s.lo = <const char*>p
        s.hi = s.lo + nbytes
    return s


cdef inline int disjoint(tuple names, const Span* s, int n_out, int n) except -1:
    """s[:n_out] are a kernel's outputs, s[n_out:n] its inputs, named by names[:n]: ValueError naming the first
    output that intersects an input or another output (and what it overlaps)."""
    cdef int i, j
    for i in range(n_out):
        for j in range(i + 1, n):
            if s[j].lo < s[i].hi and s[i].lo < s[j].hi:
                raise ValueError(f"{names[i]}: expected an array that shares no memory with the inputs or the other "
                                 f"outputs, but it overlaps {names[j]}")
    return 0
