"""nn.Linear, nn.Embedding, nn.Dropout, nn.Sequential: PyTorch parity (float64 to 1e-12), init, reprs, state_dicts,
dropout masks, errors."""
import numpy as np
import pytest

import tinygrad_rnn as tg
from tinygrad_rnn import Tensor, gradcheck, manual_seed, nn
from tinygrad_rnn.nn.embedding import embedding
from tinygrad_rnn.nn.functional import linear

F64 = np.float64
TIGHT = dict(rtol=1e-12, atol=1e-12)
SMOKE = dict(rtol=1e-5, atol=1e-6)


def to_torch(torch, module, tmodule):
    """Loads our module's weights into the torch module (the state_dict keys must match)."""
    tmodule.load_state_dict({k: torch.from_numpy(v.numpy()) for k, v in module.state_dict().items()})
    return tmodule


def backward_both(torch, out, tout, rng):
    """The same random linear loss on both outputs, then backward on both."""
    w = rng.standard_normal(out.shape)
    (out * Tensor(w, dtype=out.dtype)).sum().backward()
    (tout * torch.from_numpy(w.astype(out.dtype))).sum().backward()


# ---- Linear -----------------------------------------------------------------------------------------------------
@pytest.mark.parametrize("shape", [(5, 3), (2, 4, 3), (3,)], ids=["2d", "3d", "1d"])
@pytest.mark.parametrize("bias", [True, False], ids=["bias", "nobias"])
def test_linear_matches_torch(torch, rng, shape, bias):
    lin = nn.Linear(3, 4, bias=bias, dtype=F64)
    tlin = to_torch(torch, lin, torch.nn.Linear(3, 4, bias=bias, dtype=torch.float64))
    xd = rng.standard_normal(shape)
    x = Tensor(xd, requires_grad=True, dtype=F64)
    tx = torch.tensor(xd, requires_grad=True)
    out, tout = lin(x), tlin(tx)
    np.testing.assert_allclose(out.data, tout.detach().numpy(), **TIGHT)
    backward_both(torch, out, tout, rng)
    np.testing.assert_allclose(x.grad, tx.grad.numpy(), **TIGHT)
    np.testing.assert_allclose(lin.weight.grad, tlin.weight.grad.numpy(), **TIGHT)
    if bias:
        np.testing.assert_allclose(lin.bias.grad, tlin.bias.grad.numpy(), **TIGHT)
    else:
        assert lin.bias is None and tlin.bias is None


def test_linear_float32_matches_torch(torch, rng):
    lin = nn.Linear(6, 5)
    assert lin.weight.dtype == np.float32 and lin.bias.dtype == np.float32
    tlin = to_torch(torch, lin, torch.nn.Linear(6, 5))
    xd = rng.standard_normal((2, 7, 6)).astype(np.float32)
    x, tx = Tensor(xd, requires_grad=True), torch.tensor(xd, requires_grad=True)
    out, tout = lin(x), tlin(tx)
    assert out.dtype == np.float32
    np.testing.assert_allclose(out.data, tout.detach().numpy(), **SMOKE)
    backward_both(torch, out, tout, rng)
    np.testing.assert_allclose(x.grad, tx.grad.numpy(), **SMOKE)
    np.testing.assert_allclose(lin.weight.grad, tlin.weight.grad.numpy(), **SMOKE)
    np.testing.assert_allclose(lin.bias.grad, tlin.bias.grad.numpy(), **SMOKE)


def test_linear_is_one_fused_node(rng):
    lin = nn.Linear(3, 2, dtype=F64)
    x = Tensor(rng.standard_normal((4, 3)), requires_grad=True, dtype=F64)
    out = lin(x)
    assert type(out.grad_fn).__name__ == "LinearAct"
    assert out.grad_fn.parents == (x, lin.weight, lin.bias)


def test_linear_gradcheck(rng):
    lin = nn.Linear(3, 2, dtype=F64)
    x = Tensor(rng.standard_normal((2, 2, 3)), requires_grad=True, dtype=F64)
    assert gradcheck(lambda x, w, b: linear(x, w, b), (x, lin.weight, lin.bias))
    assert gradcheck(lin, (x,))


