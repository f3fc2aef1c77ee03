"""nn.functional beyond the losses, against torch: gelu / nn.GELU, pad (every mode, its backward), one_hot,
softmax / log_softmax / relu / tanh / sigmoid / linear / layer_norm / embedding / dropout under torch's names, and
nn.Embedding.from_pretrained; values and gradients in float64 (1e-10) and float32 (1e-5), gradcheck, messages."""
import re
import warnings

import numpy as np
import pytest

import tinygrad_rnn as tg
from tinygrad_rnn import Tensor, gradcheck, nn
import tinygrad_rnn.nn.functional as F

F64, F32 = np.float64, np.float32
TOL = {np.dtype(F64): dict(rtol=1e-10, atol=1e-12), np.dtype(F32): dict(rtol=1e-5, atol=1e-5)}


def compare(torch, ours, theirs, xd, rng, **kwargs):
    """ours(Tensor) and theirs(torch tensor) on xd: values, and the input's gradient for a random upstream one."""
    x, xt = Tensor(xd, requires_grad=True, dtype=xd.dtype), torch.tensor(xd, requires_grad=True)
    out, tout = ours(x, **kwargs), theirs(xt, **kwargs)
    assert out.shape == tuple(tout.shape) and out.dtype == xd.dtype
    np.testing.assert_allclose(out.data, tout.detach().numpy(), **TOL[xd.dtype])
    up = rng.standard_normal(out.shape).astype(xd.dtype)
    out.backward(up)
    tout.backward(torch.from_numpy(up))
    np.testing.assert_allclose(x.grad, xt.grad.numpy(), **TOL[xd.dtype])


def error_of(fn):
    with pytest.raises(Exception) as info:
        fn()
    return info.value


def same_error(ours, theirs):
    mine, ref = error_of(ours), error_of(theirs)
    assert type(mine) is type(ref), (mine, ref)
    assert str(mine) == str(ref), (str(mine), str(ref))


# ---- GELU ---------------------------------------------------------------------------------------------------
@pytest.mark.parametrize("dtype", [F64, F32], ids=["float64", "float32"])
@pytest.mark.parametrize("approximate", ["none", "tanh"])
def test_gelu_matches_torch(torch, rng, dtype, approximate):
    xd = np.concatenate([rng.standard_normal(40) * 3, [0.0, -1000.0, 1000.0, -10.0, 10.0, 1e-8]]).astype(dtype)
    compare(torch, F.gelu, torch.nn.functional.gelu, xd, rng, approximate=approximate)
    module, ref = nn.GELU(approximate), torch.nn.GELU(approximate)
    assert repr(module) == repr(ref)
    compare(torch, module, ref, xd.reshape(2, -1), rng)
    with np.errstate(all="raise"):                           # nothing overflows or underflows at ±1000
        x = Tensor(xd, requires_grad=True, dtype=dtype)
        F.gelu(x, approximate=approximate).sum().backward()
    assert np.isfinite(x.grad).all()


def test_gelu_gradcheck_and_errors(torch, rng):
    x = Tensor(rng.standard_normal((3, 4)) * 2, requires_grad=True, dtype=F64)
    for approximate in ("none", "tanh"):
        assert gradcheck(lambda a: F.gelu(a, approximate=approximate), (x,))
    same_error(lambda: F.gelu(x, approximate="fast"),
               lambda: torch.nn.functional.gelu(torch.zeros(2), approximate="fast"))
    with pytest.raises(RuntimeError, match="approximate argument must be either none or tanh"):
        nn.GELU("fast")                                       # torch waits for the forward to say so
    assert F.gelu(Tensor(np.array([1, 2]))).dtype == F32      # an integer tensor computes in float32


