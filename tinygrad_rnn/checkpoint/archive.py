"""Reading a format version 1 checkpoint (an .npz zip archive, deprecated: read for one release) without trusting
it: every size is checked before anything is decompressed or allocated, so a crafted file costs no more memory than
its own size."""
from __future__ import annotations

import math
import os
import zipfile

import numpy as np

from .files import open_regular as _open_regular
from .format import _ARRAY_PREFIXES, _NPY_HEADERS, _REQUIRED, _SCALAR_BYTES, CheckpointError
from .format import NPZ_FORMAT_VERSION as FORMAT_VERSION


# ---- reading the archive ----------------------------------------------------------------------------------------


def _expected_name(name: str) -> bool:
    """Whether a zip member's name is one save() writes: the three fixed members or an array of the metadata."""
    if not name.endswith(".npy"):
        return False
    name = name[:-4]
    return name in _REQUIRED or (name.startswith(_ARRAY_PREFIXES) and name not in _ARRAY_PREFIXES)


def _check_directory(path: str, infos: list[zipfile.ZipInfo], file_size: int) -> None:
    """Refuses, from the zip's central directory alone (nothing decompressed or read), any member save() would not
    have written and any size the file cannot back.

    save() stores every member uncompressed (np.savez), so a member's declared size must equal its stored size and
    all of them together fit in the file: a decompression ratio of 1. No ratio threshold would do for deflated
    members: an all-zero float array (a fresh optimiser's moments, zero biases) deflates about 1000:1, deflate's
    maximum, as a bomb does; so compressed members are refused outright.
    """
    names = {info.filename for info in infos}
    for name in _REQUIRED:                 # first: a foreign .npz is told apart from a damaged checkpoint
        if name + ".npy" not in names:
            raise CheckpointError(f"{path} is incomplete: member {name!r} is missing")
    seen, total = set(), 0
    for info in infos:
        name = info.filename
        if not _expected_name(name):
            raise CheckpointError(f"{path} is not a tinygrad_rnn checkpoint (unexpected member {name!r})")
        if name in seen:
            raise CheckpointError(f"{path} is corrupted (member {name!r} appears twice)")
        seen.add(name)
        if info.flag_bits & 0x1:
            raise CheckpointError(f"{path} is not a tinygrad_rnn checkpoint (member {name!r} is encrypted)")
        if info.compress_type != zipfile.ZIP_STORED:
            raise CheckpointError(f"{path} is not a tinygrad_rnn checkpoint (member {name!r} is compressed; save "
                                  "stores members uncompressed, and a compressed one may be a zip bomb)")
        if info.file_size != info.compress_size or info.header_offset + info.compress_size > file_size:
            raise CheckpointError(f"{path} is corrupted (member {name!r} declares {info.file_size:,} bytes, but "
                                  f"{info.compress_size:,} are stored in a file of {file_size:,})")
        total += info.file_size
    if total > file_size:
        raise CheckpointError(f"{path} is corrupted (its members declare {total:,} bytes, more than the file's "
                              f"{file_size:,})")


def _read_member(path: str, archive: zipfile.ZipFile, info: zipfile.ZipInfo, limit: int | None = None
                 ) -> np.ndarray:
    """One member as an array, after checking its .npy header: no Python objects, and shape × itemsize equal to
    the bytes the member declares (numpy allocates the header's shape before reading: 8 GB for a 100-byte lie)."""
    name = info.filename[:-4]
    if limit is not None and info.file_size > limit:
        raise CheckpointError(f"{path} is corrupted (member {name!r} declares {info.file_size:,} bytes; it holds a "
                              f"scalar, at most {limit:,})")
    try:
        with archive.open(info) as f:
            version = np.lib.format.read_magic(f)
            if version not in _NPY_HEADERS:
                raise CheckpointError(f"{path} is corrupted (member {name!r} has .npy format version {version})")
            shape, _, dtype = _NPY_HEADERS[version](f)
            offset = f.tell()
        if dtype.hasobject:
            raise CheckpointError(f"{path} is corrupted (member {name!r} holds pickled Python objects, which a "
                                  "checkpoint never does)")
        count = math.prod(shape)
        if dtype.itemsize == 0 or min(shape, default=0) < 0 or offset + count * dtype.itemsize != info.file_size:
            raise CheckpointError(f"{path} is corrupted (member {name!r}: its header declares {shape} of {dtype}, "
                                  f"{count * dtype.itemsize:,} bytes, but it holds {info.file_size - offset:,})")
        with archive.open(info) as f:
            array = np.lib.format.read_array(f, allow_pickle=False)
            f.read(1)                          # at the end: the CRC is checked here at the latest
        return array
    except CheckpointError:
        raise
    except Exception as err:  # zip CRC, npy header, short data, a local header that disagrees, ...
        detail = str(err) or type(err).__name__
        raise CheckpointError(f"{path} is corrupted (cannot read member {name!r}: {detail})") from err


def _read_members(path: str, max_bytes: int) -> dict[str, np.ndarray]:
    """Every member of the .npz at `path`, as arrays, its sizes and format version checked before the rest is read."""
    with _open_regular(path) as f:
        file_size = os.fstat(f.fileno()).st_size
        if file_size == 0:
            raise CheckpointError(f"{path} is empty, not a checkpoint")
        if f.read(6) == b"\x93NUMPY":
            raise CheckpointError(f"{path} is not a checkpoint (a single .npy array, not an .npz archive)")
        if file_size > max_bytes:
            raise CheckpointError(f"{path} is too large for a checkpoint ({file_size:,} bytes; at most "
                                  f"{max_bytes:,}, checkpoint.MAX_BYTES)")
        f.seek(0)
        try:
            archive = zipfile.ZipFile(f)
            infos = archive.infolist()
        except Exception as err:  # text, truncated, zeros (BadZipFile), an odd directory (ValueError, ...)
            raise CheckpointError(f"{path} is not a checkpoint (not an .npz archive, or truncated)") from err
        with archive:
            _check_directory(path, infos, file_size)
            by_name = {info.filename[:-4]: info for info in infos}
            version = _read_member(path, archive, by_name["format_version"], limit=_SCALAR_BYTES)
            if version.dtype.kind not in "iu" or version.shape != () or int(version) != FORMAT_VERSION:
                shown = version.tolist() if version.size == 1 else f"of shape {version.shape}"
                raise CheckpointError(f"{path} has an unknown format version {shown!r} (this tinygrad_rnn reads "
                                      f".npz checkpoints of version {FORMAT_VERSION})")
            return {name: version if name == "format_version" else _read_member(path, archive, info)
                    for name, info in by_name.items()}