def test_linear_init_layout_and_seed():
    manual_seed(5)
    lin = nn.Linear(400, 30)
    assert lin.weight.shape == (30, 400) and lin.bias.shape == (30,)
    assert all(p.requires_grad for p in lin.parameters())
    bound = 1 / np.sqrt(400)
    for p in (lin.weight, lin.bias):
        assert np.abs(p.data).max() <= bound
    assert abs(lin.weight.data.std() - bound / np.sqrt(3)) < 0.02 * bound     # U(±b) has std b/√3
    assert abs(lin.weight.data.mean()) < 0.02 * bound
    manual_seed(5)
    again = nn.Linear(400, 30)
    np.testing.assert_array_equal(lin.weight.data, again.weight.data)
    np.testing.assert_array_equal(lin.bias.data, again.bias.data)
    assert [name for name, _ in nn.Linear(2, 3, bias=False).named_parameters()] == ["weight"]


def test_linear_repr_and_state_dict_match_torch(torch):
    for bias in (True, False):
        ours, theirs = nn.Linear(3, 4, bias=bias), torch.nn.Linear(3, 4, bias=bias)
        assert repr(ours) == repr(theirs) == f"Linear(in_features=3, out_features=4, bias={bias})"
        assert list(ours.state_dict()) == list(theirs.state_dict())


def test_linear_errors():
    lin = nn.Linear(3, 4, dtype=F64)
    with pytest.raises(ValueError, match=r"in_features\. Expected 3, got 5"):
        lin(Tensor(np.ones((2, 5)), dtype=F64))
    with pytest.raises(ValueError, match="dtype float64.*got float32"):
        lin(Tensor(np.ones((2, 3), np.float32)))
    with pytest.raises(ValueError, match="0-D"):
        lin(Tensor(1.0, dtype=F64))
    with pytest.raises(TypeError, match="expected input to be a Tensor, but got ndarray"):
        lin(np.ones((2, 3)))
    with pytest.raises(ValueError, match="in_features must be a positive integer, but got 0"):
        nn.Linear(0, 3)
    with pytest.raises(ValueError, match="out_features must be a positive integer, but got 2.5"):
        nn.Linear(3, 2.5)


# ---- Embedding --------------------------------------------------------------------------------------------------
@pytest.mark.parametrize("padding_idx", [None, 0, 3, -1])
def test_embedding_matches_torch(torch, rng, padding_idx):
    emb = nn.Embedding(7, 4, padding_idx=padding_idx, dtype=F64)
    temb = to_torch(torch, emb, torch.nn.Embedding(7, 4, padding_idx=padding_idx, dtype=torch.float64))
    assert emb.padding_idx == temb.padding_idx
    idx = np.array([[1, 3, 3, 0], [6, 1, 3, 2], [0, 0, 5, 6]])     # repeats, the padding row, both ends
    out, tout = emb(idx), temb(torch.from_numpy(idx))
    assert out.shape == (3, 4, 4)
    np.testing.assert_allclose(out.data, tout.detach().numpy(), **TIGHT)
    backward_both(torch, out, tout, rng)
    np.testing.assert_allclose(emb.weight.grad, temb.weight.grad.numpy(), **TIGHT)
    if padding_idx is not None:
        assert not emb.weight.grad[emb.padding_idx].any()


def test_embedding_float32_matches_torch(torch, rng):
    emb = nn.Embedding(5, 3, padding_idx=2)
    temb = to_torch(torch, emb, torch.nn.Embedding(5, 3, padding_idx=2))
    idx = rng.integers(0, 5, size=(4, 6))
    out, tout = emb(idx), temb(torch.from_numpy(idx))
    assert out.dtype == np.float32
    np.testing.assert_allclose(out.data, tout.detach().numpy(), **SMOKE)
    backward_both(torch, out, tout, rng)
    np.testing.assert_allclose(emb.weight.grad, temb.weight.grad.numpy(), **SMOKE)


