"""`tinygrad_rnn.save(obj, f)` / `tinygrad_rnn.load(f)`: torch.save/torch.load for state_dicts, as safetensors.

What is saved: Tensors (dtype and requires_grad kept; an nn.Parameter comes back a Parameter), ndarrays, NumPy
scalars, None, bools, ints, floats, strs, and lists, tuples, dicts and OrderedDicts of them, nested (a module's or an
optimiser's state_dict, {"model": ..., "optimizer": ..., "epoch": 3}); keys may be str, int, float, bool, None or
tuples of those (an optimiser's state is keyed by int). Every tensor is one safetensors tensor, named by its place
in the object ("lstm.weight_ih_l0" for a state_dict, "model.lstm.weight_ih_l0" one level down); the structure goes
to the metadata as JSON that refers to tensors by name ({"__tensor__": name}), with a SHA-256 digest over both. So
`safetensors.torch.load_file(path)` of a saved state_dict is that state_dict, and `load` gives back the object as
it was saved, an object saved twice (tied weights) as one. Nothing is ever unpickled: a file is data only.

`load` also reads any other safetensors file (safetensors.torch.save_file's, Hugging Face's model.safetensors) as
an OrderedDict of Tensors in name order (arrays of a dtype a Tensor does not hold, float16 or uint8, stay
ndarrays), a training checkpoint of tinygrad_rnn.checkpoint as checkpoint.load does,
and refuses what it cannot vouch for with a one-line CheckpointError (a ValueError) naming the file: the same
checks as the checkpoints' (a regular file, sizes against the file before anything is allocated, the digest).
`load_torch_state_dict` turns a torch state_dict (a dict of torch tensors, or a torch.save file read with
weights_only=True) into one for tinygrad_rnn's modules.
"""
from __future__ import annotations

import io
import json
import os
from collections import OrderedDict
from typing import Any, BinaryIO

import numpy as np

from .checkpoint import MAX_BYTES, CheckpointError, is_npz
from .checkpoint import load as load_checkpoint
from .checkpoint import safetensors_file
from .checkpoint.files import write_atomically
from .checkpoint.format import FORMAT_VERSION, KEY_CHECKPOINT, KEY_DIGEST, KEY_OBJECT, KEY_STATE, KEY_VERSION
from .checkpoint.format import tensor_digest
from .checkpoint.structure import Decoder, Encoder
from .tensor import Tensor

__all__ = ["load", "load_torch_state_dict", "save"]

FileLike = str | os.PathLike[str] | BinaryIO


# ---- save / load ------------------------------------------------------------------------------------------------
def save(obj: Any, f: FileLike) -> None:
    """Writes obj (a state_dict, or any nesting of tensors, arrays, numbers, strings and containers) to f, a path
    (written atomically: a temporary file, fsynced, renamed) or a binary file object, in the safetensors format."""
    encoder = Encoder()
    structure = encoder.encode(obj)
    metadata = {"format": "pt", KEY_VERSION: str(FORMAT_VERSION), KEY_OBJECT: json.dumps(structure)}
    metadata[KEY_DIGEST] = tensor_digest(encoder.tensors, metadata)
    tensors = encoder.tensors
    if isinstance(f, (str, os.PathLike)):
        write_atomically(f, lambda out: safetensors_file.write(out, tensors, metadata))
    elif hasattr(f, "write"):
        safetensors_file.write(f, tensors, metadata)
    else:
        raise TypeError(f"save: f: expected a path or a binary file object, but got {type(f).__name__}")


