"""Indexing as PyTorch does it: where mixed basic/advanced indices put their dims (which differs from NumPy), the
gradient scattered back with repeated indices adding up, PyTorch's errors; index assignment (x[index] = v,
index_put_, masked_fill_, fill_, zero_, scatter_) and what the tape refuses. Against the installed torch, and a
hypothesis battery of random mixed indices."""
import warnings

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import tinygrad_rnn as tg
from tinygrad_rnn import Tensor, gradcheck

TIGHT = dict(rtol=1e-10, atol=1e-12)
ROWS = np.array([0, 1, 0])                       # into a dim of size >= 2, repeated
J = np.array([1, 2, 3])                       # into a dim of size >= 4
MASK23 = np.array([[True, False, True], [False, True, True]])

INDICES = {  # name -> index(T) for an x of shape (2, 3, 4, 5); T is tinygrad_rnn or torch
    "int_slice_array": lambda T: (1, slice(None), T.tensor(J)),
    "slice_int_slice_array": lambda T: (slice(None), 1, slice(None), T.tensor(J)),   # NumPy: (3, 2, 4)
    "arrays_separated": lambda T: (slice(None), T.tensor(ROWS), slice(None), T.tensor(J)),
    "arrays_adjacent": lambda T: (slice(None), T.tensor(ROWS), T.tensor(J)),
    "arrays_separated_by_ellipsis": lambda T: (T.tensor(ROWS), Ellipsis, T.tensor(J)),
    "arrays_separated_by_none": lambda T: (T.tensor(ROWS), None, T.tensor(np.array([0, 2, 1]))),
    "none_then_arrays": lambda T: (None, T.tensor(ROWS), T.tensor(np.array([0, 2, 1]))),
    "broadcast_arrays": lambda T: (T.tensor(ROWS.reshape(3, 1)), T.tensor(np.array([0, 2]))),
    "broadcast_arrays_separated": lambda T: (slice(None), T.tensor(ROWS.reshape(3, 1)), slice(None), T.tensor(J[:2])),
    "array_2d": lambda T: (slice(None), T.tensor(np.array([[0, 2], [2, 2]]))),
    "mask_then_int": lambda T: (T.tensor(MASK23), 1),
    "mask_then_array": lambda T: (T.tensor(MASK23), T.tensor(np.array([3, 0, 0, 1]))),
    "slice_mask_int_array": lambda T: (slice(None), T.tensor(np.array([True, False, True])), 1, T.tensor(J[:2])),
    "int_then_mask": lambda T: (0, T.tensor(np.array([True, False, True]))),
    "mask_1d_rows": lambda T: T.tensor(np.array([False, True])),
    "mask_all_dims": lambda T: T.tensor(np.random.default_rng(0).random((2, 3, 4, 5)) > 0.5),
    "mask_none_true": lambda T: (Ellipsis, T.tensor(np.zeros(5, bool))),
    "bool_true": lambda T: True,
    "bool_false": lambda T: False,
    "bool_true_and_array": lambda T: (True, T.tensor(np.array([0, 1]))),
    "int_bool": lambda T: (0, True, slice(1, None)),
    "zero_dim_int_tensor": lambda T: T.tensor(np.int64(1)),
    "zero_dim_int_tensor_and_array": lambda T: (T.tensor(np.int64(1)), T.tensor(J[:2])),
    "zero_dim_bool_tensor": lambda T: (slice(None), T.tensor(np.bool_(True))),
    "ellipsis_int": lambda T: (Ellipsis, 2),
    "none_ellipsis_none_int": lambda T: (None, Ellipsis, None, 1),
    "empty_tuple": lambda T: (),
    "ellipsis_alone": lambda T: Ellipsis,
    "slices_steps": lambda T: (slice(None, None, 2), slice(-2, None), slice(None, 10, 3)),
    "slices_empty": lambda T: (slice(3, 1), slice(None)),
    "negative_step": lambda T: (slice(None), slice(None, None, -1)) if T is tg else (slice(None), T.tensor([2, 1, 0])),
    "negative_ints": lambda T: (-1, -2, slice(None), -5),
    "negative_array": lambda T: (slice(None), T.tensor(np.array([-1, 0, -3]))),
    "empty_array": lambda T: T.tensor(np.zeros(0, np.int64)),
    "empty_list": lambda T: (slice(None), []),
    "list_rows": lambda T: [1, 0, 1],
    "list_in_tuple": lambda T: (slice(None), [2, 2, 0], 1),
    "repeated_pairs": lambda T: (T.tensor(np.array([0, 0, 1, 0])), T.tensor(np.array([2, 2, 2, 2]))),
    "int32_index": lambda T: (slice(None), T.tensor(np.array([2, 0], np.int32))),
}


