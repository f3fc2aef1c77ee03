"""The safetensors container, written and read with NumPy alone, the reader trusting nothing it has not sized.

Layout (Hugging Face's safetensors format): an 8-byte little-endian header length N; N bytes of JSON,
`{"__metadata__": {str: str}, NAME: {"dtype": "F32", "shape": [...], "data_offsets": [begin, end]}, ...}`; then the
tensors' bytes, little-endian, C order, back to back. `safetensors.numpy/torch.load_file` read what `write` writes,
and `read` reads theirs. The engine carries its own reader so that training needs no extra package, and so that
every declared size is checked against the file before anything is allocated: a crafted file costs no more
memory than its own size.
"""
from __future__ import annotations

import json
import math
import os
from collections.abc import Mapping
from typing import Any, BinaryIO

import numpy as np

from .format import CheckpointError

HEADER_LIMIT = 100_000_000   # safetensors' own MAX_HEADER_SIZE: a longer header its library refuses to read
_ALIGN = 8                   # the header is padded with spaces so the data starts 8-byte aligned, as safetensors does
DTYPES = {"F64": "<f8", "F32": "<f4", "F16": "<f2", "I64": "<i8", "I32": "<i4", "I16": "<i2", "I8": "i1",
          "U64": "<u8", "U32": "<u4", "U16": "<u2", "U8": "u1", "BOOL": "?"}
_CODES = {np.dtype(v).newbyteorder("<") if np.dtype(v).itemsize > 1 else np.dtype(v): k for k, v in DTYPES.items()}


def dtype_code(dtype: np.dtype[Any]) -> str | None:
    """safetensors' name for a NumPy dtype (either byte order), or None when the format has none (complex, object,
    str, datetime)."""
    dtype = np.dtype(dtype)
    if dtype.itemsize > 1 and dtype.byteorder in (">", "<", "="):
        dtype = dtype.newbyteorder("<")
    return _CODES.get(dtype)


# ---- writing ----------------------------------------------------------------------------------------------------
def write(f: BinaryIO, tensors: Mapping[str, np.ndarray], metadata: Mapping[str, str]) -> None:
    """Writes `tensors` (name -> ndarray of a dtype safetensors has) and `metadata` (str -> str) to binary file f.

    Larger items first, so that every tensor starts at a multiple of its own size (NumPy reads it aligned).
    """
    order = sorted(tensors, key=lambda name: -tensors[name].dtype.itemsize)    # stable: equal sizes keep their order
    header: dict[str, Any] = {"__metadata__": dict(metadata)} if metadata else {}
    offset, blobs = 0, []
    for name in order:
        array = tensors[name]
        code = dtype_code(array.dtype)
        if code is None:
            raise TypeError(f"cannot save {name!r}: safetensors has no dtype {array.dtype}")
        data = np.asarray(array, dtype=np.dtype(DTYPES[code]), order="C")      # little-endian, C order, 0-d kept
        header[name] = {"dtype": code, "shape": list(data.shape), "data_offsets": [offset, offset + data.nbytes]}
        offset += data.nbytes
        blobs.append(data)
    text = json.dumps(header, separators=(",", ":"), allow_nan=False).encode("ascii")
    text += b" " * (-(8 + len(text)) % _ALIGN)
    if len(text) > HEADER_LIMIT:
        raise ValueError(f"cannot save: the safetensors header would be {len(text):,} bytes, more than the "
                         f"{HEADER_LIMIT:,} its readers accept")
    f.write(len(text).to_bytes(8, "little"))
    f.write(text)
    for data in blobs:
        if data.nbytes:
            f.write(data.data)


# ---- reading ----------------------------------------------------------------------------------------------------
class _Duplicate(Exception):
    pass


