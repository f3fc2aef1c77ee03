"""Hand-derived backpropagation through time (BPTT) in batched NumPy: the tape engine's oracle and benchmark baseline.

The tape engine gets BPTT for free from the chain rule; here it is derived by hand, the way the classic tutorials
do it: explicit derivative formulas per gate and a loop over t backwards. It is written to be read and to be fast:
  * the input projection of all T steps is ONE GEMM before the loop (W_ih x_t does not depend on h);
  * the local derivatives that need only forward values (σ', 1 − tanh², ...) are computed for all t at once, so the
    backward loop only carries ∂L/∂h (and ∂L/∂c) from step to step;
  * the weight gradients are ONE GEMM each after the loop: the loop stores the gate gradients dA (T, B, G·H) and
    dW_hh = Σ_t dA_tᵀ h_{t-1} is then a single (G·H, T·B) @ (T·B, H) product, likewise dW_ih and dx.

Public API (x (T, B, I); h0, c0 (B, H); PyTorch parameter layout and names; float32 or float64, one dtype for all):

    y, h_n, c_n, cache = forward(cell, x, h0, params, *, c0=None, lengths=None, reverse=False,
                                 gate_activation="sigmoid", nonlinearity="tanh")
    grads = backward(cache, dy=None, dh_n=None, dc_n=None)

`cell` is one of CELLS. `params` maps "weight_ih" (G·H, I), "weight_hh" (G·H, H), optionally "bias_ih" and "bias_hh"
(G·H,) (absent or None: no bias) and, for "peephole", "weight_ci", "weight_cf", "weight_co" (H,). y is (T, B, H);
c_n is None for cells without a memory cell; c0=None means zeros. `grads` has the keys of `params` (None for a None
bias) plus "x", "h0" and, for "lstm" and "peephole", "c0". dy, dh_n, dc_n default to zeros.

The cells. a = W_ih x_t + b_ih + W_hh h' + b_hh, split into G gates in PyTorch order; h' = h_{t-1}, c' = c_{t-1};
σ = gate_activation: "sigmoid" or "hard_sigmoid" = clip(0.2·a + 0.5, 0, 1); x_* = W_ih x_t + b_ih, h_* = W_hh h' + b_hh.
    rnn       h = act(a), act = nonlinearity ("tanh" or "relu")                                           G = 1
    lstm      i, f, g, o = σ(a_i), σ(a_f), tanh(a_g), σ(a_o); c = f⊙c' + i⊙g; h = o⊙tanh(c)                G = 4
    peephole  i = σ(a_i + w_ci⊙c'); f = σ(a_f + w_cf⊙c'); g = tanh(a_g); c = f⊙c' + i⊙g; o = σ(a_o + w_co⊙c); h = o⊙tanh(c)
    gru       r = σ(x_r + h_r); z = σ(x_z + h_z); n = tanh(x_n + r⊙h_n); h = (1−z)⊙n + z⊙h'   (reset-after) G = 3
    gru_cho   r, z as gru; n = tanh(x_n + W_hn (r⊙h') + b_hn); h = (1−z)⊙n + z⊙h'        (Cho et al. 2014) G = 3

lengths (B,) ints in [1, T]: steps t >= lengths[b] are padding: sequence b's state is frozen there, its output is
zero and it gets no gradient, so h_n/c_n are the states at each sequence's own length. reverse=True runs t = T-1..0
(each sequence effectively from its own last valid step, as PyTorch's reverse direction on packed sequences);
outputs stay at their time positions.
"""
from types import SimpleNamespace

import numpy as np

from .activations import ACTIVATIONS, GATE_NAMES

CELLS = ("rnn", "lstm", "peephole", "gru", "gru_cho")
_GATES = {"rnn": 1, "lstm": 4, "peephole": 4, "gru": 3, "gru_cho": 3}
_RNN_ACT = {"tanh": (lambda a, out: np.tanh(a, out=out), lambda h: 1.0 - h * h),                # (act, act' from h)
            "relu": (lambda a, out: np.maximum(a, 0, out=out), lambda h: (h > 0).astype(h.dtype))}