def x_of(dtype=np.float64, seed=0):
    return np.random.default_rng(seed).standard_normal((2, 3, 4, 5)).astype(dtype)


def compare_index(a, index_of_lib, torch, tol=TIGHT):
    """x[index] and its gradient for a random upstream gradient, here and in torch."""
    x, tx = Tensor(a, requires_grad=True), torch.tensor(a, requires_grad=True)
    out, tout = x[index_of_lib(tg)], tx[index_of_lib(torch)]
    assert out.shape == tuple(tout.shape)
    np.testing.assert_allclose(out.data, tout.detach().numpy(), **tol)
    w = np.random.default_rng(1).standard_normal(out.shape).astype(a.dtype)
    (out * Tensor(w)).sum().backward()
    (tout * torch.tensor(w)).sum().backward()
    np.testing.assert_allclose(x.grad, tx.grad.numpy(), **tol)


@pytest.mark.parametrize("name", sorted(INDICES))
def test_getitem_and_its_gradient_equal_torch(name, torch):
    compare_index(x_of(), INDICES[name], torch)
    compare_index(x_of(np.float32), INDICES[name], torch, tol=dict(rtol=1e-5, atol=1e-6))


def test_torch_places_dims_where_numpy_does_not(torch):
    """The case the translation exists for: an int and an array separated by a slice. NumPy counts the int as an
    advanced index and puts the broadcast dim in front; PyTorch selects first."""
    a = x_of()
    assert a[:, 1, :, J].shape == (3, 2, 4)
    assert Tensor(a)[:, 1, :, tg.tensor(J)].shape == (2, 4, 3) == tuple(torch.tensor(a)[:, 1, :, torch.tensor(J)].shape)


def test_repeated_indices_accumulate_their_gradient():
    x = Tensor(np.zeros((3, 2)), requires_grad=True)
    x[tg.tensor(np.array([2, 0, 2, 2])), 1].sum().backward()
    np.testing.assert_array_equal(x.grad, [[0, 1], [0, 0], [0, 3]])


@pytest.mark.parametrize("name", ["slice_int_slice_array", "arrays_separated", "mask_then_array", "bool_true",
                                  "repeated_pairs", "none_ellipsis_none_int", "empty_array"])
def test_gradcheck_of_indexing(name):
    x = Tensor(x_of(seed=3), requires_grad=True)
    index = INDICES[name](tg)
    assert gradcheck(lambda x: x[index], (x,))


def test_a_list_holding_sequences_is_a_tuple_with_torch_s_warning(torch):
    a = x_of()
    with pytest.warns(UserWarning, match="Using a non-tuple sequence for multidimensional indexing is deprecated"):
        ours = Tensor(a)[[[0, 1], [1, 0]]]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        theirs = torch.tensor(a)[[[0, 1], [1, 0]]]
    np.testing.assert_array_equal(ours.data, theirs.numpy())


