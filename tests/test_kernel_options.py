"""Kernel options and where the GEMMs run: NumPy's CBLAS or scipy's BLAS give the same numbers; step forwards
given W_hhᵀ give what they give with W_hh; step backwards write the input gradient into a given array (a Scan's
dxs[t]); the tiled transpose is a transpose; bad choices and bad shapes are named errors."""
import contextlib
import os
import subprocess
import sys

import numpy as np
import pytest

from tinygrad_rnn.backend import calls as _backend

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
TOL = {np.float32: dict(rtol=2e-5, atol=2e-6), np.float64: dict(rtol=1e-12, atol=1e-13)}


def _step_args(name, B, H, dtype, rng):
    r = lambda *shape: rng.standard_normal(shape).astype(dtype)  # noqa: E731
    if name == "lstm":
        return (r(B, 4 * H), r(B, H), r(B, H), r(4 * H, H)), {"act": "sigmoid"}
    if name == "peephole":
        return (r(B, 4 * H), r(B, H), r(B, H), r(4 * H, H), r(H), r(H), r(H)), {"act": "hard_sigmoid"}
    if name == "gru":
        return (r(B, 3 * H), r(B, H), r(3 * H, H), r(3 * H)), {"act": "sigmoid"}
    return (r(B, H), r(B, H), r(H, H)), {"nonlinearity": "tanh"}


W_INDEX = {"lstm": 3, "peephole": 3, "gru": 2, "rnn": 2}


@pytest.mark.parametrize("backend", ["cython", "numpy"])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("name", ["lstm", "peephole", "gru", "rnn"])
@pytest.mark.parametrize("B, H", [(1, 1), (3, 5), (16, 33)])
def test_step_forward_given_w_hh_transposed(backend, dtype, name, B, H):
    if backend == "cython" and _backend.BACKEND != "cython":
        pytest.skip("the Cython kernels are not built")
    args, kw = _step_args(name, B, H, dtype, np.random.default_rng(B * H))
    k = W_INDEX[name]
    fn = getattr(_backend, f"{name}_step_forward")
    with _backend.use_backend(backend):
        plain = fn(*args, **kw)
        w_t = _backend.transposed(args[k])
        np.testing.assert_array_equal(w_t, args[k].T)
        given_t = fn(*args[:k], w_t, *args[k + 1:], **kw, transposed=True)
    plain = plain if isinstance(plain, tuple) else (plain,)
    given_t = given_t if isinstance(given_t, tuple) else (given_t,)
    for a, b in zip(plain, given_t):
        np.testing.assert_allclose(b, a, **TOL[dtype])


@pytest.mark.parametrize("backend", ["cython", "numpy"])
def test_transposed_w_hh_of_the_wrong_shape_is_named(backend):
    if backend == "cython" and _backend.BACKEND != "cython":
        pytest.skip("the Cython kernels are not built")
    args, kw = _step_args("lstm", 2, 3, np.float64, np.random.default_rng(0))
    with _backend.use_backend(backend), pytest.raises(ValueError, match=r"w_hh: expected shape \(3, 12\)"):
        _backend.lstm_step_forward(*args, **kw, transposed=True)     # W_hh (12, 3) where W_hhᵀ (3, 12) belongs


@pytest.mark.parametrize("backend", ["cython", "numpy"])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("shape", [(1, 1), (1, 7), (31, 1), (33, 65), (128, 512)])
def test_transposed_is_the_transpose(backend, dtype, shape):
    if backend == "cython" and _backend.BACKEND != "cython":
        pytest.skip("the Cython kernels are not built")
    w = np.random.default_rng(1).standard_normal(shape).astype(dtype)
    with _backend.use_backend(backend):
        out = _backend.transposed(w)
        strided = _backend.transposed(np.asfortranarray(w)[:, ::1])        # not C-contiguous: copied first
    for o in (out, strided):
        assert o.flags.c_contiguous and o.dtype == dtype
        np.testing.assert_array_equal(o, w.T)


def test_transposed_names_bad_input():
    with pytest.raises(ValueError, match="w: expected a 2-D array"):
        _backend.transposed(np.ones(3))
    with pytest.raises(TypeError, match="w: expected dtype float32 or float64, but got int64"):
        _backend.transposed(np.ones((2, 2), np.int64))


