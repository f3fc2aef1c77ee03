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
import hashlib
import json
import math
import operator
import os
import secrets
import stat
import zipfile
from collections import OrderedDict

import numpy as np

from .nn.module import _as_array

__all__ = ["FORMAT_VERSION", "MAX_BYTES", "CheckpointError", "export_torch_state_dict", "load", "save",
           "to_torch_file"]

FORMAT_VERSION = 1
MAX_BYTES = 8 * 2**30
"""The largest checkpoint load() reads, members together (stored = decompressed, see _check_directory): a model
of 700 million float32 parameters with Adam's two moments; the char models here are well under 100 MB."""
_REQUIRED = ("format_version", "meta", "digest")
_ARRAY_PREFIXES = ("model/", "optim/", "config/", "rng_state/")   # where _encode puts the metadata's arrays
_SCALAR_BYTES = 4096              # format_version: a .npy header and 8 bytes
_NPY_HEADERS = {(1, 0): np.lib.format.read_array_header_1_0, (2, 0): np.lib.format.read_array_header_2_0}
_GATES = {"lstm": 4, "gru": 3, "peephole": 4, "rnn": 1}  # charlm.CELLS: gate blocks per layer (PyTorch's G)
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


# ---- reading: the archive ----------------------------------------------------------------------------------------
def _open_regular(path):
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


def _expected_name(name):
    """Whether a zip member's name is one save() writes: the three fixed members or an array of the metadata."""
    if not name.endswith(".npy"):
        return False
    name = name[:-4]
    return name in _REQUIRED or (name.startswith(_ARRAY_PREFIXES) and name not in _ARRAY_PREFIXES)


def _check_directory(path, infos, file_size):
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


def _read_member(path, archive, info, limit=None):
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


def _read_members(path):
    """Every member of the .npz at `path`, as arrays, its sizes and format version checked before the rest is read."""
    with _open_regular(path) as f:
        file_size = os.fstat(f.fileno()).st_size
        if file_size == 0:
            raise CheckpointError(f"{path} is empty, not a checkpoint")
        if f.read(6) == b"\x93NUMPY":
            raise CheckpointError(f"{path} is not a checkpoint (a single .npy array, not an .npz archive)")
        if file_size > MAX_BYTES:
            raise CheckpointError(f"{path} is too large for a checkpoint ({file_size:,} bytes; at most "
                                  f"{MAX_BYTES:,}, checkpoint.MAX_BYTES)")
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
                                      f"version {FORMAT_VERSION})")
            return {name: version if name == "format_version" else _read_member(path, archive, info)
                    for name, info in by_name.items()}


# ---- reading: every field checked in one place -------------------------------------------------------------------
def _is_int(v):
    return isinstance(v, int) and not isinstance(v, bool)


def _is_real(v):
    """A finite int or float, not a bool, that float() can hold (JSON has ints of any size: 10**400 is not)."""
    if not isinstance(v, (int, float)) or isinstance(v, bool):
        return False
    try:
        return math.isfinite(v)
    except OverflowError:
        return False


def _positive_int(v):
    return _is_int(v) and v > 0


# config fields train.py writes (MODEL_DEFAULTS, seq_len, batch) and CharLM.config's own: (check, what is expected)
_CONFIG_FIELDS = {
    "cell": (lambda v: isinstance(v, str) and v in _GATES, "one of " + ", ".join(map(repr, _GATES))),
    "hidden": (_positive_int, "a positive int"),
    "layers": (_positive_int, "a positive int"),
    "embedding": (_positive_int, "a positive int"),
    "vocab_size": (_positive_int, "a positive int"),
    "seq_len": (_positive_int, "a positive int"),
    "batch": (_positive_int, "a positive int"),
    "dropout": (lambda v: _is_real(v) and 0 <= v < 1, "a number in [0, 1)"),
    "dtype": (lambda v: v in ("float32", "float64"), "'float32' or 'float64'"),
}
_CHAR_MODEL_KEYS = ("cell", "hidden", "layers", "dropout", "dtype")   # train.MODEL_DEFAULTS: what it resumes from