def test_the_plan_is_pure_ndarray():
    """indexing.py works on shapes and ndarrays alone (no Tensors in it): the plan of x[:, 1, :, idx]."""
    from tinygrad_rnn import indexing

    p = indexing.plan((2, 3, 4, 5), (slice(None), 1, slice(None), J))
    assert p.shape == (2, 4, 3) and not p.unique and not p.whole
    np.testing.assert_array_equal(indexing.take(x_of(), p), x_of()[:, 1][..., J])


ERRORS = {  # name -> index(T) refused by both, on x of shape (2, 3, 4, 5)
    "int_range": lambda T: 5,
    "int_range_second": lambda T: (slice(None), 5),
    "int_range_after_none": lambda T: (None, 0, 5),
    "int_range_after_ellipsis": lambda T: (Ellipsis, -7),
    "array_range": lambda T: (slice(None), T.tensor(np.array([5]))),
    "array_negative_range": lambda T: (slice(None), T.tensor(np.array([-4]))),
    "array_range_after_mask": lambda T: (T.tensor(MASK23), T.tensor(np.array([9]))),
    "array_range_second": lambda T: (T.tensor(np.array([0])), slice(None), T.tensor(np.array([9]))),
    "too_many": lambda T: (0, 0, 0, 0, 0),
    "too_many_with_none": lambda T: (0, 0, 0, 0, None, 0),
    "zero_step": lambda T: slice(None, None, 0),
    "float": lambda T: 1.5,
    "dict": lambda T: {0: 1},
    "float_tensor": lambda T: T.tensor(np.array([1.0])),
    "mask_shape": lambda T: T.tensor(np.ones(3, bool)),
    "mask_shape_second": lambda T: (slice(None), T.tensor(np.ones(2, bool))),
    "mask_empty": lambda T: T.tensor(np.zeros(0, bool)),
    "broadcast": lambda T: (T.tensor(ROWS), T.tensor(np.array([0, 1]))),
    "bool_false_broadcast": lambda T: (False, T.tensor(np.array([0, 1]))),
}


@pytest.mark.parametrize("name", sorted(ERRORS))
def test_index_errors_are_torch_s(name, torch):
    with pytest.raises(Exception) as theirs:
        torch.tensor(x_of())[ERRORS[name](torch)]
    with pytest.raises(Exception) as ours:
        Tensor(x_of())[ERRORS[name](tg)]
    assert type(ours.value) is type(theirs.value)
    assert str(ours.value).startswith(str(theirs.value))     # (a float tensor's message adds a hint)


def test_an_int_into_a_0d_tensor_is_torch_s_error(torch):
    with pytest.raises(IndexError) as theirs:
        torch.tensor(1.0)[0]
    with pytest.raises(IndexError) as ours:
        Tensor(1.0)[0]
    assert str(ours.value) == str(theirs.value)
    for index in (None, Ellipsis, True, ()):
        assert Tensor(1.0)[index].shape == tuple(torch.tensor(1.0)[index].shape)


