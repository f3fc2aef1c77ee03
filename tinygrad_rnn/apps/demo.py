"""The demo job: a vanilla RNN written with the engine's ops learns to predict a sine wave's next value.

Backpropagation through time is not written anywhere: it falls out of the tape recorded by the unrolled loop.
"""
import numpy as np

from .. import rng
from ..factories import zeros
from ..tensor import Tensor


def sine_batches(generator, batch, seq_len, dtype):
    """Inputs x (T, B, 1) = sin(ωt + φ) with random phase and frequency per row, targets = x shifted by one step."""
    phase = generator.uniform(0, 2 * np.pi, size=(1, batch, 1))
    omega = generator.uniform(0.2, 0.4, size=(1, batch, 1))
    wave = np.sin(omega * np.arange(seq_len + 1).reshape(-1, 1, 1) + phase).astype(dtype)
    return Tensor(wave[:-1]), Tensor(wave[1:])


def run_demo(steps=300, hidden=16, seq_len=20, batch=8, lr=0.05, seed=0, dtype=np.float64, log=print):
    """Trains h_t = tanh(W_ih x_t + W_hh h_{t−1} + b), ŷ_t = W_ho h_t + b_o by SGD; returns the losses."""
    g = rng.manual_seed(seed)
    bound = 1 / np.sqrt(hidden)
    init = lambda *shape: Tensor(g.uniform(-bound, bound, size=shape), dtype=dtype, requires_grad=True)  # noqa: E731
    w_ih, w_hh, b, w_ho, b_o = init(hidden, 1), init(hidden, hidden), init(hidden), init(1, hidden), init(1)
    params = [w_ih, w_hh, b, w_ho, b_o]
    losses = []
    for step in range(steps):
        x, y = sine_batches(g, batch, seq_len, dtype)
        h = zeros(batch, hidden, dtype=dtype)
        loss = 0
        for t in range(seq_len):  # the unrolled loop: each step appends a few nodes to the tape
            h = (x[t] @ w_ih.T + h @ w_hh.T + b).tanh()
            loss = loss + ((h @ w_ho.T + b_o - y[t]) ** 2).mean()
        loss = loss / seq_len
        for p in params:
            p.grad = None
        loss.backward()
        norm = np.sqrt(sum(float((p.grad**2).sum()) for p in params))
        scale = min(1.0, 5.0 / (norm + 1e-12))  # gradient clipping against explosion
        for p in params:
            p.data -= lr * scale * p.grad
        losses.append(loss.item())
        if step % max(1, steps // 10) == 0 or step == steps - 1:
            log(f"step {step:4d}  loss {losses[-1]:.5f}")
    return losses


HELP = "train a tiny RNN on a sine wave and print a falling loss"


def add_arguments(parser):
    from .cli import positive_float, positive_int, random_seed

    parser.add_argument("--steps", type=positive_int, default=300, help="SGD steps")
    parser.add_argument("--hidden", type=positive_int, default=16, help="hidden units of the RNN")
    parser.add_argument("--seq-len", type=positive_int, default=20, help="samples of the sine wave per sequence")
    parser.add_argument("--lr", type=positive_float, default=0.05, help="learning rate")
    parser.add_argument("--dtype", choices=["float32", "float64"], default="float64", help="float precision")
    parser.add_argument("--seed", type=random_seed, default=0, help="seeds the weights")


def run(args):
    losses = run_demo(steps=args.steps, hidden=args.hidden, seq_len=args.seq_len, lr=args.lr, seed=args.seed,
                      dtype=np.dtype(args.dtype))
    verb = "fell" if losses[-1] < losses[0] else "did not fall"
    print(f"loss {verb}: from {losses[0]:.5f} to {losses[-1]:.5f} in {len(losses)} steps")
    return 0
