"""`python -m tinygrad_rnn bench`: times every candidate in one process and prints a ratio table.

Candidates run interleaved (each repeat calls every candidate once, starting with a different one each time), after
a warm-up, with BLAS and torch pinned to --threads threads (1 by default; threadpoolctl). Three sections:
  layers   forward + backward of one recurrent layer through the sequence, weight gradients included, per candidate
           (tinygrad_rnn/bench_candidates.py): µs per time step (median), GFLOP/s of the GEMM work, time ÷ the hand
           NumPy BPTT's and ÷ torch.nn.LSTM/GRU's, peak memory (tracemalloc; not for torch, whose allocator it misses);
  kernels  each fused Cython kernel against the NumPy op chain it replaces (its twin), at one time step of shape S;
  charlm   one char-LM training step (embedding, 2-layer LSTM, cross-entropy, Adam), engine against PyTorch.
`--json FILE` prints the same tables from pytest-benchmark's `--benchmark-json` output of `pytest benchmarks`.
"""
import argparse
import json
import time

import numpy as np

from . import bench_candidates as bc

HELP = "time the engine against the hand NumPy BPTT and PyTorch (forward+backward) and print a ratio table"
SECTIONS = ("layers", "kernels", "charlm")
MIB = 2.0 ** 20


def _names(what, allowed):
    """argparse type: a comma-separated subset of `allowed`, in the order given."""
    def parse(text):
        names = [n.strip() for n in text.split(",") if n.strip()]
        bad = [n for n in names if n not in allowed]
        if bad or not names:
            raise argparse.ArgumentTypeError(f"unknown {what} {', '.join(map(repr, bad)) or repr(text)}: expected a "
                                             f"comma-separated list of {', '.join(allowed)}")
        return names
    return parse


def add_arguments(parser):
    from .cli import positive_int

    parser.add_argument("--quick", action="store_true", help="shapes S and M only, 5 repeats (under two minutes)")
    parser.add_argument("--shapes", type=_names("shape", tuple(bc.SHAPES)),
                        help="comma-separated, of S (1,32,32,100), M (16,64,128,50), L (64,256,512,25), "
                             "XL (8,512,1024,20) as (B,I,H,T); default all, with --quick S,M")
    parser.add_argument("--cells", type=_names("cell", bc.CELLS), help="comma-separated, of " + ",".join(bc.CELLS)
                        + " (default all)")
    parser.add_argument("--dtypes", type=_names("dtype", bc.DTYPES), help="comma-separated, of float32,float64 (default both)")
    parser.add_argument("--candidates", type=_names("candidate", bc.CANDIDATES),
                        help="comma-separated, of " + ",".join(bc.CANDIDATES) + " (default all)")
    parser.add_argument("--sections", type=_names("section", SECTIONS), default=list(SECTIONS),
                        help="comma-separated, of " + ",".join(SECTIONS) + " (default all)")
    parser.add_argument("--repeats", type=positive_int, help="timed samples per candidate (default 15, --quick 5)")
    parser.add_argument("--threads", type=positive_int, default=1, help="BLAS and torch threads (default 1)")
    parser.add_argument("--json", metavar="FILE", help="print the tables from a pytest-benchmark --benchmark-json "
                                                       "file of `pytest benchmarks` instead of timing (default: "
                                                       "time them here)")


# ---- timing -----------------------------------------------------------------------------------------------------

def measure(runs, repeats, warmup=2, min_sample=0.0):
    """{name: run} -> {name: [seconds per call]}: `warmup` calls each, then `repeats` interleaved rounds; a sample
    repeats a call until it lasts about min_sample seconds (so microsecond kernels are timed over many calls)."""
    loops = {}
    for name, run in runs.items():
        start = time.perf_counter()
        for _ in range(warmup):
            run()
        per_call = (time.perf_counter() - start) / max(warmup, 1)
        loops[name] = max(1, int(np.ceil(min_sample / max(per_call, 1e-9))))
    names, times = list(runs), {name: [] for name in runs}
    for r in range(repeats):
        for name in names[r % len(names):] + names[:r % len(names)]:
            run, n = runs[name], loops[name]
            start = time.perf_counter()
            for _ in range(n):
                run()
            times[name].append((time.perf_counter() - start) / n)
    return times


def _stats(samples):
    q1, median, q3 = np.percentile(samples, [25, 50, 75])
    return {"median": float(median), "iqr": float(q3 - q1)}


def _make_all(make, names, notes):
    """{name: run} of the candidates that can run here; the others' reasons are added to notes."""
    runs = {}
    for name in names:
        try:
            runs[name] = make(name)
        except bc.Unavailable as err:
            notes.add(f"{name}: {err}")
    return runs


