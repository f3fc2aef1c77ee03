"""`python -m tinygrad_rnn bench`: times every candidate side by side in one process and prints ratio tables.

The steady state of a training loop, measured the same way for every candidate (`measure`): a few warm-up calls
each; then rounds, in each of which every candidate gets one untimed call right before its timed sample, the order
of the candidates rotating by one each round. Threads are pinned (threadpoolctl for the BLAS and OpenMP pools,
torch.set_num_threads) to each count of --threads in turn (1 and 2 by default), and the ratios compare candidates
at the same count. Every figure is a median with its spread (the fastest sample, and the interquartile range ÷
the median); the machine, its load average before and after, the BLAS libraries and the thread-related environment
are printed with them. Three sections:
  layers   forward + backward of one recurrent layer through the sequence (loss on every h_t; gradients of x, h0,
           c0 and every weight), per candidate (bench_candidates.py): µs per time step, GFLOP/s of the GEMM work,
           time ÷ the hand NumPy BPTT's and ÷ torch.nn.LSTM/GRU's, peak memory (tracemalloc; not for torch, whose
           allocator it misses);
  kernels  each fused Cython kernel against the NumPy op chain it replaces (its twin), at one time step of shape S,
           at the first thread count;
  products the recurrent products of a step (h @ W_hhᵀ, dz @ W_hh) at S, M and L: the sequence kernels' packed
           micro-kernel against NumPy's BLAS, in GFLOP/s;
  charlm   one training step of the main job's model (embedding, 2-layer LSTM 128, cross-entropy, Adam; batch 16,
           sequence 50), engine against the same model in PyTorch.
`--json FILE` prints the same tables from pytest-benchmark's `--benchmark-json` output of `pytest benchmarks`.
"""
import argparse
import json
import os
import time

import numpy as np

from . import bench_candidates as bc

HELP = "time the engine against the hand NumPy BPTT and PyTorch (forward+backward) and print a ratio table"
SECTIONS = ("layers", "kernels", "products", "charlm")
MIB = 2.0 ** 20
DEFAULT_THREADS = (1, 2)
CLOCKS = {"wall": time.perf_counter, "cpu": time.process_time}


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


def thread_counts(text):
    """argparse type: comma-separated positive thread counts, duplicates dropped ("1,2" -> [1, 2])."""
    counts = []
    for part in text.split(","):
        try:
            n = int(part)
        except ValueError:
            n = 0
        if n <= 0:
            raise argparse.ArgumentTypeError(f"expected comma-separated positive integers, got {text!r}")
        if n not in counts:
            counts.append(n)
    return counts


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
    parser.add_argument("--threads", type=thread_counts, default=list(DEFAULT_THREADS),
                        help="comma-separated thread counts for BLAS, OpenMP and torch, each timed in turn "
                             "(default 1,2)")
    parser.add_argument("--clock", choices=CLOCKS, default="wall",
                        help="wall: elapsed time (default); cpu: this process's CPU time, which leaves out the time "
                             "other processes on a shared machine take the cores away (honest at 1 thread; at 2 it "
                             "adds the threads' times up)")
    parser.add_argument("--json", metavar="FILE", help="print the tables from a pytest-benchmark --benchmark-json "
                                                       "file of `pytest benchmarks` instead of timing (default: "
                                                       "time them here)")


# ---- timing -----------------------------------------------------------------------------------------------------

