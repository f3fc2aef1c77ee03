"""Module's torch API: apply, to(dtype)/to("cpu"), float/double, requires_grad_, register_buffer (state_dict,
persistent=), buffers/named_buffers, named_modules/modules, zero_grad, and the warning for a plain list of modules.
Each checked against torch.nn.Module where torch is installed."""
import warnings

import numpy as np
import pytest

import tinygrad_rnn as tg
from tinygrad_rnn import nn


class Net(nn.Module):
    def __init__(self, lib=nn, zeros=None):
        super().__init__()
        self.lstm = lib.LSTM(3, 4)
        self.head = lib.Sequential(lib.Linear(4, 2), lib.Tanh())
        self.register_buffer("scale", zeros(2))
        self.register_buffer("cache", zeros(3), persistent=False)

    def forward(self, x):
        out, _ = self.lstm(x)
        return self.head(out) * self.scale


def torch_net(torch):
    class TorchNet(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.lstm = torch.nn.LSTM(3, 4)
            self.head = torch.nn.Sequential(torch.nn.Linear(4, 2), torch.nn.Tanh())
            self.register_buffer("scale", torch.zeros(2))
            self.register_buffer("cache", torch.zeros(3), persistent=False)
    return TorchNet()


def net():
    return Net(zeros=lambda n: tg.zeros(n))


def test_buffers_in_state_dict_as_torch():
    m = net()
    assert [n for n, _ in m.named_buffers()] == ["scale", "cache"]
    assert [b.shape for b in m.buffers()] == [(2,), (3,)]
    keys = list(m.state_dict())
    assert "scale" in keys and "cache" not in keys
    assert all("scale" != n for n, _ in m.named_parameters()) and len(list(m.parameters())) == 6
    m.scale = tg.Tensor(np.array([2.0, 3.0]))             # reassigning a buffer keeps it registered
    assert m.state_dict()["scale"].tolist() == [2.0, 3.0]
    fresh = net()
    fresh.load_state_dict(m.state_dict())
    assert fresh.scale.data.tolist() == [2.0, 3.0]
    with pytest.raises(RuntimeError, match='Missing key\\(s\\) in state_dict: "scale"'):
        fresh.load_state_dict({k: v for k, v in m.state_dict().items() if k != "scale"})
    torch = pytest.importorskip("torch")
    tm = torch_net(torch)
    assert list(tm.state_dict()) == keys
    assert [n for n, _ in tm.named_buffers()] == ["scale", "cache"]
    tm.load_state_dict({k: torch.from_numpy(v.numpy()) for k, v in m.state_dict().items()})   # strict: names agree


def test_register_buffer_errors_are_torchs():
    m = net()
    cases = [(lambda: m.register_buffer("a.b", tg.zeros(1)), KeyError, 'buffer name can\'t contain "."'),
             (lambda: m.register_buffer("", tg.zeros(1)), KeyError, 'buffer name can\'t be empty string ""'),
             (lambda: m.register_buffer("lstm", tg.zeros(1)), KeyError, "attribute 'lstm' already exists"),
             (lambda: m.register_buffer("x", [1.0]), TypeError,
              "cannot assign 'list' object to buffer 'x' (torch Tensor or None required)"),
             (lambda: m.register_buffer(3, tg.zeros(1)), TypeError, "buffer name should be a string. Got int")]
    for call, error, message in cases:
        with pytest.raises(error) as info:
            call()
        assert info.value.args[0] == message
    with pytest.raises(TypeError, match=r"cannot assign 'list' as buffer 'scale' \(torch.Tensor or None expected\)"):
        m.scale = [1.0]
    m.register_buffer("empty", None)
    assert "empty" not in dict(m.named_buffers()) and "empty" not in m.state_dict()
    torch = pytest.importorskip("torch")
    tm = torch_net(torch)
    for call, error, message in [(lambda: tm.register_buffer("a.b", torch.zeros(1)), KeyError,
                                  'buffer name can\'t contain "."'),
                                 (lambda: tm.register_buffer("lstm", torch.zeros(1)), KeyError,
                                  "attribute 'lstm' already exists"),
                                 (lambda: tm.register_buffer("x", [1.0]), TypeError,
                                  "cannot assign 'list' object to buffer 'x' (torch Tensor or None required)")]:
        with pytest.raises(error) as info:
            call()
        assert info.value.args[0] == message


def test_named_modules_and_modules_as_torch():
    m = net()
    names = [n for n, _ in m.named_modules()]
    assert names == ["", "lstm", "head", "head.0", "head.1"]
    assert [type(x).__name__ for x in m.modules()] == ["Net", "LSTM", "Sequential", "Linear", "Tanh"]
    shared = nn.Tanh()
    seq = nn.Sequential(shared, nn.Linear(2, 2), shared)
    assert [n for n, _ in seq.named_modules()] == ["", "0", "1"]
    assert [n for n, _ in seq.named_modules(remove_duplicate=False)] == ["", "0", "1", "2"]
    assert [n for n, _ in seq.named_modules(prefix="top")] == ["top", "top.0", "top.1"]
    torch = pytest.importorskip("torch")
    assert [n for n, _ in torch_net(torch).named_modules()] == names
    tshared = torch.nn.Tanh()
    tseq = torch.nn.Sequential(tshared, torch.nn.Linear(2, 2), tshared)
    assert [n for n, _ in tseq.named_modules()] == ["", "0", "1"]
    assert [n for n, _ in tseq.named_modules(remove_duplicate=False)] == ["", "0", "1", "2"]


def test_apply_visits_children_first_then_self():
    m = net()
    seen = []
    assert m.apply(lambda mod: seen.append(type(mod).__name__)) is m
    assert seen == ["LSTM", "Linear", "Tanh", "Sequential", "Net"]
    torch = pytest.importorskip("torch")
    tseen = []
    torch_net(torch).apply(lambda mod: tseen.append(type(mod).__name__))
    assert tseen == ["LSTM", "Linear", "Tanh", "Sequential", "TorchNet"]


def test_apply_with_an_initialiser():
    tg.manual_seed(0)
    m = net()

    def init_weights(mod):
        if isinstance(mod, nn.Linear):
            nn.init.zeros_(mod.weight)
            nn.init.constant_(mod.bias, 0.5)

    m.apply(init_weights)
    assert not m.head[0].weight.data.any() and (m.head[0].bias.data == 0.5).all()
    assert m.lstm.weight_ih_l0.data.any()


def test_to_float_double():
    m = net()
    assert m.to(tg.float64) is m
    assert all(p.dtype == np.float64 for p in m.parameters()) and all(b.dtype == np.float64 for b in m.buffers())
    x = tg.Tensor(np.ones((2, 1, 3)), dtype=tg.float64)
    assert m(x).dtype == np.float64
    assert m.float() is m and all(p.dtype == np.float32 for p in m.parameters())
    assert m.scale.dtype == np.float32 and m.cache.dtype == np.float32
    assert m.double() is m and m.cache.dtype == np.float64
    assert m.to("cpu") is m and m.cache.dtype == np.float64              # a no-op
    assert m.to("cpu", np.float32) is m and m.cache.dtype == np.float32
    assert m.to(device="cpu", dtype="float64").scale.dtype == np.float64
    with pytest.raises(RuntimeError, match="CPU only.*'cuda:0'"):
        m.to("cuda:0")
    with pytest.raises(TypeError, match="^nn.Module.to only accepts floating point or complex dtypes, but got "
                                        "desired dtype=int64$"):
        m.to(np.int64)
    with pytest.raises(TypeError, match="float32 and float64 only"):
        m.to(np.float16)


def test_requires_grad_freezes_and_unfreezes():
    m = net()
    assert m.requires_grad_(False) is m and not any(p.requires_grad for p in m.parameters())
    x = tg.ones(2, 1, 3)
    out = m(x)
    assert not out.requires_grad
    m.head.requires_grad_()
    assert [p.requires_grad for p in m.parameters()] == [False] * 4 + [True] * 2
    m(x).sum().backward()
    assert m.lstm.weight_ih_l0.grad is None and m.head[0].weight.grad is not None


def test_zero_grad_sets_to_none_by_default_as_torch_2():
    m = net()
    m.scale = tg.ones(2)
    m(tg.ones(2, 1, 3)).sum().backward()
    assert all(p.grad is not None for p in m.parameters())
    m.zero_grad(set_to_none=False)
    assert all(p.grad is not None and not p.grad.any() for p in m.parameters())
    m.zero_grad()
    assert all(p.grad is None for p in m.parameters())
    torch = pytest.importorskip("torch")
    import inspect
    assert inspect.signature(torch.nn.Module.zero_grad).parameters["set_to_none"].default is True
    assert inspect.signature(nn.Module.zero_grad).parameters["set_to_none"].default is True


def test_a_plain_list_of_modules_warns_and_is_not_registered_as_in_torch():
    class Bad(nn.Module):
        def __init__(self):
            super().__init__()
            self.layers = [nn.Linear(2, 2), nn.Linear(2, 2)]

    with pytest.warns(UserWarning, match=r"Bad.layers is a list of Modules: they are not registered .*use "
                                         r"nn.ModuleList"):
        bad = Bad()
    assert list(bad.parameters()) == [] and len(bad.layers) == 2
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        bad.names = ["a", "b"]                 # other lists are plain attributes, silently
        bad.empty = []
    torch = pytest.importorskip("torch")

    class TorchBad(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.layers = [torch.nn.Linear(2, 2)]

    assert list(TorchBad().parameters()) == []     # torch does not register them either (silently)


def test_reassigning_names_moves_them_between_registries():
    m = nn.Module()
    m.a = nn.Linear(2, 2)
    m.a = nn.Parameter(np.zeros(2))
    assert list(m._modules) == [] and list(m._parameters) == ["a"]
    with pytest.raises(TypeError, match="cannot assign 'int' as parameter 'a'"):
        m.a = 3
    m.b = nn.ReLU()
    with pytest.raises(TypeError, match=r"cannot assign 'int' as child module 'b' \(torch.nn.Module or None "
                                        r"expected\)"):
        m.b = 3
    m.b = None
    assert list(m.children()) == [] and [n for n, _ in m.named_modules()] == [""]
    del m.a
    assert list(m._parameters) == [] and not hasattr(m, "a")
    torch = pytest.importorskip("torch")
    tm = torch.nn.Module()
    tm.b = torch.nn.ReLU()
    with pytest.raises(TypeError, match=r"cannot assign 'int' as child module 'b' \(torch.nn.Module or None "
                                        r"expected\)"):
        tm.b = 3


def test_add_module_get_submodule_cpu_and_load_state_dicts_result_as_torch():
    m = net()
    m.add_module("extra", nn.ReLU())
    m.register_module("gone", None)
    assert m.extra is m._modules["extra"] and m.gone is None and [n for n, _ in m.named_children()][-1] == "extra"
    assert m.get_submodule("head.0") is m.head[0] and m.get_submodule("") is m and m.cpu() is m
    ours = []
    for call in [lambda mod, r: mod.add_module(3, r), lambda mod, r: mod.add_module("a.b", r),
                 lambda mod, r: mod.add_module("", r), lambda mod, r: mod.add_module("x", 3),
                 lambda mod, r: mod.add_module("training", r), lambda mod, r: mod.get_submodule("head.0.foo"),
                 lambda mod, r: mod.get_submodule("nope"), lambda mod, r: mod.get_submodule("head.0.weight")]:
        with pytest.raises((TypeError, KeyError, AttributeError)) as info:
            call(m, nn.ReLU())
        ours.append((type(info.value), info.value.args[0]))
    assert ours[0] == (TypeError, "module name should be a string. Got int")
    assert ours[5] == (AttributeError, "Linear has no attribute `foo`")
    assert ours[7] == (AttributeError, "`weight` is not an nn.Module")
    result = m.load_state_dict(m.state_dict())
    assert result == ([], []) and result.missing_keys == [] and repr(result) == "<All keys matched successfully>"
    partial = m.load_state_dict({"scale": np.ones(2, np.float32), "what": np.ones(1)}, strict=False)
    assert partial.unexpected_keys == ["what"] and "lstm.weight_ih_l0" in partial.missing_keys
    shared = nn.Linear(2, 2)
    seq = nn.Sequential(shared, shared)
    assert [n for n, _ in seq.named_parameters()] == ["0.weight", "0.bias"]
    torch = pytest.importorskip("torch")
    tm = torch_net(torch)
    theirs = []
    for call in [lambda mod, r: mod.add_module(3, r), lambda mod, r: mod.add_module("a.b", r),
                 lambda mod, r: mod.add_module("", r), lambda mod, r: mod.add_module("x", 3),
                 lambda mod, r: mod.add_module("training", r), lambda mod, r: mod.get_submodule("head.0.foo"),
                 lambda mod, r: mod.get_submodule("nope"), lambda mod, r: mod.get_submodule("head.0.weight")]:
        with pytest.raises((TypeError, KeyError, AttributeError)) as info:
            call(tm, torch.nn.ReLU())
        theirs.append((type(info.value), info.value.args[0]))
    assert ours[:6] + ours[7:] == theirs[:6] + theirs[7:]
    assert theirs[6] == (AttributeError, "TorchNet has no attribute `nope`") and ours[6][1] == \
        "Net has no attribute `nope`"
    assert repr(tm.load_state_dict(tm.state_dict())) == "<All keys matched successfully>"
    tshared = torch.nn.Linear(2, 2)
    tseq = torch.nn.Sequential(tshared, tshared)
    assert [n for n, _ in tseq.named_parameters()] == ["0.weight", "0.bias"]
    assert [n for n, _ in seq.named_parameters(remove_duplicate=False)] == \
        [n for n, _ in tseq.named_parameters(remove_duplicate=False)]