def forward(cell, x, h0, params, *, c0=None, lengths=None, reverse=False, gate_activation="sigmoid",
            nonlinearity="tanh"):
    """Run `cell` over the whole sequence x (T, B, I) from h0 (B, H); returns (y, h_n, c_n, cache)."""
    k = _setup(cell, x, h0, c0, params, lengths, reverse, gate_activation, nonlinearity)
    _FORWARD[cell](k)
    out = k.S[k.out]                                     # the state after each step, at its time position
    y = out * k.keep if k.keep is not None else out.copy()
    c_n = k.C[k.last].copy() if k.C is not None else None
    return y, k.S[k.last].copy(), c_n, k


def backward(cache, dy=None, dh_n=None, dc_n=None):
    """Gradients of a loss L given dy = ∂L/∂y (T, B, H), dh_n = ∂L/∂h_n, dc_n = ∂L/∂c_n (None: zero)."""
    k = cache
    T, B, H = k.S.shape[0] - 1, k.S.shape[1], k.S.shape[2]
    dy = np.zeros((T, B, H), k.dtype) if dy is None else _checked("dy", dy, (T, B, H), k.dtype)
    if k.keep is not None:
        dy = dy * k.keep                                 # padded outputs are constant zeros
    dh = np.zeros((B, H), k.dtype) if dh_n is None else _checked("dh_n", dh_n, (B, H), k.dtype).copy()
    dc = None
    if k.C is not None:
        dc = np.zeros((B, H), k.dtype) if dc_n is None else _checked("dc_n", dc_n, (B, H), k.dtype).copy()
    elif dc_n is not None:
        raise ValueError(f"dc_n: cell {k.cell!r} has no memory cell")
    dA, grads = _BACKWARD[k.cell](k, dy, dh, dc)         # dA = ∂L/∂(W_ih x_t + b_ih), (T, B, G·H)
    W_ih = k.p["weight_ih"]
    grads["x"] = (dA.reshape(T * B, -1) @ W_ih).reshape(k.x.shape)   # ∂L/∂x_t = dA_t W_ih, all t in one GEMM
    grads["weight_ih"] = _tn(dA, k.x)                    # ∂L/∂W_ih = Σ_t dA_tᵀ x_t
    grads["bias_ih"] = _rows(dA).sum(0)                  # ∂L/∂b_ih = Σ_t Σ_b dA_t
    out = {name: grads[name] for name in ("x", "h0", "c0") if name in grads}
    out.update({name: None if value is None else grads[name] for name, value in k.params.items()})
    return out


# ---------------------------------------------------------------------------------------------------------------
# Forward, one loop per cell. k.A holds the hoisted input projections (biases folded in), overwritten step by step
# with the gate activations; k.S (T+1, B, H) holds h0 and every state: step t reads S[p] and writes S[q].

def _rnn_forward(k):
    S, A, W_hhT, pad = k.S, k.A, k.p["weight_hh"].T, k.pad
    act = _RNN_ACT[k.nonlinearity][0]
    for t, p, q in k.steps:
        np.matmul(S[p], W_hhT, out=S[q])
        S[q] += A[t]                                     # a_t = (W_ih x_t + b_ih + b_hh) + W_hh h_{t-1}
        act(S[q], out=S[q])                              # h_t = act(a_t)
        if pad is not None:
            np.copyto(S[q], S[p], where=pad[t])          # padded step: the state is frozen


