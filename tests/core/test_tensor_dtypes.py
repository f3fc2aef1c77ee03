"""Integer and bool tensors (issue 13, part 1): dtypes, conversions, PyTorch's promotion, comparisons and logic,
indexing with integer and bool tensors, argmax/argmin, amax/amin. Each case against a value known without torch
and, when torch is importable, against torch 2.13 (the same call, its values and messages)."""
import numpy as np
import pytest

import tinygrad_rnn as tg
from tinygrad_rnn import Tensor


def torch_or_skip():
    return pytest.importorskip("torch")


def same(ours, theirs):
    """Same values and the same dtype name as a torch tensor."""
    np.testing.assert_array_equal(ours.data, theirs.numpy())
    assert ours.data.dtype == theirs.numpy().dtype, (ours.data.dtype, theirs.dtype)


# ---- construction ---------------------------------------------------------------------------------------------
@pytest.mark.parametrize("dtype", [np.int64, np.int32, np.bool_, np.float32, np.float64])
def test_ndarrays_keep_their_dtype(dtype):
    data = np.array([1, 0, 3]).astype(dtype)
    t = Tensor(data)
    assert t.dtype == dtype and t.requires_grad is False
    np.testing.assert_array_equal(t.data, data)
    torch = torch_or_skip()
    assert str(torch.from_numpy(data).dtype).endswith(str(np.dtype(dtype)).replace("bool", "bool"))


def test_other_integer_widths_become_int64():
    for dtype in (np.int8, np.int16, np.uint8, np.uint16, np.uint32):
        assert Tensor(np.array([1, 2], dtype=dtype)).dtype == np.int64


def test_python_data_stays_float32_unless_a_dtype_says_otherwise():
    """The engine's rule for Python data (PyTorch's differs: torch.tensor([1, 2]) is int64)."""
    assert Tensor([1, 2, 3]).dtype == np.float32
    assert Tensor([True, False]).dtype == np.float32
    assert Tensor(3).dtype == np.float32
    assert Tensor([1, 2], dtype=tg.int64).dtype == np.int64
    assert Tensor([1, 2], dtype=tg.long).dtype == np.int64
    assert Tensor([1, 2], dtype=tg.int32).dtype == np.int32
    assert Tensor([1, 0], dtype=tg.bool).tolist() == [True, False]
    assert tg.tensor([1.7, -1.7], dtype=tg.int64).tolist() == [1, -1]      # truncation toward 0, as torch
    assert tg.zeros(2, 3, dtype=tg.int64).dtype == np.int64 and tg.ones(2, dtype=tg.bool).tolist() == [True, True]
    torch = torch_or_skip()
    assert torch.tensor([1.7, -1.7], dtype=torch.int64).tolist() == [1, -1]


def test_unknown_dtype_is_refused():
    with pytest.raises(TypeError, match="float32, float64, int64, int32 or bool"):
        Tensor([1], dtype=np.complex64)
    with pytest.raises(TypeError, match="float32, float64, int64, int32 or bool"):
        tg.randn(2, dtype=np.complex64)
    with pytest.raises(NotImplementedError, match="normal_kernel_cpu"):     # torch's error for an int randn
        tg.randn(2, dtype=tg.int64)


def test_exported_names_are_torch_s():
    assert (tg.int64, tg.long, tg.int32, tg.int, tg.bool, tg.float, tg.double) == (
        np.int64, np.int64, np.int32, np.int32, np.bool_, np.float32, np.float64)
    torch = torch_or_skip()
    assert torch.int is torch.int32 and torch.long is torch.int64 and torch.float is torch.float32


@pytest.mark.parametrize("make", [lambda: Tensor(np.array([1, 2]), requires_grad=True),
                                  lambda: Tensor([1, 2], dtype=tg.bool, requires_grad=True),
                                  lambda: tg.zeros(2, dtype=tg.int32, requires_grad=True)])
def test_requires_grad_on_integers_is_torch_s_error(make):
    with pytest.raises(RuntimeError, match=r"(?i)only Tensors of floating point (and complex )?dtype can require"):
        make()
    torch = torch_or_skip()
    with pytest.raises(RuntimeError) as theirs:
        torch.tensor([1, 2], requires_grad=True)
    with pytest.raises(RuntimeError) as ours:
        Tensor([1, 2], dtype=tg.int64, requires_grad=True)
    assert str(ours.value) == str(theirs.value)
    with pytest.raises(RuntimeError) as theirs:
        torch.tensor([1, 2]).requires_grad_()
    with pytest.raises(RuntimeError) as ours:
        Tensor([1, 2], dtype=tg.int64).requires_grad_()
    assert str(ours.value) == str(theirs.value)


