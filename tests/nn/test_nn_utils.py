"""nn.utils: clip_grad_norm_ (the total norm as a 0-d tensor, as torch), clip_grad_value_, get_total_norm,
clip_grads_with_norm_, parameters_to_vector, vector_to_parameters: by hand and against torch.nn.utils.
(The packing utilities of nn.utils.rnn: test_packing.py.)"""
import math

import numpy as np
import pytest

from tinygrad_rnn import Tensor, nn, optim
from tinygrad_rnn.nn import Parameter, utils

SHAPES = [(3, 4), (5,), ()]
TIGHT = dict(rtol=1e-12, atol=1e-15)


def grads_problem(seed=4, dtype=np.float64, scale=3.0):
    rng = np.random.default_rng(seed)
    return [np.asarray(rng.standard_normal(s) * scale, dtype=dtype) for s in SHAPES]


def with_grads(grads, dtype=np.float64):
    params = [Parameter(np.zeros(g.shape, dtype)) for g in grads]
    for p, g in zip(params, grads):
        p.grad = np.array(g, dtype=dtype)
    return params


def torch_with_grads(torch, grads):
    params = [torch.zeros(g.shape, dtype=torch.from_numpy(g).dtype, requires_grad=True) for g in grads]
    for p, g in zip(params, grads):
        p.grad = torch.tensor(g)
    return params


def test_the_old_import_path_is_the_same_function():
    assert optim.clip_grad_norm_ is utils.clip_grad_norm_ is nn.utils.clip_grad.clip_grad_norm_
    assert optim.clip_grad_value_ is utils.clip_grad_value_


# ---- clip_grad_norm_ ----------------------------------------------------------------------------------------------
def test_clip_grad_norm_by_hand():
    a, b, c = Parameter(np.zeros(1)), Parameter(np.zeros(1)), Parameter(np.zeros(1))
    a.grad, b.grad = np.array([3.0]), np.array([-4.0])  # c has no grad: ignored
    total = utils.clip_grad_norm_([a, b, c], max_norm=1.0)
    assert isinstance(total, Tensor) and total.shape == () and total.dtype == np.float64 and total.item() == 5.0
    assert not total.requires_grad
    np.testing.assert_allclose([a.grad[0], b.grad[0]], np.array([3.0, -4.0]) / (5 + 1e-6), rtol=1e-15)
    assert c.grad is None
    assert utils.clip_grad_norm_(a, max_norm=10.0).item() == pytest.approx(0.6, rel=1e-6)  # below max: unchanged
    np.testing.assert_allclose(a.grad, [3.0 / (5 + 1e-6)], rtol=1e-15)
    a.grad, b.grad = np.array([3.0]), np.array([-4.0])
    assert utils.clip_grad_norm_((p for p in [a, b]), 2.0, norm_type=math.inf).item() == 4.0
    np.testing.assert_allclose(b.grad, [-4.0 * 2 / (4 + 1e-6)], rtol=1e-15)
    none = utils.clip_grad_norm_([c], 1.0)
    assert isinstance(none, Tensor) and none.item() == 0.0 and none.dtype == np.float32   # torch.tensor(0.)
    b.grad = np.array([np.inf])
    with pytest.raises(RuntimeError, match="non-finite"):
        utils.clip_grad_norm_([b], 1.0, error_if_nonfinite=True)


def test_the_total_norm_works_where_a_float_did(tmp_path):
    """Callers that took the float (f-strings, math.isfinite, an ndarray slot, comparisons) keep working."""
    a = Parameter(np.zeros(2))
    a.grad = np.array([3.0, 4.0])
    total = optim.clip_grad_norm_([a], 100.0)
    assert f"{total:.2f}" == "5.00" and math.isfinite(total) and float(total) == 5.0 and bool(total > 4)
    slots = np.zeros(1)
    slots[0] = total
    assert slots[0] == 5.0


@pytest.mark.parametrize("foreach", [None, False, True])
@pytest.mark.parametrize("norm_type", [2.0, 1.0, 3.0, 0.5, 0, math.inf, -math.inf, "inf"])
@pytest.mark.parametrize("max_norm", [0.5, 100.0])
def test_clip_grad_norm_matches_torch(norm_type, max_norm, foreach, torch):
    grads = grads_problem()
    params, tparams = with_grads(grads), torch_with_grads(torch, grads)
    total = utils.clip_grad_norm_(params, max_norm, norm_type=norm_type, foreach=foreach)
    ttotal = torch.nn.utils.clip_grad_norm_(tparams, max_norm, norm_type=norm_type, foreach=False)
    assert total.dtype == np.float64 and total.shape == tuple(ttotal.shape) == ()
    assert total.item() == pytest.approx(ttotal.item(), rel=1e-13)
    for p, tp in zip(params, tparams):
        np.testing.assert_allclose(p.grad, tp.grad.numpy(), **TIGHT)


