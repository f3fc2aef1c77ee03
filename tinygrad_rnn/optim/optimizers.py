"""Optimisers and gradient clipping with torch.optim's names, defaults, state keys and update formulas.

Each optimiser follows PyTorch's single-tensor (foreach=False) implementation; `step()` updates `p.data` in place,
in the parameter's dtype, and skips parameters whose `.grad` is None. State lives in `optimizer.state[p]` as
ndarrays (and an int "step"); `state_dict()` / `load_state_dict()` use PyTorch's layout with integer indices.
`maximize=True` (all five, as torch) negates the gradient first. A parameter listed twice in a group gets torch
2.13's UserWarning and, as there, is updated twice per step.
"""
from __future__ import annotations

import copy
import warnings

import numpy as np

from .. import grad_mode, inplace
from ..backend import calls
from ..nn.module import _as_array
from ..tensor import Tensor
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from typing import Any, Callable

    from .._typing import ParamsT

__all__ = ["Adagrad", "Adam", "AdamW", "Optimizer", "RMSprop", "SGD", "clip_grad_norm_", "clip_grad_value_"]


def _check(ok: Any, message: str) -> None:
    if not ok:
        raise ValueError(message)


def _lerp_(a: Any, b: Any, weight: Any) -> None:
    """a ← a + weight·(b − a) in place, evaluated as torch's CPU lerp does."""
    if abs(weight) < 0.5:
        a += weight * (b - a)
    else:
        a[...] = b - (b - a) * (1 - weight)


_OPTIONAL = {"maximize": False}
_SCALAR_STATE = {"mu_product"}   # NAdam's running product of momentum coefficients: a number, as "step" is


