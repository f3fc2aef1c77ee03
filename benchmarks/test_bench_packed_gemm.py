"""The recurrent product h (B×H) · W_hhᵀ (H×G·H): the packed-panel GEMM (packed once) against NumPy's BLAS matmul.

`pytest benchmarks/test_bench_packed_gemm.py` times each candidate; `python benchmarks/test_bench_packed_gemm.py`
prints the ratio table the README quotes: per shape, the candidates side by side in one process, each given one
untimed call right before each timed sample, the order rotated every round, BLAS pinned to 1 thread, the median of
the rounds and the spread (min–max of the per-round ratio)."""
import statistics
import time

import numpy as np
import pytest

SHAPES = {"S": (1, 32, 128), "M": (16, 128, 512), "L": (64, 512, 2048), "GRU-M": (16, 128, 384)}   # (B, H, G·H)


def candidates(B, H, N, dtype, seed=0):
    from tinygrad_rnn.backend._kernels import packed_gemm as pg

    g = np.random.default_rng(seed)
    w_hh = g.standard_normal((N, H)).astype(dtype)
    h = g.standard_normal((B, H)).astype(dtype)
    out = np.empty((B, N), dtype)
    packed, w_t = pg.pack(w_hh, transposed=True), np.ascontiguousarray(w_hh.T)
    return {"packed": lambda: pg.gemm(h, packed, H, N, out=out),
            "numpy (Wᵀ contiguous)": lambda: np.matmul(h, w_t, out=out),
            "numpy (W.T view)": lambda: np.matmul(h, w_hh.T, out=out)}


@pytest.mark.parametrize("shape", ["S", "M"])
@pytest.mark.parametrize("impl", ["packed", "numpy (Wᵀ contiguous)"])
@pytest.mark.parametrize("dtype", [np.float32, np.float64], ids=["float32", "float64"])
def test_recurrent_product(benchmark, shape, impl, dtype):
    pytest.importorskip("tinygrad_rnn.backend._kernels.packed_gemm")
    benchmark(candidates(*SHAPES[shape], dtype)[impl])


def ratio_table(rounds=15, dtype=np.float32):
    from threadpoolctl import threadpool_limits

    from tinygrad_rnn.backend._kernels import packed_gemm as pg

    rows = []
    with threadpool_limits(1):
        for name, (B, H, N) in SHAPES.items():
            cands = candidates(B, H, N, dtype)
            reps = max(20, int(2e6 / (B * H * N)))
            times = {k: [] for k in cands}
            for r in range(rounds):
                order = list(cands)[r % len(cands):] + list(cands)[:r % len(cands)]
                for k in order:
                    cands[k]()                                    # the untimed warm call
                    t = time.perf_counter()
                    for _ in range(reps):
                        cands[k]()
                    times[k].append((time.perf_counter() - t) / reps)
            base = times["numpy (Wᵀ contiguous)"]
            for k, ts in times.items():
                ratios = [a / b for a, b in zip(ts, base)]
                gflops = 2 * B * H * N / statistics.median(ts) / 1e9
                rows.append((name, k, statistics.median(ts) * 1e6, gflops, statistics.median(ratios), min(ratios),
                             max(ratios)))
    print(f"packed GEMM ISA: {['baseline', 'AVX2', 'AVX-512'][pg.best_isa()]}, {np.dtype(dtype).name}, 1 thread")
    print("| shape (B, H, G·H) | candidate | µs | GFLOP/s | ÷ numpy (median) | spread |")
    print("|---|---|---|---|---|---|")
    for name, k, us, gf, med, lo, hi in rows:
        print(f"| {name} {SHAPES[name]} | {k} | {us:.2f} | {gf:.0f} | {med:.2f} | {lo:.2f}–{hi:.2f} |")


if __name__ == "__main__":
    ratio_table()
    ratio_table(dtype=np.float64)
