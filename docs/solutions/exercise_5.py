"""Exercise 5: truncated BPTT, and the bias it puts into the gradient.

Check: python -m tinygrad_rnn exercise 5 docs/solutions/exercise_5.py
"""
import numpy as np


def truncated_gradient(layer, x, k):
    """∂L/∂weight_hh_l0 for L = Σ of all outputs, by truncated BPTT: windows of k steps, the state carried from one
    window to the next but detached, each window's part of L backpropagated on its own."""
    layer.zero_grad()
    state = None
    for start in range(0, x.shape[0], k):
        out, state = layer(x[start:start + k], state)
        out.sum().backward()
        state = tuple(s.detach() for s in state)      # an LSTM's state is (h, c)
    return layer.weight_hh_l0.grad.copy()


def truncation_bias(layer, x, k):
    """‖g_k − g‖ / ‖g‖: how far the truncated gradient is from the full BPTT gradient (k = T)."""
    full = truncated_gradient(layer, x, x.shape[0])
    return float(np.linalg.norm(truncated_gradient(layer, x, k) - full) / np.linalg.norm(full))


if __name__ == "__main__":
    import tinygrad_rnn as tg
    from tinygrad_rnn import nn

    tg.manual_seed(5)
    layer = nn.LSTM(3, 6, dtype=tg.float64)
    x = tg.Tensor(np.random.default_rng(5).standard_normal((24, 2, 3)), dtype=tg.float64)
    for k in (1, 2, 4, 8, 12, 24):
        print(f"k = {k:2d}: relative bias {truncation_bias(layer, x, k):.4f}")
