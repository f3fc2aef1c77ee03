"""Shape ops (views, rearrangements, copies that move elements) and the gathers, scatters and masks: forward values
and gradients against PyTorch (float64 to 1e-10, float32 to 1e-5) over odd shapes, 0-d and empty tensors and
negative dims; gradcheck in float64; bad arguments refused with PyTorch's messages, checked against the installed
torch."""
import numpy as np
import pytest

import tinygrad_rnn as tg
from tinygrad_rnn import Tensor, gradcheck

TIGHT = dict(rtol=1e-10, atol=1e-12)
SMOKE = dict(rtol=1e-5, atol=1e-6)

ROWS = np.array([2, 0, 2, 1])                           # repeated: the gradients must add up
IDX23 = np.array([[0, 2, 2], [1, 1, 0]])                # gather/scatter indices into dim 1 of a (2, 3)
IDX_UNIQUE = np.array([[2, 0], [1, 2]])                 # distinct along dim 1: scatter writes are well defined
MASK34 = np.array([[True, False, True, True], [False, False, True, False], [True, True, False, False]])
REPEATS = np.array([1, 0, 3])

CASES = {}  # name -> (fn(T, *inputs), input shapes, torch_grads); T is the module: tinygrad_rnn or torch


def case(name, fn, *shapes, torch_grads=None):
    """torch_grads: the inputs whose gradient torch computes (all by default). torch's scatter and scatter_add
    refuse to backpropagate to a src larger than the index; there the gradient is checked by gradcheck."""
    CASES[name] = (fn, shapes, torch_grads)


