"""ModuleList, ModuleDict, Identity, Flatten, the activation modules and LayerNorm: registration and state_dict
names as torch's, forward and gradients against torch (float64), gradcheck, torch's messages and reprs."""
import warnings
from collections import OrderedDict

import numpy as np
import pytest

import tinygrad_rnn as tg
from tinygrad_rnn import nn

TIGHT = dict(rtol=1e-12, atol=1e-13)


def t64(shape, seed=0, requires_grad=True):
    return tg.Tensor(np.random.default_rng(seed).standard_normal(shape), requires_grad=requires_grad,
                     dtype=tg.float64)


# ---- ModuleList ---------------------------------------------------------------------------------------------------
def test_module_list_registers_children_and_renumbers_as_torch():
    a, b, c = nn.Linear(2, 3), nn.Tanh(), nn.Linear(3, 1)
    ml = nn.ModuleList([a, b])
    ml.append(c)
    assert len(ml) == 3 and list(ml) == [a, b, c] and ml[-1] is c and ml[0] is a
    assert list(ml.state_dict()) == ["0.weight", "0.bias", "2.weight", "2.bias"]
    assert len(list(ml.parameters())) == 4
    assert isinstance(ml[1:], nn.ModuleList) and list(ml[1:]) == [b, c]
    del ml[0]
    assert list(ml) == [b, c] and list(ml.state_dict()) == ["1.weight", "1.bias"]
    ml.insert(0, a)
    assert list(ml) == [a, b, c] and list(ml.state_dict())[:2] == ["0.weight", "0.bias"]
    ml[1] = nn.ReLU()
    assert isinstance(ml[1], nn.ReLU) and len(ml) == 3
    ml += [nn.Identity()]
    assert len(ml) == 4 and isinstance(ml[3], nn.Identity)
    assert ml.pop(3).__class__ is nn.Identity and len(ml) == 3
    assert repr(nn.ModuleList([nn.ReLU(), nn.Tanh()])) == "ModuleList(\n  (0): ReLU()\n  (1): Tanh()\n)"
    torch = pytest.importorskip("torch")
    tml = torch.nn.ModuleList([torch.nn.Linear(2, 3), torch.nn.Tanh(), torch.nn.Linear(3, 1)])
    del tml[0]
    assert list(tml.state_dict()) == ["1.weight", "1.bias"]


def test_module_list_errors_are_torchs():
    ml = nn.ModuleList([nn.ReLU()])
    with pytest.raises(IndexError, match=r"^index 5 is out of range$"):
        ml[5]
    with pytest.raises(TypeError, match=r"^'str' object cannot be interpreted as an integer$"):
        ml["a"]
    with pytest.raises(TypeError, match=r"^int is not a Module subclass$"):
        nn.ModuleList([1])
    torch = pytest.importorskip("torch")
    with pytest.raises(IndexError, match=r"^index 5 is out of range$"):
        torch.nn.ModuleList([torch.nn.ReLU()])[5]
    with pytest.raises(TypeError, match=r"^int is not a Module subclass$"):
        torch.nn.ModuleList([1])


def test_module_list_trains_a_stack():
    tg.manual_seed(0)
    layers = nn.ModuleList([nn.Linear(3, 3, dtype=tg.float64) for _ in range(3)])
    x = t64((4, 3))
    out = x
    for layer in layers:
        out = layer(out).tanh()
    out.sum().backward()
    assert all(p.grad is not None for p in layers.parameters())


# ---- ModuleDict ---------------------------------------------------------------------------------------------------
def test_module_dict():
    enc, dec = nn.Linear(2, 3), nn.Linear(3, 2)
    md = nn.ModuleDict({"enc": enc, "act": nn.ReLU()})
    md["dec"] = dec
    assert list(md) == ["enc", "act", "dec"] and md["dec"] is dec and "enc" in md and len(md) == 3
    assert list(md.keys()) == ["enc", "act", "dec"] and list(md.values())[0] is enc
    assert list(md.state_dict()) == ["enc.weight", "enc.bias", "dec.weight", "dec.bias"]
    md.update([("x", nn.Tanh())])
    md.update(OrderedDict(y=nn.Identity()))
    assert list(md) == ["enc", "act", "dec", "x", "y"]
    assert md.pop("act").__class__ is nn.ReLU and "act" not in md
    del md["x"]
    assert list(md) == ["enc", "dec", "y"]
    with pytest.raises(KeyError):
        md["nope"]
    with pytest.raises(KeyError, match="attribute 'keys' already exists"):
        md["keys"] = nn.ReLU()
    with pytest.raises(KeyError) as dotted:
        md["a.b"] = nn.ReLU()
    assert dotted.value.args == ('module name can\'t contain ".", got: a.b',)
    with pytest.raises(TypeError, match="^int is not a Module subclass$"):
        md["z"] = 3
    md.clear()
    assert len(md) == 0 and list(md.parameters()) == []
    torch = pytest.importorskip("torch")
    tmd = torch.nn.ModuleDict({"enc": torch.nn.Linear(2, 3), "act": torch.nn.ReLU()})
    tmd["dec"] = torch.nn.Linear(3, 2)
    assert list(tmd.state_dict()) == ["enc.weight", "enc.bias", "dec.weight", "dec.bias"]
    with pytest.raises(KeyError, match="attribute 'keys' already exists"):
        tmd["keys"] = torch.nn.ReLU()


