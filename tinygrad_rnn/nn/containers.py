"""Sequential (modules applied in order, registered as children "0", "1", ...), ModuleList, ModuleDict, Identity,
Flatten and Dropout."""
from __future__ import annotations

import numbers
from collections import OrderedDict
from collections.abc import Mapping

from ..tensor import Tensor
from .functional import dropout as dropout_fn
from .module import Module
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from typing import Any, Iterator


class Sequential(Module):
    """Sequential(m0, m1, ...) or Sequential(OrderedDict(name=module)): forward feeds each module's output to the
    next. Children are registered under "0", "1", ... (or the dict's names), so state_dict keys match PyTorch's."""

    def __init__(self, *args: Any) -> None:
        super().__init__()
        if len(args) == 1 and isinstance(args[0], OrderedDict):
            items = list(args[0].items())
        else:
            items = [(str(i), m) for i, m in enumerate(args)]
        for name, module in items:
            self._register(name, module)

    def _register(self, name: str, module: Module) -> None:
        if not isinstance(module, Module):
            raise TypeError(f"Sequential: {type(module).__name__} is not a Module subclass (child {name!r})")
        setattr(self, name, module)

    def append(self, module: Module) -> Any:
        """Adds `module` at the end, named by its position."""
        self._register(str(len(self)), module)
        return self

    def __len__(self) -> int:
        return len(self._modules)

    def __iter__(self) -> Iterator[Any]:
        return iter(list(self._modules.values()))

    def __getitem__(self, idx: Any) -> Any:
        if isinstance(idx, slice):
            return Sequential(OrderedDict(list(self._modules.items())[idx]))
        if not isinstance(idx, numbers.Integral) or isinstance(idx, bool):
            raise TypeError(f"Sequential indices must be integers or slices, not {type(idx).__name__}")
        n = len(self)
        if not -n <= idx < n:  # type: ignore[operator]  # numbers.Integral/Real declare no ordering to mypy
            raise IndexError(f"index {idx} is out of range: expected an index in [{-n}, {n - 1}]")
        return list(self._modules.values())[idx]

    def forward(self, input: Tensor) -> Any:
        for module in self:
            input = module(input)
        return input


class Dropout(Module):
    """Inverted dropout in training mode (each element zeroed with probability p, the rest scaled by 1/(1−p), from
    the engine's generator, so `manual_seed` fixes the mask); the identity in eval mode."""

    def __init__(self, p: Any = 0.5) -> None:
        super().__init__()
        if isinstance(p, bool) or not isinstance(p, numbers.Real) or not 0 <= p <= 1:  # type: ignore[operator]  # numbers.Integral/Real declare no ordering to mypy
            raise ValueError(f"Dropout: dropout probability has to be between 0 and 1, but got {p!r}")
        self.p = float(p)

    def forward(self, input: Tensor) -> Any:
        if not isinstance(input, Tensor):
            raise TypeError(f"Dropout: expected input to be a Tensor, but got {type(input).__name__}")
        return dropout_fn(input, self.p, self.training)

    def extra_repr(self) -> str:
        return f"p={self.p}"


def _check_module(module: Module) -> Any:
    if not isinstance(module, Module):
        raise TypeError(f"{type(module).__name__} is not a Module subclass")
    return module


