"""`python -m tinygrad_rnn gradflow`: how far gradients reach back in time, for RNN, LSTM, GRU and peephole LSTM.

Probe (panel 1, and the CSV). Each layer (input 8, hidden 32, float64) is freshly initialised from the same seed
with the layers' default scheme, U(±1/√H) as PyTorch, the two LSTMs with forget-gate bias 1 (Gers et al. 2000;
`forget_bias=1.0`). All read the same random sequence x_1 … x_T (standard normal, batch 16), and the loss is
L = Σ h_T, so it depends on the last output only. Hooks on every h_t record ‖∂L/∂h_t‖ (the total gradient reaching
h_t, through all later steps) against the distance T−1−t. The vanilla RNN's Jacobians ∂h_t/∂h_{t−1} =
diag(1−h_t²) W_hh shrink it geometrically; the LSTM's cell path multiplies by the forget gate, ≈ σ(1) ≈ 0.73,
instead, so the LSTM keeps orders of magnitude more (the GRU, without a gate bias, lies in between). The CSV also
holds "rnn_large_w": the RNN with W_hh ~ N(0, 1.5²/H), a chaotic regime where the gradient grows with distance.

Exploding gradients (panel 2). That large-W_hh RNN is trained by SGD (lr 0.2) to output the first component of its
last input through a linear readout, with and without `optim.clip_grad_norm_(params, 1.0)`: without clipping an
update along an exploded gradient throws the weights far away and the loss diverges; with it, the loss falls.
"""
import contextlib
import csv
import math
import sys

import numpy as np

from .. import manual_seed, nn, optim, viz
from .cli import UsageError, positive_int, random_seed
from .files import require_regular_file
from ..tensor import Tensor

HELP = "plot ‖∂L/∂h_t‖ against distance in time for RNN, LSTM, GRU, peephole LSTM (vanishing, exploding, clipping)"
CELLS = tuple(nn.LAYERS)  # rnn, lstm, gru, peephole
INPUT_SIZE = 8
LARGE_GAIN = 1.5      # W_hh ~ N(0, gain²/H): the exploding regime of panel 2
TRAIN_LR = 0.2
CLIP_NORM = 1.0
DIVERGED = 1e6        # an MSE this large on unit-variance targets: the run has diverged
LABELS = {"rnn": "RNN (tanh)", "lstm": "LSTM (forget bias 1)", "gru": "GRU",   # the plot's legend and the printed
          "peephole": "peephole LSTM (forget bias 1)",                         # table name the cells alike
          "rnn_large_w": f"RNN, W_hh gain {LARGE_GAIN} (exploding)"}


def _one_blas_thread():
    """Small GEMMs run fastest on one BLAS thread (and a loaded machine makes more threads far slower)."""
    try:
        from threadpoolctl import threadpool_limits
    except ImportError:
        return contextlib.nullcontext()
    return threadpool_limits(limits=1)


def make_layer(cell, hidden=32, seed=0):
    """A freshly initialised float64 layer: the default U(±1/√H) init (LSTMs: forget-gate bias 1)."""
    manual_seed(seed)
    if cell == "rnn":
        return nn.RNN(INPUT_SIZE, hidden, dtype=np.float64)
    if cell == "lstm":
        return nn.LSTM(INPUT_SIZE, hidden, forget_bias=1.0, dtype=np.float64)
    if cell == "gru":
        return nn.GRU(INPUT_SIZE, hidden, dtype=np.float64)
    if cell == "peephole":
        return nn.PeepholeLSTM(INPUT_SIZE, hidden, forget_bias=1.0, dtype=np.float64)
    if cell == "rnn_large_w":
        layer = nn.RNN(INPUT_SIZE, hidden, dtype=np.float64)
        w = np.random.default_rng(seed).standard_normal((hidden, hidden)) * LARGE_GAIN / math.sqrt(hidden)
        layer.weight_hh_l0.data[...] = w
        return layer
    raise ValueError(f"unknown cell {cell!r}")


