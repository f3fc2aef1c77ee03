"""Gate kernels: Cython against the NumPy twins (both dtypes, both gate activations), backward kernels against
central differences of the forward ones, and the boundary checks."""
import numpy as np
import pytest

from tinygrad_rnn.backend import calls as _backend, numpy_twins as _reference_gates

cython_gates = pytest.importorskip("tinygrad_rnn.backend._kernels.gates", reason="Cython kernels not built")

TOL = {np.float32: dict(rtol=2e-5, atol=1e-6), np.float64: dict(rtol=1e-10, atol=1e-12)}
# name: (inputs as (name, width in units of H; 0 means a vector (H,); "gate" marks values in (0, 1)),
#        takes act?, output widths)
KERNELS = {
    "lstm_gates_forward": ([("z", 4), ("c_prev", 1)], True, [4, 1, 1]),
    "lstm_gates_backward": ([("gates", "gate4"), ("c_prev", 1), ("c", 1), ("dh", 1), ("dc", 1)], True, [4, 1]),
    "peephole_gates_forward": ([("z", 4), ("c_prev", 1), ("w_ci", 0), ("w_cf", 0), ("w_co", 0)], True, [4, 1, 1]),
    "peephole_gates_backward": ([("gates", "gate4"), ("c_prev", 1), ("c", 1), ("w_ci", 0), ("w_cf", 0), ("w_co", 0),
                                 ("dh", 1), ("dc", 1)], True, [4, 1, 0, 0, 0]),
    "gru_gates_forward": ([("xp", 3), ("hp", 3), ("h_prev", 1)], True, [3, 1]),
    "gru_gates_backward": ([("gates", "gate3"), ("hp", 3), ("h_prev", 1), ("dh", 1)], True, [3, 3, 1]),
    "gru_cho_reset_forward": ([("xp", 3), ("hp_rz", 2), ("h_prev", 1)], True, [2, 1]),
    "gru_cho_update_forward": ([("xp", 3), ("hn", 1), ("gates_rz", "gate2"), ("h_prev", 1)], False, [1, 1]),
    "gru_cho_update_backward": ([("gates_rz", "gate2"), ("n", 1), ("h_prev", 1), ("dh", 1)], True, [1, 1, 1]),
    "gru_cho_reset_backward": ([("gates_rz", "gate2"), ("h_prev", 1), ("d_rh", 1)], True, [1, 1]),
}


def make_input(rng, width, B, H, dtype):
    if width == 0:
        return rng.standard_normal(H).astype(dtype)
    if isinstance(width, str):                       # activations: mostly inside (0, 1), a few on the plateaus
        a = rng.uniform(0.05, 0.95, (B, int(width[-1]) * H))
        a.flat[::7] = 1.0
        return a.astype(dtype)
    return rng.standard_normal((B, width * H)).astype(dtype)


def run(module, name, inputs, act, out_widths, B, H):
    outs = [np.full(H if w == 0 else (B, w * H), np.nan, inputs[0].dtype) for w in out_widths]
    args = list(inputs) + ([act] if act is not None else []) + outs
    getattr(module, name)(*args)
    return outs


@pytest.mark.parametrize("act", ["sigmoid", "hard_sigmoid"])
@pytest.mark.parametrize("B, H", [(1, 1), (1, 32), (3, 5)])
@pytest.mark.parametrize("name", list(KERNELS))
def test_cython_matches_numpy_twin(rng, dtype, name, B, H, act):
    spec, takes_act, out_widths = KERNELS[name]
    inputs = [make_input(rng, w, B, H, dtype) for _, w in spec]
    act = act if takes_act else None
    got = run(cython_gates, name, inputs, act, out_widths, B, H)
    want = run(_reference_gates, name, inputs, act, out_widths, B, H)
    for g, w in zip(got, want):
        np.testing.assert_allclose(g, w, **TOL[dtype])


def numeric_grad(loss, arrays, k, eps=1e-6):
    grad = np.zeros_like(arrays[k])
    for idx in np.ndindex(arrays[k].shape):
        old = arrays[k][idx]
        arrays[k][idx] = old + eps
        up = loss(*arrays)
        arrays[k][idx] = old - eps
        down = loss(*arrays)
        arrays[k][idx] = old
        grad[idx] = (up - down) / (2 * eps)
    return grad