# views and reshapes
case("unsqueeze0", lambda T, a: a.unsqueeze(0), (2, 3))
case("unsqueeze_neg", lambda T, a: a.unsqueeze(-1), (2, 3))
case("unsqueeze_end", lambda T, a: a.unsqueeze(2), (2, 3))
case("unsqueeze_0d", lambda T, a: a.unsqueeze(0), ())
case("squeeze_all", lambda T, a: a.squeeze(), (1, 3, 1, 2))
case("squeeze_int", lambda T, a: a.squeeze(-2), (1, 3, 1, 2))
case("squeeze_not_one", lambda T, a: a.squeeze(1), (1, 3, 1, 2))
case("squeeze_tuple", lambda T, a: a.squeeze((0, 2)), (1, 3, 1, 2))
case("squeeze_0d", lambda T, a: a.squeeze(0), ())
case("flatten", lambda T, a: a.flatten(), (2, 3, 4))
case("flatten_mid", lambda T, a: a.flatten(1, 2), (2, 3, 4, 2))
case("flatten_neg", lambda T, a: a.flatten(-3, -2), (2, 3, 4, 2))
case("flatten_0d", lambda T, a: a.flatten(), ())
case("flatten_empty", lambda T, a: a.flatten(0, 1), (0, 3, 2))
case("unflatten", lambda T, a: a.unflatten(1, (2, 3)), (2, 6))
case("unflatten_infer", lambda T, a: a.unflatten(-1, (-1, 2)), (2, 6))
case("view_infer", lambda T, a: a.view(-1, 4), (2, 3, 4))
case("view_tuple", lambda T, a: a.view((4, 6)), (2, 3, 4))
case("view_of_transpose", lambda T, a: a.t().reshape(-1), (3, 4))     # torch's view would refuse this one
case("reshape_empty", lambda T, a: a.reshape(3, -1, 2), (0, 6))
case("view_as", lambda T, a, b: a.view_as(b) * b, (2, 6), (3, 4))
case("expand", lambda T, a: a.expand(2, 3, 4), (3, 1))
case("expand_keep", lambda T, a: a.expand(-1, 4), (3, 1))
case("expand_new_dims", lambda T, a: a.expand(5, 2, -1, -1), (1, 3, 2))
case("expand_0d", lambda T, a: a.expand(2, 3), ())
case("expand_to_empty", lambda T, a: a.expand(0, 3), (1, 3))
case("expand_as", lambda T, a, b: a.expand_as(b) * b, (1, 4), (3, 4))
case("broadcast_to", lambda T, a: T.broadcast_to(a, (2, 3, 4)), (3, 4))
# rearrangements
case("permute_neg", lambda T, a: a.permute(-1, 0, 1), (2, 3, 4))
case("movedim", lambda T, a: a.movedim(0, -1), (2, 3, 4))
case("movedim_tuple", lambda T, a: a.movedim((0, 1), (2, 0)), (2, 3, 4))
case("moveaxis", lambda T, a: T.moveaxis(a, 1, 0), (2, 3, 4))
case("swapaxes", lambda T, a: a.swapaxes(0, -1), (2, 3, 4))
case("swapdims", lambda T, a: T.swapdims(a, 1, 2), (2, 3, 4))
case("t", lambda T, a: a.t(), (3, 4))
case("t_1d", lambda T, a: a.t(), (3,))
case("mT", lambda T, a: a.mT, (2, 3, 4))
case("mH", lambda T, a: a.mH, (2, 3, 4))
case("H", lambda T, a: a.H, (3, 4))
# parts
case("narrow", lambda T, a: a.narrow(1, 1, 2), (2, 4, 3))
case("narrow_neg_start", lambda T, a: a.narrow(-1, -2, 2), (2, 4, 3))
case("narrow_empty", lambda T, a: a.narrow(0, 2, 0), (2, 4))
case("select", lambda T, a: a.select(1, -1), (2, 4, 3))
case("select_1d", lambda T, a: a.select(0, 2), (4,))
# copies that move elements
case("repeat", lambda T, a: a.repeat(2, 3), (2, 3))
case("repeat_new_dims", lambda T, a: a.repeat(2, 1, 3), (2, 3))
case("repeat_0d", lambda T, a: a.repeat(3, 2), ())
case("repeat_zero", lambda T, a: a.repeat(0, 2), (2, 3))
case("tile", lambda T, a: a.tile(2), (2, 3))
case("repeat_interleave_int", lambda T, a: a.repeat_interleave(2), (2, 3))
case("repeat_interleave_dim", lambda T, a: a.repeat_interleave(3, dim=-1), (2, 3))
case("repeat_interleave_tensor", lambda T, a: a.repeat_interleave(T.tensor(REPEATS), dim=1), (2, 3))
case("repeat_interleave_one_count", lambda T, a: a.repeat_interleave(T.tensor(np.array([2])), dim=0), (2, 3))
case("flip", lambda T, a: a.flip(0), (3, 4))
case("flip_dims", lambda T, a: a.flip((0, -1)), (2, 3, 4))
case("flip_0d", lambda T, a: a.flip(0), ())
case("fliplr", lambda T, a: a.fliplr(), (2, 3))
case("flipud", lambda T, a: T.flipud(a), (2, 3))
case("roll_flat", lambda T, a: a.roll(5), (3, 4))
case("roll_dim", lambda T, a: a.roll(-1, 1), (3, 4))
case("roll_dims", lambda T, a: a.roll((1, 7), (0, -1)), (3, 4))
case("roll_same_dim_twice", lambda T, a: a.roll((1, 2), (0, 0)), (3, 4))
case("roll_empty", lambda T, a: a.roll(1, 0), (0, 3))
# gathers, scatters, masks
case("index_select", lambda T, a: a.index_select(0, T.tensor(ROWS)), (3, 2))
case("index_select_neg_dim", lambda T, a: a.index_select(-1, T.tensor(ROWS)), (2, 3))
case("index_select_0d_index", lambda T, a: a.index_select(1, T.tensor(np.int64(1))), (2, 3))
case("index_select_empty", lambda T, a: a.index_select(0, T.tensor(np.zeros(0, np.int64))), (3, 2))
case("index_select_0d", lambda T, a: a.index_select(0, T.tensor(np.array([0]))), ())
case("gather", lambda T, a: a.gather(1, T.tensor(IDX23)), (2, 3))
case("gather_smaller", lambda T, a: a.gather(0, T.tensor(np.array([[1, 0], [1, 1]]))), (2, 3))
case("gather_neg_dim", lambda T, a: a.gather(-1, T.tensor(IDX23[:, :2])), (2, 3))
case("gather_0d", lambda T, a: a.gather(0, T.tensor(np.array([0, 0]))), ())
case("gather_empty", lambda T, a: a.gather(1, T.tensor(np.zeros((2, 0), np.int64))), (2, 3))
case("scatter", lambda T, a, s: a.scatter(1, T.tensor(IDX_UNIQUE), s), (2, 3), (2, 2))
case("scatter_src_larger", lambda T, a, s: a.scatter(1, T.tensor(IDX_UNIQUE[:, :1]), s), (2, 3), (3, 3),
     torch_grads=[0])
