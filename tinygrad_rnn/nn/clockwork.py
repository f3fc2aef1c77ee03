"""The Clockwork RNN, written only with tape ops (no kernel of its own): a Recurrence (project / prepare / step)
driven by the same sequence-layer driver as the other cells (RNNBase: lengths, stacking, initial state,
batch_first, dropout), plus a single-step cell.

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
from __future__ import annotations

import numbers

import numpy as np

from ..tensor import cat, where
from .cells import RNNCellBase
from .checks import check_size
from .layers import RNNBase
from .recurrences import Recurrence
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from typing import Any, Sequence
    from .._typing import DTypeLike
    from ..tensor import Tensor


class ClockworkRecurrence(Recurrence):
    """h_t[i] = tanh(W_ih[i] x_t + (W_hh ⊙ M)[i] h_{t−1} + b[i]) when t mod T_i = 0, else h_{t−1}[i]."""

    step_context = ("t",)

    def __init__(self, hidden_size: int, periods: Sequence[int]) -> None:
        super().__init__("sigmoid", fused=True)  # fused: the input projection is one LinearAct GEMM
        self.periods = tuple(int(p) for p in periods)
        self.module_size = hidden_size // len(self.periods)
        module = np.repeat(np.arange(len(self.periods)), self.module_size)  # the module of each hidden unit
        self.mask = (module[None, :] >= module[:, None]).astype(np.int8)   # M[u, v] = 1 iff module(v) ≥ module(u)
        self.unit_periods = np.repeat(self.periods, self.module_size)

    def active(self, t: Any) -> Any:
        """Per module, whether it updates at step t (t counted from 0)."""
        return [t % period == 0 for period in self.periods]

    def prepare(self, p: Any) -> Any:
        """W_hh ⊙ M, once per sequence: the mask is on the tape, so the gradient below the block diagonal is 0.
        Also a cache for the row blocks of the first k modules, cut the first time a step needs them."""
        return p["weight_hh"] * self.mask, {}

    def step(self, xp: Any, state: Any, prepared: Any, return_gates: bool = False, t: Any = 0) -> Any:
        h = state
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


def _clock_periods(owner: str, hidden_size: int, num_modules: int, periods: Any) -> Any:
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
          and all(isinstance(p, numbers.Integral) and not isinstance(p, bool) and p > 0 for p in periods)  # type: ignore[operator]  # numbers.Integral/Real declare no ordering to mypy
          and all(a < b for a, b in zip(periods, periods[1:])))
    if not ok:
        raise ValueError(f"{owner}: periods must be {num_modules} strictly increasing positive integers (modules "
                         f"sorted by increasing period), but got {list(periods)!r}")
    return periods


class ClockworkRNNCell(RNNCellBase):
    """One Clockwork RNN step at time index t (counted from 0): modules whose period divides t update, the others
    copy h. Parameters as RNNCell: weight_ih (H, I), weight_hh (H, H) (masked block upper triangular in the step),
    bias_ih, bias_hh (H,)."""

    def __init__(self, input_size: int, hidden_size: int, num_modules: int, bias: bool = True,
                 periods: Sequence[int] | None = None, dtype: DTypeLike = None) -> None:
        periods = _clock_periods("ClockworkRNNCell", hidden_size, num_modules, periods)
        super().__init__(input_size, hidden_size, bias, ClockworkRecurrence(hidden_size, periods), dtype=dtype)
        self.num_modules, self.periods = num_modules, periods

    def forward(self, input: Tensor, hx: Any = None, t: Any = 0) -> Any:
        if not isinstance(t, numbers.Integral) or isinstance(t, bool) or t < 0:
            raise ValueError(f"ClockworkRNNCell: t must be a non-negative integer (the time index), but got {t!r}")
        return self._step(input, hx, self.weights(), t=int(t))

    def extra_repr(self) -> str:
        return super().extra_repr() + f", num_modules={self.num_modules}, periods={self.periods}"


class ClockworkRNN(RNNBase):
    """Clockwork RNN layer (Koutník et al. 2014): hidden_size units in num_modules equal modules with periods
    1, 2, ..., 2^(num_modules−1) (or `periods`, strictly increasing); t counted from 0. Returns output, h_n as
    nn.RNN. Stacks with num_layers (each layer its own clock); unidirectional: a reversed clock has no meaning
    shared by sequences of different lengths."""

    def __init__(self, input_size: int, hidden_size: int, num_modules: int, num_layers: int = 1, bias: bool = True,
                 batch_first: bool = False, dropout: float = 0.0, periods: Sequence[int] | None = None,
                 dtype: DTypeLike = None, checkpoint_every: int | None = None
    ) -> None:
        periods = _clock_periods("ClockworkRNN", hidden_size, num_modules, periods)
        super().__init__(ClockworkRecurrence(hidden_size, periods), input_size, hidden_size, num_layers, bias,
                         batch_first, dropout, False, dtype=dtype, checkpoint_every=checkpoint_every)
        self.num_modules, self.periods = num_modules, periods

    def extra_repr(self) -> str:
        return super().extra_repr() + f", num_modules={self.num_modules}, periods={self.periods}"


__all__ = ["ClockworkRNN", "ClockworkRNNCell", "ClockworkRecurrence"]
