"""Every field of a checkpoint checked in one place: the digest detects corruption, not tampering, so a file whose
digest matches is still validated field by field before anything builds a model from it."""
from __future__ import annotations

import math
from collections import OrderedDict
from typing import Any

import numpy as np

from .format import CheckpointError

_GATES = {"lstm": 4, "gru": 3, "peephole": 4, "rnn": 1,  # charlm.CELLS: gate blocks per layer (PyTorch's G)
          "gru-cho": 3, "rnn-relu": 1, "clockwork": 1, "tutorial-lstm": 4, "depth-gated": 4}

# ---- reading: every field checked in one place -------------------------------------------------------------------
def _is_int(v: Any) -> bool:
    return isinstance(v, int) and not isinstance(v, bool)


def _is_real(v: Any) -> bool:
    """A finite int or float, not a bool, that float() can hold (JSON has ints of any size: 10**400 is not)."""
    if not isinstance(v, (int, float)) or isinstance(v, bool):
        return False
    try:
        return math.isfinite(v)
    except OverflowError:
        return False


def _positive_int(v: Any) -> bool:
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


def _plain(v: Any) -> bool:
    """None, bool, str, a finite number, or a list/tuple of those: what a hyperparameter may be."""
    if isinstance(v, (list, tuple)):
        return all(_plain(x) for x in v)
    return v is None or isinstance(v, (bool, str)) or _is_real(v)


def _finite_array(v: Any) -> bool:
    return (isinstance(v, np.ndarray) and v.dtype.kind in "biufc"
            and (v.dtype.kind not in "fc" or bool(np.isfinite(v).all())))


def _same(a: Any, b: Any) -> bool:
    """Equal all the way down, ndarrays compared by dtype, shape and value (bit generator states)."""
    if isinstance(a, np.ndarray) or isinstance(b, np.ndarray):
        return (isinstance(a, np.ndarray) and isinstance(b, np.ndarray) and a.dtype == b.dtype
                and a.shape == b.shape and bool((a == b).all()))
    if isinstance(a, dict) and isinstance(b, dict):
        return a.keys() == b.keys() and all(_same(a[k], b[k]) for k in a)
    return type(a) is type(b) and a == b


def _char_model_shapes(config: dict[str, Any], vocab_size: int) -> dict[str, tuple[int, ...]]:
    """CharLM's state_dict shapes (charlm.py, nn's PyTorch layout) for a config; test_checkpoint_crafted checks
    them against real models. O(layers): call it only when the layer count matches the weights'."""
    H, L, G = config["hidden"], config["layers"], _GATES[config["cell"]]
    E = config.get("embedding", min(H, 64))
    shapes: dict[str, tuple[int, ...]] = {"embedding.weight": (vocab_size, E)}
    for k in range(L):
        shapes.update({f"rnn.weight_ih_l{k}": (G * H, E if k == 0 else H), f"rnn.weight_hh_l{k}": (G * H, H),
                       f"rnn.bias_ih_l{k}": (G * H,), f"rnn.bias_hh_l{k}": (G * H,)})
        if config["cell"] == "peephole":
            shapes.update({f"rnn.weight_c{g}_l{k}": (H,) for g in "ifo"})
        if config["cell"] == "depth-gated" and k > 0:      # the depth gate of layers 1, 2, ... (depth_gated.py)
            shapes.update({f"rnn.weight_xd_l{k}": (H, H), f"rnn.weight_cd_l{k}": (H,), f"rnn.weight_ld_l{k}": (H,),
                           f"rnn.bias_d_l{k}": (H,)})
    shapes.update({"decoder.weight": (vocab_size, H), "decoder.bias": (vocab_size,)})
    return shapes


def _char_model_size(config: dict[str, Any], vocab_size: int) -> int:
    """How many numbers CharLM(vocab_size, **config) holds, by arithmetic (hidden 10**7 allocates nothing here)."""
    H, L, G = config["hidden"], config["layers"], _GATES[config["cell"]]
    E = config.get("embedding", min(H, 64))
    per_layer = G * H * (H + 2) + (3 * H if config["cell"] == "peephole" else 0)
    depth_gates = (L - 1) * (H * H + 3 * H) if config["cell"] == "depth-gated" else 0
    return vocab_size * (E + H + 1) + G * H * E + (L - 1) * G * H * H + L * per_layer + depth_gates


def _check_rng_state(path: str, state: Any, expected: type | None = None) -> None:
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


def _check_optimizer(path: str, optim: Any) -> dict[str, Any]:
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


def _shown(value: Any) -> str:
    if isinstance(value, np.ndarray):
        return f"an array of {value.dtype} and shape {value.shape}" + (
            " holding NaN or infinity" if value.dtype.kind in "fc" else "")
    return f"{value!r:.80}"