def _lstm_forward(k):
    S, C, A, TC, W_hhT, pad, gate, H = k.S, k.C, k.A, k.TC, k.p["weight_hh"].T, k.pad, k.gate, k.H
    for t, p, q in k.steps:
        a = A[t]
        a += S[p] @ W_hhT                                # a_t = W_ih x_t + W_hh h_{t-1} + b
        g = np.tanh(a[:, 2 * H:3 * H])                   # g = tanh(a_g)
        a[...] = gate(a)                                 # i, f, o = σ(a_i), σ(a_f), σ(a_o) (the g slot is redone)
        a[:, 2 * H:3 * H] = g
        np.multiply(a[:, H:2 * H], C[p], out=C[q])
        C[q] += a[:, :H] * g                             # c_t = f⊙c_{t-1} + i⊙g
        np.tanh(C[q], out=TC[t])
        np.multiply(a[:, 3 * H:], TC[t], out=S[q])       # h_t = o⊙tanh(c_t)
        if pad is not None:
            np.copyto(S[q], S[p], where=pad[t])
            np.copyto(C[q], C[p], where=pad[t])


def _peephole_forward(k):
    S, C, A, TC, W_hhT, pad, gate, H = k.S, k.C, k.A, k.TC, k.p["weight_hh"].T, k.pad, k.gate, k.H
    w_ci, w_cf, w_co = k.p["weight_ci"], k.p["weight_cf"], k.p["weight_co"]
    for t, p, q in k.steps:
        a = A[t]
        a += S[p] @ W_hhT                                # a_t = W_ih x_t + W_hh h_{t-1} + b
        a[:, :H] += w_ci * C[p]
        a[:, H:2 * H] += w_cf * C[p]
        a[:, :2 * H] = gate(a[:, :2 * H])                # i = σ(a_i + w_ci⊙c'), f = σ(a_f + w_cf⊙c')
        np.tanh(a[:, 2 * H:3 * H], out=a[:, 2 * H:3 * H])   # g = tanh(a_g)
        np.multiply(a[:, H:2 * H], C[p], out=C[q])
        C[q] += a[:, :H] * a[:, 2 * H:3 * H]             # c_t = f⊙c' + i⊙g
        a[:, 3 * H:] = gate(a[:, 3 * H:] + w_co * C[q])  # o = σ(a_o + w_co⊙c_t): o sees the new c
        np.tanh(C[q], out=TC[t])
        np.multiply(a[:, 3 * H:], TC[t], out=S[q])       # h_t = o⊙tanh(c_t)
        if pad is not None:
            np.copyto(S[q], S[p], where=pad[t])
            np.copyto(C[q], C[p], where=pad[t])


def _gru_forward(k):
    S, A, HN, W_hhT, pad, gate, H = k.S, k.A, k.HN, k.p["weight_hh"].T, k.pad, k.gate, k.H
    b_hn = k.p["bias_hh"][2 * H:]
    for t, p, q in k.steps:
        a = A[t]                                         # x_r + b_hr, x_z + b_hz, x_n
        hh = S[p] @ W_hhT                                # W_hh h' (B, 3H)
        np.add(hh[:, 2 * H:], b_hn, out=HN[t])           # h_n = W_hn h' + b_hn, kept for backward
        a[:, :2 * H] += hh[:, :2 * H]
        a[:, :2 * H] = gate(a[:, :2 * H])                # r, z = σ(x_r + h_r), σ(x_z + h_z)
        n = a[:, 2 * H:]
        n += a[:, :H] * HN[t]
        np.tanh(n, out=n)                                # n = tanh(x_n + r⊙h_n)
        np.subtract(S[p], n, out=S[q])
        S[q] *= a[:, H:2 * H]
        S[q] += n                                        # h_t = n + z⊙(h' − n) = (1−z)⊙n + z⊙h'
        if pad is not None:
            np.copyto(S[q], S[p], where=pad[t])


