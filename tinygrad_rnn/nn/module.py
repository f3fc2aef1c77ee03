"""Module and Parameter: the containers that hold weights, with PyTorch's names, state_dict and repr.

A Module registers the Parameters, buffers and Modules assigned to it, in assignment order (each also stays a
plain attribute). Buffers (`register_buffer`) are Tensors that are state but not weights (running statistics, masks):
in `state_dict()` after the module's own parameters unless `persistent=False`, cast by `to(dtype)`/`float()`/
`double()`, never returned by `parameters()`. A plain list or tuple of Modules assigned as an attribute is not
registered (as in torch), and gets a UserWarning pointing to nn.ModuleList (torch is silent there).
"""
from __future__ import annotations

import numbers
import warnings
from collections import OrderedDict, namedtuple

import numpy as np

from ..dtypes import _DTYPES, _FLOATS
from ..inplace import writing
from . import hooks as _hooks
from ..tensor import Tensor, _Device
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from typing import Any, Callable, Iterator

    from typing_extensions import Self  # mypy's bundled stubs: typing.Self is 3.11+
    from .._typing import DTypeLike


class Parameter(Tensor):
    """A Tensor that a Module registers as a weight: requires_grad=True unless told otherwise."""

    __slots__ = ()

    def __init__(self, data: Any, requires_grad: bool = True, dtype: DTypeLike = None) -> None:
        super().__init__(data, requires_grad=requires_grad, dtype=dtype)

    def __repr__(self) -> str:
        return "Parameter containing:\n" + super().__repr__()


def _as_array(value: Any) -> Any:
    """A state_dict value as an ndarray: a Tensor's data, a torch tensor's (on the CPU), an ndarray or a number;
    None for anything else."""
    if isinstance(value, Tensor):
        return value.data
    if hasattr(value, "detach") and hasattr(value, "cpu"):  # a torch.Tensor, without importing torch
        return value.detach().cpu().numpy()
    if isinstance(value, (np.ndarray, np.generic, numbers.Number)):
        return np.asarray(value)
    return None


def _size(shape: Any) -> str:
    """A shape as torch prints it in its messages: torch.Size([3, 4])."""
    return f"torch.Size({list(shape)})"


class IncompatibleKeys(namedtuple("IncompatibleKeys", ["missing_keys", "unexpected_keys"])):
    """What load_state_dict returns, as torch's: (missing_keys, unexpected_keys)."""

    __slots__ = ()

    def __repr__(self) -> str:
        if not self.missing_keys and not self.unexpected_keys:
            return "<All keys matched successfully>"
        return f"_IncompatibleKeys(missing_keys={self.missing_keys!r}, unexpected_keys={self.unexpected_keys!r})"

    __str__ = __repr__


