"""The tape: construction, accumulation, graph freeing, no_grad, error messages."""
import gc
import sys
import weakref

import numpy as np
import pytest

import tinygrad_rnn as tg
from tinygrad_rnn import Tensor


def test_default_dtype_is_float32_and_float64_kept():
    assert Tensor([1, 2]).dtype == np.float32
    assert Tensor(np.arange(3.0)).dtype == np.float64
    assert Tensor(np.arange(3.0), dtype=np.float32).dtype == np.float32
    assert Tensor([1.0], dtype="float64").dtype == np.float64
    assert tg.zeros(2, 3, dtype=tg.float64).dtype == np.float64 and tg.ones((2,)).dtype == np.float32


def test_constructor_copies_and_rejects_non_numbers():
    a = np.ones(3)
    t = Tensor(a)
    a[0] = 5
    assert t.data[0] == 1
    with pytest.raises(TypeError, match="float32, float64, int64, int32 or bool.*complex64"):
        Tensor([1], dtype=np.complex64)          # (int64 is a dtype now: issue 13, tests/test_tensor_dtypes.py)
    with pytest.raises(TypeError, match="expected numbers"):
        Tensor(["a"])


def test_mixed_dtypes_are_an_error_not_a_silent_upcast():
    a, b = Tensor([1.0], dtype=np.float32), Tensor([1.0], dtype=np.float64)
    with pytest.raises(TypeError, match="same dtype.*float32 and float64"):
        a + b
    with pytest.raises(TypeError, match="same dtype"):
        a @ np.ones((1, 1))  # a float64 ndarray keeps its dtype
    assert (a * 2).dtype == np.float32 and (a + np.ones(1, dtype=np.int64)).dtype == np.float32


def test_tensor_used_twice_gets_twice_the_gradient():
    x = Tensor([3.0], requires_grad=True, dtype=np.float64)
    (x + x).backward()
    assert x.grad[0] == 2.0
    x.grad = None
    (x * x).backward()
    assert x.grad[0] == 6.0


def test_diamond_graph():
    x = Tensor([2.0], requires_grad=True, dtype=np.float64)
    a, b = x * 3, x.exp()
    (a * b).backward()  # d/dx 3x·eˣ = 3eˣ + 3x·eˣ
    np.testing.assert_allclose(x.grad, [3 * np.exp(2) * 3], rtol=1e-14)


def test_gradients_accumulate_across_backward_calls():
    x = Tensor([1.0, 2.0], requires_grad=True)
    (x * 2).sum().backward()
    (x * 3).sum().backward()
    np.testing.assert_array_equal(x.grad, [5, 5])


def test_leaf_grads_are_not_aliased():
    a, b = Tensor([1.0], requires_grad=True), Tensor([1.0], requires_grad=True)
    (a + b).sum().backward()
    a.grad *= 10  # an in-place clip of one leaf's grad must not touch the other
    assert b.grad[0] == 1.0


def test_long_chain_has_no_recursion():
    x = Tensor([1.0], requires_grad=True, dtype=np.float64)
    y = x
    for _ in range(10_000):
        y = y * 1.0001
    limit = sys.getrecursionlimit()
    assert limit <= 10_000
    y.backward()
    np.testing.assert_allclose(x.grad, [1.0001**10_000], rtol=1e-10)
    del y
    gc.collect()


def test_no_grad_records_nothing():
    x = Tensor([1.0], requires_grad=True)
    with tg.no_grad():
        y = x * 2
        assert not tg.is_grad_enabled()
        with tg.enable_grad():
            z = x * 2
    assert tg.is_grad_enabled()
    assert y._ctx is None and not y.requires_grad
    assert z.requires_grad

    @tg.no_grad()
    def f(t):
        return t * 2

    assert f(x)._ctx is None


def test_saved_arrays_are_released_after_backward():
    x = Tensor(np.ones(4), requires_grad=True)
    h = x.tanh()  # Tanh saves its output
    y = (h * 2).sum()
    saved = weakref.ref(h._ctx.saved[0])
    mid = weakref.ref(h)
    del h
    assert saved() is not None and mid() is not None
    y.backward()
    gc.collect()
    assert saved() is None and mid() is None


def test_second_backward_needs_retain_graph():
    x = Tensor([2.0], requires_grad=True, dtype=np.float64)
    y = (x * x).sum()
    y.backward(retain_graph=True)
    y.backward()
    assert x.grad[0] == 8.0
    with pytest.raises(RuntimeError, match="retain_graph=True"):
        y.backward()


def test_backward_of_non_scalar_needs_gradient():
    x = Tensor([1.0, 2.0], requires_grad=True)
    y = x * 2
    with pytest.raises(RuntimeError, match="grad can be implicitly created only for scalar outputs"):
        y.backward()
    with pytest.raises(RuntimeError, match="Mismatch in shape"):
        y.backward(np.ones(3))
    y.backward(np.array([1.0, 10.0]))
    np.testing.assert_array_equal(x.grad, [2, 20])