def _gru_cho_forward(k):
    S, A, RH, W_hh, pad, gate, H = k.S, k.A, k.RH, k.p["weight_hh"], k.pad, k.gate, k.H
    W_hrzT, W_hnT = W_hh[:2 * H].T, W_hh[2 * H:].T
    for t, p, q in k.steps:
        a = A[t]                                         # x_r + b_hr, x_z + b_hz, x_n + b_hn
        a[:, :2 * H] += S[p] @ W_hrzT
        a[:, :2 * H] = gate(a[:, :2 * H])                # r, z = σ(x_r + W_hr h' + b_hr), σ(x_z + W_hz h' + b_hz)
        np.multiply(a[:, :H], S[p], out=RH[t])           # r⊙h', kept for backward
        n = a[:, 2 * H:]
        n += RH[t] @ W_hnT
        np.tanh(n, out=n)                                # n = tanh(x_n + W_hn (r⊙h') + b_hn)
        np.subtract(S[p], n, out=S[q])
        S[q] *= a[:, H:2 * H]
        S[q] += n                                        # h_t = (1−z)⊙n + z⊙h'
        if pad is not None:
            np.copyto(S[q], S[p], where=pad[t])


# ---------------------------------------------------------------------------------------------------------------
# Backward, one loop per cell, t in the reverse of the forward order. dh (dc) enters step t as ∂L/∂h_t (∂L/∂c_t)
# from step t+1 and leaves it as ∂L/∂h_{t-1} (∂L/∂c_{t-1}). A padded step is the identity on the state: its cell
# sees zero gradient (keep = 0) and the gradient skips it (drop = 1). Each returns (dA, grads).

def _rnn_backward(k, dy, dh, dc):
    S, W_hh, keep, drop = k.S, k.p["weight_hh"], k.keep, k.drop
    K = _RNN_ACT[k.nonlinearity][1](S[k.out])            # act'(a_t) from h_t: 1 − h² (tanh), [h > 0] (relu)
    dA = np.empty_like(K)
    for t, p, q in reversed(k.steps):
        dh += dy[t]                                      # ∂L/∂h_t = dy_t + ∂L/∂h_t from step t+1
        if keep is not None:
            dh, skip = dh * keep[t], dh * drop[t]
        np.multiply(dh, K[t], out=dA[t])                 # ∂L/∂a_t = ∂L/∂h_t ⊙ act'(a_t)
        dh = dA[t] @ W_hh                                # ∂L/∂h_{t-1} = ∂L/∂a_t W_hh
        if keep is not None:
            dh += skip
    return dA, {"h0": dh, "weight_hh": _tn(dA, S[k.prev]), "bias_hh": _rows(dA).sum(0)}


def _lstm_backward(k, dy, dh, dc):
    W_hh, keep, drop, dsig, TC = k.p["weight_hh"], k.keep, k.drop, k.dgate, k.TC
    A4 = _by_gate(k.A, 4)
    i, f, g, o = A4[:, :, 0], A4[:, :, 1], A4[:, :, 2], A4[:, :, 3]
    K = np.empty_like(A4)                                # local derivatives, all t at once:
    np.multiply(g, dsig(i), out=K[:, :, 0])              # ∂c/∂a_i = g ⊙ σ'(a_i)
    np.multiply(k.C[k.prev], dsig(f), out=K[:, :, 1])    # ∂c/∂a_f = c' ⊙ σ'(a_f)
    np.multiply(i, 1 - g * g, out=K[:, :, 2])            # ∂c/∂a_g = i ⊙ (1 − g²)
    np.multiply(TC, dsig(o), out=K[:, :, 3])             # ∂h/∂a_o = tanh(c) ⊙ σ'(a_o)
    Kc = o * (1 - TC * TC)                               # ∂h/∂c   = o ⊙ (1 − tanh²(c))
    dA = np.empty_like(k.A)
    dA4 = _by_gate(dA, 4)
    for t, p, q in reversed(k.steps):
        dh += dy[t]                                      # ∂L/∂h_t = dy_t + ∂L/∂h_t from step t+1
        if keep is not None:
            dh, dc, skip_h, skip_c = dh * keep[t], dc * keep[t], dh * drop[t], dc * drop[t]
        dct = dh * Kc[t] + dc                            # ∂L/∂c_t = ∂L/∂h_t ⊙ ∂h/∂c + ∂L/∂c_t from step t+1
        np.multiply(K[t, :, :3], dct[:, None], out=dA4[t, :, :3])   # ∂L/∂a_{i,f,g} = ∂L/∂c_t ⊙ ∂c/∂a_{i,f,g}
        np.multiply(dh, K[t, :, 3], out=dA4[t, :, 3])    # ∂L/∂a_o = ∂L/∂h_t ⊙ ∂h/∂a_o
        dh = dA[t] @ W_hh                                # ∂L/∂h_{t-1} = ∂L/∂a_t W_hh
        dc = dct * f[t]                                  # ∂L/∂c_{t-1} = ∂L/∂c_t ⊙ f
        if keep is not None:
            dh += skip_h
            dc += skip_c
    return dA, {"h0": dh, "c0": dc, "weight_hh": _tn(dA, k.S[k.prev]), "bias_hh": _rows(dA).sum(0)}


