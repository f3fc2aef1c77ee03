"""checkpoint.load against crafted files (issue 11): size lies refused from the safetensors header, and zip bombs and
size lies from the zip directory and the .npy headers of a version 1 .npz, before anything is decompressed or
allocated (item 14), and digest-valid checkpoints whose fields are wrong refused with one CheckpointError (item 13),
in both formats. The crafted files get a recomputed digest, so it is the validation that refuses them, not the
checksum."""
import hashlib
import json
import os
import shutil
import subprocess
import sys
import tracemalloc
import warnings
import zipfile

import numpy as np
import pytest

from tinygrad_rnn import checkpoint, optim
from tinygrad_rnn.apps.charlm import CELLS, CharLM
from tinygrad_rnn.checkpoint import CheckpointError
from tinygrad_rnn.apps.cli import main

from checkpoint_files import Crafted, read_raw, write_npz_v1, write_raw

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
CORPUS = "the quick brown fox jumps over the lazy dog. " * 40
SMALL = ["--hidden", "8", "--layers", "1", "--seq-len", "8", "--batch", "4", "--quiet", "--sample-every", "1000"]


def refused(path, *words):
    """load(path) raises CheckpointError with a one-line message naming the file and containing `words`."""
    with pytest.raises(CheckpointError) as info, warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        checkpoint.load(path)
    message = str(info.value)
    assert "\n" not in message and str(path) in message, message
    for word in words:
        assert word in message, message
    return message


def digest(arrays):
    """The format's digest (checkpoint.py's docstring), computed here independently: SHA-256 over every member
    but "digest", in name order, of json([name, dtype.str, shape]) then the C-order bytes."""
    h = hashlib.sha256()
    for name in sorted(arrays):
        if name != "digest":
            h.update(json.dumps([name, arrays[name].dtype.str, list(arrays[name].shape)]).encode())
            h.update(np.ascontiguousarray(arrays[name]).tobytes())
    return np.frombuffer(h.digest(), dtype=np.uint8).copy()


def craft(path, change):
    """Rewrites the checkpoint after change(meta, arrays) (meta: the raw JSON, with its {"__array__": name} tags),
    with the digest recomputed: a file that passes the checksum. Either format: a version 2 pair is seen as
    version 1's (meta, arrays) (checkpoint_files.Crafted)."""
    if not str(path).endswith(".npz"):
        crafted = Crafted(path)
        change(crafted.meta, crafted.arrays)
        return crafted.write()
    with np.load(path, allow_pickle=False) as z:
        arrays = {name: z[name] for name in z.files}
    meta = json.loads(arrays["meta"].tobytes().decode())
    change(meta, arrays)
    arrays["meta"] = np.frombuffer(json.dumps(meta).encode(), dtype=np.uint8)
    arrays["digest"] = digest(arrays)
    with open(path, "wb") as f:
        np.savez(f, **arrays)
    return path


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    """A real `train` checkpoint (2 steps, Adam state, the engine's RNG state) and its corpus."""
    where = tmp_path_factory.mktemp("trained")
    corpus = where / "corpus.txt"
    corpus.write_text(CORPUS, encoding="utf-8")
    out = where / "char_lm.safetensors"
    assert main(["train", "--text", str(corpus), "--out", str(out), "--steps", "2", *SMALL]) == 0
    npz = where / "char_lm.npz"
    saved = checkpoint.load(out)
    write_npz_v1(npz, saved["model"], saved["optimizer"], saved["config"], saved["vocab"], saved["step"],
                 saved["rng_state"])
    return out, corpus, npz


def _copy_pair(source, path):
    """A checkpoint and its state file, copied under a new name (the state file keeps its own)."""
    shutil.copy(source, path)
    for other in source.parent.iterdir():
        if other.name.startswith(source.name + ".state-"):
            shutil.copy(other, path.parent / other.name)
    return path


@pytest.fixture
def ckpt(trained, tmp_path):
    """The version 1 (.npz) copy of the train checkpoint: the zip- and npy-specific crafted files."""
    path = tmp_path / "ckpt.npz"
    shutil.copy(trained[2], path)
    return path


@pytest.fixture
def ckpt2(trained, tmp_path):
    return _copy_pair(trained[0], tmp_path / "char_lm.safetensors")


