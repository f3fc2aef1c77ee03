"""tinygrad_rnn.save / load (torch.save / torch.load for state_dicts, as safetensors) and load_torch_state_dict:
exact round trips of module and optimiser state_dicts and of nested objects (types, key order, dtypes, bits),
resumed training bit-identical to training straight through, files that safetensors and torch.nn read, and the
refusals: what cannot be saved, and damaged or foreign files."""
import collections
import io
import math
import os
import warnings

import numpy as np
import pytest

import tinygrad_rnn as tg
from tinygrad_rnn import nn, optim
from tinygrad_rnn.checkpoint import CheckpointError

from checkpoint_files import read_raw, read_tensors, write_npz_v1, write_raw, write_tensors


def identical(a, b):
    """Same types all the way down (tuples stay tuples, OrderedDicts stay so), same key order, arrays bit for bit."""
    assert type(a) is type(b), (type(a), type(b))
    if isinstance(a, tg.Tensor):
        assert a.requires_grad == b.requires_grad
        identical(a.data, b.data)
    elif isinstance(a, (np.ndarray, np.generic)):
        assert (a.dtype, a.shape, a.tobytes()) == (b.dtype, b.shape, b.tobytes())
    elif isinstance(a, dict):
        assert list(a) == list(b)
        for key in a:
            identical(a[key], b[key])
    elif isinstance(a, (list, tuple)):
        assert len(a) == len(b)
        for x, y in zip(a, b):
            identical(x, y)
    elif isinstance(a, float) and math.isnan(a):
        assert math.isnan(b)
    elif isinstance(a, float):
        assert a == b and math.copysign(1, a) == math.copysign(1, b)
    else:
        assert a == b


def fit(model, opt, steps, dtype, seed=5):
    g = np.random.default_rng(seed)
    x, y = tg.Tensor(g.standard_normal((6, 2, 3)).astype(dtype)), tg.Tensor(g.standard_normal((6, 2, 4)))
    y = y.double() if dtype == np.float64 else y.float()
    for _ in range(steps):
        opt.zero_grad()
        ((model(x)[0] - y) ** 2).mean().backward()
        opt.step()


# ---- round trips ------------------------------------------------------------------------------------------------
def test_module_state_dict_round_trips_exactly(tmp_path, dtype):
    tg.manual_seed(0)
    lstm = nn.LSTM(3, 4, num_layers=2, bidirectional=True, dtype=dtype)
    tg.save(lstm.state_dict(), tmp_path / "lstm.safetensors")
    back = tg.load(tmp_path / "lstm.safetensors")
    identical(back, lstm.state_dict())
    tg.manual_seed(1)
    fresh = nn.LSTM(3, 4, num_layers=2, bidirectional=True, dtype=dtype)
    fresh.load_state_dict(back)
    x = tg.Tensor(np.random.default_rng(0).standard_normal((5, 2, 3)).astype(dtype))
    assert fresh(x)[0].data.tobytes() == lstm(x)[0].data.tobytes()


def test_optimizer_state_round_trips_and_resumes_bit_identically(tmp_path, dtype):
    tg.manual_seed(0)
    model = nn.LSTM(3, 4, dtype=dtype)
    opt = optim.Adam(model.parameters(), lr=0.01, betas=(0.8, 0.99))
    fit(model, opt, 3, dtype)
    tg.save({"model": model.state_dict(), "optimizer": opt.state_dict(), "step": 3}, tmp_path / "ckpt.safetensors")
    fit(model, opt, 2, dtype, seed=6)                           # straight through: 5 steps

    tg.manual_seed(9)
    fresh = nn.LSTM(3, 4, dtype=dtype)
    fresh_opt = optim.Adam(fresh.parameters(), lr=0.5)
    saved = tg.load(tmp_path / "ckpt.safetensors")
    assert saved["step"] == 3 and saved["optimizer"]["param_groups"][0]["betas"] == (0.8, 0.99)
    assert sorted(saved["optimizer"]["state"]) == [0, 1, 2, 3]            # int keys come back as ints
    fresh.load_state_dict(saved["model"])
    fresh_opt.load_state_dict(saved["optimizer"])
    fit(fresh, fresh_opt, 2, dtype, seed=6)
    identical(fresh.state_dict(), model.state_dict())
    identical(fresh_opt.state_dict(), opt.state_dict())


