"""What the two checkpointing benchmarks share (test_bench_memory.py: utils.checkpoint by hand; and
test_bench_layer_checkpoint.py: the layers' checkpoint_every): the timing rounds, the Markdown table, the figure."""
import argparse
import statistics
import time

from tinygrad_rnn.apps import bench_candidates as bc


def measure_rows(runs, threads, rounds):
    """[{k, peak_bytes, seconds: {threads: median}}] for each candidate k of `runs` (k → run(), None first: the
    plain path). Peak memory from one untimed call each; time the median over rounds, each candidate getting one
    untimed call right before each timed sample, the order rotating every round, threads pinned."""
    candidates = list(runs)
    rows = {k: {"k": k, "peak_bytes": bc.peak_memory(runs[k]), "seconds": {}} for k in candidates}
    for n in threads:
        samples = {k: [] for k in candidates}
        with bc.pin_threads(n):
            for r in range(rounds):
                order = candidates[r % len(candidates):] + candidates[:r % len(candidates)]
                for k in order:
                    runs[k]()                                 # untimed, right before its timed sample
                    start = time.perf_counter()
                    runs[k]()
                    samples[k].append(time.perf_counter() - start)
        for k in candidates:
            rows[k]["seconds"][n] = statistics.median(samples[k])
    return [rows[k] for k in candidates]


def table(rows, title, k_header, plain_label):
    """The rows as a Markdown table under `title`: peak MiB and time per thread count, each also ÷ the plain's."""
    plain = rows[0]
    threads = sorted(plain["seconds"])       # none: a memory-only run
    head = "| " + " | ".join([k_header, "peak memory (MiB)", "÷ plain"] + [
        f"time, {n} thread{'s' if n > 1 else ''} (s) | ÷ plain" for n in threads]) + " |"
    lines = [title, "", head, "|" + "---|" * (3 + 2 * len(threads))]
    for row in rows:
        k = plain_label if row["k"] is None else str(row["k"])
        cells = [k, f"{row['peak_bytes'] / 2**20:,.1f}", f"{row['peak_bytes'] / plain['peak_bytes']:.3f}"]
        for n in threads:
            cells += [f"{row['seconds'][n]:.2f}", f"{row['seconds'][n] / plain['seconds'][n]:.2f}"]
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)


def figure(rows, path, title, series, plain_label, xlabel):
    """Peak memory, and time ÷ the plain path's, against k, into a PNG (matplotlib's Agg canvas)."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    plain, seg = rows[0], rows[1:]
    ks = [r["k"] for r in seg]
    fig = Figure(figsize=(10, 3.8), layout="constrained")
    FigureCanvasAgg(fig)
    left, right = fig.subplots(1, 2)
    left.loglog(ks, [r["peak_bytes"] / 2**20 for r in seg], "o-", label=series)
    left.axhline(plain["peak_bytes"] / 2**20, color="tab:red", ls="--", label=plain_label)
    left.set(xlabel=xlabel, ylabel="peak memory (MiB)", title=title)
    for n, style in zip(sorted(plain["seconds"]), ("o-", "s--")):
        right.semilogx(ks, [r["seconds"][n] / plain["seconds"][n] for r in seg], style,
                       label=f"{n} BLAS thread{'s' if n > 1 else ''}")
    right.axhline(1.0, color="tab:red", ls="--", label=plain_label)
    right.set(xlabel=xlabel, ylabel=f"time ÷ {plain_label}'s", title="forward + backward time")
    for ax in (left, right):
        ax.grid(True, which="major", alpha=0.3)
        ax.legend(fontsize=8)
    fig.savefig(path, dpi=110)


def parser(description):
    """The command line both share: the issue's shape by default (B=16, H=256, T=10,000) and a sweep of k."""
    p = argparse.ArgumentParser(description=description)
    p.add_argument("--steps", type=int, default=10_000)
    p.add_argument("--batch", type=int, default=16)
    p.add_argument("--hidden", type=int, default=256)
    p.add_argument("--ks", type=int, nargs="+", default=[10, 30, 100, 300, 1000])
    p.add_argument("--rounds", type=int, default=3)
    p.add_argument("--figure", help="also draw peak memory and time against k into this PNG")
    p.add_argument("--memory-only", action="store_true", help="peak memory only, no timing (one call each)")
    return p