case("scatter_value", lambda T, a: a.scatter(1, T.tensor(IDX23), 2.5), (2, 3))
case("scatter_add", lambda T, a, s: a.scatter_add(1, T.tensor(IDX23), s), (2, 3), (2, 3))
case("scatter_add_dim0", lambda T, a, s: T.scatter_add(a, 0, T.tensor(np.array([[1, 1, 0]])), s), (2, 3), (2, 4),
     torch_grads=[0])
case("masked_fill", lambda T, a: a.masked_fill(T.tensor(MASK34), -1.5), (3, 4))
case("masked_fill_broadcast_mask", lambda T, a: a.masked_fill(T.tensor(MASK34[0]), 3.0), (2, 3, 4))
case("masked_fill_mask_grows_self", lambda T, a: a.masked_fill(T.tensor(MASK34), 3.0), (4,))
case("masked_fill_tensor_value", lambda T, a, v: a.masked_fill(T.tensor(MASK34), v), (3, 4), ())
case("masked_select", lambda T, a: a.masked_select(T.tensor(MASK34)), (3, 4))
case("masked_select_broadcast", lambda T, a: T.masked_select(a, T.tensor(MASK34)), (1, 4))
case("index_put", lambda T, a, v: a.index_put((T.tensor(ROWS[1:]),), v), (3, 2), (3, 2))
case("index_put_broadcast", lambda T, a, v: a.index_put((T.tensor(ROWS[:2]), T.tensor(np.array([1]))), v),
     (3, 2), ())
case("index_put_accumulate", lambda T, a, v: a.index_put((T.tensor(ROWS),), v, accumulate=True), (3, 2), (1, 2))
case("index_put_mask", lambda T, a, v: T.index_put(a, (T.tensor(MASK34),), v), (3, 4), (1,))
case("composed", lambda T, a: a.unsqueeze(1).expand(3, 2, 4).flip(-1).roll(1, 0).flatten(0, 1).gather(
    1, T.tensor(np.array([[0, 3]] * 6))).sum(1), (3, 4))


def _inputs(shapes, dtype, seed):
    rng = np.random.default_rng(seed)
    return [rng.standard_normal(s).astype(dtype) for s in shapes]


def _compare(fn, shapes, dtype, tol, torch, torch_grads=None):
    arrays = _inputs(shapes, dtype, 3)
    grads = range(len(arrays)) if torch_grads is None else torch_grads
    ours = [Tensor(a, requires_grad=True) for a in arrays]
    theirs = [torch.tensor(a, requires_grad=k in grads) for k, a in enumerate(arrays)]
    out, tout = fn(tg, *ours), fn(torch, *theirs)
    assert out.shape == tuple(tout.shape) and out.dtype == arrays[0].dtype
    np.testing.assert_allclose(out.data, tout.detach().numpy(), **tol)
    w = np.random.default_rng(5).standard_normal(out.shape).astype(dtype)
    (out * Tensor(w)).sum().backward()
    (tout * torch.tensor(w)).sum().backward()
    for k in grads:
        np.testing.assert_allclose(ours[k].grad, theirs[k].grad.numpy(), **tol)


@pytest.mark.parametrize("name", sorted(CASES))
def test_forward_and_gradient_equal_torch_float64(name, torch):
    fn, shapes, torch_grads = CASES[name]
    _compare(fn, shapes, np.float64, TIGHT, torch, torch_grads)


@pytest.mark.parametrize("name", sorted(CASES))
def test_forward_and_gradient_equal_torch_float32(name, torch):
    fn, shapes, torch_grads = CASES[name]
    _compare(fn, shapes, np.float32, SMOKE, torch, torch_grads)


@pytest.mark.parametrize("name", sorted(CASES))
def test_gradcheck(name):
    fn, shapes, _ = CASES[name]
    inputs = [Tensor(a, requires_grad=True) for a in _inputs(shapes, np.float64, 11)]
    assert gradcheck(lambda *xs: fn(tg, *xs), inputs)