@pytest.fixture(params=["safetensors", "npz"])
def either(request, ckpt, ckpt2):
    return ckpt2 if request.param == "safetensors" else ckpt


def set_config(key, value):
    return lambda meta, arrays: meta["config"].__setitem__(key, value)


# ---- item 14: sizes checked before anything is decompressed ------------------------------------------------------
def _write_member(zf, name, array, compress_type=zipfile.ZIP_STORED):
    info = zipfile.ZipInfo(name + ".npy")
    info.compress_type = compress_type
    with zf.open(info, "w", force_zip64=True) as f:
        np.lib.format.write_array(f, array, allow_pickle=False)


def deflated_bomb(path, nbytes):
    """A digest-valid checkpoint whose one weight is `nbytes` of float32 zeros, deflated (about 1000:1) and written
    in 1 MiB chunks, digest included: neither this test nor the file holds the array."""
    chunk, n = bytes(2**20), nbytes // 4
    shape = (n,)
    h = hashlib.sha256()
    meta = {"model": {"w": {"__array__": "model/w"}}, "optim": None, "config": {}, "vocab": None, "step": 0,
            "rng_state": None}
    small = {"format_version": np.array(1, dtype=np.int64),
             "meta": np.frombuffer(json.dumps(meta).encode(), dtype=np.uint8)}
    for name in sorted([*small, "model/w"]):   # the digest, streamed in name order
        if name == "model/w":
            h.update(json.dumps([name, "<f4", list(shape)]).encode())
            for _ in range(nbytes // len(chunk)):
                h.update(chunk)
        else:
            h.update(json.dumps([name, small[name].dtype.str, list(small[name].shape)]).encode())
            h.update(small[name].tobytes())
    with zipfile.ZipFile(path, "w") as zf:
        for name, array in small.items():
            _write_member(zf, name, array)
        _write_member(zf, "digest", np.frombuffer(h.digest(), dtype=np.uint8))
        info = zipfile.ZipInfo("model/w.npy")
        info.compress_type = zipfile.ZIP_DEFLATED
        with zf.open(info, "w", force_zip64=True) as f:
            np.lib.format.write_array_header_1_0(f, {"descr": "<f4", "fortran_order": False, "shape": shape})
            for _ in range(nbytes // len(chunk)):
                f.write(chunk)
    return path


def peak_memory_of_load(path, monkeypatch):
    """(the CheckpointError message, peak traced bytes (numpy's arrays included), members opened) of load(path)."""
    opened, real_open = [], zipfile.ZipFile.open
    monkeypatch.setattr(zipfile.ZipFile, "open", lambda self, name, *a, **k: opened.append(name) or
                        real_open(self, name, *a, **k))
    tracemalloc.start()
    try:
        message = refused(path)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    names = [getattr(n, "filename", n) for n in opened]
    return message, peak, names


def test_deflated_bomb_is_refused_before_decompressing(tmp_path, monkeypatch):
    path = deflated_bomb(tmp_path / "bomb.npz", 256 * 2**20)
    assert path.stat().st_size < 2**20                       # a 256 MiB array in a file of under 1 MiB
    message, peak, opened = peak_memory_of_load(path, monkeypatch)
    assert "'model/w.npy' is compressed" in message
    assert opened == []                                      # refused from the zip directory alone
    assert peak < 4 * 2**20


def test_declared_size_beyond_the_file_is_refused_from_the_directory(ckpt, monkeypatch):
    """The central directory of a real checkpoint hand-edited: a member declares 4 GiB (uncompressed size)."""
    data = bytearray(ckpt.read_bytes())
    name = b"model/decoder.weight.npy"
    entry = data.rindex(b"PK\x01\x02", 0, data.rindex(name))   # its central directory record (the last name)
    data[entry + 24: entry + 28] = (2**32 - 2).to_bytes(4, "little")
    ckpt.write_bytes(bytes(data))
    with zipfile.ZipFile(ckpt) as z:
        assert z.getinfo(name.decode()).file_size == 2**32 - 2
    message, peak, opened = peak_memory_of_load(ckpt, monkeypatch)
    assert "'model/decoder.weight.npy' declares 4,294,967,294 bytes" in message
    assert opened == [] and peak < 4 * 2**20


def test_npy_header_declaring_more_than_the_member_holds_allocates_nothing(ckpt, monkeypatch):
    """A stored member whose zip sizes are honest but whose .npy header declares 2**28 float32 (1 GiB) for 8 bytes
    of data: numpy would allocate the header's array before finding the data short."""
    with zipfile.ZipFile(ckpt, "a") as zf:
        info = zipfile.ZipInfo("model/huge.npy")
        with zf.open(info, "w") as f:
            np.lib.format.write_array_header_1_0(f, {"descr": "<f4", "fortran_order": False, "shape": (2**28,)})
            f.write(bytes(8))
    message, peak, opened = peak_memory_of_load(ckpt, monkeypatch)
    assert peak < 4 * 2**20                                  # (d0c40a0: 1 GiB, then "cannot read member")
    assert "'model/huge': its header declares (268435456,) of float32, 1,073,741,824 bytes, but it holds 8" in message


def test_total_size_is_capped(either, monkeypatch):
    """MAX_BYTES caps each file load reads: the checkpoint, then its training state file (version 2)."""
    ckpt = either
    size = ckpt.stat().st_size
    monkeypatch.setattr(checkpoint, "MAX_BYTES", size - 1)
    refused(ckpt, f"too large for a checkpoint ({size:,} bytes; at most {size - 1:,}, checkpoint.MAX_BYTES)")
    largest = max(p.stat().st_size for p in ckpt.parent.iterdir() if p.name.startswith(ckpt.name))
    if largest > size:                                   # the state file: Adam's two moments outweigh the weights
        monkeypatch.setattr(checkpoint, "MAX_BYTES", largest - 1)
        refused(ckpt, "its training state file", f"too large for a checkpoint ({largest:,} bytes")
    monkeypatch.setattr(checkpoint, "MAX_BYTES", largest)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        assert checkpoint.load(ckpt)["step"] == 2


def test_a_config_describing_a_model_no_checkpoint_could_hold_is_refused(tmp_path):
    """Weights of something else, so nothing to compare with, but sample would build CharLM(hidden=10**6)."""
    path = tmp_path / "c.safetensors"
    checkpoint.save(path, {"w": np.zeros(2)}, config={"cell": "lstm", "hidden": 10**6, "layers": 2,
                                                      "dropout": 0.0, "dtype": "float32"}, vocab="ab")
    refused(path, "config describes a model of 12,000,", "more than a checkpoint may hold (8 GiB")
    checkpoint.save(path, {"w": np.zeros(2)}, config={"cell": "lstm", "hidden": 99, "layers": 1}, vocab="ab")
    assert checkpoint.load(path)["config"]["hidden"] == 99     # a small one loads: the CLI refuses its weights


def test_compressed_checkpoint_is_refused(ckpt):
    """np.savez_compressed of a real checkpoint (digest still valid): save never compresses, and no ratio tells a
    deflated zero array (about 1000:1) from a bomb, so compressed members are refused."""
    with np.load(ckpt, allow_pickle=False) as z:
        arrays = {name: z[name] for name in z.files}
    np.savez_compressed(ckpt, **arrays)
    refused(ckpt, "is compressed", "zip bomb")


@pytest.mark.parametrize("name", ["notes.txt", "evil.npy", "../model/x.npy", "model/.npy", "vocab.npy"])
def test_unexpected_member_names_are_refused(ckpt, name):
    """A name save() never writes, holding a valid array (digest recomputed), or plain text (not .npy at all)."""
    if name.endswith(".npy"):
        craft(ckpt, lambda meta, arrays: arrays.__setitem__(name[:-4], np.zeros(3)))
    else:
        with zipfile.ZipFile(ckpt, "a") as zf:
            zf.writestr(name, "hidden=16\n")
    refused(ckpt, "unexpected member", repr(name))


def test_member_the_metadata_does_not_name_is_refused(either):
    ckpt = either
    craft(ckpt, lambda meta, arrays: arrays.__setitem__("model/stowaway", np.zeros(3)))
    refused(ckpt, "member 'model/stowaway' is not part of it")


def test_duplicate_member_is_refused(ckpt):
    with np.load(ckpt) as z:
        weight = z["model/decoder.bias"]
    with zipfile.ZipFile(ckpt, "a") as zf, pytest.warns(UserWarning, match="Duplicate name"):
        _write_member(zf, "model/decoder.bias", weight + 1)
    refused(ckpt, "'model/decoder.bias.npy' appears twice")


def test_fifo_is_refused_without_blocking(tmp_path):
    """A FIFO with no writer: opening it to read would block forever (a child process, so a hang fails the test)."""
    fifo = tmp_path / "ckpt.npz"
    os.mkfifo(fifo)
    code = ("import sys\nfrom tinygrad_rnn import checkpoint\ntry:\n    checkpoint.load(sys.argv[1])\n"
            "except checkpoint.CheckpointError as err:\n    print(err)\n")
    result = subprocess.run([sys.executable, "-c", code, str(fifo)], capture_output=True, text=True, cwd=ROOT,
                            timeout=60)
    assert result.stdout.strip() == f"cannot read checkpoint {fifo}: not a regular file (a FIFO)", result


# ---- item 13: digest-valid checkpoints with wrong fields ---------------------------------------------------------
def test_the_real_checkpoint_loads(either):
    ckpt = either
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        saved = checkpoint.load(ckpt)
    expected = {"cell": "lstm", "hidden": 8, "layers": 1, "dropout": 0.0, "dtype": "float32", "seq_len": 8, "batch": 4}
    assert {k: saved["config"][k] for k in expected} == expected
    assert saved["vocab"] == "".join(sorted(set(CORPUS))) and saved["step"] == 2
    assert saved["optimizer"]["state"][0]["step"] == 2
    assert saved["rng_state"]["bit_generator"] == "PCG64"
    craft(ckpt, lambda meta, arrays: None)                     # crafting alone changes nothing load objects to
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        assert checkpoint.load(ckpt)["step"] == 2


def _nan_weight(meta, arrays):
    w = arrays["model/rnn.weight_hh_l0"].copy()
    w[3, 1] = np.nan
    arrays["model/rnn.weight_hh_l0"] = w


def _float16(meta, arrays):
    meta["config"]["dtype"] = "float16"
    for name in [n for n in arrays if n.startswith("model/")]:
        arrays[name] = arrays[name].astype(np.float16)


def _weights_as(dtype):
    def change(meta, arrays):
        for name in [n for n in arrays if n.startswith(("model/", "optim/state/"))]:
            arrays[name] = arrays[name].astype(dtype)
    return change


def _group(key, value):
    return lambda meta, arrays: meta["optim"]["param_groups"][0].__setitem__(key, value)


def _rng(change):
    def apply(meta, arrays):
        meta["rng_state"] = change(meta["rng_state"])
    return apply


def _pcg_state(**state):
    return lambda s: {**s, "state": {**s["state"], **state}}


CRAFTED = {
    "hidden 10**7": (set_config("hidden", 10**7), "do not fit its config (hidden=10000000"),
    "hidden 'sixteen'": (set_config("hidden", "sixteen"),
                         "config 'hidden': expected a positive int, but got 'sixteen'"),
    "hidden True": (set_config("hidden", True), "config 'hidden': expected a positive int, but got True"),
    "hidden 8.0": (set_config("hidden", 8.0), "config 'hidden': expected a positive int, but got 8.0"),
    "layers -1": (set_config("layers", -1), "config 'layers': expected a positive int, but got -1"),
    "layers 10**9": (set_config("layers", 10**9), "1000000000 layers of lstm would have 4000000003 arrays"),
    "layers 2 (1 layer of weights)": (set_config("layers", 2), "2 layers of lstm would have 11 arrays; it holds 7"),
    "a layer's weights renamed": (lambda m, a: m["model"].__setitem__("rnn.weight_ih_l7", m["model"].pop(
        "rnn.weight_ih_l0")), "'rnn.weight_ih_l0' is missing"),
    "unknown cell": (set_config("cell", "transformer"), "config 'cell': expected one of 'lstm', 'gru', 'peephole', "
                                                        "'rnn', 'gru-cho', 'rnn-relu', 'clockwork', 'tutorial-lstm', "
                                                        "'depth-gated', but got 'transformer'"),
    "cell gru (lstm weights)": (set_config("cell", "gru"), "'rnn.weight_ih_l0' is float32[32, 8] where the config "
                                                           "needs float32[24, 8]"),
    "dtype float16": (_float16, "config 'dtype': expected 'float32' or 'float64', but got 'float16'"),
    "dtype float64 (float32 weights)": (set_config("dtype", "float64"), "where the config needs float64"),
    "big-endian weights": (_weights_as(">f4"), "'embedding.weight' is >f4[28, 8] where the config needs float32"),
    "dropout 1": (set_config("dropout", 1.0), "config 'dropout': expected a number in [0, 1), but got 1.0"),
    "dropout nan": (set_config("dropout", float("nan")), "config 'dropout'"),
    "seq_len 0": (set_config("seq_len", 0), "config 'seq_len'"),
    "empty vocabulary": (lambda m, a: m.__setitem__("vocab", ""), "vocab: expected the model's characters"),
    "vocabulary one short": (lambda m, a: m.__setitem__("vocab", m["vocab"][:-1]), "'embedding.weight' is float32"),
    "unsorted vocabulary": (lambda m, a: m.__setitem__("vocab", m["vocab"][::-1]), "sorted and distinct"),
    "vocabulary a list": (lambda m, a: m.__setitem__("vocab", list("ab")), "vocab: expected a str or None"),
    "no config": (lambda m, a: m.__setitem__("config", {}), "config lacks ['cell', 'hidden', 'layers', 'dropout', "
                                                           "'dtype']"),
    "config a list": (lambda m, a: m.__setitem__("config", [1]), "config: expected a dict"),
    "no config key": (lambda m, a: m.pop("config"), "unexpected metadata"),
    "rng_state a seed": (_rng(lambda s: 42), "rng_state: expected a numpy bit generator's state, but got 42"),
    "rng_state of a class numpy lacks": (_rng(lambda s: {**s, "bit_generator": "Generator"}), "rng_state: expected"),
    "rng_state negative": (_rng(_pcg_state(state=-1)), "rng_state: not a valid PCG64 state"),
    "rng_state 2**200": (_rng(_pcg_state(inc=2**200)), "rng_state: not a valid PCG64 state"),
    "rng_state a str": (_rng(_pcg_state(state="x")), "rng_state: not a valid PCG64 state"),
    "rng_state lacks inc": (_rng(lambda s: {**s, "state": {"state": 1}}), "rng_state: not a valid PCG64 state"),
    "rng_state of MT19937": (_rng(lambda s: {"bit_generator": "MT19937", "state": {"key": list(range(624)), "pos": 0}}),
                             "rng_state"),
    "lr 'fast'": (_group("lr", "fast"), "param_groups[0]['lr']: expected a finite number >= 0, but got 'fast'"),
    "lr inf": (_group("lr", float("inf")), "param_groups[0]['lr']: expected a finite number >= 0, but got inf"),
    "lr 10**400": (_group("lr", 10**400), "param_groups[0]['lr']: expected a finite number >= 0, but got 1000"),
    "betas a number": (_group("betas", 0.9), "param_groups[0]['betas']: expected a tuple of two numbers"),
    "amsgrad 'yes'": (_group("amsgrad", "yes"), "param_groups[0]['amsgrad']: expected True or False"),
    "unknown hyperparameter nan": (_group("warmup", float("nan")), "param_groups[0]['warmup']"),
    "params not ints": (_group("params", ["a"]), "param_groups[0]['params']: expected a list of ints >= 0"),
    "no param groups": (lambda m, a: m["optim"].__setitem__("param_groups", []), "param_groups: expected a non-"),
    "state of an unlisted parameter": (lambda m, a: m["optim"]["state"].__setitem__("99", {"step": 1}),
                                       "state for parameter '99', which no param group lists"),
    "optimizer step 1.5": (lambda m, a: m["optim"]["state"]["0"].__setitem__("step", 1.5),
                           "state[0]['step']: expected an int >= 0, but got 1.5"),
    "exp_avg NaN": (lambda m, a: a.__setitem__("optim/state/1/exp_avg", a["optim/state/1/exp_avg"] * np.nan),
                    "state[1]['exp_avg']: expected a finite numeric array, but got an array of float32"),
    "step -1": (lambda m, a: m.__setitem__("step", -1), "step: expected an int >= 0, but got -1"),
    "step '2'": (lambda m, a: m.__setitem__("step", "2"), "step: expected an int >= 0, but got '2'"),
    "NaN weights": (_nan_weight, "weight 'rnn.weight_hh_l0': expected a finite numeric array, but got an array of "
                                 "float32 and shape (32, 8) holding NaN or infinity"),
    "weight a number": (lambda m, a: m["model"].__setitem__("decoder.bias", 3.0), "weight 'decoder.bias'"),
}


NOT_IN_VERSION_2 = {"big-endian weights": "safetensors is little-endian: there is no byte order to lie about",
                    "weight a number": "the weights are the file's tensors: a number cannot stand for one"}


@pytest.mark.parametrize("change,words", CRAFTED.values(), ids=CRAFTED.keys())
def test_crafted_digest_valid_checkpoint_is_refused(either, change, words, request):
    case = request.node.callspec.id.split("-", 1)[1]
    if not str(either).endswith(".npz") and case in NOT_IN_VERSION_2:
        pytest.skip(NOT_IN_VERSION_2[case])
    craft(either, change)
    refused(either, words)


@pytest.mark.parametrize("depth", [100, 900, 960, 990, 1000, 20_000])
def test_deeply_nested_metadata_loads_or_is_refused_in_one_line(either, depth):
    """Nesting just under json.loads' limit parses, then must not overflow the stack of the checks after it."""
    ckpt = either

    def nest(meta, arrays):
        meta["config"]["notes"] = "@"
    if str(ckpt).endswith(".npz"):
        craft(ckpt, nest)
        with np.load(ckpt) as z:
            arrays = {name: z[name] for name in z.files}
        text = arrays["meta"].tobytes().decode().replace('"@"', "[" * depth + "]" * depth)
        arrays["meta"] = np.frombuffer(text.encode(), dtype=np.uint8)
        arrays["digest"] = digest(arrays)
        np.savez(ckpt, **arrays)
    else:
        crafted = Crafted(ckpt)
        nest(crafted.meta, crafted.arrays)
        crafted.write(lambda text: text.replace('"@"', "[" * depth + "]" * depth))
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", DeprecationWarning)
            saved = checkpoint.load(ckpt)
    except CheckpointError as err:
        assert "\n" not in str(err) and str(ckpt) in str(err) and depth > 100
    else:
        notes = saved["config"]["notes"]
        for _ in range(depth - 1):
            notes = notes[0]
        assert notes == []


def test_generic_checkpoints_still_load(tmp_path):
    """What other callers of save() write: a CharLM's weights with no vocabulary and no full model config (as
    test_reliability_runs saves them), an MT19937 state, a config of other keys."""
    model = CharLM(5, hidden=6, layers=2, cell="peephole")
    path = tmp_path / "c.npz"
    g = np.random.Generator(np.random.MT19937(1))
    checkpoint.save(path, model.state_dict(), optim.SGD(model.parameters()).state_dict(), step=7, rng_state=g,
                    config={"hidden": 6, "notes": [1, None, "x"], "lr": 0.1})   # no vocab: not train's
    saved = checkpoint.load(path)
    assert saved["step"] == 7 and saved["rng_state"]["bit_generator"] == "MT19937"
    assert list(saved["model"]) == list(model.state_dict())


@pytest.mark.parametrize("cell", sorted(CELLS))
@pytest.mark.parametrize("layers,hidden,embedding", [(1, 5, None), (3, 70, None), (2, 6, 4)])
def test_every_cell_s_checkpoint_fits_its_config(tmp_path, cell, layers, hidden, embedding):
    """The shapes load() expects are CharLM's own, for every cell, deep or not, wide (embedding capped at 64) or not."""
    periods = (1,) if cell == "clockwork" else None          # one module: any hidden size divides into it
    model = CharLM(7, hidden=hidden, layers=layers, cell=cell, embedding=embedding, periods=periods)
    config = {"cell": cell, "hidden": hidden, "layers": layers, "dropout": 0.0, "dtype": "float32"}
    if embedding:
        config["embedding"] = embedding
    path = tmp_path / "c.npz"
    checkpoint.save(path, model.state_dict(), config=config, vocab="abcdefg", rng_state=np.random.default_rng(0))
    assert list(checkpoint.load(path)["model"]) == list(model.state_dict())
    assert checkpoint._char_model_size(config, 7) == sum(p.numel() for p in model.parameters())


def test_train_s_model_keys_are_the_ones_checked():
    from tinygrad_rnn.apps.train_options import REQUIRED_MODEL_KEYS

    assert checkpoint._CHAR_MODEL_KEYS == REQUIRED_MODEL_KEYS
    assert set(checkpoint._GATES) == set(CELLS)


# ---- the CLI: one line on stderr, exit 2 (old code: tracebacks) --------------------------------------------------
@pytest.mark.parametrize("command,change", [
    ("sample", set_config("hidden", "sixteen")),
    ("sample", _nan_weight),
    ("train", _group("lr", "fast")),
    ("train", _rng(_pcg_state(state=-1))),
], ids=["sample hidden 'sixteen'", "sample NaN weights", "train --resume lr 'fast'", "train --resume bad rng"])
def test_cli_refuses_crafted_checkpoint_in_one_line(either, trained, tmp_path, command, change, run_cli,
                                                    assert_refused):
    ckpt = either
    craft(ckpt, change)
    before = ckpt.read_bytes()
    args = (["sample", str(ckpt), "--length", "5", "--prime", "the"] if command == "sample" else
            ["train", "--text", str(trained[1]), "--resume", str(ckpt), "--out", str(tmp_path / "new.npz"),
             "--steps", "3", *SMALL[4:]])
    assert_refused(run_cli(*args, cwd=tmp_path), str(ckpt))
    assert ckpt.read_bytes() == before and not (tmp_path / "new.npz").exists()


# ---- format version 2: sizes checked from the safetensors header before anything is allocated --------------------
def peak_memory_of_v2_load(path):
    tracemalloc.start()
    try:
        message = refused(path)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    return message, peak


def test_header_declaring_a_gigabyte_for_eight_bytes_allocates_nothing(ckpt2):
    """A tensor whose shape and data_offsets both say 1 GiB, in a file of a few KiB: refused from the header."""
    header, data = read_raw(ckpt2)
    header["huge"] = {"dtype": "F32", "shape": [2**28], "data_offsets": [len(data), len(data) + 2**30]}
    write_raw(ckpt2, header, data + bytes(8))
    message, peak = peak_memory_of_v2_load(ckpt2)
    assert f"declare {len(data) + 2**30:,} bytes of data, but the file holds {len(data) + 8:,}" in message
    assert peak < 4 * 2**20


def test_shape_larger_than_its_extent_is_refused(ckpt2):
    header, data = read_raw(ckpt2)
    entry = header["decoder.bias"]
    entry["shape"] = [2**28]
    write_raw(ckpt2, header, data)
    message, peak = peak_memory_of_v2_load(ckpt2)
    assert "its header declares (268435456,) of float32, 1,073,741,824 bytes, but its data_offsets hold" in message
    assert peak < 4 * 2**20


@pytest.mark.parametrize("length", [2**63, 2**32, 100_000_001, 1])
def test_header_length_lies_are_refused(ckpt2, length):
    raw = bytearray(ckpt2.read_bytes())
    raw[:8] = length.to_bytes(8, "little")
    if length == 100_000_001:                       # a header longer than safetensors' readers accept, all there
        raw += b" " * length
    ckpt2.write_bytes(bytes(raw))
    message, peak = peak_memory_of_v2_load(ckpt2)
    assert "not a safetensors file, or truncated" in message and f"says {length:,} bytes" in message
    assert peak < 4 * 2**20


def test_the_reference_reader_refuses_what_ours_refuses(ckpt2):
    """The same lies, read by the safetensors package: it refuses them too, so a file ours accepts is one it reads."""
    safe = pytest.importorskip("safetensors.numpy")
    header, data = read_raw(ckpt2)
    assert sorted(safe.load_file(str(ckpt2))) == sorted(k for k in header if k != "__metadata__")
    header["decoder.bias"]["data_offsets"][1] += 4
    write_raw(ckpt2, header, data)
    refused(ckpt2, "decoder.bias")
    with pytest.raises(Exception):
        safe.load_file(str(ckpt2))
