"""checkpoint: exact round trips (weights, Adam state, scheduler state, config, vocabulary, step, RNG), bit-identical
resumes, atomic writes of the checkpoint and its state file, one-line refusals of damaged or foreign files (format
version 2, safetensors, and the deprecated version 1 .npz), safetensors' own readers and torch.nn.LSTM reading
the weights."""
import json
import math
import os
import sys
import warnings
import zipfile

import numpy as np
import pytest

import tinygrad_rnn as tg
from tinygrad_rnn import checkpoint, nn, optim
from tinygrad_rnn import rng as engine_rng
from tinygrad_rnn.checkpoint import CheckpointError

from checkpoint_files import Crafted, read_raw, read_tensors, write_npz_v1, write_raw, write_tensors

VOCAB = "\n abcé✓漢🙂"  # a newline, Latin-1, BMP and astral characters
CONFIG = {"cell": "lstm", "hidden": 5, "layers": 2, "dtype": "float64", "dropout": 0.0, "sizes": (3, 5),
          "lr": 0.1 + 0.2, "tiny": 5e-324, "huge": 1.7976931348623157e308, "neg_zero": -0.0, "nested": {"a": [1, None]}}


class Net(nn.Module):
    """A 2-layer LSTM with a linear head: the names are "lstm.weight_ih_l0", ..., "head.weight", "head.bias"."""

    def __init__(self, dtype):
        super().__init__()
        self.lstm = nn.LSTM(3, 5, num_layers=2, dtype=dtype)
        self.head = nn.Linear(5, 2, dtype=dtype)

    def forward(self, x):
        return self.head(self.lstm(x)[0])


def train(model, opt, steps, dtype):
    """`steps` real optimiser steps on a fixed regression problem."""
    g = np.random.default_rng(5)
    x, y = (tg.Tensor(g.standard_normal(shape).astype(dtype)) for shape in [(4, 2, 3), (4, 2, 2)])
    for _ in range(steps):
        opt.zero_grad()
        ((model(x) - y) ** 2).mean().backward()
        opt.step()


def trained(dtype, steps=3):
    tg.manual_seed(0)
    model = Net(dtype)
    opt = optim.Adam(model.parameters(), lr=0.01, betas=(0.8, 0.99))
    train(model, opt, steps, dtype)
    return model, opt


def assert_identical(a, b):
    """Same types all the way down (tuples stay tuples), same key order, arrays bit for bit with their dtype (a
    module's state_dict holds Tensors, the checkpoint gives back their arrays)."""
    a, b = (x.numpy() if isinstance(x, tg.Tensor) else x for x in (a, b))
    assert type(a) is type(b), (a, b)
    if isinstance(a, np.ndarray):
        assert (a.dtype, a.shape, a.tobytes()) == (b.dtype, b.shape, b.tobytes())
    elif isinstance(a, dict):
        assert list(a) == list(b)
        for key in a:
            assert_identical(a[key], b[key])
    elif isinstance(a, (list, tuple)):
        assert len(a) == len(b)
        for x, y in zip(a, b):
            assert_identical(x, y)
    elif isinstance(a, float):
        assert a == b and math.copysign(1, a) == math.copysign(1, b)
    else:
        assert a == b


# ---- round trips ----------------------------------------------------------------------------------------------
def test_round_trip_is_exact(tmp_path, dtype):
    model, opt = trained(dtype)
    tg.manual_seed(42)
    engine_rng.generator.random(3)
    rng_state = engine_rng.generator.bit_generator.state
    path = tmp_path / "ckpt.npz"
    checkpoint.save(path, model.state_dict(), opt.state_dict(), CONFIG, VOCAB, 3, rng_state)
    later = engine_rng.generator.random(4)  # what the original generator draws next

    saved = checkpoint.load(path)
    assert list(saved) == ["model", "optimizer", "config", "vocab", "step", "rng_state", "scheduler"]
    assert saved["model"]["lstm.weight_ih_l0"].dtype == dtype
    assert_identical(saved["model"], model.state_dict())
    assert_identical(saved["optimizer"], opt.state_dict())
    assert saved["optimizer"]["param_groups"][0]["betas"] == (0.8, 0.99)
    assert saved["optimizer"]["state"][0]["step"] == 3
    assert_identical(saved["config"], CONFIG)
    assert_identical(saved["vocab"], VOCAB)
    assert_identical(saved["step"], 3)
    assert_identical(saved["rng_state"], rng_state)
    g = np.random.default_rng()
    g.bit_generator.state = saved["rng_state"]
    assert g.random(4).tobytes() == later.tobytes()


