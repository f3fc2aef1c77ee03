"""`python -m tinygrad_rnn adding`: the adding problem (Hochreiter & Schmidhuber 1997) for RNN, LSTM and GRU (or any
cell of models.CELLS).

Each input step carries a random value in [0, 1) and a marker; exactly two steps are marked, one in each half of
the sequence, and the target is the sum of the two marked values. Predicting the mean (1.0) scores an MSE of 1/6;
solving it needs memory across the whole sequence, which the gated cells have and the vanilla RNN, whose
gradients vanish over T=100 steps, does not.
"""
import numpy as np

from .. import manual_seed, nn, no_grad, optim, tensor
from .cli import int_at_least, positive_float, positive_int, random_seed
from .models import CELLS, build_layer

HELP = "the adding problem at T=100: gated cells learn it, the vanilla RNN does not"
BASELINE = 1 / 6          # MSE of always answering 1.0 (the variance of a sum of two U(0, 1) values)
SOLVED = 0.05             # well below the baseline: the two marked values are being remembered and added


def batch(generator, length, size):
    """x (T, B, 2) = [values, markers], y (B, 1) = the sum of the two marked values."""
    values = generator.random((length, size))
    first = generator.integers(0, length // 2, size)
    second = generator.integers(length // 2, length, size)
    markers = np.zeros((length, size))
    markers[first, np.arange(size)] = markers[second, np.arange(size)] = 1.0
    x = np.stack([values, markers], axis=-1).astype(np.float32)
    y = (values[first, np.arange(size)] + values[second, np.arange(size)]).astype(np.float32)[:, None]
    return x, y


class Regressor(nn.Module):
    """A recurrent layer (any cell of models.CELLS) read out by a linear layer at the last step."""

    def __init__(self, cell, hidden, layers=1):
        super().__init__()
        # a cell with a forget gate starts with it open (bias 1), as Gers et al. 2000 advise for long memories
        forget_bias = 1.0 if CELLS[cell].forget_gate else None
        self.rnn = build_layer(cell, 2, hidden, layers, forget_bias=forget_bias)
        self.out = nn.Linear(hidden, 1)

    def forward(self, x):
        output, _ = self.rnn(tensor(x))
        return self.out(output[-1])


def train_one(cell, length, steps, hidden, batch_size, lr, seed, log=print):
    """Train one cell; returns the MSE on 1000 fresh sequences."""
    manual_seed(seed)
    data = np.random.default_rng(seed)
    model = Regressor(cell, hidden)
    opt = optim.Adam(model.parameters(), lr=lr)
    for step in range(1, steps + 1):
        x, y = batch(data, length, batch_size)
        loss = nn.functional.mse_loss(model(x), tensor(y))
        opt.zero_grad()
        loss.backward()
        optim.clip_grad_norm_(model.parameters(), 1.0)
        opt.step()
        if step % max(1, steps // 5) == 0:
            log(f"  {cell:4s} step {step:5d}  mse {loss.item():.4f}")
    x, y = batch(np.random.default_rng(seed + 1), length, 1000)
    with no_grad():
        return float(((model(x).data - y) ** 2).mean())


def add_arguments(parser):
    parser.add_argument("--length", type=int_at_least(2), default=100,
                        help="sequence length T (at least 2: one marker in each half)")
    parser.add_argument("--steps", type=positive_int, default=3000, help="Adam steps per cell")
    parser.add_argument("--hidden", type=positive_int, default=64, help="hidden units of every cell")
    parser.add_argument("--batch", type=positive_int, default=32, help="sequences per step")
    parser.add_argument("--lr", type=positive_float, default=1e-2, help="Adam's learning rate")
    parser.add_argument("--cells", default="rnn,lstm,gru",
                        help=f"comma-separated cells, of {', '.join(CELLS)}")
    parser.add_argument("--seed", type=random_seed, default=0, help="seeds the weights and the data")


def run(args):
    from threadpoolctl import threadpool_limits

    from .cli import UsageError

    cells = [c.strip() for c in args.cells.split(",") if c.strip()]
    unknown = [c for c in cells if c not in CELLS]
    if unknown or not cells:
        raise UsageError(f"--cells: expected a comma-separated subset of {', '.join(CELLS)}, but got "
                         f"{args.cells!r}")
    if "depth-gated" in cells:
        raise UsageError("--cells depth-gated: the adding command trains one layer, and a depth-gated LSTM of one "
                         "layer is an LSTM (python -m tinygrad_rnn compare trains it with two)")
    with threadpool_limits(1):                           # small GEMMs: one BLAS thread is fastest
        results = {c: train_one(c, args.length, args.steps, args.hidden, args.batch, args.lr, args.seed)
                   for c in cells}
    print(f"\nadding problem, T={args.length}, {args.steps} steps of {args.batch} (baseline MSE {BASELINE:.3f})")
    width = max(6, *(len(c) + 1 for c in results))
    print(f"{'cell':{width}s} {'test MSE':>9s}  learned?")
    for cell, mse in results.items():
        print(f"{cell:{width}s} {mse:9.4f}  {'yes' if mse < SOLVED else 'no'}")
    return 0
