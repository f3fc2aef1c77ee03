"""Module.state_dict / load_state_dict as torch's: detached Tensors sharing the weights' memory, keep_vars/prefix/
destination, loading Tensors, ndarrays and torch tensors, torch's messages and return value; and Tensor's NumPy 2
array protocol (np.array(t, copy=...)) and DLPack (torch.tensor(t)). Torch's own behaviour is the oracle where it is
installed."""
import warnings
from collections import OrderedDict

import numpy as np
import pytest

import tinygrad_rnn as tg
from tinygrad_rnn import nn


def both_linears(torch):
    """An engine Linear(3, 2) and torch's with the same float64 weights."""
    ours = nn.Linear(3, 2, dtype=tg.float64)
    theirs = torch.nn.Linear(3, 2, dtype=torch.float64)
    theirs.load_state_dict({k: torch.tensor(v.numpy()) for k, v in ours.state_dict().items()})
    return ours, theirs


def test_state_dict_holds_detached_tensors_that_share_the_weights_memory():
    lstm = nn.LSTM(3, 4, num_layers=2, dtype=tg.float64)
    sd = lstm.state_dict()
    assert type(sd) is OrderedDict and list(sd) == [n for n, _ in lstm.named_parameters()]
    for name, p in lstm.named_parameters():
        v = sd[name]
        assert type(v) is tg.Tensor and not v.requires_grad and v.grad_fn is None and v.is_leaf
        assert np.shares_memory(v.data, p.data) and v.dtype == p.dtype and v.shape == p.shape
    sd["weight_ih_l0"].zero_()                       # as torch: the weight itself is zeroed
    assert not lstm.weight_ih_l0.data.any() and lstm.weight_hh_l0.data.any()
    clone = lstm.state_dict()["bias_ih_l1"].clone()  # what keeps a snapshot
    lstm.bias_ih_l1.data[...] += 1
    assert not np.shares_memory(clone.data, lstm.bias_ih_l1.data)
    np.testing.assert_array_equal(clone.numpy() + 1, lstm.bias_ih_l1.data)


def test_state_dict_zero_through_it_matches_torch(torch):
    ours, theirs = both_linears(torch)
    ours.state_dict()["weight"].zero_()
    theirs.state_dict()["weight"].zero_()
    np.testing.assert_array_equal(ours.weight.data, theirs.weight.detach().numpy())
    np.testing.assert_array_equal(ours.bias.data, theirs.bias.detach().numpy())
    assert not ours.weight.data.any() and ours.bias.data.any()


def test_keep_vars_prefix_and_destination_as_torch(torch):
    ours, theirs = both_linears(torch)
    kept = ours.state_dict(keep_vars=True)
    assert kept["weight"] is ours.weight and kept["bias"] is ours.bias
    assert type(theirs.state_dict(keep_vars=True)["weight"]) is torch.nn.Parameter
    assert list(ours.state_dict(prefix="enc.")) == list(theirs.state_dict(prefix="enc.")) == ["enc.weight",
                                                                                              "enc.bias"]
    into = {"other": 1}
    assert ours.state_dict(destination=into) is into and list(into) == ["other", "weight", "bias"]
    with pytest.warns(FutureWarning, match="Positional args are being deprecated"):
        positional = ours.state_dict(None, "p.")
    assert list(positional) == ["p.weight", "p.bias"]


def test_load_state_dict_takes_tensors_ndarrays_and_torch_tensors(torch):
    src = nn.GRU(3, 4, dtype=tg.float64)
    want = {k: v.numpy().copy() for k, v in src.state_dict().items()}
    sources = [src.state_dict(),                                          # engine Tensors
               {k: v.copy() for k, v in want.items()},                    # ndarrays
               {k: torch.tensor(v) for k, v in want.items()},             # torch tensors
               {k: torch.tensor(v, requires_grad=True) for k, v in want.items()}]   # even ones requiring grad
    for source in sources:
        dst = nn.GRU(3, 4, dtype=tg.float64)
        result = dst.load_state_dict(source)
        assert result.missing_keys == [] and result.unexpected_keys == []
        for k, v in dst.state_dict().items():
            np.testing.assert_array_equal(v.numpy(), want[k], err_msg=k)
    theirs = torch.nn.GRU(3, 4, dtype=torch.float64)
    theirs.load_state_dict({k: torch.tensor(v) for k, v in src.state_dict().items()})   # torch reads Tensors too
    for k, v in theirs.state_dict().items():
        np.testing.assert_array_equal(v.numpy(), want[k], err_msg=k)