def test_repr_hides_the_default_dtypes_as_torch():
    assert repr(Tensor(np.array([1, 2]))) == "tensor([1, 2])"
    assert repr(Tensor(np.array([True, False]))) == "tensor([ True, False])"
    assert repr(Tensor(np.array([1, 2], np.int32))) == "tensor([1, 2], dtype=int32)"


# ---- conversions --------------------------------------------------------------------------------------------
def test_conversions_between_every_dtype():
    x = Tensor([1.5, -2.5, 0.0])
    assert x.long().tolist() == [1, -2, 0] and x.long().dtype == np.int64
    assert x.int().dtype == np.int32 and x.bool().tolist() == [True, True, False]
    assert x.long().float().tolist() == [1.0, -2.0, 0.0] and x.long().double().dtype == np.float64
    assert x.to(tg.int64).dtype == np.int64 and x.type(tg.int32).dtype == np.int32
    assert x.to("cpu") is x and x.to("cpu", tg.float64).dtype == np.float64 and x.to(x) is x
    assert x.to(Tensor(np.array([1]))).dtype == np.int64
    assert x.float() is x
    assert [t.type() for t in (x, x.double(), x.long(), x.int(), x.bool())] == [
        "torch.FloatTensor", "torch.DoubleTensor", "torch.LongTensor", "torch.IntTensor", "torch.BoolTensor"]
    torch = torch_or_skip()
    tx = torch.tensor([1.5, -2.5, 0.0])
    same(x.long(), tx.long())
    same(x.int(), tx.int())
    same(x.bool(), tx.bool())
    assert [t.type() for t in (tx, tx.double(), tx.long(), tx.int(), tx.bool())] == [
        "torch.FloatTensor", "torch.DoubleTensor", "torch.LongTensor", "torch.IntTensor", "torch.BoolTensor"]


def test_float_to_integer_leaves_the_tape_and_float_to_float_stays_on_it():
    x = Tensor([1.5, 2.5], requires_grad=True)
    assert x.long().requires_grad is False and x.long().grad_fn is None
    y = x.double()
    assert y.requires_grad and y.dtype == np.float64
    (y * 2).sum().backward()
    np.testing.assert_array_equal(x.grad, [2, 2])
    assert x.grad.dtype == np.float32
    torch = torch_or_skip()
    assert torch.tensor([1.5], requires_grad=True).long().requires_grad is False


def test_other_devices_are_refused():
    with pytest.raises(RuntimeError, match="CPU only"):
        Tensor([1.0]).to("cuda")


# ---- arithmetic and promotion -------------------------------------------------------------------------------
def test_integer_arithmetic_stays_integer_and_off_the_tape():
    a, b = Tensor(np.array([1, 2, 3])), Tensor(np.array([4, 5, 6]))
    for out, want in [(a + b, [5, 7, 9]), (a - b, [-3, -3, -3]), (a * b, [4, 10, 18]), (a + 1, [2, 3, 4]),
                      (2 * a, [2, 4, 6]), (a ** 2, [1, 4, 9]), (-a, [-1, -2, -3]), (a.sum(), 6)]:
        assert out.dtype == np.int64 and out.grad_fn is None and not out.requires_grad
        np.testing.assert_array_equal(out.data, want)
    assert (Tensor(np.array([1, 2], np.int32)) + Tensor(np.array([1, 2]))).dtype == np.int64
    assert (Tensor(np.array([1, 2], np.int32)) + 2).dtype == np.int32
    torch = torch_or_skip()
    ta, tb = torch.tensor([1, 2, 3]), torch.tensor([4, 5, 6])
    same(a + b, ta + tb)
    same(a * b, ta * tb)
    same(a.sum(), ta.sum())
    same(Tensor(np.array([1, 2], np.int32)) + 2, torch.tensor([1, 2], dtype=torch.int32) + 2)
    same(Tensor(np.array([1, 2], np.int32)) + Tensor(np.array([1, 2])),
         torch.tensor([1, 2], dtype=torch.int32) + torch.tensor([1, 2]))


