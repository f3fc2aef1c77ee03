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
CheckpointError naming the file, in this order, so that a crafted file costs no more memory than its own size:
a regular file, at most MAX_BYTES; the zip directory (expected names only, stored uncompressed, declared sizes
within the file); the format version; each member's .npy header against its declared size, then its data; the
digest; then every field (_validate). The digest detects corruption, not tampering: it has no key, so anyone can
recompute it, and the field checks are what stand between a crafted file and the engine.
"""
import contextlib
import json
import operator
import os
import secrets
from collections import OrderedDict

import numpy as np

from ..nn.module import _as_array
from .archive import _read_members
from .fields import _CHAR_MODEL_KEYS, _GATES, _char_model_size, _validate  # noqa: F401  (the tests read these)
from .format import _REQUIRED, FORMAT_VERSION, MAX_BYTES, CheckpointError, _decoder, _digest, _encode

__all__ = ["FORMAT_VERSION", "MAX_BYTES", "CheckpointError", "export_torch_state_dict", "load", "save",
           "to_torch_file"]


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


def load(path, expect_config=None):
    """Reads and verifies a checkpoint -> {"model", "optimizer", "config", "vocab", "step", "rng_state"}.

    "model" is an ordered name -> ndarray dict; "optimizer" a state_dict (int indices, tuples restored) or None.
    Every field is validated (see _validate); with expect_config, every key it has must match the checkpoint's
    config. Anything wrong: CheckpointError.
    """
    path = os.fspath(path)
    members = _read_members(path, MAX_BYTES)        # (read here, so that a test may lower the module's limit)
    try:
        meta = json.loads(members["meta"].tobytes().decode("utf-8"), object_hook=_decoder(members, path))
    except CheckpointError:
        raise
    except Exception as err:  # RecursionError for absurdly nested JSON too
        raise CheckpointError(f"{path} is corrupted (unreadable metadata: {err})") from err
    if not np.array_equal(members["digest"], _digest(members)):
        raise CheckpointError(f"{path} is corrupted (checksum mismatch)")
    # the digest matched, so only a file written by something else can fail from here on: it is checked whole
    try:
        saved = _validate(path, meta, {k: v for k, v in members.items() if k not in _REQUIRED}, MAX_BYTES)
    except RecursionError as err:  # JSON nested nearly as deep as json.loads allows, walked from a deeper stack
        raise CheckpointError(f"{path} is not a tinygrad_rnn checkpoint (metadata nested too deeply)") from err
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
