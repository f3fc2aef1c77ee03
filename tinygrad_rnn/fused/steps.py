"""Fused recurrent steps: one tape node per time step, whose forward and backward each run one kernel call.

Each takes xp, the step's slice of the input projection (W_ih x_t + biases, computed for all steps in one GEMM
before the loop), does the recurrent GEMM and the gate kernel, and hands the recurrent weight its gradient as an
OuterSum, so the T steps' weight gradients cost one GEMM in all instead of one per step. The equations are those
of nn/recurrences.py, which states each cell once.

A Scan (scan.py) drives the same steps without the tape and passes two buffers explicitly: `outs=`, the arrays
(views of per-sequence blocks) a forward writes its outputs into, for the steps that declare `out_widths`; and
`dx_out`, backward's third argument, the array it writes its first input's gradient into (the Scan's dxs[t]).
On the tape (one node per step) both are None and the kernels allocate.
"""
import numpy as np

from ..backend import calls
from ..function import Function
from .outer_sum import OuterSum

_NO_OUTS = (None, None, None)  # outs= on the tape: the kernel allocates gates, c and h


class RNNStep(Function):
    """h = act(xp + h_prev @ W_hhᵀ), act tanh or relu"""

    out_widths = (1,)  # h (B, H): what a Scan gives each step to write into (see Scan.forward)

    @staticmethod
    def forward(ctx, xp, h_prev, w_hh, nonlinearity="tanh", w_hh_t=None, outs=(None,)):
        h = calls.rnn_step_forward(xp, h_prev, *_recurrent_weight(w_hh, w_hh_t, nonlinearity), *outs)
        ctx.save_for_backward(h_prev, w_hh, h, nonlinearity)
        return h

    @staticmethod
    def backward(ctx, dh, dx_out=None):
        h_prev, w_hh, h, nonlinearity = ctx.saved
        dz, dh_prev = calls.rnn_step_backward(h, w_hh, dh, nonlinearity, dz=dx_out)
        return dz, dh_prev, OuterSum(dz, h_prev)


class LSTMStep(Function):
    """z = xp + h_prev @ W_hhᵀ; i,f,o = σ(z), g = tanh(z); c = f⊙c_prev + i⊙g; h = o⊙tanh(c) → (h, c, gates)"""

    out_widths = (4, 1, 1)  # gates (B, 4H), c, h (B, H)

    @staticmethod
    def forward(ctx, xp, h_prev, c_prev, w_hh, act="sigmoid", return_gates=False, w_hh_t=None, outs=_NO_OUTS):
        gates, c, h = calls.lstm_step_forward(xp, h_prev, c_prev, *_recurrent_weight(w_hh, w_hh_t, act), *outs)
        ctx.save_for_backward(h_prev, c_prev, w_hh, gates, c, act)
        return (h, c, gates) if return_gates else (h, c)

    @staticmethod
    def backward(ctx, grads, dx_out=None):
        dh, dc = grads[0], grads[1]
        _refuse_gate_grad(grads, 2)
        h_prev, c_prev, w_hh, gates, c, act = ctx.saved
        dz, dc_prev, dh_prev = calls.lstm_step_backward(gates, c_prev, c, w_hh, dh, dc, act, dz=dx_out)
        return dz, dh_prev, dc_prev, OuterSum(dz, h_prev)


class PeepholeLSTMStep(Function):
    """LSTMStep with i, f += w_ci⊙c_prev, w_cf⊙c_prev and o += w_co⊙c (Gers & Schmidhuber 2000) → (h, c, gates)"""

    out_widths = (4, 1, 1)  # gates (B, 4H), c, h (B, H)

    @staticmethod
    def forward(ctx, xp, h_prev, c_prev, w_hh, w_ci, w_cf, w_co, act="sigmoid", return_gates=False, w_hh_t=None,
                outs=_NO_OUTS):
        w, act, transposed = _recurrent_weight(w_hh, w_hh_t, act)
        gates, c, h = calls.peephole_step_forward(xp, h_prev, c_prev, w, w_ci, w_cf, w_co, act, transposed, *outs)
        ctx.save_for_backward(h_prev, c_prev, w_hh, w_ci, w_cf, w_co, gates, c, act)
        return (h, c, gates) if return_gates else (h, c)

    @staticmethod
    def backward(ctx, grads, dx_out=None):
        dh, dc = grads[0], grads[1]
        _refuse_gate_grad(grads, 2)
        h_prev, c_prev, w_hh, w_ci, w_cf, w_co, gates, c, act = ctx.saved
        dz, dc_prev, dh_prev, dw_ci, dw_cf, dw_co = calls.peephole_step_backward(
            gates, c_prev, c, w_hh, w_ci, w_cf, w_co, dh, dc, act, dz=dx_out)
        return dz, dh_prev, dc_prev, OuterSum(dz, h_prev), dw_ci, dw_cf, dw_co


