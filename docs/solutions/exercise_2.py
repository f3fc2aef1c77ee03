"""Exercise 2: tanh as a Function, its backward written by hand, checked by gradcheck.

Check: python -m tinygrad_rnn exercise 2 docs/solutions/exercise_2.py
"""
import numpy as np

import tinygrad_rnn as tg


class Tanh(tg.Function):
    """y = tanh(x); ∂x = g·(1 − y²), from the saved output (no second tanh)"""

    @staticmethod
    def forward(ctx, x):
        y = np.tanh(x)
        ctx.save_for_backward(y)
        return y

    @staticmethod
    def backward(ctx, grad):
        (y,) = ctx.saved
        return grad * (1 - y * y)


if __name__ == "__main__":
    x = tg.Tensor(np.random.default_rng(0).standard_normal((3, 4)), requires_grad=True, dtype=tg.float64)
    print("gradcheck:", tg.gradcheck(Tanh.apply, (x,)))
