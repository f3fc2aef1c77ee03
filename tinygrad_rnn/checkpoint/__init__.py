"""Checkpoints: model weights, optimiser and scheduler state, config, vocabulary, step and RNG state, checked.

Layout (format version 2), safetensors, so that `safetensors.torch.load_file(path)` gives the model's state_dict
and `torch_module.load_state_dict(...)` takes it as it is:

- PATH, the checkpoint: the model's state_dict as its tensors, under PyTorch's names (weight_ih_l0, ...), dtypes as
  saved; its metadata: "format": "pt", "tinygrad_rnn.format_version": "2", "tinygrad_rnn.checkpoint": JSON of
  everything else (config, vocab, step, rng_state, the optimiser's param_groups and ints, the scheduler's
  state_dict, the model's names in order, and which state file goes with it), "tinygrad_rnn.digest": SHA-256 over
  the tensors and the other metadata (format.tensor_digest).
- PATH.state-XXXXXXXX, the training state file, only when there are arrays besides the weights (the optimiser's
  exp_avg & co., the carried RNN state, an MT19937 key): those arrays under their place in the JSON
  ("optim/state/0/exp_avg"), which refers to them as {"__array__": name}; XXXXXXXX is the start of its digest,
  which the checkpoint records, so a state file never pairs with another save's checkpoint. Copy both files
  together; `sample` and PyTorch need only the checkpoint's weights, but `load` insists on the pair.

`save` writes the state file under a new name, then the checkpoint (each to a temporary file, fsynced, renamed),
then removes the state files the previous checkpoint at PATH (or a killed save) left: a crash at any point leaves
the previous checkpoint whole with its own state file, or the new pair. `load` refuses anything it cannot vouch for
with a one-line CheckpointError naming the file, in this order, so that a crafted file costs no more memory than its
own size: a regular file, at most MAX_BYTES; the header length, then the header (known dtypes, shapes against their
byte extents, extents tiling the data exactly) before any tensor is allocated; the digest; then every field
(_validate). The digest detects corruption, not tampering: it has no key, so anyone can recompute it, and the field
checks are what stand between a crafted file and the engine. A format version 1 checkpoint (.npz) still loads, with
a DeprecationWarning, for one release.
"""
from __future__ import annotations

import contextlib
import json
import operator
import os
import re
import warnings
from collections import OrderedDict
from typing import Any

import numpy as np

from ..nn.module import _as_array
from . import safetensors_file, structure
from .archive import _read_members
from .fields import _CHAR_MODEL_KEYS, _GATES, _char_model_size, _validate  # noqa: F401  (the tests read these)
from .files import open_regular, write_atomically
from .format import (_REQUIRED, FORMAT_VERSION, KEY_CHECKPOINT, KEY_DIGEST, KEY_OBJECT, KEY_STATE, KEY_VERSION,
                     MAX_BYTES, CheckpointError, _decoder, _digest, _encode, tensor_digest)

__all__ = ["FORMAT_VERSION", "MAX_BYTES", "CheckpointError", "export_torch_state_dict", "load", "save",
           "to_torch_file"]

_STATE_NAME = re.compile(r"[^/\\\x00]+\.state-[0-9a-f]{8}")
_META_KEYS = {"model", "optim", "config", "vocab", "step", "rng_state", "scheduler", "state_file"}
_write_atomically = write_atomically          # (its old name)


# ---- writing --------------------------------------------------------------------------------------------------
def _weights(model_state: Any) -> OrderedDict[str, np.ndarray]:
    weights: OrderedDict[str, np.ndarray] = OrderedDict()
    for name, value in model_state.items():
        if not isinstance(name, str):
            raise TypeError(f"checkpoint: weight names must be str, not {type(name).__name__} ({name!r})")
        array = np.asarray(_as_array(value))
        if safetensors_file.dtype_code(array.dtype) is None:
            raise TypeError(f"checkpoint: cannot save weight {name!r} of dtype {array.dtype}: safetensors stores "
                            "floats, ints and bools")
        weights[name] = array
    return weights