# ---- hypothesis: random mixed indices -------------------------------------------------------------------------------
@st.composite
def shapes_and_indices(draw):
    """A shape (dims of size 0 too) and a mixed index for it: ints, slices (steps 1-3), None, one Ellipsis, integer
    arrays that broadcast together (or lists), one bool mask over one or two dims, 0-d integer tensors, True. As
    (shape, items), each item a (kind, value) pair made an index per library by `build`. Items after an Ellipsis
    may miss their dim: those indices are refused, and must be refused as torch refuses them."""
    shape = tuple(draw(st.lists(st.integers(1, 4) | st.just(0), min_size=1, max_size=4)))
    items, dim, ellipsis, mask_count, arrays = [], 0, False, None, []
    broadcast = draw(st.sampled_from([(3,), (2, 1), (1,), (2, 3)]))
    for _ in range(draw(st.integers(0, 5))):
        kinds = ["none", "true"] + (["slice"] if dim < len(shape) else [])
        kinds += ["int", "array", "list", "int0d"] if dim < len(shape) and shape[dim] else []
        kinds += ["ellipsis"] if not ellipsis else []
        kinds += ["mask"] if dim < len(shape) and mask_count is None and not arrays else []
        kind = draw(st.sampled_from(kinds))
        if kind == "ellipsis":
            ellipsis = True
            items.append(("ellipsis", None))
            continue
        if kind in ("none", "true"):
            items.append((kind, None))
            continue
        size = shape[dim]
        if kind in ("int", "int0d"):
            items.append((kind, draw(st.integers(-size, size - 1))))
        elif kind == "slice":
            bound = st.one_of(st.none(), st.integers(-size - 1, size + 1))
            items.append((kind, slice(draw(bound), draw(bound), draw(st.sampled_from([None, 1, 2, 3])))))
        elif kind == "mask":
            n = draw(st.integers(1, min(2, len(shape) - dim)))
            count = int(np.prod(shape[dim:dim + n]))
            mask = np.array(draw(st.lists(st.booleans(), min_size=count, max_size=count)), bool)
            mask = mask.reshape(shape[dim:dim + n])
            mask_count = int(mask.sum())
            items.append(("mask", mask))
            dim += n
            continue
        else:                                   # an integer array (repeats and negatives allowed)
            target = (mask_count,) if mask_count is not None else broadcast
            own = tuple(n if draw(st.booleans()) else 1 for n in target)[draw(st.integers(0, len(target) - 1)):]
            values = draw(st.lists(st.integers(-size, size - 1), min_size=int(np.prod(own)),
                                   max_size=int(np.prod(own))))
            arr = np.array(values, dtype=np.int64).reshape(own)
            arrays.append(arr)
            items.append((kind if arr.ndim == 1 else "array", arr))
        dim += 1
    return shape, items


def build(T, items):
    out = []
    for kind, value in items:
        if kind == "none":
            out.append(None)
        elif kind == "true":
            out.append(True)
        elif kind == "ellipsis":
            out.append(Ellipsis)
        elif kind == "int0d":
            out.append(T.tensor(np.int64(value)))
        elif kind in ("array", "mask"):
            out.append(T.tensor(value))
        elif kind == "list":
            out.append(value.tolist())
        else:
            out.append(value)
    return tuple(out)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(shapes_and_indices(), st.integers(0, 2**31 - 1))
def test_random_mixed_indices_equal_torch(torch, case, seed):
    shape, items = case
    a = np.random.default_rng(seed).standard_normal(shape)
    try:
        expected = torch.tensor(a)[build(torch, items)]
    except Exception as err:                  # (e.g. index arrays that do not broadcast): refused the same way
        with pytest.raises(type(err)) as ours:
            Tensor(a)[build(tg, items)]
        assert str(ours.value) == str(err)
        return
    compare_index(a, lambda T: build(T, items), torch)
    # assignment through the same index: a number everywhere, then (where no element is written twice) an array
    x, tx = Tensor(a.copy()), torch.tensor(a.copy())
    x[build(tg, items)] = 2.5
    tx[build(torch, items)] = 2.5
    np.testing.assert_array_equal(x.data, tx.numpy())
    positions = torch.arange(a.size).reshape(shape)[build(torch, items)].reshape(-1)
    if len(set(positions.tolist())) == positions.numel():
        v = np.random.default_rng(seed + 1).standard_normal(tuple(expected.shape))
        x[build(tg, items)] = Tensor(v)
        tx[build(torch, items)] = torch.tensor(v)
        np.testing.assert_array_equal(x.data, tx.numpy())


