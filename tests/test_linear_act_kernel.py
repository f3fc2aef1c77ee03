"""linear_act: the Cython kernel against its NumPy twin, both on the tape against gradcheck, and the boundary checks."""
import os
import subprocess
import sys

import numpy as np
import pytest

from tinygrad_rnn import Tensor, gradcheck
from tinygrad_rnn.backend import calls as _backend, numpy_twins as _reference
from tinygrad_rnn.nn.functional import linear

cython_linear = pytest.importorskip("tinygrad_rnn.backend._kernels.linear", reason="Cython kernels not built")

ACTS = ["identity", "sigmoid", "tanh", "hard_sigmoid"]
SHAPES = [(1, 1, 1), (1, 5, 3), (7, 3, 9), (4, 16, 2), (3, 0, 2), (0, 4, 3)]   # (B, I, O)
TOL = {np.float32: dict(rtol=1e-5, atol=1e-6), np.float64: dict(rtol=1e-10, atol=1e-12)}


def arrays(rng, dtype, B, I, O):
    return (rng.standard_normal((B, I)).astype(dtype), rng.standard_normal((O, I)).astype(dtype),
            rng.standard_normal(O).astype(dtype), rng.standard_normal((B, O)).astype(dtype))


def run(module, x, w, b, dy, act):
    y = np.empty((x.shape[0], w.shape[0]), x.dtype)
    module.linear_act_forward(x, w, b, act, y)
    grads = [np.empty_like(x), np.empty_like(w), None if b is None else np.empty_like(b)]
    module.linear_act_backward(x, w, y, dy, act, *grads)
    return [y] + grads


@pytest.mark.parametrize("bias", [True, False], ids=["bias", "nobias"])
@pytest.mark.parametrize("act", ACTS)
@pytest.mark.parametrize("shape", SHAPES, ids=lambda s: "x".join(map(str, s)))
def test_cython_matches_numpy_twin(rng, dtype, shape, act, bias):
    x, w, b, dy = arrays(rng, dtype, *shape)
    b = b if bias else None
    for got, want in zip(run(cython_linear, x, w, b, dy, act), run(_reference, x, w, b, dy, act)):
        if want is not None:
            assert got.dtype == want.dtype
            np.testing.assert_allclose(got, want, **TOL[dtype])


@pytest.mark.parametrize("shape", [(800, 64, 512), (5, 3, 37), (1, 2, 1), (33, 4, 17)], ids=lambda s: "x".join(map(str, s)))
def test_bias_gradient_is_the_row_by_row_sum(rng, dtype, shape):
    """db = Σ_b dz, summed row after row (sums.h's per-CPU build keeps the order of the loop it replaced): bitwise
    the running sum in that order, whatever the vector width of the build."""
    x, w, b, dy = arrays(rng, dtype, *shape)
    y = np.empty((x.shape[0], w.shape[0]), dtype)
    db = np.full(b.shape, np.nan, dtype)
    cython_linear.linear_act_backward(x, w, y, dy, "identity", None, None, db)
    want = np.zeros(b.shape, dtype)
    for row in dy:
        want += row
    np.testing.assert_array_equal(db, want)


@pytest.mark.parametrize("backend", ["cython", "numpy"])
@pytest.mark.parametrize("act", ACTS)
def test_gradcheck_on_the_tape(rng, backend, act):
    with _backend.use_backend(backend):
        _gradcheck_linear(rng, act)


def _gradcheck_linear(rng, act):
    x, w, b, _ = arrays(rng, np.float64, 3, 4, 5)
    if act == "hard_sigmoid":                        # keep 0.2·z + 0.5 away from the kinks at 0 and 1
        w *= 0.3
    ts = [Tensor(a, requires_grad=True) for a in (x, w, b)]
    assert gradcheck(lambda x, w, b: linear(x, w, b, act=act), ts)
    assert gradcheck(lambda x, w: linear(x, w, act=act), ts[:2])


def test_one_node_on_the_tape_and_batched_input(rng):
    x, w, b, _ = arrays(rng, np.float64, 6, 4, 5)
    y = linear(Tensor(x.reshape(2, 3, 4), requires_grad=True), Tensor(w), Tensor(b), act="tanh")
    assert type(y.grad_fn).__name__ == "LinearAct" and y.grad_fn.parents[0].grad_fn is None  # one node
    np.testing.assert_allclose(y.data, np.tanh(x @ w.T + b).reshape(2, 3, 5), rtol=1e-12)


@pytest.mark.parametrize("value", [1000.0, -1000.0, 88.5, -88.5, 710.0, -710.0])
def test_sigmoid_extremes_stay_finite(dtype, value):
    x, w = np.full((1, 1), value, dtype), np.ones((1, 1), dtype)
    with np.errstate(all="raise"):
        y = _backend.linear_act_forward(x, w, None, "sigmoid")
        dx, dw, _ = _backend.linear_act_backward(x, w, y, np.ones_like(y), "sigmoid", need_db=False)
    assert np.isfinite(y).all() and np.isfinite(dx).all() and np.isfinite(dw).all()
    assert y[0, 0] == pytest.approx(1.0 if value > 0 else 0.0, abs=1e-30 if value < 0 else 1e-7)


