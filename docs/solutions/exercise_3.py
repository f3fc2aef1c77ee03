"""Exercise 3: break the LSTM's forget bias on the adding problem, then fix it.

Check: python -m tinygrad_rnn exercise 3 docs/solutions/exercise_3.py
"""
import numpy as np
from threadpoolctl import threadpool_limits

import tinygrad_rnn as tg
from tinygrad_rnn import nn, optim
from tinygrad_rnn.apps.adding import batch

BROKEN_FORGET_BIAS = -6.0    # f = σ(−6) ≈ 0.0025: the cell forgets everything at every step
FIXED_FORGET_BIAS = 2.0      # f = σ(2) ≈ 0.88: the cell path carries the memory (and the gradient) back


def gradient_reach(forget_bias, length=30):
    """‖∂ŷ/∂x_0‖: how much the sum of a fresh LSTM(2, 16)'s last output depends on the first input."""
    tg.manual_seed(0)
    lstm = nn.LSTM(2, 16, forget_bias=forget_bias, dtype=tg.float64)
    x = tg.Tensor(batch(np.random.default_rng(0), length, 1)[0], requires_grad=True, dtype=tg.float64)
    out, _ = lstm(x)
    out[-1].sum().backward()
    return float(np.linalg.norm(x.grad[0]))


def train(forget_bias, length=30, steps=800, hidden=16, seed=0):
    """An LSTM(2, hidden) read out at its last step, trained by Adam on the adding problem -> test MSE."""
    tg.manual_seed(seed)
    data = np.random.default_rng(seed)
    lstm, head = nn.LSTM(2, hidden, forget_bias=forget_bias), nn.Linear(hidden, 1)
    params = list(lstm.parameters()) + list(head.parameters())
    opt = optim.Adam(params, lr=0.01)
    with threadpool_limits(1):                    # small products: one BLAS thread is the fastest
        for _ in range(steps):
            x, y = batch(data, length, 32)
            out, _ = lstm(tg.tensor(x))
            loss = nn.functional.mse_loss(head(out[-1]), tg.tensor(y))
            opt.zero_grad()
            loss.backward()
            optim.clip_grad_norm_(params, 1.0)
            opt.step()
        x, y = batch(np.random.default_rng(seed + 1), length, 500)
        with tg.no_grad():
            out, _ = lstm(tg.tensor(x))
            return float(((head(out[-1]).data - y) ** 2).mean())


if __name__ == "__main__":
    for bias in (BROKEN_FORGET_BIAS, FIXED_FORGET_BIAS):
        print(f"forget bias {bias:+.1f}: gradient reach {gradient_reach(bias):.2e}, test MSE {train(bias):.4f}")