def test_clip_grad_norm_in_float32_matches_torch(torch):
    grads = grads_problem(dtype=np.float32)
    params, tparams = with_grads(grads, np.float32), torch_with_grads(torch, grads)
    total = utils.clip_grad_norm_(params, 1.0)
    ttotal = torch.nn.utils.clip_grad_norm_(tparams, 1.0)
    assert total.dtype == np.float32 and ttotal.dtype == torch.float32
    np.testing.assert_allclose(total.item(), ttotal.item(), rtol=1e-6)
    for p, tp in zip(params, tparams):
        assert p.grad.dtype == np.float32
        np.testing.assert_allclose(p.grad, tp.grad.numpy(), rtol=1e-6, atol=1e-7)


def test_mixed_precision_gradients_give_a_float64_total_as_torch(torch):
    grads = [np.array([3.0, 0.0], np.float32), np.array([4.0])]
    params = [Parameter(np.zeros(2, np.float32)), Parameter(np.zeros(1))]
    for p, g in zip(params, grads):
        p.grad = g.copy()
    tparams = torch_with_grads(torch, grads)
    total = utils.clip_grad_norm_(params, 1.0)
    ttotal = torch.nn.utils.clip_grad_norm_(tparams, 1.0)
    assert total.dtype == np.float64 and ttotal.dtype == torch.float64 and total.item() == ttotal.item() == 5.0
    for p, tp in zip(params, tparams):
        np.testing.assert_allclose(p.grad, tp.grad.numpy(), rtol=1e-6)


def test_a_tensor_max_norm_and_nan_gradients_as_torch(torch):
    grads = [np.array([3.0, np.nan]), np.array([4.0])]
    params, tparams = with_grads(grads), torch_with_grads(torch, grads)
    total = utils.clip_grad_norm_(params, Tensor(np.array(2.0), dtype=np.float64))
    ttotal = torch.nn.utils.clip_grad_norm_(tparams, torch.tensor(2.0))
    assert math.isnan(total.item()) and math.isnan(ttotal.item())
    for p, tp in zip(params, tparams):                    # scaled by a NaN factor: NaN everywhere, as torch
        np.testing.assert_array_equal(np.isnan(p.grad), np.isnan(tp.grad.numpy()))


@pytest.mark.parametrize("bad", [np.nan, np.inf, -np.inf])
def test_error_if_nonfinite_changes_nothing_and_words_as_torch(bad, torch):
    grads = grads_problem()
    grads[1][2] = bad
    params, tparams = with_grads(grads), torch_with_grads(torch, grads)
    before = [p.grad.tobytes() for p in params]
    with pytest.raises(RuntimeError) as ours:
        utils.clip_grad_norm_(params, 1.0, error_if_nonfinite=True)
    with pytest.raises(RuntimeError) as theirs:
        torch.nn.utils.clip_grad_norm_(tparams, 1.0, error_if_nonfinite=True)
    assert str(ours.value) == str(theirs.value)
    assert [p.grad.tobytes() for p in params] == before


def test_get_total_norm_and_clip_grads_with_norm_as_torch(torch):
    grads = grads_problem()
    params, tparams = with_grads(grads), torch_with_grads(torch, grads)
    total = utils.get_total_norm([p.grad for p in params], norm_type=3.0)
    ttotal = torch.nn.utils.get_total_norm([p.grad for p in tparams], norm_type=3.0)
    assert total.item() == pytest.approx(ttotal.item(), rel=1e-13)
    assert utils.get_total_norm([Tensor(g, dtype=np.float64) for g in grads], 3.0).item() == total.item()
    assert utils.clip_grads_with_norm_(params, 1.0, total) is None
    torch.nn.utils.clip_grads_with_norm_(tparams, 1.0, ttotal)
    for p, tp in zip(params, tparams):
        np.testing.assert_allclose(p.grad, tp.grad.numpy(), **TIGHT)


def test_clip_grad_norm_clips_an_lstm_as_torch(rng, torch):
    """On a real model's gradients: the clipped gradients of an LSTM equal torch's."""
    ours = nn.LSTM(3, 4, num_layers=2, dtype=np.float64)
    ref = torch.nn.LSTM(3, 4, num_layers=2).double()
    ref.load_state_dict({k: torch.from_numpy(v.numpy()) for k, v in ours.state_dict().items()})
    x = rng.standard_normal((6, 2, 3)) * 5
    ours(Tensor(x))[0].sum().backward()
    ref(torch.tensor(x))[0].sum().backward()
    total = utils.clip_grad_norm_(ours.parameters(), 0.1)
    ttotal = torch.nn.utils.clip_grad_norm_(ref.parameters(), 0.1)
    assert total.item() == pytest.approx(ttotal.item(), rel=1e-10)
    for k, p in ours.named_parameters():
        np.testing.assert_allclose(p.grad, getattr(ref, k).grad.numpy(), rtol=1e-10, atol=1e-13, err_msg=k)


