"""One char-LM training step: Embedding(65, 64) -> 2-layer LSTM(64, 128) -> Linear(128, 65) -> cross-entropy ->
Adam, batch 16, sequence 50; the engine against the same model and weights in PyTorch."""
import numpy as np
import pytest

from tinygrad_rnn.apps import bench_candidates as bc


@pytest.mark.parametrize("dtype", bc.DTYPES)
@pytest.mark.parametrize("candidate", bc.CHARLM_CANDIDATES)
def test_charlm_step(benchmark, rng, make_or_skip, candidate, dtype):
    run = make_or_skip(bc.make_charlm, candidate, dtype, rng)
    benchmark.group = f"charlm {dtype}"
    benchmark.extra_info.update(kind="charlm", candidate=candidate, dtype=dtype)
    assert np.isfinite(benchmark(run))
