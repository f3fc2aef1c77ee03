"""The one table of activations: names, f, and f' written from f's output (backward needs only what forward
returned). The tape ops, the NumPy twins of the kernels and the oracle take them from here; the kernels know them by
the same names (their codes, `act_code` and `gate_code`, are in backend/_kernels/_math.pxd)."""
import numpy as np

NAMES = ("identity", "sigmoid", "tanh", "hard_sigmoid")   # what linear(..., act=) takes
GATE_NAMES = ("sigmoid", "hard_sigmoid")                  # what a cell's gate_activation takes

# |x| beyond which exp(-|x|) would underflow to a subnormal: clamping there keeps np.errstate(all="raise") quiet
# and changes sigmoid by less than the dtype's smallest normal number.
_EXP_LIMIT = {np.dtype(np.float32): 87.0, np.dtype(np.float64): 708.0}


def sigmoid(x):
    """σ(x) = 1 / (1 + e^(−x)), evaluated as e^(−|x|) so nothing overflows."""
    e = np.exp(-np.minimum(np.abs(x), _EXP_LIMIT.get(x.dtype, 708.0)))
    return np.where(x >= 0, 1.0 / (1.0 + e), e / (1.0 + e)).astype(x.dtype, copy=False)


def hard_sigmoid(x):
    """hard_σ(x) = clip(0.2·x + 0.5, 0, 1), as in Keras and Theano."""
    return np.clip(x * x.dtype.type(0.2) + x.dtype.type(0.5), 0.0, 1.0).astype(x.dtype, copy=False)


# Derivatives written from the activation's output y, so backward needs only what forward returned.
# hard_sigmoid's slope is 0.2 strictly inside (0, 1) and 0 on the clipped plateaus (boundaries included).
ACTIVATIONS = {
    "identity": (lambda z: z, lambda y: np.ones_like(y)),
    "sigmoid": (sigmoid, lambda y: y * (1.0 - y)),
    "tanh": (np.tanh, lambda y: 1.0 - y * y),
    "hard_sigmoid": (hard_sigmoid, lambda y: ((y > 0) & (y < 1)) * y.dtype.type(0.2)),
}