def test_resume_is_bit_identical(tmp_path, dtype):
    model, opt = trained(dtype, steps=3)
    path = tmp_path / "ckpt.npz"
    checkpoint.save(path, model.state_dict(), opt.state_dict(), step=3)
    train(model, opt, 2, dtype)  # the uninterrupted run: 5 steps

    tg.manual_seed(99)  # other initial weights and other hyperparameters: the checkpoint overrides both
    fresh = Net(dtype)
    fresh_opt = optim.Adam(fresh.parameters(), lr=0.5, betas=(0.9, 0.999))
    saved = checkpoint.load(path)
    fresh.load_state_dict(saved["model"])
    fresh_opt.load_state_dict(saved["optimizer"])
    train(fresh, fresh_opt, 2, dtype)
    assert_identical(fresh.state_dict(), model.state_dict())
    assert_identical(fresh_opt.state_dict(), opt.state_dict())


def test_layout_is_safetensors_with_a_state_file(tmp_path):
    """The checkpoint's tensors are the model's state_dict and nothing else (safetensors' own reader says so); the
    optimiser's arrays are in the state file the checkpoint names, which safetensors reads as well."""
    safetensors_numpy = pytest.importorskip("safetensors.numpy")
    model, opt = trained(np.float64)
    path = tmp_path / "ckpt.safetensors"
    checkpoint.save(path, model.state_dict(), opt.state_dict())
    weights = safetensors_numpy.load_file(str(path))
    assert sorted(weights) == sorted(model.state_dict())
    for name, value in model.state_dict().items():
        assert weights[name].dtype == value.dtype and weights[name].tobytes() == value.numpy().tobytes()
    header, _ = read_raw(path)
    meta = json.loads(header["__metadata__"]["tinygrad_rnn.checkpoint"])
    assert header["__metadata__"]["format"] == "pt" and meta["model"] == list(model.state_dict())
    state_name = meta["state_file"]["name"]
    assert sorted(os.listdir(tmp_path)) == ["ckpt.safetensors", state_name]   # no temporary left
    state = safetensors_numpy.load_file(str(tmp_path / state_name))
    np.testing.assert_array_equal(state["optim/state/0/exp_avg"], opt.state_dict()["state"][0]["exp_avg"])
    assert "optim/state/0/step" not in state  # ints live in the JSON metadata
    assert state_name == "ckpt.safetensors.state-" + meta["state_file"]["digest"][:8]


def test_weights_alone_make_one_file(tmp_path):
    checkpoint.save(tmp_path / "w.safetensors", {"w": np.arange(3.0)}, config={"h": 1}, step=4)
    assert os.listdir(tmp_path) == ["w.safetensors"]
    assert checkpoint.load(tmp_path / "w.safetensors")["step"] == 4


def test_a_new_save_removes_the_previous_state_file(tmp_path):
    model, opt = trained(np.float32)
    path = tmp_path / "c.safetensors"
    checkpoint.save(path, model.state_dict(), opt.state_dict(), step=1)
    first = set(os.listdir(tmp_path))
    train(model, opt, 1, np.float32)
    checkpoint.save(path, model.state_dict(), opt.state_dict(), step=2)
    second = set(os.listdir(tmp_path))
    assert len(first) == len(second) == 2 and first != second          # a new state file, the old one gone
    assert_identical(checkpoint.load(path)["optimizer"], opt.state_dict())
    checkpoint.save(path, model.state_dict(), step=3)                     # no optimiser: no state file at all
    assert os.listdir(tmp_path) == ["c.safetensors"]
    (tmp_path / "other.safetensors.state-0123abcd").write_bytes(b"x")    # another checkpoint's: not touched
    checkpoint.save(path, model.state_dict(), opt.state_dict(), step=4)
    assert "other.safetensors.state-0123abcd" in os.listdir(tmp_path)


SCHEDULERS = {
    "StepLR": lambda L, o: L.StepLR(o, 2), "MultiStepLR": lambda L, o: L.MultiStepLR(o, [1, 3, 3, 6]),
    "ExponentialLR": lambda L, o: L.ExponentialLR(o, 0.9), "CosineAnnealingLR": lambda L, o: L.CosineAnnealingLR(o, 7),
    "LinearLR": lambda L, o: L.LinearLR(o, total_iters=5),
    "OneCycleLR": lambda L, o: L.OneCycleLR(o, 1.0, total_steps=20),
    "ReduceLROnPlateau": lambda L, o: L.ReduceLROnPlateau(o, patience=0),
    "SequentialLR": lambda L, o: L.SequentialLR(o, [L.StepLR(o, 2), L.ExponentialLR(o, 0.9)], milestones=[3]),
}