def test_embedding_repeated_indices_accumulate():
    emb = nn.Embedding(4, 2, dtype=F64)
    out = emb([2, 2, 1, 2])
    out.backward(np.array([[1.0, 2.0], [10.0, 20.0], [5.0, 6.0], [100.0, 200.0]]))
    np.testing.assert_array_equal(emb.weight.grad, [[0, 0], [5, 6], [111, 222], [0, 0]])
    out2 = emb([[1]])                                   # leaf grads accumulate across calls
    out2.backward(np.ones((1, 1, 2)))
    np.testing.assert_array_equal(emb.weight.grad[1], [6, 7])


def test_embedding_input_forms_and_one_node(rng):
    emb = nn.Embedding(6, 3, dtype=F64)
    expected = emb.weight.data[[[4, 0], [5, 5]]]
    for idx in ([[4, 0], [5, 5]], np.array([[4, 0], [5, 5]], dtype=np.int32), np.array([[4, 0], [5, 5]], np.uint8),
                Tensor([[4, 0], [5, 5]]), Tensor([[4.0, 0.0], [5.0, 5.0]], dtype=F64)):
        out = emb(idx)
        np.testing.assert_array_equal(out.data, expected)
        assert out.grad_fn.parents == (emb.weight,)
    np.testing.assert_array_equal(emb(3).data, emb.weight.data[3])           # a single index: (D,)
    assert emb([]).shape == (0, 3)
    out = emb(np.array([1, 2]))
    out.data[...] = 0                                    # the output is a copy, not a view of the weight
    assert emb.weight.data[1].any()


def test_embedding_gradcheck(rng):
    w = Tensor(rng.standard_normal((5, 3)), requires_grad=True, dtype=F64)
    idx = np.array([[0, 4, 4], [2, 0, 1]])
    assert gradcheck(lambda w: embedding(idx, w), (w,))
    w.grad = None                                        # padding_idx: that row gets no gradient
    embedding(idx, w, padding_idx=4).sum().backward()
    assert not w.grad[4].any() and w.grad[0].tolist() == [2, 2, 2]


def test_embedding_init_and_repr(torch):
    manual_seed(11)
    emb = nn.Embedding(2000, 8, padding_idx=0)
    assert emb.weight.shape == (2000, 8) and emb.weight.dtype == np.float32
    assert not emb.weight.data[0].any()
    rest = emb.weight.data[1:]
    assert abs(rest.mean()) < 0.03 and abs(rest.std() - 1) < 0.03               # N(0, 1)
    manual_seed(11)
    np.testing.assert_array_equal(nn.Embedding(2000, 8, padding_idx=0).weight.data, emb.weight.data)
    for args, kwargs in [((10, 4), {}), ((10, 4), {"padding_idx": 0}), ((10, 4), {"padding_idx": -1})]:
        assert repr(nn.Embedding(*args, **kwargs)) == repr(torch.nn.Embedding(*args, **kwargs))
    assert repr(nn.Embedding(10, 4, padding_idx=0)) == "Embedding(10, 4, padding_idx=0)"
    assert list(emb.state_dict()) == ["weight"]


def test_embedding_errors():
    emb = nn.Embedding(5, 2)
    with pytest.raises(IndexError, match=r"index 5 is out of range: expected indices in \[0, 4\]"):
        emb([0, 5, 1])
    with pytest.raises(IndexError, match=r"index -1 is out of range"):
        emb(np.array([[0, -1]]))
    with pytest.raises(TypeError, match="integer dtype.*float64"):
        emb(np.array([0.0, 1.0]))
    with pytest.raises(TypeError, match="integer dtype.*bool"):
        emb(np.array([True, False]))
    with pytest.raises(ValueError, match="integer indices.*1.5"):
        emb(Tensor([1.0, 1.5]))
    with pytest.raises(TypeError, match="got str"):
        emb("3")
    with pytest.raises(ValueError, match=r"Padding_idx must be within num_embeddings.*\[-5, 4\], but got 5"):
        nn.Embedding(5, 2, padding_idx=5)
    with pytest.raises(ValueError, match="embedding_dim must be a positive integer"):
        nn.Embedding(5, 0)