def test_integer_with_float_promotes_to_the_float_dtype():
    """int + Python float is float32; an int tensor with a float tensor takes the float tensor's dtype; int / int is
    true division in float32: PyTorch's promotion. (float32 with float64 stays an error.)"""
    i = Tensor(np.array([1, 2, 3]))
    x = Tensor([0.5, 0.5, 0.5], requires_grad=True, dtype=tg.float64)
    for out, want, dtype in [(i + 0.5, [1.5, 2.5, 3.5], np.float32), (i / 2, [0.5, 1.0, 1.5], np.float32),
                             (i / i, [1, 1, 1], np.float32), (i * x, [0.5, 1.0, 1.5], np.float64),
                             (x + i, [1.5, 2.5, 3.5], np.float64), (Tensor([True, False], dtype=tg.bool) + 1,
                                                                    [2, 1], np.int64)]:
        assert out.dtype == dtype
        np.testing.assert_array_equal(out.data, want)
    (i * x).sum().backward()
    np.testing.assert_array_equal(x.grad, [1, 2, 3])
    with pytest.raises(TypeError, match="same dtype, but got float32 and float64"):
        Tensor([1.0]) + Tensor([1.0], dtype=tg.float64)
    torch = torch_or_skip()
    ti = torch.tensor([1, 2, 3])
    tx = torch.tensor([0.5, 0.5, 0.5], dtype=torch.float64, requires_grad=True)
    same(i + 0.5, ti + 0.5)
    same(i / 2, ti / 2)
    same(i / i, ti / ti)
    same((i * x).detach(), (ti * tx).detach())
    same(Tensor([True, False], dtype=tg.bool) + 1, torch.tensor([True, False]) + 1)
    (ti * tx).sum().backward()
    np.testing.assert_array_equal(x.grad, tx.grad.numpy())


def test_float_math_on_integers_is_float32():
    i = Tensor(np.array([0, 1, 2]))
    np.testing.assert_allclose(i.exp().data, np.exp([0.0, 1.0, 2.0]).astype(np.float32))
    assert i.exp().dtype == i.sigmoid().dtype == i.tanh().dtype == i.log_softmax().dtype == np.float32
    with pytest.raises(RuntimeError, match="mean\\(\\): could not infer output dtype"):
        i.mean()
    torch = torch_or_skip()
    ti = torch.tensor([0, 1, 2])
    np.testing.assert_allclose(i.exp().data, ti.exp().numpy(), rtol=1e-6)
    assert i.exp().data.dtype == ti.exp().numpy().dtype
    np.testing.assert_allclose(i.sigmoid().data, ti.sigmoid().numpy(), rtol=1e-6)
    with pytest.raises(RuntimeError) as theirs:
        ti.mean()
    with pytest.raises(RuntimeError) as ours:
        i.mean()
    assert str(ours.value) == str(theirs.value)


# ---- comparisons and logic ------------------------------------------------------------------------------------
CMP = {"==": lambda a, b: a == b, "!=": lambda a, b: a != b, "<": lambda a, b: a < b, "<=": lambda a, b: a <= b,
       ">": lambda a, b: a > b, ">=": lambda a, b: a >= b}


@pytest.mark.parametrize("op", list(CMP))
def test_comparisons_are_bool_tensors_without_gradient(op):
    a = np.array([[1.0, 2.0, 3.0], [3.0, 2.0, 1.0]], np.float32)
    b = np.array([2.0, 2.0, 2.0], np.float32)
    x = Tensor(a, requires_grad=True)
    for other, raw in [(Tensor(b), b), (2.0, 2.0), (2, 2), (b, b)]:
        out = CMP[op](x, other)
        assert out.dtype == np.bool_ and not out.requires_grad and out.grad_fn is None
        np.testing.assert_array_equal(out.data, CMP[op](a, raw))
    np.testing.assert_array_equal(CMP[op](2.0, x).data, CMP[op](2.0, a))   # the reflected form
    method = {"==": "eq", "!=": "ne", "<": "lt", "<=": "le", ">": "gt", ">=": "ge"}[op]
    np.testing.assert_array_equal(getattr(x, method)(Tensor(b)).data, CMP[op](a, b))
    torch = torch_or_skip()
    same(CMP[op](x, Tensor(b)), CMP[op](torch.from_numpy(a), torch.from_numpy(b)))
    same(CMP[op](x, 2.0), CMP[op](torch.from_numpy(a), 2.0))
    same(getattr(x, method)(2), getattr(torch.from_numpy(a), method)(2))


def test_comparisons_of_float32_with_python_floats_are_in_float32_as_torch():
    x = Tensor([0.1])
    assert (x == 0.1).tolist() == [True]
    torch = torch_or_skip()
    assert (torch.tensor([0.1]) == 0.1).tolist() == [True]


