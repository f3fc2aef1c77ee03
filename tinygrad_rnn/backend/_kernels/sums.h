/* Two memory-bound loops the kernels run on every call, compiled per CPU by fastmath.h's function multi-versioning:
 * as Cython loops they are built for baseline x86-64 and ran on 4-wide SSE2 (a bias gradient over 800 × 512 rows
 * took 29 µs). Sums run in the same order as those loops (row by row), so the results are bitwise the same. */
#ifndef TINYGRAD_RNN_SUMS_H
#define TINYGRAD_RNN_SUMS_H

#include "fastmath.h"

#define TG_SUMS(T, S)                                                                                               \
/* out[j] = Σ_r a[r·cols + j], r in order (a bias's gradient: the column sums of dz); out must not overlap a */     \
TG_ARRAY_FN void tg_column_sums_##S(ptrdiff_t rows, ptrdiff_t cols, const T* a, T* out) {                           \
    for (ptrdiff_t j = 0; j < cols; j++) out[j] = 0;                                                                \
    for (ptrdiff_t r = 0; r < rows; r++) {                                                                          \
        const T* row = a + r * cols;                                                                                \
        TG_IVDEP                                                                                                    \
        for (ptrdiff_t j = 0; j < cols; j++) out[j] += row[j];                                                      \
    }                                                                                                               \
}                                                                                                                   \
/* out[i] = a[i] + b[i]; out may be a or b (same index only) */                                                     \
TG_ARRAY_FN void tg_add_arrays_##S(ptrdiff_t n, const T* a, const T* b, T* out) {                                   \
    TG_IVDEP                                                                                                        \
    for (ptrdiff_t i = 0; i < n; i++) out[i] = a[i] + b[i];                                                         \
}
TG_SUMS(float, f)
TG_SUMS(double, d)
#undef TG_SUMS

#endif