@pytest.mark.parametrize("act", ["sigmoid", "hard_sigmoid"])
def test_lstm_backward_is_the_derivative_of_forward(rng, act):
    B, H = 2, 3
    z, c_prev, gh, gc = (rng.standard_normal((B, k * H)) for k in (4, 1, 1, 1))

    def loss(z, c_prev):
        _, c, h = _backend.call("lstm_gates_forward", z, c_prev, act)
        return (h * gh).sum() + (c * gc).sum()

    gates, c, _ = _backend.call("lstm_gates_forward", z, c_prev, act)
    dz, dc_prev = _backend.call("lstm_gates_backward", gates, c_prev, c, gh, gc, act)
    for k, analytic in enumerate((dz, dc_prev)):
        np.testing.assert_allclose(analytic, numeric_grad(loss, [z, c_prev], k), rtol=1e-6, atol=1e-8)


@pytest.mark.parametrize("act", ["sigmoid", "hard_sigmoid"])
def test_peephole_backward_is_the_derivative_of_forward(rng, act):
    B, H = 2, 3
    z, c_prev, gh, gc = (rng.standard_normal((B, k * H)) for k in (4, 1, 1, 1))
    ws = [rng.standard_normal(H) for _ in range(3)]

    def loss(z, c_prev, *ws):
        _, c, h = _backend.call("peephole_gates_forward", z, c_prev, *ws, act)
        return (h * gh).sum() + (c * gc).sum()

    gates, c, _ = _backend.call("peephole_gates_forward", z, c_prev, *ws, act)
    grads = _backend.call("peephole_gates_backward", gates, c_prev, c, *ws, gh, gc, act)
    for k, analytic in enumerate(grads):
        np.testing.assert_allclose(analytic, numeric_grad(loss, [z, c_prev, *ws], k), rtol=1e-6, atol=1e-8)


@pytest.mark.parametrize("act", ["sigmoid", "hard_sigmoid"])
def test_gru_backward_is_the_derivative_of_forward(rng, act):
    B, H = 2, 3
    xp, hp, h_prev, gh = (rng.standard_normal((B, k * H)) for k in (3, 3, 1, 1))

    def loss(xp, hp, h_prev):
        return (_backend.call("gru_gates_forward", xp, hp, h_prev, act)[1] * gh).sum()

    gates, _ = _backend.call("gru_gates_forward", xp, hp, h_prev, act)
    grads = _backend.call("gru_gates_backward", gates, hp, h_prev, gh, act)
    for k, analytic in enumerate(grads):
        np.testing.assert_allclose(analytic, numeric_grad(loss, [xp, hp, h_prev], k), rtol=1e-6, atol=1e-8)


def test_missing_upstream_gradients_mean_zero(rng):
    gates = rng.uniform(0.1, 0.9, (2, 8))
    c_prev, c = rng.standard_normal((2, 2)), rng.standard_normal((2, 2))
    zeros = np.zeros((2, 2))
    for got, want in zip(_backend.call("lstm_gates_backward", gates, c_prev, c, None, None),
                         _backend.call("lstm_gates_backward", gates, c_prev, c, zeros, zeros)):
        np.testing.assert_array_equal(got, want)
        assert not got.any()


def test_extreme_pre_activations_stay_finite(dtype):
    z = np.array([[1000.0, -1000.0, 1000.0, -1000.0], [-1e4, 1e4, -1e4, 1e4]], dtype)
    with np.errstate(all="raise"):
        gates, c, h = _backend.call("lstm_gates_forward", z, np.ones((2, 1), dtype))
    assert np.isfinite(gates).all() and np.isfinite(c).all() and np.isfinite(h).all()
    np.testing.assert_allclose(gates[0], [1, 0, 1, 0], atol=1e-30)


