"""The main job's training step: Embedding(65, 64) -> 2-layer LSTM(64, 128) -> Linear(128, 65) -> cross-entropy ->
Adam, batch 16, sequence 50; the engine against the same model and weights in PyTorch, each step timed after the
other's and one untimed step of its own (conftest.py, side_by_side)."""
import numpy as np
import pytest

from tinygrad_rnn.apps import bench_candidates as bc


@pytest.mark.parametrize("dtype", bc.DTYPES)
@pytest.mark.parametrize("candidate", bc.CHARLM_CANDIDATES)
def test_charlm_step(benchmark, group, own_run, side_by_side, candidate, dtype, threads):
    def make(name):
        return bc.make_charlm(name, dtype, np.random.default_rng(bc.SEED))
    runs = group(("charlm", dtype, threads), bc.CHARLM_CANDIDATES, make)
    run = own_run(runs, candidate, make)
    benchmark.group = f"charlm {dtype} {threads} thread(s)"
    benchmark.extra_info.update(kind="charlm", candidate=candidate, dtype=dtype, threads=threads)
    assert np.isfinite(side_by_side(run, [r for name, r in runs.items() if name != candidate]))