@pytest.mark.parametrize("make", SCHEDULERS.values(), ids=SCHEDULERS.keys())
def test_scheduler_state_round_trips_and_resumes(tmp_path, make):
    """Saved after 4 steps and resumed: the next 8 learning rates are those of the run straight through (a
    MultiStepLR's milestones are a Counter of ints, a plateau's best starts at inf)."""
    from tinygrad_rnn.optim import lr_scheduler

    def run(scheduler, optimizer, steps):
        rates = []
        for k in range(steps):
            optimizer.step()
            scheduler.step(float(k % 3)) if isinstance(scheduler, lr_scheduler.ReduceLROnPlateau) else scheduler.step()
            rates.append(optimizer.param_groups[0]["lr"])
        return rates

    model = nn.Linear(2, 2)
    opt = optim.SGD(model.parameters(), lr=0.1, momentum=0.9)
    scheduler = make(lr_scheduler, opt)
    run(scheduler, opt, 4)
    checkpoint.save(tmp_path / "c.safetensors", model.state_dict(), opt.state_dict(),
                    scheduler_state=scheduler.state_dict())
    straight = run(scheduler, opt, 8)
    saved = checkpoint.load(tmp_path / "c.safetensors")
    fresh_opt = optim.SGD(nn.Linear(2, 2).parameters(), lr=0.1, momentum=0.9)
    fresh = make(lr_scheduler, fresh_opt)             # torch's order: build both, then load both
    fresh_opt.load_state_dict(saved["optimizer"])
    fresh.load_state_dict(saved["scheduler"])
    assert run(fresh, fresh_opt, 8) == straight


@pytest.mark.parametrize("make", [lambda ps: optim.SGD(ps, lr=0.1, momentum=0.9, nesterov=True),
                                  lambda ps: optim.RMSprop(ps, momentum=0.5, centered=True),
                                  lambda ps: optim.Adagrad(ps, lr_decay=0.1),
                                  lambda ps: optim.AdamW(ps, amsgrad=True)],
                         ids=["SGD", "RMSprop", "Adagrad", "AdamW"])
def test_other_optimisers_round_trip(tmp_path, make):
    tg.manual_seed(0)
    model = Net(np.float32)
    opt = make(list(model.parameters()))
    train(model, opt, 2, np.float32)
    checkpoint.save(tmp_path / "c.npz", model.state_dict(), opt.state_dict())
    assert_identical(checkpoint.load(tmp_path / "c.npz")["optimizer"], opt.state_dict())


def test_array_valued_rng_state_and_defaults(tmp_path):
    g = np.random.Generator(np.random.MT19937(3))  # its state holds a uint32 array
    checkpoint.save(tmp_path / "c.npz", {"w": np.arange(3.0)}, rng_state=g)
    saved = checkpoint.load(tmp_path / "c.npz")
    assert_identical(saved["rng_state"], g.bit_generator.state)
    assert (saved["optimizer"], saved["config"], saved["vocab"], saved["step"]) == (None, {}, None, 0)


@pytest.mark.parametrize("kwargs,error", [(dict(config={"f": object()}), TypeError),
                                          (dict(config={1: "int key"}), TypeError),
                                          (dict(vocab=list("ab")), TypeError),
                                          (dict(step=1.5), TypeError)])
def test_save_refuses_what_it_cannot_restore(tmp_path, kwargs, error):
    with pytest.raises(error):
        checkpoint.save(tmp_path / "c.npz", {"w": np.zeros(2)}, **kwargs)
    assert os.listdir(tmp_path) == []


# ---- atomic writes ------------------------------------------------------------------------------------------------
def _partial_write(f, *args, **kwargs):
    f.write(b"\x40\x00\x00\x00\x00\x00\x00\x00{half of a header")
    raise OSError(28, "No space left on device")


def _io_error(*args):
    raise OSError(5, "Input/output error")


def _interrupt(*args):
    raise KeyboardInterrupt


@pytest.mark.parametrize("target,replacement,error", [
    ("replace", _io_error, OSError),
    ("fsync", _interrupt, KeyboardInterrupt),
    ("write", _partial_write, OSError),
], ids=["os.replace fails", "interrupted at fsync", "write fails midway"])
def test_failed_save_leaves_previous_checkpoint(tmp_path, monkeypatch, target, replacement, error):
    path = tmp_path / "ckpt.safetensors"
    checkpoint.save(path, {"w": np.arange(4.0)}, step=1)
    before = path.read_bytes()
    owner = checkpoint.safetensors_file if target == "write" else os
    monkeypatch.setattr(owner, target, replacement)
    with pytest.raises(error):
        checkpoint.save(path, {"w": np.arange(5.0)}, step=2)
    monkeypatch.undo()
    assert path.read_bytes() == before
    assert os.listdir(tmp_path) == ["ckpt.safetensors"]
    assert checkpoint.load(path)["step"] == 1
    new = tmp_path / "new.safetensors"  # and with no previous file: nothing at all is left
    monkeypatch.setattr(owner, target, replacement)
    with pytest.raises(error):
        checkpoint.save(new, {"w": np.arange(5.0)})
    assert os.listdir(tmp_path) == ["ckpt.safetensors"]