# ---- index assignment --------------------------------------------------------------------------------------------
SETS = {  # name -> (index(T), value(T)) on a (2, 3, 4) float64 tensor
    "int_row": (lambda T: 0, lambda T: T.tensor(np.arange(12.0).reshape(3, 4))),
    "broadcast_row": (lambda T: 0, lambda T: T.tensor(np.arange(4.0))),
    "leading_ones": (lambda T: 0, lambda T: T.tensor(np.ones((1, 1, 3, 4)))),
    "number": (lambda T: (slice(None), 1), lambda T: -3.0),
    "ellipsis_all": (lambda T: Ellipsis, lambda T: 7.0),
    "array_rows": (lambda T: T.tensor(np.array([1, 0])), lambda T: T.tensor(np.ones((3, 4)))),
    "array_separated": (lambda T: (T.tensor(np.array([1, 0])), slice(None), T.tensor(np.array([3, 0]))),
                        lambda T: T.tensor(np.arange(6.0).reshape(2, 3))),
    "mixed_int_array": (lambda T: (slice(None), 1, T.tensor(np.array([3, 0, 2]))), lambda T: T.tensor(np.arange(3.0))),
    "mask": (lambda T: T.tensor(np.arange(24).reshape(2, 3, 4) % 3 == 0), lambda T: 0.5),
    "mask_values": (lambda T: T.tensor(MASK23), lambda T: T.tensor(np.arange(4.0))),
    "int_dtype_cast_basic": (lambda T: 1, lambda T: T.tensor(np.ones(4, np.int64))),
    "repeated_same_value": (lambda T: T.tensor(np.array([1, 1, 0])), lambda T: 4.0),
    "none": (lambda T: (None, 0), lambda T: T.tensor(np.ones(4))),
    "bool_true": (lambda T: True, lambda T: 1.0),
}


@pytest.mark.parametrize("name", sorted(SETS))
def test_setitem_equals_torch(name, torch):
    index, value = SETS[name]
    a = np.random.default_rng(2).standard_normal((2, 3, 4))
    x, tx = Tensor(a.copy()), torch.tensor(a.copy())
    x[index(tg)] = value(tg)
    tx[index(torch)] = value(torch)
    np.testing.assert_array_equal(x.data, tx.numpy())


def test_setitem_on_integer_and_bool_tensors(torch):
    for ours, theirs in [(tg.tensor(np.zeros(3, np.int64)), torch.zeros(3, dtype=torch.long)),
                         (tg.tensor(np.zeros(3, bool)), torch.zeros(3, dtype=torch.bool))]:
        ours[0] = 1.7
        theirs[0] = 1.7
        ours[tg.tensor(np.array([2]))] = 1
        theirs[torch.tensor([2])] = 1
        np.testing.assert_array_equal(ours.data, theirs.numpy())


SET_ERRORS = {  # name -> (index(T), value(T)) refused by both on a (2, 3) float64 tensor
    "basic_shape": (lambda T: 0, lambda T: T.tensor(np.ones(5))),
    "basic_too_many_dims": (lambda T: 0, lambda T: T.tensor(np.ones((2, 1, 3)))),
    "advanced_shape": (lambda T: T.tensor(np.array([0, 1])), lambda T: T.tensor(np.ones((1, 5)))),
    "advanced_more_dims": (lambda T: T.tensor(np.array([0, 1])), lambda T: T.tensor(np.ones((2, 1, 3)))),
    "advanced_dtype": (lambda T: T.tensor(np.array([0, 1])), lambda T: T.tensor(np.ones(3, np.float32))),
    "advanced_dtype_0d": (lambda T: T.tensor(np.array([0, 1])), lambda T: T.tensor(np.float32(1))),
    "advanced_long_value": (lambda T: T.tensor(np.array([0])), lambda T: T.tensor(np.ones(3, np.int64))),
    "index_range": (lambda T: T.tensor(np.array([5])), lambda T: 1.0),
    "list_value": (lambda T: 0, lambda T: [1.0, 2.0, 3.0]),
}