def _scheduler_json(state: dict[str, Any] | None) -> str | None:
    """An lr scheduler's state_dict as JSON (structure.py's: MultiStepLR's milestones are a Counter of ints)."""
    if state is None:
        return None
    if not isinstance(state, dict):
        raise TypeError(f"checkpoint: scheduler_state must be a scheduler's state_dict (a dict) or None, not "
                        f"{type(state).__name__}")
    encoder = structure.Encoder()
    text = json.dumps(encoder.encode(state, "scheduler"))
    if encoder.tensors:
        raise TypeError(f"checkpoint: scheduler_state holds arrays ({next(iter(encoder.tensors))}): a scheduler's "
                        "state_dict is numbers and lists")
    return text


def _state_files(directory: str, base: str) -> list[str]:
    pattern = re.compile(re.escape(base) + r"\.state-[0-9a-f]{8}")
    with contextlib.suppress(OSError):
        return [name for name in os.listdir(directory) if pattern.fullmatch(name)]
    return []


def save(path: str | os.PathLike[str], model_state: Any, optimizer_state: dict[str, Any] | None = None,
         config: dict[str, Any] | None = None, vocab: str | None = None, step: int = 0, rng_state: Any = None,
         scheduler_state: dict[str, Any] | None = None) -> None:
    """Writes a checkpoint to `path` (exactly that name) atomically, and its training state file beside it.

    model_state: name -> ndarray (or Tensor), e.g. module.state_dict(); optimizer_state: optimizer.state_dict() or
    None; config: a JSON-able dict (None is saved as {}); vocab: str or None; step: int; rng_state: a numpy
    bit_generator.state dict (a Generator is accepted too) or None; scheduler_state: an lr scheduler's state_dict.
    """
    if vocab is not None and not isinstance(vocab, str):
        raise TypeError(f"checkpoint: vocab must be a str or None, not {type(vocab).__name__}")
    if isinstance(rng_state, np.random.Generator):
        rng_state = rng_state.bit_generator.state
    optim = None
    if optimizer_state is not None:
        optim = {"state": {str(operator.index(i)): s for i, s in optimizer_state["state"].items()},
                 "param_groups": optimizer_state["param_groups"]}
    weights = _weights(model_state)
    arrays: dict[str, np.ndarray] = {}
    meta = _encode({"optim": optim, "config": {} if config is None else config, "vocab": vocab,
                    "step": operator.index(step), "rng_state": rng_state}, "", arrays)
    meta["scheduler"] = _scheduler_json(scheduler_state)
    for name, array in arrays.items():
        if safetensors_file.dtype_code(array.dtype) is None:
            raise TypeError(f"checkpoint: cannot save the array at {name!r} of dtype {array.dtype}: safetensors "
                            "stores floats, ints and bools")
    path = os.fspath(path)
    directory, base = os.path.dirname(os.path.abspath(path)), os.path.basename(path)
    meta["model"], meta["state_file"], state_path, existed = list(weights), None, None, True
    if arrays:
        state_meta = {KEY_VERSION: str(FORMAT_VERSION), KEY_STATE: base}
        state_meta[KEY_DIGEST] = digest = tensor_digest(arrays, state_meta)
        meta["state_file"] = {"name": f"{base}.state-{digest[:8]}", "digest": digest}
        state_path = os.path.join(directory, meta["state_file"]["name"])
        existed = os.path.lexists(state_path)
        write_atomically(state_path, lambda f: safetensors_file.write(f, arrays, state_meta), temporary_for=path)
    metadata = {"format": "pt", KEY_VERSION: str(FORMAT_VERSION), KEY_CHECKPOINT: json.dumps(meta)}
    metadata[KEY_DIGEST] = tensor_digest(weights, metadata)
    try:
        write_atomically(path, lambda f: safetensors_file.write(f, weights, metadata))
    except BaseException:
        if state_path is not None and not existed:     # the previous checkpoint does not need the new state file
            with contextlib.suppress(OSError):
                os.remove(state_path)
        raise
    keep = None if meta["state_file"] is None else meta["state_file"]["name"]
    for name in _state_files(directory, base):         # the previous checkpoint's, or a killed save's
        if name != keep:
            with contextlib.suppress(OSError):
                os.remove(os.path.join(directory, name))


# ---- reading --------------------------------------------------------------------------------------------------
def _read_safetensors(path: str) -> tuple[dict[str, np.ndarray], dict[str, str]]:
    f, size = safetensors_file.sized_open(path, MAX_BYTES)   # (read here, so that a test may lower the limit)
    with f:
        return safetensors_file.read(path, f, size)


