"""pytest-benchmark setup for `pytest benchmarks` (the plain `pytest` run collects tests/ only).

Every target is timed as `python -m tinygrad_rnn bench` times it (apps/bench.py, `measure`): the steady state of a
training loop, the same for every candidate. Before each timed round (one call), the `side_by_side` fixture calls
the other candidates of the same group once each, starting one further along every round, and then the candidate
itself once, untimed: a sample never pays for the caches and thread pools another candidate left cold, and it
follows the same sequence of calls as in `bench`. What pytest-benchmark cannot do is interleave the rounds of
different candidates in time (each test runs all its rounds before the next test starts), so slow drift of the
machine's load lands on one candidate at a time: take ratios from `bench`, which rotates rounds across candidates.

Threads are pinned per test (BLAS and OpenMP via threadpoolctl, torch.set_num_threads): every target runs once per
count of --bench-threads (default 1,2), as a `threads` parameter that is also recorded in extra_info. The shapes L
and XL are marked slow (-m "not slow" leaves them out). With --benchmark-disable each target runs once, untimed: a
smoke test for CI, so only shape S at the first thread count is collected then.
Print the ratio tables of a saved run with `python -m tinygrad_rnn bench --json FILE` (--benchmark-json FILE).
"""
import itertools

import numpy as np
import pytest

from tinygrad_rnn.apps import bench_candidates as bc
from tinygrad_rnn.apps.bench import thread_counts

SMOKE_SHAPES = ("S",)


def pytest_addoption(parser):
    parser.addoption("--bench-threads", default="1,2", help="comma-separated thread counts for BLAS, OpenMP and "
                                                             "torch; each target runs at each (default 1,2)")
    parser.addoption("--bench-rounds", type=int, default=15, help="timed rounds per layer and char-LM target "
                                                                 "(default 15; kernels take 10× as many)")


def _threads(config):
    return thread_counts(config.getoption("--bench-threads"))


def pytest_configure(config):
    config.addinivalue_line("markers", "slow: the large shapes L and XL (minutes); -m 'not slow' leaves them out")


def pytest_generate_tests(metafunc):
    if "threads" in metafunc.fixturenames:
        metafunc.parametrize("threads", _threads(metafunc.config), ids=lambda n: f"{n}thr")


_INNER = ("candidate", "impl")  # what varies within a group; the rest of a test's parameters name its group


def _group_key(item):
    params = getattr(item, "callspec", None)
    params = params.params if params else {}
    return (item.module.__name__, item.originalname, str(sorted((k, str(v)) for k, v in params.items()
                                                                 if k not in _INNER)))


def pytest_collection_modifyitems(config, items):
    # a group's tests one after another: their runs are built once (fixture `group`), and they run close in time
    order = {}
    for item in items:
        order.setdefault(_group_key(item), len(order))
    items.sort(key=lambda item: order[_group_key(item)])
    if not config.getoption("benchmark_disable", False):
        return
    first = _threads(config)[0]
    keep, drop = [], []
    for item in items:
        params = getattr(item, "callspec", None)
        params = params.params if params else {}
        smoke = params.get("shape", "S") in SMOKE_SHAPES and params.get("threads", first) == first
        (keep if smoke else drop).append(item)
    if drop:
        config.hook.pytest_deselected(items=drop)
        items[:] = keep


@pytest.fixture(autouse=True)
def pinned_threads(threads):
    with bc.pin_threads(threads) as note:
        if note:
            import warnings
            warnings.warn(note)
        yield


def pytest_benchmark_update_machine_info(config, machine_info):
    """The BLAS in use and the thread counts travel with --benchmark-json, for `bench --json`."""
    machine_info["tinygrad_rnn"] = {"machine": bc.machine_info(), "threads": _threads(config)}


@pytest.fixture
def rng():
    """The same generator state for every candidate: the same weights and data."""
    return np.random.default_rng(bc.SEED)


_GROUP = {}  # the runs of the last group asked for: {key: {name: run}} (one group kept, so XL's arrays go)


@pytest.fixture
def group():
    """group(key, names, make) -> {name: run} for the candidates of one comparison (make(name) -> run), built once
    per group and shared by its tests; a candidate that cannot run here (bc.Unavailable) is left out."""
    def group(key, names, make):
        if key not in _GROUP:
            _GROUP.clear()
            runs = {}
            for name in names:
                try:
                    runs[name] = make(name)
                except bc.Unavailable:
                    pass
            _GROUP[key] = runs
        return _GROUP[key]
    return group


@pytest.fixture
def own_run():
    """own_run(runs, name): runs[name], or a skip saying why this candidate cannot run here (torch missing, no
    peephole LSTM in torch, kernels not built: bench_candidates raises Unavailable for each)."""
    def own_run(runs, name, make):
        if name in runs:
            return runs[name]
        try:
            make(name)
        except bc.Unavailable as err:
            pytest.skip(str(err))
        raise AssertionError(f"{name} was left out of its group but can be made")
    return own_run


@pytest.fixture
def side_by_side(benchmark, request):
    """side_by_side(run, others, rounds=None) -> run's result: `rounds` timed calls of run, each after the other
    candidates' calls (rotating) and one untimed call of run (see the module docstring)."""
    def time(run, others=(), rounds=None):
        rounds = rounds or request.config.getoption("--bench-rounds")
        others = list(others)
        counter = itertools.count()

        def setup():
            k = next(counter) % len(others) if others else 0
            for other in others[k:] + others[:k]:
                other()
            run()
        return benchmark.pedantic(run, setup=setup, rounds=rounds, warmup_rounds=1)
    return time
