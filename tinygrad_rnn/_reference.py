"""Pure-NumPy twins of every kernel (same signatures), plus the stable activations they share.

These are the fallback backend (TINYGRAD_RNN_BACKEND=numpy) and the test oracle for the Cython kernels.
"""
import numpy as np

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


def linear_act_forward(x, weight, bias, act, y):
    """y = act(x @ Wᵀ + b) for x (B, I), W (O, I), b (O,) or None; writes y (B, O)"""
    np.matmul(x, weight.T, out=y)
    if bias is not None:
        y += bias
    if act != "identity":
        y[...] = ACTIVATIONS[act][0](y)


def linear_act_backward(x, weight, y, dy, act, dx, dweight, dbias):
    """dz = dy⊙act'(y); dx = dz @ W, dW = dzᵀ @ x, db = Σ_b dz; an output given as None is not computed"""
    dz = dy if act == "identity" else dy * ACTIVATIONS[act][1](y)
    if dx is not None:
        np.matmul(dz, weight, out=dx)
    if dweight is not None:
        np.matmul(dz.T, x, out=dweight)
    if dbias is not None:
        np.sum(dz, axis=0, out=dbias)