# optimiser hyperparameters (torch.optim's names): (check, what is expected); others need only be plain and finite
_NONNEGATIVE = (lambda v: _is_real(v) and v >= 0, "a finite number >= 0")
_FLAG = (lambda v: isinstance(v, bool), "True or False")
_HYPERPARAMETERS = {
    **dict.fromkeys(["lr", "eps", "weight_decay", "momentum", "dampening", "alpha", "lr_decay",
                     "initial_accumulator_value"], _NONNEGATIVE),
    **dict.fromkeys(["nesterov", "amsgrad", "centered", "decoupled_weight_decay", "maximize"], _FLAG),
    "betas": (lambda v: isinstance(v, tuple) and len(v) == 2 and all(_is_real(b) and 0 <= b < 1 for b in v),
              "a tuple of two numbers in [0, 1)"),
}


def _plain(v):
    """None, bool, str, a finite number, or a list/tuple of those: what a hyperparameter may be."""
    if isinstance(v, (list, tuple)):
        return all(_plain(x) for x in v)
    return v is None or isinstance(v, (bool, str)) or _is_real(v)


def _finite_array(v):
    return (isinstance(v, np.ndarray) and v.dtype.kind in "biufc"
            and (v.dtype.kind not in "fc" or bool(np.isfinite(v).all())))


def _same(a, b):
    """Equal all the way down, ndarrays compared by dtype, shape and value (bit generator states)."""
    if isinstance(a, np.ndarray) or isinstance(b, np.ndarray):
        return (isinstance(a, np.ndarray) and isinstance(b, np.ndarray) and a.dtype == b.dtype
                and a.shape == b.shape and bool((a == b).all()))
    if isinstance(a, dict) and isinstance(b, dict):
        return a.keys() == b.keys() and all(_same(a[k], b[k]) for k in a)
    return type(a) is type(b) and a == b


def _char_model_shapes(config, vocab_size):
    """CharLM's state_dict shapes (charlm.py, nn's PyTorch layout) for a config; test_checkpoint_crafted checks
    them against real models. O(layers): call it only when the layer count matches the weights'."""
    H, L, G = config["hidden"], config["layers"], _GATES[config["cell"]]
    E = config.get("embedding", min(H, 64))
    shapes = {"embedding.weight": (vocab_size, E)}
    for k in range(L):
        shapes.update({f"rnn.weight_ih_l{k}": (G * H, E if k == 0 else H), f"rnn.weight_hh_l{k}": (G * H, H),
                       f"rnn.bias_ih_l{k}": (G * H,), f"rnn.bias_hh_l{k}": (G * H,)})
        if config["cell"] == "peephole":
            shapes.update({f"rnn.weight_c{g}_l{k}": (H,) for g in "ifo"})
    shapes.update({"decoder.weight": (vocab_size, H), "decoder.bias": (vocab_size,)})
    return shapes


def _char_model_size(config, vocab_size):
    """How many numbers CharLM(vocab_size, **config) holds, by arithmetic (hidden 10**7 allocates nothing here)."""
    H, L, G = config["hidden"], config["layers"], _GATES[config["cell"]]
    E = config.get("embedding", min(H, 64))
    per_layer = G * H * (H + 2) + (3 * H if config["cell"] == "peephole" else 0)
    return vocab_size * (E + H + 1) + G * H * E + (L - 1) * G * H * H + L * per_layer


def _check_rng_state(path, state, expected=None):
    """A numpy bit generator's state: set on a fresh generator of the class it names, and read back unchanged."""
    name = state.get("bit_generator") if isinstance(state, dict) else None
    cls = getattr(np.random, name, None) if isinstance(name, str) else None
    if not (isinstance(cls, type) and issubclass(cls, np.random.BitGenerator)):
        raise CheckpointError(f"{path}: rng_state: expected a numpy bit generator's state, but got {state!r:.80}")
    if expected is not None and cls is not expected:
        raise CheckpointError(f"{path}: rng_state: expected the state of a {expected.__name__} (tinygrad_rnn.rng's "
                              f"generator), but got a {name}'s")
    fresh = cls()
    try:
        fresh.state = state
        ok = _same(fresh.state, state)
    except Exception:  # OverflowError, TypeError, ValueError, KeyError: whatever the bit generator objects to
        ok = False
    if not ok:
        raise CheckpointError(f"{path}: rng_state: not a valid {name} state: {state!r:.120}")


