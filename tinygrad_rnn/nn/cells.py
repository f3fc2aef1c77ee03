"""Single-step cells with PyTorch's names and layout: RNNCell, LSTMCell, PeepholeLSTMCell, GRUCell."""
from __future__ import annotations

from ..factories import zeros
from ..tensor import _float_dtype
from . import init
from .checks import check_choice, check_hx_tuple, check_input, check_size, check_state
from .module import Module, Parameter
from .recurrences import (GATE_ACTIVATIONS, GRUChoRecurrence, GRURecurrence, LSTMRecurrence,
                          PeepholeLSTMRecurrence, RNNRecurrence)
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from typing import Any
    from .._typing import DTypeLike
    from ..tensor import Tensor


def set_forget_bias(weights: Any, hidden_size: int, forget_bias: float | None) -> None:
    """Starts the forget gate (rows H:2H of an i,f,g,o layout) at `forget_bias`, split as b_ih = value, b_hh = 0."""
    if forget_bias is not None and weights["bias_ih"] is not None:
        weights["bias_ih"][hidden_size:2 * hidden_size] = forget_bias
        weights["bias_hh"][hidden_size:2 * hidden_size] = 0.0


class RNNCellBase(Module):
    """Holds weight_ih (G·H, I), weight_hh (G·H, H), bias_ih, bias_hh (G·H,), initialised U(±1/√H)."""

    peephole = False

    def __init__(self, input_size: int, hidden_size: int, bias: bool = True, recurrence: Any = None,
                 forget_bias: float | None = None, dtype: DTypeLike = None) -> None:
        super().__init__()
        owner = type(self).__name__
        check_size(owner, "input_size", input_size)
        check_size(owner, "hidden_size", hidden_size)
        self.input_size, self.hidden_size, self.bias = input_size, hidden_size, bool(bias)
        self.recurrence = recurrence
        weights = init.recurrent_weights(input_size, hidden_size, recurrence.n_gates, bias, _float_dtype(dtype),
                                         self.peephole)
        if recurrence.has_cell_state:
            set_forget_bias(weights, hidden_size, forget_bias)
        for name, value in weights.items():
            self.register_parameter(name, None if value is None else Parameter(value))

    def weights(self) -> Any:
        return {name: p for name, p in self._parameters.items()}

    def forward(self, input: Tensor, hx: Any = None) -> Any:
        """One step: h' (or (h', c') for LSTMs) from input (B, I) or (I,) and the state (zeros when hx is None)."""
        return self._step(input, hx, self.weights())

    def _step(self, input: Any, hx: Any, weights: Any, **context: Any) -> Any:
        """forward with given weights; `context` goes to the recurrence's step (the time index, the lower c_t)."""
        owner = type(self).__name__
        dtype = self.weight_ih.dtype
        check_input(owner, input, self.input_size, dtype, (1, 2))
        batched = input.ndim == 2
        x = input if batched else input.reshape(1, -1)
        shape = (x.shape[0], self.hidden_size)
        states = self._states(hx, batched)
        for k, s in enumerate(states):
            if s is None:
                states[k] = zeros(*shape, dtype=dtype)
            else:
                check_state(owner, f"hx[{k}]" if len(states) > 1 else "hx", s, shape, dtype)
        rec = self.recurrence
        state = tuple(states) if rec.has_cell_state else states[0]
        new, _ = rec.step(rec.project(x, weights), state, rec.prepare(weights), **context)
        if batched:
            return new
        return tuple(s.reshape(-1) for s in new) if rec.has_cell_state else new.reshape(-1)

    def _states(self, hx: Any, batched: bool) -> Any:
        n = 2 if self.recurrence.has_cell_state else 1
        if hx is None:
            return [None] * n
        if n == 2:
            check_hx_tuple(type(self).__name__, hx, batched, rank=2 if batched else 1)
        states = list(hx) if n == 2 else [hx]
        if not batched:
            states = [s if s is None or s.ndim != 1 else s.reshape(1, -1) for s in states]
        return states

    def extra_repr(self) -> str:
        s = f"{self.input_size}, {self.hidden_size}"
        if not self.bias:
            s += ", bias=False"
        if getattr(self.recurrence, "act", "sigmoid") != "sigmoid" and not isinstance(self.recurrence, RNNRecurrence):
            s += f", gate_activation={self.recurrence.act!r}"
        if not self.recurrence.fused:
            s += ", fused=False"
        return s


class RNNCell(RNNCellBase):
    """h' = act(W_ih x + b_ih + W_hh h + b_hh), act tanh or relu."""

    def __init__(self, input_size: int, hidden_size: int, bias: bool = True, nonlinearity: str = "tanh",
                 fused: bool = True, dtype: DTypeLike = None) -> None:
        check_choice("RNNCell", "nonlinearity", nonlinearity, ("tanh", "relu"))
        super().__init__(input_size, hidden_size, bias, RNNRecurrence(nonlinearity, fused), dtype=dtype)


class LSTMCell(RNNCellBase):
    """(h', c') from the i,f,g,o gates: c' = f⊙c + i⊙g, h' = o⊙tanh(c')."""

    def __init__(self, input_size: int, hidden_size: int, bias: bool = True, gate_activation: str = "sigmoid",
                 forget_bias: float | None = None, fused: bool = True, dtype: DTypeLike = None) -> None:
        check_choice("LSTMCell", "gate_activation", gate_activation, GATE_ACTIVATIONS)
        super().__init__(input_size, hidden_size, bias, LSTMRecurrence(gate_activation, fused), forget_bias, dtype)


class PeepholeLSTMCell(RNNCellBase):
    """LSTMCell with diagonal peepholes weight_ci, weight_cf (on c) and weight_co (on c'), each (H,)."""

    peephole = True

    def __init__(self, input_size: int, hidden_size: int, bias: bool = True, gate_activation: str = "sigmoid",
                 forget_bias: float | None = None, fused: bool = True, dtype: DTypeLike = None) -> None:
        check_choice("PeepholeLSTMCell", "gate_activation", gate_activation, GATE_ACTIVATIONS)
        super().__init__(input_size, hidden_size, bias, PeepholeLSTMRecurrence(gate_activation, fused), forget_bias,
                         dtype)


class GRUCell(RNNCellBase):
    """h' = (1−z)⊙n + z⊙h with gates r,z,n; reset_after=True is PyTorch's form, False is Cho et al. 2014's."""

    def __init__(self, input_size: int, hidden_size: int, bias: bool = True, reset_after: bool = True,
                 gate_activation: str = "sigmoid", fused: bool = True, dtype: DTypeLike = None) -> None:
        check_choice("GRUCell", "gate_activation", gate_activation, GATE_ACTIVATIONS)
        recurrence = (GRURecurrence if reset_after else GRUChoRecurrence)(gate_activation, fused)
        super().__init__(input_size, hidden_size, bias, recurrence, dtype=dtype)
        self.reset_after = bool(reset_after)

    def extra_repr(self) -> str:
        return super().extra_repr() + ("" if self.reset_after else ", reset_after=False")