class Optimizer:
    """Base class: parameter groups (dicts of "params" plus hyperparameters), per-parameter state, step()."""

    def __init__(self, params: ParamsT, defaults: dict[str, Any]) -> None:
        if isinstance(params, Tensor):
            raise TypeError("params argument given to the optimizer should be an iterable of Tensors or dicts, "
                            "but got " + type(params).__name__)
        self.state: dict[Any, dict[str, Any]] = {}
        self.param_groups: list[dict[str, Any]] = []
        self.defaults = defaults
        groups: list[Any] = list(params)
        if not groups:
            raise ValueError("optimizer got an empty parameter list")
        for group in groups if isinstance(groups[0], dict) else [{"params": groups}]:
            self.add_param_group(group)

    def add_param_group(self, param_group: dict[str, Any]) -> None:
        """Adds a group; hyperparameters it does not name take the optimiser's defaults."""
        if not isinstance(param_group, dict):
            raise TypeError(f"param_group must be a dict, but got {type(param_group)}")
        params = param_group["params"]
        if isinstance(params, set):
            raise TypeError("optimizer parameters need to be organized in ordered collections, but the ordering "
                            "of tensors in sets will change between runs. Please use a list instead.")
        params = [params] if isinstance(params, Tensor) else list(params)
        for p in params:
            if not isinstance(p, Tensor):
                raise TypeError("optimizer can only optimize Tensors, but one of the params is "
                                + type(p).__name__)
            if not p.is_leaf:
                raise ValueError("can't optimize a non-leaf Tensor")
        group = {**param_group, "params": params}
        for name, default in self.defaults.items():
            group.setdefault(name, default)
        if len({id(p) for p in params}) != len(params):  # torch 2.13 warns, keeps both and updates twice
            warnings.warn("optimizer contains a parameter group with duplicate parameters; in future, this will "
                          "cause an error; see github.com/pytorch/pytorch/issues/40967 for more information",
                          UserWarning, stacklevel=3)
        seen = {id(p) for g in self.param_groups for p in g["params"]}
        if any(id(p) in seen for p in params):
            raise ValueError("some parameters appear in more than one parameter group")
        self.param_groups.append(group)

    def _params(self) -> Any:
        return (p for group in self.param_groups for p in group["params"])

    def zero_grad(self, set_to_none: bool = True) -> None:
        for p in self._params():
            if p.grad is not None and set_to_none:
                p.grad = None
            elif p.grad is not None:
                p.grad[...] = 0

    def step(self, closure: Callable[[], Any] | None = None) -> Any:
        """One update of every parameter that has a gradient; returns closure() (evaluated first) if given."""
        loss = None
        if closure is not None:
            with grad_mode.enable_grad():
                loss = closure()
        for group in self.param_groups:
            for p in group["params"]:
                if p.grad is not None:
                    grad = np.asarray(p.grad, dtype=p.data.dtype)
                    if grad.shape != p.data.shape:
                        raise ValueError(f"grad of shape {grad.shape} for a parameter of shape {p.data.shape}")
                    if group.get("maximize"):   # as torch: the gradient is negated first, before weight decay
                        grad = -grad
                    state = self.state.setdefault(p, {})
                    state.update({} if state else self._init_state(p.data, group))
                    with inplace.writing(p):     # counted: a graph that saved p.data refuses backward
                        self._update(p.data, grad, state, group)
        return loss

    def _init_state(self, param: Any, group: dict[str, Any]) -> Any:
        """The state a parameter starts with, before its first step."""
        return {}

    def _update(self, param: Any, grad: Any, state: Any, group: dict[str, Any]) -> None:
        raise NotImplementedError

    # ---- state_dict -----------------------------------------------------------------------------------------
    def state_dict(self) -> dict[str, Any]:
        """{"state": {index: {key: ndarray copy or int}}, "param_groups": [{hyperparameters, "params": [index]}]}."""
        index = {id(p): i for i, p in enumerate(self._params())}  # as torch: one listed twice keeps its last index
        groups = [{**{k: v for k, v in g.items() if k != "params"}, "params": [index[id(p)] for p in g["params"]]}
                  for g in self.param_groups]
        state = {index[id(p)]: {k: v.copy() if isinstance(v, np.ndarray) else v for k, v in s.items()}
                 for p, s in self.state.items() if s and id(p) in index}
        return {"state": dict(sorted(state.items())), "param_groups": groups}

    def load_state_dict(self, state_dict: dict[str, Any]) -> None:
        """Loads a state_dict() of the same optimiser layout (copies); ValueError naming what does not match."""
        saved = copy.deepcopy(state_dict["param_groups"])
        if len(saved) != len(self.param_groups):
            raise ValueError(f"loaded state dict has a different number of parameter groups: expected "
                             f"{len(self.param_groups)} (this optimizer), received {len(saved)}")
        id_map: dict[int, Any] = {}
        for i, (group, new) in enumerate(zip(self.param_groups, saved)):
            if len(new["params"]) != len(group["params"]):
                raise ValueError(f"loaded state dict contains a parameter group that doesn't match the size of "
                                 f"optimizer's group: group {i} expected {len(group['params'])} parameters, "
                                 f"received {len(new['params'])}")
            for k in _OPTIONAL:  # state_dicts saved before the option existed load with torch's default
                if k in self.defaults:
                    new.setdefault(k, _OPTIONAL[k])
            missing = [k for k in self.defaults if k not in new]
            if missing:
                raise ValueError(f"loaded parameter group {i} lacks hyperparameter(s) {missing}")
            id_map.update(zip(new["params"], group["params"]))
        state: dict[Any, Any] = {}
        for key, values in state_dict["state"].items():
            if key not in id_map:
                raise ValueError(f"loaded state dict has state for parameter {key!r}, which no loaded parameter "
                                 f"group lists (groups list {sorted(id_map)})")
            p, state[id_map[key]] = id_map[key], {}
            for name, value in values.items():
                value = _as_array(value)
                if name == "step":
                    state[p][name] = int(value)
                elif name in _SCALAR_STATE:
                    state[p][name] = float(value)
                elif value.shape != p.data.shape:
                    raise ValueError(f"loaded state dict does not match parameter {key}: state {name!r} has shape "
                                     f"{value.shape}, expected {p.data.shape} (the parameter's shape)")
                else:
                    state[p][name] = value.astype(p.data.dtype, copy=True)
        for group, new in zip(self.param_groups, saved):
            new["params"] = group["params"]
        self.state, self.param_groups = state, saved

    def __repr__(self) -> str:
        lines = [type(self).__name__ + " ("]
        for i, group in enumerate(self.param_groups):
            lines.append(f"Parameter Group {i}")
            lines += [f"    {k}: {group[k]}" for k in sorted(group) if k != "params"]
        return "\n".join(lines) + "\n)"


