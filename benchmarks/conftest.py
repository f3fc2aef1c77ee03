"""pytest-benchmark setup for `pytest benchmarks` (the plain `pytest` run collects tests/ only).

Threads are pinned for the whole session (BLAS via threadpoolctl, torch.set_num_threads): --bench-threads N, 1 by
default. The shapes L and XL are marked slow (-m "not slow" leaves them out). With --benchmark-disable each target
runs once, untimed: a smoke test for CI, so only shape S is collected then.
Print the ratio table of a saved run with `python -m tinygrad_rnn bench --json FILE` (--benchmark-json FILE).
"""
import numpy as np
import pytest

from tinygrad_rnn.apps import bench_candidates as bc

SMOKE_SHAPES = ("S",)


def pytest_addoption(parser):
    parser.addoption("--bench-threads", type=int, default=1, help="BLAS and torch threads for every candidate "
                                                                   "(default 1)")


def pytest_configure(config):
    config.addinivalue_line("markers", "slow: the large shapes L and XL (minutes); -m 'not slow' leaves them out")


def pytest_collection_modifyitems(config, items):
    if not config.getoption("benchmark_disable", False):
        return
    keep, drop = [], []
    for item in items:
        params = getattr(item, "callspec", None)
        shape = params.params.get("shape") if params else None
        (keep if shape is None or shape in SMOKE_SHAPES else drop).append(item)
    if drop:
        config.hook.pytest_deselected(items=drop)
        items[:] = keep


@pytest.fixture(scope="session", autouse=True)
def pinned_threads(request):
    with bc.pin_threads(request.config.getoption("--bench-threads")) as note:
        if note:
            import warnings
            warnings.warn(note)
        yield


def pytest_benchmark_update_machine_info(config, machine_info):
    """The BLAS in use and the thread count travel with --benchmark-json, for `bench --json`."""
    with bc.pin_threads(config.getoption("--bench-threads")):
        machine_info["tinygrad_rnn"] = {"machine": bc.machine_info(), "threads": config.getoption("--bench-threads")}


@pytest.fixture
def rng():
    """The same generator state for every candidate: the same weights and data."""
    return np.random.default_rng(bc.SEED)


@pytest.fixture
def make_or_skip():
    """make_or_skip(bc.make..., *args): the candidate's run(), or a skip saying why it cannot run here (torch
    missing, no peephole LSTM in torch, kernels not built: bench_candidates raises Unavailable for each)."""
    def make_or_skip(make, *args):
        try:
            return make(*args)
        except bc.Unavailable as err:
            pytest.skip(str(err))
    return make_or_skip