# ---- Identity, Flatten, activations ------------------------------------------------------------------------------
def test_identity_and_flatten():
    x = t64((2, 3, 4, 5))
    assert nn.Identity(54, unused="yes")(x) is x
    assert nn.Flatten()(x).shape == (2, 60)
    assert nn.Flatten(0, 2)(x).shape == (24, 5)
    assert nn.Flatten(-2)(x).shape == (2, 3, 20)
    y = nn.Flatten()(x)
    (y * t64((2, 60), 1, False)).sum().backward()
    np.testing.assert_array_equal(x.grad.reshape(2, 60), t64((2, 60), 1, False).data)
    assert repr(nn.Flatten()) == "Flatten(start_dim=1, end_dim=-1)" and repr(nn.Identity()) == "Identity()"
    torch = pytest.importorskip("torch")
    for args in [(), (0, 2), (-2,)]:
        assert nn.Flatten(*args)(x).shape == tuple(torch.nn.Flatten(*args)(torch.zeros(2, 3, 4, 5)).shape)
        assert repr(nn.Flatten(*args)) == repr(torch.nn.Flatten(*args))


ACTIVATIONS = [("ReLU", (), lambda a: np.maximum(a, 0)), ("Tanh", (), np.tanh),
               ("Sigmoid", (), lambda a: 1 / (1 + np.exp(-a))),
               ("Softmax", (1,), lambda a: np.exp(a) / np.exp(a).sum(1, keepdims=True)),
               ("Softmax", (-1,), lambda a: np.exp(a) / np.exp(a).sum(-1, keepdims=True)),
               ("LogSoftmax", (0,), lambda a: a - np.log(np.exp(a).sum(0, keepdims=True))),
               ("LogSoftmax", (2,), lambda a: a - np.log(np.exp(a).sum(2, keepdims=True)))]


@pytest.mark.parametrize("name,args,reference", ACTIVATIONS, ids=[f"{n}{a}" for n, a, _ in ACTIVATIONS])
def test_activation_modules_against_numpy_and_torch(name, args, reference):
    x = t64((3, 4, 5))
    out = getattr(nn, name)(*args)(x)
    np.testing.assert_allclose(out.data, reference(x.data), **TIGHT)
    w = np.random.default_rng(7).standard_normal(out.shape)
    (out * tg.Tensor(w, dtype=tg.float64)).sum().backward()
    tg.gradcheck(lambda t: getattr(nn, name)(*args)(t), (t64((2, 3, 4), 3),))
    torch = pytest.importorskip("torch")
    tx = torch.tensor(x.data, requires_grad=True)
    tout = getattr(torch.nn, name)(*args)(tx)
    np.testing.assert_allclose(out.data, tout.detach().numpy(), **TIGHT)
    (tout * torch.tensor(w)).sum().backward()
    np.testing.assert_allclose(x.grad, tx.grad.numpy(), **TIGHT)
    assert repr(getattr(nn, name)(*args)) == repr(getattr(torch.nn, name)(*args))


def test_softmax_without_dim_warns_and_chooses_as_torch():
    for ndim, dim in [(1, 0), (2, 1), (3, 0), (4, 1)]:
        x = t64((2,) * ndim, requires_grad=False)
        for name, method in [("softmax", "softmax"), ("log_softmax", "log_softmax")]:
            module = nn.Softmax() if name == "softmax" else nn.LogSoftmax()
            with pytest.warns(UserWarning, match=f"^Implicit dimension choice for {name} has been deprecated. "
                                                 f"Change the call to include dim=X as an argument.$"):
                out = module(x)
            np.testing.assert_array_equal(out.data, getattr(x, method)(dim).data)
    assert repr(nn.Softmax()) == "Softmax(dim=None)"
    assert repr(nn.ReLU(inplace=True)) == "ReLU(inplace=True)"