# ---- Dropout ----------------------------------------------------------------------------------------------------
def test_dropout_same_seed_same_mask():
    drop = nn.Dropout(0.3)
    x = tg.ones(50, 40, dtype=F64)
    manual_seed(42)
    a = drop(x).data
    manual_seed(42)
    b = drop(x).data
    np.testing.assert_array_equal(a, b)
    assert not np.array_equal(a, drop(x).data)                # the generator moves on


def test_dropout_scale_and_gradient():
    p = 0.25
    drop = nn.Dropout(p)
    manual_seed(0)
    # (data from another seed than the mask's: the same PCG64 stream would make the mask follow x)
    x = Tensor(np.random.default_rng(99).uniform(1, 2, (400, 500)), requires_grad=True, dtype=F64)
    out = drop(x)
    kept = out.data != 0
    np.testing.assert_allclose(out.data[kept], x.data[kept] / (1 - p), rtol=1e-15)
    assert abs((~kept).mean() - p) < 0.005                    # 200,000 draws: σ ≈ 0.001
    assert abs(out.data.mean() / x.data.mean() - 1) < 0.01    # the expectation is preserved
    out.backward(np.ones(x.shape))
    np.testing.assert_allclose(x.grad, kept / (1 - p), rtol=1e-15)


def test_dropout_eval_is_identity_and_train_toggles():
    drop = nn.Dropout(0.9)
    x = Tensor(np.ones((3, 4)), requires_grad=True)
    assert drop.eval()(x) is x
    model = nn.Sequential(nn.Linear(4, 4), drop)
    model.eval()
    assert not drop.training
    model.train()
    assert drop.training
    manual_seed(1)
    assert (drop(tg.ones(100, 100)).data == 0).mean() > 0.8


def test_dropout_edge_probabilities():
    x = Tensor(np.arange(6.0).reshape(2, 3), requires_grad=True, dtype=F64)
    assert nn.Dropout(0.0)(x) is x
    with np.errstate(all="raise"):
        out = nn.Dropout(1.0)(x)
    assert not out.data.any()
    out.sum().backward()
    assert not x.grad.any()
    for bad in (-0.1, 1.5, "0.5", None, True):
        with pytest.raises(ValueError, match=r"dropout probability has to be between 0 and 1, but got"):
            nn.Dropout(bad)
    with pytest.raises(TypeError, match="expected input to be a Tensor"):
        nn.Dropout()(np.ones(3))


def test_dropout_repr():
    assert repr(nn.Dropout()) == "Dropout(p=0.5)"
    assert repr(nn.Dropout(0.1)) == "Dropout(p=0.1)"


# ---- Sequential -------------------------------------------------------------------------------------------------
def build_pair(torch):
    ours = nn.Sequential(nn.Embedding(9, 4, padding_idx=0), nn.Linear(4, 5), nn.Dropout(0.2),
                         nn.Sequential(nn.Linear(5, 3, bias=False), nn.Linear(3, 2)))
    theirs = torch.nn.Sequential(torch.nn.Embedding(9, 4, padding_idx=0), torch.nn.Linear(4, 5), torch.nn.Dropout(0.2),
                                 torch.nn.Sequential(torch.nn.Linear(5, 3, bias=False), torch.nn.Linear(3, 2)))
    return ours.double(), theirs.double()


def test_sequential_state_dict_keys_match_torch_and_load(torch, rng):
    ours, theirs = build_pair(torch)
    assert list(ours.state_dict()) == list(theirs.state_dict()) == [
        "0.weight", "1.weight", "1.bias", "3.0.weight", "3.1.weight", "3.1.bias"]
    for k, v in ours.state_dict().items():
        assert v.shape == tuple(theirs.state_dict()[k].shape)
    # torch → ours, then the same forward and gradients in eval mode
    missing, unexpected = ours.load_state_dict(theirs.state_dict())
    assert missing == [] and unexpected == []
    ours.eval(), theirs.eval()
    idx = rng.integers(0, 9, size=(3, 5))
    out, tout = ours(idx), theirs(torch.from_numpy(idx))
    np.testing.assert_allclose(out.data, tout.detach().numpy(), **TIGHT)
    backward_both(torch, out, tout, rng)
    tgrads = {name: p.grad.numpy() for name, p in theirs.named_parameters()}
    for name, p in ours.named_parameters():
        np.testing.assert_allclose(p.grad, tgrads[name], **TIGHT, err_msg=name)


