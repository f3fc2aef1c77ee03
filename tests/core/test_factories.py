"""The factories (zeros_like … multinomial): values, dtypes and errors as torch's; random ones seeded by manual_seed,
with their distributions checked on many draws (a fixed seed, so the bounds below are met every run)."""
import numpy as np
import pytest

import tinygrad_rnn as tg

DTYPES = {"float32": np.float32, "float64": np.float64, "int64": np.int64, "int32": np.int32, "bool": np.bool_}


def torch_dtype(torch, dt):
    return {np.float32: torch.float32, np.float64: torch.float64, np.int64: torch.int64, np.int32: torch.int32,
            np.bool_: torch.bool}[np.dtype(dt).type]


def same(ours, theirs):
    assert ours.shape == tuple(theirs.shape)
    assert str(ours.dtype) == str(theirs.dtype).replace("torch.", "")
    np.testing.assert_allclose(ours.numpy().astype(np.float64), theirs.numpy().astype(np.float64), rtol=1e-6,
                               atol=1e-7)


CASES = {
    "arange_int": (lambda m: m.arange(5), {}),
    "arange_start_end": (lambda m: m.arange(2, 9, 3), {}),
    "arange_float_step": (lambda m: m.arange(0, 1, 0.1), {}),
    "arange_float_bounds": (lambda m: m.arange(1, 2.5, 0.5), {}),
    "arange_negative": (lambda m: m.arange(5, -3, -2), {}),
    "arange_empty": (lambda m: m.arange(3, 3), {}),
    "linspace": (lambda m: m.linspace(-1, 2, 7), {}),
    "linspace_one": (lambda m: m.linspace(0, 1, 1), {}),
    "linspace_zero": (lambda m: m.linspace(0, 1, 0), {}),
    "eye": (lambda m: m.eye(3), {}),
    "eye_rect": (lambda m: m.eye(2, 4), {}),
    "full_int": (lambda m: m.full((2, 3), 7), {}),
    "full_float": (lambda m: m.full((2,), 1.5), {}),
    "full_bool": (lambda m: m.full((2,), True), {}),
    "zeros_tuple": (lambda m: m.zeros((2, 0, 3)), {}),
    "ones_varargs": (lambda m: m.ones(2, 3), {}),
    "empty_shape": (lambda m: m.empty(4, 2).shape, {}),
}


@pytest.mark.parametrize("name", CASES)
def test_deterministic_factories_equal_torch(name, torch):
    make, _ = CASES[name]
    ours, theirs = make(tg), make(torch)
    if isinstance(ours, tuple):
        assert ours == tuple(theirs)
    else:
        same(ours, theirs)


@pytest.mark.parametrize("dt", list(DTYPES))
def test_dtype_argument_is_honoured(dt, torch):
    for make in (lambda m, d: m.zeros(2, 3, dtype=d), lambda m, d: m.ones((3,), dtype=d),
                 lambda m, d: m.full((2,), 1, dtype=d), lambda m, d: m.eye(3, dtype=d)):
        same(make(tg, DTYPES[dt]), make(torch, torch_dtype(torch, DTYPES[dt])))
    if dt != "bool":                                  # torch has no bool arange: see ERRORS
        same(tg.arange(4, dtype=DTYPES[dt]), torch.arange(4, dtype=torch_dtype(torch, DTYPES[dt])))
        same(tg.linspace(0, 3, 4, dtype=DTYPES[dt]), torch.linspace(0, 3, 4, dtype=torch_dtype(torch, DTYPES[dt])))


@pytest.mark.parametrize("dt", list(DTYPES))
def test_like_factories_keep_shape_and_dtype(dt, torch):
    src = np.arange(6).reshape(2, 3).astype(DTYPES[dt])
    for name in ("zeros_like", "ones_like"):
        same(getattr(tg, name)(tg.tensor(src)), getattr(torch, name)(torch.from_numpy(src)))
    same(tg.full_like(tg.tensor(src), 2.7), torch.full_like(torch.from_numpy(src), 2.7))
    same(tg.zeros_like(tg.tensor(src), dtype=tg.float64), torch.zeros_like(torch.from_numpy(src), dtype=torch.float64))