def test_tensors_still_key_dicts_and_sets_by_identity():
    a, b = Tensor([1.0, 2.0]), Tensor([1.0, 2.0])
    seen = {a: "a", b: "b"}
    assert seen[a] == "a" and seen[b] == "b" and len({a, b, a}) == 2
    assert hash(a) == object.__hash__(a)
    assert (a == None) is False and (a != None) is True   # noqa: E711  (as torch: Python's answer, not a tensor)


def test_logic_on_bool_tensors():
    p = Tensor(np.array([True, True, False, False]))
    q = Tensor(np.array([True, False, True, False]))
    assert (p & q).tolist() == [True, False, False, False]
    assert (p | q).tolist() == [True, True, True, False]
    assert (p ^ q).tolist() == [False, True, True, False]
    assert (~p).tolist() == [False, False, True, True]
    assert (p & True).tolist() == [True, True, False, False]
    assert (np.array([True, False, True, False]) & p).tolist() == [True, False, False, False]
    assert (Tensor(np.array([1, 3])) & 1).tolist() == [1, 1] and (~Tensor(np.array([1, 2]))).tolist() == [-2, -3]
    assert p.logical_not().tolist() == [False, False, True, True]
    assert p.logical_xor(q).tolist() == [False, True, True, False]
    torch = torch_or_skip()
    tp, tq = torch.tensor([True, True, False, False]), torch.tensor([True, False, True, False])
    same(p & q, tp & tq)
    same(p ^ q, tp ^ tq)
    same(~p, ~tp)
    same(~Tensor(np.array([1, 2])), ~torch.tensor([1, 2]))


def test_logic_on_float_tensors_raises_torch_s_errors():
    x = Tensor([1.0])
    with pytest.raises(TypeError, match=r"^~ \(operator.invert\) is only implemented on integer and Boolean-type "
                                        r"tensors$"):
        ~x
    with pytest.raises(NotImplementedError, match="\"bitwise_and_cpu\" not implemented for 'Float'"):
        x & x
    torch = torch_or_skip()
    for fn in (lambda t: ~t, lambda t: t & t, lambda t: t | t):
        with pytest.raises((TypeError, NotImplementedError)) as theirs:
            fn(torch.tensor([1.0]))
        with pytest.raises((TypeError, NotImplementedError)) as ours:
            fn(x)
        assert type(ours.value) is type(theirs.value) and str(ours.value) == str(theirs.value)


def test_isnan_isinf_isfinite_any_all():
    x = Tensor([0.0, np.nan, np.inf, -np.inf, 1.0])
    assert x.isnan().tolist() == [False, True, False, False, False]
    assert x.isinf().tolist() == [False, False, True, True, False]
    assert x.isfinite().tolist() == [True, False, False, False, True]
    m = Tensor(np.array([[True, False], [True, True]]))
    assert m.any().item() is True and m.all().item() is False
    assert m.all(dim=1).tolist() == [False, True] and m.any(0, keepdim=True).tolist() == [[True, True]]
    assert Tensor([1.0, 0.0]).all().dtype == np.bool_
    torch = torch_or_skip()
    tx = torch.tensor([0.0, np.nan, np.inf, -np.inf, 1.0])
    same(x.isnan(), tx.isnan())
    same(x.isinf(), tx.isinf())
    same(x.isfinite(), tx.isfinite())
    tm = torch.tensor([[True, False], [True, True]])
    same(m.all(dim=1), tm.all(dim=1))
    same(m.any(0, keepdim=True), tm.any(0, keepdim=True))
    same(Tensor([1.0, 0.0]).all(), torch.tensor([1.0, 0.0]).all())


def test_where_takes_a_bool_tensor():
    x = Tensor([1.0, -2.0, 3.0], requires_grad=True)
    y = tg.where(x > 0, x, 0.0)
    np.testing.assert_array_equal(y.data, [1, 0, 3])
    y.sum().backward()
    np.testing.assert_array_equal(x.grad, [1, 0, 1])
    torch = torch_or_skip()
    tx = torch.tensor([1.0, -2.0, 3.0], requires_grad=True)
    torch.where(tx > 0, tx, 0.0).sum().backward()
    np.testing.assert_array_equal(x.grad, tx.grad.numpy())


