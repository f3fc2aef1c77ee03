"""The vectorized exp / sigmoid / tanh of _kernels/fastmath.h (through the test-only module fastmath_check): error
in ulps over dense sweeps against NumPy and against an extended-precision reference, the special values, and the
gate kernels built on them at widths that cross their chunk and vector boundaries."""
import numpy as np
import pytest

from tinygrad_rnn import activations
from tinygrad_rnn.backend import numpy_twins

fm = pytest.importorskip("tinygrad_rnn.backend._kernels.fastmath_check", reason="Cython kernels not built")
cython_gates = pytest.importorskip("tinygrad_rnn.backend._kernels.gates", reason="Cython kernels not built")
cython_steps = pytest.importorskip("tinygrad_rnn.backend._kernels.steps", reason="Cython kernels not built")

LONG = np.longdouble
EXTENDED = np.finfo(LONG).nmant >= 63          # x86 80-bit or quad: an exact enough reference for float64
FUNCS = {"exp": (fm.exp, np.exp), "sigmoid": (fm.sigmoid, activations.sigmoid), "tanh": (fm.tanh, np.tanh)}


def sweep(dtype):
    """−1000..1000 densely, −10..10 randomly, tiny to 1 geometrically (down to the smallest subnormal), both signs."""
    tiny = np.finfo(dtype).smallest_subnormal
    xs = np.concatenate([np.linspace(-1000, 1000, 400_001), np.random.default_rng(7).uniform(-10, 10, 200_000),
                         np.geomspace(float(tiny), 1.0, 100_000)])
    xs = xs.astype(dtype)
    return np.concatenate([xs, -xs])


def ulps(got, want, dtype):
    """|got − want| in units of the spacing of want rounded to dtype (0 where want is 0, inf or NaN and got equals)."""
    with np.errstate(over="ignore"):
        w = want.astype(dtype)                                          # beyond the dtype's range: inf
    assert np.array_equal(np.isnan(got), np.isnan(w)) and np.array_equal(got[np.isinf(w)], w[np.isinf(w)])
    finite = np.isfinite(w)
    err = np.zeros(got.shape, LONG)
    err[finite] = np.abs(got[finite].astype(LONG) - want[finite].astype(LONG)) / np.spacing(np.abs(w[finite]))
    return err


def sigmoid_long(x, dtype):
    """The clamped σ of _math.pxd in extended precision."""
    e = np.exp(-np.minimum(np.abs(x.astype(LONG)), 708 if dtype == np.float64 else 87))
    return np.where(x >= 0, 1 / (1 + e), e / (1 + e))


@pytest.mark.parametrize("name, bound", [("exp", 2), ("sigmoid", 4), ("tanh", 4)])
def test_matches_numpy_over_a_dense_sweep(dtype, name, bound):
    """Within a few ulps of NumPy's own (itself ~1 ulp off): far inside rtol 1e-14 (float64) / 1e-6 (float32)."""
    ours, numpy_twin = FUNCS[name]
    xs = sweep(dtype)
    with np.errstate(over="ignore", under="ignore"):
        want = numpy_twin(xs)
    got = ours(xs)
    assert got.dtype == dtype and got.shape == xs.shape
    assert ulps(got, want, dtype).max() <= bound
    normal = np.isfinite(want) & (np.abs(want) >= np.finfo(dtype).tiny)
    rel = np.abs(got[normal] - want[normal]) / np.abs(want[normal])
    assert rel.max() <= (1e-15 if dtype == np.float64 else 5e-7)


@pytest.mark.skipif(not EXTENDED, reason="numpy.longdouble is no wider than float64 here")
@pytest.mark.parametrize("name, bound", [("exp", 1.5), ("sigmoid", 3), ("tanh", 3)])
def test_error_in_ulps_against_extended_precision(dtype, name, bound):
    xs = sweep(dtype)
    exact = {"exp": np.exp, "sigmoid": lambda x: sigmoid_long(x, dtype), "tanh": np.tanh}[name]
    with np.errstate(over="ignore", under="ignore"):
        want = exact(xs.astype(LONG))
    err = ulps(FUNCS[name][0](xs), want, dtype)
    assert err.max() <= bound, f"{err.max():.2f} ulp at x = {xs[np.argmax(err)]!r}"