def test_views_share_memory_and_copies_do_not():
    x = Tensor(np.arange(12.0).reshape(3, 4))
    for view in (x.unsqueeze(0), x.squeeze(), x.flatten(), x.view(4, 3), x.expand(2, 3, 4), x.t(), x.mT,
                 x.movedim(0, 1), x.narrow(1, 1, 2), x.select(0, 1), x.unflatten(1, (2, 2))):
        assert np.shares_memory(view.data, x.data)
    for copy in (x.flip(0), x.roll(1), x.repeat(1, 1), x.index_select(0, tg.tensor(np.array([0]))),
                 x.gather(1, tg.tensor(np.zeros((3, 1), np.int64))), x.repeat_interleave(1)):
        assert not np.shares_memory(copy.data, x.data)


def test_view_of_a_non_contiguous_tensor_copies_where_torch_refuses(torch):
    """The one documented difference of view: the data is copied (as reshape does), not refused."""
    a = np.arange(12.0).reshape(3, 4)
    with pytest.raises(RuntimeError, match="view size is not compatible with input tensor's size and stride"):
        torch.tensor(a).t().view(-1)
    x = Tensor(a, requires_grad=True)
    y = x.t().view(-1)
    np.testing.assert_array_equal(y.data, torch.tensor(a).t().reshape(-1).numpy())
    assert not np.shares_memory(y.data, x.data)
    (y * Tensor(np.arange(12.0))).sum().backward()
    np.testing.assert_array_equal(x.grad, np.arange(12.0).reshape(4, 3).T)


def test_integer_and_bool_tensors_move_off_the_tape(torch):
    x = tg.tensor(np.arange(6).reshape(2, 3))
    for fn in (lambda T, a: a.flip(1).roll(1).unsqueeze(0).expand(2, 2, 3).flatten(0, 1),
               lambda T, a: a.gather(1, T.tensor(IDX23)).repeat_interleave(2, dim=0),
               lambda T, a: a.masked_fill(T.tensor(MASK34[:2, :3]), 7).scatter_add(1, T.tensor(IDX23), a)):
        out, tout = fn(tg, x), fn(torch, torch.tensor(x.data))
        assert out.dtype == np.int64 and out.grad_fn is None
        np.testing.assert_array_equal(out.data, tout.numpy())
    m = tg.tensor(MASK34)
    assert m.flip(0).t().dtype == np.bool_


def test_masked_fill_on_integers_casts_the_value_as_torch(torch):
    mask = MASK34[0, :3]
    ours = tg.tensor(np.zeros(3, np.int64)).masked_fill(tg.tensor(mask), 2.7)
    theirs = torch.zeros(3, dtype=torch.long).masked_fill(torch.tensor(mask), 2.7)
    np.testing.assert_array_equal(ours.data, theirs.numpy())


def test_the_torch_style_functions_are_the_methods(torch):
    a = np.random.default_rng(0).standard_normal((2, 3, 4))
    x, tx = tg.tensor(a), torch.tensor(a)
    calls = [("flatten", (1,)), ("unsqueeze", (1,)), ("squeeze", ()), ("reshape", ((4, 6),)), ("permute", ((2, 0, 1),)),
             ("transpose", (0, 2)), ("movedim", (0, 2)), ("swapaxes", (0, 1)), ("flip", ((0, 2),)), ("roll", (1, 2)),
             ("narrow", (2, 1, 2)), ("select", (1, 0)), ("unflatten", (2, (2, 2))), ("tile", ((2,),)),
             ("ravel", ()), ("t", None), ("repeat_interleave", (2,)), ("chunk", (2, 2)), ("split", (1, 1)),
             ("unbind", (0,))]
    for name, args in calls:
        if args is None:
            ours, theirs = getattr(tg, name)(x[0]), getattr(torch, name)(tx[0])
        else:
            ours, theirs = getattr(tg, name)(x, *args), getattr(torch, name)(tx, *args)
        for o, t in zip(*(((ours,), (theirs,)) if not isinstance(ours, tuple) else (ours, theirs))):
            np.testing.assert_array_equal(o.data, t.numpy(), err_msg=name)
    counts = np.array([2, 0, 1])
    np.testing.assert_array_equal(tg.repeat_interleave(tg.tensor(counts)).data,
                                  torch.repeat_interleave(torch.tensor(counts)).numpy())
    assert tg.concat is tg.cat and tg.concatenate is tg.cat
    with pytest.raises(TypeError, match=r"flatten\(\): argument 'input' \(position 1\) must be Tensor, not list"):
        tg.flatten([1, 2])


