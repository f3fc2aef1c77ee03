"""Two more cells of the classic texts, written only with tape ops (no kernels of their own): the depth-gated LSTM
and the Clockwork RNN. Each is a Recurrence (project / prepare / step) driven by the same sequence-layer driver as
the other cells (RNNBase: lengths, stacking, initial state, batch_first, dropout), plus a single-step cell.

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

Clockwork RNN (Koutník, Greff, Gomez & Schmidhuber 2014, "A Clockwork RNN", ICML)
----------------------------------------------------------------------------------
The H hidden units form g equal modules of n = H/g units with periods T_0 < T_1 < ... < T_{g−1}, by default
1, 2, 4, ..., 2^(g−1). Time steps are counted from 0 (t = 0, 1, ..., T−1, the position in the sequence), so every
module updates at the first step; at step t module i updates when t mod T_i = 0 and otherwise copies its state:

    h_t[i] = tanh(W_ih[i] x_t + b_ih[i] + (W_hh ⊙ M)[i] h_{t−1} + b_hh[i])    if t mod T_i = 0
    h_t[i] = h_{t−1}[i]                                                        otherwise

where [i] is the rows of module i. M is a fixed 0/1 block mask, M[i, j] = 1 iff j ≥ i: with the modules sorted by
increasing period, W_hh ⊙ M is block upper triangular, so a module hears itself and the slower modules, and slow
modules feed fast ones, never the reverse. The mask is multiplied into W_hh on the tape (once per sequence, in
prepare), so ∂L/∂W_hh is zero below the block diagonal and training never fills it in. With power-of-two periods
the modules that update at step t are always a prefix 0..k−1 of the modules, and the step computes only those rows
(the paper's saving: slow modules cost nothing on the steps they sleep); the others are copied unchanged, exactly.
(The paper writes t mod T_i = 0 with t counted from 1; counting from 0 only shifts which steps are "round".)
Parameters as nn.RNN: weight_ih_l{k} (H, I_k), weight_hh_l{k} (H, H), bias_ih_l{k}, bias_hh_l{k} (H,).
"""
import numbers

import numpy as np

from ..tensor import _float_dtype, cat, where
from . import init
from .cells import RNNCellBase
from .checks import check_choice, check_size, check_state
from .layers import RNNBase
from .module import Parameter
from .recurrences import GATE_ACTIVATIONS, LSTMRecurrence, Recurrence, _folded_bias, _linear

DEPTH_GATE_WEIGHTS = ("weight_xd", "weight_cd", "weight_ld", "bias_d")


# ---------------------------------------------------------------------------------------------------------------
# The recurrences: the equations, written once.

class DepthGatedLSTMRecurrence(LSTMRecurrence):
    """LSTM step plus the depth gate, in primitive ops only: d = σ(W_xd x + w_cd⊙c' + w_ld⊙c_lower + b_d),
    c = f⊙c' + i⊙g + d⊙c_lower. Trace gates: i, f, g, o (4H), and d (5H in all) in layers that have a lower cell."""

    step_context = ("lower_c",)

    def __init__(self, gate_activation="sigmoid"):
        super().__init__(gate_activation, fused=True)  # fused: the input projection is one LinearAct GEMM

    def project(self, x, p):
        """[W_ih x + b_ih + b_hh ; W_xd x + b_d] (4H + H columns) in one GEMM; W_ih x + b alone in layer 0."""
        if p.get("weight_xd") is None:
            return super().project(x, p)
        bias = _folded_bias(p)
        bias = None if bias is None else cat([bias, p["bias_d"]], dim=0)
        return _linear(x, cat([p["weight_ih"], p["weight_xd"]], dim=0), bias, self.fused)

    def prepare(self, p):
        return p["weight_hh"], p.get("weight_cd"), p.get("weight_ld")

    def step(self, xp, state, prepared, want_gates=False, lower_c=None):
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
        return (h, c), (cat(gates, dim=1) if want_gates else None)


