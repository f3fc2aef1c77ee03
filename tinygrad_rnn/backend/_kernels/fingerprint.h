/* One pass over an array's 64-bit words for inplace.py's fingerprint (fingerprint.pyx): s = Σ (2i+1)·wᵢ and
 * x = ⊕ wᵢ (mod 2⁶⁴). Compiled per CPU as fastmath.h's loops are: the AVX-512 clone multiplies 8 words at a time
 * (vpmullq); the baseline one is scalar. */
#ifndef TINYGRAD_RNN_FINGERPRINT_H
#define TINYGRAD_RNN_FINGERPRINT_H

#include "fastmath.h"

TG_ARRAY_FN void tg_fingerprint_words(ptrdiff_t n, const char* p, uint64_t* sum, uint64_t* xor_) {
    uint64_t s = 0, x = 0;
    for (ptrdiff_t i = 0; i < n; i++) {
        uint64_t w;
        memcpy(&w, p + 8 * i, 8);              /* an array's data need not be 8-byte aligned */
        s += (2 * (uint64_t)i + 1) * w;
        x ^= w;
    }
    *sum = s;
    *xor_ = x;
}

#endif