def _verified(path: str, tensors: dict[str, np.ndarray], metadata: dict[str, str]) -> None:
    """Refuses a tinygrad_rnn safetensors file of another version, or without a digest, or whose digest differs."""
    version = metadata.get(KEY_VERSION)
    if version != str(FORMAT_VERSION):
        raise CheckpointError(f"{path} has an unknown format version {version!r:.40} (this tinygrad_rnn reads "
                              f"version {FORMAT_VERSION})")
    if KEY_DIGEST not in metadata:
        raise CheckpointError(f"{path} is incomplete: its metadata {KEY_DIGEST!r} is missing")
    if metadata[KEY_DIGEST] != tensor_digest(tensors, metadata):
        raise CheckpointError(f"{path} is corrupted (checksum mismatch)")


def _json(path: str, text: str | bytes, hook: Any = None) -> Any:
    try:
        return json.loads(text, object_hook=hook)
    except CheckpointError:
        raise
    except Exception as err:  # RecursionError for absurdly nested JSON too
        raise CheckpointError(f"{path} is corrupted (unreadable metadata: {err})") from err


def _state_tensors(path: str, state_file: Any) -> dict[str, np.ndarray]:
    """The arrays of the training state file a checkpoint names, checked to be the one saved with it."""
    if state_file is None:
        return {}
    if not (isinstance(state_file, dict) and set(state_file) == {"name", "digest"}
            and isinstance(state_file["name"], str) and _STATE_NAME.fullmatch(state_file["name"])
            and isinstance(state_file["digest"], str)):
        raise CheckpointError(f"{path} is not a tinygrad_rnn checkpoint (its state_file entry is "
                              f"{state_file!r:.80})")
    state_path = os.path.join(os.path.dirname(os.path.abspath(path)), state_file["name"])
    if not os.path.lexists(state_path):
        raise CheckpointError(f"{path} is incomplete: its training state file {state_file['name']} (optimiser state "
                              "and other arrays) is missing; copy it along with the checkpoint")
    try:
        tensors, metadata = _read_safetensors(state_path)
        if KEY_STATE not in metadata:
            raise CheckpointError(f"{state_path} is not a training state file")
        _verified(state_path, tensors, metadata)
    except CheckpointError as err:
        raise CheckpointError(f"{path}: its training state file: {err}") from err
    if metadata[KEY_DIGEST] != state_file["digest"]:
        raise CheckpointError(f"{path}: its training state file {state_file['name']} belongs to another save "
                              "(its digest differs from the one the checkpoint records)")
    return tensors


def _load_v2(path: str) -> dict[str, Any]:
    tensors, metadata = _read_safetensors(path)
    if KEY_STATE in metadata:
        raise CheckpointError(f"{path} is a checkpoint's training state file, not a checkpoint: load the checkpoint "
                              "it was saved with")
    if KEY_OBJECT in metadata:
        raise CheckpointError(f"{path} was written by tinygrad_rnn.save, not a checkpoint: read it with "
                              "tinygrad_rnn.load")
    if KEY_VERSION not in metadata and KEY_CHECKPOINT not in metadata:
        raise CheckpointError(f"{path} is not a tinygrad_rnn checkpoint (a safetensors file without tinygrad_rnn's "
                              "metadata; tinygrad_rnn.load reads its tensors)")
    _verified(path, tensors, metadata)
    if KEY_CHECKPOINT not in metadata:
        raise CheckpointError(f"{path} is incomplete: its metadata {KEY_CHECKPOINT!r} is missing")
    raw = _json(path, metadata[KEY_CHECKPOINT])
    if not (isinstance(raw, dict) and set(raw) == _META_KEYS):
        shown = sorted(raw) if isinstance(raw, dict) else type(raw).__name__
        raise CheckpointError(f"{path} is not a tinygrad_rnn checkpoint (unexpected metadata: {shown})")
    names = raw["model"]
    if not (isinstance(names, list) and all(isinstance(n, str) for n in names) and len(set(names)) == len(names)):
        raise CheckpointError(f"{path} is not a tinygrad_rnn checkpoint (its list of weights is {names!r:.80})")
    missing = [n for n in names if n not in tensors]
    if missing:
        raise CheckpointError(f"{path} is incomplete: weight {missing[0]!r} is missing")
    stowaways = sorted(set(tensors) - set(names))
    if stowaways:
        raise CheckpointError(f"{path} is not a tinygrad_rnn checkpoint (tensor {stowaways[0]!r} is not part of it)")
    state = _state_tensors(path, raw["state_file"])
    meta = _json(path, metadata[KEY_CHECKPOINT], _decoder(state, path))
    meta.pop("state_file")
    meta["model"] = OrderedDict((name, tensors[name]) for name in names)
    if meta["scheduler"] is not None:
        if not isinstance(meta["scheduler"], str):
            raise CheckpointError(f"{path}: scheduler state: expected its JSON, but got {meta['scheduler']!r:.80}")
        meta["scheduler"] = _json(path, meta["scheduler"], structure.Decoder(path, {}))
    return _validate(path, meta, state, MAX_BYTES)