class SGD(Optimizer):
    """g ← ∇ + λθ; b ← μb + (1−τ)g (b₁ = g); g ← g + μb (nesterov) or b; θ ← θ − lr·g."""

    def __init__(self, params: ParamsT, lr: float = 1e-3, momentum: float = 0, dampening: float = 0,
                 weight_decay: float = 0, nesterov: bool = False, *, maximize: bool = False) -> None:
        _check(lr >= 0.0, f"Invalid learning rate: {lr}")
        _check(momentum >= 0.0, f"Invalid momentum value: {momentum}")
        _check(weight_decay >= 0.0, f"Invalid weight_decay value: {weight_decay}")
        _check(not nesterov or (momentum > 0 and dampening == 0),
               "Nesterov momentum requires a momentum and zero dampening")
        super().__init__(params, dict(lr=lr, momentum=momentum, dampening=dampening, weight_decay=weight_decay,
                                      nesterov=nesterov, maximize=maximize))

    def step(self, closure: Callable[[], Any] | None = None) -> Any:
        # buffers made in this step: as torch reads them all before updating any, a parameter listed twice starts a
        # new one at its second occurrence too
        self._fresh: set[int] = set()
        return super().step(closure)

    def _update(self, param: Any, grad: Any, state: Any, group: dict[str, Any]) -> None:
        momentum = group["momentum"]
        if group["weight_decay"] != 0:
            grad = grad + group["weight_decay"] * param
        if momentum != 0:
            buf = state.get("momentum_buffer")
            if buf is None or id(param) in self._fresh:
                buf = state["momentum_buffer"] = np.array(grad, copy=True)  # 0-d stays an array
                self._fresh.add(id(param))
            else:
                buf *= momentum
                buf += (1 - group["dampening"]) * grad
            grad = grad + momentum * buf if group["nesterov"] else buf
        param -= group["lr"] * grad


class Adam(Optimizer):
    """m ← β₁m+(1−β₁)g; v ← β₂v+(1−β₂)g²; u = v or (amsgrad) max of v so far; θ ← θ − lr/(1−β₁ᵗ)·m/(√u/√(1−β₂ᵗ)+ε)."""

    def __init__(self, params: ParamsT, lr: float = 1e-3, betas: tuple[float, float] = (0.9, 0.999), eps: float = 1e-8,
                 weight_decay: float = 0, amsgrad: bool = False, *, maximize: bool = False,
                 decoupled_weight_decay: bool = False) -> None:
        _check(lr >= 0.0, f"Invalid learning rate: {lr}")
        _check(eps >= 0.0, f"Invalid epsilon value: {eps}")
        _check(0.0 <= betas[0] < 1.0, f"Invalid beta parameter at index 0: {betas[0]}")
        _check(0.0 <= betas[1] < 1.0, f"Invalid beta parameter at index 1: {betas[1]}")
        _check(weight_decay >= 0.0, f"Invalid weight_decay value: {weight_decay}")
        super().__init__(params, dict(lr=lr, betas=betas, eps=eps, weight_decay=weight_decay, amsgrad=amsgrad,
                                      maximize=maximize, decoupled_weight_decay=decoupled_weight_decay))

    def _init_state(self, param: Any, group: dict[str, Any]) -> Any:
        zeros = ("exp_avg", "exp_avg_sq") + (("max_exp_avg_sq",) if group["amsgrad"] else ())
        return {"step": 0, **{key: np.zeros_like(param) for key in zeros}}

    def _update(self, param: Any, grad: Any, state: Any, group: dict[str, Any]) -> None:
        (beta1, beta2), lr, wd = group["betas"], group["lr"], group["weight_decay"]
        state["step"] += 1
        step_size = lr / (1 - beta1 ** state["step"])
        bias_correction2_sqrt = (1 - beta2 ** state["step"]) ** 0.5
        # the same update in one pass when the kernels are built: bitwise the NumPy code below, a char-LM step's 11
        # parameters in 0.09 ms against 0.41 (float64: 0.22 against 2.39); a large parameter split across the
        # OpenMP threads allowed (the step's Adam 0.19 → 0.08 ms at 2 threads, after a backward left it out of cache)
        if calls.optimizer_step("adam_step", param, grad, state["exp_avg"], state["exp_avg_sq"],
                                state["max_exp_avg_sq"] if group["amsgrad"] else None,
                                group["decoupled_weight_decay"], lr, wd, beta1, beta2, step_size,
                                bias_correction2_sqrt, group["eps"]):
            return
        if wd != 0:
            if group["decoupled_weight_decay"]:
                param *= 1 - lr * wd
            else:
                grad = grad + wd * param
        exp_avg, exp_avg_sq = state["exp_avg"], state["exp_avg_sq"]
        _lerp_(exp_avg, grad, 1 - beta1)
        exp_avg_sq *= beta2
        exp_avg_sq += (1 - beta2) * grad * grad
        if group["amsgrad"]:
            exp_avg_sq = np.maximum(state["max_exp_avg_sq"], exp_avg_sq, out=state["max_exp_avg_sq"])
        denom = np.sqrt(exp_avg_sq) / bias_correction2_sqrt + group["eps"]
        param -= step_size * exp_avg / denom


class AdamW(Adam):
    """θ ← θ(1 − lr·λ), then Adam's step without weight decay in the gradient (decoupled weight decay)."""

    def __init__(self, params: ParamsT, lr: float = 1e-3, betas: tuple[float, float] = (0.9, 0.999), eps: float = 1e-8,
                 weight_decay: float = 1e-2, amsgrad: bool = False, *, maximize: bool = False) -> None:
        super().__init__(params, lr, betas, eps, weight_decay, amsgrad, maximize=maximize,
                         decoupled_weight_decay=True)


