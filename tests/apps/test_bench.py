"""The benchmark's building blocks: every candidate computes the oracle's gradients (so the timings compare equal
work), the kernel pairs agree, the tables have their columns, and `python -m tinygrad_rnn bench` runs."""
import json
import math

import numpy as np
import pytest

from tinygrad_rnn import oracle
from tinygrad_rnn.apps import bench
from tinygrad_rnn.apps import bench_candidates as bc
from tinygrad_rnn.apps.cli import build_parser

TINY = (3, 5, 4, 6)  # B, I, H, T


@pytest.fixture(autouse=True)
def one_thread():
    """As the benchmarks run: multithreaded BLAS on a busy machine can turn milliseconds into seconds."""
    with bc.pin_threads(1):
        yield


def _make_or_skip(make, *args):
    try:
        return make(*args)
    except bc.Unavailable as err:
        pytest.skip(str(err))


@pytest.mark.parametrize("cell", bc.CELLS)
@pytest.mark.parametrize("candidate", bc.CANDIDATES)
def test_candidate_gradients_equal_the_oracle(candidate, cell, request):
    """Equal work: every candidate returns the gradients of x, h0 (c0) and every weight, from the same random
    initial state, and they are the oracle's."""
    if candidate in bc.TORCH_CANDIDATES:
        request.getfixturevalue("torch")                  # the skip when torch is missing
    run = _make_or_skip(bc.make, candidate, cell, TINY, "float64", np.random.default_rng(7))
    expected = bc.make_oracle(cell, TINY, "float64", np.random.default_rng(7))()
    assert {"x", "h0"} <= set(expected) and ("c0" in expected) == (cell in bc.CELL_STATE)
    assert np.abs(expected["h0"]).max() > 0
    for _ in range(2):                                   # a second call must not accumulate into the first's grads
        grads = run()
        assert sorted(grads) == sorted(expected)
        for name, value in expected.items():
            assert grads[name].dtype == np.float64 and np.isfinite(grads[name]).all(), name
            np.testing.assert_allclose(grads[name], value, rtol=1e-6, atol=1e-12, err_msg=f"{candidate} {name}")


def test_candidates_share_weights_and_data():
    a, b = (bc.problem("peephole", TINY, "float32", np.random.default_rng(3)) for _ in range(2))
    assert a.state_dict.keys() == b.state_dict.keys() and "weight_ci_l0" in a.state_dict
    assert all(np.array_equal(a.state_dict[k], b.state_dict[k]) for k in a.state_dict)
    assert np.array_equal(a.x, b.x) and a.x.dtype == np.float32 and a.x.shape == (6, 3, 5)


class Counted(np.ndarray):
    """An array that adds the flops of every matrix product it takes part in to Counted.flops. What is computed
    from it is Counted too, so the gradient products (dA with the states and inputs) are seen, not only those with
    the weights."""
    flops = 0

    def __array_ufunc__(self, ufunc, method, *inputs, out=None, **kwargs):
        plain = [x.view(np.ndarray) if isinstance(x, Counted) else x for x in inputs]
        if out is not None:
            kwargs["out"] = tuple(o.view(np.ndarray) if isinstance(o, Counted) else o for o in out)
        result = getattr(ufunc, method)(*plain, **kwargs)
        if ufunc is np.matmul and method == "__call__":      # `@` and np.matmul(..., out=)
            Counted.flops += 2 * math.prod(np.shape(result)) * np.shape(plain[0])[-1]
        if out is not None:
            return out[0] if len(out) == 1 else out
        return result.view(Counted) if isinstance(result, np.ndarray) else result


def test_gemm_flops_count_the_oracles_matrix_products(monkeypatch):
    """The formula against the products the oracle really computes, forward and backward, on a shape whose four
    sizes differ (so a B, I, H or T in the wrong place changes the count). The vanilla RNN's states come out of
    np.tanh(..., out=) into plain arrays, so its weight-gradient GEMMs (oracle._tn) see no Counted operand: _tn
    counts those itself."""
    real_tn = oracle._tn

    def counted_tn(dA, R):
        if not isinstance(dA, Counted) and not isinstance(R, Counted):
            Counted.flops += 2 * math.prod(dA.shape) * R.shape[-1]
        return real_tn(dA, R)
    monkeypatch.setattr(oracle, "_tn", counted_tn)
    shape = (2, 3, 5, 7)                                   # B, I, H, T
    for cell in bc.CELLS:
        p = bc.problem(cell, shape, "float64", np.random.default_rng(0))
        params = {name[:-len("_l0")]: w.view(Counted) for name, w in p.state_dict.items()}
        Counted.flops = 0
        *_, cache = oracle.forward(cell, p.x, p.h0, params, c0=p.c0)
        grads = oracle.backward(cache, dy=p.dy)
        assert Counted.flops == bc.gemm_flops(cell, shape), cell
        expected = bc.make_oracle(cell, shape, "float64", np.random.default_rng(0))()   # counting changed nothing
        np.testing.assert_allclose(grads["weight_hh"], expected["weight_hh"], rtol=1e-12, err_msg=cell)


