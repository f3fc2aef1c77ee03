"""Sequential (modules applied in order, registered as children "0", "1", ...), ModuleList, ModuleDict, Identity,
Flatten and Dropout."""
import numbers
from collections import OrderedDict
from collections.abc import Mapping

from ..tensor import Tensor
from .functional import dropout as dropout_fn
from .module import Module


class Sequential(Module):
    """Sequential(m0, m1, ...) or Sequential(OrderedDict(name=module)): forward feeds each module's output to the
    next. Children are registered under "0", "1", ... (or the dict's names), so state_dict keys match PyTorch's."""

    def __init__(self, *args):
        super().__init__()
        if len(args) == 1 and isinstance(args[0], OrderedDict):
            items = list(args[0].items())
        else:
            items = [(str(i), m) for i, m in enumerate(args)]
        for name, module in items:
            self._register(name, module)

    def _register(self, name, module):
        if not isinstance(module, Module):
            raise TypeError(f"Sequential: {type(module).__name__} is not a Module subclass (child {name!r})")
        setattr(self, name, module)

    def append(self, module):
        """Adds `module` at the end, named by its position."""
        self._register(str(len(self)), module)
        return self

    def __len__(self):
        return len(self._modules)

    def __iter__(self):
        return iter(list(self._modules.values()))

    def __getitem__(self, idx):
        if isinstance(idx, slice):
            return Sequential(OrderedDict(list(self._modules.items())[idx]))
        if not isinstance(idx, numbers.Integral) or isinstance(idx, bool):
            raise TypeError(f"Sequential indices must be integers or slices, not {type(idx).__name__}")
        n = len(self)
        if not -n <= idx < n:
            raise IndexError(f"index {idx} is out of range: expected an index in [{-n}, {n - 1}]")
        return list(self._modules.values())[idx]

    def forward(self, input):
        for module in self:
            input = module(input)
        return input


class Dropout(Module):
    """Inverted dropout in training mode (each element zeroed with probability p, the rest scaled by 1/(1−p), from
    the engine's generator, so `manual_seed` fixes the mask); the identity in eval mode."""

    def __init__(self, p=0.5):
        super().__init__()
        if isinstance(p, bool) or not isinstance(p, numbers.Real) or not 0 <= p <= 1:
            raise ValueError(f"Dropout: dropout probability has to be between 0 and 1, but got {p!r}")
        self.p = float(p)

    def forward(self, input):
        if not isinstance(input, Tensor):
            raise TypeError(f"Dropout: expected input to be a Tensor, but got {type(input).__name__}")
        return dropout_fn(input, self.p, self.training)

    def extra_repr(self):
        return f"p={self.p}"


def _check_module(module):
    if not isinstance(module, Module):
        raise TypeError(f"{type(module).__name__} is not a Module subclass")
    return module


class ModuleList(Module):
    """A list of modules, registered as children "0", "1", ... (so their parameters are the container's, with
    torch's state_dict names); no forward of its own."""

    def __init__(self, modules=None):
        super().__init__()
        if modules is not None:
            self.extend(modules)

    def _reset(self, modules):
        """Re-registers `modules` as "0", "1", ... (after a deletion or insertion, as torch renumbers)."""
        for name in list(self._modules):
            self.__delattr__(name)
        for i, module in enumerate(modules):
            setattr(self, str(i), module)

    def _index(self, idx):
        if not isinstance(idx, numbers.Integral) or isinstance(idx, bool):
            raise TypeError(f"'{type(idx).__name__}' object cannot be interpreted as an integer")
        n = len(self)
        if not -n <= idx < n:
            raise IndexError(f"index {idx} is out of range")
        return idx % n

    def __getitem__(self, idx):
        if isinstance(idx, slice):
            return ModuleList(list(self._modules.values())[idx])
        return self._modules[str(self._index(idx))]

    def __setitem__(self, idx, module):
        setattr(self, str(self._index(idx)), _check_module(module))

    def __delitem__(self, idx):
        modules = list(self._modules.values())
        if isinstance(idx, slice):
            del modules[idx]
        else:
            del modules[self._index(idx)]
        self._reset(modules)

    def __len__(self):
        return len(self._modules)

    def __iter__(self):
        return iter(list(self._modules.values()))

    def __iadd__(self, modules):
        return self.extend(modules)

    def __add__(self, other):
        return ModuleList(list(self) + list(other))

    def append(self, module):
        setattr(self, str(len(self)), _check_module(module))
        return self

    def extend(self, modules):
        if isinstance(modules, (Module, Mapping)) or not hasattr(modules, "__iter__"):
            raise TypeError("ModuleList.extend should be called with an iterable, but got " + type(modules).__name__)
        for module in modules:
            self.append(module)
        return self

    def insert(self, index, module):
        modules = list(self._modules.values())
        modules.insert(index, _check_module(module))
        self._reset(modules)

    def pop(self, key=-1):
        module = self[key]
        del self[key]
        return module


class ModuleDict(Module):
    """An ordered dict of modules, registered as children under their keys; no forward of its own."""

    def __init__(self, modules=None):
        super().__init__()
        if modules is not None:
            self.update(modules)

    def __getitem__(self, key):
        return self._modules[key]

    def __setitem__(self, key, module):
        self.add_module(key, _check_module(module))   # "keys", "update", "training": KeyError, as torch

    def __delitem__(self, key):
        self._modules[key]                      # KeyError(key) first, as a dict
        self.__delattr__(key)

    def __len__(self):
        return len(self._modules)

    def __iter__(self):
        return iter(list(self._modules))

    def __contains__(self, key):
        return key in self._modules

    def keys(self):
        return self._modules.keys()

    def items(self):
        return self._modules.items()

    def values(self):
        return self._modules.values()

    def clear(self):
        for key in list(self._modules):
            self.__delattr__(key)

    def pop(self, key):
        module = self[key]
        del self[key]
        return module

    def update(self, modules):
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

    def __init__(self, *args, **kwargs):
        super().__init__()

    def forward(self, input):
        return input


class Flatten(Module):
    """Flattens dims start_dim..end_dim into one (a reshape on the tape): (N, C, L) -> (N, C·L) by default."""

    def __init__(self, start_dim=1, end_dim=-1):
        super().__init__()
        self.start_dim, self.end_dim = start_dim, end_dim

    def forward(self, input):
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

    def extra_repr(self):
        return f"start_dim={self.start_dim}, end_dim={self.end_dim}"