# ---- indexing with tensors ----------------------------------------------------------------------------------
def test_integer_and_bool_tensors_index():
    x = Tensor(np.arange(6.0).reshape(3, 2), requires_grad=True)
    rows = Tensor(np.array([2, 0, 2]))
    np.testing.assert_array_equal(x[rows].data, [[4, 5], [0, 1], [4, 5]])
    np.testing.assert_array_equal(x[x[:, 0] > 1].data, [[2, 3], [4, 5]])
    np.testing.assert_array_equal(x[:, Tensor([1], dtype=tg.long)].data, [[1], [3], [5]])
    np.testing.assert_array_equal(x[rows, Tensor(np.array([1, 1, 0]))].data, [5, 1, 4])
    x[rows].sum().backward()                               # repeated rows accumulate
    np.testing.assert_array_equal(x.grad, [[1, 1], [0, 0], [2, 2]])
    torch = torch_or_skip()
    tx = torch.arange(6.0, dtype=torch.float64).reshape(3, 2).requires_grad_()
    tx[torch.tensor([2, 0, 2])].sum().backward()
    np.testing.assert_array_equal(x.grad, tx.grad.numpy())
    same(x[x[:, 0] > 1].detach(), tx[tx[:, 0] > 1].detach())


def test_float_tensor_index_is_refused_with_torch_s_message():
    x = Tensor(np.arange(3.0))
    for index in (Tensor([1.0]), Tensor([True, False, True]), (Tensor([0.0]),)):
        with pytest.raises(IndexError, match="^tensors used as indices must be long, int, byte or bool tensors"):
            x[index]
    torch = torch_or_skip()
    with pytest.raises(IndexError) as theirs:
        torch.arange(3.0)[torch.tensor([1.0])]
    with pytest.raises(IndexError) as ours:
        x[Tensor([1.0])]
    assert str(ours.value).startswith(str(theirs.value))


def test_integer_tensors_embed_and_serve_as_targets():
    tg.manual_seed(0)
    emb = tg.nn.Embedding(5, 3)
    ids = Tensor(np.array([[1, 4], [4, 0]]))
    np.testing.assert_array_equal(emb(ids).data, emb.weight.data[ids.data])
    logits = Tensor(np.log(np.array([[0.5, 0.25, 0.25], [0.25, 0.25, 0.5]])), requires_grad=True, dtype=tg.float64)
    loss = tg.nn.functional.cross_entropy(logits, Tensor([0, 2], dtype=tg.long))
    np.testing.assert_allclose(loss.item(), -np.log(0.5), rtol=1e-12)
    with pytest.raises(TypeError, match="bool Tensor"):
        emb(Tensor(np.array([True])))


# ---- argmax, argmin, amax, amin -------------------------------------------------------------------------------
def test_argmax_argmin_are_int64_first_index_off_the_tape():
    x = Tensor([[1.0, 3.0, 3.0], [2.0, 0.0, 0.0]], requires_grad=True)
    assert x.argmax(dim=1).tolist() == [1, 0] and x.argmin(1).tolist() == [0, 1]      # ties: the first
    assert x.argmax().item() == 1 and x.argmin().item() == 4 and x.argmax().dtype == np.int64
    assert x.argmax(0, keepdim=True).tolist() == [[1, 0, 0]] and x.argmax(keepdim=True).shape == (1, 1)
    assert not x.argmax(1).requires_grad
    torch = torch_or_skip()
    tx = torch.tensor([[1.0, 3.0, 3.0], [2.0, 0.0, 0.0]])
    same(x.argmax(dim=1), tx.argmax(dim=1))
    same(x.argmin(1), tx.argmin(1))
    same(x.argmax(), tx.argmax())
    same(x.argmax(0, keepdim=True), tx.argmax(0, keepdim=True))
    same(x.argmax(keepdim=True), tx.argmax(keepdim=True))


def test_argmax_of_empty_raises_torch_s_errors():
    torch = pytest.importorskip("torch")
    for fn in (lambda t: t.argmax(), lambda t: t.argmax(1), lambda t: t.argmin(1)):
        with pytest.raises(IndexError) as theirs:
            fn(torch.zeros(2, 0))
        with pytest.raises(IndexError) as ours:
            fn(Tensor(np.zeros((2, 0))))
        assert str(ours.value) == str(theirs.value)


