"""Sequential (modules applied in order, registered as children "0", "1", ...) and Dropout."""
import numbers
from collections import OrderedDict

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