def _peephole_backward(k, dy, dh, dc):
    W_hh, keep, drop, dsig, TC, p_ = k.p["weight_hh"], k.keep, k.drop, k.dgate, k.TC, k.p
    w_ci, w_cf, w_co = p_["weight_ci"], p_["weight_cf"], p_["weight_co"]
    Cp, Cn = k.C[k.prev], k.C[k.out]                     # c_{t-1} and c_t for every t
    A4 = _by_gate(k.A, 4)
    i, f, g, o = A4[:, :, 0], A4[:, :, 1], A4[:, :, 2], A4[:, :, 3]
    K = np.empty_like(A4)                                # local derivatives, all t at once:
    np.multiply(g, dsig(i), out=K[:, :, 0])              # ∂c/∂a_i = g ⊙ σ'(i)
    np.multiply(Cp, dsig(f), out=K[:, :, 1])             # ∂c/∂a_f = c' ⊙ σ'(f)
    np.multiply(i, 1 - g * g, out=K[:, :, 2])            # ∂c/∂a_g = i ⊙ (1 − g²)
    np.multiply(TC, dsig(o), out=K[:, :, 3])             # ∂h/∂a_o = tanh(c) ⊙ σ'(o)
    Kc = o * (1 - TC * TC)                               # ∂h/∂c at fixed o = o ⊙ (1 − tanh²(c))
    dA = np.empty_like(k.A)
    dA4 = _by_gate(dA, 4)
    for t, p, q in reversed(k.steps):
        dh += dy[t]                                      # ∂L/∂h_t = dy_t + ∂L/∂h_t from step t+1
        if keep is not None:
            dh, dc, skip_h, skip_c = dh * keep[t], dc * keep[t], dh * drop[t], dc * drop[t]
        da_o = np.multiply(dh, K[t, :, 3], out=dA4[t, :, 3])        # ∂L/∂a_o = ∂L/∂h_t ⊙ tanh(c) ⊙ σ'(o)
        dct = dh * Kc[t] + dc + da_o * w_co              # ∂L/∂c_t: through h, from step t+1, through o's peephole
        np.multiply(K[t, :, :3], dct[:, None], out=dA4[t, :, :3])   # ∂L/∂a_{i,f,g} = ∂L/∂c_t ⊙ ∂c/∂a_{i,f,g}
        dh = dA[t] @ W_hh                                # ∂L/∂h_{t-1} = ∂L/∂a_t W_hh
        dc = dct * f[t] + dA4[t, :, 0] * w_ci + dA4[t, :, 1] * w_cf  # ∂L/∂c_{t-1}: through f⊙c' and the i, f peepholes
        if keep is not None:
            dh += skip_h
            dc += skip_c
    return dA, {"h0": dh, "c0": dc, "weight_hh": _tn(dA, k.S[k.prev]), "bias_hh": _rows(dA).sum(0),
                "weight_ci": (dA4[:, :, 0] * Cp).sum((0, 1)),   # ∂L/∂w_ci = Σ ∂L/∂a_i ⊙ c'
                "weight_cf": (dA4[:, :, 1] * Cp).sum((0, 1)),   # ∂L/∂w_cf = Σ ∂L/∂a_f ⊙ c'
                "weight_co": (dA4[:, :, 3] * Cn).sum((0, 1))}   # ∂L/∂w_co = Σ ∂L/∂a_o ⊙ c