def test_non_contiguous_inputs_are_copied(rng):
    z = rng.standard_normal((8, 3))[::2].repeat(4, axis=1)      # rows of a strided view, then (4, 12)
    c_prev = np.asfortranarray(rng.standard_normal((4, 3)))
    want = _backend.call("lstm_gates_forward", np.ascontiguousarray(z), np.ascontiguousarray(c_prev))
    for got, w in zip(_backend.call("lstm_gates_forward", z.T.copy().T, c_prev), want):
        np.testing.assert_array_equal(got, w)


ONES = np.ones


@pytest.mark.parametrize("call, error, words", [
    (lambda: _backend.call("lstm_gates_forward", ONES((2, 6)), ONES((2, 1))), ValueError, "z: expected shape (2, 4), but got (2, 6)"),
    (lambda: _backend.call("lstm_gates_forward", ONES((2, 8)), ONES((2, 3))), ValueError, "z: expected shape (2, 12), but got (2, 8)"),
    (lambda: _backend.call("lstm_gates_forward", ONES((2, 8)), ONES((2, 2), np.float32)), TypeError, "z: expected dtype float32 (the dtype of c_prev), but got float64"),
    (lambda: _backend.call("lstm_gates_forward", ONES((2, 8)), ONES((2, 2), int)), TypeError, "c_prev: expected dtype float32 or float64, but got int64"),
    (lambda: _backend.lstm_step_forward(ONES((2, 8)), ONES((2, 2)), ONES((2, 2)), ONES((8, 3))), ValueError, "w_hh: expected shape (8, 2), but got (8, 3)"),
    (lambda: _backend.gru_step_forward(ONES((2, 6)), ONES((2, 2)), ONES((6, 2)), ONES(5)), ValueError, "b_hh: expected shape (6,), but got (5,)"),
    (lambda: _backend.rnn_step_forward(ONES((2, 2)), ONES((2, 2)), ONES((2, 2)), "sigmoid"), ValueError, "nonlinearity: expected one of 'tanh', 'relu', but got 'sigmoid'"),
    (lambda: _backend.call("lstm_gates_forward", ONES((2, 8)), ONES((2, 2)), "tanh"), ValueError, "act: expected one of 'sigmoid', 'hard_sigmoid', but got 'tanh'"),
    (lambda: _backend.call("peephole_gates_forward", ONES((2, 8)), ONES((2, 2)), ONES(2), ONES(3), ONES(2)), ValueError, "w_cf: expected shape (2,), but got (3,)"),
    (lambda: _backend.call("gru_gates_forward", ONES((2, 6)), ONES((2, 4)), ONES((2, 2))), ValueError, "hp: expected shape (2, 6), but got (2, 4)"),
    (lambda: _backend.call("gru_gates_backward", ONES((2, 6)), ONES((2, 6)), ONES((2, 2)), "dh"), TypeError, "dh: expected a numpy.ndarray, but got str"),
    (lambda: _backend.gru_cho_reset_backward(ONES((2, 4)), ONES((2, 2)), ONES((3, 2))), ValueError, "d_rh: expected shape (2, 2), but got (3, 2)"),
])
def test_boundary_errors_name_the_argument(call, error, words):
    with pytest.raises(error) as info:
        call()
    assert words in str(info.value)


cython_steps = pytest.importorskip("tinygrad_rnn.backend._kernels.steps", reason="Cython kernels not built")
# Step kernels: the recurrent GEMM and the gates in one call; outputs are allocated and returned.
# name: (inputs as in KERNELS, with "W3"/"W4"/"W1" the (G·H, H) recurrent weight and "dh?" a gradient or None)
STEPS = {
    "lstm_step_forward": [("xp", 4), ("h_prev", 1), ("c_prev", 1), ("w_hh", "W4")],
    "lstm_step_backward": [("gates", "gate4"), ("c_prev", 1), ("c", 1), ("w_hh", "W4"), ("dh", 1), ("dc", 1)],
    "peephole_step_forward": [("xp", 4), ("h_prev", 1), ("c_prev", 1), ("w_hh", "W4"), ("w_ci", 0), ("w_cf", 0),
                              ("w_co", 0)],
    "peephole_step_backward": [("gates", "gate4"), ("c_prev", 1), ("c", 1), ("w_hh", "W4"), ("w_ci", 0),
                               ("w_cf", 0), ("w_co", 0), ("dh", 1), ("dc", 1)],
    "gru_step_forward": [("xp", 3), ("h_prev", 1), ("w_hh", "W3"), ("b_hh", "bias3")],
    "gru_step_backward": [("gates", "gate3"), ("hp", 3), ("h_prev", 1), ("w_hh", "W3"), ("dh", 1)],
    "rnn_step_forward": [("xp", 1), ("h_prev", 1), ("w_hh", "W1")],
    "rnn_step_backward": [("h", "gate1"), ("w_hh", "W1"), ("dh", 1)],
}