def measure(runs, repeats, warmup=2, min_sample=0.0, clock=None):
    """{name: run} -> {name: [seconds per call]}, side by side in the steady state.

    `warmup` calls each; then `repeats` rounds, the order rotated by one each round, in which every candidate gets
    one untimed call right before its timed sample: a sample never pays for the caches, branch predictors and
    thread pools the candidate before it left cold (a cold torch LSTM call at S took twice a warm one). A sample
    repeats the call to last about min_sample seconds (microsecond kernels), the count taken from one more warm
    call per candidate, never from the warm-up: first calls include one-off set-up (torch's first LSTM call takes
    about a second), and counting from them once made every torch sample a single cold call while the engine's
    were a dozen warm ones. clock: a function returning seconds (time.perf_counter)."""
    clock = clock or time.perf_counter
    names = list(runs)
    for name in names:
        for _ in range(warmup):
            runs[name]()
    loops = dict.fromkeys(names, 1)
    if min_sample > 0:
        for name in names:
            run = runs[name]
            run()
            start = clock()
            run()
            loops[name] = max(1, int(np.ceil(min_sample / max(clock() - start, 1e-9))))
    times = {name: [] for name in names}
    for r in range(repeats):
        for name in names[r % len(names):] + names[:r % len(names)]:
            run, n = runs[name], loops[name]
            run()                                        # untimed: the sample starts warm
            start = clock()
            for _ in range(n):
                run()
            times[name].append((clock() - start) / n)
    return times


def _stats(samples):
    q1, median, q3 = np.percentile(samples, [25, 50, 75])
    return {"min": float(np.min(samples)), "median": float(median), "iqr": float(q3 - q1)}


def _make_all(make, names, notes):
    """{name: run} of the candidates that can run here; the others' reasons are added to notes."""
    runs = {}
    for name in names:
        try:
            runs[name] = make(name)
        except bc.Unavailable as err:
            notes.add(f"{name}: {err}")
    return runs


def time_layers(cell, shape, dtype, candidates, repeats, threads, notes, clock=None):
    runs = _make_all(lambda c: bc.make(c, cell, shape, dtype, np.random.default_rng(bc.SEED)), candidates, notes)
    times = measure(runs, repeats, warmup=2, clock=clock)
    return [{"kind": "layer", "cell": cell, "shape": shape, "dtype": dtype, "threads": threads, "candidate": name,
             "T": bc.dims(shape)[3], "flops": bc.gemm_flops(cell, shape), **_stats(times[name]),
             "peak_bytes": None if name in bc.TORCH_CANDIDATES else bc.peak_memory(runs[name])} for name in runs]


def time_kernels(dtypes, repeats, threads, notes, clock=None):
    rows = []
    for dtype in dtypes:
        for kernel in bc.KERNELS:
            runs = _make_all(lambda impl: bc.make_kernel(kernel, impl, dtype, np.random.default_rng(bc.SEED)),
                             bc.KERNEL_IMPLS, notes)
            times = measure(runs, 3 * repeats, warmup=50, min_sample=0.002, clock=clock)   # 2 ms samples: cheap
            rows += [{"kind": "kernel", "kernel": kernel, "impl": impl, "dtype": dtype, "threads": threads,
                      **_stats(times[impl])} for impl in runs]
    return rows


def time_products(dtypes, repeats, threads, notes, clock=None):
    rows = []
    for dtype in dtypes:
        for product in bc.PRODUCTS:
            runs = _make_all(lambda impl: bc.make_product(product, impl, dtype, np.random.default_rng(bc.SEED)),
                             bc.PRODUCT_IMPLS, notes)
            times = measure(runs, repeats, warmup=3, clock=clock)
            rows += [{"kind": "product", "product": product, "impl": impl, "dtype": dtype, "threads": threads,
                      "flops": bc.product_flops(product) * bc.PRODUCT_REPEAT, **_stats(times[impl])} for impl in runs]
    return rows


def time_charlm(dtypes, repeats, threads, notes, clock=None):
    rows = []
    for dtype in dtypes:
        runs = _make_all(lambda c: bc.make_charlm(c, dtype, np.random.default_rng(bc.SEED)), bc.CHARLM_CANDIDATES,
                         notes)
        times = measure(runs, repeats, warmup=2, clock=clock)
        rows += [{"kind": "charlm", "candidate": name, "dtype": dtype, "threads": threads, **_stats(times[name])}
                 for name in runs]
    return rows


