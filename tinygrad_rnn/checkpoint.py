"""Checkpoints: model weights, optimiser state, config, vocabulary, step and RNG state in one checked .npz file.

Layout (format version 1), every member a plain array, so `np.load(path, allow_pickle=False)` reads it:

- "model/<name>": the model's state_dict, PyTorch's names (weight_ih_l0, ...), dtypes as saved;
- "optim/state/<index>/<key>": the optimiser's state arrays (exp_avg, ...);
- "meta": UTF-8 JSON of everything else: config, vocab, step, rng_state, the optimiser's ints and param_groups.
  Arrays appear in it as {"__array__": member name}, tuples (Adam's betas) as {"__tuple__": [...]};
  floats are written with repr, so they come back exactly;
- "format_version": 1; "digest": SHA-256 over every other member's name, dtype, shape and data.

`save` writes a temporary file in the same directory, fsyncs it and renames it onto the target, so a crash leaves
either the previous checkpoint or the new one. `load` refuses anything it cannot vouch for with a one-line
CheckpointError naming the file.
"""
import contextlib
import hashlib
import json
import operator
import os
import secrets
from collections import OrderedDict

import numpy as np

from .nn.module import _as_array

__all__ = ["FORMAT_VERSION", "CheckpointError", "export_torch_state_dict", "load", "save", "to_torch_file"]

FORMAT_VERSION = 1
_REQUIRED = ("format_version", "meta", "digest")
_TAGS = ("__array__", "__tuple__")


class CheckpointError(ValueError):
    """A checkpoint that cannot be used; the message is one line (whitespace runs, newlines included, collapse)."""

    def __init__(self, message):
        super().__init__(" ".join(str(message).split()))


# ---- JSON with arrays and tuples ------------------------------------------------------------------------------
def _encode(value, name, arrays):
    """The JSON-able form of `value`: ndarrays go to arrays[name] (a member), tuples are tagged, keys are str."""
    if isinstance(value, np.ndarray):
        if name in arrays:
            raise ValueError(f"checkpoint: two arrays would be stored as member {name!r}")
        arrays[name] = value
        return {"__array__": name}
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, (tuple, list)):
        items = [_encode(v, f"{name}/{i}", arrays) for i, v in enumerate(value)]
        return {"__tuple__": items} if isinstance(value, tuple) else items
    if isinstance(value, dict):
        if any(not isinstance(k, str) for k in value) or (len(value) == 1 and next(iter(value)) in _TAGS):
            raise TypeError(f"checkpoint: cannot save the dict at {name!r}: keys must be strings other than {_TAGS}")
        return {k: _encode(v, f"{name}/{k}" if name else k, arrays) for k, v in value.items()}
    if value is None or isinstance(value, (bool, int, float, str)):
        return value
    raise TypeError(f"checkpoint: cannot save a {type(value).__name__} (at {name!r}): not JSON, not an ndarray")


def _decoder(members, path):
    """json.loads' object_hook: tagged dicts back to arrays and tuples."""
    def hook(obj):
        if len(obj) == 1 and "__tuple__" in obj:
            return tuple(obj["__tuple__"])
        if len(obj) == 1 and "__array__" in obj:
            if obj["__array__"] not in members:
                raise CheckpointError(f"{path} is incomplete: member {obj['__array__']!r} is missing")
            return members[obj["__array__"]]
        return obj
    return hook


def _digest(members):
    """SHA-256 over the members other than "digest", in name order: name, dtype, shape, then the bytes (C order)."""
    h = hashlib.sha256()
    for name in sorted(members):
        if name != "digest":
            array = members[name]
            h.update(json.dumps([name, array.dtype.str, list(array.shape)]).encode())
            h.update(array.tobytes())
    return np.frombuffer(h.digest(), dtype=np.uint8).copy()


# ---- writing --------------------------------------------------------------------------------------------------
def _write_atomically(path, write):
    """Calls write(binary file) on a temporary file next to `path`, fsyncs it, renames it onto `path`.

    On any failure the temporary file is removed and whatever was at `path` is untouched.
    """
    path = os.fspath(path)
    directory = os.path.dirname(os.path.abspath(path))
    tmp = os.path.join(directory, f".{os.path.basename(path)}.{os.getpid()}.{secrets.token_hex(4)}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_BINARY", 0), 0o666)
    try:
        with os.fdopen(fd, "wb") as f:
            write(f)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.remove(tmp)
        raise
    with contextlib.suppress(OSError):  # make the rename durable; not possible everywhere (Windows)
        dir_fd = os.open(directory, os.O_RDONLY)
        try:
            os.fsync(dir_fd)
        finally:
            os.close(dir_fd)