class ClockworkRecurrence(Recurrence):
    """h_t[i] = tanh(W_ih[i] x_t + (W_hh ⊙ M)[i] h_{t−1} + b[i]) when t mod T_i = 0, else h_{t−1}[i]."""

    step_context = ("t",)

    def __init__(self, hidden_size, periods):
        super().__init__("sigmoid", fused=True)  # fused: the input projection is one LinearAct GEMM
        self.periods = tuple(int(p) for p in periods)
        self.module_size = hidden_size // len(self.periods)
        module = np.repeat(np.arange(len(self.periods)), self.module_size)  # the module of each hidden unit
        self.mask = (module[None, :] >= module[:, None]).astype(np.int8)   # M[u, v] = 1 iff module(v) ≥ module(u)
        self.unit_periods = np.repeat(self.periods, self.module_size)

    def active(self, t):
        """Per module, whether it updates at step t (t counted from 0)."""
        return [t % period == 0 for period in self.periods]

    def prepare(self, p):
        """W_hh ⊙ M, once per sequence: the mask is on the tape, so the gradient below the block diagonal is 0.
        Also a cache for the row blocks of the first k modules, cut the first time a step needs them."""
        return p["weight_hh"] * self.mask, {}

    def step(self, xp, h, prepared, want_gates=False, t=0):
        w, rows = prepared
        active = self.active(t)
        k = sum(active)
        if k == len(active):                                   # every module updates
            return (xp + h @ w.T).tanh(), None
        if k == 0:                                             # none does (first period > 1)
            return h, None
        if all(active[:k]):                                    # modules 0..k−1 update: compute only their rows
            m = k * self.module_size
            if k not in rows:
                rows[k] = w[:m]
            new = (xp[:, :m] + h @ rows[k].T).tanh()
            return cat([new, h[:, m:]], dim=1), None          # the slower modules are copied, exactly
        updates = (t % self.unit_periods) == 0                 # general periods: not a prefix
        return where(updates, (xp + h @ w.T).tanh(), h), None


# ---------------------------------------------------------------------------------------------------------------
# Argument checks.

def _check_gates(owner, gate_activation):
    check_choice(owner, "gate_activation", gate_activation, GATE_ACTIVATIONS)


def _clock_periods(owner, hidden_size, num_modules, periods):
    """The validated periods: 1, 2, ..., 2^(g−1) by default, else strictly increasing positive integers."""
    check_size(owner, "hidden_size", hidden_size)
    check_size(owner, "num_modules", num_modules)
    if hidden_size % num_modules:
        raise ValueError(f"{owner}: hidden_size must be divisible by num_modules (equal modules), but got "
                         f"hidden_size={hidden_size}, num_modules={num_modules}")
    if periods is None:
        return tuple(2 ** k for k in range(num_modules))
    periods = tuple(periods)
    ok = (len(periods) == num_modules
          and all(isinstance(p, numbers.Integral) and not isinstance(p, bool) and p > 0 for p in periods)
          and all(a < b for a, b in zip(periods, periods[1:])))
    if not ok:
        raise ValueError(f"{owner}: periods must be {num_modules} strictly increasing positive integers (modules "
                         f"sorted by increasing period), but got {list(periods)!r}")
    return periods


def _depth_gate_weights(input_size, hidden_size, bias, dtype):
    bound = 1.0 / np.sqrt(hidden_size)
    weights = {"weight_xd": init.uniform((hidden_size, input_size), bound, dtype),
               "weight_cd": init.uniform((hidden_size,), bound, dtype),
               "weight_ld": init.uniform((hidden_size,), bound, dtype),
               "bias_d": init.uniform((hidden_size,), bound, dtype) if bias else None}
    return weights


# ---------------------------------------------------------------------------------------------------------------
# Cells: one step.

class DepthGatedLSTMCell(RNNCellBase):
    """One depth-gated LSTM step: (h', c') from x, (h, c) and the lower layer's c_lower (this step's).
    Without c_lower it is an LSTMCell (the d term is absent). Parameters: LSTMCell's weight_ih (4H, I),
    weight_hh (4H, H), bias_ih, bias_hh (4H,), and weight_xd (H, I), weight_cd, weight_ld, bias_d (H,)."""

    def __init__(self, input_size, hidden_size, bias=True, gate_activation="sigmoid", forget_bias=None, dtype=None):
        _check_gates("DepthGatedLSTMCell", gate_activation)
        super().__init__(input_size, hidden_size, bias, DepthGatedLSTMRecurrence(gate_activation), forget_bias,
                         dtype)
        for name, value in _depth_gate_weights(input_size, hidden_size, bias, _float_dtype(dtype)).items():
            self.register_parameter(name, None if value is None else Parameter(value))

    def forward(self, input, hx=None, c_lower=None):
        weights = self.weights()
        if c_lower is None:
            weights = {k: v for k, v in weights.items() if k not in DEPTH_GATE_WEIGHTS}
        else:
            shape = (self.hidden_size,) if input.ndim == 1 else (input.shape[0], self.hidden_size)
            check_state(type(self).__name__, "c_lower", c_lower, shape, self.weight_ih.dtype)
            if input.ndim == 1:
                c_lower = c_lower.reshape(1, -1)
        return self._step(input, hx, weights, lower_c=c_lower)