# ---- tables -----------------------------------------------------------------------------------------------------

LAYER_COLUMNS = ("cell", "shape", "dtype", "thr", "candidate", "µs/step", "min", "±%", "GFLOP/s", "t/oracle",
                 "t/torch", "peak MiB")


def _line(cells, widths, left=4):
    """The first `left` cells left-aligned, the rest (numbers) right-aligned."""
    return "  ".join(str(c).ljust(w) if i < left else str(c).rjust(w) for i, (c, w) in enumerate(zip(cells, widths)))


def _ratio(value, reference):
    return "-" if reference is None else f"{value / reference:.2f}"


def _spread(row):
    """The interquartile range in percent of the median."""
    return f"{100 * row['iqr'] / row['median']:.0f}" if row["median"] else "-"


def format_layers(rows, header=True):
    """The layer table: one line per candidate; ratios are to the oracle / torch row of the same cell, shape, dtype
    and thread count."""
    widths = (8, 5, 7, 3, 12, 9, 9, 4, 8, 8, 7, 8)
    lines = [_line(LAYER_COLUMNS, widths, 5), _line(["-" * w for w in widths], widths, 5)] if header else []
    medians = {(r["cell"], r["shape"], r["dtype"], r.get("threads"), r["candidate"]): r["median"] for r in rows}
    for r in rows:
        group = (r["cell"], r["shape"], r["dtype"], r.get("threads"))
        peak = r.get("peak_bytes")
        per_step = 1e6 / r["T"]
        lines.append(_line([r["cell"], r["shape"], r["dtype"], r.get("threads", "?"), r["candidate"],
                            f"{r['median'] * per_step:.1f}", f"{r['min'] * per_step:.1f}", _spread(r),
                            f"{r['flops'] / r['median'] / 1e9:.2f}",
                            _ratio(r["median"], medians.get(group + ("oracle",))),
                            _ratio(r["median"], medians.get(group + ("torch",))),
                            "-" if peak is None else f"{peak / MIB:.2f}"], widths, 5))
    return "\n".join(lines)


def format_kernels(rows):
    """Each kernel at S: Cython µs per call, its NumPy twin's µs, and the speed-up (twin ÷ kernel), medians."""
    widths = (22, 7, 10, 4, 10, 4, 8)
    by = {(r["kernel"], r["dtype"], r["impl"]): r for r in rows}
    lines = [_line(("kernel", "dtype", "cython µs", "±%", "numpy µs", "±%", "speedup"), widths, 2),
             _line(["-" * w for w in widths], widths, 2)]
    for kernel, dtype in dict.fromkeys((r["kernel"], r["dtype"]) for r in rows):
        cy, npy = by.get((kernel, dtype, "cython")), by.get((kernel, dtype, "numpy"))
        lines.append(_line([kernel, dtype, "-" if cy is None else f"{cy['median'] * 1e6:.2f}",
                            "-" if cy is None else _spread(cy),
                            "-" if npy is None else f"{npy['median'] * 1e6:.2f}",
                            "-" if npy is None else _spread(npy),
                            "-" if None in (cy, npy) else f"{npy['median'] / cy['median']:.2f}x"], widths, 2))
    return "\n".join(lines)


def format_products(rows):
    """Each recurrent product: GFLOP/s of the micro-kernel and of BLAS (medians), and the speed-up."""
    widths = (12, 7, 3, 11, 4, 9, 4, 8)
    by = {(r["product"], r["dtype"], r.get("threads"), r["impl"]): r for r in rows}
    lines = [_line(("product", "dtype", "thr", "skinny GF/s", "±%", "BLAS GF/s", "±%", "speedup"), widths, 3),
             _line(["-" * w for w in widths], widths, 3)]
    for product, dtype, threads in dict.fromkeys((r["product"], r["dtype"], r.get("threads")) for r in rows):
        sk, bl = by.get((product, dtype, threads, "skinny")), by.get((product, dtype, threads, "blas"))
        rate = (lambda r: "-" if r is None else f"{r['flops'] / r['median'] / 1e9:.1f}")
        lines.append(_line([product, dtype, threads, rate(sk), "-" if sk is None else _spread(sk), rate(bl),
                            "-" if bl is None else _spread(bl),
                            "-" if None in (sk, bl) else f"{bl['median'] / sk['median']:.2f}x"], widths, 3))
    return "\n".join(lines)