def _no_duplicates(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    keys = [k for k, _ in pairs]
    if len(set(keys)) != len(keys):
        raise _Duplicate(next(k for k in keys if keys.count(k) > 1))
    return dict(pairs)


def _entry(path: str, name: str, entry: Any) -> tuple[np.dtype[Any], tuple[int, ...], int, int]:
    """(dtype, shape, begin, end) of one header entry, its fields checked, shape × itemsize against its extent."""
    if not (isinstance(entry, dict) and set(entry) == {"dtype", "shape", "data_offsets"}):
        raise CheckpointError(f"{path} is corrupted (tensor {name!r}: expected dtype, shape and data_offsets, but "
                              f"got {entry!r:.80})")
    code, shape, offsets = entry["dtype"], entry["shape"], entry["data_offsets"]
    if code not in DTYPES:
        shown = f"{code!r:.40}"
        raise CheckpointError(f"{path}: tensor {name!r} has dtype {shown}, which this reader does not take (one of "
                              f"{', '.join(DTYPES)})")
    if not (isinstance(shape, list) and all(type(n) is int and n >= 0 for n in shape)):
        raise CheckpointError(f"{path} is corrupted (tensor {name!r}: shape {shape!r:.80} is not a list of sizes)")
    if not (isinstance(offsets, list) and len(offsets) == 2 and all(type(n) is int and n >= 0 for n in offsets)
            and offsets[0] <= offsets[1]):
        raise CheckpointError(f"{path} is corrupted (tensor {name!r}: data_offsets {offsets!r:.80})")
    dtype = np.dtype(DTYPES[code])
    nbytes = math.prod(shape) * dtype.itemsize                  # Python ints: no overflow for any shape
    if offsets[1] - offsets[0] != nbytes:
        raise CheckpointError(f"{path} is corrupted (tensor {name!r}: its header declares {tuple(shape)} of "
                              f"{dtype.name}, {nbytes:,} bytes, but its data_offsets hold "
                              f"{offsets[1] - offsets[0]:,})")
    return dtype, tuple(shape), offsets[0], offsets[1]


def read(path: str, f: BinaryIO, file_size: int) -> tuple[dict[str, np.ndarray], dict[str, str]]:
    """(tensors in file order, metadata) of the safetensors file open as f, its header checked whole before any
    tensor is allocated: known dtypes, shapes that match their extents, extents that tile the data exactly
    (no gap, no overlap, nothing past the end: the rule of safetensors' own reader)."""
    f.seek(0)
    n = int.from_bytes(f.read(8), "little")
    if file_size < 10 or n < 2 or n > file_size - 8 or n > HEADER_LIMIT:
        raise CheckpointError(f"{path} is not a checkpoint (not a safetensors file, or truncated: its header length "
                              f"field says {n:,} bytes in a file of {file_size:,})")
    raw = f.read(n)
    try:
        if not raw.startswith(b"{"):
            raise ValueError("the header does not start with '{'")
        header = json.loads(raw.decode("utf-8"), object_pairs_hook=_no_duplicates)
    except _Duplicate as err:
        raise CheckpointError(f"{path} is corrupted (its header names {err.args[0]!r} twice)") from None
    except (ValueError, RecursionError) as err:   # UnicodeDecodeError and JSONDecodeError are ValueErrors
        raise CheckpointError(f"{path} is not a checkpoint (unreadable safetensors header: {err})") from err
    if not isinstance(header, dict):
        raise CheckpointError(f"{path} is not a checkpoint (its safetensors header is not a JSON object)")
    metadata = header.pop("__metadata__", {})
    if not (isinstance(metadata, dict) and all(isinstance(v, str) for v in metadata.values())):
        raise CheckpointError(f"{path} is corrupted (its __metadata__ is not a map of strings)")
    entries = {name: _entry(path, name, entry) for name, entry in header.items()}
    data_size, end = file_size - 8 - n, 0
    for name, (_, _, begin, stop) in sorted(entries.items(), key=lambda item: (item[1][2], item[1][3])):
        if begin != end:
            problem = "overlaps the tensor before it" if begin < end else f"leaves bytes {end:,} to {begin:,} unused"
            raise CheckpointError(f"{path} is corrupted (tensor {name!r} at bytes {begin:,} to {stop:,} {problem})")
        end = stop
    if end != data_size:
        raise CheckpointError(f"{path} is corrupted (its tensors declare {end:,} bytes of data, but the file holds "
                              f"{data_size:,})")
    tensors = {}
    for name, (dtype, shape, begin, stop) in sorted(entries.items(), key=lambda item: item[1][2]):
        buffer = np.empty(stop - begin, dtype=np.uint8)        # sized by the file: at most its own length
        f.seek(8 + n + begin)
        if f.readinto(buffer.data) != buffer.size:  # type: ignore[attr-defined]
            raise CheckpointError(f"{path} is corrupted (tensor {name!r} ends past the end of the file)")
        array = buffer.view(dtype).reshape(shape)
        if dtype == np.bool_ and buffer.size and buffer.max() > 1:
            raise CheckpointError(f"{path} is corrupted (bool tensor {name!r} holds bytes other than 0 and 1)")
        tensors[name] = array if np.little_endian else array.astype(array.dtype.newbyteorder("="))
    return tensors, metadata


def sized_open(path: str, max_bytes: int) -> tuple[BinaryIO, int]:
    """The regular file at path, open, and its size, refusing an empty file or one over max_bytes."""
    from .files import open_regular

    f = open_regular(path)
    file_size = os.fstat(f.fileno()).st_size
    if file_size == 0:
        f.close()
        raise CheckpointError(f"{path} is empty, not a checkpoint")
    if file_size > max_bytes:
        f.close()
        raise CheckpointError(f"{path} is too large for a checkpoint ({file_size:,} bytes; at most {max_bytes:,}, "
                              "checkpoint.MAX_BYTES)")
    return f, file_size
