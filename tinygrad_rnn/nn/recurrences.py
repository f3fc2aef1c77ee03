"""The equations of each recurrent cell, written once and shared by the Cell modules and the sequence layers.

Each recurrence splits a step into three parts, so a layer can do the expensive, step-independent work once:
- `project(x, p)`: the input projection W_ih x + biases, for one step or for all T steps in one GEMM;
- `prepare(p)`: per-sequence views of the recurrent weights (once per sequence, not per step);
- `step(xp, state, prepared, return_gates=False)`: one time step -> (new state, gate activations or None);
- `scan_step(prepared, steps)`: the fused step, its shared tensors and options for a Scan, or None.
With `fused=True` a step is one tape node running a Cython gate kernel; with `fused=False` it is composed of
primitive ops only (matmul, add, sigmoid, tanh, mul, chunk): the teaching path. Both give the same numbers.
`p` is a dict of the weights under PyTorch's names: weight_ih, weight_hh, bias_ih, bias_hh (None without bias),
weight_ci, weight_cf, weight_co for the peephole LSTM, and weight_hr (P, H) for the projected one.
"""
from __future__ import annotations

from .. import fused as F
from ..activations import GATE_NAMES
from ..tensor import cat
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from typing import Any

GATE_ACTIVATIONS = GATE_NAMES  # what gate_activation= takes (activations.py names them once)


def _linear(x: Any, w: Any, b: Any, fused: bool) -> Any:
    """x @ wᵀ + b: one LinearAct node when fused, matmul and add otherwise."""
    if fused:
        return F.linear(x, w, b)
    out = x @ w.T
    return out if b is None else out + b


def takes_sequences(project: Any) -> Any:
    """Marks a project(x, p) that takes x (T, B, I) as well as (N, I) (a fused LinearAct does): the layer then hands
    it the sequence as it is, without the two reshape nodes around it (18 µs of a 240 µs layer call at batch 1).
    A subclass that overrides project without it gets (T·B, I), as before."""
    project.takes_sequences = True
    return project


def _folded_bias(p: Any) -> Any:
    """b_ih + b_hh: both biases add to the same pre-activation, so they join the input projection."""
    if p["bias_ih"] is None:
        return None
    return p["bias_ih"] + p["bias_hh"]


class Recurrence:
    """Options shared by every cell: gate activation (sigmoid or Keras' hard_sigmoid) and fused or not.

    What the layer driver (nn.layers.RNNBase) reads from a subclass: `n_gates`, the number of H-row blocks in
    weight_ih (G·H, I) and weight_hh (G·H, H) (LSTM 4, GRU 3, RNN 1); `has_cell_state`, whether the state is (h, c)
    (the layer then returns (h_n, c_n), takes hx as a pair and sets a forget bias) or h alone; `step_context`, the
    extra keywords its step wants ("t", "lower_c"). docs/exercises.md, exercise 4, writes one.
    """

    n_gates = 1
    has_cell_state = False
    # extra keywords the layer driver passes to step: "t" (time index), "lower_c" (layer below's c_t)
    step_context: tuple[str, ...] = ()

    def __init__(self, gate_activation: str = "sigmoid", fused: bool = True) -> None:
        self.act = gate_activation
        self.fused = fused

    def gate(self, z: Any) -> Any:
        return z.sigmoid() if self.act == "sigmoid" else z.hard_sigmoid()

    @takes_sequences
    def project(self, x: Any, p: Any) -> Any:
        if self.fused and p["bias_ih"] is not None:      # b_ih + b_hh inside the one fused node
            return F.projection(x, p["weight_ih"], p["bias_ih"], p["bias_hh"])
        return _linear(x, p["weight_ih"], _folded_bias(p), self.fused)

    def prepare(self, p: Any) -> Any:
        return p["weight_hh"]

    def scan_step(self, prepared: Any, steps: int) -> Any:
        """(fused step Function, the tensors every step shares, its options) for one Scan over `steps` steps;
        None when the recurrence has no fused step (the driver then records step by step)."""
        return None


class RNNRecurrence(Recurrence):
    """h = act(W_ih x + b_ih + W_hh h_prev + b_hh), act tanh or relu"""

    def __init__(self, nonlinearity: str = "tanh", fused: bool = True) -> None:
        super().__init__("sigmoid", fused)
        self.nonlinearity = nonlinearity

    def step(self, xp: Any, state: Any, prepared: Any, return_gates: bool = False) -> Any:
        h, w_hh = state, prepared
        if self.fused:
            return F.RNNStep.apply(xp, h, w_hh, nonlinearity=self.nonlinearity), None
        z = xp + h @ w_hh.T
        return (z.tanh() if self.nonlinearity == "tanh" else z.relu()), None

    def scan_step(self, prepared: Any, steps: int) -> Any:
        return F.RNNStep, (prepared,), {"nonlinearity": self.nonlinearity, **_transposed(F.RNNStep, prepared, steps)}