def _gru_backward(k, dy, dh, dc):
    W_hh, keep, drop, dsig = k.p["weight_hh"], k.keep, k.drop, k.dgate
    Hp = k.S[k.prev]
    A3 = _by_gate(k.A, 3)
    r, z, n = A3[:, :, 0], A3[:, :, 1], A3[:, :, 2]
    Kz = (Hp - n) * dsig(z)                              # ∂h/∂a_z = (h' − n) ⊙ σ'(z)
    Kn = (1 - z) * (1 - n * n)                           # ∂h/∂a_n = (1 − z) ⊙ (1 − n²)
    Kr = k.HN * dsig(r)                                  # ∂a_n/∂a_r = h_n ⊙ σ'(r)
    dA, dHH = np.empty_like(k.A), np.empty_like(k.A)     # ∂L/∂(W_ih x + b_ih), ∂L/∂(W_hh h' + b_hh)
    dA3, dHH3 = _by_gate(dA, 3), _by_gate(dHH, 3)
    for t, p, q in reversed(k.steps):
        dh += dy[t]                                      # ∂L/∂h_t = dy_t + ∂L/∂h_t from step t+1
        if keep is not None:
            dh, skip = dh * keep[t], dh * drop[t]
        dn = np.multiply(dh, Kn[t], out=dA3[t, :, 2])    # ∂L/∂a_n = ∂L/∂h_t ⊙ (1 − z) ⊙ (1 − n²)
        np.multiply(dh, Kz[t], out=dHH3[t, :, 1])        # ∂L/∂a_z = ∂L/∂h_t ⊙ (h' − n) ⊙ σ'(z)
        np.multiply(dn, Kr[t], out=dHH3[t, :, 0])        # ∂L/∂a_r = ∂L/∂a_n ⊙ h_n ⊙ σ'(r)
        np.multiply(dn, r[t], out=dHH3[t, :, 2])         # ∂L/∂h_n = ∂L/∂a_n ⊙ r
        dh = dHH[t] @ W_hh + dh * z[t]                   # ∂L/∂h_{t-1} = ∂L/∂(W_hh h') W_hh + ∂L/∂h_t ⊙ z
        if keep is not None:
            dh += skip
    dA3[:, :, :2] = dHH3[:, :, :2]                       # r and z see x and h' alike
    return dA, {"h0": dh, "weight_hh": _tn(dHH, Hp), "bias_hh": _rows(dHH).sum(0)}