def test_sequential_load_state_dict_round_trip():
    manual_seed(0)
    a = nn.Sequential(nn.Linear(3, 4), nn.Dropout(), nn.Linear(4, 2))
    manual_seed(1)
    b = nn.Sequential(nn.Linear(3, 4), nn.Dropout(), nn.Linear(4, 2))
    assert not np.array_equal(a[0].weight.data, b[0].weight.data)
    b.load_state_dict(a.state_dict())
    for (ka, va), (kb, vb) in zip(a.state_dict().items(), b.state_dict().items()):
        assert ka == kb
        np.testing.assert_array_equal(va, vb)
    sd = a.state_dict()
    sd["2.weight"] = np.zeros((2, 5))
    with pytest.raises(RuntimeError, match="size mismatch for 2.weight"):
        b.load_state_dict(sd)
    del sd["2.weight"]
    with pytest.raises(RuntimeError, match='Missing key.*"2.weight"'):
        b.load_state_dict(sd)


def test_sequential_container_protocol():
    l0, d, l2 = nn.Linear(3, 4), nn.Dropout(), nn.Linear(4, 2)
    seq = nn.Sequential(l0, d, l2)
    assert len(seq) == 3 and list(seq) == [l0, d, l2]
    assert seq[0] is l0 and seq[-1] is l2 and seq[-3] is l0
    assert [name for name, _ in seq.named_children()] == ["0", "1", "2"]
    tail = seq[1:]
    assert isinstance(tail, nn.Sequential) and list(tail) == [d, l2]
    assert [name for name, _ in tail.named_children()] == ["1", "2"]          # keys kept, as PyTorch
    l3 = nn.Linear(2, 1)
    assert seq.append(l3) is seq and seq[3] is l3 and len(seq) == 4
    assert len(nn.Sequential()) == 0
    from collections import OrderedDict
    named = nn.Sequential(OrderedDict([("embed", nn.Embedding(4, 3)), ("proj", nn.Linear(3, 2))]))
    assert list(named.state_dict()) == ["embed.weight", "proj.weight", "proj.bias"]
    assert named(np.array([1, 2])).shape == (2, 2)
    with pytest.raises(IndexError, match=r"index 4 is out of range"):
        seq[4]
    with pytest.raises(IndexError, match=r"index -5 is out of range"):
        seq[-5]
    with pytest.raises(TypeError, match="indices must be integers or slices, not str"):
        seq["0"]
    with pytest.raises(TypeError, match="function is not a Module subclass"):
        nn.Sequential(nn.Linear(2, 2), lambda x: x)


def test_sequential_forward_chains(rng):
    seq = nn.Sequential(nn.Linear(3, 4, dtype=F64), nn.Linear(4, 2, dtype=F64))
    x = Tensor(rng.standard_normal((5, 3)), requires_grad=True, dtype=F64)
    np.testing.assert_allclose(seq(x).data, seq[1](seq[0](x)).data, rtol=0, atol=0)
    assert gradcheck(seq, (x,))
    assert len(list(seq.parameters())) == 4


def test_sequential_repr_matches_torch(torch):
    ours = nn.Sequential(nn.Linear(3, 4), nn.Sequential(nn.Embedding(10, 4, padding_idx=0), nn.Linear(4, 2, False)))
    theirs = torch.nn.Sequential(torch.nn.Linear(3, 4), torch.nn.Sequential(torch.nn.Embedding(10, 4, padding_idx=0),
                                                                             torch.nn.Linear(4, 2, False)))
    assert repr(ours) == repr(theirs)
    assert repr(nn.Sequential(nn.Linear(3, 4), nn.Dropout())) == (
        "Sequential(\n  (0): Linear(in_features=3, out_features=4, bias=True)\n  (1): Dropout(p=0.5)\n)")


def test_exports():
    for name in ("Linear", "Embedding", "Dropout", "Sequential", "MSELoss", "CrossEntropyLoss", "NLLLoss"):
        assert name in nn.__all__ and hasattr(nn, name)