# ---- clip_grad_value_ ---------------------------------------------------------------------------------------------
def test_clip_grad_value():
    a, b = Parameter(np.zeros(4)), Parameter(np.zeros(2))
    a.grad = np.array([-3.0, -0.5, 0.2, 9.0])
    grad = a.grad
    assert utils.clip_grad_value_([a, b], 1.0) is None
    assert a.grad is grad and b.grad is None
    np.testing.assert_array_equal(a.grad, [-1.0, -0.5, 0.2, 1.0])
    a.grad = np.array([-3.0, 3.0], dtype=np.float32)
    utils.clip_grad_value_(a, 2, foreach=True)
    np.testing.assert_array_equal(a.grad, [-2.0, 2.0])
    assert a.grad.dtype == np.float32


@pytest.mark.parametrize("clip_value", [0.7, 2, 0.0, -1.0])
def test_clip_grad_value_matches_torch(clip_value, torch):
    grads = grads_problem()
    params, tparams = with_grads(grads), torch_with_grads(torch, grads)
    utils.clip_grad_value_(params, clip_value)
    torch.nn.utils.clip_grad_value_(tparams, clip_value)
    for p, tp in zip(params, tparams):
        np.testing.assert_array_equal(p.grad, tp.grad.numpy())


# ---- parameters_to_vector, vector_to_parameters -------------------------------------------------------------------
def test_parameters_to_vector_matches_torch_and_carries_the_gradient(rng, torch):
    layer = nn.LSTM(3, 4, dtype=np.float64)
    ref = torch.nn.LSTM(3, 4).double()
    ref.load_state_dict({k: torch.from_numpy(v.numpy()) for k, v in layer.state_dict().items()})
    vec = utils.parameters_to_vector(layer.parameters())
    tvec = torch.nn.utils.parameters_to_vector(ref.parameters())
    assert vec.shape == (sum(p.data.size for p in layer.parameters()),)
    np.testing.assert_array_equal(vec.data, tvec.detach().numpy())
    w = rng.standard_normal(vec.shape)
    (vec * Tensor(w, dtype=np.float64)).sum().backward()
    (tvec * torch.tensor(w)).sum().backward()
    for k, p in layer.named_parameters():
        np.testing.assert_array_equal(p.grad, getattr(ref, k).grad.numpy(), err_msg=k)


def test_vector_to_parameters_round_trip_as_torch(rng, torch):
    layer = nn.GRU(2, 3, dtype=np.float64)
    ref = torch.nn.GRU(2, 3).double()
    values = rng.standard_normal(sum(p.data.size for p in layer.parameters()))
    arrays = [p.data for p in layer.parameters()]
    assert utils.vector_to_parameters(Tensor(values, dtype=np.float64), layer.parameters()) is None
    torch.nn.utils.vector_to_parameters(torch.tensor(values), ref.parameters())
    for (k, p), arr in zip(layer.named_parameters(), arrays):
        assert p.data is arr                               # written in place: optimisers' references stay valid
        np.testing.assert_array_equal(p.data, getattr(ref, k).detach().numpy(), err_msg=k)
    np.testing.assert_array_equal(utils.parameters_to_vector(layer.parameters()).data, values)
    assert all(p._version == 1 for p in layer.parameters())           # counted as the engine's in-place writes


def test_vector_to_parameters_between_forward_and_backward_is_caught():
    layer = nn.Linear(2, 2, dtype=np.float64)
    out = layer(Tensor(np.ones((1, 2)), dtype=np.float64)).sum()
    utils.vector_to_parameters(Tensor(np.zeros(6), dtype=np.float64), layer.parameters())
    with pytest.raises(RuntimeError, match="modified by an inplace operation"):
        out.backward()


def test_parameters_to_vector_and_back_refuse_bad_input(torch):
    p = Parameter(np.zeros((2, 2)))
    with pytest.raises(TypeError, match="expected torch.Tensor, but got: list"):
        utils.vector_to_parameters([1.0] * 4, [p])
    with pytest.raises(TypeError, match="expected torch.Tensor, but got: list"):
        torch.nn.utils.vector_to_parameters([1.0] * 4, [torch.zeros(2, 2)])
    with pytest.raises(ValueError, match="expected vec to be 1-D, but got 2-D"):
        utils.vector_to_parameters(Tensor(np.zeros((2, 2))), [p])
    for n in (3, 5):   # (torch: a view error for 3, and 5 silently uses the first 4)
        with pytest.raises(ValueError, match=f"vec has {n} elements, but the parameters hold 4"):
            utils.vector_to_parameters(Tensor(np.zeros(n)), [p])
    with pytest.raises(TypeError, match="expected parameters of vec's dtype float32, but got float64 at position 0"):
        utils.vector_to_parameters(Tensor(np.zeros(4, np.float32)), [p])
    np.testing.assert_array_equal(p.data, 0)               # nothing written by a refused call
    with pytest.raises(TypeError, match="parameters_to_vector: expected parameters to be Tensors, but got int at "
                                        "position 1"):
        utils.parameters_to_vector([p, 3])
    with pytest.raises(ValueError, match="non-empty"):
        utils.parameters_to_vector([])