def test_requires_grad_on_factories():
    t = tg.zeros(2, 2, requires_grad=True)
    (t * 3).sum().backward()
    np.testing.assert_array_equal(t.grad, np.full((2, 2), 3, np.float32))
    assert tg.rand(3, requires_grad=True).requires_grad and tg.arange(3.0, requires_grad=True).requires_grad


ERRORS = {
    "zeros_negative": (lambda m: m.zeros(-1, 2), RuntimeError, "zeros: Dimension size must be non-negative."),
    "ones_negative": (lambda m: m.ones(-1), RuntimeError, "Trying to create tensor with negative dimension -1: [-1]"),
    "rand_negative": (lambda m: m.rand(3, -1), RuntimeError, "negative dimension -1: [3, -1]"),
    "arange_zero_step": (lambda m: m.arange(0, 5, 0), RuntimeError, "step must be nonzero"),
    "arange_wrong_sign": (lambda m: m.arange(5, 0, 1), RuntimeError, "upper bound and lower bound inconsistent"),
    "linspace_negative": (lambda m: m.linspace(0, 1, -1), RuntimeError, "number of steps must be non-negative"),
    "eye_negative": (lambda m: m.eye(-1), RuntimeError, "n must be greater or equal to 0, got -1"),
    "randint_empty_range": (lambda m: m.randint(5, 3, (2,)), RuntimeError, "expects 'from' to be less than 'to'"),
    "randperm_negative": (lambda m: m.randperm(-1), RuntimeError, "negative dimension -1"),
    "arange_bool": (lambda m: m.arange(3, dtype=m.bool), NotImplementedError, "not implemented for 'Bool'"),
    "linspace_bool": (lambda m: m.linspace(0, 1, 3, dtype=m.bool), NotImplementedError, "not implemented for 'Bool'"),
    "rand_int_dtype": (lambda m: m.rand(2, dtype=m.int64), NotImplementedError, "check_uniform_bounds"),
    "randn_int_dtype": (lambda m: m.randn(2, dtype=m.int64), NotImplementedError, "normal_kernel_cpu"),
    "int_requires_grad": (lambda m: m.zeros((2,), dtype=m.int64, requires_grad=True), RuntimeError,
                          "Only Tensors of floating point"),
    "multinomial_negative": (lambda m: m.multinomial(m.tensor([0.5, -1.0]), 1), RuntimeError,
                             "probability tensor contains either `inf`, `nan` or element < 0"),
    "multinomial_nan": (lambda m: m.multinomial(m.tensor([0.5, float("nan")]), 1), RuntimeError,
                        "probability tensor contains either `inf`, `nan` or element < 0"),
    "multinomial_zero_sum": (lambda m: m.multinomial(m.tensor([0.0, 0.0]), 1), RuntimeError,
                             "invalid multinomial distribution (sum of probabilities <= 0)"),
    "multinomial_too_many": (lambda m: m.multinomial(m.tensor([1.0, 1.0]), 3), RuntimeError,
                             "cannot sample n_sample > prob_dist.size(-1) samples without replacement"),
    "multinomial_3d": (lambda m: m.multinomial(m.tensor([[[1.0, 1.0]]]), 1), RuntimeError,
                       "prob_dist must be 1 or 2 dim"),
    "multinomial_zero_samples": (lambda m: m.multinomial(m.tensor([1.0, 1.0]), 0), RuntimeError,
                                 "cannot sample n_sample <= 0 samples"),
    "multinomial_int": (lambda m: m.multinomial(m.tensor([1.0, 1.0]).long(), 1), RuntimeError,
                        "multinomial only supports floating-point dtypes for input, got: Long"),
}