class LSTMRecurrence(Recurrence):
    """i,f,o = σ(z), g = tanh(z) for z = W_ih x + W_hh h_prev + b (gate order i,f,g,o); c = f⊙c_prev + i⊙g;
    h = o⊙tanh(c)"""

    n_gates = 4
    has_cell_state = True

    def step(self, xp: Any, state: Any, prepared: Any, return_gates: bool = False) -> Any:
        (h, c), w_hh = state, prepared
        if self.fused:
            out = F.LSTMStep.apply(xp, h, c, w_hh, act=self.act, return_gates=return_gates)
            return out[:2], (out[2] if return_gates else None)
        zi, zf, zg, zo = (xp + h @ w_hh.T).chunk(4, dim=1)
        i, f, g, o = self.gate(zi), self.gate(zf), zg.tanh(), self.gate(zo)
        c = f * c + i * g
        h = o * c.tanh()
        return (h, c), (_cat_gates(i, f, g, o) if return_gates else None)

    def scan_step(self, prepared: Any, steps: int) -> Any:
        return F.LSTMStep, (prepared,), {"act": self.act, **_transposed(F.LSTMStep, prepared, steps)}


class NoOutputTanhLSTMRecurrence(LSTMRecurrence):
    """LSTM whose output is h = o⊙c, without the tanh (nicodjimenez/lstm's NumPy tutorial; Greff et al. 2015's
    "NOAF", no output activation function); gates and c as LSTMRecurrence.

    Why the standard cell squashes c before the output gate: c is an unbounded running sum (c = f⊙c_prev + i⊙g
    grows by up to 1 per step while f stays near 1), so h = o⊙c can grow with the sequence length; the next step's
    gates and the layer above then see ever larger inputs and saturate, and the gradient ∂h/∂c = o no longer fades
    with |c|. tanh keeps h in (−1, 1), the range every other hidden state has. Greff et al. found that removing it
    significantly hurts on all three of their tasks. No fused kernel: the step is recorded op by op (the input
    projection is still one GEMM)."""

    def step(self, xp: Any, state: Any, prepared: Any, return_gates: bool = False) -> Any:
        (h, c), w_hh = state, prepared
        zi, zf, zg, zo = (xp + h @ w_hh.T).chunk(4, dim=1)
        i, f, g, o = self.gate(zi), self.gate(zf), zg.tanh(), self.gate(zo)
        c = f * c + i * g
        return (o * c, c), (_cat_gates(i, f, g, o) if return_gates else None)

    def scan_step(self, prepared: Any, steps: int) -> Any:
        return None


class ProjectedLSTMRecurrence(LSTMRecurrence):
    """LSTM with a projection (LSTMP; torch.nn.LSTM(proj_size=P)): the LSTM's gates and c from
    z = W_ih x + W_hh h_prev + b, W_hh (4H, P); h = W_hr (o⊙tanh(c)), W_hr (P, H), so h_t has P units, c_t H"""

    def prepare(self, p: Any) -> Any:
        return p["weight_hh"], p["weight_hr"]

    def step(self, xp: Any, state: Any, prepared: Any, return_gates: bool = False) -> Any:
        (h, c), (w_hh, w_hr) = state, prepared
        if self.fused:
            out = F.ProjectedLSTMStep.apply(xp, h, c, w_hh, w_hr, act=self.act, return_gates=return_gates)
            return out[:2], (out[2] if return_gates else None)
        zi, zf, zg, zo = (xp + h @ w_hh.T).chunk(4, dim=1)
        i, f, g, o = self.gate(zi), self.gate(zf), zg.tanh(), self.gate(zo)
        c = f * c + i * g
        h = (o * c.tanh()) @ w_hr.T
        return (h, c), (_cat_gates(i, f, g, o) if return_gates else None)

    def scan_step(self, prepared: Any, steps: int) -> Any:
        return F.ProjectedLSTMStep, tuple(prepared), {"act": self.act}


class PeepholeLSTMRecurrence(LSTMRecurrence):
    """LSTM whose i and f also see c_prev and whose o sees the new c, through diagonal weights
    (Gers & Schmidhuber 2000): i = σ(z_i + w_ci⊙c_prev), f = σ(z_f + w_cf⊙c_prev), o = σ(z_o + w_co⊙c)"""

    def prepare(self, p: Any) -> Any:
        return p["weight_hh"], p["weight_ci"], p["weight_cf"], p["weight_co"]

    def step(self, xp: Any, state: Any, prepared: Any, return_gates: bool = False) -> Any:
        h, c_prev = state
        w_hh, w_ci, w_cf, w_co = prepared
        if self.fused:
            out = F.PeepholeLSTMStep.apply(xp, h, c_prev, w_hh, w_ci, w_cf, w_co, act=self.act,
                                           return_gates=return_gates)
            return out[:2], (out[2] if return_gates else None)
        zi, zf, zg, zo = (xp + h @ w_hh.T).chunk(4, dim=1)
        i, f, g = self.gate(zi + w_ci * c_prev), self.gate(zf + w_cf * c_prev), zg.tanh()
        c = f * c_prev + i * g
        o = self.gate(zo + w_co * c)
        h = o * c.tanh()
        return (h, c), (_cat_gates(i, f, g, o) if return_gates else None)

    def scan_step(self, prepared: Any, steps: int) -> Any:
        return F.PeepholeLSTMStep, tuple(prepared), {"act": self.act,
                                                     **_transposed(F.PeepholeLSTMStep, prepared[0], steps)}