def test_an_expanded_tensor_works_downstream():
    """expand gives a read-only broadcast view (strides 0): ops that read it (matmul, a layer, a reshape) work."""
    tg.manual_seed(0)
    x = Tensor(np.random.default_rng(0).standard_normal((1, 4, 3)).astype(np.float32), requires_grad=True)
    lstm = tg.nn.LSTM(3, 5)
    out, _ = lstm(x.expand(6, 4, 3))
    (out.sum() + (x.expand(2, 4, 3).reshape(8, 3) @ Tensor(np.ones((3, 2), np.float32))).sum()).backward()
    assert out.shape == (6, 4, 5) and x.grad.shape == (1, 4, 3) and np.isfinite(x.grad).all()


# ---- errors, in PyTorch's words ------------------------------------------------------------------------------------
A = np.arange(24.0).reshape(2, 3, 4)
ERRORS = {  # name -> fn(T, a) that raises in both; a is a (2, 3, 4) float tensor
    "unsqueeze_range": lambda T, a: a.unsqueeze(4),
    "squeeze_range": lambda T, a: a.squeeze(-4),
    "squeeze_repeated": lambda T, a: a.squeeze((0, 0)),
    "squeeze_0d_range": lambda T, a: a[0, 0, 0].squeeze(1),
    "flatten_order": lambda T, a: a.flatten(2, 1),
    "flatten_range": lambda T, a: a.flatten(0, 3),
    "unflatten_product": lambda T, a: a.unflatten(1, (2, 2)),
    "unflatten_empty": lambda T, a: a.unflatten(1, ()),
    "unflatten_two_inferred": lambda T, a: a.unflatten(1, (-1, -1)),
    "unflatten_zero_inferred": lambda T, a: a.unflatten(1, (0, -1)),
    "view_size": lambda T, a: a.view(5, -1),
    "view_two_inferred": lambda T, a: a.view(-1, -1),
    "view_negative": lambda T, a: a.view(-2, 12),
    "view_zero_inferred": lambda T, a: a.view(0, -1),
    "reshape_empty_ambiguous": lambda T, a: a[:0].reshape(-1, 0),
    "expand_mismatch": lambda T, a: a.expand(2, 4, 4),
    "expand_too_few": lambda T, a: a.expand(3, 4),
    "expand_leading_minus_one": lambda T, a: a.expand(-1, 2, 3, 4),
    "repeat_too_few": lambda T, a: a.repeat(2),
    "repeat_negative": lambda T, a: a.repeat(2, -1, 1),
    "repeat_no_args": lambda T, a: a.repeat(),
    "repeat_interleave_negative": lambda T, a: a.repeat_interleave(-1),
    "repeat_interleave_sizes": lambda T, a: a.repeat_interleave(T.tensor(np.array([1, 2])), dim=1),
    "repeat_interleave_2d": lambda T, a: a.repeat_interleave(T.tensor(np.array([[1, 2, 3]])), dim=1),
    "repeat_interleave_float": lambda T, a: a.repeat_interleave(T.tensor(np.array([1.0, 2.0, 3.0])), dim=1),
    "repeat_interleave_negative_count": lambda T, a: a.repeat_interleave(T.tensor(np.array([1, -2, 3])), dim=1),
    "repeat_interleave_output_size": lambda T, a: a.repeat_interleave(2, dim=1, output_size=5),
    "flip_repeated": lambda T, a: a.flip((0, 0)),
    "flip_range": lambda T, a: a.flip(3),
    "flip_no_dims": lambda T, a: a.flip(),
    "fliplr_1d": lambda T, a: a[0, 0].fliplr(),
    "roll_align": lambda T, a: a.roll((1, 2), (0,)),
    "roll_align_no_dims": lambda T, a: a.roll((1, 2)),
    "roll_no_shifts": lambda T, a: a.roll(()),
    "roll_0d": lambda T, a: a[0, 0, 0].roll(1, 0),
    "narrow_length": lambda T, a: a.narrow(1, 2, 2),
    "narrow_start": lambda T, a: a.narrow(1, 4, 0),
    "narrow_negative_start": lambda T, a: a.narrow(1, -4, 1),
    "narrow_negative_length": lambda T, a: a.narrow(1, 0, -1),
    "narrow_0d": lambda T, a: a[0, 0, 0].narrow(0, 0, 1),
    "select_range": lambda T, a: a.select(1, 3),
    "select_negative_range": lambda T, a: a.select(1, -4),
    "select_0d": lambda T, a: a[0, 0, 0].select(0, 0),
    "permute_length": lambda T, a: a.permute(0, 1),
    "permute_repeated": lambda T, a: a.permute(0, 1, 1),
    "permute_range": lambda T, a: a.permute(0, 1, 5),
    "movedim_lengths": lambda T, a: a.movedim((0, 1), (0,)),
    "movedim_repeated_source": lambda T, a: a.movedim((0, 0), (1, 2)),
    "movedim_repeated_destination": lambda T, a: a.movedim((0, 1), (2, 2)),
    "swapaxes_range": lambda T, a: a.swapaxes(0, 5),
    "t_3d": lambda T, a: a.t(),
    "mT_1d": lambda T, a: a[0, 0].mT,
    "H_3d": lambda T, a: a.H,
    "index_select_2d": lambda T, a: a.index_select(1, T.tensor(np.array([[0]]))),
    "index_select_float": lambda T, a: a.index_select(1, T.tensor(np.array([0.0]))),
    "index_select_bool": lambda T, a: a.index_select(1, T.tensor(np.array([True]))),
    "index_select_range": lambda T, a: a.index_select(1, T.tensor(np.array([5]))),
    "index_select_negative": lambda T, a: a.index_select(1, T.tensor(np.array([-1]))),
    "index_select_scalar_many": lambda T, a: a[0, 0, 0].index_select(0, T.tensor(np.array([0, 0]))),
    "index_select_not_tensor": lambda T, a: a.index_select(1, [0]),
    "gather_ndim": lambda T, a: a.gather(1, T.tensor(np.array([[0]]))),
    "gather_larger": lambda T, a: a.gather(1, T.tensor(np.zeros((2, 4, 5), np.int64))),
    "gather_larger_dim0": lambda T, a: a.gather(1, T.tensor(np.zeros((3, 1, 4), np.int64))),
    "gather_float": lambda T, a: a.gather(1, T.tensor(np.zeros((2, 1, 4)))),
    "gather_range": lambda T, a: a.gather(1, T.tensor(np.full((2, 1, 4), 3))),
    "gather_negative": lambda T, a: a.gather(1, T.tensor(np.full((2, 1, 4), -1))),
    "gather_dim": lambda T, a: a.gather(5, T.tensor(np.zeros((2, 1, 4), np.int64))),
    "gather_not_tensor": lambda T, a: a.gather(1, [[0]]),
    "scatter_add_src_small": lambda T, a: a.scatter_add(1, T.tensor(np.zeros((2, 1, 4), np.int64)),
                                                        T.tensor(np.ones((2, 1, 3)))),
    "scatter_add_dtype": lambda T, a: a.scatter_add(1, T.tensor(np.zeros((2, 1, 4), np.int64)),
                                                    T.tensor(np.ones((2, 1, 4), np.float32))),
    "scatter_add_index_large": lambda T, a: a.scatter_add(1, T.tensor(np.zeros((2, 1, 5), np.int64)),
                                                          T.tensor(np.ones((2, 1, 5)))),
    "scatter_add_range": lambda T, a: a.scatter_add(1, T.tensor(np.full((2, 1, 4), 3)), T.tensor(np.ones((2, 1, 4)))),
    "scatter_add_not_tensor": lambda T, a: a.scatter_add(1, T.tensor(np.zeros((2, 1, 4), np.int64)), 1.0),
    "scatter_value_index_large": lambda T, a: a.scatter(1, T.tensor(np.zeros((3, 1, 4), np.int64)), 1.0),
    "scatter_float_index": lambda T, a: a.scatter(1, T.tensor(np.zeros((2, 1, 4))), 1.0),
    "scatter_index_ndim": lambda T, a: a.scatter(1, T.tensor(np.zeros((2, 1), np.int64)), 1.0),
    "masked_fill_float_mask": lambda T, a: a.masked_fill(T.tensor(np.ones((3, 4))), 1.0),
    "masked_fill_long_mask": lambda T, a: a.masked_fill(T.tensor(np.ones((3, 4), np.int64)), 1.0),
    "masked_fill_value_1d": lambda T, a: a.masked_fill(T.tensor(np.ones(4, bool)), T.tensor(np.ones(1))),
    "masked_fill_broadcast": lambda T, a: a.masked_fill(T.tensor(np.ones(3, bool)), 1.0),
    "masked_fill__grows_self": lambda T, a: a[0, 0].masked_fill_(T.tensor(np.ones((2, 4), bool)), 1.0),
    "masked_select_float_mask": lambda T, a: a.masked_select(T.tensor(np.ones(4))),
    "masked_select_broadcast": lambda T, a: a.masked_select(T.tensor(np.ones((2, 1, 3), bool))),
    "fill__1d_value": lambda T, a: a.clone().fill_(T.tensor(np.ones(2))),
    "index_put_dtype": lambda T, a: a.index_put((T.tensor(np.array([0])),), T.tensor(np.ones(4, np.float32))),
    "index_put_shape": lambda T, a: a.index_put((T.tensor(np.array([0, 1])),), T.tensor(np.ones(5))),
    "index_put_too_many": lambda T, a: a[0, 0].index_put((T.tensor(np.array([0])),) * 2, T.tensor(np.ones(1))),
    "index_put_range": lambda T, a: a.index_put((T.tensor(np.array([5])),), T.tensor(np.ones(1))),
    "index_put_slice": lambda T, a: a.index_put((slice(None),), T.tensor(np.ones(1))),
    "index_put_not_tensor": lambda T, a: a.index_put((T.tensor(np.array([0])),), 1.0),
}


