"""What NumPy's BLAS threads cost the next call: the engine's LSTM layer at M right after NumPy products, and not.

    python benchmarks/blas_neighbours.py [--repeats 21] [--threads 2] [--products 5]

OpenBLAS's worker threads spin for a while after each threaded product (its thread timeout, about 2^28 cycles)
before they sleep. A call that starts in that window shares the cores with them; the engine's sequence kernels,
whose two threads meet at a barrier twice a time step, feel it most. Two candidates in one process, the order
alternating every round: the layer (forward + backward with every gradient, `bench`'s M LSTM, float32) called
right after `--products` NumPy float32 products of 512 × 512 on the same thread count, and the last four calls
of a block of twelve engine calls (the steady state of a loop of engine calls only). Prints the medians and their
ratio: this is why the README takes the engine-against-torch table from `bench` runs without the oracle (NumPy
products), and why OPENBLAS_THREAD_TIMEOUT=4 helps a loop that mixes NumPy products with the engine's calls.
"""
import argparse
import time

import numpy as np

from tinygrad_rnn.apps import bench_candidates as bc


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--repeats", type=int, default=21)
    parser.add_argument("--threads", type=int, nargs="+", default=[2])
    parser.add_argument("--products", type=int, default=5)
    args = parser.parse_args(argv)
    rng = np.random.default_rng(0)
    layer = bc.make_engine("lstm", "M", "float32", rng)
    a = rng.standard_normal((512, 512)).astype(np.float32)
    for threads in args.threads:
        times = {"after NumPy products": [], "in a loop of its own calls": []}
        with bc.pin_threads(threads):
            for _ in range(3):
                layer()
            for r in range(args.repeats):
                for name in list(times)[r % 2:] + list(times)[:r % 2]:
                    if name == "after NumPy products":
                        for _ in range(args.products):
                            a @ a
                        start = time.perf_counter()
                        layer()
                        times[name].append(time.perf_counter() - start)
                    else:   # a block of engine calls, long enough for the other pool's threads to have gone idle
                        for k in range(12):
                            start = time.perf_counter()
                            layer()
                            if k >= 8:
                                times[name].append(time.perf_counter() - start)
        med = {name: float(np.median(t)) for name, t in times.items()}
        for name, m in med.items():
            print(f"threads {threads}: LSTM M layer call {name}: {m * 1e3:.2f} ms")
        print(f"threads {threads}: ratio {med['after NumPy products'] / med['in a loop of its own calls']:.2f}")


if __name__ == "__main__":
    main()