def load(f: FileLike, map_location: Any = None, *, weights_only: bool | None = None, mmap: bool | None = None
         ) -> Any:
    """Reads what save wrote (the object as saved), a training checkpoint (as checkpoint.load), or any safetensors
    file (an OrderedDict of Tensors, in name order). map_location may be None or "cpu" (the one device);
    weights_only and mmap are accepted for torch.load's callers: nothing is ever unpickled, and files are read, not
    mapped."""
    if map_location is not None and str(map_location) != "cpu" and not callable(map_location):
        raise RuntimeError(f"map_location: this engine runs on the CPU only, but got {map_location!r}")
    if isinstance(f, (str, os.PathLike)):
        path = os.fspath(f)
        if is_npz(path):                       # a format version 1 checkpoint (DeprecationWarning)
            return load_checkpoint(path)
        opened, size = safetensors_file.sized_open(path, MAX_BYTES)
    elif hasattr(f, "read"):
        path = getattr(f, "name", None) or "<file object>"
        opened, size = io.BytesIO(f.read()), 0
        size = opened.getbuffer().nbytes
        if size == 0:
            raise CheckpointError(f"{path} is empty, not a safetensors file")
    else:
        raise TypeError(f"load: f: expected a path or a binary file object, but got {type(f).__name__}")
    with opened:
        tensors, metadata = safetensors_file.read(path, opened, size)
    if KEY_CHECKPOINT in metadata:
        if not isinstance(f, (str, os.PathLike)):
            raise CheckpointError(f"{path} is a training checkpoint: load it from its path (checkpoint.load), so that "
                                  "its training state file beside it is found")
        return load_checkpoint(path)
    if KEY_VERSION not in metadata and KEY_OBJECT not in metadata and KEY_STATE not in metadata:
        return OrderedDict((name, _as_tensor(tensors[name])) for name in sorted(tensors))   # someone else's file
    _verify(path, tensors, metadata)
    if KEY_STATE in metadata:                  # a checkpoint's training state file: its arrays, as saved
        return OrderedDict((name, tensors[name]) for name in sorted(tensors))
    decoder = Decoder(path, tensors)
    try:
        obj = json.loads(metadata[KEY_OBJECT], object_hook=decoder)
    except CheckpointError:
        raise
    except Exception as err:                   # JSON errors, RecursionError
        raise CheckpointError(f"{path} is corrupted (unreadable metadata: {err})") from err
    unused = sorted(set(tensors) - decoder.used)
    if unused:
        raise CheckpointError(f"{path} is not a tinygrad_rnn file (tensor {unused[0]!r} is not part of it)")
    return obj


def _as_tensor(array: np.ndarray) -> Any:
    """A Tensor of the array, or the array itself when a Tensor would change its dtype (float16, uint8, ...)."""
    return Tensor(array) if array.dtype in (np.float32, np.float64, np.int64, np.int32, np.bool_) else array


def _verify(path: str, tensors: dict[str, np.ndarray], metadata: dict[str, str]) -> None:
    version = metadata.get(KEY_VERSION)
    if version != str(FORMAT_VERSION):
        raise CheckpointError(f"{path} has an unknown format version {version!r:.40} (this tinygrad_rnn reads "
                              f"version {FORMAT_VERSION})")
    if KEY_DIGEST not in metadata or (KEY_OBJECT not in metadata and KEY_STATE not in metadata):
        missing = KEY_DIGEST if KEY_DIGEST not in metadata else KEY_OBJECT
        raise CheckpointError(f"{path} is incomplete: its metadata {missing!r} is missing")
    if metadata[KEY_DIGEST] != tensor_digest(tensors, metadata):
        raise CheckpointError(f"{path} is corrupted (checksum mismatch)")


# ---- PyTorch ------------------------------------------------------------------------------------------------------
def load_torch_state_dict(state_dict: Any) -> OrderedDict[str, np.ndarray]:
    """A torch state_dict as one for tinygrad_rnn's modules: name -> ndarray (a copy, dtype kept).

    state_dict: a mapping of torch tensors (module.state_dict()), or a path to a torch.save file (read with
    torch.load(weights_only=True)) or to a safetensors file (safetensors.torch.save_file's). A DDP module's names
    start with "module.": save ddp.module.state_dict(), or strip it with
    torch.nn.modules.utils.consume_prefix_in_state_dict_if_present.
    """
    if isinstance(state_dict, (str, os.PathLike)):
        path = os.fspath(state_dict)
        if not is_npz(path):                   # safetensors: no torch needed
            loaded = load(path)
            if not isinstance(loaded, dict):
                raise TypeError(f"load_torch_state_dict: {path} does not hold a state_dict, but a "
                                f"{type(loaded).__name__}")
            return OrderedDict((k, np.array(v.data if isinstance(v, Tensor) else v)) for k, v in loaded.items())
        try:
            import torch
        except ImportError as err:
            raise ImportError("reading a torch.save file needs torch: pip install torch") from err
        state_dict = torch.load(path, map_location="cpu", weights_only=True)
    if not hasattr(state_dict, "items"):
        raise TypeError(f"load_torch_state_dict: expected a state_dict (a mapping of name to tensor) or a path, but "
                        f"got {type(state_dict).__name__}")
    result: OrderedDict[str, np.ndarray] = OrderedDict()
    for name, value in state_dict.items():
        if not isinstance(name, str):
            raise TypeError(f"load_torch_state_dict: expected str keys, but got {name!r}")
        if hasattr(value, "detach") and hasattr(value, "numpy"):
            value = value.detach().cpu()
            if str(value.dtype) in ("torch.bfloat16", "torch.float16"):
                raise TypeError(f"load_torch_state_dict: {name!r} is {value.dtype}, which this engine does not "
                                "compute in: convert it with .float() first")
            result[name] = value.numpy().copy()
        else:
            result[name] = np.array(value.data if isinstance(value, Tensor) else value)
    return result