def probe(layer, length=100, batch=16, seed=0):
    """‖∂L/∂h_t‖ for L = Σ h_T over a random standard-normal sequence, indexed by distance T−1−t."""
    x = Tensor(np.random.default_rng(seed).standard_normal((length, batch, INPUT_SIZE)))
    with viz.recording():  # one node per step, so that every h_t is a tensor on the tape
        output, _ = layer(x)
    with viz.record_state_grads(output) as grads:
        output[-1].sum().backward()
    return grads.by_distance


def gradient_flow(length=100, hidden=32, batch=16, seed=0, cells=CELLS + ("rnn_large_w",)):
    """{cell: ‖∂L/∂h_t‖ by distance} for each cell, same seed, same input, same loss."""
    with _one_blas_thread():
        return {cell: probe(make_layer(cell, hidden, seed), length, batch, seed) for cell in cells}


def train_exploding(clip, length=100, hidden=32, batch=16, seed=0, iters=150):
    """SGD on the large-W_hh RNN, clipped or not -> (losses, gradient norms before clipping), NaN after a
    divergence: a loss above DIVERGED (the targets have variance 1) or not finite ends the run."""
    layer = make_layer("rnn_large_w", hidden, seed)
    readout = nn.Linear(hidden, 1, dtype=np.float64)
    params = list(layer.parameters()) + list(readout.parameters())
    opt = optim.SGD(params, lr=TRAIN_LR)
    data = np.random.default_rng(seed + 1)
    losses, norms = np.full(iters, np.nan), np.full(iters, np.nan)
    with np.errstate(all="ignore"), _one_blas_thread():
        for i in range(iters):
            x = data.standard_normal((length, batch, INPUT_SIZE))
            output, _ = layer(Tensor(x))
            loss = ((readout(output[-1]) - Tensor(x[-1, :, :1])) ** 2).mean()
            if not loss.item() <= DIVERGED:  # also NaN
                break
            opt.zero_grad()
            loss.backward()
            if clip:
                norms[i] = optim.clip_grad_norm_(params, CLIP_NORM)
            else:
                norms[i] = math.sqrt(sum(float((p.grad ** 2).sum()) for p in params))
            losses[i] = loss.item()
            opt.step()
    return losses, norms


def write_csv(path, flows):
    with open(path, "w", newline="", encoding="utf-8") as f:
        out = csv.writer(f)
        out.writerow(["cell", "distance", "grad_norm"])
        for cell, norms in flows.items():
            out.writerows([cell, d, f"{n:.6e}"] for d, n in enumerate(norms))


