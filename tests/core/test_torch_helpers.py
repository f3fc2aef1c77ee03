"""The lines around the math in a PyTorch script: in-place updates (x.add_, p -= lr * g under no_grad), new_* and
type_as, tril/triu/outer, from_numpy, allclose, the default dtype, set_grad_enabled, the device checks: values and
messages against torch. (Module hooks and F.normalize/cosine_similarity: tests/nn/test_hooks_similarity.py.)"""
import numpy as np
import pytest

import tinygrad_rnn as tg
from tinygrad_rnn import nn


def _pair(torch, a, requires_grad=False):
    return tg.tensor(a, requires_grad=requires_grad), torch.tensor(a, requires_grad=requires_grad)


# ---- in place ----------------------------------------------------------------------------------------------------
INPLACE = [
    ("add_", lambda t, o: t.add_(o, alpha=2)), ("sub_", lambda t, o: t.sub_(o)), ("mul_", lambda t, o: t.mul_(o)),
    ("div_", lambda t, o: t.div_(o)), ("pow_", lambda t, o: t.abs_().pow_(2)), ("neg_", lambda t, o: t.neg_()),
    ("exp_", lambda t, o: t.exp_()), ("log_", lambda t, o: t.abs_().log_()), ("sqrt_", lambda t, o: t.abs_().sqrt_()),
    ("sigmoid_", lambda t, o: t.sigmoid_()), ("tanh_", lambda t, o: t.tanh_()), ("relu_", lambda t, o: t.relu_()),
    ("clamp_", lambda t, o: t.clamp_(-0.5, 0.5)), ("clamp_min_", lambda t, o: t.clamp_min_(0.1)),
    ("addcmul_", lambda t, o: t.addcmul_(o, o, value=0.5)), ("addcdiv_", lambda t, o: t.addcdiv_(o, o + 3, value=2)),
    ("lerp_", lambda t, o: t.lerp_(o, 0.25)), ("copy_", lambda t, o: t.copy_(o)),
    ("+=", lambda t, o: t.__iadd__(o)), ("-=", lambda t, o: t.__isub__(o)), ("*=", lambda t, o: t.__imul__(o)),
    ("/=", lambda t, o: t.__itruediv__(o)),
]


@pytest.mark.parametrize("name,op", INPLACE, ids=[n for n, _ in INPLACE])
def test_inplace_math_equals_torch_s_and_writes_into_self(torch, name, op):
    r = np.random.default_rng(0)
    a, b = r.standard_normal((3, 4)), r.standard_normal((4,))           # the operand broadcasts, as in torch
    ours, theirs = _pair(torch, a)
    alias = ours[0]                                                     # a view: sees the write, as torch's does
    result = op(ours, tg.tensor(b))
    op(theirs, torch.tensor(b))
    assert result is ours
    np.testing.assert_allclose(ours.numpy(), theirs.numpy(), rtol=1e-15, atol=1e-15)
    np.testing.assert_array_equal(alias.numpy(), ours.numpy()[0])


def test_manual_sgd_under_no_grad_updates_the_parameters(torch):
    """`with no_grad(): p -= lr * p.grad` (and p.add_(g, alpha=-lr)): the model's own parameters change, as in torch
    (before, `-=` made a new tensor and the parameter stayed as it was)."""
    r = np.random.default_rng(1)
    w0, x = r.standard_normal((2, 3)), r.standard_normal((5, 3))
    runs = []
    for lib in (tg, torch):
        w = lib.tensor(w0, requires_grad=True)
        for step in range(3):
            loss = (lib.tensor(x) @ w.T).tanh().pow(2).sum()
            loss.backward()
            with lib.no_grad():
                if step % 2:
                    w -= 0.1 * lib.tensor(np.asarray(w.grad))
                else:
                    w.add_(lib.tensor(np.asarray(w.grad)), alpha=-0.1)
            w.grad = None
        runs.append(np.asarray(w.detach().numpy()))
    np.testing.assert_allclose(runs[0], runs[1], rtol=1e-12)
    assert not np.allclose(runs[0], w0)