LAYER_GRADS = """
import sys, numpy as np
import tinygrad_rnn as tg
from tinygrad_rnn import nn
from tinygrad_rnn.backend import calls as _backend
tg.manual_seed(0)
grads = []
for layer in (nn.LSTM(7, 9, dtype=np.float64), nn.GRU(7, 9, dtype=np.float64), nn.RNN(7, 9, dtype=np.float64)):
    x = tg.randn(6, 4, 7, dtype=np.float64, requires_grad=True)
    out, _ = layer(x)
    (out * out).sum().backward()
    grads += [x.grad] + [p.grad for p in layer.parameters()]
np.savez(sys.argv[1], *grads)
print(_backend.KERNEL_BLAS)
"""


@pytest.mark.skipif(_backend.BACKEND != "cython", reason="the Cython kernels are not built")
def test_numpy_and_scipy_blas_give_the_same_gradients(tmp_path):
    results, used = {}, {}
    for blas in ("numpy", "scipy"):
        path = tmp_path / f"{blas}.npz"
        env = dict(os.environ, TINYGRAD_RNN_BLAS=blas)
        done = subprocess.run([sys.executable, "-c", LAYER_GRADS, str(path)], capture_output=True, text=True,
                              env=env, cwd=ROOT, timeout=120)
        assert done.returncode == 0, done.stderr[-2000:]
        used[blas] = done.stdout.strip()
        with np.load(path) as f:
            results[blas] = [f[k] for k in f.files]
    assert used["scipy"].startswith("scipy")
    assert used["numpy"].startswith(("numpy", "scipy"))     # scipy's when NumPy's CBLAS cannot be found
    assert len(results["numpy"]) == len(results["scipy"]) > 10
    for a, b in zip(results["numpy"], results["scipy"]):
        np.testing.assert_allclose(a, b, rtol=1e-11, atol=1e-13)
        assert np.abs(a).max() > 0


@pytest.mark.skipif(_backend.BACKEND != "cython", reason="the Cython kernels are not built")
def test_a_bad_blas_choice_is_named():
    env = dict(os.environ, TINYGRAD_RNN_BLAS="mkl")
    done = subprocess.run([sys.executable, "-c", "import tinygrad_rnn"], capture_output=True, text=True, env=env,
                          cwd=ROOT, timeout=120)
    assert done.returncode != 0
    assert "TINYGRAD_RNN_BLAS: expected 'numpy' or 'scipy', but got 'mkl'" in done.stderr


@pytest.mark.skipif(_backend.BACKEND != "cython", reason="the Cython kernels are not built")
def test_use_cblas_checks_its_arguments():
    from tinygrad_rnn.backend._kernels import _blas

    with pytest.raises(ValueError, match="int_bits: expected 32 or 64, but got 16"):
        _blas.use_cblas(1, 1, 16)
    with pytest.raises(ValueError, match="expected both or neither"):
        _blas.use_cblas(1, 0)


BACKWARD = {  # name: (arguments from _step_args' forward outputs, the output keyword)
    "lstm": "dz", "peephole": "dz", "gru": "dxp", "rnn": "dz",
}


def _backward_args(name, args, kw, out):
    if name == "lstm":
        gates, c, h = out
        return (gates, args[2], c, args[3], h, c), {"act": kw["act"]}
    if name == "peephole":
        gates, c, h = out
        return (gates, args[2], c, *args[3:7], h, c), {"act": kw["act"]}
    if name == "gru":
        hp, gates, h = out
        return (gates, hp, args[1], args[2], h), {"act": kw["act"]}
    return (out, args[2], out), {"nonlinearity": kw["nonlinearity"]}


@pytest.mark.parametrize("backend", ["cython", "numpy"])
@pytest.mark.parametrize("name", ["lstm", "peephole", "gru", "rnn"])
def test_step_backward_writes_into_the_given_array(backend, name):
    if backend == "cython" and _backend.BACKEND != "cython":
        pytest.skip("the Cython kernels are not built")
    args, kw = _step_args(name, 3, 5, np.float64, np.random.default_rng(2))
    with _backend.use_backend(backend):
        out = getattr(_backend, f"{name}_step_forward")(*args, **kw)
        bargs, bkw = _backward_args(name, args, kw, out)
        fn = getattr(_backend, f"{name}_step_backward")
        fresh = fn(*bargs, **bkw)
        buffer = np.full((2,) + fresh[0].shape, np.nan)
        given = fn(*bargs, **bkw, **{BACKWARD[name]: buffer[1]})
        assert given[0] is buffer[1] or np.shares_memory(given[0], buffer[1])
        np.testing.assert_array_equal(buffer[1], fresh[0])
        assert np.isnan(buffer[0]).all()                                  # nothing written outside it
        for a, b in zip(fresh[1:], given[1:]):
            np.testing.assert_array_equal(a, b)
        with pytest.raises(ValueError, match=BACKWARD[name]):
            fn(*bargs, **bkw, **{BACKWARD[name]: np.empty((3, 1))})