def test_a_float64_checkpoint_loads_into_a_float32_model_cast_as_torchs_copy(torch):
    ours = nn.Linear(3, 2)
    theirs = torch.nn.Linear(3, 2)
    w = np.random.default_rng(0).standard_normal((2, 3))
    ours.load_state_dict({"weight": w, "bias": np.arange(2)})
    theirs.load_state_dict({"weight": torch.tensor(w), "bias": torch.arange(2)})
    assert ours.weight.dtype == np.float32 and theirs.weight.dtype == torch.float32
    np.testing.assert_array_equal(ours.weight.data, theirs.weight.detach().numpy())
    np.testing.assert_array_equal(ours.bias.data, theirs.bias.detach().numpy())


def error_of(call):
    with pytest.raises((RuntimeError, TypeError)) as info:
        call()
    return type(info.value), str(info.value)


def test_errors_are_torchs_word_for_word(torch):
    ours, theirs = both_linears(torch)
    cases = [  # (our state_dict, torch's), strict
        (({"weight": np.zeros((2, 4)), "extra": np.zeros(1)},
          {"weight": torch.zeros(2, 4), "extra": torch.zeros(1)}), True),
        (({"weight": [1.0], "bias": np.zeros(2)}, {"weight": [1.0], "bias": torch.zeros(2)}), True),
        (({"bias": np.zeros(3)}, {"bias": torch.zeros(3)}), False),      # a size mismatch even when not strict
        (({"weight": np.zeros((2, 3))}, {"weight": torch.zeros(2, 3)}), True),
        (([1], [1]), True),
    ]
    for (mine, torchs), strict in cases:
        assert error_of(lambda: ours.load_state_dict(mine, strict=strict)) == \
            error_of(lambda: theirs.load_state_dict(torchs, strict=strict))
    kind, message = error_of(lambda: ours.load_state_dict({"weight": np.zeros((2, 4)), "extra": np.zeros(1)}))
    assert message == ('Error(s) in loading state_dict for Linear:\n\tMissing key(s) in state_dict: "bias". \n\t'
                       'Unexpected key(s) in state_dict: "extra". \n\tsize mismatch for weight: copying a param '
                       'with shape torch.Size([2, 4]) from checkpoint, the shape in current model is '
                       'torch.Size([2, 3]).')


def test_a_refused_load_changes_nothing():
    """All or nothing (torch would have copied the entries before the bad one: here a refused checkpoint leaves
    the model as it was)."""
    lin = nn.Linear(3, 2, dtype=tg.float64)
    before = {k: v.numpy().copy() for k, v in lin.state_dict().items()}
    with pytest.raises(RuntimeError, match="size mismatch for bias"):
        lin.load_state_dict({"weight": np.ones((2, 3)), "bias": np.ones(3)})
    for k, v in lin.state_dict().items():
        np.testing.assert_array_equal(v.numpy(), before[k])


def test_the_return_value_is_torchs_named_tuple(torch):
    ours, theirs = both_linears(torch)
    mine = ours.load_state_dict({"weight": np.zeros((2, 3)), "x": np.zeros(1)}, strict=False)
    torchs = theirs.load_state_dict({"weight": torch.zeros(2, 3), "x": torch.zeros(1)}, strict=False)
    assert mine == torchs and mine._fields == torchs._fields == ("missing_keys", "unexpected_keys")
    assert (mine.missing_keys, mine.unexpected_keys) == (["bias"], ["x"])
    missing, unexpected = mine
    assert (missing, unexpected) == (["bias"], ["x"])
    assert repr(mine) == repr(torchs) == "_IncompatibleKeys(missing_keys=['bias'], unexpected_keys=['x'])"
    assert repr(ours.load_state_dict(ours.state_dict())) == repr(theirs.load_state_dict(theirs.state_dict())) \
        == "<All keys matched successfully>"