def format_charlm(rows):
    widths = (7, 3, 12, 9, 9, 4, 7)
    by = {(r["dtype"], r.get("threads"), r["candidate"]): r["median"] for r in rows}
    lines = [_line(("dtype", "thr", "candidate", "ms/step", "min", "±%", "t/torch"), widths, 3),
             _line(["-" * w for w in widths], widths, 3)]
    for r in rows:
        lines.append(_line([r["dtype"], r.get("threads", "?"), r["candidate"], f"{r['median'] * 1e3:.2f}",
                            f"{r['min'] * 1e3:.2f}", _spread(r),
                            _ratio(r["median"], by.get((r["dtype"], r.get("threads"), "torch")))], widths, 3))
    return "\n".join(lines)


def format_machine(info, threads):
    threads = ", ".join(map(str, threads)) if isinstance(threads, (list, tuple)) else threads
    lines = [f"machine: {info.get('platform')}; CPU {info.get('cpu')}, {info.get('cores')} cores; threads pinned "
             f"to {threads} in turn", f"python {info.get('python')}, numpy {info.get('numpy')}, torch {info.get('torch')}"]
    lines += [f"BLAS: {b}" for b in info.get("blas", [])]
    if info.get("affinity"):
        lines.append(f"CPU affinity: {info['affinity']}")
    if info.get("environment"):
        lines.append(f"environment: {info['environment']}")
    return "\n".join(lines)


def load_average():
    """'1.20, 0.90, 0.50' (1, 5, 15 minutes), or 'unknown' where the OS does not say."""
    try:
        return ", ".join(f"{v:.2f}" for v in os.getloadavg())
    except (AttributeError, OSError):
        return "unknown"


# ---- pytest-benchmark JSON --------------------------------------------------------------------------------------

def _order(row):
    """The command's own order: layers by shape, cell, dtype, threads, candidate; kernels and char-LM by dtype."""
    def index(values, value):
        return values.index(value) if value in values else len(values)
    return (index(("layer", "kernel", "product", "charlm"), row["kind"]), index(tuple(bc.SHAPES), row.get("shape")),
            index(bc.CELLS, row.get("cell")), index(bc.DTYPES, row.get("dtype")), row.get("threads") or 0,
            index(bc.KERNELS, row.get("kernel")), index(tuple(bc.PRODUCTS), row.get("product")),
            index(bc.CANDIDATES, row.get("candidate")),
            index(bc.KERNEL_IMPLS, row.get("impl")))


def read_json(path):
    """(machine info, threads, rows) from a pytest-benchmark --benchmark-json file written by `pytest benchmarks`."""
    from .cli import UsageError
    from .files import require_regular_file

    require_regular_file(path, f"--json {path}")        # a FIFO would block
    try:
        with open(path, encoding="utf-8") as f:
            data = json.load(f)
        entries = data["benchmarks"]
        ours = data.get("machine_info", {}).get("tinygrad_rnn", {})
        threads = ours.get("threads", "?")
        rows = [{"threads": threads, **b["extra_info"], "median": b["stats"]["median"], "iqr": b["stats"]["iqr"],
                 "min": b["stats"].get("min", b["stats"]["median"])}
                for b in entries if "kind" in b.get("extra_info", {})]
    except OSError as err:
        raise UsageError(f"cannot read {path}: {err.strerror or err}") from None
    except (ValueError, KeyError, TypeError, AttributeError) as err:
        raise UsageError(f"{path} is not pytest-benchmark JSON ({type(err).__name__}: {err})") from None
    except RecursionError:                           # json's decoder recurses once per nesting level
        raise UsageError(f"{path} is not pytest-benchmark JSON (nested too deeply to parse)") from None
    if not rows:
        raise UsageError(f"{path} holds no results of `pytest benchmarks` (write one with --benchmark-json)")
    rows.sort(key=_order)
    info = ours.get("machine") or {"platform": data.get("machine_info", {}).get("system"),
                                   "cpu": data.get("machine_info", {}).get("cpu", {}).get("brand_raw")}
    return info, threads, rows