def test_failed_checkpoint_write_keeps_the_previous_pair(tmp_path, monkeypatch):
    """The new state file is written first; when the checkpoint's own write then fails, the previous checkpoint and
    its state file are as they were, and the new state file is gone."""
    model, opt = trained(np.float32)
    path = tmp_path / "c.safetensors"
    checkpoint.save(path, model.state_dict(), opt.state_dict(), step=1)
    before = {name: (tmp_path / name).read_bytes() for name in os.listdir(tmp_path)}
    train(model, opt, 1, np.float32)
    real_replace, calls = os.replace, []

    def second_replace_fails(src, dst):
        calls.append(dst)
        if len(calls) == 2:
            raise OSError(5, "Input/output error")
        return real_replace(src, dst)

    monkeypatch.setattr(os, "replace", second_replace_fails)
    with pytest.raises(OSError):
        checkpoint.save(path, model.state_dict(), opt.state_dict(), step=2)
    monkeypatch.undo()
    assert len(calls) == 2 and ".state-" in os.path.basename(calls[0])
    assert {name: (tmp_path / name).read_bytes() for name in os.listdir(tmp_path)} == before
    assert checkpoint.load(path)["step"] == 1


# ---- refusals -------------------------------------------------------------------------------------------------
def refused(path, *words, expect_config=None):
    """load(path) raises CheckpointError with a one-line message naming the file and containing `words`."""
    with pytest.raises(CheckpointError) as info, warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        checkpoint.load(path, expect_config=expect_config)
    message = str(info.value)
    assert "\n" not in message and str(path) in message, message
    for word in words:
        assert word in message
    return message


def rewrite(path, change):
    """Rewrites the archive (a consistent zip, with the old digest) after change(members)."""
    with np.load(path, allow_pickle=False) as z:
        members = {name: z[name] for name in z.files}
    change(members)
    with open(path, "wb") as f:
        np.savez(f, **members)


@pytest.fixture
def good(tmp_path):
    """A format version 1 (.npz) checkpoint, as tinygrad_rnn 0.1.0 wrote it: the deprecated reader's tests."""
    model, opt = trained(np.float64)
    path = tmp_path / "ckpt.npz"
    write_npz_v1(path, model.state_dict(), opt.state_dict(), {"cell": "lstm", "hidden": 64}, VOCAB, 3)
    return path


@pytest.fixture
def good2(tmp_path):
    """A format version 2 checkpoint (safetensors) and its state file."""
    model, opt = trained(np.float64)
    path = tmp_path / "ckpt.safetensors"
    checkpoint.save(path, model.state_dict(), opt.state_dict(), {"cell": "lstm", "hidden": 64}, VOCAB, 3)
    return path