def time_layers(cell, shape, dtype, candidates, repeats, notes):
    runs = _make_all(lambda c: bc.make(c, cell, shape, dtype, np.random.default_rng(bc.SEED)), candidates, notes)
    times = measure(runs, repeats, warmup=2, min_sample=0.02)
    return [{"kind": "layer", "cell": cell, "shape": shape, "dtype": dtype, "candidate": name, "T": bc.dims(shape)[3],
             "flops": bc.gemm_flops(cell, shape), **_stats(times[name]),
             "peak_bytes": None if name in bc.TORCH_CANDIDATES else bc.peak_memory(runs[name])} for name in runs]


def time_kernels(dtypes, repeats, notes):
    rows = []
    for dtype in dtypes:
        for kernel in bc.KERNELS:
            runs = _make_all(lambda impl: bc.make_kernel(kernel, impl, dtype, np.random.default_rng(bc.SEED)),
                             bc.KERNEL_IMPLS, notes)
            times = measure(runs, 3 * repeats, warmup=50, min_sample=0.002)   # 2 ms samples: cheap, take more
            rows += [{"kind": "kernel", "kernel": kernel, "impl": impl, "dtype": dtype, **_stats(times[impl])}
                     for impl in runs]
    return rows


def time_charlm(dtypes, repeats, notes):
    rows = []
    for dtype in dtypes:
        runs = _make_all(lambda c: bc.make_charlm(c, dtype, np.random.default_rng(bc.SEED)), bc.CHARLM_CANDIDATES,
                         notes)
        times = measure(runs, repeats, warmup=2)
        rows += [{"kind": "charlm", "candidate": name, "dtype": dtype, **_stats(times[name])} for name in runs]
    return rows


# ---- tables -----------------------------------------------------------------------------------------------------

LAYER_COLUMNS = ("cell", "shape", "dtype", "candidate", "µs/step", "±%", "GFLOP/s", "t/oracle", "t/torch",
                 "peak MiB")


def _line(cells, widths, left=4):
    """The first `left` cells left-aligned, the rest (numbers) right-aligned."""
    return "  ".join(str(c).ljust(w) if i < left else str(c).rjust(w) for i, (c, w) in enumerate(zip(cells, widths)))


def _ratio(value, reference):
    return "-" if reference is None else f"{value / reference:.2f}"


def format_layers(rows, header=True):
    """The layer table: one line per candidate; ratios are to the oracle / torch row of the same cell, shape, dtype."""
    widths = (8, 5, 7, 12, 9, 4, 8, 8, 7, 8)
    lines = [_line(LAYER_COLUMNS, widths), _line(["-" * w for w in widths], widths)] if header else []
    medians = {(r["cell"], r["shape"], r["dtype"], r["candidate"]): r["median"] for r in rows}
    for r in rows:
        group = (r["cell"], r["shape"], r["dtype"])
        peak = r.get("peak_bytes")
        lines.append(_line([r["cell"], r["shape"], r["dtype"], r["candidate"], f"{r['median'] / r['T'] * 1e6:.1f}",
                            f"{100 * r['iqr'] / r['median']:.0f}", f"{r['flops'] / r['median'] / 1e9:.2f}",
                            _ratio(r["median"], medians.get(group + ("oracle",))),
                            _ratio(r["median"], medians.get(group + ("torch",))),
                            "-" if peak is None else f"{peak / MIB:.2f}"], widths))
    return "\n".join(lines)


def format_kernels(rows):
    """Each kernel at S: Cython µs per call, its NumPy twin's µs, and the speed-up (twin ÷ kernel)."""
    widths = (22, 7, 10, 10, 8)
    by = {(r["kernel"], r["dtype"], r["impl"]): r["median"] for r in rows}
    lines = [_line(("kernel", "dtype", "cython µs", "numpy µs", "speedup"), widths, 2),
             _line(["-" * w for w in widths], widths, 2)]
    for kernel, dtype in dict.fromkeys((r["kernel"], r["dtype"]) for r in rows):
        cy, npy = by.get((kernel, dtype, "cython")), by.get((kernel, dtype, "numpy"))
        lines.append(_line([kernel, dtype, "-" if cy is None else f"{cy * 1e6:.2f}",
                            "-" if npy is None else f"{npy * 1e6:.2f}",
                            "-" if None in (cy, npy) else f"{npy / cy:.2f}x"], widths, 2))
    return "\n".join(lines)


def format_charlm(rows):
    widths = (7, 12, 9, 7)
    by = {(r["dtype"], r["candidate"]): r["median"] for r in rows}
    lines = [_line(("dtype", "candidate", "ms/step", "t/torch"), widths, 2),
             _line(["-" * w for w in widths], widths, 2)]
    for r in rows:
        lines.append(_line([r["dtype"], r["candidate"], f"{r['median'] * 1e3:.2f}",
                            _ratio(r["median"], by.get((r["dtype"], "torch")))], widths, 2))
    return "\n".join(lines)


def format_machine(info, threads):
    lines = [f"machine: {info.get('platform')}; CPU {info.get('cpu')}, {info.get('cores')} cores; threads pinned "
             f"to {threads}", f"python {info.get('python')}, numpy {info.get('numpy')}, torch {info.get('torch')}"]
    return "\n".join(lines + [f"BLAS: {b}" for b in info.get("blas", [])])