# ---- pad --------------------------------------------------------------------------------------------------------
PADS = {  # mode -> (input shape, pads) torch accepts
    "constant": [((2, 3, 4), (1, 2)), ((2, 3, 4), (-1, 2, 0, 1)), ((2, 3, 4), (1, 1, 1, 1, 1, 1)), ((4,), (2, -3)),
                 ((2, 3, 4), ()), ((3, 4), (-2, -2))],
    "reflect": [((2, 3, 4), (3, 1)), ((2, 3, 4), (1, 2, 2, 0)), ((3, 4), (-1, 2)),
                ((1, 2, 3, 4, 5), (1, 2, 1, 0, 1, 2))],
    "replicate": [((2, 3, 4), (5, 1)), ((2, 3, 4), (1, 2, 3, 0)), ((3, 4), (2, -1)),
                  ((1, 2, 3, 4), (1, 1, 2, 2, 1, 0))],
    "circular": [((2, 3, 4), (4, 1)), ((2, 3, 4), (1, 2, 3, 0)), ((2, 3, 5), (-2, 1)), ((2, 3, 5), (1, -2)),
                 ((1, 2, 3, 4, 5), (1, 2, 1, 0, 1, 2))],
}
PAD_CASES = [(mode, shape, pads) for mode, cases in PADS.items() for shape, pads in cases]


@pytest.mark.parametrize("dtype", [F64, F32], ids=["float64", "float32"])
@pytest.mark.parametrize("case", PAD_CASES, ids=[f"{m}-{s}-{p}" for m, s, p in PAD_CASES])
def test_pad_matches_torch(torch, rng, dtype, case):
    mode, shape, pads = case
    xd = rng.standard_normal(shape).astype(dtype)
    kwargs = {"value": 2.5} if mode == "constant" else {}
    compare(torch, lambda x, **k: F.pad(x, pads, mode=mode, **k),
            lambda x, **k: torch.nn.functional.pad(x, pads, mode=mode, **k), xd, rng, **kwargs)


def test_pad_gradcheck_integer_input_and_copies(torch, rng):
    x = Tensor(rng.standard_normal((2, 3, 4)), requires_grad=True, dtype=F64)
    for mode, pads in (("constant", (2, -1, 1, 1)), ("reflect", (3, 2)), ("replicate", (2, 3, 1, 1)),
                       ("circular", (4, 2))):
        assert gradcheck(lambda a: F.pad(a, pads, mode=mode), (x,))
    ints = F.pad(Tensor(np.array([1, 2])), [1, 1], value=2.5)
    ref = torch.nn.functional.pad(torch.tensor([1, 2]), [1, 1], value=2.5)
    assert ints.dtype == np.int64 and ints.tolist() == ref.tolist()
    same = F.pad(x, ())
    assert same.shape == x.shape and not np.shares_memory(same.data, x.data)


def test_pad_errors_are_torchs(torch):
    z, zt = Tensor(np.zeros((2, 3, 4))), torch.zeros(2, 3, 4)
    cases = [
        ((1,), {}), ((1, 1) * 4, {}), ((1, 1), {"mode": "foo"}), ((4, 4), {"mode": "reflect"}),
        ((5, 5), {"mode": "circular"}), ((1, 1), {"mode": "reflect", "value": 2.0}), ((1, 1) * 3, {"mode": "reflect"}),
        ((1.5, 1), {}),
    ]
    for pads, kwargs in cases:
        same_error(lambda: F.pad(z, pads, **kwargs), lambda: torch.nn.functional.pad(zt, pads, **kwargs))
    same_error(lambda: F.pad(Tensor(np.zeros(4)), (1, 1), mode="replicate"),
               lambda: torch.nn.functional.pad(torch.zeros(4), (1, 1), mode="replicate"))
    same_error(lambda: F.pad(Tensor(np.zeros((2, 0, 3))), (1, 1, 1, 1), mode="replicate"),
               lambda: torch.nn.functional.pad(torch.zeros(2, 0, 3), (1, 1, 1, 1), mode="replicate"))
    with pytest.raises(RuntimeError, match=r"The input size 4, plus negative padding -3 and -2 resulted in a "
                                           r"negative output size, which is invalid. Check dimension 2"):
        F.pad(z, (-3, -2))
    with pytest.raises(TypeError, match="pad: expected input to be a Tensor, but got ndarray"):
        F.pad(np.zeros(3), (1, 1))