def plot(path, flows, training, length):
    """Two panels into a PNG through matplotlib's Agg canvas (no pyplot, no display); returns the figure."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    fig = Figure(figsize=(12, 4.4), layout="constrained")
    FigureCanvasAgg(fig)
    left, right = fig.subplots(1, 2)
    styles = {"rnn": dict(color="tab:blue"), "lstm": dict(color="tab:orange", lw=3, alpha=0.7),
              "gru": dict(color="tab:green"), "peephole": dict(color="tab:purple", ls=":", lw=2),
              "rnn_large_w": dict(color="grey", ls="--")}
    for cell, norms in flows.items():
        style = styles.get(cell, {})
        left.semilogy(np.arange(len(norms)), np.where(norms > 0, norms, np.nan), label=LABELS.get(cell, cell),
                      **style)
    left.set(title=f"‖∂L/∂h_t‖ at initialisation, L = Σ h_T, T = {length}", xlabel="distance in time T−1−t (steps)",
             ylabel="gradient norm")
    left.grid(True, which="major", alpha=0.3)
    left.legend(fontsize=8)
    for (label, (losses, _)), color in zip(training.items(), ("tab:red", "tab:green")):
        steps = np.arange(len(losses))
        right.semilogy(steps, losses, color=color, label=label)
        finite = np.flatnonzero(np.isfinite(losses))
        if len(finite) and finite[-1] < len(losses) - 1:
            right.semilogy(finite[-1], losses[finite[-1]], "x", color=color, ms=10)
            right.annotate("diverged", (finite[-1], losses[finite[-1]]), textcoords="offset points",
                           xytext=(6, 4), color=color)
    right.set(title=f"exploding gradients: RNN, W_hh gain {LARGE_GAIN}, SGD lr {TRAIN_LR}", xlabel="SGD step",
              ylabel="training loss (MSE)")
    right.grid(True, which="major", alpha=0.3)
    right.legend(fontsize=8)
    fig.savefig(path, dpi=120)
    return fig


def add_arguments(parser):
    parser.add_argument("--length", type=positive_int, default=100, help="sequence length T (default 100)")
    parser.add_argument("--hidden", type=positive_int, default=32, help="hidden size (default 32)")
    parser.add_argument("--batch", type=positive_int, default=16, help="batch size (default 16)")
    parser.add_argument("--iters", type=positive_int, default=150,
                        help="SGD steps of the exploding-gradient panel (default 150)")
    parser.add_argument("--seed", type=random_seed, default=0, help="seeds the weights and the inputs")
    parser.add_argument("--out", default="gradflow.png", help="PNG to write (default gradflow.png; needs matplotlib)")
    parser.add_argument("--csv", default="gradflow.csv", help="CSV of cell, distance, grad_norm (default gradflow.csv)")


def run(args):
    require_regular_file(args.csv, "--csv")       # a FIFO would block the write, a device would take it
    require_regular_file(args.out, "--out")
    flows = gradient_flow(args.length, args.hidden, args.batch, args.seed)
    try:
        write_csv(args.csv, flows)
    except OSError as err:
        raise UsageError(f"cannot write {args.csv}: {err.strerror or err}") from None
    shown = [d for d in (0, 10, 25, 50, 75, 99) if d < args.length]
    print(f"‖∂L/∂h_t‖ by distance T−1−t (T={args.length}, L = Σ h_T, seed {args.seed})")
    width = max(len(LABELS.get(cell, cell)) for cell in flows)
    print(f"{'cell':<{width}} " + " ".join(f"{f'd={d}':>9}" for d in shown))
    for cell, norms in flows.items():
        print(f"{LABELS.get(cell, cell):<{width}} " + " ".join(f"{norms[d]:9.2e}" for d in shown))
    if args.length > 50:
        ratio = flows["lstm"][50] / flows["rnn"][50] if flows["rnn"][50] > 0 else math.inf
        print(f"at distance 50 the LSTM's gradient is {ratio:.1e} times the vanilla RNN's")
    training = {"no clipping": train_exploding(False, args.length, args.hidden, args.batch, args.seed, args.iters),
                f"clip_grad_norm_({CLIP_NORM})": train_exploding(True, args.length, args.hidden, args.batch,
                                                                   args.seed, args.iters)}
    for label, (losses, norms) in training.items():
        finite = losses[np.isfinite(losses)]
        end = (f"diverged at step {len(finite)}" if len(finite) < len(losses)
               else f"{np.mean(finite[-10:]):.4f} (mean of the last 10)")
        print(f"exploding RNN, {label}: loss {finite[0]:.4f} -> {end}; largest gradient norm {np.nanmax(norms):.1e}")
    print(f"wrote {args.csv}")
    try:
        import matplotlib  # noqa: F401
    except ImportError:
        print(f"python -m tinygrad_rnn gradflow: matplotlib is not installed, so {args.out} was not drawn; "
              f'install the plot extra: pip install -e ".[plot]"', file=sys.stderr)
        return 0
    try:
        plot(args.out, flows, training, args.length)
    except OSError as err:
        raise UsageError(f"cannot write {args.out}: {err.strerror or err}") from None
    print(f"wrote {args.out}")
    return 0