def test_non_contiguous_inputs_are_copied(rng):
    x, w, b, _ = arrays(rng, np.float64, 4, 6, 5)
    xt, wt = np.asfortranarray(x), w.T.copy().T      # same values, column-major
    np.testing.assert_allclose(_backend.linear_act_forward(xt[:, ::1], wt, b, "tanh"),
                               np.tanh(x @ w.T + b), rtol=1e-12)
    np.testing.assert_allclose(_backend.linear_act_forward(x[:, ::2], w[:, ::2], b), x[:, ::2] @ w[:, ::2].T + b,
                               rtol=1e-12)


def f64(*shape):
    return np.ones(shape)


@pytest.mark.parametrize("call, error, words", [
    (lambda: _backend.linear_act_forward(f64(2, 3), f64(4, 2)), ValueError, "weight: expected shape (*, 3), but got (4, 2)"),
    (lambda: _backend.linear_act_forward(f64(2, 3), f64(4, 3), f64(5)), ValueError, "bias: expected shape (4,), but got (5,)"),
    (lambda: _backend.linear_act_forward(f64(3), f64(4, 3)), ValueError, "x: expected shape (B, I), but got (3,)"),
    (lambda: _backend.linear_act_forward(np.ones((2, 3), int), f64(4, 3)), TypeError, "x: expected dtype float32 or float64, but got int64"),
    (lambda: _backend.linear_act_forward(f64(2, 3), f64(4, 3).astype(np.float32)), TypeError, "weight: expected dtype float64 (the dtype of x), but got float32"),
    (lambda: _backend.linear_act_forward([[1.0]], f64(1, 1)), TypeError, "x: expected a numpy.ndarray, but got list"),
    (lambda: _backend.linear_act_forward(f64(2, 3), f64(4, 3), act="softplus"), ValueError, "act: expected one of 'identity', 'sigmoid', 'tanh', 'hard_sigmoid', but got 'softplus'"),
    (lambda: _backend.linear_act_backward(f64(2, 3), f64(4, 3), f64(2, 4), f64(2, 5)), ValueError, "dy: expected shape (2, 4), but got (2, 5)"),
    (lambda: _backend.linear_act_forward(f64(2, 3), f64(4, 3), out=f64(2, 5)), ValueError, "out: expected a float64 array of shape (2, 4)"),
])
def test_boundary_errors_name_the_argument(call, error, words):
    with pytest.raises(error) as info:
        call()
    assert words in str(info.value)


def test_read_only_or_aliased_output_is_refused():
    x, w = f64(2, 3), f64(3, 3)
    out = f64(2, 3)
    out.flags.writeable = False
    with pytest.raises(ValueError, match="out: expected a writeable array, but got a read-only one"):
        _backend.linear_act_forward(x, w, out=out)
    with pytest.raises(ValueError, match="out: expected an array that shares no memory with the inputs"):
        _backend.linear_act_forward(x, w, out=x)
    good = np.full((2, 3), np.nan)
    assert _backend.linear_act_forward(x, w, out=good) is good and (good == 3).all()


def _backend_in_subprocess(value):
    env = dict(os.environ, TINYGRAD_RNN_BACKEND=value)
    return subprocess.run([sys.executable, "-c", "import tinygrad_rnn; print(tinygrad_rnn.BACKEND)"],
                          env=env, capture_output=True, text=True)


def test_backend_is_chosen_once_from_the_environment():
    assert _backend_in_subprocess("numpy").stdout.strip() == "numpy"
    assert _backend_in_subprocess("cython").stdout.strip() == "cython"
    bad = _backend_in_subprocess("fortran")
    assert bad.returncode != 0
    assert "TINYGRAD_RNN_BACKEND: expected 'cython' or 'numpy', but got 'fortran'" in bad.stderr


def test_use_backend_switches_and_restores(rng):
    x, w, b, _ = arrays(rng, np.float64, 3, 4, 5)
    before = _backend._kernels["linear_act_forward"]
    with _backend.use_backend("numpy"):
        assert _backend._kernels["linear_act_forward"] is _reference.linear_act_forward
        y_numpy = _backend.linear_act_forward(x, w, b, "tanh")
    with _backend.use_backend("cython"):
        assert _backend._kernels["linear_act_forward"] is cython_linear.linear_act_forward
        y_cython = _backend.linear_act_forward(x, w, b, "tanh")
    assert _backend._kernels["linear_act_forward"] is before
    np.testing.assert_allclose(y_cython, y_numpy, rtol=1e-12)
    with pytest.raises(ValueError, match="use_backend: expected 'cython' or 'numpy', but got 'gpu'"):
        with _backend.use_backend("gpu"):
            pass


def test_a_refused_call_that_is_copied_and_run_again_keeps_no_array_alive(rng):
    """The boundary calls a kernel, and when it refuses an input (not contiguous) copies it and calls again. The
    refusal's traceback held the boundary's frame, and with it the caller's arrays, in a reference cycle until the
    garbage collector ran (a review found a backward's whole walk kept alive that way); now nothing outlives the
    call."""
    import gc
    import weakref
    w = rng.standard_normal((3, 5))
    gc.disable()
    try:
        big = rng.standard_normal((4, 10))
        seen = weakref.ref(big)
        want = np.tanh(big[:, ::2] @ w.T)
        y = _backend.linear_act_forward(big[:, ::2], w, None, "tanh")
        np.testing.assert_allclose(y, want, rtol=1e-12, atol=1e-14)
        del big
        assert seen() is None
    finally:
        gc.enable()