class Module:
    """Base class of layers: attributes that are Parameters or Modules are registered in assignment order."""

    _parameters: OrderedDict[str, Parameter | None]
    _buffers: OrderedDict[str, Tensor | None]
    _non_persistent_buffers_set: set[str]
    _modules: OrderedDict[str, Module | None]
    training: bool

    if TYPE_CHECKING:  # registered parameters, buffers and submodules are attributes (torch's stubs say the same)
        def __getattr__(self, name: str) -> Any: ...

    def __init__(self) -> None:
        object.__setattr__(self, "_parameters", OrderedDict())
        object.__setattr__(self, "_buffers", OrderedDict())
        object.__setattr__(self, "_non_persistent_buffers_set", set())
        object.__setattr__(self, "_modules", OrderedDict())
        object.__setattr__(self, "training", True)

    def __setattr__(self, name: str, value: Any) -> None:
        if "_parameters" not in self.__dict__:
            raise AttributeError(f"cannot assign '{name}' before Module.__init__() call")
        buffers = self.__dict__.get("_buffers", {})
        if isinstance(value, Parameter):
            self._forget(name)
            self._parameters[name] = value
        elif isinstance(value, Module):
            self._forget(name)
            self._modules[name] = value
        elif name in self._parameters:
            if value is not None:
                raise TypeError(f"cannot assign '{type(value).__name__}' as parameter '{name}' "
                                f"(nn.Parameter or None expected)")
            self._parameters[name] = None
        elif name in buffers:
            if value is not None and not isinstance(value, Tensor):
                raise TypeError(f"cannot assign '{type(value).__name__}' as buffer '{name}' "
                                f"(torch.Tensor or None expected)")
            buffers[name] = value
        else:
            if name in self._modules:
                if value is not None:
                    raise TypeError(f"cannot assign '{type(value).__name__}' as child module '{name}' "
                                    f"(torch.nn.Module or None expected)")
                self._modules[name] = None
            elif (isinstance(value, (list, tuple)) and value
                  and all(isinstance(v, Module) for v in value)):
                warnings.warn(f"{type(self).__name__}.{name} is a {type(value).__name__} of Modules: they are not "
                              f"registered (their parameters are not in parameters() or state_dict(), and train()/"
                              f"eval()/to() skip them); use nn.ModuleList to register them", UserWarning,
                              stacklevel=2)
        object.__setattr__(self, name, value)

    def _forget(self, name: str) -> None:
        """A name reassigned to a Parameter or Module leaves the registry it was in (as torch's remove_from)."""
        for registry in (self._parameters, self.__dict__.get("_buffers", {}), self._modules):
            registry.pop(name, None)
        self.__dict__.get("_non_persistent_buffers_set", set()).discard(name)

    def __delattr__(self, name: str) -> None:
        for registry in (self._parameters, self.__dict__.get("_buffers", {}), self._modules):
            registry.pop(name, None)
        self.__dict__.get("_non_persistent_buffers_set", set()).discard(name)
        object.__delattr__(self, name)

    def register_buffer(self, name: str, tensor: Tensor | None, persistent: bool = True) -> None:
        """Registers `tensor` (a Tensor, or None) as state that is not a parameter: in state_dict() when
        `persistent`, cast with the module, not optimised."""
        if "_buffers" not in self.__dict__:
            raise AttributeError("cannot assign buffer before Module.__init__() call")
        if not isinstance(name, str):
            raise TypeError(f"buffer name should be a string. Got {type(name).__name__}")
        if "." in name:
            raise KeyError('buffer name can\'t contain "."')
        if name == "":
            raise KeyError('buffer name can\'t be empty string ""')
        if name in self.__dict__ and name not in self._buffers:
            raise KeyError(f"attribute '{name}' already exists")
        if tensor is not None and not isinstance(tensor, Tensor):
            raise TypeError(f"cannot assign '{type(tensor).__name__}' object to buffer '{name}' "
                            f"(torch Tensor or None required)")
        self._buffers[name] = tensor
        if persistent:
            self._non_persistent_buffers_set.discard(name)
        else:
            self._non_persistent_buffers_set.add(name)
        object.__setattr__(self, name, tensor)

    def add_module(self, name: str, module: Module | None) -> None:
        """Registers `module` (or None) as the child `name`, with torch's checks and messages."""
        if not isinstance(module, Module) and module is not None:
            raise TypeError(f"{type(module).__name__} is not a Module subclass")
        if not isinstance(name, str):
            raise TypeError(f"module name should be a string. Got {type(name).__name__}")
        if hasattr(self, name) and name not in self._modules:
            raise KeyError(f"attribute '{name}' already exists")
        if "." in name:
            raise KeyError(f'module name can\'t contain ".", got: {name}')
        if name == "":
            raise KeyError('module name can\'t be empty string ""')
        self._modules[name] = module
        object.__setattr__(self, name, module)

    register_module = add_module

    def get_submodule(self, target: str) -> Module:
        """The module at dotted path `target` ("" is self), or AttributeError naming the step that fails."""
        if target == "":
            return self
        module = self
        for item in target.split("."):
            if not hasattr(module, item):
                raise AttributeError(type(module).__name__ + " has no attribute `" + item + "`")
            module = getattr(module, item)
            if not isinstance(module, Module):
                raise AttributeError("`" + item + "` is not an nn.Module")
        return module

    def register_parameter(self, name: str, param: Parameter | None) -> None:
        """Registers `param` (or None, for an absent optional weight such as a bias) under `name`."""
        self._parameters[name] = param
        object.__setattr__(self, name, param)

    def forward(self, *args: Any, **kwargs: Any) -> Any:
        raise NotImplementedError(f"Module [{type(self).__name__}] is missing the required \"forward\" function")

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        pre_hooks, hooks = self.__dict__.get("_forward_pre_hooks"), self.__dict__.get("_forward_hooks")
        if not (pre_hooks or hooks):
            return self.forward(*args, **kwargs)
        return _hooks.call(self, self.forward, args, kwargs, pre_hooks or {}, hooks or {})

    def register_forward_pre_hook(self, hook: Callable[..., Any], *, prepend: bool = False,
                                  with_kwargs: bool = False) -> _hooks.ModuleHookHandle:
        """hook(module, args) runs before forward; a non-None return replaces args (a tuple, or one value)."""
        registry = self.__dict__.setdefault("_forward_pre_hooks", {})
        return _hooks.add(registry, hook, prepend, with_kwargs)

    def register_forward_hook(self, hook: Callable[..., Any], *, prepend: bool = False,
                              with_kwargs: bool = False) -> _hooks.ModuleHookHandle:
        """hook(module, args, output) runs after forward; a non-None return replaces the output."""
        registry = self.__dict__.setdefault("_forward_hooks", {})
        return _hooks.add(registry, hook, prepend, with_kwargs)

    # ---- traversal ----------------------------------------------------------------------------------------
    def named_children(self) -> Iterator[tuple[str, Module]]:
        return ((name, m) for name, m in self._modules.items() if m is not None)

    def children(self) -> Iterator[Module]:
        return (m for _, m in self.named_children())

    def named_modules(self, memo: set[Any] | None = None, prefix: str = "", remove_duplicate: bool = True
    ) -> Iterator[tuple[str, Module]]:
        """(name, module) for this module and every descendant, depth first in registration order; a module
        reachable twice is listed once unless remove_duplicate=False (torch's signature)."""
        memo = set() if memo is None else memo
        stack = [(prefix, self)]
        while stack:
            name, module = stack.pop()
            if remove_duplicate:
                if id(module) in memo:
                    continue
                memo.add(id(module))
            yield name, module
            for child_name, child in reversed(list(module._modules.items())):
                if child is not None:
                    stack.append((f"{name}.{child_name}" if name else child_name, child))

    def modules(self) -> Iterator[Module]:
        return (m for _, m in self.named_modules())

    def named_buffers(self, prefix: str = "", recurse: bool = True, remove_duplicate: bool = True
    ) -> Iterator[tuple[str, Tensor]]:
        seen = set()
        modules = (self.named_modules(prefix=prefix, remove_duplicate=remove_duplicate) if recurse
                   else [(prefix, self)])
        for module_name, module in modules:
            for name, b in module._buffers.items():
                if b is not None and (not remove_duplicate or id(b) not in seen):
                    seen.add(id(b))
                    yield (f"{module_name}.{name}" if module_name else name), b

    def buffers(self, recurse: bool = True) -> Iterator[Tensor]:
        return (b for _, b in self.named_buffers(recurse=recurse))

    def apply(self, fn: Callable[[Module], object]) -> Self:
        """fn(module) for every child (recursively), then for this module, as torch; returns self."""
        for module in self.children():
            module.apply(fn)
        fn(self)
        return self

    def named_parameters(self, prefix: str = "", recurse: bool = True, remove_duplicate: bool = True
    ) -> Iterator[tuple[str, Parameter]]:
        seen = set()
        modules = (self.named_modules(prefix=prefix, remove_duplicate=remove_duplicate) if recurse
                   else [(prefix, self)])
        for module_name, module in modules:
            for name, p in module._parameters.items():
                if p is not None and (not remove_duplicate or id(p) not in seen):
                    seen.add(id(p))
                    yield (f"{module_name}.{name}" if module_name else name), p

    def parameters(self, recurse: bool = True) -> Iterator[Parameter]:
        return (p for _, p in self.named_parameters(recurse=recurse))

    # ---- modes and grads ----------------------------------------------------------------------------------
    def train(self, mode: bool = True) -> Self:
        for m in self.modules():
            object.__setattr__(m, "training", bool(mode))
        return self

    def eval(self) -> Self:
        return self.train(False)

    def zero_grad(self, set_to_none: bool = True) -> None:
        for p in self.parameters():
            if set_to_none or p.grad is None:
                p.grad = None
            else:
                p.grad[...] = 0

    def requires_grad_(self, requires_grad: bool = True) -> Self:
        """Sets requires_grad of every parameter (freezing with False); returns self."""
        for p in self.parameters():
            p.requires_grad_(requires_grad)
        return self

    def _cast(self, dtype: Any) -> Self:
        for p in self.parameters():
            p.data = p.data.astype(dtype)
            p.grad = None if p.grad is None else p.grad.astype(dtype)
        for b in self.buffers():  # floating buffers, as torch (this engine's Tensors are all floating)
            b.data = b.data.astype(dtype)
        return self

    def double(self) -> Self:
        return self._cast(np.float64)

    def float(self) -> Self:
        return self._cast(np.float32)

    def cpu(self) -> Self:
        """A no-op (the CPU is the only device); returns self."""
        return self

    def to(self, *args: Any, **kwargs: Any) -> Self:
        """to(dtype), to("cpu"), to(device, dtype), to(dtype=..., device=...): casts parameters and buffers to
        float32 or float64; the CPU is the only device (any other is a RuntimeError). Returns self."""
        device, dtype = kwargs.pop("device", None), kwargs.pop("dtype", None)
        kwargs.pop("non_blocking", None)
        if kwargs:
            raise TypeError(f"to() received an invalid combination of arguments: unexpected {sorted(kwargs)}")
        for arg in args:
            if isinstance(arg, (str, _Device)):
                device = arg
            else:
                dtype = arg
        if device is not None and str(device).split(":")[0] != "cpu":
            raise RuntimeError(f"tinygrad_rnn runs on the CPU only: cannot move a module to device {str(device)!r}")
        if dtype is None:
            return self
        try:
            dt = np.dtype(dtype)
        except TypeError:
            dt = None
        if dt is None or dt.kind != "f":
            raise TypeError(f"nn.Module.to only accepts floating point or complex dtypes, but got desired "
                            f"dtype={dtype if dt is None else dt}")
        if dt not in (np.dtype(np.float32), np.dtype(np.float64)):
            raise TypeError(f"nn.Module.to: this engine computes in float32 and float64 only, but got {dtype}")
        return self._cast(dt)

    # ---- state_dict ---------------------------------------------------------------------------------------
    def _named_state(self) -> Iterator[Any]:
        """(name, tensor) of state_dict(): per module (depth first), its parameters then its persistent buffers."""
        seen = set()
        for module_name, module in self.named_modules():
            entries = list(module._parameters.items()) + [
                (n, b) for n, b in module._buffers.items() if n not in module._non_persistent_buffers_set]
            for name, t in entries:
                if t is not None and id(t) not in seen:
                    seen.add(id(t))
                    yield (f"{module_name}.{name}" if module_name else name), t

    def state_dict(self, *args: Any, destination: Any = None, prefix: str = "", keep_vars: bool = False) -> Any:
        """An OrderedDict name -> Tensor of every parameter and persistent buffer, with PyTorch's names: detached
        tensors sharing memory with the module's (sd[name].zero_() zeros the weight, as in torch; clone() or save
        them to keep a snapshot), or the Parameters themselves with keep_vars=True. `destination` (a dict filled
        and returned) and `prefix` (put before every name) are torch's, positional or by keyword."""
        if args:  # torch's deprecated positional form: state_dict(destination, prefix, keep_vars)
            if len(args) > 3:
                raise TypeError(f"state_dict() takes from 1 to 4 positional arguments but {len(args) + 1} were given")
            destination, prefix, keep_vars = (args + (destination, prefix, keep_vars)[len(args):])[:3]
            warnings.warn("Positional args are being deprecated, use kwargs instead. Refer to "
                          "https://pytorch.org/docs/main/generated/torch.nn.Module.html#torch.nn.Module.state_dict"
                          " for details.", FutureWarning, stacklevel=2)
        if destination is None:
            destination = OrderedDict()
        for name, t in self._named_state():
            destination[prefix + name] = t if keep_vars else t.detach()
        return destination

    def load_state_dict(self, state_dict: Any, strict: bool = True, assign: bool = False) -> Any:
        """Copies the values of `state_dict` (Tensors, ndarrays or torch tensors; cast to each weight's dtype) into
        the parameters and persistent buffers in place, all or nothing: with strict=True a missing or unexpected
        key is an error, a size mismatch always is (torch's messages). assign=True makes each weight hold the
        checkpoint's array itself (shared, its dtype kept) instead. Returns (missing_keys, unexpected_keys)."""
        from collections.abc import Mapping
        if not isinstance(state_dict, Mapping):
            raise TypeError(f"Expected state_dict to be dict-like, got {type(state_dict)}.")
        own = dict(self._named_state())
        missing = [k for k in own if k not in state_dict]
        unexpected = [k for k in state_dict if k not in own]
        errors, arrays = [], {}
        for name, p in own.items():
            if name not in state_dict:
                continue
            value = _as_array(state_dict[name])
            if value is None:
                errors.append(f'While copying the parameter named "{name}", expected torch.Tensor or Tensor-like '
                              f"object from checkpoint but received {type(state_dict[name])}")
                continue
            if p.data.ndim == 0 and value.ndim == 1 and value.shape[0] == 1:
                value = value.reshape(())  # torch's backward compatibility: a 0-dim parameter, 1-dim checkpoint
            if value.shape != p.data.shape:
                errors.append(f"size mismatch for {name}: copying a param with shape {_size(value.shape)} from "
                              f"checkpoint, the shape in current model is {_size(p.data.shape)}.")
            elif value.dtype.kind not in "biuf":
                errors.append(f"dtype mismatch for {name}: expected numbers, got {value.dtype}.")
            elif assign and (p.data.dtype.kind == "f") and value.dtype not in _FLOATS:
                why = ("Only Tensors of floating point and complex dtype can require gradients" if
                       value.dtype.kind != "f" else "this engine computes in float32 and float64 only")
                errors.append(f'While copying the parameter named "{name}", whose dimensions in the model are '
                              f"{_size(p.data.shape)} and whose dimensions in the checkpoint are "
                              f"{_size(value.shape)}, an exception occurred : ('{why}',).")
            arrays[name] = value
        if strict:  # torch puts these first: missing, then unexpected, then the size mismatches
            if unexpected:
                errors.insert(0, "Unexpected key(s) in state_dict: " + ", ".join(f'"{k}"' for k in unexpected)
                              + ". ")
            if missing:
                errors.insert(0, "Missing key(s) in state_dict: " + ", ".join(f'"{k}"' for k in missing) + ". ")
        if errors:
            raise RuntimeError(f"Error(s) in loading state_dict for {type(self).__name__}:\n\t" + "\n\t".join(errors))
        for name, value in arrays.items():
            target = own[name]
            if assign:  # the checkpoint's array itself (its dtype too), as torch's assign=True; grad is reset
                if not (value.flags.writeable and value.dtype.isnative and value.dtype in _DTYPES):
                    value = np.array(value, dtype=value.dtype.newbyteorder("="))
                target.data, target.grad = value, None
            else:       # (its own state_dict loaded back is a write too, as torch's copy_)
                with writing(target):
                    target.data[...] = value
        return IncompatibleKeys(missing, unexpected)

    # ---- repr ---------------------------------------------------------------------------------------------
    def extra_repr(self) -> str:
        return ""

    def __repr__(self) -> str:
        lines = [f"({name}): " + repr(m).replace("\n", "\n  ") for name, m in self._modules.items()]
        head = f"{type(self).__name__}({self.extra_repr()}"
        if not lines:
            return head + ")"
        return head + "\n  " + "\n  ".join(lines) + "\n)"