@pytest.mark.parametrize("name", ERRORS)
def test_errors_say_what_torch_says(name, torch):
    make, kind, needle = ERRORS[name]
    with pytest.raises(kind) as ours:
        make(tg)
    with pytest.raises(kind) as theirs:
        make(torch)
    assert needle in str(ours.value) and needle in str(theirs.value)


def test_size_must_be_ints():
    with pytest.raises(TypeError, match="argument 'size' must be tuple of ints"):
        tg.zeros(2.5)


@pytest.mark.parametrize("make", [lambda: tg.rand(3, 4), lambda: tg.randn(5), lambda: tg.randint(10, (6,)),
                                  lambda: tg.randperm(7), lambda: tg.rand_like(tg.zeros(2, 2, dtype=tg.float64)),
                                  lambda: tg.multinomial(tg.tensor([0.2, 0.3, 0.5]), 4, replacement=True),
                                  lambda: tg.tensor([0.2, 0.3, 0.5]).multinomial(2)])
def test_random_factories_repeat_under_manual_seed(make):
    tg.manual_seed(7)
    a = make().numpy()
    tg.manual_seed(7)
    b = make().numpy()
    tg.manual_seed(8)
    c = make().numpy()
    np.testing.assert_array_equal(a, b)
    assert a.dtype == b.dtype and (a.size <= 1 or not np.array_equal(a, c))


def test_random_distributions():
    tg.manual_seed(0)
    u = tg.rand(200_000).numpy()
    assert u.dtype == np.float32 and u.min() >= 0 and u.max() < 1 and abs(u.mean() - 0.5) < 0.005
    n = tg.randn(200_000, dtype=tg.float64).numpy()
    assert n.dtype == np.float64 and abs(n.mean()) < 0.01 and abs(n.std() - 1) < 0.01
    r = tg.randint(3, 8, (100_000,)).numpy()
    assert r.dtype == np.int64 and set(np.unique(r)) == {3, 4, 5, 6, 7}
    np.testing.assert_allclose(np.bincount(r)[3:] / r.size, 0.2, atol=0.01)
    assert sorted(tg.randperm(50).tolist()) == list(range(50))


def test_multinomial_with_replacement_follows_the_weights():
    tg.manual_seed(1)
    w = np.array([[1.0, 0.0, 3.0, 6.0], [0.0, 0.0, 5.0, 5.0]])
    draws = tg.multinomial(tg.tensor(w), 50_000, replacement=True).numpy()
    assert draws.shape == (2, 50_000) and draws.dtype == np.int64
    for row, weights in zip(draws, w):
        freq = np.bincount(row, minlength=4) / row.size
        np.testing.assert_allclose(freq, weights / weights.sum(), atol=0.01)
        assert freq[weights == 0].sum() == 0                      # a zero weight is never drawn


def test_multinomial_without_replacement():
    tg.manual_seed(2)
    w = tg.tensor([0.1, 0.2, 0.3, 0.4])
    firsts = []
    for _ in range(4000):
        s = tg.multinomial(w, 4).tolist()
        assert sorted(s) == [0, 1, 2, 3]                          # each category once
        firsts.append(s[0])
    np.testing.assert_allclose(np.bincount(firsts) / 4000, [0.1, 0.2, 0.3, 0.4], atol=0.03)
    out = tg.multinomial(tg.tensor([0.0, 1.0, 0.0]), 2).tolist()  # the positive weight first, then a zero one
    assert out[0] == 1 and out[1] in (0, 2)


def test_a_pytorch_style_sampling_loop():
    """A char-LM's sampling step written for torch: softmax, multinomial, .item() as the next index."""
    tg.manual_seed(3)
    logits = tg.randn(1, 10)
    seq = []
    for _ in range(20):
        probs = (logits / 0.8).softmax(dim=-1)
        idx = tg.multinomial(probs, num_samples=1).item()
        seq.append(idx)
        logits = logits + tg.zeros(1, 10)
    assert all(isinstance(i, int) and 0 <= i < 10 for i in seq)