# ---- one_hot ----------------------------------------------------------------------------------------------------
def test_one_hot_matches_torch(torch, rng):
    for data, num_classes in (([0, 3, 1], -1), ([[0], [2]], -1), ([1, 0], 4), (2, -1), (np.zeros((0,), int), 3),
                              (rng.integers(0, 5, (2, 3, 4)), 6)):
        ours = F.one_hot(Tensor(np.asarray(data), dtype=tg.int64), num_classes)
        theirs = torch.nn.functional.one_hot(torch.tensor(np.asarray(data), dtype=torch.long), num_classes)
        assert ours.dtype == np.int64 and not ours.requires_grad
        np.testing.assert_array_equal(ours.data, theirs.numpy())
    # the engine's float32 tensors of whole numbers (Python lists become float32 here) are indices too
    np.testing.assert_array_equal(F.one_hot(Tensor([0.0, 2.0])).data, [[1, 0, 0], [0, 0, 1]])
    for data, num_classes in (([-1, 2], -1), ([1, 2], 2), ([], -1), ([1, 2], 0), ([1], -2)):
        same_error(lambda: F.one_hot(Tensor(np.asarray(data, dtype=np.int64)), num_classes),
                   lambda: torch.nn.functional.one_hot(torch.tensor(data, dtype=torch.long), num_classes))
    with pytest.raises(ValueError, match=r"one_hot: expected tensor to hold integer indices.*0.5"):
        F.one_hot(Tensor([0.5]))


# ---- the Tensor ops under torch.nn.functional's names -------------------------------------------------------------
@pytest.mark.parametrize("dtype", [F64, F32], ids=["float64", "float32"])
def test_activations_under_functional_names_match_torch(torch, rng, dtype):
    xd = rng.standard_normal((3, 4, 2)).astype(dtype)
    for name in ("relu", "tanh", "sigmoid"):
        compare(torch, getattr(F, name), getattr(torch.nn.functional, name), xd, rng)
    for name in ("softmax", "log_softmax"):
        for dim in (0, 1, -1):
            compare(torch, getattr(F, name), getattr(torch.nn.functional, name), xd, rng, dim=dim)
    out = F.log_softmax(Tensor(xd, dtype=dtype), 1, dtype=tg.float64)
    ref = torch.nn.functional.log_softmax(torch.tensor(xd), 1, dtype=torch.float64)
    assert out.dtype == F64
    np.testing.assert_allclose(out.data, ref.numpy(), **TOL[np.dtype(dtype)])
    for name in ("softmax", "log_softmax"):
        with warnings.catch_warnings(record=True) as mine:
            warnings.simplefilter("always")
            a = getattr(F, name)(Tensor(xd, dtype=dtype))
        with warnings.catch_warnings(record=True) as ref:
            warnings.simplefilter("always")
            b = getattr(torch.nn.functional, name)(torch.tensor(xd))
        np.testing.assert_allclose(a.data, b.numpy(), **TOL[np.dtype(dtype)])   # torch's implicit dim: 0 for 3-D
        assert [str(w.message) for w in mine] == [str(w.message) for w in ref]
        assert mine[0].filename == __file__                                      # pointing at the caller