class ModuleList(Module):
    """A list of modules, registered as children "0", "1", ... (so their parameters are the container's, with
    torch's state_dict names); no forward of its own."""

    def __init__(self, modules: Any = None) -> None:
        super().__init__()
        if modules is not None:
            self.extend(modules)

    def _reset(self, modules: Any) -> None:
        """Re-registers `modules` as "0", "1", ... (after a deletion or insertion, as torch renumbers)."""
        for name in list(self._modules):
            self.__delattr__(name)
        for i, module in enumerate(modules):
            setattr(self, str(i), module)

    def _index(self, idx: Any) -> Any:
        if not isinstance(idx, numbers.Integral) or isinstance(idx, bool):
            raise TypeError(f"'{type(idx).__name__}' object cannot be interpreted as an integer")
        n = len(self)
        if not -n <= idx < n:  # type: ignore[operator]  # numbers.Integral/Real declare no ordering to mypy
            raise IndexError(f"index {idx} is out of range")
        return idx % n

    def __getitem__(self, idx: Any) -> Any:
        if isinstance(idx, slice):
            return ModuleList(list(self._modules.values())[idx])
        return self._modules[str(self._index(idx))]

    def __setitem__(self, idx: Any, module: Module) -> None:
        setattr(self, str(self._index(idx)), _check_module(module))

    def __delitem__(self, idx: Any) -> None:
        modules = list(self._modules.values())
        if isinstance(idx, slice):
            del modules[idx]
        else:
            del modules[self._index(idx)]
        self._reset(modules)

    def __len__(self) -> int:
        return len(self._modules)

    def __iter__(self) -> Iterator[Any]:
        return iter(list(self._modules.values()))

    def __iadd__(self, modules: Any) -> Any:
        return self.extend(modules)

    def __add__(self, other: Any) -> Any:
        return ModuleList(list(self) + list(other))

    def append(self, module: Module) -> Any:
        setattr(self, str(len(self)), _check_module(module))
        return self

    def extend(self, modules: Any) -> Any:
        if isinstance(modules, (Module, Mapping)) or not hasattr(modules, "__iter__"):
            raise TypeError("ModuleList.extend should be called with an iterable, but got " + type(modules).__name__)
        for module in modules:
            self.append(module)
        return self

    def insert(self, index: Any, module: Module) -> None:
        modules = list(self._modules.values())
        modules.insert(index, _check_module(module))
        self._reset(modules)

    def pop(self, key: int | slice = -1) -> Any:
        module = self[key]
        del self[key]
        return module


class ModuleDict(Module):
    """An ordered dict of modules, registered as children under their keys; no forward of its own."""

    def __init__(self, modules: Any = None) -> None:
        super().__init__()
        if modules is not None:
            self.update(modules)

    def __getitem__(self, key: str) -> Any:
        return self._modules[key]

    def __setitem__(self, key: str, module: Module) -> None:
        self.add_module(key, _check_module(module))   # "keys", "update", "training": KeyError, as torch

    def __delitem__(self, key: str) -> None:
        self._modules[key]                      # KeyError(key) first, as a dict
        self.__delattr__(key)

    def __len__(self) -> int:
        return len(self._modules)

    def __iter__(self) -> Iterator[Any]:
        return iter(list(self._modules))

    def __contains__(self, key: str) -> bool:
        return key in self._modules

    def keys(self) -> Any:
        return self._modules.keys()

    def items(self) -> Any:
        return self._modules.items()

    def values(self) -> Any:
        return self._modules.values()

    def clear(self) -> None:
        for key in list(self._modules):
            self.__delattr__(key)

    def pop(self, key: str) -> Any:
        module = self[key]
        del self[key]
        return module

    def update(self, modules: Any) -> None:
        if isinstance(modules, (ModuleDict, Mapping)):
            for key, module in modules.items():
                self[key] = module
            return
        for j, item in enumerate(modules):
            if not hasattr(item, "__len__") or len(item) != 2:
                raise ValueError(f"ModuleDict update sequence element #{j} has length "
                                 f"{len(item) if hasattr(item, '__len__') else 'unknown'}; 2 is required")
            self[item[0]] = item[1]


class Identity(Module):
    """forward(input) = input; any constructor arguments are ignored, as torch's."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__()

    def forward(self, input: Tensor) -> Any:
        return input


class Flatten(Module):
    """Flattens dims start_dim..end_dim into one (a reshape on the tape): (N, C, L) -> (N, C·L) by default."""

    def __init__(self, start_dim: int = 1, end_dim: int = -1) -> None:
        super().__init__()
        self.start_dim, self.end_dim = start_dim, end_dim

    def forward(self, input: Tensor) -> Any:
        shape = input.shape
        if len(shape) == 0:
            return input.reshape(1)
        start, end = self.start_dim % len(shape), self.end_dim % len(shape)
        if start > end:
            raise RuntimeError("flatten() has invalid args: start_dim cannot come after end_dim")
        size = 1
        for s in shape[start:end + 1]:
            size *= s
        return input.reshape(*shape[:start], size, *shape[end + 1:])

    def extra_repr(self) -> str:
        return f"start_dim={self.start_dim}, end_dim={self.end_dim}"
