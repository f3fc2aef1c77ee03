"""The LSTM step with a projection (LSTMP, Sak et al. 2014; torch.nn.LSTM(proj_size=P)) as one tape node.

The carried h has P < H units: r_t = o⊙tanh(c_t) (B, H) is projected down, h_t = r_t W_hrᵀ (B, P), and the
recurrent weight W_hh is (4H, P). The gate update is the plain LSTM's, so it runs in the same Cython gate kernels
(lstm_gates_forward/backward); the two GEMMs around it (h_prev @ W_hhᵀ and r @ W_hrᵀ) are NumPy's, since the step
kernels assume the carried h has H units. Both weights get their gradients as OuterSum factors, so a Scan reduces
each in one GEMM over all T steps.
"""
import numpy as np

from ..backend import calls
from ..function import Function
from .outer_sum import OuterSum
from .steps import _refuse_gate_grad


class ProjectedLSTMStep(Function):
    """z = xp + h_prev @ W_hhᵀ; i,f,o = σ(z), g = tanh(z); c = f⊙c_prev + i⊙g; h = (o⊙tanh c) @ W_hrᵀ → (h, c, gates)"""

    @staticmethod
    def forward(ctx, xp, h_prev, c_prev, w_hh, w_hr, act="sigmoid", return_gates=False):
        z = h_prev @ w_hh.T
        z += xp
        gates, c, r = calls.call("lstm_gates_forward", z, c_prev, act)
        h = r @ w_hr.T
        ctx.save_for_backward(h_prev, c_prev, w_hh, w_hr, gates, c, r, act)
        return (h, c, gates) if return_gates else (h, c)

    @staticmethod
    def backward(ctx, grads, dx_out=None):
        dh, dc = grads[0], grads[1]
        _refuse_gate_grad(grads, 2)
        h_prev, c_prev, w_hh, w_hr, gates, c, r, act = ctx.saved
        if dh is None:                  # (a Scan sums the per-step factors of W_hr: each step must give one)
            dh = np.zeros(h_prev.shape, h_prev.dtype)
        dz, dc_prev = calls.call("lstm_gates_backward", gates, c_prev, c, dh @ w_hr, dc, act, dx_out, None)
        return dz, dz @ w_hh, dc_prev, OuterSum(dz, h_prev), OuterSum(dh, r)