class ClockworkRNNCell(RNNCellBase):
    """One Clockwork RNN step at time index t (counted from 0): modules whose period divides t update, the others
    copy h. Parameters as RNNCell: weight_ih (H, I), weight_hh (H, H) (masked block upper triangular in the step),
    bias_ih, bias_hh (H,)."""

    def __init__(self, input_size, hidden_size, num_modules, bias=True, periods=None, dtype=None):
        periods = _clock_periods("ClockworkRNNCell", hidden_size, num_modules, periods)
        super().__init__(input_size, hidden_size, bias, ClockworkRecurrence(hidden_size, periods), dtype=dtype)
        self.num_modules, self.periods = num_modules, periods

    def forward(self, input, hx=None, t=0):
        if not isinstance(t, numbers.Integral) or isinstance(t, bool) or t < 0:
            raise ValueError(f"ClockworkRNNCell: t must be a non-negative integer (the time index), but got {t!r}")
        return self._step(input, hx, self.weights(), t=int(t))

    def extra_repr(self):
        return super().extra_repr() + f", num_modules={self.num_modules}, periods={self.periods}"


# ---------------------------------------------------------------------------------------------------------------
# Sequence layers: the RNNBase driver unrolls them over time.

class DepthGatedLSTM(RNNBase):
    """Stacked depth-gated LSTM (Yao et al. 2015); returns output, (h_n, c_n) as nn.LSTM. Layer k ≥ 1 has the
    depth-gate parameters weight_xd_l{k}, weight_cd_l{k}, weight_ld_l{k}, bias_d_l{k} on top of nn.LSTM's; with
    num_layers=1 it is an LSTM. return_gates traces hold i, f, g, o (and d in layers ≥ 1) and c."""

    def __init__(self, input_size, hidden_size, num_layers=1, bias=True, batch_first=False, dropout=0.0,
                 bidirectional=False, gate_activation="sigmoid", forget_bias=None, dtype=None):
        _check_gates("DepthGatedLSTM", gate_activation)
        super().__init__(DepthGatedLSTMRecurrence(gate_activation), input_size, hidden_size, num_layers, bias,
                         batch_first, dropout, bidirectional, forget_bias, dtype)

    def _layer_weights(self, layer, layer_input, bias, dtype):
        weights = super()._layer_weights(layer, layer_input, bias, dtype)
        if layer > 0:
            weights.update(_depth_gate_weights(layer_input, self.hidden_size, bias, dtype))
        return weights


class ClockworkRNN(RNNBase):
    """Clockwork RNN layer (Koutník et al. 2014): hidden_size units in num_modules equal modules with periods
    1, 2, ..., 2^(num_modules−1) (or `periods`, strictly increasing); t counted from 0. Returns output, h_n as
    nn.RNN. Stacks with num_layers (each layer its own clock); unidirectional: a reversed clock has no meaning
    shared by sequences of different lengths."""

    def __init__(self, input_size, hidden_size, num_modules, num_layers=1, bias=True, batch_first=False,
                 dropout=0.0, periods=None, dtype=None):
        periods = _clock_periods("ClockworkRNN", hidden_size, num_modules, periods)
        super().__init__(ClockworkRecurrence(hidden_size, periods), input_size, hidden_size, num_layers, bias,
                         batch_first, dropout, False, dtype=dtype)
        self.num_modules, self.periods = num_modules, periods

    def extra_repr(self):
        return super().extra_repr() + f", num_modules={self.num_modules}, periods={self.periods}"


__all__ = ["ClockworkRNN", "ClockworkRNNCell", "ClockworkRecurrence", "DepthGatedLSTM", "DepthGatedLSTMCell",
           "DepthGatedLSTMRecurrence"]