def test_exp_special_values(dtype):
    fi = np.finfo(dtype)
    big = 709.78 if dtype == np.float64 else 88.72                      # just below overflow
    xs = np.array([0.0, -0.0, np.inf, -np.inf, np.nan, 1000, -1000, big, big + 0.01, fi.smallest_subnormal,
                   -fi.smallest_subnormal], dtype)
    got = fm.exp(xs)
    np.testing.assert_array_equal(got[:2], [1, 1])
    np.testing.assert_array_equal(got[[2, 3, 5, 6]], [np.inf, 0, np.inf, 0])
    assert np.isnan(got[4])
    assert np.isfinite(got[7]) and got[8] == np.inf
    np.testing.assert_array_equal(got[9:], [1, 1])
    lowest = np.log(fi.smallest_subnormal.astype(LONG))                # e^x is the smallest subnormal here
    sub = fm.exp(np.array([lowest + 0.1, lowest - 1], dtype))
    assert 0 < sub[0] < fi.tiny and sub[1] == 0


def test_sigmoid_special_values_and_clamp(dtype):
    fi = np.finfo(dtype)
    xs = np.array([0.0, -0.0, np.inf, -np.inf, np.nan, 1000, -1000, 1e-300, -1e-300, 1e-40, -1e-40,
                   fi.smallest_subnormal, -fi.smallest_subnormal], dtype)
    got = fm.sigmoid(xs)
    want = activations.sigmoid(xs)                                       # the same clamp at 708 / 87
    np.testing.assert_array_equal(got[:2], [0.5, 0.5])
    assert got[2] == 1 and np.isnan(got[4]) and got[5] == 1
    np.testing.assert_allclose(got[[3, 6]], want[[3, 6]], rtol=4 * fi.eps)
    assert 0 < got[3] == got[6] < 10 * fi.tiny                           # σ(−inf) = σ(−1000) = σ(−clamp), not 0
    np.testing.assert_array_equal(got[7:], np.full(6, 0.5, dtype))


def test_tanh_special_values_and_tiny_arguments(dtype):
    fi = np.finfo(dtype)
    xs = np.array([0.0, -0.0, np.inf, -np.inf, np.nan, 1000, -1000, 20, -20], dtype)
    got = fm.tanh(xs)
    np.testing.assert_array_equal(got[[0, 1, 2, 3, 5, 6, 7, 8]], [0, 0, 1, -1, 1, -1, 1, -1])
    assert not np.signbit(got[0]) and np.signbit(got[1]) and np.isnan(got[4])
    tiny = np.array([1e-300, -1e-300, 1e-40, -1e-40, 1e-20, -1e-20, fi.tiny, -fi.tiny, fi.smallest_subnormal,
                     -fi.smallest_subnormal, 3 * fi.smallest_subnormal], dtype)
    np.testing.assert_array_equal(fm.tanh(tiny), tiny)                   # tanh(x) = x to the last bit here


def test_nan_propagates_through_every_lane(dtype):
    """A NaN among ordinary values (at every position of a vector) stays NaN and leaves the others alone."""
    for pos in range(17):
        xs = np.linspace(-3, 3, 17).astype(dtype)
        xs[pos] = np.nan
        for name, (ours, numpy_twin) in FUNCS.items():
            got, want = ours(xs), numpy_twin(xs)
            assert np.isnan(got[pos]), name
            np.testing.assert_allclose(np.delete(got, pos), np.delete(want, pos), rtol=8 * np.finfo(dtype).eps)


def test_any_length_and_empty(dtype):
    for n in (0, 1, 3, 7, 8, 15, 16, 17, 33, 64, 65):
        xs = np.linspace(-5, 5, n).astype(dtype)
        for ours, numpy_twin in FUNCS.values():
            np.testing.assert_allclose(ours(xs), numpy_twin(xs), rtol=8 * np.finfo(dtype).eps)


def test_rejects_what_it_cannot_take():
    with pytest.raises(TypeError, match="1-D float32 or float64"):
        fm.exp(np.ones((2, 2)))
    with pytest.raises(TypeError, match="1-D float32 or float64"):
        fm.tanh(np.ones(3, int))


def test_isa_names_a_clone():
    assert fm.isa() in ("x86-64-v4", "x86-64-v3", "baseline", "portable")


# ---- the gate kernels on top: widths across the 256-unit chunks of the backward loops and odd vector tails ----