class GRURecurrence(Recurrence):
    """reset-after GRU (PyTorch, cuDNN, Keras reset_after=True), gate order r,z,n: r,z = σ(W_i x + b_i + W_h h + b_h);
    n = tanh(W_in x + b_in + r⊙(W_hn h + b_hn)); h = (1−z)⊙n + z⊙h_prev"""

    n_gates = 3

    @takes_sequences
    def project(self, x: Any, p: Any) -> Any:
        return _linear(x, p["weight_ih"], p["bias_ih"], self.fused)  # b_hn sits inside r⊙(…): it cannot fold

    def prepare(self, p: Any) -> Any:
        return p["weight_hh"], p["bias_hh"]

    def step(self, xp: Any, state: Any, prepared: Any, return_gates: bool = False) -> Any:
        h, (w_hh, b_hh) = state, prepared
        if self.fused:
            args = (xp, h, w_hh) if b_hh is None else (xp, h, w_hh, b_hh)
            out = F.GRUStep.apply(*args, act=self.act, return_gates=return_gates)
            return out if return_gates else (out, None)
        xr, xz, xn = xp.chunk(3, dim=1)
        hr, hz, hn = _linear(h, w_hh, b_hh, False).chunk(3, dim=1)
        r, z = self.gate(xr + hr), self.gate(xz + hz)
        n = (xn + r * hn).tanh()
        return (1 - z) * n + z * h, (_cat_gates(r, z, n) if return_gates else None)

    def scan_step(self, prepared: Any, steps: int) -> Any:
        w_hh, b_hh = prepared
        consts = (w_hh,) if b_hh is None else (w_hh, b_hh)
        return F.GRUStep, consts, {"act": self.act, **_transposed(F.GRUStep, w_hh, steps)}


class GRUChoRecurrence(Recurrence):
    """Cho et al. 2014 GRU, reset applied before the recurrent matmul: r,z = σ(W_i x + W_h h + b);
    n = tanh(W_in x + W_hn (r⊙h_prev) + b_n); h = (1−z)⊙n + z⊙h_prev"""

    n_gates = 3

    def prepare(self, p: Any) -> Any:
        w_hh = p["weight_hh"]
        hidden = w_hh.shape[1]
        return w_hh.split([2 * hidden, hidden], dim=0)  # W_hh = [W_hr; W_hz; W_hn], cut once per sequence

    def step(self, xp: Any, state: Any, prepared: Any, return_gates: bool = False) -> Any:
        h, (w_rz, w_n) = state, prepared
        if self.fused:
            out = F.GRUChoStep.apply(xp, h, w_rz, w_n, act=self.act, return_gates=return_gates)
            return out if return_gates else (out, None)
        xr, xz, xn = xp.chunk(3, dim=1)
        hr, hz = (h @ w_rz.T).chunk(2, dim=1)
        r, z = self.gate(xr + hr), self.gate(xz + hz)
        n = (xn + (r * h) @ w_n.T).tanh()
        return (1 - z) * n + z * h, (_cat_gates(r, z, n) if return_gates else None)

    def scan_step(self, prepared: Any, steps: int) -> Any:
        return F.GRUChoStep, tuple(prepared), {"act": self.act}


TRANSPOSE_MIN_STEPS = 8  # from here on W_hhᵀ, made once, costs less than the slower NT products it saves


def _transposed(step: Any, w_hh: Any, steps: int) -> Any:
    """The Scan option `w_hh_t` (W_hhᵀ, contiguous) for a sequence long enough to repay the copy, else none: the
    forward's h_prev @ W_hhᵀ is then a plain row-major GEMM, which BLAS runs faster than the transposed one. A
    one-step call (sampling character by character) keeps W_hh as it is, and so does a Scan that runs in a sequence
    kernel, which packs W_hh once either way (the copy cost more than the kernel's packing from W_hh: 684 against
    668 + 34 µs an LSTM layer call at M)."""
    if steps < TRANSPOSE_MIN_STEPS or F.runs_kernel(step):
        return {}
    return {"w_hh_t": F.transposed_copy(w_hh)}


def _cat_gates(*gates: Any) -> Any:
    return cat(gates, dim=1)
