"""Weight initialisation, drawn from the engine's seeded generator."""
import numpy as np

from .. import rng


def uniform(shape, bound, dtype):
    """U(−bound, bound), as PyTorch initialises every recurrent weight with bound 1/√hidden_size."""
    return rng.generator.uniform(-bound, bound, size=shape).astype(dtype)


def recurrent_weights(input_size, hidden_size, n_gates, bias, dtype, peephole=False):
    """PyTorch's layout: weight_ih (G·H, I), weight_hh (G·H, H), bias_ih, bias_hh (G·H,); peepholes (H,)."""
    bound = 1.0 / np.sqrt(hidden_size)
    rows = n_gates * hidden_size
    shapes = {"weight_ih": (rows, input_size), "weight_hh": (rows, hidden_size)}
    if bias:
        shapes.update(bias_ih=(rows,), bias_hh=(rows,))
    if peephole:
        shapes.update(weight_ci=(hidden_size,), weight_cf=(hidden_size,), weight_co=(hidden_size,))
    weights = {name: uniform(shape, bound, dtype) for name, shape in shapes.items()}
    if not bias:
        weights.update(bias_ih=None, bias_hh=None)
    return weights