def _check_optimizer(path, optim):
    """torch.optim's state_dict layout: param_groups of hyperparameters with distinct int indices; per-index state
    of finite arrays and an int step. -> the state_dict with int indices."""
    where = f"{path}: optimizer state"
    if not (isinstance(optim, dict) and set(optim) == {"state", "param_groups"}):
        raise CheckpointError(f"{where}: expected a dict of 'state' and 'param_groups', but got {optim!r:.80}")
    groups, listed = optim["param_groups"], []
    if not (isinstance(groups, list) and groups and all(isinstance(g, dict) for g in groups)):
        raise CheckpointError(f"{where}: param_groups: expected a non-empty list of dicts, but got {groups!r:.80}")
    for i, group in enumerate(groups):
        params = group.get("params")
        if not (isinstance(params, list) and all(_is_int(p) and p >= 0 for p in params)):
            raise CheckpointError(f"{where}: param_groups[{i}]['params']: expected a list of ints >= 0, but got "
                                  f"{params!r:.80}")
        listed += params
        for key, value in group.items():
            check, expected = _HYPERPARAMETERS.get(key, (_plain, "None, a bool, a str or a finite number"))
            if key != "params" and not check(value):
                raise CheckpointError(f"{where}: param_groups[{i}][{key!r}]: expected {expected}, but got {value!r}")
    if len(set(listed)) != len(listed):
        raise CheckpointError(f"{where}: a parameter index appears twice in param_groups ({sorted(listed)})")
    if not isinstance(optim["state"], dict):
        raise CheckpointError(f"{where}: expected a dict of per-parameter state, but got {optim['state']!r:.80}")
    state = {}
    for key, values in optim["state"].items():
        if not (key.isdigit() and key.isascii() and str(int(key)) == key and int(key) in listed):
            raise CheckpointError(f"{where}: state for parameter {key!r}, which no param group lists")
        if not isinstance(values, dict):
            raise CheckpointError(f"{where}: state[{key}]: expected a dict, but got {values!r:.80}")
        for name, value in values.items():
            ok = _is_int(value) and value >= 0 if name == "step" else _finite_array(value) or _is_real(value)
            if not ok:
                expected = "an int >= 0" if name == "step" else "a finite numeric array"
                raise CheckpointError(f"{where}: state[{key}][{name!r}]: expected {expected}, but got "
                                      f"{_shown(value)}")
        state[int(key)] = values
    return {"state": state, "param_groups": groups}


def _shown(value):
    if isinstance(value, np.ndarray):
        return f"an array of {value.dtype} and shape {value.shape}" + (
            " holding NaN or infinity" if value.dtype.kind in "fc" else "")
    return f"{value!r:.80}"


def _check_char_model(path, model, config, vocab, rng_state):
    """The weights of a CharLM (train's checkpoints): the config describes exactly them, with a vocabulary as
    data.Vocabulary keeps it (sorted distinct characters, one per embedding row) and the engine's RNG state."""
    missing = [k for k in _CHAR_MODEL_KEYS if k not in config]
    if missing:
        raise CheckpointError(f"{path}: it holds a character model's weights, but its config lacks {missing}")
    if not (isinstance(vocab, str) and vocab and vocab == "".join(sorted(set(vocab)))):
        raise CheckpointError(f"{path}: vocab: expected the model's characters, sorted and distinct (at least one), "
                              f"but got {vocab!r:.80}")
    dtype, peephole = np.dtype(config["dtype"]), config["cell"] == "peephole"
    if len(model) != 3 + config["layers"] * (7 if peephole else 4):   # before building a dict per layer
        raise CheckpointError(f"{path}: its weights do not fit its config ({config['layers']} layers of "
                              f"{config['cell']} would have {3 + config['layers'] * (7 if peephole else 4)} "
                              f"arrays; it holds {len(model)})")
    shapes = _char_model_shapes(config, len(vocab))
    wrong = [f"{name!r} is {model[name].dtype}{list(model[name].shape)} where the config needs {dtype}"
             f"{list(shape)}" if name in model else f"{name!r} is missing"
             for name, shape in shapes.items()
             if name not in model or model[name].shape != shape or model[name].dtype != dtype]
    if wrong:
        raise CheckpointError(f"{path}: its weights do not fit its config (hidden={config['hidden']}, "
                              f"layers={config['layers']}, cell={config['cell']}, vocabulary of {len(vocab)}): "
                              + "; ".join(wrong[:3]))
    if rng_state is not None:
        from . import rng
        _check_rng_state(path, rng_state, expected=type(rng.generator.bit_generator))