def test_nested_objects_keep_their_types(tmp_path):
    weight = nn.Parameter(np.arange(6.0).reshape(2, 3))
    obj = collections.OrderedDict([
        ("epoch", 3), ("best", math.inf), ("history", [1.5, -0.0, math.nan, None, True, "x"]),
        ("betas", (0.9, (0.99, 1))), ("scalar", np.float32(2.5)), ("int scalar", np.int64(-7)),
        ("grad", tg.Tensor([1.0, 2.0], requires_grad=True)), ("weight", weight),
        ("ints", np.arange(4, dtype=np.int32)), ("mask", np.array([True, False])), ("empty", np.zeros((0, 3))),
        ("0-d", np.array(1.25)), ("fortran", np.asfortranarray(np.arange(6.0).reshape(2, 3))),
        ("big-endian", np.arange(3, dtype=">f8")), ("keys", {1: "one", 2.5: "float", None: "none", (1, "a"): "tuple",
                                                              False: "bool", "__tensor__": "a tag as a key"}),
        ("unicode é✓🙂", {"ünï": "çødé"}),
    ])
    tg.save(obj, tmp_path / "o.safetensors")
    back = tg.load(tmp_path / "o.safetensors")
    assert isinstance(back, collections.OrderedDict) and isinstance(back["weight"], nn.Parameter)
    assert back["weight"].requires_grad and not isinstance(back["grad"], nn.Parameter)
    assert back["fortran"].flags.c_contiguous and back["big-endian"].dtype == np.float64      # values, native order
    obj["fortran"], obj["big-endian"] = np.ascontiguousarray(obj["fortran"]), obj["big-endian"].astype(np.float64)
    identical(back, obj)


def test_an_object_saved_twice_is_one_object(tmp_path):
    """Tied weights: one tensor in the file, one object after loading (torch.save keeps sharing too)."""
    shared = tg.Tensor(np.ones(3))
    array = np.zeros(2)
    tg.save({"a": shared, "b": shared, "x": [array, array]}, tmp_path / "t.safetensors")
    tensors, _ = read_tensors(tmp_path / "t.safetensors")
    assert sorted(tensors) == ["a", "x.0"]
    back = tg.load(tmp_path / "t.safetensors")
    assert back["a"] is back["b"] and back["x"][0] is back["x"][1]


def test_names_that_collide_are_kept_apart(tmp_path):
    obj = {"a.b": np.zeros(1), "a": {"b": np.ones(1)}}
    tg.save(obj, tmp_path / "c.safetensors")
    identical(tg.load(tmp_path / "c.safetensors"), obj)


def test_file_objects(tmp_path):
    buffer = io.BytesIO()
    tg.save({"w": np.arange(3.0)}, buffer)
    buffer.seek(0)
    identical(tg.load(buffer), {"w": np.arange(3.0)})
    with open(tmp_path / "f.safetensors", "wb") as f:
        tg.save([1, np.ones(2)], f)
    with open(tmp_path / "f.safetensors", "rb") as f:
        identical(tg.load(f), [1, np.ones(2)])


def test_torch_load_arguments(tmp_path):
    tg.save({"w": np.ones(1)}, tmp_path / "w.safetensors")
    identical(tg.load(tmp_path / "w.safetensors", map_location="cpu", weights_only=True), {"w": np.ones(1)})
    with pytest.raises(RuntimeError, match="CPU only"):
        tg.load(tmp_path / "w.safetensors", map_location="cuda:0")


