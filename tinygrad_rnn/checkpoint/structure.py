"""Any nesting of tensors, arrays, numbers, strings and containers as JSON that names its tensors, and back: the
structure tinygrad_rnn.save writes to a safetensors file's metadata (and the checkpoints their scheduler state).

Tensors and arrays are taken out under a name made of their place ("model.lstm.weight_ih_l0") and referred to as
{"__tensor__": name} (also "requires_grad", "parameter"), {"__ndarray__": name} or {"__scalar__": name}; an object
met twice is stored once. Tuples, non-finite floats, and dicts whose keys are not all plain strings (an optimiser's
int keys), OrderedDicts and Counters are tagged; a plain dict stays a JSON object. Decoding refuses a malformed tag
with a CheckpointError.
"""
from __future__ import annotations

import math
from collections import Counter, OrderedDict
from typing import Any

import numpy as np

from ..tensor import Tensor
from . import safetensors_file
from .format import CheckpointError

TAGS = ("__tensor__", "__ndarray__", "__scalar__", "__tuple__", "__dict__", "__odict__", "__counter__", "__float__")


class Encoder:
    """Walks an object: tensors and arrays to self.tensors under unique names, the rest to JSON-able values."""

    def __init__(self) -> None:
        self.tensors: dict[str, np.ndarray] = {}
        self.names: dict[int, str] = {}          # id(object) -> its tensor's name: saved once, referred to again
        self.keep: list[Any] = []                # the objects named, alive while ids are compared
        self.active: set[int] = set()            # the containers being walked: a cycle is an error, not a hang

    def tensor_name(self, value: Any, where: str, array: np.ndarray) -> str:
        if id(value) in self.names:
            return self.names[id(value)]
        if safetensors_file.dtype_code(array.dtype) is None:
            raise TypeError(f"save: cannot save the {type(value).__name__} at {where or 'the top'} of dtype "
                            f"{array.dtype}: safetensors stores floats, ints and bools")
        name, n = where or "tensor", 1
        while name in self.tensors:
            n += 1
            name = f"{where or 'tensor'}#{n}"
        self.tensors[name] = array
        self.names[id(value)] = name
        self.keep.append(value)
        return name

    def key(self, key: Any, where: str) -> Any:
        if key is None or isinstance(key, (bool, int, str)):
            return key
        if isinstance(key, float):
            return {"__float__": repr(key)}
        if isinstance(key, tuple):
            return {"__tuple__": [self.key(k, where) for k in key]}
        raise TypeError(f"save: cannot save a dict key of type {type(key).__name__} (at {where or 'the top'}): keys "
                        "may be str, int, float, bool, None or tuples of those")

    def encode(self, value: Any, where: str = "") -> Any:
        from ..nn.module import Parameter

        if isinstance(value, Tensor):
            entry: dict[str, Any] = {"__tensor__": self.tensor_name(value, where, value.data)}
            if value.requires_grad:
                entry["requires_grad"] = True
            if isinstance(value, Parameter):
                entry["parameter"] = True
            return entry
        if isinstance(value, np.ndarray):
            return {"__ndarray__": self.tensor_name(value, where, value)}
        if isinstance(value, np.str_):
            return str(value)
        if isinstance(value, np.generic):
            array = np.asarray(value)
            return {"__scalar__": self.tensor_name(value, where, array)}
        if value is None or isinstance(value, (bool, int, str)):
            return value
        if isinstance(value, float):
            return value if math.isfinite(value) else {"__float__": repr(value)}
        if not isinstance(value, (list, tuple, dict)):
            hint = "; for a Module, save module.state_dict()" if hasattr(value, "state_dict") else ""
            raise TypeError(f"save: cannot save an object of type {type(value).__name__} (at {where or 'the top'}): "
                            f"tinygrad_rnn.save writes tensors, arrays, numbers, strings, None and lists, tuples and "
                            f"dicts of them{hint}")
        if id(value) in self.active:
            raise ValueError(f"save: the {type(value).__name__} at {where or 'the top'} contains itself")
        self.active.add(id(value))
        try:
            def inner(part: Any) -> str:
                return f"{where}.{part}" if where else str(part)
            if isinstance(value, (list, tuple)):
                items = [self.encode(v, inner(i)) for i, v in enumerate(value)]
                return items if isinstance(value, list) else {"__tuple__": items}
            plain = type(value) is dict and all(isinstance(k, str) and k not in TAGS for k in value)
            if plain:
                return {k: self.encode(v, inner(k)) for k, v in value.items()}
            pairs = [[self.key(k, where), self.encode(v, inner(k))] for k, v in value.items()]
            tag = ("__odict__" if isinstance(value, OrderedDict) else "__counter__" if isinstance(value, Counter)
                   else "__dict__")
            return {tag: pairs}
        finally:
            self.active.discard(id(value))


class Decoder:
    """json.loads' object_hook: tagged objects back to tensors, arrays, tuples, dicts; one object per name."""

    def __init__(self, path: str, tensors: dict[str, np.ndarray]) -> None:
        self.path, self.tensors = path, tensors
        self.made: dict[tuple[str, str], Any] = {}
        self.used: set[str] = set()

    def array(self, name: Any) -> np.ndarray:
        if not (isinstance(name, str) and name in self.tensors):
            raise CheckpointError(f"{self.path} is incomplete: tensor {name!r:.80} is missing")
        self.used.add(name)
        return self.tensors[name]

    def __call__(self, obj: dict[str, Any]) -> Any:
        from ..nn.module import Parameter

        tag = next((t for t in TAGS if t in obj), None)
        if tag is None:
            return obj
        value = obj[tag]
        if tag in ("__tensor__", "__ndarray__", "__scalar__"):
            key = (tag, value if isinstance(value, str) else repr(value))
            if key not in self.made:
                array = self.array(value)
                if tag == "__ndarray__":
                    self.made[key] = array
                elif tag == "__scalar__":
                    self.made[key] = array[()] if array.shape == () else array
                else:
                    kind = Parameter if obj.get("parameter") else Tensor
                    self.made[key] = kind(array, requires_grad=bool(obj.get("requires_grad", False)))
            return self.made[key]
        if tag == "__tuple__" and isinstance(value, list):
            return tuple(value)
        if tag == "__float__" and isinstance(value, str):
            try:
                return float(value)
            except ValueError:
                pass
        if tag in ("__dict__", "__odict__", "__counter__") and isinstance(value, list) and all(
                isinstance(p, list) and len(p) == 2 for p in value):
            try:
                pairs = [(k, v) for k, v in value]
                if tag == "__counter__":
                    return Counter(dict(pairs))     # Counter(pairs) would count the pairs themselves
                return OrderedDict(pairs) if tag == "__odict__" else dict(pairs)
            except TypeError:        # an unhashable key: not something save writes
                pass
        raise CheckpointError(f"{self.path} is corrupted (metadata entry {obj!r:.80} is malformed)")