class Adagrad(Optimizer):
    """g ← ∇ + λθ; s ← s + g²; θ ← θ − lr/(1 + (t−1)·lr_decay) · g / (√s + ε)."""

    def __init__(self, params: ParamsT, lr: float = 1e-2, lr_decay: float = 0, weight_decay: float = 0,
                 initial_accumulator_value: float = 0, eps: float = 1e-10, *, maximize: bool = False) -> None:
        _check(lr >= 0.0, f"Invalid learning rate: {lr}")
        _check(lr_decay >= 0.0, f"Invalid lr_decay value: {lr_decay}")
        _check(weight_decay >= 0.0, f"Invalid weight_decay value: {weight_decay}")
        _check(initial_accumulator_value >= 0.0,
               f"Invalid initial_accumulator_value value: {initial_accumulator_value}")
        _check(eps >= 0.0, f"Invalid epsilon value: {eps}")
        super().__init__(params, dict(lr=lr, lr_decay=lr_decay, eps=eps, weight_decay=weight_decay,
                                      initial_accumulator_value=initial_accumulator_value, maximize=maximize))
        for group in self.param_groups:  # as torch: the state exists from construction on
            for p in group["params"]:
                self.state[p] = self._init_state(p.data, group)

    def _init_state(self, param: Any, group: dict[str, Any]) -> Any:
        return {"step": 0, "sum": np.full_like(param, group["initial_accumulator_value"])}

    def _update(self, param: Any, grad: Any, state: Any, group: dict[str, Any]) -> None:
        state["step"] += 1
        if group["weight_decay"] != 0:
            grad = grad + group["weight_decay"] * param
        clr = group["lr"] / (1 + (state["step"] - 1) * group["lr_decay"])
        state["sum"] += grad * grad
        param -= clr * grad / (np.sqrt(state["sum"]) + group["eps"])


class RMSprop(Optimizer):
    """v ← αv+(1−α)g²; a = √(v−ḡ²) (centered: ḡ ← αḡ+(1−α)g) or √v, +ε; b ← μb + g/a; θ ← θ − lr·(b or g/a)."""

    def __init__(self, params: ParamsT, lr: float = 1e-2, alpha: float = 0.99, eps: float = 1e-8,
                 weight_decay: float = 0, momentum: float = 0, centered: bool = False, *, maximize: bool = False
                 ) -> None:
        _check(lr >= 0.0, f"Invalid learning rate: {lr}")
        _check(eps >= 0.0, f"Invalid epsilon value: {eps}")
        _check(momentum >= 0.0, f"Invalid momentum value: {momentum}")
        _check(weight_decay >= 0.0, f"Invalid weight_decay value: {weight_decay}")
        _check(alpha >= 0.0, f"Invalid alpha value: {alpha}")
        super().__init__(params, dict(lr=lr, momentum=momentum, alpha=alpha, eps=eps, centered=centered,
                                      weight_decay=weight_decay, maximize=maximize))

    def _init_state(self, param: Any, group: dict[str, Any]) -> Any:
        zeros = ("square_avg",) + (("momentum_buffer",) if group["momentum"] > 0 else ()) + (
            ("grad_avg",) if group["centered"] else ())
        return {"step": 0, **{key: np.zeros_like(param) for key in zeros}}

    def _update(self, param: Any, grad: Any, state: Any, group: dict[str, Any]) -> None:
        alpha, momentum = group["alpha"], group["momentum"]
        state["step"] += 1
        if group["weight_decay"] != 0:
            grad = grad + group["weight_decay"] * param
        square_avg = state["square_avg"]
        square_avg *= alpha
        square_avg += (1 - alpha) * grad * grad
        if group["centered"]:
            _lerp_(state["grad_avg"], grad, 1 - alpha)
            avg = np.sqrt(square_avg - state["grad_avg"] * state["grad_avg"])
        else:
            avg = np.sqrt(square_avg)
        avg += group["eps"]
        if momentum > 0:
            buf = state["momentum_buffer"]
            buf *= momentum
            buf += grad / avg
            param -= group["lr"] * buf
        else:
            param -= group["lr"] * grad / avg


# ---- gradient clipping: torch.nn.utils's, which live in nn/utils/clip_grad.py (optim.clip_grad_norm_ stays an
# import path, as it always was here) -----------------------------------------------------------------------
from ..nn.utils.clip_grad import clip_grad_norm_, clip_grad_value_  # noqa: E402,F401