def test_a_training_checkpoint_loads_as_checkpoint_load_reads_it(tmp_path):
    from tinygrad_rnn import checkpoint

    lstm = nn.LSTM(2, 3)
    opt = optim.SGD(lstm.parameters(), lr=0.1, momentum=0.9)
    fit_x = tg.randn(4, 1, 2)
    lstm(fit_x)[0].sum().backward()
    opt.step()
    checkpoint.save(tmp_path / "c.safetensors", lstm.state_dict(), opt.state_dict(), {"h": 3}, None, 7)
    identical(tg.load(tmp_path / "c.safetensors"), checkpoint.load(tmp_path / "c.safetensors"))
    write_npz_v1(tmp_path / "old.npz", lstm.state_dict(), step=2)
    with pytest.warns(DeprecationWarning):
        assert tg.load(tmp_path / "old.npz")["step"] == 2


# ---- what cannot be saved ---------------------------------------------------------------------------------------
@pytest.mark.parametrize("obj,error,words", [
    (nn.Linear(2, 2), TypeError, "save module.state_dict()"),
    ({"s": {1, 2}}, TypeError, "type set (at s)"),
    ({"z": np.zeros(2, complex)}, TypeError, "dtype complex128"),
    ({"o": np.array([object()])}, TypeError, "dtype object"),
    ({"f": print}, TypeError, "builtin_function_or_method"),
    ({frozenset(): 1}, TypeError, "dict key of type frozenset"),
], ids=["module", "set", "complex", "object array", "function", "frozenset key"])
def test_save_refuses_what_it_cannot_restore(tmp_path, obj, error, words):
    with pytest.raises(error, match=words.replace("(", r"\(").replace(")", r"\)")):
        tg.save(obj, tmp_path / "x.safetensors")
    assert os.listdir(tmp_path) == []


def test_self_containing_list_is_refused(tmp_path):
    loop = [1]
    loop.append(loop)
    with pytest.raises(ValueError, match="contains itself"):
        tg.save({"loop": loop}, tmp_path / "x.safetensors")


def test_failed_save_leaves_the_previous_file(tmp_path, monkeypatch):
    path = tmp_path / "w.safetensors"
    tg.save({"w": np.arange(3.0)}, path)
    before = path.read_bytes()

    def fail(*args):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(os, "fsync", fail)
    with pytest.raises(OSError):
        tg.save({"w": np.arange(4.0)}, path)
    monkeypatch.undo()
    assert path.read_bytes() == before and os.listdir(tmp_path) == ["w.safetensors"]


# ---- damaged and foreign files ------------------------------------------------------------------------------------
def refused(path, *words):
    with pytest.raises(CheckpointError) as info:
        tg.load(path)
    message = str(info.value)
    assert "\n" not in message and str(path) in message, message
    for word in words:
        assert word in message, message
    return message


def test_every_single_byte_flip_is_refused(tmp_path):
    path = tmp_path / "s.safetensors"
    tg.save({"w": np.arange(4.0, dtype=np.float32), "n": [1, (2.5, "x")]}, path)
    original = path.read_bytes()
    for offset in range(len(original)):
        data = bytearray(original)
        data[offset] ^= 0xFF
        path.write_bytes(bytes(data))
        refused(path)


@pytest.mark.parametrize("cut", [0, 5, 8, 30, -1])
def test_truncated(tmp_path, cut):
    path = tmp_path / "s.safetensors"
    tg.save({"w": np.arange(4.0)}, path)
    path.write_bytes(path.read_bytes()[:cut])
    refused(path, "empty" if cut == 0 else "")


def test_not_regular_missing_and_checksum(tmp_path):
    refused(tmp_path, "not a regular file (a directory)")
    refused(tmp_path / "nowhere.safetensors", "no such checkpoint file")
    path = tmp_path / "s.safetensors"
    tg.save({"w": np.arange(4.0)}, path)
    header, data = read_raw(path)
    write_raw(path, header, data[:-8] + np.float64(9).tobytes())
    refused(path, "checksum mismatch")
    tensors, metadata = read_tensors(path)
    tensors["extra"] = np.zeros(1)
    from checkpoint_files import digest
    metadata["tinygrad_rnn.digest"] = digest(tensors, metadata)
    write_tensors(path, tensors, metadata)
    refused(path, "tensor 'extra' is not part of it")
    del tensors["extra"], tensors["w"]
    metadata["tinygrad_rnn.digest"] = digest(tensors, metadata)
    write_tensors(path, tensors, metadata)
    refused(path, "tensor 'w' is missing")