def save(path, model_state, optimizer_state=None, config=None, vocab=None, step=0, rng_state=None):
    """Writes a checkpoint to `path` (exactly that name) atomically.

    model_state: name -> ndarray (or Tensor), e.g. module.state_dict(); optimizer_state: optimizer.state_dict() or
    None; config: a JSON-able dict (None is saved as {}); vocab: str or None; step: int; rng_state: a numpy
    bit_generator.state dict (a Generator is accepted too) or None.
    """
    if vocab is not None and not isinstance(vocab, str):
        raise TypeError(f"checkpoint: vocab must be a str or None, not {type(vocab).__name__}")
    if isinstance(rng_state, np.random.Generator):
        rng_state = rng_state.bit_generator.state
    optim = None
    if optimizer_state is not None:
        optim = {"state": {str(operator.index(i)): s for i, s in optimizer_state["state"].items()},
                 "param_groups": optimizer_state["param_groups"]}
    arrays = {}
    meta = _encode({"model": OrderedDict((k, np.asarray(_as_array(v))) for k, v in model_state.items()),
                    "optim": optim, "config": {} if config is None else config, "vocab": vocab,
                    "step": operator.index(step), "rng_state": rng_state}, "", arrays)
    arrays["meta"] = np.frombuffer(json.dumps(meta).encode("utf-8"), dtype=np.uint8)
    arrays["format_version"] = np.array(FORMAT_VERSION, dtype=np.int64)
    arrays["digest"] = _digest(arrays)
    _write_atomically(path, lambda f: np.savez(f, allow_pickle=False, **arrays))


# ---- reading --------------------------------------------------------------------------------------------------
def _read_members(path):
    """Every member of the .npz at `path`, as arrays; CheckpointError for anything that is not a readable .npz."""
    try:
        archive = np.load(path, allow_pickle=False)
    except FileNotFoundError as err:
        raise CheckpointError(f"{path}: no such checkpoint file") from err
    except (IsADirectoryError, PermissionError) as err:
        raise CheckpointError(f"cannot read checkpoint {path}: {err.strerror}") from err
    except EOFError as err:
        raise CheckpointError(f"{path} is empty, not a checkpoint") from err
    except Exception as err:  # text (ValueError: "pickled data"), truncated (BadZipFile), ...
        raise CheckpointError(f"{path} is not a checkpoint (not an .npz archive, or truncated)") from err
    if not isinstance(archive, np.lib.npyio.NpzFile):
        raise CheckpointError(f"{path} is not a checkpoint (a single .npy array, not an .npz archive)")
    members = {}
    with archive:
        for name in archive.files:
            try:
                members[name] = archive[name]
            except Exception as err:  # zip CRC, npy header, short data, unsupported compression, ...
                detail = str(err) or type(err).__name__
                raise CheckpointError(f"{path} is corrupted (cannot read member {name!r}: {detail})") from err
    return members


def load(path, expect_config=None):
    """Reads and verifies a checkpoint -> {"model", "optimizer", "config", "vocab", "step", "rng_state"}.

    "model" is an ordered name -> ndarray dict; "optimizer" a state_dict (int indices, tuples restored) or None.
    With expect_config, every key it has must match the checkpoint's config. Anything wrong: CheckpointError.
    """
    path = os.fspath(path)
    members = _read_members(path)
    for name in _REQUIRED:
        if name not in members:
            raise CheckpointError(f"{path} is incomplete: member {name!r} is missing")
    version = members["format_version"]
    if version.dtype.kind not in "iu" or version.shape != () or int(version) != FORMAT_VERSION:
        shown = version.tolist() if version.size == 1 else f"of shape {version.shape}"
        raise CheckpointError(f"{path} has an unknown format version {shown!r} (this tinygrad_rnn reads version "
                              f"{FORMAT_VERSION})")
    try:
        meta = json.loads(members["meta"].tobytes().decode("utf-8"), object_hook=_decoder(members, path))
    except CheckpointError:
        raise
    except Exception as err:
        raise CheckpointError(f"{path} is corrupted (unreadable metadata: {err})") from err
    if not np.array_equal(members["digest"], _digest(members)):
        raise CheckpointError(f"{path} is corrupted (checksum mismatch)")
    try:  # the digest matched, so only a file written by something else can fail here
        optim = meta["optim"]
        if optim is not None:
            optim = {"state": {int(i): s for i, s in optim["state"].items()}, "param_groups": optim["param_groups"]}
        saved = {"model": OrderedDict(meta["model"]), "optimizer": optim, "config": dict(meta["config"]),
                 "vocab": meta["vocab"], "step": int(meta["step"]), "rng_state": meta["rng_state"]}
    except (KeyError, TypeError, ValueError, AttributeError) as err:
        raise CheckpointError(f"{path} is not a tinygrad_rnn checkpoint (unexpected metadata: {err!r})") from err
    if expect_config is not None:
        config, absent = saved["config"], object()
        wrong = [f"{k}={v} here, {config[k] if k in config else 'nothing'} in the checkpoint"
                 for k, v in expect_config.items() if config.get(k, absent) != v]
        if wrong:
            raise CheckpointError(f"{path} was saved for a different model: " + "; ".join(wrong))
    return saved


# ---- PyTorch --------------------------------------------------------------------------------------------------
def export_torch_state_dict(checkpoint):
    """The model weights as name -> torch.Tensor (dtype kept), from a path or from what load() returned."""
    try:
        import torch
    except ImportError as err:
        raise ImportError("exporting a checkpoint to PyTorch needs torch: pip install torch") from err
    model = checkpoint["model"] if isinstance(checkpoint, dict) else load(checkpoint)["model"]
    return OrderedDict((name, torch.from_numpy(np.array(value, copy=True))) for name, value in model.items())


def to_torch_file(path, out_path):
    """Writes the checkpoint's weights as a torch.save file (atomically), for torch.load(..., weights_only=True)."""
    state_dict = export_torch_state_dict(path)
    import torch
    _write_atomically(out_path, lambda f: torch.save(state_dict, f))
