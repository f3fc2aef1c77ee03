"""Opening a file to read without blocking on it, and replacing one atomically: what every checkpoint reader and
writer here does first and last."""
from __future__ import annotations

import contextlib
import os
import secrets
import stat
from collections.abc import Callable
from typing import BinaryIO

from .format import CheckpointError


def temporary_name(path: str | os.PathLike[str]) -> str:
    """The hidden temporary file a save to `path` writes first: `.NAME.PID.HEX.tmp`, in the same directory (so the
    rename is atomic); apps/files.py probes and clears names of this shape."""
    path = os.fspath(path)
    return os.path.join(os.path.dirname(os.path.abspath(path)),
                        f".{os.path.basename(path)}.{os.getpid()}.{secrets.token_hex(4)}.tmp")


def fsync_directory(directory: str) -> None:
    """Makes a rename in `directory` durable; not possible everywhere (Windows), so failures are ignored."""
    with contextlib.suppress(OSError):
        dir_fd = os.open(directory, os.O_RDONLY)
        try:
            os.fsync(dir_fd)
        finally:
            os.close(dir_fd)


def write_atomically(path: str | os.PathLike[str], write: Callable[[BinaryIO], object],
                     temporary_for: str | os.PathLike[str] | None = None) -> None:
    """Calls write(binary file) on a temporary file next to `path`, fsyncs it, renames it onto `path`.

    On any failure the temporary file is removed and whatever was at `path` is untouched. temporary_for: name the
    temporary file after that path instead (a checkpoint's state file is written under its checkpoint's temporary
    name, whose length the command line has checked).
    """
    path = os.fspath(path)
    directory = os.path.dirname(os.path.abspath(path))
    tmp = temporary_name(path if temporary_for is None else temporary_for)
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
    fsync_directory(directory)


def open_regular(path: str) -> BinaryIO:
    """The file at `path` opened for reading, refusing what is not a regular file (a FIFO would block, a device
    would never end) before reading a byte; O_NONBLOCK so that opening a FIFO cannot block either."""
    try:
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_BINARY", 0))
    except FileNotFoundError as err:
        raise CheckpointError(f"{path}: no such checkpoint file") from err
    except OSError as err:
        raise CheckpointError(f"cannot read checkpoint {path}: {err.strerror}") from err
    mode = os.fstat(fd).st_mode
    if not stat.S_ISREG(mode):
        os.close(fd)
        kind = {stat.S_IFDIR: "a directory", stat.S_IFIFO: "a FIFO", stat.S_IFCHR: "a character device",
                stat.S_IFBLK: "a block device", stat.S_IFSOCK: "a socket"}.get(stat.S_IFMT(mode), "not a file")
        raise CheckpointError(f"cannot read checkpoint {path}: not a regular file ({kind})")
    return os.fdopen(fd, "rb")