def _validate(path, meta, arrays):
    """The checkpoint load() returns, every field checked (type, range, known values), or CheckpointError.

    Generic for any caller of save(). A character model's checkpoint (CharLM's weights with a vocabulary or a
    cell/hidden/layers config: train's, what sample reads) must moreover have the config, vocabulary and RNG state
    that model needs, its weights' shapes and dtype given by the config; CharLM weights with neither are weights.
    """
    if not (isinstance(meta, dict) and set(meta) == {"model", "optim", "config", "vocab", "step", "rng_state"}):
        shown = sorted(meta) if isinstance(meta, dict) else type(meta).__name__
        raise CheckpointError(f"{path} is not a tinygrad_rnn checkpoint (unexpected metadata: {shown})")
    referenced = set()

    def collect(value):                    # every member the metadata names, so none is left unaccounted for
        if isinstance(value, np.ndarray):
            referenced.add(id(value))
        elif isinstance(value, (list, tuple)):
            for v in value:
                collect(v)
        elif isinstance(value, dict):
            for v in value.values():
                collect(v)
    model, config, vocab, step, rng_state = (meta[k] for k in ("model", "config", "vocab", "step", "rng_state"))
    if not isinstance(model, dict):
        raise CheckpointError(f"{path}: model: expected a dict of arrays, but got {model!r:.80}")
    for name, value in model.items():
        if not _finite_array(value):
            raise CheckpointError(f"{path}: weight {name!r}: expected a finite numeric array, but got "
                                  f"{_shown(value)}")
    if not isinstance(config, dict):
        raise CheckpointError(f"{path}: config: expected a dict, but got {config!r:.80}")
    for key, (check, expected) in _CONFIG_FIELDS.items():
        if key in config and not check(config[key]):
            raise CheckpointError(f"{path}: config {key!r}: expected {expected}, but got {config[key]!r:.80}")
    if vocab is not None and not isinstance(vocab, str):
        raise CheckpointError(f"{path}: vocab: expected a str or None, but got {vocab!r:.80}")
    if not (_is_int(step) and step >= 0):
        raise CheckpointError(f"{path}: step: expected an int >= 0, but got {step!r:.80}")
    if rng_state is not None:
        _check_rng_state(path, rng_state)
    optimizer = None if meta["optim"] is None else _check_optimizer(path, meta["optim"])
    char_weights = any(name.startswith(("embedding.", "rnn.", "decoder.")) for name in model)
    if char_weights and (vocab is not None or all(k in config for k in ("cell", "hidden", "layers"))):
        _check_char_model(path, model, config, vocab, rng_state)     # train's, for train --resume and sample
    elif all(k in config for k in ("cell", "hidden", "layers")):
        # weights of something else, so nothing to compare with; but train and sample build the model the config
        # describes: refuse one larger than any checkpoint this loader reads could hold
        itemsize = np.dtype(config.get("dtype", "float64")).itemsize
        size = _char_model_size(config, len(vocab or ""))
        if size * itemsize > MAX_BYTES:
            raise CheckpointError(f"{path}: config describes a model of {size:,} parameters "
                                  f"({size * itemsize / 2**30:,.1f} GiB), more than a checkpoint may hold "
                                  f"({MAX_BYTES / 2**30:g} GiB, checkpoint.MAX_BYTES)")
    collect(meta)
    unreferenced = sorted(name for name in arrays if id(arrays[name]) not in referenced)
    if unreferenced:
        raise CheckpointError(f"{path} is not a tinygrad_rnn checkpoint (member {unreferenced[0]!r} is not part "
                              "of it)")
    return {"model": OrderedDict(model), "optimizer": optimizer, "config": dict(config), "vocab": vocab,
            "step": step, "rng_state": rng_state}


def load(path, expect_config=None):
    """Reads and verifies a checkpoint -> {"model", "optimizer", "config", "vocab", "step", "rng_state"}.

    "model" is an ordered name -> ndarray dict; "optimizer" a state_dict (int indices, tuples restored) or None.
    Every field is validated (see _validate); with expect_config, every key it has must match the checkpoint's
    config. Anything wrong: CheckpointError.
    """
    path = os.fspath(path)
    members = _read_members(path)
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
        saved = _validate(path, meta, {k: v for k, v in members.items() if k not in _REQUIRED})
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