# ---- the command ------------------------------------------------------------------------------------------------

def _print(*parts):
    print(*parts, flush=True)


def _report(rows, sections, threads):
    """The tables of `rows` for the sections asked for, each after its title."""
    first = threads[0] if isinstance(threads, (list, tuple)) and threads else threads
    kernels = f"kernels at S, one time step, {first} thread(s) (numpy: the op chain a kernel replaces)"
    charlm = (f"char-LM training step (embedding, {bc.CHARLM.layers}-layer LSTM {bc.CHARLM.hidden}, cross-entropy, "
              f"Adam; batch {bc.CHARLM.batch}, sequence {bc.CHARLM.seq})")
    products = ("recurrent products per step, (M, K, N) = (B, H, G·H) forward, (B, G·H, H) backward: the sequence "
                "kernels' micro-kernel (skinny.h; they use it for B ≤ 64 and weights ≤ 8 MiB) against NumPy's BLAS")
    tables = (("layers", "layer", None, format_layers), ("kernels", "kernel", kernels, format_kernels),
              ("products", "product", products, format_products), ("charlm", "charlm", charlm, format_charlm))
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
        _report(rows, args.sections, threads)
        return 0
    shapes = args.shapes or (["S", "M"] if args.quick else list(bc.SHAPES))
    repeats = args.repeats or (5 if args.quick else 15)
    notes = set()
    started = time.perf_counter()
    clock = CLOCKS[args.clock]
    _print(f"tinygrad_rnn bench: forward+backward with every gradient; per candidate the median of {repeats} "
           f"samples, each right after an untimed call, the order rotating every round; {args.clock} clock")
    _print(format_machine(bc.machine_info(), args.threads))
    _print(f"load average at the start: {load_average()}")
    _print("t/oracle, t/torch: time ÷ the hand NumPy BPTT's, ÷ torch.nn.LSTM/GRU's at the same thread count (below 1: "
           "faster); min: the fastest sample; ±%: interquartile range ÷ median; peak: tracemalloc\n")
    rows = []
    if "layers" in args.sections:
        _print(format_layers([], header=True))
    for threads in args.threads:
        with bc.pin_threads(threads) as note:
            if note:
                notes.add(note)
            if "layers" in args.sections:
                for shape in shapes:
                    for cell in cells:
                        for dtype in dtypes:
                            layer_rows = time_layers(cell, shape, dtype, candidates, repeats, threads, notes,
                                                     clock)
                            if layer_rows:
                                _print(format_layers(layer_rows, header=False))
            if "kernels" in args.sections and threads == args.threads[0]:
                rows += time_kernels(dtypes, repeats, threads, notes, clock)
            if "products" in args.sections:
                rows += time_products(dtypes, repeats, threads, notes, clock)
            if "charlm" in args.sections:
                rows += time_charlm(dtypes, repeats, threads, notes, clock)
    _report(rows, args.sections, args.threads)
    for line in sorted(notes):
        _print(f"not run: {line}" if not line.startswith("threadpoolctl") else f"note: {line}")
    _print(f"\nload average at the end: {load_average()} ({time.perf_counter() - started:.0f} s)")
    return 0