def test_backward_without_grad_raises():
    with pytest.raises(RuntimeError, match="does not require grad"):
        Tensor([1.0]).sum().backward()


def test_gradient_reaches_only_what_requires_it():
    x, c = Tensor([1.0], requires_grad=True), Tensor([5.0])
    (x * c + c).sum().backward()
    assert x.grad[0] == 5.0 and c.grad is None


def test_unused_branch_does_not_block_other_gradients():
    x = Tensor([1.0, 2.0], requires_grad=True, dtype=np.float64)
    dead = x[0:1] * 0  # gets a gradient of zero via a branch that receives no gradient at all
    out = tg.where(np.array([True, False]), x, dead)
    out[0:1].sum().backward()
    np.testing.assert_array_equal(x.grad, [1, 0])


def test_detach_item_numpy_requires_grad():
    x = Tensor([[1.5]], requires_grad=True)
    assert x.item() == 1.5
    with pytest.raises(RuntimeError, match="detach"):
        x.numpy()
    d = (x * 2).detach()
    assert not d.requires_grad and d._ctx is None and d.numpy()[0, 0] == 3.0
    with pytest.raises(ValueError, match="2 elements"):
        Tensor([1.0, 2.0]).item()
    t = Tensor([1.0]).requires_grad_()
    assert t.requires_grad
    with pytest.raises(RuntimeError, match="leaf"):
        (t * 2).requires_grad_(False)


def test_repr():
    assert repr(Tensor([1.0, 2.0])) == "tensor([1., 2.])"
    assert repr(Tensor([1.0], dtype=np.float64, requires_grad=True)) == "tensor([1.], dtype=float64, requires_grad=True)"
    assert repr(Tensor([1.0], requires_grad=True) * 2) == "tensor([2.], grad_fn=<MulBackward>)"


def test_manual_seed_is_reproducible():
    tg.manual_seed(7)
    a = tg.randn(3, dtype=tg.float64)
    tg.manual_seed(7)
    np.testing.assert_array_equal(a.data, tg.randn(3, dtype=tg.float64).data)


def test_multi_output_node_runs_once_with_all_gradients(rng):
    x = Tensor(rng.standard_normal((6, 2)), requires_grad=True, dtype=np.float64)
    a, b, c = x.split([1, 2, 3])
    assert a._ctx is b._ctx and a._ctx.n_out == 3
    (b * 2).sum().backward(retain_graph=True)  # a and c unused: their pieces' gradient is zero
    np.testing.assert_array_equal(x.grad, [[0, 0], [2, 2], [2, 2], [0, 0], [0, 0], [0, 0]])
    x.grad = None
    steps = x.unbind(0)
    assert len(steps) == 6 and steps[0].shape == (2,)
    (steps[5] * steps[0] + steps[0]).sum().backward()
    expected = np.zeros((6, 2))
    expected[0] = x.data[5] + 1
    expected[5] = x.data[0]
    np.testing.assert_allclose(x.grad, expected)


def test_backward_from_one_output_of_a_multi_output_node(rng):
    x = Tensor(rng.standard_normal(4), requires_grad=True, dtype=np.float64)
    first, second = x.chunk(2)
    second.backward(np.array([3.0, 4.0]))
    np.testing.assert_array_equal(x.grad, [0, 0, 3, 4])


def test_outer_sum_gradient_equals_dense_sum(rng):
    """A backward may hand a shared weight its gradient as factors; the tape reduces them in one GEMM."""
    from tinygrad_rnn.fused import OuterSum

    class RowTimesW(tg.Function):
        """y = x @ wᵀ, with ∂w returned as an OuterSum"""

        @staticmethod
        def forward(ctx, x, w):
            ctx.save_for_backward(x, w)
            return x @ w.T

        @staticmethod
        def backward(ctx, g):
            x, w = ctx.saved
            return g @ w, OuterSum(g, x)

    w = Tensor(rng.standard_normal((3, 2)), requires_grad=True, dtype=np.float64)
    xs = [Tensor(rng.standard_normal((4, 2)), requires_grad=True, dtype=np.float64) for _ in range(5)]
    h = xs[0]
    out = sum((RowTimesW.apply(x, w) ** 2).sum() for x in xs) + (w * w).sum()  # w also used densely
    out.backward()
    expected = sum(2 * (x.data @ w.data.T).T @ x.data for x in xs) + 2 * w.data
    np.testing.assert_allclose(w.grad, expected, rtol=1e-12)
    assert tg.gradcheck(lambda w, x: RowTimesW.apply(x, w).tanh() + RowTimesW.apply(x * 2, w), (w, h))
