"""gradcheck: the tape's gradients against central finite differences, in float64."""
from __future__ import annotations

import numpy as np

from .grad_mode import enable_grad, no_grad
from .tensor import Tensor
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from typing import Any, Callable


class GradcheckError(RuntimeError):
    """Raised when an analytic gradient disagrees with its finite-difference estimate."""


def _outputs(result: Any) -> Any:
    outs = result if isinstance(result, (tuple, list)) else (result,)
    return [o for o in outs if isinstance(o, Tensor) and o.data.dtype.kind == "f"]   # integer outputs (indices)
                                                                                    # carry no gradient


def gradcheck(fn: Callable[..., Any], inputs: Any, eps: float = 1e-6, atol: float = 1e-5, rtol: float = 1e-3,
              raise_exception: bool = True, seed: int = 0) -> Any:
    """Checks ∂L/∂x = (L(x+ε) − L(x−ε)) / 2ε for every element of every input that requires grad.

    L = Σ_k ⟨w_k, out_k⟩ with fixed random weights w_k over all outputs of `fn(*inputs)`: a random
    vector-Jacobian product, as PyTorch's fast mode, so one backward and two forwards per input element.
    Returns True, or raises GradcheckError naming the input, element, analytic and numeric values.
    """
    inputs = tuple(inputs) if isinstance(inputs, (tuple, list)) else (inputs,)
    for k, t in enumerate(inputs):
        if isinstance(t, Tensor) and t.requires_grad and t.dtype != np.float64:
            raise TypeError(f"gradcheck: input {k} is {t.dtype}; finite differences need float64 (use .double())")
    checked = [k for k, t in enumerate(inputs) if isinstance(t, Tensor) and t.requires_grad]
    if not checked:
        raise ValueError("gradcheck: expected at least one input Tensor with requires_grad=True")
    rng = np.random.default_rng(seed)
    weights = [rng.standard_normal(o.shape) for o in _outputs(fn(*inputs))]

    def objective() -> Any:
        with no_grad():
            return sum(float(np.sum(o.data * w)) for o, w in zip(_outputs(fn(*inputs)), weights))

    saved_grads = [inputs[k].grad for k in checked]
    for k in checked:
        inputs[k].grad = None
    with enable_grad():
        loss = sum((o * Tensor(w, dtype=o.dtype)).sum() for o, w in zip(_outputs(fn(*inputs)), weights))
        if isinstance(loss, Tensor) and loss.requires_grad:
            loss.backward()
    analytic = [inputs[k].grad if inputs[k].grad is not None else np.zeros_like(inputs[k].data) for k in checked]
    for k, g in zip(checked, saved_grads):
        inputs[k].grad = g

    for k, grad in zip(checked, analytic):
        t = inputs[k]
        if not (t.data.flags.writeable and t.data.flags.c_contiguous):
            t.data = np.array(t.data, order="C")
        flat = t.data.reshape(-1)  # a view: perturbations reach fn through t
        for i in range(flat.size):
            orig = flat[i]
            flat[i] = orig + eps
            plus = objective()
            flat[i] = orig - eps
            minus = objective()
            flat[i] = orig
            numeric = (plus - minus) / (2 * eps)
            a = grad.reshape(-1)[i]
            if not abs(a - numeric) <= atol + rtol * abs(numeric):
                idx = np.unravel_index(i, t.shape) if t.ndim else ()
                msg = (f"gradcheck: gradient mismatch for input {k} at index {tuple(int(j) for j in idx)}: "
                       f"analytic {a:.10g}, numerical {numeric:.10g} (atol={atol}, rtol={rtol})")
                if raise_exception:
                    raise GradcheckError(msg)
                return False
    return True