def torch_message(err):
    """PyTorch's message without the C++ trace some of its errors append."""
    return str(err).split("\nException raised from")[0]


@pytest.mark.parametrize("name", sorted(ERRORS))
def test_errors_are_torch_s(name, torch):
    fn = ERRORS[name]
    with pytest.raises(Exception) as theirs:
        fn(torch, torch.tensor(A))
    with pytest.raises(Exception) as ours:
        fn(tg, tg.tensor(A))
    assert type(ours.value) is type(theirs.value)
    assert str(ours.value) == torch_message(theirs.value)


# PyTorch's argument parser words a wrong type in ways that differ by signature: same exception type here, and a
# message that names the function, the argument and the type it got.
TYPE_ERRORS = {
    "unsqueeze_float": (lambda a: a.unsqueeze(1.0), "unsqueeze(): argument 'dim' (position 1) must be int, not float"),
    "reshape_float": (lambda a: a.reshape((1.5, 2)), "reshape(): argument 'shape' (position 1) must be tuple of ints, "
                                                     "but found element of type float at pos 0"),
    "expand_float": (lambda a: a.expand((2.5, 3)), "expand(): argument 'size' (position 1) must be tuple of ints, but "
                                                   "found element of type float at pos 0"),
    "select_float": (lambda a: a.select(0, 1.0), "select(): argument 'index' (position 2) must be int, not float"),
    "flatten_float": (lambda a: a.flatten(0.0), "flatten(): argument 'start_dim' (position 1) must be int, not float"),
    "transpose_float": (lambda a: a.transpose(0, 1.0), "transpose(): argument 'dim1' (position 2) must be int, not "
                                                       "float"),
    "roll_float": (lambda a: a.roll(1.0, 0), "roll(): argument 'shifts' (position 1) must be tuple of ints, not float"),
    "masked_fill_str": (lambda a: a.masked_fill(tg.tensor(np.ones(4, bool)), "a"), "masked_fill(): argument 'value'"),
    "view_dtype": (lambda a: a.view(tg.int32), "view(dtype)"),
}


@pytest.mark.parametrize("name", sorted(TYPE_ERRORS))
def test_type_errors_name_the_argument(name):
    fn, message = TYPE_ERRORS[name]
    with pytest.raises(TypeError) as ours:
        fn(tg.tensor(A))
    assert str(ours.value).startswith(message)