def test_someone_else_s_safetensors_file_is_read_as_tensors(tmp_path):
    write_tensors(tmp_path / "hf.safetensors", {"b": np.arange(3, dtype=np.int64), "a": np.ones(2, np.float32),
                                                "h": np.ones(2, np.float16)}, {"format": "pt"})
    back = tg.load(tmp_path / "hf.safetensors")
    assert list(back) == ["a", "b", "h"]                       # name order, as safetensors' own keys()
    assert isinstance(back["a"], tg.Tensor) and back["b"].dtype == np.int64
    assert isinstance(back["h"], np.ndarray) and back["h"].dtype == np.float16     # no silent float32


# ---- PyTorch ------------------------------------------------------------------------------------------------------
@pytest.mark.parametrize("precision", ["float64", "float32"])
def test_safetensors_torch_loads_a_saved_state_dict_into_torch_nn(tmp_path, precision, torch):
    from safetensors.torch import load_file

    dtype, tol = (np.float64, 1e-10) if precision == "float64" else (np.float32, 1e-5)
    tg.manual_seed(3)
    gru = nn.GRU(3, 5, num_layers=2, bidirectional=True, dtype=dtype)
    tg.save(gru.state_dict(), tmp_path / "gru.safetensors")
    reference = torch.nn.GRU(3, 5, num_layers=2, bidirectional=True, dtype=getattr(torch, precision))
    reference.load_state_dict(load_file(str(tmp_path / "gru.safetensors")), strict=True)
    x = np.random.default_rng(0).standard_normal((6, 2, 3)).astype(dtype)
    out, h = gru(tg.Tensor(x))
    with torch.no_grad():
        t_out, t_h = reference(torch.from_numpy(x))
    np.testing.assert_allclose(out.data, t_out.numpy(), rtol=0, atol=tol)
    np.testing.assert_allclose(h.data, t_h.numpy(), rtol=0, atol=tol)


def test_torch_s_files_and_state_dicts_load_here(tmp_path, torch):
    from safetensors.torch import save_file

    torch.manual_seed(0)
    reference = torch.nn.LSTM(3, 4, num_layers=2, dtype=torch.float64)
    save_file(reference.state_dict(), str(tmp_path / "torch.safetensors"), metadata={"format": "pt"})
    torch.save(reference.state_dict(), tmp_path / "torch.pt")
    x = np.random.default_rng(1).standard_normal((5, 2, 3))
    with torch.no_grad():
        expected = reference(torch.from_numpy(x))[0].numpy()
    for source in (tg.load(tmp_path / "torch.safetensors"), tg.load_torch_state_dict(tmp_path / "torch.safetensors"),
                   tg.load_torch_state_dict(tmp_path / "torch.pt"), tg.load_torch_state_dict(reference.state_dict())):
        lstm = nn.LSTM(3, 4, num_layers=2, dtype=np.float64)
        assert lstm.load_state_dict(source) == ([], [])
        np.testing.assert_allclose(lstm(tg.Tensor(x))[0].data, expected, rtol=0, atol=1e-12)
    with pytest.raises(TypeError, match="torch.bfloat16"):
        tg.load_torch_state_dict({"w": torch.zeros(2, dtype=torch.bfloat16)})
    with pytest.raises(TypeError, match="expected a state_dict"):
        tg.load_torch_state_dict(3)


def test_the_reference_reader_sees_dotted_names(tmp_path):
    safetensors_numpy = pytest.importorskip("safetensors.numpy")
    lstm = nn.LSTM(2, 2)
    opt = optim.Adam(lstm.parameters())
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        tg.save({"model": lstm.state_dict(), "optimizer": opt.state_dict()}, tmp_path / "n.safetensors")
    names = sorted(safetensors_numpy.load_file(str(tmp_path / "n.safetensors")))
    assert names == sorted(f"model.{k}" for k in lstm.state_dict())