@pytest.mark.parametrize("kernel", bc.KERNELS)
def test_kernel_and_its_numpy_twin_agree(kernel):
    results = []
    for impl in ("cython", "numpy"):
        run = _make_or_skip(bc.make_kernel, kernel, impl, "float64", np.random.default_rng(0))
        out = run()
        results.append(run.outputs if run.outputs is not None else out)
    assert len(results[0]) == len(results[1]) > 0
    for c, t in zip(*results):
        np.testing.assert_allclose(c, t, rtol=1e-10, atol=1e-12)


@pytest.mark.usefixtures("torch")
def test_charlm_step_matches_torch():
    engine = _make_or_skip(bc.make_charlm, "engine", "float64", np.random.default_rng(5))
    torch_step = bc.make_charlm("torch", "float64", np.random.default_rng(5))
    for _ in range(2):                                   # the second loss is after one Adam step on each side
        assert engine() == pytest.approx(torch_step(), rel=1e-9)


def test_measure_warms_each_sample_and_rotates():
    """After the warm-up, every timed call follows an untimed call of the same candidate, and the order rotates."""
    calls = []
    runs = {name: (lambda name=name: calls.append(name)) for name in "abc"}
    times = bench.measure(runs, repeats=3, warmup=1)
    assert calls == list("abc") + list("aabbcc") + list("bbccaa") + list("ccaabb")
    assert {k: len(v) for k, v in times.items()} == {"a": 3, "b": 3, "c": 3}


class FakeMachine:
    """A clock that only the candidates' calls advance: a candidate's first call costs 1000 (one-off set-up, as
    torch's first LSTM call), a call right after another candidate's 10 (cold caches), any other call 1."""

    def __init__(self):
        self.now, self.last, self.seen, self.calls = 0.0, None, set(), 0

    def perf_counter(self):
        return self.now

    def candidate(self, name):
        def run():
            self.now += 1000 if name not in self.seen else 1 if self.last == name else 10
            self.seen.add(name)
            self.last, self.calls = name, self.calls + 1
        return run


def test_measure_times_warm_calls_only(monkeypatch):
    """The bug behind the old torch figure: loops per sample were counted from the warm-up, whose first call is
    slow, so a candidate with a slow first call was timed one cold call at a time. Every sample is warm now."""
    machine = FakeMachine()
    monkeypatch.setattr(bench, "time", machine)
    runs = {name: machine.candidate(name) for name in ("engine", "torch")}
    times = bench.measure(runs, repeats=4, warmup=2, min_sample=20)
    assert times == {"engine": [1.0] * 4, "torch": [1.0] * 4}
    assert machine.calls == 2 * (2 + 2 + 4 * (1 + 20))   # warm-up, the count's two calls, 4 rounds of 1 + 20


def test_peak_memory_sees_numpy_buffers():
    assert bc.peak_memory(lambda: np.ones(1 << 20)) >= 8 << 20


def _row(candidate, median, peak=None, threads=1):
    return {"kind": "layer", "cell": "lstm", "shape": "S", "dtype": "float32", "threads": threads,
            "candidate": candidate, "T": 100, "flops": bc.gemm_flops("lstm", "S"), "median": median,
            "min": median * 0.9, "iqr": median / 10, "peak_bytes": peak}


def test_layer_table_columns_and_ratios():
    text = bench.format_layers([_row("engine", 0.001, 2 ** 20), _row("oracle", 0.004, 2 ** 21), _row("torch", 0.002),
                                _row("engine", 0.003, threads=2), _row("torch", 0.001, threads=2)])
    header, rule, *lines = text.splitlines()
    assert header.split() == ["cell", "shape", "dtype", "thr", "candidate", "µs/step", "min", "±%", "GFLOP/s",
                              "t/oracle", "t/torch", "peak", "MiB"]
    assert set(rule) <= {"-", " "}
    assert lines[0].split() == ["lstm", "S", "float32", "1", "engine", "10.0", "9.0", "10",
                                f"{bc.gemm_flops('lstm', 'S') / 1e-3 / 1e9:.2f}", "0.25", "0.50", "1.00"]
    assert lines[2].split()[-3:] == ["0.50", "1.00", "-"]
    assert lines[3].split()[3:5] == ["2", "engine"] and lines[3].split()[-3:] == ["-", "3.00", "-"]  # 2 threads' torch
    assert "-" in bench.format_layers([_row("engine", 0.001)], header=False).split()   # no oracle row: no ratio


def _pytest_benchmark_json(path, rows):
    benchmarks = [{"name": "x", "stats": {k: r.pop(k) for k in ("median", "iqr", "min") if k in r}, "extra_info": r}
                  for r in rows]
    benchmarks.append({"name": "unrelated", "stats": {"median": 1.0, "iqr": 0.0}, "extra_info": {}})
    path.write_text(json.dumps({"machine_info": {"system": "Linux", "cpu": {"brand_raw": "Some CPU"}},
                                "benchmarks": benchmarks}))


