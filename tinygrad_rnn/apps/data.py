"""Character data for the language model: the default corpus, the vocabulary, and stateful training windows.

The default corpus needs no download: it is built at run time from a fixed list of the Python standard library's
own source files (present on any Python ≥ 3.10), so the model learns to write Python-looking text.
"""
import os
import sysconfig

import numpy as np

DEFAULT_MODULES = (
    "argparse.py", "textwrap.py", "string.py", "fractions.py", "difflib.py", "heapq.py", "bisect.py", "calendar.py",
    "csv.py", "glob.py", "shlex.py", "queue.py", "statistics.py", "random.py", "json/decoder.py", "json/encoder.py",
    "functools.py", "contextlib.py", "dataclasses.py", "enum.py", "pprint.py",
)


class DataError(ValueError):
    """A corpus that cannot be used (missing, empty, not UTF-8, too short): one line saying which and why."""


def default_corpus(max_chars=600_000):
    """The standard library sources listed in DEFAULT_MODULES, concatenated (at most max_chars characters)."""
    root = sysconfig.get_paths()["stdlib"]
    parts = []
    for name in DEFAULT_MODULES:
        path = os.path.join(root, name)
        if os.path.exists(path):
            with open(path, encoding="utf-8") as f:
                parts.append(f.read())
    text = "\n".join(parts)[:max_chars]
    if not text:
        raise DataError(f"no default corpus: none of the standard library files were found under {root}")
    return text


MAX_TEXT_BYTES = 100_000_000   # --max-text-bytes' default: a corpus is read whole, and a device never ends


def read_text(path, max_bytes=MAX_TEXT_BYTES):
    """The UTF-8 text of `path` (a regular file of at most max_bytes bytes), or DataError naming the problem."""
    if not os.path.exists(path):
        raise DataError(f"--text {path}: no such file")
    if os.path.isdir(path):
        raise DataError(f"--text {path}: is a directory, expected a text file")
    if not os.path.isfile(path):                  # a FIFO would block, /dev/zero never end
        raise DataError(f"--text {path}: is not a regular file (a FIFO, device or socket), expected a text file")
    try:
        with open(path, "rb") as f:
            size = os.fstat(f.fileno()).st_size
            data = f.read(max_bytes + 1) if size <= max_bytes else b""
    except OSError as err:
        raise DataError(f"--text {path}: cannot read it ({err.strerror})") from None
    if size > max_bytes or len(data) > max_bytes:  # (a file that grew while being read)
        raise DataError(f"--text {path}: {max(size, len(data)):,} bytes, more than --max-text-bytes {max_bytes:,}")
    try:
        text = data.decode("utf-8").replace("\r\n", "\n").replace("\r", "\n")   # text mode's universal newlines
    except UnicodeDecodeError as err:
        raise DataError(f"--text {path}: not UTF-8 text (byte {err.start}: {err.reason})") from None
    if not text:
        raise DataError(f"--text {path}: the file is empty")
    return text


class Vocabulary:
    """The characters of a text, sorted; encode maps a string to int indices and decode back."""

    def __init__(self, chars):
        self.chars = "".join(sorted(set(chars)))
        self.index = {c: i for i, c in enumerate(self.chars)}

    def __len__(self):
        return len(self.chars)

    def encode(self, text):
        unknown = sorted(set(text) - set(self.index))
        if unknown:
            raise DataError(f"characters not in the model's vocabulary: {''.join(unknown)!r}")
        return np.fromiter((self.index[c] for c in text), dtype=np.intp, count=len(text))

    def decode(self, indices):
        return "".join(self.chars[i] for i in indices)


def split(ids, valid_fraction=0.1):
    """(train, valid) index arrays: the last valid_fraction of the text is held out."""
    cut = int(len(ids) * (1 - valid_fraction))
    return ids[:cut], ids[cut:]


def streams(ids, batch):
    """The text cut into `batch` contiguous rows (B, N): row b is the b-th slice, so state carries along rows."""
    n = len(ids) // batch
    return ids[: n * batch].reshape(batch, n)


def windows(rows, seq_len, start):
    """Inputs and next-character targets (T, B) of the window starting at column `start` (wrapping around)."""
    n = rows.shape[1] - 1
    cols = (start + np.arange(seq_len + 1)) % (n + 1)
    chunk = rows[:, cols].T
    return chunk[:-1], chunk[1:]
