"""The depth-gated LSTM, written only with tape ops (no kernel of its own): a Recurrence (project / prepare / step)
driven by the same sequence-layer driver as the other cells (RNNBase: lengths, stacking, initial state,
batch_first, dropout), plus a single-step cell.

Depth-gated LSTM (Yao, Cohn, Vylomova, Duh & Dyer 2015, "Depth-Gated LSTM", arXiv:1508.03790)
-----------------------------------------------------------------------------------------------
A stacked LSTM whose memory cells are linked across layers: layer L's cell receives layer L−1's cell c^{L−1}_t of
the same time step through a depth gate d. With x_t the layer's input (x_t itself in layer 0, h^{L−1}_t above),
h' = h^L_{t−1}, c' = c^L_{t−1}, σ the gate activation (sigmoid, or hard_sigmoid) and gate order i, f, g, o:

    i, f, g, o = σ(a_i), σ(a_f), tanh(a_g), σ(a_o),   a = W_ih x_t + b_ih + W_hh h' + b_hh   (as nn.LSTM)
    d          = σ(W_xd x_t + w_cd ⊙ c' + w_ld ⊙ c^{L−1}_t + b_d)                            (layers L ≥ 1)
    c^L_t      = f ⊙ c' + i ⊙ g + d ⊙ c^{L−1}_t                                               (layers L ≥ 1)
    c^0_t      = f ⊙ c' + i ⊙ g                                       (layer 0: no lower cell, no d term)
    h^L_t      = o ⊙ tanh(c^L_t)

w_cd and w_ld are diagonal (vectors of size H), W_xd is (H, layer input). These are the paper's depth gate and
cell update (its eqs. for d^{L+1}_t and c^{L+1}_t); the paper's i, f, o gates also carry peephole terms
(W_ci c', W_cf c', W_co c_t), which are left out here so that with d ≡ 0 the layer *is* nn.LSTM (PyTorch's LSTM).
Parameters per layer k: weight_ih_l{k}, weight_hh_l{k}, bias_ih_l{k}, bias_hh_l{k} (nn.LSTM's), and for k ≥ 1
weight_xd_l{k} (H, I_k), weight_cd_l{k} (H,), weight_ld_l{k} (H,), bias_d_l{k} (H,), all initialised U(±1/√H).
Bidirectional stacks pair directions: layer L's forward cells get layer L−1's forward c_t, reverse gets reverse.
"""
from __future__ import annotations

import numpy as np

from ..tensor import _float_dtype, cat
from . import init
from .cells import RNNCellBase
from .checks import check_choice, check_state
from .layers import RNNBase
from .module import Parameter
from .recurrences import GATE_ACTIVATIONS, LSTMRecurrence, _folded_bias, _linear, takes_sequences
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from typing import Any
    from .._typing import DTypeLike
    from ..tensor import Tensor


DEPTH_GATE_WEIGHTS = ("weight_xd", "weight_cd", "weight_ld", "bias_d")


class DepthGatedLSTMRecurrence(LSTMRecurrence):
    """LSTM step plus the depth gate, in primitive ops only: d = σ(W_xd x + w_cd⊙c' + w_ld⊙c_lower + b_d),
    c = f⊙c' + i⊙g + d⊙c_lower. Trace gates: i, f, g, o (4H), and d (5H in all) in layers that have a lower cell."""

    step_context = ("lower_c",)

    def __init__(self, gate_activation: str = "sigmoid") -> None:
        super().__init__(gate_activation, fused=True)  # fused: the input projection is one LinearAct GEMM

    @takes_sequences
    def project(self, x: Any, p: Any) -> Any:
        """[W_ih x + b_ih + b_hh ; W_xd x + b_d] (4H + H columns) in one GEMM; W_ih x + b alone in layer 0."""
        if p.get("weight_xd") is None:
            return super().project(x, p)
        bias = _folded_bias(p)
        bias = None if bias is None else cat([bias, p["bias_d"]], dim=0)
        return _linear(x, cat([p["weight_ih"], p["weight_xd"]], dim=0), bias, self.fused)

    def prepare(self, p: Any) -> Any:
        return p["weight_hh"], p.get("weight_cd"), p.get("weight_ld")

    def step(self, xp: Any, state: Any, prepared: Any, return_gates: bool = False, lower_c: Any = None) -> Any:
        h, c_prev = state
        w_hh, w_cd, w_ld = prepared
        hidden = h.shape[1]
        if lower_c is None:
            a = xp
        else:
            a, zd = xp.split([4 * hidden, hidden], dim=1)
        zi, zf, zg, zo = (a + h @ w_hh.T).chunk(4, dim=1)
        i, f, g, o = self.gate(zi), self.gate(zf), zg.tanh(), self.gate(zo)
        c = f * c_prev + i * g
        gates = [i, f, g, o]
        if lower_c is not None:
            d = self.gate(zd + w_cd * c_prev + w_ld * lower_c)  # the depth gate
            c = c + d * lower_c
            gates.append(d)
        h = o * c.tanh()
        return (h, c), (cat(gates, dim=1) if return_gates else None)