def test_report_from_pytest_benchmark_json(tmp_path, capsys):
    path = tmp_path / "bench.json"
    kernel = {"kind": "kernel", "kernel": "lstm_step_forward", "dtype": "float32"}
    _pytest_benchmark_json(path, [_row("oracle", 0.004), _row("engine", 0.001),
                                  {**kernel, "impl": "numpy", "median": 4e-5, "iqr": 0.0},
                                  {**kernel, "impl": "cython", "median": 1e-5, "iqr": 0.0}])
    args = build_parser().parse_args(["bench", "--json", str(path)])
    assert bench.run(args) == 0
    out = capsys.readouterr().out
    lines = out.splitlines()
    engine = next(line for line in lines if " engine " in line)
    assert engine.split()[:7] == ["lstm", "S", "float32", "1", "engine", "10.0", "9.0"] and "0.25" in engine.split()
    assert lines.index(engine) < lines.index(next(line for line in lines if " oracle " in line))
    assert "4.00x" in out and "Some CPU" in out


def test_cli_quick_prints_the_table(run_cli):
    result = run_cli("bench", "--quick", "--shapes", "S", "--cells", "lstm", "--dtypes", "float32", "--repeats", "2",
                     "--threads", "1")
    assert result.returncode == 0, result.stderr
    out = result.stdout
    assert "BLAS" in out and "machine:" in out and "t/oracle" in out and "peak MiB" in out
    assert "load average at the start" in out and "load average at the end" in out and "environment:" in out
    rows = [line.split() for line in out.splitlines() if line.startswith("lstm ")]
    candidates = [r[4] for r in rows]
    assert {"engine", "engine-numpy", "unfused", "oracle"} <= set(candidates) <= set(bc.CANDIDATES)
    assert all(r[1:4] == ["S", "float32", "1"] for r in rows)
    assert next(r for r in rows if r[4] == "oracle")[9] == "1.00"
    assert "lstm_step_backward" in out and "char-LM" in out


def test_cli_reports_each_thread_count(run_cli):
    result = run_cli("bench", "--shapes", "S", "--cells", "gru", "--dtypes", "float64", "--repeats", "1",
                     "--candidates", "engine,oracle", "--sections", "layers", "--threads", "1,2")
    assert result.returncode == 0, result.stderr
    rows = [line.split() for line in result.stdout.splitlines() if line.startswith("gru ")]
    assert sorted((r[3], r[4]) for r in rows) == [("1", "engine"), ("1", "oracle"), ("2", "engine"), ("2", "oracle")]
    assert all(r[9] == "1.00" for r in rows if r[4] == "oracle")          # each against its own thread count


def test_thread_counts_parse():
    assert bench.thread_counts("1,2") == [1, 2] and bench.thread_counts("2,2,1") == [2, 1]
    assert build_parser().parse_args(["bench"]).threads == [1, 2]


@pytest.mark.parametrize("args,needle", [(("--shapes", "Q"), "--shapes"), (("--repeats", "0"), "--repeats"),
                                         (("--cells", "lstm,elman"), "elman"), (("--threads", "x"), "--threads"),
                                         (("--threads", "1,0"), "--threads"),
                                         (("--json", "/nonexistent/bench.json"), "cannot read")])
def test_cli_bad_arguments_are_one_line_exit_2(args, needle, run_main, assert_refused):
    assert_refused(run_main(["bench", *args]), needle)         # in-process: the parser exits, a UsageError returns 2


@pytest.mark.parametrize("product", list(bc.PRODUCTS))
def test_product_candidates_compute_the_product(product):
    for impl in bc.PRODUCT_IMPLS:
        run = _make_or_skip(bc.make_product, product, impl, "float64", np.random.default_rng(0))
        run()
        np.testing.assert_allclose(run.outputs, run.expected, rtol=1e-12, atol=1e-10, err_msg=impl)


def test_products_table_rates():
    rows = [{"kind": "product", "product": "M h@W_hhT", "dtype": "float32", "threads": 1, "impl": impl,
             "flops": 2e9, "median": median, "min": median, "iqr": 0.0} for impl, median in (("skinny", 0.01),
                                                                                              ("blas", 0.04))]
    line = bench.format_products(rows).splitlines()[2].split()
    assert line == ["M", "h@W_hhT", "float32", "1", "200.0", "0", "50.0", "0", "4.00x"]


def test_cli_cpu_clock(run_cli):
    result = run_cli("bench", "--shapes", "S", "--cells", "lstm", "--dtypes", "float32", "--repeats", "1",
                     "--candidates", "engine,oracle", "--sections", "layers", "--threads", "1", "--clock", "cpu")
    assert result.returncode == 0, result.stderr
    assert "cpu clock" in result.stdout
    rows = [line.split() for line in result.stdout.splitlines() if line.startswith("lstm ")]
    assert [r[4] for r in rows] == ["engine", "oracle"] and float(rows[0][5]) > 0