def test_loading_between_forward_and_backward_is_caught_as_torch_catches_it(torch):
    """Loading (even its own state_dict) or zeroing through a state_dict is a write into the weights a graph
    saved: backward refuses, as torch's version counter does."""
    ours, theirs = both_linears(torch)
    for write in (lambda m: m.load_state_dict(m.state_dict()), lambda m: m.state_dict()["weight"].zero_()):
        x = tg.Tensor(np.ones((1, 3)), dtype=tg.float64, requires_grad=True)
        tx = torch.ones(1, 3, dtype=torch.float64, requires_grad=True)
        y, ty = ours(x).tanh().sum(), theirs(tx).tanh().sum()
        write(ours)
        write(theirs)
        with pytest.raises(RuntimeError, match="modified by an inplace operation"):
            ty.backward()
        with pytest.raises(RuntimeError, match="modified by an inplace operation"):
            y.backward()


# ---- the array protocols -------------------------------------------------------------------------------------
def test_array_protocol_takes_numpy_2s_dtype_and_copy_without_a_warning():
    t = tg.Tensor(np.arange(4.0), dtype=tg.float64)
    with warnings.catch_warnings():
        warnings.simplefilter("error")                 # NumPy 2 warns when __array__ takes no copy keyword
        shared, copied = np.asarray(t), np.array(t)    # np.array copies by default, np.asarray does not
        forced = np.array(t, copy=True)
        no_copy = np.array(t, copy=False)
        cast = np.asarray(t, dtype=np.float32)
    assert np.shares_memory(shared, t.data) and np.shares_memory(no_copy, t.data)
    assert not np.shares_memory(copied, t.data) and not np.shares_memory(forced, t.data)
    assert cast.dtype == np.float32 and not np.shares_memory(cast, t.data)
    np.testing.assert_array_equal(copied, [0, 1, 2, 3])
    with pytest.raises(ValueError, match="Unable to avoid copy"):  # as NumPy for an ndarray
        np.array(t, dtype=np.float32, copy=False)
    with pytest.raises(ValueError, match="Unable to avoid copy"):
        np.array(np.arange(4.0), dtype=np.float32, copy=False)
    assert np.asarray(t, dtype=np.float64, copy=False) is t.data


def test_torch_tensor_of_a_tensor_copies_its_values(torch):
    for t in (tg.Tensor(np.arange(6.0).reshape(2, 3), dtype=tg.float64), tg.Tensor(2.5), tg.arange(3)):
        got = torch.tensor(t)
        assert got.dtype == torch.from_numpy(t.numpy()).dtype and tuple(got.shape) == t.shape
        np.testing.assert_array_equal(got.numpy(), t.numpy())
        assert not np.shares_memory(got.numpy(), t.data)
    shared = torch.from_dlpack(tg.Tensor(np.ones(3), dtype=tg.float64))
    assert shared.dtype == torch.float64 and shared.tolist() == [1.0, 1.0, 1.0]


def test_assign_makes_the_weights_the_checkpoints_arrays_as_torch(torch):
    ours, theirs = nn.Linear(3, 2), torch.nn.Linear(3, 2)          # float32 models, a float64 checkpoint
    w, b = np.ones((2, 3)), np.zeros(2)
    tw, tb = torch.tensor(w), torch.tensor(b)
    mine = {"weight": tg.Tensor(w, dtype=tg.float64), "bias": tg.Tensor(b, dtype=tg.float64)}
    ours.load_state_dict(mine, assign=True)
    theirs.load_state_dict({"weight": tw, "bias": tb}, assign=True)
    assert ours.weight.dtype == np.float64 and theirs.weight.dtype == torch.float64
    assert ours.weight.requires_grad and theirs.weight.requires_grad
    mine["weight"].zero_()                                           # shared with the checkpoint's tensor
    tw.zero_()
    assert ours.weight.data.sum() == theirs.weight.sum().item() == 0
    y = ours(tg.Tensor(np.ones((1, 3)), dtype=tg.float64)).sum()
    y.backward()
    np.testing.assert_array_equal(ours.weight.grad, np.ones((2, 3)))
    ints = {"weight": np.ones((2, 3), dtype=np.int64), "bias": np.zeros(2)}
    mine_error = error_of(lambda: ours.load_state_dict(ints, assign=True))
    torch_error = error_of(lambda: theirs.load_state_dict({k: torch.tensor(v) for k, v in ints.items()},
                                                          assign=True))
    assert mine_error == torch_error
    assert ours.weight.dtype == np.float64 and not ours.weight.data.any()   # refused: nothing changed