@pytest.mark.parametrize("name", sorted(SET_ERRORS))
def test_setitem_errors_are_torch_s(name, torch):
    index, value = SET_ERRORS[name]
    target = torch.zeros(2, 3, dtype=torch.float64)
    with pytest.raises(Exception) as theirs:
        target[index(torch)] = value(torch)
    x = Tensor(np.zeros((2, 3)))
    with pytest.raises(Exception) as ours:
        x[index(tg)] = value(tg)
    assert type(ours.value) is type(theirs.value)
    assert str(ours.value) == str(theirs.value)
    np.testing.assert_array_equal(x.data, 0)                 # nothing written


@pytest.mark.parametrize("write", [
    lambda t: t.__setitem__(0, 1.0), lambda t: t.__setitem__(tg.tensor(np.array([0])), 1.0),
    lambda t: t.__setitem__(Ellipsis, 1.0), lambda t: t.__setitem__(slice(None), 1.0),
    lambda t: t.__setitem__(None, 1.0), lambda t: t.fill_(1.0), lambda t: t.zero_(),
    lambda t: t.masked_fill_(tg.tensor(np.array([True, False, True])), 1.0),
    lambda t: t.index_put_((tg.tensor(np.array([0])),), tg.tensor(np.ones(1))),
    lambda t: t.scatter_(0, tg.tensor(np.array([1])), 2.0),
    lambda t: t.scatter_add_(0, tg.tensor(np.array([1])), tg.tensor(np.ones(1)))])
def test_a_leaf_that_requires_grad_is_refused_as_in_torch(write, torch):
    """The message says 'a view of a leaf' exactly where torch's does (an int or None index views first)."""
    w, tw = Tensor(np.zeros(3), requires_grad=True), torch.zeros(3, dtype=torch.float64, requires_grad=True)
    with pytest.raises(RuntimeError) as theirs:
        write(_TorchCalls(tw))
    with pytest.raises(RuntimeError) as ours:
        write(w)
    assert str(ours.value) == str(theirs.value)
    np.testing.assert_array_equal(w.data, 0)
    with tg.no_grad():                                        # allowed there, as in torch (initialisation)
        write(w)
    with torch.no_grad():
        write(_TorchCalls(tw))
    np.testing.assert_array_equal(w.data, tw.detach().numpy())


class _TorchCalls:
    """The same write on a torch tensor: tg.tensor(...) arguments become torch tensors."""

    def __init__(self, t):
        self.t = t

    def __setitem__(self, index, value):
        import torch
        self.t[_to_torch(torch, index)] = value

    def __getattr__(self, name):
        import torch
        method = getattr(self.t, name)
        return lambda *args: method(*[_to_torch(torch, a) for a in args])


def _to_torch(torch, a):
    if isinstance(a, Tensor):
        return torch.tensor(a.data)
    if isinstance(a, tuple):
        return tuple(_to_torch(torch, i) for i in a)
    return a


def test_a_tensor_on_the_tape_is_refused_with_the_reason():
    w = Tensor(np.ones(3), requires_grad=True)
    y = w * 2
    for write in (lambda: y.__setitem__(0, 5.0), lambda: y.fill_(0.0), lambda: w[0:2].fill_(1.0)):
        with pytest.raises(RuntimeError, match=r"on the tape .* records no in-place ops .*x\.index_put"):
            write()
    z = Tensor(np.zeros(3))
    with pytest.raises(RuntimeError, match="the value requires grad and this tensor does not"):
        z[0] = w[1]
    with tg.no_grad():                                      # no graph is being recorded: a plain write
        z[0] = w[1]
        y[0] = 5.0
    assert z.data[0] == 1.0 and y.data[0] == 5.0


def test_index_put_is_the_recorded_route(torch):
    """What PyTorch does with `outputs[t] = h` (CopySlices), written out of place: the gradient reaches h."""
    h, th = Tensor(np.arange(3.0), requires_grad=True), torch.arange(3.0, dtype=torch.float64, requires_grad=True)
    out = Tensor(np.zeros((2, 3))).index_put((tg.tensor(np.array([1])),), h * 2)
    tout = torch.zeros(2, 3, dtype=torch.float64)
    tout[1] = th * 2
    (out * out).sum().backward()
    (tout * tout).sum().backward()
    np.testing.assert_allclose(h.grad, th.grad.numpy(), **TIGHT)