# ---- LayerNorm ----------------------------------------------------------------------------------------------------
LN_CASES = [(5, {}), ((4, 5), {}), ((5,), dict(eps=1e-3)), ((3, 4, 5), dict(elementwise_affine=False)),
            ((4, 5), dict(bias=False))]


@pytest.mark.parametrize("shape,kwargs", LN_CASES, ids=[f"{s}-{k}" for s, k in LN_CASES])
def test_layer_norm_against_torch_and_by_hand(shape, kwargs):
    ln = nn.LayerNorm(shape, dtype=tg.float64, **kwargs)
    normalized = (shape,) if isinstance(shape, int) else shape
    affine = kwargs.get("elementwise_affine", True)
    assert (ln.weight is not None) == affine and (ln.bias is not None) == (affine and kwargs.get("bias", True))
    rng = np.random.default_rng(1)
    if ln.weight is not None:                                 # away from ones/zeros, so they are exercised
        ln.weight.data[...] = rng.standard_normal(normalized)
    if ln.bias is not None:
        ln.bias.data[...] = rng.standard_normal(normalized)
    x = t64((2, 3, 4, 5))
    out = ln(x)
    k = len(normalized)
    axes = tuple(range(4 - k, 4))
    mean, var = x.data.mean(axes, keepdims=True), x.data.var(axes, keepdims=True)
    expected = (x.data - mean) / np.sqrt(var + kwargs.get("eps", 1e-5))
    if ln.weight is not None:
        expected = expected * ln.weight.data
    if ln.bias is not None:
        expected = expected + ln.bias.data
    np.testing.assert_allclose(out.data, expected, **TIGHT)
    w = rng.standard_normal(out.shape)
    (out * tg.Tensor(w, dtype=tg.float64)).sum().backward()
    params = [p for p in (ln.weight, ln.bias) if p is not None]
    tg.gradcheck(lambda t, *ps: ln(t), (t64((2, 3, 4, 5), 4),) + tuple(params))
    torch = pytest.importorskip("torch")
    tln = torch.nn.LayerNorm(shape, dtype=torch.float64, **kwargs)
    tln.load_state_dict({k: torch.tensor(v) for k, v in ln.state_dict().items()})
    tx = torch.tensor(x.data, requires_grad=True)
    tout = tln(tx)
    np.testing.assert_allclose(out.data, tout.detach().numpy(), rtol=1e-11, atol=1e-12)
    (tout * torch.tensor(w)).sum().backward()
    np.testing.assert_allclose(x.grad, tx.grad.numpy(), rtol=1e-10, atol=1e-11)
    for p, (name, tp) in zip(params, tln.named_parameters()):
        np.testing.assert_allclose(p.grad, tp.grad.numpy(), rtol=1e-10, atol=1e-11, err_msg=name)
    assert repr(ln) == repr(tln)
    assert list(ln.state_dict()) == list(tln.state_dict())


def test_layer_norm_defaults_float32_and_message():
    ln = nn.LayerNorm(4)
    assert ln.weight.dtype == np.float32 and (ln.weight.data == 1).all() and (ln.bias.data == 0).all()
    out = ln(tg.Tensor(np.arange(8).reshape(2, 4), dtype=tg.float32))   # (an int64 array stays int64)
    assert out.dtype == np.float32
    np.testing.assert_allclose(out.data[0], (np.arange(4) - 1.5) / np.sqrt(1.25 + 1e-5), rtol=1e-6)
    message = "Given normalized_shape=[4], expected input with shape [*, 4], but got input of size[2, 3]"
    with pytest.raises(RuntimeError) as ours:
        ln(tg.zeros(2, 3))
    assert str(ours.value) == message
    torch = pytest.importorskip("torch")
    with pytest.raises(RuntimeError) as theirs:
        torch.nn.LayerNorm(4)(torch.zeros(2, 3))
    assert str(theirs.value) == message


def test_layer_norm_of_a_constant_row_stays_finite():
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        out = nn.LayerNorm(3, dtype=tg.float64)(tg.Tensor(np.full((2, 3), 1e4), requires_grad=True, dtype=tg.float64))
    assert np.isfinite(out.data).all() and not out.data.any()
