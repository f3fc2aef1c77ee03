"""Checkpoint files written and edited without the checkpoint module's own writer, for the tests of its reader.

- write_npz_v1: a format version 1 checkpoint (.npz), written as tinygrad_rnn 0.1.0's checkpoint.save wrote it, so
  the deprecated reader is tested on the files it must keep reading;
- read_raw / write_raw: a safetensors file as (header dict, data bytes) and back, so a test can lie in any field;
- Crafted: a format version 2 checkpoint pair (the checkpoint and its state file) seen as the (meta, arrays) of
  version 1 (meta: the JSON with {"__array__": name} tags, "model" a dict of them; arrays: "model/<name>",
  "optim/state/0/exp_avg", ...), changed, and written back with every digest recomputed here, independently.
"""
import hashlib
import json
import operator
import os
from collections import OrderedDict

import numpy as np

from tinygrad_rnn.checkpoint.format import _digest, _encode

CODES = {"<f8": "F64", "<f4": "F32", "<f2": "F16", "<i8": "I64", "<i4": "I32", "<i2": "I16", "|i1": "I8",
         "<u8": "U64", "<u4": "U32", "<u2": "U16", "|u1": "U8", "|b1": "BOOL"}


def write_npz_v1(path, model_state, optimizer_state=None, config=None, vocab=None, step=0, rng_state=None):
    """tinygrad_rnn 0.1.0's checkpoint.save, verbatim but for the atomic rename."""
    if isinstance(rng_state, np.random.Generator):
        rng_state = rng_state.bit_generator.state
    optim = None
    if optimizer_state is not None:
        optim = {"state": {str(operator.index(i)): s for i, s in optimizer_state["state"].items()},
                 "param_groups": optimizer_state["param_groups"]}
    arrays = {}
    meta = _encode({"model": OrderedDict((k, np.asarray(v)) for k, v in model_state.items()),
                    "optim": optim, "config": {} if config is None else config, "vocab": vocab,
                    "step": operator.index(step), "rng_state": rng_state}, "", arrays)
    arrays["meta"] = np.frombuffer(json.dumps(meta).encode("utf-8"), dtype=np.uint8)
    arrays["format_version"] = np.array(1, dtype=np.int64)
    arrays["digest"] = _digest(arrays)
    with open(path, "wb") as f:
        np.savez(f, allow_pickle=False, **arrays)


# ---- raw safetensors ----------------------------------------------------------------------------------------------
def read_raw(path):
    raw = open(path, "rb").read()
    n = int.from_bytes(raw[:8], "little")
    return json.loads(raw[8:8 + n]), raw[8 + n:]


def write_raw(path, header, data, pad=True):
    text = json.dumps(header).encode()
    if pad:
        text += b" " * (-(8 + len(text)) % 8)
    with open(path, "wb") as f:
        f.write(len(text).to_bytes(8, "little") + text + data)


def digest(tensors, metadata):
    """The format's digest (checkpoint/format.py's docstring), computed here: each tensor in name order (json of
    [name, little-endian dtype.str, shape], then its bytes), then each metadata item but the digest, in key order."""
    h = hashlib.sha256()
    for name in sorted(tensors):
        a = np.asarray(tensors[name])
        little = a.dtype.newbyteorder("<") if a.dtype.itemsize > 1 else a.dtype
        h.update(json.dumps([name, little.str, list(a.shape)]).encode())
        h.update(np.asarray(a, dtype=little).tobytes(order="C"))
    for key in sorted(metadata):
        if key != "tinygrad_rnn.digest":
            h.update(json.dumps([key, metadata[key]]).encode())
    return h.hexdigest()


def write_tensors(path, tensors, metadata):
    """A safetensors file of these arrays (little-endian, back to back in the given order) and metadata."""
    header, chunks, offset = {"__metadata__": metadata}, [], 0
    for name, a in tensors.items():
        a = np.asarray(a)
        little = a.dtype.newbyteorder("<") if a.dtype.itemsize > 1 else a.dtype
        data = np.asarray(a, dtype=little).tobytes(order="C")
        header[name] = {"dtype": CODES[little.str], "shape": list(a.shape),
                        "data_offsets": [offset, offset + len(data)]}
        chunks.append(data)
        offset += len(data)
    write_raw(path, header, b"".join(chunks))


def read_tensors(path):
    header, data = read_raw(path)
    metadata = header.pop("__metadata__", {})
    tensors = {}
    for name, e in header.items():
        dtype = np.dtype({v: k for k, v in CODES.items()}[e["dtype"]])
        begin, end = e["data_offsets"]
        tensors[name] = np.frombuffer(data[begin:end], dtype=dtype).reshape(e["shape"]).copy()
    return tensors, metadata


class Crafted:
    """A v2 checkpoint pair as version 1's (meta, arrays); write() puts a changed pair back, digests recomputed."""

    def __init__(self, path):
        self.path = str(path)
        tensors, self.metadata = read_tensors(self.path)
        meta = json.loads(self.metadata["tinygrad_rnn.checkpoint"])
        arrays = {f"model/{name}": tensors[name] for name in meta["model"]}
        state_file = meta.pop("state_file")
        if state_file is not None:
            state, _ = read_tensors(os.path.join(os.path.dirname(self.path), state_file["name"]))
            arrays.update(state)
            os.remove(os.path.join(os.path.dirname(self.path), state_file["name"]))
        meta["model"] = {name: {"__array__": f"model/{name}"} for name in meta["model"]}
        self.meta, self.arrays = meta, arrays

    def write(self, text_change=None):
        meta, arrays = json.loads(json.dumps(self.meta)), dict(self.arrays)
        model = meta.get("model")
        tensors = {}
        if isinstance(model, dict):
            for name, ref in model.items():
                tensors[name] = arrays.pop(ref["__array__"])
            meta["model"] = list(model)
        base = os.path.basename(self.path)
        meta["state_file"] = None
        if arrays:
            state_meta = {"tinygrad_rnn.format_version": "2", "tinygrad_rnn.training_state": base}
            state_meta["tinygrad_rnn.digest"] = d = digest(arrays, state_meta)
            meta["state_file"] = {"name": f"{base}.state-{d[:8]}", "digest": d}
            write_tensors(os.path.join(os.path.dirname(self.path), meta["state_file"]["name"]), arrays, state_meta)
        text = json.dumps(meta)
        if text_change is not None:
            text = text_change(text)
        metadata = {"format": "pt", "tinygrad_rnn.format_version": "2", "tinygrad_rnn.checkpoint": text}
        metadata["tinygrad_rnn.digest"] = digest(tensors, metadata)
        write_tensors(self.path, tensors, metadata)
        return self.path