def refused_not(path):
    """checkpoint.load of a version 1 file, which must warn that the format is deprecated."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        saved = checkpoint.load(path)
    assert [w.category for w in caught] == [DeprecationWarning] and "format version 1" in str(caught[0].message)
    return saved


def flip(path, offset):
    data = bytearray(path.read_bytes())
    data[offset] ^= 0xFF
    path.write_bytes(bytes(data))


@pytest.mark.parametrize("cut", ["half", 10, -1])
def test_truncated(good, cut):
    data = good.read_bytes()
    good.write_bytes(data[: len(data) // 2 if cut == "half" else cut])
    refused(good, "not a checkpoint")


def _weight_data(path):
    with np.load(path) as z:
        data = z["model/lstm.weight_hh_l1"].tobytes()
    return path.read_bytes().index(data), len(data)


@pytest.mark.parametrize("where", ["weight data", "zip magic", "zip local header name", "npy header",
                                   "central directory"])
def test_flipped_byte(good, where):
    start, size = _weight_data(good)
    raw = good.read_bytes()
    offset = {"weight data": start + size // 2, "zip magic": 0, "zip local header name": 32,
              "npy header": raw.rindex(b"{'descr'", 0, start) + 12, "central directory": raw.rindex(b"PK\x01\x02") + 16,
              }[where]
    flip(good, offset)
    refused(good)


def test_every_single_byte_flip_is_refused_or_harmless(tmp_path):
    path = tmp_path / "small.npz"
    write_npz_v1(path, {"w": np.arange(6.0).reshape(2, 3)}, config={"h": 2}, vocab="ab")
    original, expected = path.read_bytes(), refused_not(path)
    with zipfile.ZipFile(path) as z:  # where each member's bytes (npy header + data) are in the file
        starts = [i.header_offset + 30 + int.from_bytes(original[i.header_offset + 26: i.header_offset + 28], "little")
                  + int.from_bytes(original[i.header_offset + 28: i.header_offset + 30], "little") for i in z.infolist()]
        members = {k for i, s in zip(z.infolist(), starts) for k in range(s, s + i.compress_size)}
    for offset in range(len(original)):
        data = bytearray(original)
        data[offset] ^= 0xFF
        path.write_bytes(bytes(data))
        try:
            got = refused_not(path)
        except CheckpointError as err:
            assert "\n" not in str(err) and str(path) in str(err)
        else:  # zip fields nobody reads (timestamps, "version made by", ...), never a member's bytes
            assert offset not in members
            assert_identical(got, expected)


def test_checksum_catches_what_zip_does_not(good):
    rewrite(good, lambda m: m["model/lstm.weight_hh_l1"].__setitem__((0, 0), 0.5))
    refused(good, "is corrupted (checksum mismatch)")


def test_checksum_covers_names_and_metadata(good):
    rewrite(good, lambda m: m.__setitem__("model/extra", np.zeros(1)))
    refused(good, "checksum mismatch")


@pytest.mark.parametrize("member", ["meta", "digest", "format_version", "model/lstm.weight_hh_l1",
                                    "optim/state/3/exp_avg"])
def test_missing_member(good, member):
    rewrite(good, lambda m: m.pop(member))
    refused(good, "is incomplete", f"'{member}' is missing")


def test_unknown_format_version(good):
    rewrite(good, lambda m: m.__setitem__("format_version", np.array(2)))
    refused(good, "unknown format version 2")


def test_missing_empty_text_npy_directory_and_foreign_npz(tmp_path):
    refused(tmp_path / "nowhere.npz", "no such checkpoint file")
    (tmp_path / "empty.npz").write_bytes(b"")
    refused(tmp_path / "empty.npz", "empty")
    (tmp_path / "notes.npz").write_text("hidden=128\nnot an archive\n")
    refused(tmp_path / "notes.npz", "not a checkpoint")
    np.save(tmp_path / "array.npy", np.zeros(3))
    refused(tmp_path / "array.npy", "not an .npz archive")
    refused(tmp_path, "cannot read checkpoint")
    np.savez(tmp_path / "other.npz", a=np.zeros(2))
    refused(tmp_path / "other.npz", "'format_version' is missing")


def test_pickled_member_is_refused(good):
    with zipfile.ZipFile(good, "a") as z:
        with z.open("model/evil.npy", "w") as f:
            np.lib.format.write_array(f, np.array([object()]), allow_pickle=True)
    refused(good, "is corrupted", "model/evil")


@pytest.mark.parametrize("fixture", ["good", "good2"], ids=["npz", "safetensors"])
def test_config_mismatch(request, fixture):
    good = request.getfixturevalue(fixture)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        assert checkpoint.load(good, expect_config={"cell": "lstm"})["config"]["hidden"] == 64
    message = refused(good, expect_config={"hidden": 128, "cell": "lstm"})
    assert message == f"{good} was saved for a different model: hidden=128 here, 64 in the checkpoint"
    refused(good, "layers=2 here, nothing in the checkpoint", expect_config={"layers": 2})


def test_error_message_is_one_line_even_for_odd_paths(tmp_path):
    odd = tmp_path / "two\nlines.npz"
    odd.write_bytes(b"junk")
    with pytest.raises(CheckpointError) as info:
        checkpoint.load(odd)
    assert "\n" not in str(info.value) and isinstance(info.value, ValueError)


# ---- PyTorch ------------------------------------------------------------------------------------------------------
@pytest.mark.parametrize("precision", ["float64", "float32"])
def test_export_loads_into_torch_lstm(tmp_path, precision, torch):
    dtype, tol = (np.float64, 1e-10) if precision == "float64" else (np.float32, 1e-5)
    tg.manual_seed(3)
    lstm = nn.LSTM(3, 5, num_layers=2, dtype=dtype)
    path = tmp_path / "lstm.npz"
    checkpoint.save(path, lstm.state_dict())
    sd = checkpoint.export_torch_state_dict(path)
    assert all(isinstance(v, torch.Tensor) and v.dtype == getattr(torch, precision) for v in sd.values())
    reference = torch.nn.LSTM(3, 5, num_layers=2, dtype=getattr(torch, precision))
    reference.load_state_dict(sd, strict=True)

    x = np.random.default_rng(0).standard_normal((6, 2, 3)).astype(dtype)
    out, (h, c) = lstm(tg.Tensor(x))
    with torch.no_grad():
        t_out, (t_h, t_c) = reference(torch.from_numpy(x))
    for ours, theirs in [(out, t_out), (h, t_h), (c, t_c)]:
        np.testing.assert_allclose(ours.data, theirs.numpy(), rtol=0, atol=tol)

    from safetensors.torch import load_file                          # the file itself, read by safetensors
    direct = torch.nn.LSTM(3, 5, num_layers=2, dtype=getattr(torch, precision))
    direct.load_state_dict(load_file(str(path)), strict=True)
    assert all(torch.equal(a, b) for a, b in zip(direct.state_dict().values(), reference.state_dict().values()))

    from_loaded = checkpoint.export_torch_state_dict(checkpoint.load(path))
    checkpoint.to_torch_file(path, tmp_path / "lstm.pt")
    from_file = torch.load(tmp_path / "lstm.pt", weights_only=True)
    for other in (from_loaded, from_file):
        assert list(other) == list(sd) and all(torch.equal(other[k], sd[k]) for k in sd)


def test_export_without_torch_says_how_to_install(good, monkeypatch):
    monkeypatch.setitem(sys.modules, "torch", None)  # import torch -> ImportError
    with pytest.raises(ImportError, match="pip install torch"):
        checkpoint.export_torch_state_dict(good)


# ---- issue 8, item 10: saves killed part way, and the remaining corrupt-file cases ----------------------------------
class _FailingFile:
    """A binary file whose writes fail (ENOSPC) once `limit` bytes are written: a disk filling up mid-save."""

    def __init__(self, f, limit):
        self._f, self._left = f, limit

    def write(self, data):
        data = bytes(data)
        if len(data) > self._left:
            self._f.write(data[:self._left])
            self._left = 0
            raise OSError(28, "No space left on device")
        self._left -= len(data)
        return self._f.write(data)

    def __getattr__(self, name):
        return getattr(self._f, name)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self._f.close()


@pytest.mark.parametrize("limit", [0, 1, 100, "half", "all but one"])
def test_write_failing_after_n_bytes_leaves_previous_checkpoint(tmp_path, monkeypatch, limit):
    path = tmp_path / "ckpt.safetensors"
    checkpoint.save(path, {"w": np.arange(1000.0)}, step=1)
    before = path.read_bytes()
    size = len(before)
    limit = {"half": size // 2, "all but one": size - 1}.get(limit, limit)
    real_fdopen = os.fdopen
    monkeypatch.setattr(checkpoint.os, "fdopen", lambda fd, mode: _FailingFile(real_fdopen(fd, mode), limit))
    with pytest.raises(OSError, match="No space left"):
        checkpoint.save(path, {"w": np.arange(1000.0) + 1}, step=2)
    monkeypatch.undo()
    assert path.read_bytes() == before and os.listdir(tmp_path) == ["ckpt.safetensors"]
    assert checkpoint.load(path)["step"] == 1


_SAVER = """
import sys
import numpy as np
from tinygrad_rnn import checkpoint
path = sys.argv[1]
for step in range(2, 10_000):
    print(step, flush=True)                            # about to save `step`: the checkpoint and a new state file
    optimizer = {"state": {0: {"exp_avg": np.full(1_000_000, float(step))}}, "param_groups": [{"params": [0]}]}
    checkpoint.save(path, {"w": np.full(1_000_000, float(step))}, optimizer, step=step)