def _gru_cho_backward(k, dy, dh, dc):
    W_hh, keep, drop, dsig, H = k.p["weight_hh"], k.keep, k.drop, k.dgate, k.H
    W_hrz, W_hn = W_hh[:2 * H], W_hh[2 * H:]
    Hp = k.S[k.prev]
    A3 = _by_gate(k.A, 3)
    r, z, n = A3[:, :, 0], A3[:, :, 1], A3[:, :, 2]
    Kz = (Hp - n) * dsig(z)                              # ∂h/∂a_z = (h' − n) ⊙ σ'(z)
    Kn = (1 - z) * (1 - n * n)                           # ∂h/∂a_n = (1 − z) ⊙ (1 − n²)
    Kr = Hp * dsig(r)                                    # ∂(r⊙h')/∂a_r = h' ⊙ σ'(r)
    dA = np.empty_like(k.A)                              # here ∂L/∂(W_ih x + b_ih) = ∂L/∂(W_hh[h'; r⊙h'] + b_hh)
    dA3 = _by_gate(dA, 3)
    for t, p, q in reversed(k.steps):
        dh += dy[t]                                      # ∂L/∂h_t = dy_t + ∂L/∂h_t from step t+1
        if keep is not None:
            dh, skip = dh * keep[t], dh * drop[t]
        dn = np.multiply(dh, Kn[t], out=dA3[t, :, 2])    # ∂L/∂a_n = ∂L/∂h_t ⊙ (1 − z) ⊙ (1 − n²)
        np.multiply(dh, Kz[t], out=dA3[t, :, 1])         # ∂L/∂a_z = ∂L/∂h_t ⊙ (h' − n) ⊙ σ'(z)
        drh = dn @ W_hn                                  # ∂L/∂(r⊙h') = ∂L/∂a_n W_hn
        np.multiply(drh, Kr[t], out=dA3[t, :, 0])        # ∂L/∂a_r = ∂L/∂(r⊙h') ⊙ h' ⊙ σ'(r)
        dh = dA[t, :, :2 * H] @ W_hrz + drh * r[t] + dh * z[t]   # ∂L/∂h_{t-1}: via W_h{r,z}, via r⊙h', via z⊙h'
        if keep is not None:
            dh += skip
    dW_hh = np.concatenate([_tn(dA[:, :, :2 * H], Hp), _tn(dA[:, :, 2 * H:], k.RH)])   # [Σ da_rzᵀ h'; Σ da_nᵀ (r⊙h')]
    return dA, {"h0": dh, "weight_hh": dW_hh, "bias_hh": _rows(dA).sum(0)}


_FORWARD = {"rnn": _rnn_forward, "lstm": _lstm_forward, "peephole": _peephole_forward, "gru": _gru_forward,
            "gru_cho": _gru_cho_forward}
_BACKWARD = {"rnn": _rnn_backward, "lstm": _lstm_backward, "peephole": _peephole_backward, "gru": _gru_backward,
             "gru_cho": _gru_cho_backward}


# ---------------------------------------------------------------------------------------------------------------
# Checks, the hoisted input projection and the arrays both passes share.

def _rows(a):
    """(T, B, n) -> (T·B, n), a view."""
    return a.reshape(-1, a.shape[-1])


def _tn(dA, R):
    """Σ_t dA_tᵀ R_t as one GEMM: (n, T·B) @ (T·B, m)."""
    return _rows(dA).T @ _rows(R)


def _by_gate(a, G):
    """(T, B, G·H) -> (T, B, G, H), a view: a[:, :, j] is gate j."""
    return a.reshape(a.shape[0], a.shape[1], G, -1)


def _checked(name, a, shape, dtype):
    if not isinstance(a, np.ndarray):
        raise TypeError(f"{name}: expected a numpy array, got {type(a).__name__}")
    if a.shape != shape:
        raise ValueError(f"{name}: expected shape {shape}, got {a.shape}")
    if a.dtype != dtype:
        raise TypeError(f"{name}: expected dtype {dtype} like x, got {a.dtype} (mixed dtypes are not converted)")
    return a