TOL = {np.float32: dict(rtol=2e-5, atol=1e-6), np.float64: dict(rtol=1e-12, atol=1e-13)}
GATES = {   # name: input widths in units of H (0: a vector (H,), "gN": activations in (0, 1)), output widths
    "lstm_gates_forward": ([4, 1], [4, 1, 1]),
    "lstm_gates_backward": (["g4", 1, 1, 1, 1], [4, 1]),
    "peephole_gates_forward": ([4, 1, 0, 0, 0], [4, 1, 1]),
    "peephole_gates_backward": (["g4", 1, 1, 0, 0, 0, 1, 1], [4, 1, 0, 0, 0]),
    "gru_gates_forward": ([3, 3, 1], [3, 1]),
    "gru_gates_backward": (["g3", 3, 1, 1], [3, 3, 1]),
    "gru_cho_reset_forward": ([3, 2, 1], [2, 1]),
}


def make(rng, width, B, H, dtype, scale=3.0):
    if width == 0:
        return rng.standard_normal(H).astype(dtype)
    if isinstance(width, str):
        a = rng.uniform(0.02, 0.98, (B, int(width[1:]) * H))
        a.flat[::11] = 1.0
        return a.astype(dtype)
    return (scale * rng.standard_normal((B, width * H))).astype(dtype)


@pytest.mark.parametrize("act", ["sigmoid", "hard_sigmoid"])
@pytest.mark.parametrize("B, H", [(2, 7), (3, 256), (2, 300), (1, 517)])
@pytest.mark.parametrize("name", list(GATES))
def test_gate_kernels_match_twins_at_wide_rows(rng, dtype, name, B, H, act):
    widths, out_widths = GATES[name]
    inputs = [make(rng, w, B, H, dtype, 3.0 if k == 0 else 1.0) for k, w in enumerate(widths)]   # z, xp: saturate
    outs = {}
    for module in (cython_gates, numpy_twins):
        outs[module] = [np.full(H if w == 0 else (B, w * H), np.nan, dtype) for w in out_widths]
        getattr(module, name)(*inputs, act, *outs[module])
    for got, want in zip(outs[cython_gates], outs[numpy_twins]):
        np.testing.assert_allclose(got, want, **TOL[dtype])


@pytest.mark.parametrize("missing", ["dh", "dc", "both"])
@pytest.mark.parametrize("H", [5, 300])
def test_missing_gradients_read_as_zero_across_chunks(rng, dtype, missing, H):
    B = 2
    gates, c_prev, c, dh, dc = (make(rng, w, B, H, dtype) for w in ("g4", 1, 1, 1, 1))
    dh = None if missing in ("dh", "both") else dh
    dc = None if missing in ("dc", "both") else dc
    zeros = np.zeros((B, H), dtype)
    got = cython_steps.lstm_step_backward(gates, c_prev, c, np.eye(4 * H, H, dtype=dtype), dh, dc, "sigmoid")
    want = cython_steps.lstm_step_backward(gates, c_prev, c, np.eye(4 * H, H, dtype=dtype),
                                           zeros if dh is None else dh, zeros if dc is None else dc, "sigmoid")
    for g, w in zip(got, want):
        np.testing.assert_array_equal(g, w)


@pytest.mark.parametrize("name", ["lstm_step_forward", "peephole_step_forward", "gru_step_forward", "rnn_step_forward"])
def test_step_kernels_match_twins_at_wide_rows(rng, dtype, name):
    B, H = 3, 300
    G = {"lstm": 4, "peephole": 4, "gru": 3, "rnn": 1}[name.split("_")[0]]
    xp, h_prev, c_prev = make(rng, G, B, H, dtype), make(rng, 1, B, H, dtype, 1.0), make(rng, 1, B, H, dtype)
    w_hh = (rng.standard_normal((G * H, H)) / np.sqrt(H)).astype(dtype)
    args = {"lstm": (xp, h_prev, c_prev, w_hh, "sigmoid"),
            "peephole": (xp, h_prev, c_prev, w_hh, *(make(rng, 0, B, H, dtype) for _ in range(3)), "sigmoid"),
            "gru": (xp, h_prev, w_hh, make(rng, 0, B, 3 * H, dtype), "sigmoid"),
            "rnn": (xp, h_prev, w_hh, "tanh")}[name.split("_")[0]]
    got, want = getattr(cython_steps, name)(*args), getattr(numpy_twins, name)(*args)
    got, want = (x if isinstance(x, tuple) else (x,) for x in (got, want))
    tol = dict(rtol=1e-4, atol=1e-5) if dtype == np.float32 else dict(rtol=1e-10, atol=1e-12)    # GEMM order
    for g, w in zip(got, want):
        np.testing.assert_allclose(g, w, **tol)
