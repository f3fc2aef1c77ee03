"""The checkpoint file format: its constants, its error, the JSON-with-arrays encoding of the metadata, the digests."""
from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Mapping
from typing import Any

import numpy as np

FORMAT_VERSION = 2                # safetensors (version 1: the .npz archive, still read, with a DeprecationWarning)
NPZ_FORMAT_VERSION = 1
MAX_BYTES = 8 * 2**30
"""The largest checkpoint load() reads, members together (stored = decompressed, see _check_directory): a model
of 700 million float32 parameters with Adam's two moments; the char models here are well under 100 MB."""
# safetensors metadata keys (format version 2); "format": "pt" tells Hugging Face's loaders the tensors are a state_dict
KEY_VERSION, KEY_CHECKPOINT, KEY_STATE, KEY_OBJECT, KEY_DIGEST = (
    "tinygrad_rnn.format_version", "tinygrad_rnn.checkpoint", "tinygrad_rnn.training_state", "tinygrad_rnn.object",
    "tinygrad_rnn.digest")
_REQUIRED = ("format_version", "meta", "digest")
_ARRAY_PREFIXES = ("model/", "optim/", "config/", "rng_state/")   # where _encode puts the metadata's arrays
_SCALAR_BYTES = 4096              # format_version: a .npy header and 8 bytes
_NPY_HEADERS = {(1, 0): np.lib.format.read_array_header_1_0, (2, 0): np.lib.format.read_array_header_2_0}
_TAGS = ("__array__", "__tuple__")


class CheckpointError(ValueError):
    """A checkpoint that cannot be used; the message is one line (whitespace runs, newlines included, collapse)."""

    def __init__(self, message: object) -> None:
        super().__init__(" ".join(str(message).split()))


# ---- JSON with arrays and tuples ------------------------------------------------------------------------------
def _encode(value: Any, name: str, arrays: dict[str, np.ndarray]) -> Any:
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


def _decoder(members: Mapping[str, np.ndarray], path: str) -> Callable[[dict[str, Any]], Any]:
    """json.loads' object_hook: tagged dicts back to arrays and tuples."""
    def hook(obj: dict[str, Any]) -> Any:
        if len(obj) == 1 and "__tuple__" in obj:
            return tuple(obj["__tuple__"])
        if len(obj) == 1 and "__array__" in obj:
            if obj["__array__"] not in members:
                raise CheckpointError(f"{path} is incomplete: member {obj['__array__']!r} is missing")
            return members[obj["__array__"]]
        return obj
    return hook


def tensor_digest(tensors: Mapping[str, np.ndarray], metadata: Mapping[str, str]) -> str:
    """SHA-256 (hex) of a safetensors file's content but its digest: each tensor in name order (name, dtype, shape,
    then its bytes, little-endian C order), then each metadata item but KEY_DIGEST in key order."""
    h = hashlib.sha256()
    for name in sorted(tensors):
        array = tensors[name]
        little = array.dtype.newbyteorder("<") if array.dtype.itemsize > 1 else array.dtype
        h.update(json.dumps([name, little.str, list(array.shape)]).encode())
        h.update(np.asarray(array, dtype=little).tobytes(order="C"))
    for key in sorted(metadata):
        if key != KEY_DIGEST:
            h.update(json.dumps([key, metadata[key]]).encode())
    return h.hexdigest()


def _digest(members: Mapping[str, np.ndarray]) -> np.ndarray:
    """SHA-256 over the members other than "digest", in name order: name, dtype, shape, then the bytes (C order)."""
    h = hashlib.sha256()
    for name in sorted(members):
        if name != "digest":
            array = members[name]
            h.update(json.dumps([name, array.dtype.str, list(array.shape)]).encode())
            h.update(array.tobytes())
    return np.frombuffer(h.digest(), dtype=np.uint8).copy()