def test_a_write_into_an_array_a_node_saved_is_caught_in_backward():
    """x does not require grad, but w * x saved x's array for w's gradient: the write is counted and the backward
    raises PyTorch's error instead of using the new values."""
    w, x = Tensor(np.ones(3), requires_grad=True), Tensor(np.arange(3.0))
    loss = (w * x).sum()
    x[1] = 10.0
    with pytest.raises(RuntimeError, match="modified by an inplace operation"):
        loss.backward()
    w2, rows = Tensor(np.ones((3, 2)), requires_grad=True), tg.tensor(np.array([0, 2]))
    loss = w2[rows].sum()
    with pytest.raises(ValueError, match="read-only"):        # the index array a node saved is read-only meanwhile
        rows.data[0] = 1
    loss.backward()
    rows[0] = 1                                               # and writeable again after its backward
    np.testing.assert_array_equal(w2.grad, [[1, 1], [0, 0], [1, 1]])


def test_read_only_views_and_expanded_tensors_are_refused_clearly(torch):
    w, x = Tensor(np.ones(3), requires_grad=True), Tensor(np.arange(3.0))
    loss = (w * x).sum()
    view = x[1:]                                              # made after the forward: read-only until backward
    with pytest.raises(RuntimeError, match="read-only: it views an array that a recorded op saved for its backward"):
        view[0] = 5.0
    loss.backward()
    view[0] = 5.0
    assert x.data[1] == 5.0
    e = Tensor(np.zeros(3)).expand(2, 3)
    with pytest.raises(RuntimeError) as theirs:
        torch.zeros(3).expand(2, 3)[:] = 1.0
    with pytest.raises(RuntimeError) as ours:
        e[:] = 1.0
    assert str(ours.value) == str(theirs.value)


def test_in_place_methods_equal_torch(torch):
    a = np.random.default_rng(4).standard_normal((3, 4))
    mask = a > 0
    rows, cols = np.array([0, 2, 0]), np.array([[1], [3], [0]])
    for write in (lambda T, t: t.fill_(2.5), lambda T, t: t.zero_(), lambda T, t: t.fill_(T.tensor(np.float64(-1))),
                  lambda T, t: t.masked_fill_(T.tensor(mask), 9.0),
                  lambda T, t: t.masked_fill_(T.tensor(mask[0]), T.tensor(np.float64(3))),
                  lambda T, t: t.index_put_((T.tensor(rows),), T.tensor(np.ones(4)), accumulate=True),
                  lambda T, t: t.index_put_((T.tensor(rows[:2]), T.tensor(cols[:2, 0])), T.tensor(np.ones(1))),
                  lambda T, t: t.scatter_(1, T.tensor(cols), T.tensor(np.arange(3.0).reshape(3, 1))),
                  lambda T, t: t.scatter_(1, T.tensor(cols), 5.0),
                  lambda T, t: t.scatter_add_(0, T.tensor(np.array([[2, 2, 0, 2]])), T.tensor(np.ones((1, 4))))):
        x, tx = Tensor(a.copy()), torch.tensor(a.copy())
        assert write(tg, x) is x
        write(torch, tx)
        np.testing.assert_array_equal(x.data, tx.numpy())


def test_one_hot_by_scatter_as_pytorch_scripts_write_it(torch):
    labels = np.array([2, 0, 1, 2])
    ours = tg.zeros(4, 3).scatter_(1, tg.tensor(labels).unsqueeze(1), 1.0)
    theirs = torch.zeros(4, 3).scatter_(1, torch.tensor(labels).unsqueeze(1), 1.0)
    np.testing.assert_array_equal(ours.data, theirs.numpy())
