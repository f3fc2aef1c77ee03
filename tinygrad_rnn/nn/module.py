"""Module and Parameter: the containers that hold weights, with PyTorch's names, state_dict and repr."""
from collections import OrderedDict

import numpy as np

from ..inplace import writing
from ..tensor import Tensor


class Parameter(Tensor):
    """A Tensor that a Module registers as a weight: requires_grad=True unless told otherwise."""

    __slots__ = ()

    def __init__(self, data, requires_grad=True, dtype=None):
        super().__init__(data, requires_grad=requires_grad, dtype=dtype)

    def __repr__(self):
        return "Parameter containing:\n" + super().__repr__()


def _as_array(value):
    """state_dict values may be ndarrays, Tensors or torch tensors."""
    if isinstance(value, Tensor):
        return value.data
    if hasattr(value, "detach") and hasattr(value, "cpu"):  # a torch.Tensor, without importing torch
        return value.detach().cpu().numpy()
    return np.asarray(value)


class Module:
    """Base class of layers: attributes that are Parameters or Modules are registered in assignment order."""

    def __init__(self):
        object.__setattr__(self, "_parameters", OrderedDict())
        object.__setattr__(self, "_modules", OrderedDict())
        object.__setattr__(self, "training", True)

    def __setattr__(self, name, value):
        if "_parameters" not in self.__dict__:
            raise AttributeError(f"cannot assign '{name}' before Module.__init__() call")
        if isinstance(value, Parameter):
            self._parameters[name] = value
        elif isinstance(value, Module):
            self._modules[name] = value
        elif name in self._parameters:
            if value is not None:
                raise TypeError(f"cannot assign '{type(value).__name__}' as parameter '{name}' "
                                f"(nn.Parameter or None expected)")
            self._parameters[name] = None
        object.__setattr__(self, name, value)

    def register_parameter(self, name, param):
        """Registers `param` (or None, for an absent optional weight such as a bias) under `name`."""
        self._parameters[name] = param
        object.__setattr__(self, name, param)

    def forward(self, *args, **kwargs):
        raise NotImplementedError(f"Module [{type(self).__name__}] is missing the required \"forward\" function")

    def __call__(self, *args, **kwargs):
        return self.forward(*args, **kwargs)

    # ---- traversal ----------------------------------------------------------------------------------------
    def named_children(self):
        return iter(self._modules.items())

    def children(self):
        return (m for _, m in self.named_children())

    def named_modules(self, prefix=""):
        stack = [(prefix, self)]
        while stack:
            name, module = stack.pop()
            yield name, module
            for child_name, child in reversed(list(module._modules.items())):
                stack.append((f"{name}.{child_name}" if name else child_name, child))

    def modules(self):
        return (m for _, m in self.named_modules())

    def named_parameters(self, prefix="", recurse=True):
        seen = set()
        modules = self.named_modules(prefix) if recurse else [(prefix, self)]
        for module_name, module in modules:
            for name, p in module._parameters.items():
                if p is not None and id(p) not in seen:
                    seen.add(id(p))
                    yield (f"{module_name}.{name}" if module_name else name), p

    def parameters(self, recurse=True):
        return (p for _, p in self.named_parameters(recurse=recurse))

    # ---- modes and grads ----------------------------------------------------------------------------------
    def train(self, mode=True):
        for m in self.modules():
            object.__setattr__(m, "training", bool(mode))
        return self

    def eval(self):
        return self.train(False)

    def zero_grad(self, set_to_none=True):
        for p in self.parameters():
            if set_to_none or p.grad is None:
                p.grad = None
            else:
                p.grad[...] = 0

    def _cast(self, dtype):
        for p in self.parameters():
            p.data = p.data.astype(dtype)
            p.grad = None if p.grad is None else p.grad.astype(dtype)
        return self

    def double(self):
        return self._cast(np.float64)

    def float(self):
        return self._cast(np.float32)

    # ---- state_dict ---------------------------------------------------------------------------------------
    def state_dict(self):
        """An ordered name -> ndarray copy of every parameter, with PyTorch's names."""
        return OrderedDict((name, p.data.copy()) for name, p in self.named_parameters())

    def load_state_dict(self, state_dict, strict=True):
        """Copies values into the parameters in place; strict checking names missing/unexpected keys and sizes."""
        own = dict(self.named_parameters())
        missing = [k for k in own if k not in state_dict]
        unexpected = [k for k in state_dict if k not in own]
        errors = []
        if strict and unexpected:
            errors.append("Unexpected key(s) in state_dict: " + ", ".join(f'"{k}"' for k in unexpected) + ". ")
        if strict and missing:
            errors.append("Missing key(s) in state_dict: " + ", ".join(f'"{k}"' for k in missing) + ". ")
        arrays = {}
        for name, p in own.items():
            if name in state_dict:
                value = _as_array(state_dict[name])
                if value.shape != p.data.shape:
                    errors.append(f"size mismatch for {name}: copying a param with shape {value.shape} from "
                                  f"checkpoint, the shape in current model is {p.data.shape}.")
                elif value.dtype.kind not in "biuf":
                    errors.append(f"dtype mismatch for {name}: expected numbers, got {value.dtype}.")
                arrays[name] = value
        if errors:
            raise RuntimeError(f"Error(s) in loading state_dict for {type(self).__name__}:\n\t" + "\n\t".join(errors))
        for name, value in arrays.items():
            with writing(own[name]):
                own[name].data[...] = value
        return missing, unexpected

    # ---- repr ---------------------------------------------------------------------------------------------
    def extra_repr(self):
        return ""

    def __repr__(self):
        lines = [f"({name}): " + repr(m).replace("\n", "\n  ") for name, m in self._modules.items()]
        head = f"{type(self).__name__}({self.extra_repr()}"
        if not lines:
            return head + ")"
        return head + "\n  " + "\n  ".join(lines) + "\n)"