def _check_gates(owner: str, gate_activation: str) -> None:
    check_choice(owner, "gate_activation", gate_activation, GATE_ACTIVATIONS)


def _depth_gate_weights(input_size: int, hidden_size: int, bias: bool, dtype: Any) -> Any:
    bound = 1.0 / np.sqrt(hidden_size)
    weights = {"weight_xd": init.uniform((hidden_size, input_size), bound, dtype),
               "weight_cd": init.uniform((hidden_size,), bound, dtype),
               "weight_ld": init.uniform((hidden_size,), bound, dtype),
               "bias_d": init.uniform((hidden_size,), bound, dtype) if bias else None}
    return weights


class DepthGatedLSTMCell(RNNCellBase):
    """One depth-gated LSTM step: (h', c') from x, (h, c) and the lower layer's c_lower (this step's).
    Without c_lower it is an LSTMCell (the d term is absent). Parameters: LSTMCell's weight_ih (4H, I),
    weight_hh (4H, H), bias_ih, bias_hh (4H,), and weight_xd (H, I), weight_cd, weight_ld, bias_d (H,)."""

    def __init__(self, input_size: int, hidden_size: int, bias: bool = True, gate_activation: str = "sigmoid",
                 forget_bias: float | None = None, dtype: DTypeLike = None) -> None:
        _check_gates("DepthGatedLSTMCell", gate_activation)
        super().__init__(input_size, hidden_size, bias, DepthGatedLSTMRecurrence(gate_activation), forget_bias,
                         dtype)
        for name, value in _depth_gate_weights(input_size, hidden_size, bias, _float_dtype(dtype)).items():
            self.register_parameter(name, None if value is None else Parameter(value))

    def forward(self, input: Tensor, hx: Any = None, c_lower: Any = None) -> Any:
        weights = self.weights()
        if c_lower is None:
            weights = {k: v for k, v in weights.items() if k not in DEPTH_GATE_WEIGHTS}
        else:
            shape = (self.hidden_size,) if input.ndim == 1 else (input.shape[0], self.hidden_size)
            check_state(type(self).__name__, "c_lower", c_lower, shape, self.weight_ih.dtype)
            if input.ndim == 1:
                c_lower = c_lower.reshape(1, -1)
        return self._step(input, hx, weights, lower_c=c_lower)


class DepthGatedLSTM(RNNBase):
    """Stacked depth-gated LSTM (Yao et al. 2015); returns output, (h_n, c_n) as nn.LSTM. Layer k ≥ 1 has the
    depth-gate parameters weight_xd_l{k}, weight_cd_l{k}, weight_ld_l{k}, bias_d_l{k} on top of nn.LSTM's; with
    num_layers=1 it is an LSTM. return_gates traces hold i, f, g, o (and d in layers ≥ 1) and c."""

    def __init__(self, input_size: int, hidden_size: int, num_layers: int = 1, bias: bool = True,
                 batch_first: bool = False, dropout: float = 0.0, bidirectional: bool = False,
                 gate_activation: str = "sigmoid", forget_bias: float | None = None, dtype: DTypeLike = None,
                 checkpoint_every: int | None = None) -> None:
        _check_gates("DepthGatedLSTM", gate_activation)
        super().__init__(DepthGatedLSTMRecurrence(gate_activation), input_size, hidden_size, num_layers, bias,
                         batch_first, dropout, bidirectional, forget_bias, dtype, checkpoint_every=checkpoint_every)

    def _layer_weights(self, layer: int, layer_input: Any, bias: bool, dtype: Any) -> Any:
        weights = super()._layer_weights(layer, layer_input, bias, dtype)
        if layer > 0:
            weights.update(_depth_gate_weights(layer_input, self.hidden_size, bias, dtype))
        return weights


__all__ = ["DepthGatedLSTM", "DepthGatedLSTMCell", "DepthGatedLSTMRecurrence"]
