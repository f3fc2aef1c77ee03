"""Memory-efficient BPTT in the layer: nn.LSTM(checkpoint_every=k) against the plain tape, peak memory and time of
forward + backward through one long sequence, side by side in one process.

Each candidate is one full training step on the same weights and data: the layer over T steps, a loss, backward,
weight gradients included. Two losses: `output`, a squared error on the whole output (a language model's shape), and
`final`, a squared error on h_n only (a sequence classifier's, the adding problem's). Plain, the tape keeps every
step's gates and states (and the (T, B, 4H) input projection); with checkpoint_every=k it keeps the T/k carried
states and the output, and backward rebuilds one k-step segment at a time. Peak memory is tracemalloc's over one
call (NumPy buffers and Python objects, the workspace emptied first: apps.bench_candidates.peak_memory); time is the
median over rounds, each candidate getting one untimed call right before each timed sample, the order rotating every
round, BLAS threads pinned to 1 and then 2. The output, (T, B, H), is in every candidate's peak (the layer returns
it); with the `output` loss so are the loss's own (T, B, H) intermediates and gradients, whatever the layer's tape
keeps.

    python benchmarks/test_bench_layer_checkpoint.py                       # issue 17: B=16, H=256, T=10,000
    python benchmarks/test_bench_layer_checkpoint.py --steps 1000 --hidden 128 --figure docs/img/layer_checkpoint.png

Under pytest with --benchmark-disable (CI's smoke run) a small shape runs once; under `pytest benchmarks` a medium
one. Both check the gradients against the plain path's; no timing is asserted.
"""
import os

import numpy as np
import pytest

import checkpoint_report as report
import tinygrad_rnn as tg
from tinygrad_rnn import nn

INPUT = 64


def make_run(k, steps, batch, hidden, dtype=np.float32, seed=0, loss="output"):
    """run() -> {name: gradient}: one forward + backward of nn.LSTM(checkpoint_every=k) (k=None: the plain tape),
    the loss on the whole output or on h_n."""
    tg.manual_seed(seed)
    lstm = nn.LSTM(INPUT, hidden, dtype=dtype, checkpoint_every=k)
    data = np.random.default_rng(seed)
    x = tg.Tensor(data.standard_normal((steps, batch, INPUT)), dtype=dtype)
    y = tg.Tensor(data.standard_normal((steps, batch, hidden)), dtype=dtype)

    def run():
        lstm.zero_grad()
        out, (h, _) = lstm(x)
        (((out - y) ** 2).sum() if loss == "output" else ((h - y[-1]) ** 2).sum()).backward()
        return {name: p.grad for name, p in lstm.named_parameters()}

    return run


def measure(steps, batch, hidden, ks, rounds=3, threads=(1, 2), dtype=np.float32, loss="output"):
    """[{k, peak_bytes, seconds: {threads: median}}] for the plain tape (k = None) and each k (threads=(): memory
    only)."""
    candidates = [None] + list(ks)
    runs = {k: make_run(k, steps, batch, hidden, dtype, loss=loss) for k in candidates}
    return report.measure_rows(runs, threads, rounds)


def table(rows, steps, batch, hidden, loss="output"):
    title = (f"nn.LSTM({INPUT}, {hidden}), B={batch}, T={steps:,}, float32: forward + backward, loss on "
             f"{'the whole output' if loss == 'output' else 'h_n'}; load average {os.getloadavg()[0]:.1f}")
    return report.table(rows, title, "checkpoint_every", "None (plain)")


def figure(rows, steps, batch, hidden, path):
    report.figure(rows, path, f"LSTM B={batch} H={hidden} T={steps:,}: peak memory", "nn.LSTM(checkpoint_every=k)",
                  "plain tape", "checkpoint_every k (steps)")


def check_gradients(steps, batch, hidden, ks, loss):
    """The checkpointed layer's gradients are the plain tape's (float64, to 1e-12 relative)."""
    want = make_run(None, steps, batch, hidden, np.float64, loss=loss)()
    for k in ks:
        got = make_run(k, steps, batch, hidden, np.float64, loss=loss)()
        for name in want:
            np.testing.assert_allclose(got[name], want[name], rtol=1e-12, atol=1e-12, err_msg=f"k={k} {name}")


@pytest.mark.parametrize("loss", ["output", "final"])
def test_layer_checkpoint_memory_and_time_against_k(request, loss):
    smoke = request.config.getoption("benchmark_disable", False)
    steps, batch, hidden, ks, rounds = (120, 2, 8, (10, 40), 1) if smoke else (2000, 16, 128, (10, 45, 200), 3)
    check_gradients(min(steps, 120), 2, 8, ks, loss)
    rows = measure(steps, batch, hidden, ks, rounds=rounds, loss=loss)
    print("\n" + table(rows, steps, batch, hidden, loss))
    for row in rows[1:]:                                     # memory is no timing: fewer bytes, always
        assert row["peak_bytes"] < rows[0]["peak_bytes"], row


def main(argv=None):
    parser = report.parser(__doc__.splitlines()[0])
    parser.add_argument("--loss", choices=("output", "final"), default="output",
                        help="the loss: on the whole output (default) or on h_n only")
    args = parser.parse_args(argv)
    rows = measure(args.steps, args.batch, args.hidden, args.ks, rounds=args.rounds,
                   threads=() if args.memory_only else (1, 2), loss=args.loss)
    print(table(rows, args.steps, args.batch, args.hidden, args.loss))
    if args.figure and not args.memory_only:
        figure(rows, args.steps, args.batch, args.hidden, args.figure)
        print(f"wrote {args.figure}")


if __name__ == "__main__":
    main()