"""


@pytest.mark.slow
def test_sigkill_mid_save_leaves_a_whole_checkpoint(tmp_path):
    """A child process saving 16 MB checkpoints in a loop is SIGKILLed at random moments: the file at the final path
    is always a whole checkpoint (the previous one or the new one), never a partial one."""
    import signal
    import subprocess
    import time

    path = tmp_path / "ckpt.safetensors"
    checkpoint.save(path, {"w": np.full(1_000_000, 1.0)},
                    {"state": {0: {"exp_avg": np.full(1_000_000, 1.0)}}, "param_groups": [{"params": [0]}]}, step=1)
    root = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
    rng = np.random.default_rng(0)
    for trial in range(6):
        child = subprocess.Popen([sys.executable, "-c", _SAVER, str(path)], stdout=subprocess.PIPE, text=True,
                                 cwd=root)
        for _ in range(1 + trial % 3):                 # let a few saves start
            child.stdout.readline()
        time.sleep(rng.uniform(0.0, 0.05))
        child.send_signal(signal.SIGKILL)
        child.wait()
        child.stdout.close()
        saved = checkpoint.load(path)                  # whole, digest-checked, with its own state file
        assert saved["step"] >= 1
        np.testing.assert_array_equal(saved["model"]["w"], np.full(1_000_000, float(saved["step"])))
        np.testing.assert_array_equal(saved["optimizer"]["state"][0]["exp_avg"], saved["model"]["w"])
        left = sorted(n for n in os.listdir(tmp_path) if not n.endswith(".tmp"))
        assert left[0] == "ckpt.safetensors" and 2 <= len(left) <= 3   # a killed save's new state file at most


@pytest.mark.parametrize("cut", [0, 7, "length-1"])
def test_truncated_to(good, cut):
    data = good.read_bytes()
    good.write_bytes(data[: len(data) - 1 if cut == "length-1" else cut])
    refused(good, "empty" if cut == 0 else "not a checkpoint")


def test_zero_filled(good):
    good.write_bytes(bytes(len(good.read_bytes())))
    refused(good, "not a checkpoint")


def test_pickle_payload_never_runs(good, tmp_path):
    """A member holding a pickled object array whose unpickling would write a file: refused, and nothing ran."""
    marker = tmp_path / "payload-ran"

    class Payload:
        def __reduce__(self):
            return (open, (str(marker), "w"))

    with zipfile.ZipFile(good, "a") as z:
        with z.open("model/payload.npy", "w") as f:
            np.lib.format.write_array(f, np.array([Payload()], dtype=object), allow_pickle=True)
    refused(good)
    assert not marker.exists()


# ---- format version 2 (safetensors): the refusals of version 1, kept ----------------------------------------------
def test_version_1_checkpoint_loads_with_a_deprecation_warning(tmp_path):
    model, opt = trained(np.float64)
    old, new = tmp_path / "old.npz", tmp_path / "new.safetensors"
    write_npz_v1(old, model.state_dict(), opt.state_dict(), CONFIG, VOCAB, 3, np.random.default_rng(1))
    checkpoint.save(new, model.state_dict(), opt.state_dict(), CONFIG, VOCAB, 3, np.random.default_rng(1))
    with pytest.warns(DeprecationWarning, match="save it again"):
        from_npz = checkpoint.load(old)
    with warnings.catch_warnings():
        warnings.simplefilter("error")                  # the new format loads without a warning
        from_safetensors = checkpoint.load(new)
    assert_identical(from_npz, from_safetensors)
    assert from_npz["scheduler"] is None


@pytest.mark.parametrize("cut", [0, 7, 8, 9, "header", "half", "length-1"])
def test_truncated_safetensors(good2, cut):
    data = good2.read_bytes()
    n = int.from_bytes(data[:8], "little")
    good2.write_bytes(data[:{"header": 8 + n // 2, "half": len(data) // 2, "length-1": len(data) - 1}.get(cut, cut)])
    refused(good2, "empty" if cut == 0 else "not a checkpoint" if cut in (7, 8, 9, "header") else "is corrupted")


@pytest.mark.parametrize("where", ["weight data", "length field", "header", "metadata", "padding", "state file"])
def test_flipped_byte_safetensors(good2, where):
    raw = good2.read_bytes()
    n = int.from_bytes(raw[:8], "little")
    header = raw[8:8 + n]
    target, offset = good2, {"weight data": 8 + n + 100, "length field": 1, "header": 8 + header.index(b"shape"),
                             "metadata": 8 + header.index(b"config"), "padding": 8 + n - 1}.get(where)
    if where == "padding":
        assert raw[offset:offset + 1] in (b" ", b"}")
    if where == "state file":
        target = next(p for p in good2.parent.iterdir() if ".state-" in p.name)
        offset = len(target.read_bytes()) - 5
    flip(target, offset)
    refused(good2, *(["training state file", "is corrupted (checksum mismatch)"] if where == "state file" else []))


def test_every_single_byte_flip_of_a_safetensors_checkpoint_is_refused(tmp_path):
    """No byte of a version 2 file is unread: the header is ASCII JSON (a flipped byte is not UTF-8), the padding
    spaces must be whitespace, and the digest covers the tensors' bytes and the metadata."""
    path = tmp_path / "small.safetensors"
    checkpoint.save(path, {"w": np.arange(6.0).reshape(2, 3), "b": np.arange(2, dtype=np.int32)},
                    config={"h": 2}, vocab="ab\u00e9")
    original = path.read_bytes()
    for offset in range(len(original)):
        data = bytearray(original)
        data[offset] ^= 0xFF
        path.write_bytes(bytes(data))
        with pytest.raises(CheckpointError) as info:
            checkpoint.load(path)
        assert "\n" not in str(info.value) and str(path) in str(info.value)


