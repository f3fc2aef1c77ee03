"""Forward + backward through one recurrent layer, weight gradients included: every candidate, cell, dtype, shape.

Each timed call is one `run()` of tinygrad_rnn/bench_candidates.py (same weights and data for all candidates). The
numpy-based candidates also record their peak memory (tracemalloc, one untimed call) in extra_info["peak_bytes"].
"""
import numpy as np
import pytest

from tinygrad_rnn.apps import bench_candidates as bc

SHAPES = [pytest.param(s, marks=pytest.mark.slow) if s in ("L", "XL") else s for s in bc.SHAPES]  # slow: minutes


@pytest.mark.parametrize("shape", SHAPES)
@pytest.mark.parametrize("dtype", bc.DTYPES)
@pytest.mark.parametrize("cell", bc.CELLS)
@pytest.mark.parametrize("candidate", bc.CANDIDATES)
def test_forward_backward(benchmark, rng, make_or_skip, candidate, cell, dtype, shape):
    run = make_or_skip(bc.make, candidate, cell, shape, dtype, rng)
    benchmark.group = f"{cell} {shape} {dtype}"
    benchmark.extra_info.update(kind="layer", cell=cell, shape=shape, dtype=dtype, candidate=candidate,
                                T=bc.dims(shape)[3], flops=bc.gemm_flops(cell, shape))
    if candidate not in bc.TORCH_CANDIDATES:
        benchmark.extra_info["peak_bytes"] = bc.peak_memory(run)
    grads = benchmark(run)
    assert all(np.isfinite(g).all() for g in grads.values())
