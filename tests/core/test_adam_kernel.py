"""Issue 15: Adam's update in one pass (_kernels/adam_step.h) when the kernels are built, bitwise equal to the
NumPy code of Adam._update (which the NumPy twins and every array the kernel does not take still run), over many
steps, in float32 and float64, with weight decay (coupled and decoupled), amsgrad, maximize, a β₁ that takes
torch's other lerp branch, and gradients holding NaN and inf."""
import numpy as np
import pytest

import tinygrad_rnn as tg
from tinygrad_rnn import optim
from tinygrad_rnn.backend import calls

pytestmark = pytest.mark.skipif(tg.BACKEND != "cython", reason="the kernels are not in use")

SETTINGS = {
    "default": (optim.Adam, {}),
    "weight_decay": (optim.Adam, {"weight_decay": 0.1}),
    "adamw": (optim.AdamW, {"weight_decay": 0.05, "lr": 3e-3}),
    "amsgrad": (optim.Adam, {"amsgrad": True}),
    "maximize": (optim.Adam, {"maximize": True, "weight_decay": 0.01}),
    "large_beta1_step": (optim.Adam, {"betas": (0.3, 0.9), "eps": 1e-6}),
}


def _train(dtype, make, options, use_kernel, monkeypatch, special=False, shapes=((13, 7), (64,), (3, 5, 4))):
    rng = np.random.default_rng(0)
    params = [tg.Tensor(rng.standard_normal(s).astype(dtype), requires_grad=True) for s in shapes]
    opt = make(params, **options)
    steps = []
    with monkeypatch.context() as m:
        if not use_kernel:
            m.setattr(calls, "optimizer_step", lambda *a: False)
        else:
            used = []
            real = calls.optimizer_step
            m.setattr(calls, "optimizer_step", lambda *a: used.append(real(*a)) or used[-1])
        for step in range(25):
            for p in params:
                g = rng.standard_normal(p.shape).astype(dtype) * (10.0 ** rng.integers(-3, 3))
                if special and step in (7, 12):
                    g.flat[::5] = [np.nan, np.inf, -np.inf, 0.0][step % 4]
                p.grad = g
            opt.step()
            steps.append([p.data.copy() for p in params])
        if use_kernel:
            assert used and all(used)                        # the kernel did every update
    state = [{k: v.copy() for k, v in opt.state[p].items() if isinstance(v, np.ndarray)} for p in params]
    return steps, state


@pytest.mark.parametrize("dtype", [np.float32, np.float64], ids=["float32", "float64"])
@pytest.mark.parametrize("setting", list(SETTINGS))
def test_the_kernel_equals_the_numpy_update_bitwise(dtype, setting, monkeypatch):
    make, options = SETTINGS[setting]
    kernel = _train(dtype, make, options, True, monkeypatch)
    numpy = _train(dtype, make, options, False, monkeypatch)
    for t, (a, b) in enumerate(zip(kernel[0], numpy[0])):
        for x, y in zip(a, b):
            np.testing.assert_array_equal(x, y, err_msg=f"step {t}")
    for a, b in zip(kernel[1], numpy[1]):
        assert a.keys() == b.keys()
        for k in a:
            np.testing.assert_array_equal(a[k], b[k], err_msg=k)


@pytest.mark.parametrize("dtype", [np.float32, np.float64], ids=["float32", "float64"])
def test_nan_and_inf_gradients_go_the_same_way(dtype, monkeypatch):
    for setting in ("default", "amsgrad"):
        make, options = SETTINGS[setting]
        kernel = _train(dtype, make, options, True, monkeypatch, special=True)
        numpy = _train(dtype, make, options, False, monkeypatch, special=True)
        assert any(np.isnan(x).any() for x in kernel[0][-1])   # the special values did reach the parameters
        for a, b in zip(kernel[0], numpy[0]):
            for x, y in zip(a, b):
                np.testing.assert_array_equal(x, y)


# past the kernel's threshold for a second thread (adam_step.h: 16,384 elements), sizes no multiple of its 64-element
# blocks, and one whose split leaves the second thread a short run
LARGE = ((129, 257), (70001,), (16385,))


@pytest.mark.parametrize("threads", [1, 2])
@pytest.mark.parametrize("dtype", [np.float32, np.float64], ids=["float32", "float64"])
@pytest.mark.parametrize("setting", ["default", "amsgrad", "adamw"])
def test_large_parameters_split_across_threads_equal_numpy_bitwise(dtype, setting, threads, monkeypatch):
    from threadpoolctl import threadpool_limits
    make, options = SETTINGS[setting]
    with threadpool_limits(threads):
        kernel = _train(dtype, make, options, True, monkeypatch, special=True, shapes=LARGE)
    numpy = _train(dtype, make, options, False, monkeypatch, special=True, shapes=LARGE)
    for t, (a, b) in enumerate(zip(kernel[0], numpy[0])):
        for x, y in zip(a, b):
            np.testing.assert_array_equal(x, y, err_msg=f"step {t}")
    for a, b in zip(kernel[1], numpy[1]):
        for k in a:
            np.testing.assert_array_equal(a[k], b[k], err_msg=k)


def test_arrays_it_does_not_take_are_left_to_numpy():
    from tinygrad_rnn.backend._kernels.optim_steps import adam_step
    p = np.ones(6, np.float32)
    args = (False, 1e-3, 0.0, 0.9, 0.999, 1e-2, 0.03, 1e-8)
    m, v = np.zeros(6, np.float32), np.zeros(6, np.float32)
    assert not adam_step(p, np.ones(6), m, v, None, *args)                       # grad float64: another dtype
    assert not adam_step(np.ones(12, np.float32)[::2], np.ones(6, np.float32), m, v, None, *args)  # strided
    assert not adam_step(p, np.ones(5, np.float32), m, v, None, *args)           # another size
    assert not adam_step(p, np.ones(6, np.float32), m, m, None, *args)           # exp_avg is exp_avg_sq
    assert not adam_step(np.ones(6, np.float16), np.ones(6, np.float16), m, v, None, *args)
    read_only = np.ones(6, np.float32)
    read_only.flags.writeable = False
    assert not adam_step(read_only, np.ones(6, np.float32), m, v, None, *args)
    assert (p == 1).all() and (m == 0).all() and (v == 0).all()                  # nothing written
    assert adam_step(p, np.ones(6, np.float32), m, v, None, *args) and (p < 1).all()


def test_a_strided_parameter_still_steps_through_numpy(monkeypatch):
    base = np.ones((4, 6))
    p = tg.Tensor(base, requires_grad=True)
    p.data = base[:, ::2]                                                        # a view: the kernel refuses it
    opt = optim.Adam([p], lr=0.1)
    p.grad = np.ones((4, 3))
    opt.step()
    np.testing.assert_allclose(base[:, ::2], 0.9)
    np.testing.assert_array_equal(base[:, 1::2], 1.0)
