"""gradcheck itself: passes right gradients, names the input and element of a wrong one."""
import numpy as np
import pytest

from tinygrad_rnn import Function, GradcheckError, Tensor, gradcheck


class WrongSquare(Function):
    """a² with a deliberately wrong backward (3a instead of 2a)"""

    @staticmethod
    def forward(ctx, a):
        ctx.save_for_backward(a)
        return a * a

    @staticmethod
    def backward(ctx, g):
        return g * 3 * ctx.saved[0]


def test_passes_a_right_gradient(rng):
    x = Tensor(rng.standard_normal((2, 3)), requires_grad=True, dtype=np.float64)
    assert gradcheck(lambda x: x * x, (x,))


def test_names_input_index_and_values(rng):
    c = Tensor(rng.standard_normal(2), requires_grad=True, dtype=np.float64)
    x = Tensor(np.array([[1.0, 2.0], [3.0, 4.0]]), requires_grad=True, dtype=np.float64)
    with pytest.raises(GradcheckError, match=r"input 1 at index \(0, 0\): analytic .*, numerical "):
        gradcheck(lambda c, x: WrongSquare.apply(x) + c, (c, x))
    assert gradcheck(lambda x: WrongSquare.apply(x), (x,), raise_exception=False) is False


def test_checks_every_output_of_a_tuple(rng):
    x = Tensor(rng.standard_normal(3), requires_grad=True, dtype=np.float64)
    assert gradcheck(lambda x: (x.tanh(), x * 2), (x,))
    with pytest.raises(GradcheckError):
        gradcheck(lambda x: (x.tanh(), WrongSquare.apply(x)), (x,))


def test_refuses_float32_and_restores_grads(rng):
    with pytest.raises(TypeError, match="float64"):
        gradcheck(lambda x: x, (Tensor([1.0], requires_grad=True),))
    x = Tensor([1.0, 2.0], requires_grad=True, dtype=np.float64)
    x.grad = np.array([7.0, 7.0])
    gradcheck(lambda x: x * x, (x,))
    np.testing.assert_array_equal(x.grad, [7, 7])
    np.testing.assert_array_equal(x.data, [1, 2])