@pytest.mark.parametrize("layer", ["RNN", "LSTM", "PeepholeLSTM", "GRU"])
def test_layers_transpose_w_hh_once_per_long_enough_sequence(layer, monkeypatch):
    """A Scan's Python loop over T ≥ TRANSPOSE_MIN_STEPS steps hands its steps W_hhᵀ (one copy per layer and
    direction), a shorter one (sampling one character at a time) does not, and neither does a Scan that runs in a
    sequence kernel (which packs W_hh as it is); outputs and gradients are the same every way."""
    import tinygrad_rnn as tg
    from tinygrad_rnn import nn
    from tinygrad_rnn.fused import sequence
    from tinygrad_rnn.nn import recurrences

    calls = []
    real = _backend.transposed
    monkeypatch.setattr(_backend, "transposed", lambda w: calls.append(w.shape) or real(w))
    steps = recurrences.TRANSPOSE_MIN_STEPS
    results = {}
    for label, minimum, loop, copies in (("transposed", steps, sequence.reference_loop, 4),
                                         ("plain", 10 ** 9, sequence.reference_loop, 0),
                                         ("kernel", steps, contextlib.nullcontext, 0)):
        monkeypatch.setattr(recurrences, "TRANSPOSE_MIN_STEPS", minimum)
        tg.manual_seed(0)
        module = getattr(nn, layer)(3, 5, num_layers=2, bidirectional=True, dtype=np.float64)
        x = tg.randn(steps, 2, 3, dtype=np.float64, requires_grad=True)
        calls.clear()
        with loop():
            out, _ = module(x)
        (out * out).sum().backward()
        results[label] = [out.data, x.grad] + [p.grad for p in module.parameters()]
        assert len(calls) == copies, (label, calls)
    calls.clear()
    monkeypatch.setattr(recurrences, "TRANSPOSE_MIN_STEPS", steps)
    with sequence.reference_loop():
        module(tg.randn(steps - 1, 2, 3, dtype=np.float64))
    assert calls == []
    for label in ("plain", "kernel"):
        for a, b in zip(results["transposed"], results[label]):
            np.testing.assert_allclose(a, b, rtol=1e-12, atol=1e-14)


class _FakeBlasModule:
    """Stands in for _kernels._blas: records what choose() hands over."""

    def __init__(self):
        self.calls = []

    def use_cblas(self, *args):
        self.calls.append(args)


def test_choose_falls_back_to_scipy_when_numpy_has_no_cblas_to_find(monkeypatch):
    from tinygrad_rnn.backend import blas as _blas_choice

    monkeypatch.setattr(_blas_choice, "numpy_cblas", lambda: None)
    monkeypatch.delenv("TINYGRAD_RNN_BLAS", raising=False)
    fake = _FakeBlasModule()
    assert _blas_choice.choose(fake).startswith("scipy")
    assert fake.calls == [()]


def test_choose_hands_over_numpy_cblas_unless_told_scipy(monkeypatch):
    from tinygrad_rnn.backend import blas as _blas_choice

    monkeypatch.setattr(_blas_choice, "numpy_cblas", lambda: ("/x/libopenblas64_.so", 11, 22, 64))
    fake = _FakeBlasModule()
    monkeypatch.delenv("TINYGRAD_RNN_BLAS", raising=False)
    assert _blas_choice.choose(fake) == "numpy (libopenblas64_.so, 64-bit integers)"
    monkeypatch.setenv("TINYGRAD_RNN_BLAS", "scipy")
    assert _blas_choice.choose(fake).startswith("scipy")
    assert fake.calls == [(11, 22, 64), ()]


def test_numpy_cblas_is_found_in_numpys_own_library():
    """On NumPy's wheels (scipy-openblas64) the lookup must succeed; elsewhere it may find nothing."""
    from tinygrad_rnn.backend import blas as _blas_choice

    found = _blas_choice.numpy_cblas()
    config = str(np.show_config(mode="dicts").get("Build Dependencies", {}).get("blas", {}))
    if "scipy-openblas" not in config:
        pytest.skip(f"NumPy is not built on scipy-openblas here ({config[:80]})")
    assert found is not None
    path, sgemm, dgemm, bits = found
    assert os.path.exists(path) and sgemm and dgemm and sgemm != dgemm and bits in (32, 64)