def _load_npz(path: str) -> dict[str, Any]:
    """A format version 1 (.npz) checkpoint, read as before."""
    members = _read_members(path, MAX_BYTES)
    meta = _json(path, members["meta"].tobytes(), _decoder(members, path))
    if not np.array_equal(members["digest"], _digest(members)):
        raise CheckpointError(f"{path} is corrupted (checksum mismatch)")
    # the digest matched, so only a file written by something else can fail from here on: it is checked whole
    return _validate(path, meta, {k: v for k, v in members.items() if k not in _REQUIRED}, MAX_BYTES)


def is_npz(path: str) -> bool:
    """Whether the regular file at path starts as a zip archive does (a format version 1 checkpoint)."""
    with open_regular(path) as f:
        return f.read(2) == b"PK"


def load(path: str | os.PathLike[str], expect_config: dict[str, Any] | None = None) -> dict[str, Any]:
    """Reads and verifies a checkpoint -> {"model", "optimizer", "config", "vocab", "step", "rng_state",
    "scheduler"}.

    "model" is an ordered name -> ndarray dict; "optimizer" a state_dict (int indices, tuples restored) or None;
    "scheduler" the scheduler's state_dict or None. Every field is validated (see _validate); with expect_config,
    every key it has must match the checkpoint's config. Anything wrong: CheckpointError. A format version 1 (.npz)
    checkpoint loads too, with a DeprecationWarning.
    """
    path = os.fspath(path)
    with open_regular(path) as f:
        start = f.read(8)
    if start.startswith(b"\x93NUMPY"):
        raise CheckpointError(f"{path} is not a checkpoint (a single .npy array, not an .npz archive or a "
                              "safetensors file)")
    legacy = start.startswith(b"PK")
    try:
        saved = _load_npz(path) if legacy else _load_v2(path)
    except RecursionError as err:  # JSON nested nearly as deep as json.loads allows, walked from a deeper stack
        raise CheckpointError(f"{path} is not a tinygrad_rnn checkpoint (metadata nested too deeply)") from err
    if expect_config is not None:
        config, absent = saved["config"], object()
        wrong = [f"{k}={v} here, {config[k] if k in config else 'nothing'} in the checkpoint"
                 for k, v in expect_config.items() if config.get(k, absent) != v]
        if wrong:
            raise CheckpointError(f"{path} was saved for a different model: " + "; ".join(wrong))
    if legacy:
        warnings.warn(f"{path}: .npz checkpoints (format version 1) are deprecated and load in this release only; "
                      "load it and save it again with checkpoint.save to convert it to safetensors (CHANGELOG.md)",
                      DeprecationWarning, stacklevel=2)
    return saved


# ---- PyTorch --------------------------------------------------------------------------------------------------
def export_torch_state_dict(checkpoint: str | os.PathLike[str] | dict[str, Any]) -> OrderedDict[str, Any]:
    """The model weights as name -> torch.Tensor (dtype kept), from a path or from what load() returned."""
    try:
        import torch
    except ImportError as err:
        raise ImportError("exporting a checkpoint to PyTorch needs torch: pip install torch") from err
    model = checkpoint["model"] if isinstance(checkpoint, dict) else load(checkpoint)["model"]
    return OrderedDict((name, torch.from_numpy(np.array(value, copy=True))) for name, value in model.items())


def to_torch_file(path: str | os.PathLike[str], out_path: str | os.PathLike[str]) -> None:
    """Writes the checkpoint's weights as a torch.save file (atomically), for torch.load(..., weights_only=True)."""
    state_dict = export_torch_state_dict(path)
    import torch
    write_atomically(out_path, lambda f: torch.save(state_dict, f))
