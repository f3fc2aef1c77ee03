"""LSTMP (nn.LSTM(proj_size=)) and PackedSequence input, against torch.nn.LSTM: forward + backward per call.

    python benchmarks/proj_and_packing.py [--repeats 15] [--threads 1 2] [--dtypes float32 float64]

Two groups, each timed in one process as ratios between its candidates (the numbers are µs per call, medians):
- proj: an LSTM with proj_size, H=128, P=64 (B=16, I=64, T=50): the engine fused (one Scan node), unfused (tape
  ops), and torch (whose LSTMP does not run on oneDNN: its default implementation).
- packed: a plain LSTM (B=16, I=64, H=128, T=50) over a batch of unsorted lengths in [25, 50]: the engine with
  lengths= on the padded batch, the engine given a PackedSequence (pack, layer, pad back), and torch with
  pack_padded_sequence / pad_packed_sequence.
Every call is the full forward and backward of L = Σ y ⊙ dy (weight and input gradients). Each candidate gets one
untimed call right before each of its timed samples; the order rotates every round; BLAS and torch threads are
pinned (threadpoolctl, torch.set_num_threads) to each count asked for.
"""
import argparse
import time

import numpy as np

from tinygrad_rnn import Tensor, nn
from tinygrad_rnn.apps.bench_candidates import pin_threads
from tinygrad_rnn.nn.utils import rnn as tg_rnn

B, I, H, P, T = 16, 64, 128, 64, 50  # noqa: E741  (batch, inputs, hidden, projection, steps: the papers' letters)


def engine_proj(state, x, dy, dtype, fused):
    layer = nn.LSTM(I, H, proj_size=P, fused=fused, dtype=dtype)
    layer.load_state_dict(state)
    xt, w = Tensor(x, requires_grad=True, dtype=dtype), Tensor(dy, dtype=dtype)

    def run():
        layer.zero_grad()
        out, _ = layer(xt)
        (out * w).sum().backward()
    return run


def torch_proj(torch, state, x, dy, dtype):
    layer = torch.nn.LSTM(I, H, proj_size=P).to(getattr(torch, dtype))
    layer.load_state_dict({k: torch.from_numpy(v) for k, v in state.items()})
    xt, w = torch.tensor(x, requires_grad=True), torch.tensor(dy)

    def run():
        layer.zero_grad()
        out, _ = layer(xt)
        (out * w).sum().backward()
    return run


def engine_packed(state, x, dy, lengths, dtype, packed):
    layer = nn.LSTM(I, H, dtype=dtype)
    layer.load_state_dict(state)
    xt, w = Tensor(x, requires_grad=True, dtype=dtype), Tensor(dy, dtype=dtype)

    def run():
        layer.zero_grad()
        if packed:
            out, _ = layer(tg_rnn.pack_padded_sequence(xt, lengths, enforce_sorted=False))
            out, _ = tg_rnn.pad_packed_sequence(out, total_length=T)
        else:
            out, _ = layer(xt, lengths=lengths)
        (out * w).sum().backward()
    return run


def torch_packed(torch, state, x, dy, lengths, dtype):
    layer = torch.nn.LSTM(I, H).to(getattr(torch, dtype))
    layer.load_state_dict({k: torch.from_numpy(v) for k, v in state.items()})
    xt, w, lt = torch.tensor(x, requires_grad=True), torch.tensor(dy), torch.tensor(lengths)

    def run():
        layer.zero_grad()
        out, _ = layer(torch.nn.utils.rnn.pack_padded_sequence(xt, lt, enforce_sorted=False))
        out, _ = torch.nn.utils.rnn.pad_packed_sequence(out, total_length=T)
        (out * w).sum().backward()
    return run


def measure(runs, repeats):
    """{name: run} -> {name: median seconds}: per round, in rotated order, one untimed call then one timed call."""
    names, times = list(runs), {name: [] for name in runs}
    for r in range(repeats):
        for name in names[r % len(names):] + names[:r % len(names)]:
            runs[name]()                                          # warm: right before its own sample
            start = time.perf_counter()
            runs[name]()
            times[name].append(time.perf_counter() - start)
    return {name: float(np.median(t)) for name, t in times.items()}


def candidates(dtype, torch):
    rng = np.random.default_rng(0)
    bound = 1 / np.sqrt(H)
    proj_state = {k: rng.uniform(-bound, bound, v.shape).astype(dtype)
                  for k, v in nn.LSTM(I, H, proj_size=P, dtype=dtype).state_dict().items()}
    plain_state = {k: rng.uniform(-bound, bound, v.shape).astype(dtype)
                   for k, v in nn.LSTM(I, H, dtype=dtype).state_dict().items()}
    x = rng.standard_normal((T, B, I)).astype(dtype)
    dy_p, dy_h = rng.standard_normal((T, B, P)).astype(dtype), rng.standard_normal((T, B, H)).astype(dtype)
    lengths = rng.integers(T // 2, T + 1, size=B)
    lengths[0] = T
    rng.shuffle(lengths)
    groups = {"proj": {"engine": engine_proj(proj_state, x, dy_p, dtype, True),
                       "unfused": engine_proj(proj_state, x, dy_p, dtype, False)},
              "packed": {"engine lengths=": engine_packed(plain_state, x, dy_h, lengths, dtype, False),
                         "engine packed": engine_packed(plain_state, x, dy_h, lengths, dtype, True)}}
    if torch is not None:
        groups["proj"]["torch"] = torch_proj(torch, proj_state, x, dy_p, dtype)
        groups["packed"]["torch packed"] = torch_packed(torch, plain_state, x, dy_h, lengths, dtype)
    return groups


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=15)
    parser.add_argument("--threads", type=int, nargs="+", default=[1, 2])
    parser.add_argument("--dtypes", nargs="+", default=["float32", "float64"])
    args = parser.parse_args()
    try:
        import torch
        import warnings
        warnings.filterwarnings("ignore", message="LSTM with projections is not supported with oneDNN")
    except ImportError:
        torch = None
    print("| group | dtype | threads | candidate | µs per call | ÷ first | ÷ torch |")
    print("|---|---|---|---|---|---|---|")
    for threads in args.threads:
        with pin_threads(threads) as note:
            if note:
                print(note)
            for dtype in args.dtypes:
                for group, runs in candidates(dtype, torch).items():
                    medians = measure(runs, args.repeats)
                    first = next(iter(medians.values()))
                    ref = next((v for k, v in medians.items() if k.startswith("torch")), None)
                    for name, sec in medians.items():
                        vs_torch = f"{sec / ref:.2f}" if ref else "–"
                        print(f"| {group} | {dtype} | {threads} | {name} | {sec * 1e6:.0f} | {sec / first:.2f} | "
                              f"{vs_torch} |")


if __name__ == "__main__":
    main()