class GRUStep(Function):
    """reset-after GRU: hp = h_prev @ W_hhᵀ + b_hh; r,z = σ(xp + hp); n = tanh(xp_n + r⊙hp_n);
    h = (1−z)⊙n + z⊙h_prev → (h, gates)"""

    # No out_widths: a Scan's per-sequence output blocks would live until its whole backward is done, on top of the
    # per-step ∂hp this backward keeps for ∂W_hh (benchmarks/ measure that peak); per-step arrays are freed as it goes.

    @staticmethod
    def forward(ctx, xp, h_prev, w_hh, b_hh=None, act="sigmoid", return_gates=False, w_hh_t=None):
        w, act, transposed = _recurrent_weight(w_hh, w_hh_t, act)
        hp, gates, h = calls.gru_step_forward(xp, h_prev, w, b_hh, act, transposed)
        ctx.save_for_backward(h_prev, w_hh, hp, gates, act)
        return (h, gates) if return_gates else h

    @staticmethod
    def backward(ctx, grads, dx_out=None):
        dh = grads[0] if type(grads) is tuple else grads
        _refuse_gate_grad(grads, 1)
        h_prev, w_hh, hp, gates, act = ctx.saved
        dxp, dhp, dh_prev = calls.gru_step_backward(gates, hp, h_prev, w_hh, dh, act, dxp=dx_out)
        if len(ctx.needs_input_grad) == 3:
            return dxp, dh_prev, OuterSum(dhp, h_prev)
        return dxp, dh_prev, OuterSum(dhp, h_prev), dhp.sum(axis=0)


class GRUChoStep(Function):
    """Cho et al. 2014: r,z = σ(xp + h_prev @ W_rzᵀ); n = tanh(xp_n + (r⊙h_prev) @ W_nᵀ);
    h = (1−z)⊙n + z⊙h_prev → (h, gates). W_hh arrives cut in its [r; z] and n rows."""

    @staticmethod
    def forward(ctx, xp, h_prev, w_rz, w_n, act="sigmoid", return_gates=False):
        gates_rz, rh = calls.gru_cho_reset_forward(xp, h_prev @ w_rz.T, h_prev, act)
        n, h = calls.gru_cho_update_forward(xp, rh @ w_n.T, gates_rz, h_prev)
        ctx.save_for_backward(h_prev, w_rz, w_n, gates_rz, rh, n, act)
        return (h, np.concatenate([gates_rz, n], axis=1)) if return_gates else h

    @staticmethod
    def backward(ctx, grads, dx_out=None):                 # (allocates its own dxp: dx_out goes unused)
        dh = grads[0] if type(grads) is tuple else grads
        _refuse_gate_grad(grads, 1)
        h_prev, w_rz, w_n, gates_rz, rh, n, act = ctx.saved
        dz_pre, dn_pre, dh_prev = calls.gru_cho_update_backward(gates_rz, n, h_prev, dh, act)
        dr_pre, dh_via_r = calls.gru_cho_reset_backward(gates_rz, h_prev, dn_pre @ w_n, act)
        drz = np.concatenate([dr_pre, dz_pre], axis=1)
        dh_prev += dh_via_r
        dh_prev += drz @ w_rz
        dxp = np.concatenate([drz, dn_pre], axis=1)
        return dxp, dh_prev, OuterSum(drz, h_prev), OuterSum(dn_pre, rh)


def _recurrent_weight(w_hh, w_hh_t, act):
    """(weight, act, transposed) for a step kernel's forward: W_hhᵀ when a Scan made that copy for the sequence
    (h_prev @ W_hhᵀ is then a plain row-major product, which BLAS runs faster), else W_hh itself. The backward
    multiplies by W_hh, which it has as it is."""
    return (w_hh, act, False) if w_hh_t is None else (w_hh_t, act, True)


def transposed_copy(w_hh):
    """W_hhᵀ, contiguous: the `w_hh_t` option a Scan hands each step's forward (one copy per sequence)."""
    return calls.transposed(w_hh.data)


def _refuse_gate_grad(grads, n_states):
    """The gate activations a fused step returns after its n_states states (when asked for) carry no gradient."""
    if type(grads) is tuple and len(grads) > n_states and grads[n_states] is not None:
        raise RuntimeError("the gate activations a fused step returns are for inspection only: they have no "
                           "gradient (use fused=False to differentiate through the gates)")