def test_digest_catches_a_changed_weight(good2):
    header, data = read_raw(good2)
    begin = header["lstm.weight_hh_l1"]["data_offsets"][0]
    data = data[:begin] + np.float64(0.5).tobytes() + data[begin + 8:]
    write_raw(good2, header, data)
    refused(good2, "is corrupted (checksum mismatch)")


def test_missing_and_stowaway_tensors(good2):
    crafted = Crafted(good2)
    crafted.meta["model"]["lstm.ghost"] = {"__array__": "model/lstm.ghost"}
    crafted.arrays["model/lstm.ghost"] = np.zeros(3)
    tensors, metadata = read_tensors(crafted.write())
    meta = json.loads(metadata["tinygrad_rnn.checkpoint"])
    assert "lstm.ghost" in meta["model"]
    del tensors["lstm.ghost"]                              # listed in the metadata, not in the file
    from checkpoint_files import digest
    metadata["tinygrad_rnn.digest"] = digest(tensors, metadata)
    write_tensors(good2, tensors, metadata)
    refused(good2, "is incomplete: weight 'lstm.ghost' is missing")
    tensors["lstm.ghost"] = tensors["stowaway"] = np.zeros(3)
    metadata["tinygrad_rnn.digest"] = digest(tensors, metadata)
    write_tensors(good2, tensors, metadata)
    refused(good2, "tensor 'stowaway' is not part of it")