# ---- pytest-benchmark JSON --------------------------------------------------------------------------------------

def _order(row):
    """The command's own order: layers by shape, cell, dtype, candidate; kernels and char-LM by dtype."""
    def index(values, value):
        return values.index(value) if value in values else len(values)
    return (index(("layer", "kernel", "charlm"), row["kind"]), index(tuple(bc.SHAPES), row.get("shape")),
            index(bc.CELLS, row.get("cell")), index(bc.DTYPES, row.get("dtype")), index(bc.KERNELS, row.get("kernel")),
            index(bc.CANDIDATES, row.get("candidate")), index(bc.KERNEL_IMPLS, row.get("impl")))


def read_json(path):
    """(machine info, threads, rows) from a pytest-benchmark --benchmark-json file written by `pytest benchmarks`."""
    from .cli import UsageError
    from .files import require_regular_file

    require_regular_file(path, f"--json {path}")        # a FIFO would block
    try:
        with open(path, encoding="utf-8") as f:
            data = json.load(f)
        entries = data["benchmarks"]
        rows = [{**b["extra_info"], "median": b["stats"]["median"], "iqr": b["stats"]["iqr"]}
                for b in entries if "kind" in b.get("extra_info", {})]
    except OSError as err:
        raise UsageError(f"cannot read {path}: {err.strerror or err}") from None
    except (ValueError, KeyError, TypeError) as err:
        raise UsageError(f"{path} is not pytest-benchmark JSON ({type(err).__name__}: {err})") from None
    except RecursionError:                           # json's decoder recurses once per nesting level
        raise UsageError(f"{path} is not pytest-benchmark JSON (nested too deeply to parse)") from None
    if not rows:
        raise UsageError(f"{path} holds no results of `pytest benchmarks` (write one with --benchmark-json)")
    rows.sort(key=_order)
    ours = data.get("machine_info", {}).get("tinygrad_rnn", {})
    info = ours.get("machine") or {"platform": data.get("machine_info", {}).get("system"),
                                   "cpu": data.get("machine_info", {}).get("cpu", {}).get("brand_raw")}
    return info, ours.get("threads", "?"), rows


# ---- the command ------------------------------------------------------------------------------------------------

def _print(*parts):
    print(*parts, flush=True)


def _report(rows, sections):
    """The tables of `rows` for the sections asked for, each after its title."""
    kernels = "kernels at S, one time step (numpy: the op chain a kernel replaces)"
    charlm = f"char-LM training step (batch {bc.CHARLM.batch}, sequence {bc.CHARLM.seq})"
    tables = (("layers", "layer", None, format_layers), ("kernels", "kernel", kernels, format_kernels),
              ("charlm", "charlm", charlm, format_charlm))
    for section, kind, title, fmt in tables:
        picked = [r for r in rows if r["kind"] == kind]
        if section in sections and picked:
            if title:
                _print(f"\n{title}:")
            _print(fmt(picked))


def run(args):
    cells, dtypes = args.cells or list(bc.CELLS), args.dtypes or list(bc.DTYPES)
    candidates = args.candidates or list(bc.CANDIDATES)
    if args.json:
        info, threads, rows = read_json(args.json)
        shapes = args.shapes or list(bc.SHAPES)
        rows = [r for r in rows if r["dtype"] in dtypes and (r["kind"] != "layer" or (
            r["cell"] in cells and r["shape"] in shapes and r["candidate"] in candidates))]
        _print(f"from {args.json} (pytest-benchmark medians)")
        _print(format_machine(info, threads))
        _report(rows, args.sections)
        return 0
    shapes = args.shapes or (["S", "M"] if args.quick else list(bc.SHAPES))
    repeats = args.repeats or (5 if args.quick else 15)
    notes = set()
    started = time.perf_counter()
    with bc.pin_threads(args.threads) as note:
        if note:
            _print(f"note: {note}")
        _print(f"tinygrad_rnn bench: forward+backward with weight gradients, median of {repeats} interleaved repeats")
        _print(format_machine(bc.machine_info(), args.threads))
        _print("t/oracle, t/torch: time ÷ the hand NumPy BPTT's, ÷ torch.nn.LSTM/GRU's (below 1: faster); "
               "±%: interquartile range ÷ median; peak: tracemalloc\n")
        if "layers" in args.sections:
            _print(format_layers([], header=True))
            for shape in shapes:
                for cell in cells:
                    for dtype in dtypes:
                        rows = time_layers(cell, shape, dtype, candidates, repeats, notes)
                        if rows:
                            _print(format_layers(rows, header=False))
        rows = []
        if "kernels" in args.sections:
            rows += time_kernels(dtypes, repeats, notes)
        if "charlm" in args.sections:
            rows += time_charlm(dtypes, repeats, notes)
        _report(rows, args.sections)
    for line in sorted(notes):
        _print(f"not run: {line}")
    _print(f"\n({time.perf_counter() - started:.0f} s)")
    return 0