def make_step_input(rng, width, B, H, dtype):
    if isinstance(width, str) and width.startswith("W"):
        return rng.standard_normal((int(width[1]) * H, H)).astype(dtype)
    if isinstance(width, str) and width.startswith("bias"):
        return rng.standard_normal(int(width[-1]) * H).astype(dtype)
    return make_input(rng, width, B, H, dtype)


@pytest.mark.parametrize("missing", [False, True], ids=["all", "none_grads"])
@pytest.mark.parametrize("B, H", [(1, 1), (1, 32), (3, 5), (0, 4)])
@pytest.mark.parametrize("name", list(STEPS))
def test_step_kernels_match_numpy_twins(rng, dtype, name, B, H, missing):
    inputs = [make_step_input(rng, w, B, H, dtype) for _, w in STEPS[name]]
    if missing:                                      # dh, dc None (zero upstream gradient), b_hh None (no bias)
        inputs = [None if n in ("dh", "dc", "b_hh") else a for (n, _), a in zip(STEPS[name], inputs)]
    act = ("tanh" if "forward" in name else "relu") if name.startswith("rnn") else "sigmoid"
    got = getattr(cython_steps, name)(*inputs, act)
    want = getattr(_reference_gates, name)(*inputs, act)
    got, want = (x if isinstance(x, tuple) else (x,) for x in (got, want))
    assert len(got) == len(want)
    for g, w in zip(got, want):
        assert g.dtype == dtype and g.shape == w.shape
        np.testing.assert_allclose(g, w, **TOL[dtype])


@pytest.mark.parametrize("call, error, words", [
    (lambda: cython_steps.lstm_step_forward(ONES((2, 8)), ONES((2, 2)), ONES((2, 2)), ONES((8, 2)).T, "sigmoid"),
     ValueError, "w_hh: expected shape (8, 2), but got (2, 8)"),
    (lambda: cython_steps.lstm_step_forward(ONES((2, 8)), ONES((2, 2)), ONES((2, 2)), ONES((16, 1))[::2], "sigmoid"),
     ValueError, "w_hh: expected shape (8, 2), but got (8, 1)"),
    (lambda: cython_steps.gru_step_forward(ONES((2, 6)), ONES((2, 2)), ONES((6, 2), np.float32), None, "sigmoid"),
     TypeError, "w_hh: expected dtype float64, but got float32"),
    (lambda: cython_steps.rnn_step_backward(ONES((2, 2)), ONES((2, 2)), ONES((2, 2)), "tanh", ONES((2, 2))[:, :1]),
     ValueError, "dz: expected shape (2, 2), but got (2, 1)"),
    (lambda: cython_steps.lstm_step_forward(ONES((2, 8)), ONES((2, 2)), ONES((2, 2)), ONES((8, 2)), "sigmoid",
                                            np.broadcast_to(np.ones(8), (2, 8))),
     ValueError, "gates: expected a C-contiguous array"),
])
def test_step_kernels_check_their_arguments(call, error, words):
    """Called directly (bypassing _backend), a kernel still refuses bad arrays rather than reading past them."""
    with pytest.raises(error) as info:
        call()
    assert words in str(info.value)


def test_read_only_step_output_is_refused():
    out = np.ones((2, 2))
    out.flags.writeable = False
    with pytest.raises(ValueError, match="h: expected a writeable array, but got a read-only one"):
        cython_steps.rnn_step_forward(ONES((2, 2)), ONES((2, 2)), ONES((2, 2)), "tanh", out)