def test_state_file_missing_or_from_another_save(good2, tmp_path):
    state = next(p for p in tmp_path.iterdir() if ".state-" in p.name)
    kept = state.read_bytes()
    state.unlink()
    refused(good2, f"its training state file {state.name}", "is missing", "copy it along")
    other = tmp_path / "other"
    other.mkdir()
    model, opt = trained(np.float64, steps=4)            # another save's state file under this one's name
    checkpoint.save(other / good2.name, model.state_dict(), opt.state_dict())
    next(p for p in other.iterdir() if ".state-" in p.name).rename(state)
    refused(good2, "belongs to another save")
    state.write_bytes(kept)
    assert checkpoint.load(good2)["step"] == 3
    refused(state, "is a checkpoint's training state file, not a checkpoint")


def test_unknown_format_version_safetensors(good2):
    tensors, metadata = read_tensors(good2)
    metadata["tinygrad_rnn.format_version"] = "3"
    write_tensors(good2, tensors, metadata)
    refused(good2, "unknown format version '3'")


def test_foreign_and_malformed_safetensors(tmp_path):
    path = tmp_path / "x.safetensors"
    write_tensors(path, {"w": np.zeros(2, np.float32)}, {"format": "pt"})       # safetensors.torch.save_file's kind
    refused(path, "not a tinygrad_rnn checkpoint", "tinygrad_rnn.load reads its tensors")
    for header, words in [([], "does not start with '{'"),
                          ({"w": {"dtype": "F32", "shape": [2]}}, "expected dtype, shape"),
                          ({"w": {"dtype": "Q8", "shape": [1], "data_offsets": [0, 1]}}, "dtype 'Q8'"),
                          ({"w": {"dtype": "F32", "shape": [-1], "data_offsets": [0, 4]}}, "is not a list of sizes"),
                          ({"w": {"dtype": "F32", "shape": [3], "data_offsets": [0, 8]}}, "declares (3,) of float32"),
                          ({"__metadata__": {"a": 1}}, "__metadata__ is not a map of strings")]:
        write_raw(path, header, bytes(8))
        refused(path, words)
    two = '{"w":{"dtype":"U8","shape":[1],"data_offsets":[0,1]},"w":{"dtype":"U8","shape":[1],"data_offsets":[0,1]}}'
    path.write_bytes(len(two).to_bytes(8, "little") + two.encode() + b"\x00")
    refused(path, "names 'w' twice")
    gap = {"a": {"dtype": "U8", "shape": [1], "data_offsets": [0, 1]}, "b": {"dtype": "U8", "shape": [1],
                                                                           "data_offsets": [2, 3]}}
    write_raw(path, gap, bytes(3))
    refused(path, "leaves bytes 1 to 2 unused")
    gap["b"]["data_offsets"] = [0, 1]
    write_raw(path, gap, bytes(1))
    refused(path, "overlaps the tensor before it")
    write_raw(path, {"a": {"dtype": "BOOL", "shape": [2], "data_offsets": [0, 2]}}, b"\x01\x07")
    refused(path, "bool tensor 'a' holds bytes other than 0 and 1")