def test_loss_accumulated_with_plus_equals_keeps_its_graph(torch):
    """`loss = 0; for t: loss += term`: on the tape += gives the sum and its gradient, as torch's."""
    r = np.random.default_rng(2)
    a = r.standard_normal(4)
    grads = []
    for lib in (tg, torch):
        w = lib.tensor(a, requires_grad=True)
        loss = 0
        for t in range(3):
            loss += (w * (t + 1)).sin().sum()
        loss.backward()
        grads.append(np.asarray(w.grad))
    np.testing.assert_allclose(grads[0], grads[1], rtol=1e-12)


def test_inplace_refusals_are_torch_s(torch):
    leaf = tg.ones(2, requires_grad=True)
    for op in (lambda t: t.add_(1), lambda t: t.__isub__(1), lambda t: t.uniform_()):
        with pytest.raises(RuntimeError, match="a leaf Variable that requires grad is being used in an in-place"):
            op(leaf)
    with pytest.raises(RuntimeError, match="result type Float can't be cast to the desired output type Long"):
        tg.tensor([1, 2]).mul_(2.5)
    with pytest.raises(RuntimeError, match=r"output with shape \[2\] doesn't match the broadcast shape \[2, 2\]"):
        tg.ones(2).add_(tg.ones(2, 2))
    with pytest.raises(RuntimeError, match=r"uniform_ expects to return a \[from, to\) range, but found from=1 > to"):
        tg.ones(2).uniform_(1, 0)
    with pytest.raises(RuntimeError, match="normal expects std >= 0.0, but found std -1"):
        tg.ones(2).normal_(0, -1)
    for message, fn in [("result type Float can't be cast", lambda: torch.tensor([1, 2]).mul_(2.5)),
                        ("doesn't match the broadcast shape", lambda: torch.ones(2).add_(torch.ones(2, 2)))]:
        with pytest.raises(RuntimeError, match=message):
            fn()


def test_inplace_write_into_an_array_a_graph_saved_is_caught_in_backward():
    """The guards of the index writes cover the math ones: a tensor saved for backward and then rewritten in
    place makes backward raise instead of using the new values."""
    w = tg.tensor([1.0, 2.0], requires_grad=True)
    x = tg.tensor([3.0, 4.0])
    y = (w * x).sum()
    x.mul_(10)
    with pytest.raises(RuntimeError, match="modified by an inplace operation"):
        y.backward()


def test_random_fills_follow_manual_seed_and_bounds():
    tg.manual_seed(0)
    a = tg.empty(1000).uniform_(-2, 3)
    tg.manual_seed(0)
    b = tg.empty(1000).uniform_(**{"from": -2, "to": 3})
    np.testing.assert_array_equal(a.numpy(), b.numpy())
    assert a.numpy().min() >= -2 and a.numpy().max() < 3 and a.dtype == np.float32
    n = tg.zeros(20000, dtype=tg.float64).normal_(1.0, 2.0).numpy()
    assert abs(n.mean() - 1.0) < 0.05 and abs(n.std() - 2.0) < 0.05


# ---- new tensors, dtypes -----------------------------------------------------------------------------------------
def test_new_and_type_as_take_self_s_dtype(torch):
    for lib in (tg, torch):
        x = lib.ones(2, dtype=lib.float64)
        got = [x.new_zeros(2, 3), x.new_ones((1,)), x.new_full((2,), 7), x.new_empty(3), x.new_tensor([1, 2]),
               lib.tensor([1, 2]).type_as(x)]
        assert [str(t.dtype).split(".")[-1] for t in got] == ["float64"] * 6
        assert got[0].shape == (2, 3) and got[2].tolist() == [7.0, 7.0]