def _check_char_model(path: str, model: dict[str, np.ndarray], config: dict[str, Any], vocab: Any,
                      rng_state: Any) -> None:
    """The weights of a CharLM (train's checkpoints): the config describes exactly them, with a vocabulary as
    data.Vocabulary keeps it (sorted distinct characters, one per embedding row) and the engine's RNG state."""
    missing = [k for k in _CHAR_MODEL_KEYS if k not in config]
    if missing:
        raise CheckpointError(f"{path}: it holds a character model's weights, but its config lacks {missing}")
    if not (isinstance(vocab, str) and vocab and vocab == "".join(sorted(set(vocab)))):
        raise CheckpointError(f"{path}: vocab: expected the model's characters, sorted and distinct (at least one), "
                              f"but got {vocab!r:.80}")
    dtype, peephole = np.dtype(config["dtype"]), config["cell"] == "peephole"
    arrays = 3 + config["layers"] * (7 if peephole else 4) + (
        4 * (config["layers"] - 1) if config["cell"] == "depth-gated" else 0)
    if len(model) != arrays:                                           # before building a dict per layer
        raise CheckpointError(f"{path}: its weights do not fit its config ({config['layers']} layers of "
                              f"{config['cell']} would have {arrays} arrays; it holds {len(model)})")
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
        from .. import rng
        _check_rng_state(path, rng_state, expected=type(rng.generator.bit_generator))


def _scheduler_value(v: Any, depth: int = 0) -> bool:
    """What an lr scheduler's state_dict holds: None, bools, strs, numbers (inf too: ReduceLROnPlateau's best
    starts there), and lists, tuples and dicts of those (SequentialLR nests its schedulers'; MultiStepLR's
    milestones are a Counter keyed by int)."""
    if depth > 32:
        return False
    if isinstance(v, (list, tuple)):
        return all(_scheduler_value(x, depth + 1) for x in v)
    if isinstance(v, dict):
        return all(_scheduler_value(k, depth + 1) and _scheduler_value(x, depth + 1) for k, x in v.items())
    return v is None or isinstance(v, (bool, str, int, float))


def _check_scheduler(path: str, scheduler: Any) -> None:
    if scheduler is not None and not (isinstance(scheduler, dict) and _scheduler_value(scheduler)):
        raise CheckpointError(f"{path}: scheduler state: expected an lr scheduler's state_dict (a dict of numbers, "
                              f"strings and lists of them), but got {_shown(scheduler)}")


def _validate(path: str, meta: Any, arrays: dict[str, np.ndarray], max_bytes: int) -> dict[str, Any]:
    """The checkpoint load() returns, every field checked (type, range, known values), or CheckpointError.

    Generic for any caller of save(). A character model's checkpoint (CharLM's weights with a vocabulary or a
    cell/hidden/layers config: train's, what sample reads) must moreover have the config, vocabulary and RNG state
    that model needs, its weights' shapes and dtype given by the config; CharLM weights with neither are weights.
    """
    keys = {"model", "optim", "config", "vocab", "step", "rng_state"}
    if not (isinstance(meta, dict) and set(meta) in (keys, keys | {"scheduler"})):   # version 1 had no scheduler
        shown = sorted(meta) if isinstance(meta, dict) else type(meta).__name__
        raise CheckpointError(f"{path} is not a tinygrad_rnn checkpoint (unexpected metadata: {shown})")
    referenced = set()

    def collect(value: Any) -> None:       # every member the metadata names, so none is left unaccounted for
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
    _check_scheduler(path, meta.get("scheduler"))
    char_weights = any(name.startswith(("embedding.", "rnn.", "decoder.")) for name in model)
    if char_weights and (vocab is not None or all(k in config for k in ("cell", "hidden", "layers"))):
        _check_char_model(path, model, config, vocab, rng_state)     # train's, for train --resume and sample
    elif all(k in config for k in ("cell", "hidden", "layers")):
        # weights of something else, so nothing to compare with; but train and sample build the model the config
        # describes: refuse one larger than any checkpoint this loader reads could hold
        itemsize = np.dtype(config.get("dtype", "float64")).itemsize
        size = _char_model_size(config, len(vocab or ""))
        if size * itemsize > max_bytes:
            raise CheckpointError(f"{path}: config describes a model of {size:,} parameters "
                                  f"({size * itemsize / 2**30:,.1f} GiB), more than a checkpoint may hold "
                                  f"({max_bytes / 2**30:g} GiB, checkpoint.MAX_BYTES)")
    collect(meta)
    unreferenced = sorted(name for name in arrays if id(arrays[name]) not in referenced)
    if unreferenced:
        raise CheckpointError(f"{path} is not a tinygrad_rnn checkpoint (member {unreferenced[0]!r} is not part "
                              "of it)")
    return {"model": OrderedDict(model), "optimizer": optimizer, "config": dict(config), "vocab": vocab,
            "step": step, "rng_state": rng_state, "scheduler": meta.get("scheduler")}


