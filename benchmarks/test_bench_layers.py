"""Forward + backward through one recurrent layer (loss on every h_t; gradients of x, h0, c0 and every weight):
every candidate, cell, dtype, shape and thread count.

Each timed call is one `run()` of tinygrad_rnn/apps/bench_candidates.py (same weights and data for all candidates),
after the group's other candidates and one untimed call of its own (conftest.py, side_by_side). The numpy-based
candidates also record their peak memory (tracemalloc, one untimed call) in extra_info["peak_bytes"].
"""
import numpy as np
import pytest

from tinygrad_rnn.apps import bench_candidates as bc

SHAPES = [pytest.param(s, marks=pytest.mark.slow) if s in ("L", "XL") else s for s in bc.SHAPES]  # slow: minutes


@pytest.mark.parametrize("shape", SHAPES)
@pytest.mark.parametrize("dtype", bc.DTYPES)
@pytest.mark.parametrize("cell", bc.CELLS)
@pytest.mark.parametrize("candidate", bc.CANDIDATES)
def test_forward_backward(benchmark, group, own_run, side_by_side, candidate, cell, dtype, shape, threads):
    def make(name):
        return bc.make(name, cell, shape, dtype, np.random.default_rng(bc.SEED))
    runs = group(("layer", cell, shape, dtype, threads), bc.CANDIDATES, make)
    run = own_run(runs, candidate, make)
    benchmark.group = f"{cell} {shape} {dtype} {threads} thread(s)"
    benchmark.extra_info.update(kind="layer", cell=cell, shape=shape, dtype=dtype, threads=threads,
                                candidate=candidate, T=bc.dims(shape)[3], flops=bc.gemm_flops(cell, shape))
    if candidate not in bc.TORCH_CANDIDATES:
        benchmark.extra_info["peak_bytes"] = bc.peak_memory(run)
    grads = side_by_side(run, [r for name, r in runs.items() if name != candidate])
    assert {"x", "h0", "weight_hh"} <= set(grads)
    assert all(np.isfinite(g).all() for g in grads.values())