def test_tensor_infers_int64_and_bool_as_torch_tensor_does(torch):
    for data in ([1, 2], [True, False], [1.5], 3, [[1, 2], [3, 4]], []):
        assert str(tg.tensor(data).dtype) == str(torch.tensor(data).dtype).split(".")[-1]
    assert tg.Tensor([1, 2]).dtype == np.float32                     # torch.Tensor: float32, whatever it holds


def test_tril_triu_outer_equal_torch_s_with_gradients(torch):
    r = np.random.default_rng(3)
    a, v, u = r.standard_normal((2, 3, 4)), r.standard_normal(3), r.standard_normal(5)
    for name, k in [("tril", 0), ("tril", -1), ("triu", 1), ("triu", 0)]:
        ours, theirs = _pair(torch, a, True)
        o, t = getattr(tg, name)(ours, k), getattr(torch, name)(theirs, k)
        np.testing.assert_array_equal(o.detach().numpy(), t.detach().numpy())
        (o * o).sum().backward()
        (t * t).sum().backward()
        np.testing.assert_allclose(ours.grad, theirs.grad.numpy(), rtol=1e-15)
    (ov, tv), (ou, tu) = _pair(torch, v, True), _pair(torch, u, True)
    o, t = tg.outer(ov, ou), torch.outer(tv, tu)
    np.testing.assert_allclose(o.detach().numpy(), t.detach().numpy(), rtol=1e-15)
    o.sin().sum().backward()
    t.sin().sum().backward()
    np.testing.assert_allclose(ov.grad, tv.grad.numpy(), rtol=1e-13)
    for fn, message in [(lambda lib: lib.tril(lib.ones(3)), "tril: input tensor must have at least 2 dimensions"),
                        (lambda lib: lib.outer(lib.ones(2, 2), lib.ones(2)), "outer: Expected 1-D argument self")]:
        for lib in (tg, torch):
            with pytest.raises(RuntimeError, match=message):
                fn(lib)


def test_from_numpy_shares_memory_and_refuses_what_torch_refuses(torch):
    a = np.arange(3.0)
    t = tg.from_numpy(a)
    a[0] = 7
    assert t.tolist() == [7.0, 1.0, 2.0] and t.dtype == np.float64
    for lib in (tg, torch):
        with pytest.raises(TypeError, match=r"expected np.ndarray \(got list\)"):
            lib.from_numpy([1, 2])


def test_bookkeeping_functions(torch):
    x = tg.ones(2, 3)
    assert tg.is_tensor(x) and not tg.is_tensor(np.ones(2)) and tg.numel(x) == 6
    assert tg.allclose(x, x + 1e-9) and not tg.allclose(x, x + 1e-3) and tg.equal(x, x.clone())
    assert tg.isclose(x, x).all().item()
    with pytest.raises(RuntimeError, match="Float did not match Double"):
        tg.allclose(x, x.double())
    assert tg.finfo(tg.float32).eps == torch.finfo(torch.float32).eps
    assert tg.iinfo(tg.int64).max == torch.iinfo(torch.int64).max
    assert tg.Size([2, 3]) == (2, 3) and tg.Size([2, 3]).numel() == 6 and repr(tg.Size([2, 3])) == "torch.Size([2, 3])"


def test_set_default_dtype_reaches_factories_and_layers(torch):
    assert tg.get_default_dtype() == tg.float32
    try:
        tg.set_default_dtype(tg.float64)
        assert tg.tensor([1.5]).dtype == np.float64 and tg.randn(2).dtype == np.float64
        assert nn.Linear(2, 2).weight.dtype == np.float64 and tg.get_default_dtype() == tg.float64
    finally:
        tg.set_default_dtype(tg.float32)
    assert tg.zeros(1).dtype == np.float32
    for lib in (tg, torch):
        with pytest.raises(TypeError, match="only floating-point types are supported as the default type"):
            lib.set_default_dtype(lib.int64)


