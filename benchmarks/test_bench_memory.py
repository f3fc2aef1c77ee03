"""Memory-efficient BPTT: peak memory and time of forward + backward through a long LSTM sequence against the
segment length k, with `tinygrad_rnn.utils.checkpoint` over segments of k steps, and the plain path (k = T).

Each candidate is one full training step: the layer over T steps with its squared-error loss, backward, weight
gradients included, on the same weights and data. In segments, each segment (its k steps and its share of the loss)
is one checkpoint: the forward keeps the T/k carried states (h, c) only, and backward recomputes one segment at a
time. Peak memory is tracemalloc's (NumPy buffers and Python objects; the workspace emptied first) in one untimed
call per candidate; time is the median over rounds, each candidate getting one untimed call right before each
timed sample, the order rotating every round, BLAS threads pinned to 1 and then 2.

    python benchmarks/test_bench_memory.py                      # issue 17's shape: B=16, H=256, T=10,000
    python benchmarks/test_bench_memory.py --steps 2000 --figure docs/img/checkpoint_memory.png

Under pytest with --benchmark-disable (CI's smoke run) a small shape runs once; under `pytest benchmarks` a medium
one. Both check the gradients against the plain path's; no timing is asserted.
"""

import numpy as np

import checkpoint_report as report
import tinygrad_rnn as tg
from tinygrad_rnn import nn
from tinygrad_rnn.utils import checkpoint

INPUT = 64


def make_run(k, steps, batch, hidden, dtype=np.float32, seed=0):
    """run() -> {name: gradient}: one forward + backward, in segments of k steps (k=None: the plain path)."""
    tg.manual_seed(seed)
    lstm = nn.LSTM(INPUT, hidden, dtype=dtype)
    data = np.random.default_rng(seed)
    x = tg.Tensor(data.standard_normal((steps, batch, INPUT)), dtype=dtype)
    y = tg.Tensor(data.standard_normal((steps, batch, hidden)), dtype=dtype)
    zeros = tg.zeros(1, batch, hidden, dtype=dtype)

    def segment(xs, h, c, ys):
        out, (h, c) = lstm(xs, (h, c))
        return ((out - ys) ** 2).sum(), h, c

    def run():
        lstm.zero_grad()
        if k is None:
            loss, _, _ = segment(x, zeros, zeros, y)
        else:
            loss, h, c = 0.0, zeros, zeros
            for s in range(0, steps, k):
                part, h, c = checkpoint(segment, x[s:s + k], h, c, y[s:s + k])
                loss = loss + part
        loss.backward()
        return {name: p.grad for name, p in lstm.named_parameters()}

    return run


def measure(steps, batch, hidden, ks, rounds=3, threads=(1, 2), dtype=np.float32):
    """[{k, peak_bytes, seconds: {threads: median}}] for the plain path (k = None) and each k (threads=(): memory
    only)."""
    candidates = [None] + [k for k in ks if k < steps]
    return report.measure_rows({k: make_run(k, steps, batch, hidden, dtype) for k in candidates}, threads, rounds)


def table(rows, steps, batch, hidden):
    return report.table(rows, f"LSTM, B={batch}, H={hidden}, I={INPUT}, T={steps:,}, float32: forward + backward",
                        "k", f"plain (T = {steps:,})")


def figure(rows, steps, batch, hidden, path):
    report.figure(rows, path, f"LSTM B={batch} H={hidden} T={steps:,}: peak memory", "checkpoint every k steps",
                  "plain BPTT", "segment length k (steps)")


def check_gradients(steps, batch, hidden, ks):
    """The segmented paths' gradients are the plain path's (float64, to 1e-10)."""
    want = make_run(None, steps, batch, hidden, np.float64)()
    for k in ks:
        got = make_run(k, steps, batch, hidden, np.float64)()
        for name in want:
            np.testing.assert_allclose(got[name], want[name], rtol=1e-10, atol=1e-10, err_msg=f"k={k} {name}")


def test_checkpoint_memory_and_time_against_k(request):
    smoke = request.config.getoption("benchmark_disable", False)
    steps, batch, hidden, ks, rounds = (120, 2, 8, (10, 40), 1) if smoke else (2000, 16, 128, (10, 45, 200), 3)
    check_gradients(min(steps, 120), 2, 8, ks)
    rows = measure(steps, batch, hidden, ks, rounds=rounds)
    print("\n" + table(rows, steps, batch, hidden))
    for row in rows[1:]:                                     # memory is no timing: fewer bytes, always
        assert row["peak_bytes"] < rows[0]["peak_bytes"], row


def main(argv=None):
    parser = report.parser(__doc__.splitlines()[0])
    args = parser.parse_args(argv)
    rows = measure(args.steps, args.batch, args.hidden, args.ks, rounds=args.rounds,
                   threads=() if args.memory_only else (1, 2))
    print(table(rows, args.steps, args.batch, args.hidden))
    if args.figure and not args.memory_only:
        figure(rows, args.steps, args.batch, args.hidden, args.figure)
        print(f"wrote {args.figure}")


if __name__ == "__main__":
    main()
