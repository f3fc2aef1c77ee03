"""More of torch.optim's adaptive optimisers: NAdam, Adamax, Adadelta (its formulas, defaults, state keys and
messages; the single-tensor implementations, as optimizers.py's)."""
from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from .optimizers import Optimizer, _check, _lerp_

if TYPE_CHECKING:
    from typing import Any

    from .._typing import ParamsT


def _check_adam_args(lr: float, betas: tuple[float, float], eps: float, weight_decay: float) -> None:
    _check(lr >= 0.0, f"Invalid learning rate: {lr}")
    _check(eps >= 0.0, f"Invalid epsilon value: {eps}")
    _check(0.0 <= betas[0] < 1.0, f"Invalid beta parameter at index 0: {betas[0]}")
    _check(0.0 <= betas[1] < 1.0, f"Invalid beta parameter at index 1: {betas[1]}")
    _check(weight_decay >= 0.0, f"Invalid weight_decay value: {weight_decay}")


class NAdam(Optimizer):
    """μₜ = β₁(1 − ½·0.96^(tψ)); m, v as Adam's; θ ← θ − lr·[(1−μₜ)/(1−Πμ)·g + μₜ₊₁/(1−Πμ·μₜ₊₁)·m]/(√(v/(1−β₂ᵗ))+ε)"""

    def __init__(self, params: ParamsT, lr: float = 2e-3, betas: tuple[float, float] = (0.9, 0.999),
                 eps: float = 1e-8, weight_decay: float = 0, momentum_decay: float = 4e-3,
                 decoupled_weight_decay: bool = False, *, maximize: bool = False) -> None:
        _check_adam_args(lr, betas, eps, weight_decay)
        _check(momentum_decay >= 0.0, f"Invalid momentum_decay value: {momentum_decay}")
        super().__init__(params, dict(lr=lr, betas=betas, eps=eps, weight_decay=weight_decay,
                                      momentum_decay=momentum_decay, decoupled_weight_decay=decoupled_weight_decay,
                                      maximize=maximize))

    def _init_state(self, param: Any, group: dict[str, Any]) -> Any:
        return {"step": 0, "mu_product": 1.0, "exp_avg": np.zeros_like(param), "exp_avg_sq": np.zeros_like(param)}

    def _update(self, param: Any, grad: Any, state: dict[str, Any], group: dict[str, Any]) -> None:
        (beta1, beta2), lr, wd, psi = group["betas"], group["lr"], group["weight_decay"], group["momentum_decay"]
        state["step"] += 1
        step = state["step"]
        if wd != 0:
            if group["decoupled_weight_decay"]:
                param *= 1 - lr * wd
            else:
                grad = grad + wd * param
        mu = beta1 * (1.0 - 0.5 * 0.96 ** (step * psi))
        mu_next = beta1 * (1.0 - 0.5 * 0.96 ** ((step + 1) * psi))
        # torch keeps the product in a float32 tensor (its scalar-state dtype) and reads it back as a Python float
        state["mu_product"] = float(np.float32(state["mu_product"]) * np.float32(mu))
        mu_product = state["mu_product"]
        exp_avg, exp_avg_sq = state["exp_avg"], state["exp_avg_sq"]
        _lerp_(exp_avg, grad, 1 - beta1)
        exp_avg_sq *= beta2
        exp_avg_sq += (1 - beta2) * grad * grad
        denom = np.sqrt(exp_avg_sq / (1 - beta2 ** step)) + group["eps"]
        param -= lr * (1 - mu) / (1 - mu_product) * grad / denom
        param -= lr * mu_next / (1 - mu_product * mu_next) * exp_avg / denom


class Adamax(Optimizer):
    """m ← β₁m+(1−β₁)g; u ← max(β₂u, |g|+ε); θ ← θ − lr/(1−β₁ᵗ)·m/u (Adam with the infinity norm)."""

    def __init__(self, params: ParamsT, lr: float = 2e-3, betas: tuple[float, float] = (0.9, 0.999),
                 eps: float = 1e-8, weight_decay: float = 0, *, maximize: bool = False) -> None:
        _check_adam_args(lr, betas, eps, weight_decay)
        super().__init__(params, dict(lr=lr, betas=betas, eps=eps, weight_decay=weight_decay, maximize=maximize))

    def _init_state(self, param: Any, group: dict[str, Any]) -> Any:
        return {"step": 0, "exp_avg": np.zeros_like(param), "exp_inf": np.zeros_like(param)}

    def _update(self, param: Any, grad: Any, state: dict[str, Any], group: dict[str, Any]) -> None:
        (beta1, beta2), lr, wd = group["betas"], group["lr"], group["weight_decay"]
        state["step"] += 1
        if wd != 0:
            grad = grad + wd * param
        exp_avg, exp_inf = state["exp_avg"], state["exp_inf"]
        _lerp_(exp_avg, grad, 1 - beta1)
        np.maximum(exp_inf * beta2, np.abs(grad) + group["eps"], out=exp_inf)
        param -= lr / (1 - beta1 ** state["step"]) * exp_avg / exp_inf


class Adadelta(Optimizer):
    """v ← ρv+(1−ρ)g²; Δ = √(u+ε)/√(v+ε)·g; u ← ρu+(1−ρ)Δ²; θ ← θ − lr·Δ."""

    def __init__(self, params: ParamsT, lr: float = 1.0, rho: float = 0.9, eps: float = 1e-6, weight_decay: float = 0,
                 *, maximize: bool = False) -> None:
        _check(lr >= 0.0, f"Invalid learning rate: {lr}")
        _check(0.0 <= rho <= 1.0, f"Invalid rho value: {rho}")
        _check(eps >= 0.0, f"Invalid epsilon value: {eps}")
        _check(weight_decay >= 0.0, f"Invalid weight_decay value: {weight_decay}")
        super().__init__(params, dict(lr=lr, rho=rho, eps=eps, weight_decay=weight_decay, maximize=maximize))

    def _init_state(self, param: Any, group: dict[str, Any]) -> Any:
        return {"step": 0, "square_avg": np.zeros_like(param), "acc_delta": np.zeros_like(param)}

    def _update(self, param: Any, grad: Any, state: dict[str, Any], group: dict[str, Any]) -> None:
        rho, eps, wd = group["rho"], group["eps"], group["weight_decay"]
        state["step"] += 1
        if wd != 0:
            grad = grad + wd * param
        square_avg, acc_delta = state["square_avg"], state["acc_delta"]
        square_avg *= rho
        square_avg += (1 - rho) * grad * grad
        delta = np.sqrt(acc_delta + eps) / np.sqrt(square_avg + eps) * grad
        acc_delta *= rho
        acc_delta += (1 - rho) * delta * delta
        param -= group["lr"] * delta