def _setup(cell, x, h0, c0, params, lengths, reverse, gate_activation, nonlinearity):
    if cell not in _GATES:
        raise ValueError(f"cell must be one of {CELLS}, got {cell!r}")
    if gate_activation not in GATE_NAMES:
        raise ValueError(f"gate_activation must be 'sigmoid' or 'hard_sigmoid', got {gate_activation!r}")
    if nonlinearity not in _RNN_ACT or (cell != "rnn" and nonlinearity != "tanh"):
        raise ValueError(f"nonlinearity must be 'tanh' or 'relu' (rnn only), got {nonlinearity!r} for {cell!r}")
    if not isinstance(x, np.ndarray) or x.ndim != 3 or x.shape[0] < 1:
        raise ValueError(f"x: expected a (T, B, I) array with T >= 1, got {getattr(x, 'shape', type(x).__name__)}")
    if x.dtype not in (np.float32, np.float64):
        raise TypeError(f"x: expected float32 or float64, got {x.dtype}")
    T, B, I = x.shape
    G, dtype = _GATES[cell], x.dtype
    if not isinstance(h0, np.ndarray) or h0.ndim != 2 or h0.shape[0] != B:
        raise ValueError(f"h0: expected a (B, H) array with B = {B}, got {getattr(h0, 'shape', type(h0).__name__)}")
    H = _checked("h0", h0, h0.shape, dtype).shape[1]
    shapes = {"weight_ih": (G * H, I), "weight_hh": (G * H, H), "bias_ih": (G * H,), "bias_hh": (G * H,)}
    if cell == "peephole":
        shapes.update(weight_ci=(H,), weight_cf=(H,), weight_co=(H,))
    if set(params) - set(shapes):
        raise ValueError(f"params: unexpected {sorted(set(params) - set(shapes))} for {cell!r}")
    p = {}
    for name, shape in shapes.items():
        if params.get(name) is None and name.startswith("bias"):
            p[name] = np.zeros(shape, dtype)             # no bias = a zero bias whose gradient is dropped
        elif name not in params:
            raise ValueError(f"params: missing {name!r} for {cell!r}")
        else:
            p[name] = _checked(name, params[name], shape, dtype)
    k = SimpleNamespace(cell=cell, x=x, p=p, params=params, dtype=dtype, H=H, nonlinearity=nonlinearity,
                        gate=ACTIVATIONS[gate_activation][0], dgate=ACTIVATIONS[gate_activation][1])

    # Trap 1: the input projection of all T steps in ONE GEMM, with the biases that add outside any product folded in.
    k.A = (x.reshape(T * B, I) @ p["weight_ih"].T).reshape(T, B, G * H)
    k.A += p["bias_ih"]
    if cell == "gru":
        k.A[:, :, :2 * H] += p["bias_hh"][:2 * H]       # b_hn sits inside r⊙(W_hn h' + b_hn)
    else:
        k.A += p["bias_hh"]

    # S[p] -> S[q] at step t: forwards p, q = t, t+1 (h0 in S[0]); reversed p, q = t+1, t (h0 in S[T]).
    k.S = np.empty((T + 1, B, H), dtype)
    order = range(T - 1, -1, -1) if reverse else range(T)
    k.steps = [(t, t + 1, t) if reverse else (t, t, t + 1) for t in order]
    k.prev, k.out = (slice(1, T + 1), slice(0, T)) if reverse else (slice(0, T), slice(1, T + 1))
    k.last = 0 if reverse else T
    k.S[T if reverse else 0] = h0
    k.C = k.TC = k.HN = k.RH = None
    if cell in ("lstm", "peephole"):
        k.C, k.TC = np.empty_like(k.S), np.empty((T, B, H), dtype)
        k.C[T if reverse else 0] = 0 if c0 is None else _checked("c0", c0, (B, H), dtype)
    elif c0 is not None:
        raise ValueError(f"c0: cell {cell!r} has no memory cell")
    if cell == "gru":
        k.HN = np.empty((T, B, H), dtype)
    if cell == "gru_cho":
        k.RH = np.empty((T, B, H), dtype)

    k.pad = k.keep = k.drop = None
    if lengths is not None:
        lengths = np.asarray(lengths)
        if lengths.shape != (B,) or lengths.dtype.kind not in "iu":
            raise ValueError(f"lengths: expected {B} integers, got {lengths!r}")
        if lengths.min() < 1 or lengths.max() > T:
            raise ValueError(f"lengths: must be in [1, {T}], got {lengths.tolist()}")
        k.pad = (np.arange(T)[:, None] >= lengths)[:, :, None]   # (T, B, 1): step t is padding for sequence b
        k.keep = (~k.pad).astype(dtype)
        k.drop = k.pad.astype(dtype)
    return k