def test_linear_layer_norm_embedding_dropout_as_torch(torch, rng):
    xd, wd, bd = rng.standard_normal((3, 4)), rng.standard_normal((5, 4)), rng.standard_normal(5)
    w, b = Tensor(wd, requires_grad=True, dtype=F64), Tensor(bd, requires_grad=True, dtype=F64)
    wt, bt = torch.tensor(wd, requires_grad=True), torch.tensor(bd, requires_grad=True)
    compare(torch, lambda x: F.linear(x, w, b), lambda x: torch.nn.functional.linear(x, wt, bt), xd, rng)
    np.testing.assert_allclose(w.grad, wt.grad.numpy(), rtol=1e-10)
    np.testing.assert_allclose(b.grad, bt.grad.numpy(), rtol=1e-10)
    # layer_norm, with and without the affine part, over one and two dims
    x3 = rng.standard_normal((2, 3, 4))
    g = Tensor(rng.standard_normal((3, 4)), requires_grad=True, dtype=F64)
    gt = torch.tensor(g.data, requires_grad=True)
    compare(torch, lambda x: F.layer_norm(x, (3, 4), g, None, 1e-3),
            lambda x: torch.nn.functional.layer_norm(x, (3, 4), gt, None, 1e-3), x3, rng)
    np.testing.assert_allclose(g.grad, gt.grad.numpy(), rtol=1e-10, atol=1e-12)
    compare(torch, lambda x: F.layer_norm(x, [4]), lambda x: torch.nn.functional.layer_norm(x, [4]), x3, rng)
    same_error(lambda: F.layer_norm(Tensor(x3), (3,)), lambda: torch.nn.functional.layer_norm(torch.tensor(x3), (3,)))
    same_error(lambda: F.layer_norm(Tensor(x3), (4,), weight=Tensor(np.ones(3))),
               lambda: torch.nn.functional.layer_norm(torch.tensor(x3), (4,),
                                                      weight=torch.ones(3, dtype=torch.float64)))
    # embedding with a negative padding_idx, as torch's
    table = rng.standard_normal((6, 3))
    idx = np.array([[0, 5, 5], [2, 1, 0]])
    e, et = Tensor(table, requires_grad=True, dtype=F64), torch.tensor(table, requires_grad=True)
    out = F.embedding(idx, e, padding_idx=-1)
    tout = torch.nn.functional.embedding(torch.tensor(idx), et, padding_idx=-1)
    np.testing.assert_array_equal(out.data, tout.detach().numpy())
    up = rng.standard_normal(out.shape)
    out.backward(up)
    tout.backward(torch.tensor(up))
    np.testing.assert_allclose(e.grad, et.grad.numpy(), rtol=1e-12)
    with pytest.raises(NotImplementedError, match="embedding: max_norm=1.0 is not supported"):
        F.embedding(idx, e, max_norm=1.0)
    # dropout(training=) and the rest are present under torch's names
    x = Tensor(xd, dtype=F64)
    assert F.dropout(x, 0.5, training=False) is x
    np.testing.assert_array_equal(F.dropout(x, 1.0).data, np.zeros((3, 4)))
    for name in ("softmax", "log_softmax", "relu", "tanh", "sigmoid", "gelu", "linear", "layer_norm", "embedding",
                 "dropout", "one_hot", "pad", "mse_loss", "l1_loss", "smooth_l1_loss", "nll_loss", "cross_entropy",
                 "binary_cross_entropy", "binary_cross_entropy_with_logits"):
        assert callable(getattr(F, name)) and callable(getattr(torch.nn.functional, name)), name


# ---- Embedding.from_pretrained ------------------------------------------------------------------------------------
def test_from_pretrained_matches_torch(torch, rng):
    table = rng.standard_normal((5, 3))
    idx = np.array([0, 2, 2, 4, 1])
    for freeze in (True, False):
        for padding_idx in (None, 2):
            ours = nn.Embedding.from_pretrained(Tensor(table, dtype=F64), freeze=freeze, padding_idx=padding_idx)
            ref = torch.nn.Embedding.from_pretrained(torch.tensor(table), freeze=freeze, padding_idx=padding_idx)
            assert repr(ours) == repr(ref)
            assert ours.weight.requires_grad == ref.weight.requires_grad == (not freeze)
            np.testing.assert_array_equal(ours.weight.data, ref.weight.detach().numpy())   # padding row kept
            out, tout = ours(idx), ref(torch.tensor(idx))
            np.testing.assert_array_equal(out.data, tout.detach().numpy())
            if not freeze:
                up = rng.standard_normal(out.shape)
                out.backward(up)
                tout.backward(torch.tensor(up))
                np.testing.assert_allclose(ours.weight.grad, ref.weight.grad.numpy(), rtol=1e-12)
            else:
                assert not out.requires_grad
    assert nn.Embedding.from_pretrained(table.astype(F32)).weight.dtype == F32


def test_from_pretrained_copies_draws_nothing_and_checks(torch, rng):
    table = rng.standard_normal((4, 2))
    tg.manual_seed(3)
    emb = nn.Embedding.from_pretrained(table, freeze=False)
    after = tg.randn(3).data
    tg.manual_seed(3)
    np.testing.assert_array_equal(after, tg.randn(3).data)     # the seeded stream is where it was
    table[0, 0] = 99.0
    assert emb.weight.data[0, 0] != 99.0                       # a copy: the caller's array is never written
    msg = str(error_of(lambda: torch.nn.Embedding.from_pretrained(torch.zeros(3))))
    with pytest.raises(ValueError, match=re.escape(msg)):
        nn.Embedding.from_pretrained(np.zeros(3))
    with pytest.raises(ValueError, match="Padding_idx must be within num_embeddings"):
        nn.Embedding.from_pretrained(np.zeros((3, 2)), padding_idx=3)
    with pytest.raises(TypeError, match="expected float embeddings, but got dtype int64"):
        nn.Embedding.from_pretrained(np.zeros((3, 2), np.int64))