def test_amax_amin_share_the_gradient_among_ties():
    x = Tensor([[1.0, 3.0, 3.0], [2.0, 0.0, 0.0]], requires_grad=True, dtype=tg.float64)
    (x.amax(1).sum() + x.amin(1).sum()).backward()
    np.testing.assert_array_equal(x.grad, [[1, 0.5, 0.5], [1, 0.5, 0.5]])
    assert x.amax().item() == 3 and x.amin().item() == 0
    torch = torch_or_skip()
    tx = torch.tensor([[1.0, 3.0, 3.0], [2.0, 0.0, 0.0]], dtype=torch.float64, requires_grad=True)
    (tx.amax(1).sum() + tx.amin(1).sum()).backward()
    np.testing.assert_array_equal(x.grad, tx.grad.numpy())
    with pytest.raises(IndexError) as theirs:
        torch.zeros(0, 3).amin(0)
    with pytest.raises(IndexError) as ours:
        Tensor(np.zeros((0, 3))).amin(0)
    assert str(ours.value) == str(theirs.value)


def test_integer_amax_sum_and_mixed_cat():
    i = Tensor(np.array([[3, 1], [2, 5]]))
    assert i.amax(0).tolist() == [3, 5] and i.amax().dtype == np.int64
    out = tg.cat([i, Tensor([[0.5, 0.5]])])
    assert out.dtype == np.float32 and out.tolist() == [[3, 1], [2, 5], [0.5, 0.5]]
    torch = torch_or_skip()
    same(i.amax(0), torch.tensor([[3, 1], [2, 5]]).amax(0))
    same(out, torch.cat([torch.tensor([[3, 1], [2, 5]]), torch.tensor([[0.5, 0.5]])]))


# ---- min: PyTorch's return types (max keeps amax's values-only form for now: see the README) ------------------
def test_min_along_a_dim_is_values_and_indices_with_the_gradient_at_the_index():
    data = [[1.0, 3.0, 0.0], [2.0, 0.0, 0.0]]
    x = Tensor(data, requires_grad=True, dtype=tg.float64)
    result = x.min(1)
    values, indices = result
    assert type(result).__name__ == "min" and result.values is values and result.indices is indices
    assert values.tolist() == [0, 0] and indices.tolist() == [2, 1] and indices.dtype == np.int64
    assert x.min(1)[0].tolist() == [0, 0]                      # PyTorch code's x.min(1)[0]: the values
    (values * Tensor([1.0, 2.0], dtype=tg.float64)).sum().backward()
    np.testing.assert_array_equal(x.grad, [[0, 0, 1], [0, 2, 0]])   # ties: only the returned index
    v, i = Tensor(data).min(0, keepdim=True)
    assert v.tolist() == [[1, 0, 0]] and i.tolist() == [[0, 1, 0]]
    assert Tensor(data).min().item() == 0 and Tensor(data).min().shape == ()
    torch = torch_or_skip()
    tx = torch.tensor(data, dtype=torch.float64, requires_grad=True)
    tv, ti = tx.min(1)
    same(values.detach(), tv.detach())
    same(indices, ti)
    (tv * torch.tensor([1.0, 2.0], dtype=torch.float64)).sum().backward()
    np.testing.assert_array_equal(x.grad, tx.grad.numpy())
    tv, ti = torch.tensor(data).min(0, keepdim=True)
    same(v, tv)
    same(i, ti)


def test_min_of_empty_and_0d_as_torch():
    torch = pytest.importorskip("torch")
    for fn in (lambda t: t.min(), lambda t: t.min(1)):
        with pytest.raises((RuntimeError, IndexError)) as theirs:
            fn(torch.zeros(2, 0))
        with pytest.raises((RuntimeError, IndexError)) as ours:
            fn(Tensor(np.zeros((2, 0))))
        assert type(ours.value) is type(theirs.value) and str(ours.value) == str(theirs.value)
    v, i = Tensor(3.0).min(0)
    tv, ti = torch.tensor(3.0).min(0)
    same(v, tv)
    same(i, ti)


def test_gradcheck_of_the_new_differentiable_ops():
    rng = np.random.default_rng(0)
    x = Tensor(rng.standard_normal((3, 4)), requires_grad=True, dtype=tg.float64)   # no ties
    for fn in (lambda t: t.min(1).values, lambda t: t.min(0, keepdim=True)[0], lambda t: t.clone() * t,
               lambda t: t.T.contiguous(), lambda t: t.amin(1), lambda t: t * Tensor(np.array([1, 2, 3, 4]))):
        assert tg.gradcheck(fn, (x,))


def test_gradcheck_skips_integer_outputs():
    x = Tensor(np.random.default_rng(1).standard_normal((3, 4)), requires_grad=True, dtype=tg.float64)
    assert tg.gradcheck(lambda t: t.min(1), (x,))                     # (values, indices): indices are skipped
    assert tg.gradcheck(lambda t: (t * 2, t.argmax(1)), (x,))