def test_set_grad_enabled_as_call_context_and_decorator():
    w = tg.ones(2, requires_grad=True)
    with tg.set_grad_enabled(False):
        assert not (w * 2).requires_grad
    assert (w * 2).requires_grad
    tg.set_grad_enabled(False)
    try:
        assert not tg.is_grad_enabled()
    finally:
        tg.set_grad_enabled(True)

    @tg.set_grad_enabled(False)
    def evaluate():
        return (w * 2).requires_grad
    assert tg.is_grad_enabled() and evaluate() is False and tg.is_grad_enabled()
    with tg.inference_mode():
        assert not (w * 2).requires_grad
    with tg.inference_mode(False):
        assert (w * 2).requires_grad


def test_device_lines_of_a_gpu_script_pick_the_cpu():
    device = tg.device("cuda" if tg.cuda.is_available() else "cpu")
    tg.cuda.manual_seed_all(0)
    tg.backends.cudnn.deterministic = True
    x = tg.ones(2).to(device)
    model = nn.Linear(2, 1).to(device)                 # a device object, not only the string (it was refused)
    assert str(x.device) == "cpu" and tg.cuda.device_count() == 0 and model(x).shape == (1,)
    with pytest.raises(AssertionError, match="Torch not compiled with CUDA enabled"):
        tg.cuda.current_device()


def test_rng_state_round_trip_and_seeds():
    tg.manual_seed(11)
    assert tg.initial_seed() == 11
    state = tg.get_rng_state()
    first = tg.randn(5).numpy()
    tg.set_rng_state(state)
    np.testing.assert_array_equal(tg.randn(5).numpy(), first)
    s = tg.seed()
    assert tg.initial_seed() == s
    tg.manual_seed(s)
    again = tg.randn(3).numpy()
    tg.manual_seed(s)
    np.testing.assert_array_equal(tg.randn(3).numpy(), again)
    with pytest.raises(TypeError, match="expected a state from get_rng_state"):
        tg.set_rng_state([1, 2])


def test_set_num_threads_limits_the_pools_and_get_num_threads_reads_them(torch):
    from threadpoolctl import threadpool_info, threadpool_limits
    with threadpool_limits(limits=None):               # whatever the test changes is put back after it
        before = {p["filepath"]: p["num_threads"] for p in threadpool_info()}
        try:
            tg.set_num_threads(1)
            assert tg.get_num_threads() == 1
            assert all(p["num_threads"] == 1 for p in threadpool_info())
        finally:
            from threadpoolctl import ThreadpoolController
            controller = ThreadpoolController()
            for lib in controller.lib_controllers:
                if lib.filepath in before:
                    lib.set_num_threads(before[lib.filepath])
    for value, message in [(0, "set_num_threads expects a positive integer"),
                           (1.5, "set_num_threads expects an int, but got float")]:
        for lib in (tg, torch):
            with pytest.raises(RuntimeError, match=message):
                lib.set_num_threads(value)


def test_legacy_typed_constructors_as_torch_s(torch):
    for name in ("FloatTensor", "DoubleTensor", "LongTensor", "IntTensor", "BoolTensor"):
        for args in [(2, 3), ([1.7, 0.0, 2.0],), ()]:
            ours, theirs = getattr(tg, name)(*args), getattr(torch, name)(*args)
            assert ours.shape == tuple(theirs.shape), (name, args)
            assert str(ours.dtype) == str(theirs.dtype).split(".")[-1], (name, args)
            if args and not isinstance(args[0], int):
                np.testing.assert_array_equal(ours.numpy(), theirs.numpy())


def test_variable_is_a_leaf_over_the_same_memory():
    data = tg.tensor([1.0, 2.0])
    v = tg.autograd.Variable(data, requires_grad=True)
    (v * v).sum().backward()
    np.testing.assert_array_equal(v.grad, [2.0, 4.0])
    assert v.is_leaf and not data.requires_grad and np.shares_memory(v.data, data.data)
