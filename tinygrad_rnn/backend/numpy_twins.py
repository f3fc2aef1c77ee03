"""Pure-NumPy twins of every kernel, with the same signatures as _kernels/linear.pyx, gates.pyx and steps.pyx: the
fallback backend (TINYGRAD_RNN_BACKEND=numpy) and the test oracle for the Cython kernels.

Inputs, the activation name, then the outputs: those given as None are allocated (linear_act_backward: not
computed), and the outputs are returned. Gate order: i, f, g, o (LSTM) and r, z, n (GRU); `act` is the gate
activation ("sigmoid" or "hard_sigmoid"); derivatives are taken from the activations' outputs.
"""
import numpy as np

from ..activations import ACTIVATIONS


def linear_act_forward(x, weight, bias, act, y=None):
    """y = act(x @ Wᵀ + b) for x (B, I), W (O, I), b (O,) or None → y (B, O)"""
    y = np.empty((x.shape[0], weight.shape[0]), x.dtype) if y is None else y
    np.matmul(x, weight.T, out=y)
    if bias is not None:
        y += bias
    if act != "identity":
        y[...] = ACTIVATIONS[act][0](y)
    return y


def linear_act_backward(x, weight, y, dy, act, dx, dweight, dbias):
    """dz = dy⊙act'(y); dx = dz @ W, dW = dzᵀ @ x, db = Σ_b dz; an output given as None is not computed"""
    dz = dy if act == "identity" else dy * ACTIVATIONS[act][1](y)
    if dx is not None:
        np.matmul(dz, weight, out=dx)
    if dweight is not None:
        np.matmul(dz.T, x, out=dweight)
    if dbias is not None:
        np.sum(dz, axis=0, out=dbias)
    return dx, dweight, dbias


def outer_product(left, right, out=None):
    """out = leftᵀ @ right: left (N, O), right (N, I) → out (O, I)"""
    out = np.empty((left.shape[1], right.shape[1]), left.dtype) if out is None else out
    np.matmul(left.T, right, out=out)
    return out


def outer_products(left, right, right2, out=None, out2=None):
    """out = leftᵀ @ right, out2 = leftᵀ @ right2 → (out, out2)"""
    return outer_product(left, right, out), outer_product(left, right2, out2)


def _new(out, like, width):
    """out, or a new (B, width) array like `like` when it is None"""
    return np.empty((like.shape[0], width), like.dtype) if out is None else out


def _zero_if_none(g, like):
    """A missing upstream gradient (None) is zero."""
    return np.zeros_like(like) if g is None else g


def _act(name):
    """(activation, derivative from its output) for a gate activation name."""
    return ACTIVATIONS[name]


def lstm_gates_forward(z, c_prev, act, gates=None, c=None, h=None):
    """i,f,o = act(z), g = tanh(z) (order i,f,g,o); c = f⊙c_prev + i⊙g; h = o⊙tanh(c)"""
    H = c_prev.shape[1]
    gates, c, h = _new(gates, c_prev, 4 * H), _new(c, c_prev, H), _new(h, c_prev, H)
    fn = _act(act)[0]
    gates[:, :2 * H] = fn(z[:, :2 * H])
    gates[:, 2 * H:3 * H] = np.tanh(z[:, 2 * H:3 * H])
    gates[:, 3 * H:] = fn(z[:, 3 * H:])
    i, f, g, o = gates[:, :H], gates[:, H:2 * H], gates[:, 2 * H:3 * H], gates[:, 3 * H:]
    np.add(f * c_prev, i * g, out=c)
    np.multiply(o, np.tanh(c), out=h)
    return gates, c, h


def lstm_gates_backward(gates, c_prev, c, dh, dc, act, dz=None, dc_prev=None):
    """dc_t = dc + dh⊙o⊙(1−tanh²c); dz = [dc_t⊙g⊙i', dc_t⊙c_prev⊙f', dc_t⊙i⊙(1−g²), dh⊙tanh(c)⊙o']; dc_prev = dc_t⊙f"""
    H = c_prev.shape[1]
    dz, dc_prev = _new(dz, c_prev, 4 * H), _new(dc_prev, c_prev, H)
    d = _act(act)[1]
    dh, dc = _zero_if_none(dh, c), _zero_if_none(dc, c)
    i, f, g, o = gates[:, :H], gates[:, H:2 * H], gates[:, 2 * H:3 * H], gates[:, 3 * H:]
    tc = np.tanh(c)
    dct = dc + dh * o * (1 - tc * tc)
    dz[:, :H] = dct * g * d(i)
    dz[:, H:2 * H] = dct * c_prev * d(f)
    dz[:, 2 * H:3 * H] = dct * i * (1 - g * g)
    dz[:, 3 * H:] = dh * tc * d(o)
    np.multiply(dct, f, out=dc_prev)
    return dz, dc_prev


def peephole_gates_forward(z, c_prev, w_ci, w_cf, w_co, act, gates=None, c=None, h=None):
    """i = act(z_i + w_ci⊙c_prev), f = act(z_f + w_cf⊙c_prev), g = tanh(z_g); c = f⊙c_prev + i⊙g;
    o = act(z_o + w_co⊙c); h = o⊙tanh(c)"""
    H = c_prev.shape[1]
    gates, c, h = _new(gates, c_prev, 4 * H), _new(c, c_prev, H), _new(h, c_prev, H)
    fn = _act(act)[0]
    gates[:, :H] = fn(z[:, :H] + w_ci * c_prev)
    gates[:, H:2 * H] = fn(z[:, H:2 * H] + w_cf * c_prev)
    gates[:, 2 * H:3 * H] = np.tanh(z[:, 2 * H:3 * H])
    i, f, g = gates[:, :H], gates[:, H:2 * H], gates[:, 2 * H:3 * H]
    np.add(f * c_prev, i * g, out=c)
    gates[:, 3 * H:] = fn(z[:, 3 * H:] + w_co * c)
    np.multiply(gates[:, 3 * H:], np.tanh(c), out=h)
    return gates, c, h


def peephole_gates_backward(gates, c_prev, c, w_ci, w_cf, w_co, dh, dc, act, dz=None, dc_prev=None, dw_ci=None,
                            dw_cf=None, dw_co=None):
    """do = dh⊙tanh(c)⊙o'; dc_t = dc + dh⊙o⊙(1−tanh²c) + do⊙w_co; di = dc_t⊙g⊙i'; df = dc_t⊙c_prev⊙f';
    dc_prev = dc_t⊙f + di⊙w_ci + df⊙w_cf; dw_ci = Σ_b di⊙c_prev, dw_cf = Σ_b df⊙c_prev, dw_co = Σ_b do⊙c"""
    H = c_prev.shape[1]
    dz, dc_prev = _new(dz, c_prev, 4 * H), _new(dc_prev, c_prev, H)
    dw_ci, dw_cf, dw_co = (np.empty(H, c_prev.dtype) if w is None else w for w in (dw_ci, dw_cf, dw_co))
    d = _act(act)[1]
    dh, dc = _zero_if_none(dh, c), _zero_if_none(dc, c)
    i, f, g, o = gates[:, :H], gates[:, H:2 * H], gates[:, 2 * H:3 * H], gates[:, 3 * H:]
    tc = np.tanh(c)
    do = dh * tc * d(o)
    dct = dc + dh * o * (1 - tc * tc) + do * w_co
    di = dct * g * d(i)
    df = dct * c_prev * d(f)
    dz[:, :H], dz[:, H:2 * H], dz[:, 2 * H:3 * H], dz[:, 3 * H:] = di, df, dct * i * (1 - g * g), do
    dc_prev[...] = dct * f + di * w_ci + df * w_cf
    dw_ci[...] = (di * c_prev).sum(0)
    dw_cf[...] = (df * c_prev).sum(0)
    dw_co[...] = (do * c).sum(0)
    return dz, dc_prev, dw_ci, dw_cf, dw_co


def gru_gates_forward(xp, hp, h_prev, act, gates=None, h=None):
    """reset-after: r, z = act(xp + hp); n = tanh(xp_n + r⊙hp_n); h = (1−z)⊙n + z⊙h_prev"""
    H = h_prev.shape[1]
    gates, h = _new(gates, h_prev, 3 * H), _new(h, h_prev, H)
    fn = _act(act)[0]
    gates[:, :2 * H] = fn(xp[:, :2 * H] + hp[:, :2 * H])
    r, z = gates[:, :H], gates[:, H:2 * H]
    gates[:, 2 * H:] = np.tanh(xp[:, 2 * H:] + r * hp[:, 2 * H:])
    n = gates[:, 2 * H:]
    h[...] = (1 - z) * n + z * h_prev
    return gates, h


def gru_gates_backward(gates, hp, h_prev, dh, act, dxp=None, dhp=None, dh_prev=None):
    """dn = dh⊙(1−z)⊙(1−n²); dz = dh⊙(h_prev−n)⊙z'; dr = dn⊙hp_n⊙r'; dxp = [dr, dz, dn];
    dhp = [dr, dz, dn⊙r]; dh_prev = dh⊙z (the part not through hp)"""
    H = h_prev.shape[1]
    dxp, dhp, dh_prev = _new(dxp, h_prev, 3 * H), _new(dhp, h_prev, 3 * H), _new(dh_prev, h_prev, H)
    d = _act(act)[1]
    dh = _zero_if_none(dh, h_prev)
    r, z, n = gates[:, :H], gates[:, H:2 * H], gates[:, 2 * H:]
    dn = dh * (1 - z) * (1 - n * n)
    dz = dh * (h_prev - n) * d(z)
    dr = dn * hp[:, 2 * H:] * d(r)
    dxp[:, :H], dxp[:, H:2 * H], dxp[:, 2 * H:] = dr, dz, dn
    dhp[:, :H], dhp[:, H:2 * H], dhp[:, 2 * H:] = dr, dz, dn * r
    dh_prev[...] = dh * z
    return dxp, dhp, dh_prev


def gru_cho_reset_forward(xp, hp_rz, h_prev, act, gates_rz=None, rh=None):
    """Cho GRU, first half: r, z = act(xp_rz + hp_rz); rh = r⊙h_prev (then hn = rh @ W_hnᵀ)"""
    H = h_prev.shape[1]
    gates_rz, rh = _new(gates_rz, h_prev, 2 * H), _new(rh, h_prev, H)
    gates_rz[...] = _act(act)[0](xp[:, :2 * H] + hp_rz)
    rh[...] = gates_rz[:, :H] * h_prev
    return gates_rz, rh


def gru_cho_update_forward(xp, hn, gates_rz, h_prev, n=None, h=None):
    """Cho GRU, second half: n = tanh(xp_n + hn); h = (1−z)⊙n + z⊙h_prev"""
    H = h_prev.shape[1]
    n, h = _new(n, h_prev, H), _new(h, h_prev, H)
    n[...] = np.tanh(xp[:, 2 * H:] + hn)
    z = gates_rz[:, H:]
    h[...] = (1 - z) * n + z * h_prev
    return n, h


def gru_cho_update_backward(gates_rz, n, h_prev, dh, act, dz_pre=None, dn_pre=None, dh_prev=None):
    """dn_pre = dh⊙(1−z)⊙(1−n²); dz_pre = dh⊙(h_prev−n)⊙z'; dh_prev = dh⊙z"""
    H = h_prev.shape[1]
    dz_pre, dn_pre, dh_prev = _new(dz_pre, h_prev, H), _new(dn_pre, h_prev, H), _new(dh_prev, h_prev, H)
    z = gates_rz[:, H:]
    dn_pre[...] = dh * (1 - z) * (1 - n * n)
    dz_pre[...] = dh * (h_prev - n) * _act(act)[1](z)
    dh_prev[...] = dh * z
    return dz_pre, dn_pre, dh_prev


def gru_cho_reset_backward(gates_rz, h_prev, d_rh, act, dr_pre=None, dh_prev=None):
    """given d_rh = dn_pre @ W_hn: dr_pre = d_rh⊙h_prev⊙r'; dh_prev = d_rh⊙r (the part through r⊙h_prev)"""
    H = h_prev.shape[1]
    dr_pre, dh_prev = _new(dr_pre, h_prev, H), _new(dh_prev, h_prev, H)
    r = gates_rz[:, :H]
    dr_pre[...] = d_rh * h_prev * _act(act)[1](r)
    dh_prev[...] = d_rh * r
    return dr_pre, dh_prev


# ---- steps: the recurrent GEMM and the gates in one call (twins of _kernels/steps.pyx) ------------------------

def _recurrent(h_prev, w_hh, transposed):
    """h_prev @ W_hhᵀ, W_hh given as (G·H, H) or, transposed, as (H, G·H)"""
    return h_prev @ (w_hh if transposed else w_hh.T)


def lstm_step_forward(xp, h_prev, c_prev, w_hh, act, gates=None, c=None, h=None, transposed=False):
    """z = xp + h_prev @ W_hhᵀ (w_hh given as W_hhᵀ if transposed); then lstm_gates_forward → (gates, c, h)"""
    H = h_prev.shape[1]
    gates, c, h = _new(gates, h_prev, 4 * H), _new(c, h_prev, H), _new(h, h_prev, H)
    lstm_gates_forward(xp + _recurrent(h_prev, w_hh, transposed), c_prev, act, gates, c, h)
    return gates, c, h


def lstm_step_backward(gates, c_prev, c, w_hh, dh, dc, act, dz=None, dc_prev=None, dh_prev=None):
    """lstm_gates_backward (dh or dc None: zero); dh_prev = dz @ W_hh → (dz, dc_prev, dh_prev)"""
    H = c_prev.shape[1]
    dz, dc_prev, dh_prev = _new(dz, c_prev, 4 * H), _new(dc_prev, c_prev, H), _new(dh_prev, c_prev, H)
    lstm_gates_backward(gates, c_prev, c, dh, dc, act, dz, dc_prev)
    np.matmul(dz, w_hh, out=dh_prev)
    return dz, dc_prev, dh_prev


def peephole_step_forward(xp, h_prev, c_prev, w_hh, w_ci, w_cf, w_co, act, gates=None, c=None, h=None,
                          transposed=False):
    """z = xp + h_prev @ W_hhᵀ; then peephole_gates_forward → (gates, c, h)"""
    H = h_prev.shape[1]
    gates, c, h = _new(gates, h_prev, 4 * H), _new(c, h_prev, H), _new(h, h_prev, H)
    peephole_gates_forward(xp + _recurrent(h_prev, w_hh, transposed), c_prev, w_ci, w_cf, w_co, act, gates, c, h)
    return gates, c, h


def peephole_step_backward(gates, c_prev, c, w_hh, w_ci, w_cf, w_co, dh, dc, act, dz=None, dc_prev=None,
                           dh_prev=None, dw_ci=None, dw_cf=None, dw_co=None):
    """peephole_gates_backward (dh or dc None: zero); dh_prev = dz @ W_hh → (dz, dc_prev, dh_prev, dw_ci, dw_cf, dw_co)"""
    H = c_prev.shape[1]
    dz, dc_prev, dh_prev = _new(dz, c_prev, 4 * H), _new(dc_prev, c_prev, H), _new(dh_prev, c_prev, H)
    dw = [np.empty(H, c_prev.dtype) if w is None else w for w in (dw_ci, dw_cf, dw_co)]
    peephole_gates_backward(gates, c_prev, c, w_ci, w_cf, w_co, dh, dc, act, dz, dc_prev, *dw)
    np.matmul(dz, w_hh, out=dh_prev)
    return (dz, dc_prev, dh_prev, *dw)


def gru_step_forward(xp, h_prev, w_hh, b_hh, act, hp=None, gates=None, h=None, transposed=False):
    """hp = h_prev @ W_hhᵀ + b_hh (None: no bias); then gru_gates_forward → (hp, gates, h)"""
    H = h_prev.shape[1]
    hp, gates, h = _new(hp, h_prev, 3 * H), _new(gates, h_prev, 3 * H), _new(h, h_prev, H)
    np.matmul(h_prev, w_hh if transposed else w_hh.T, out=hp)
    if b_hh is not None:
        hp += b_hh
    gru_gates_forward(xp, hp, h_prev, act, gates, h)
    return hp, gates, h


def gru_step_backward(gates, hp, h_prev, w_hh, dh, act, dxp=None, dhp=None, dh_prev=None):
    """gru_gates_backward (dh None: zero); dh_prev = dh⊙z + dhp @ W_hh → (dxp, dhp, dh_prev)"""
    H = h_prev.shape[1]
    dxp, dhp, dh_prev = _new(dxp, h_prev, 3 * H), _new(dhp, h_prev, 3 * H), _new(dh_prev, h_prev, H)
    gru_gates_backward(gates, hp, h_prev, dh, act, dxp, dhp, dh_prev)
    dh_prev += dhp @ w_hh
    return dxp, dhp, dh_prev


def rnn_step_forward(xp, h_prev, w_hh, nonlinearity, h=None, transposed=False):
    """h = act(xp + h_prev @ W_hhᵀ), act tanh or relu → h"""
    z = xp + _recurrent(h_prev, w_hh, transposed)
    h = _new(h, h_prev, h_prev.shape[1])
    h[...] = np.tanh(z) if nonlinearity == "tanh" else np.maximum(z, 0)
    return h


def rnn_step_backward(h, w_hh, dh, nonlinearity, dz=None, dh_prev=None):
    """dz = dh⊙act'(h) (1 − h², or h > 0; dh None: zero); dh_prev = dz @ W_hh → (dz, dh_prev)"""
    dz, dh_prev = _new(dz, h, h.shape[1]), _new(dh_prev, h, h.shape[1])
    if dh is None:                        # no gradient: zero, even where act'(h) is not finite (0·inf is nan)
        dz[...] = 0
    else:
        dz[...] = dh * (1 - h * h) if nonlinearity == "tanh" else dh * (h > 0)
    np.matmul(dz, w_hh, out=dh_prev)
    return dz, dh_prev


def transposed(w, out=None):
    """wᵀ as a new C-contiguous array (or into out)"""
    if out is None:
        return np.ascontiguousarray(w.T)
    out[...] = w.T
    return out


# ---- sequences: a whole loop over time in one call (twins of _kernels/sequence.pyx) ----------------------------
# Step t is the one at time position t; with reverse the steps run t = T−1 … 0. keep (T, B) (None: every step
# counts) is nonzero where step t counts for row b; where it is 0 the state is carried through, ys is 0 and the
# gradient passes the step by. hs, cs (T, B, H) hold the state after each step.

def _new3(out, T, like, width):
    """out, or a new (T, B, width) array like `like` (B, ·) when it is None"""
    return np.empty((T, like.shape[0], width), like.dtype) if out is None else out


def _steps(T, reverse):
    """The time positions in the order the steps run, each with the position of the step before it (None first)."""
    order = list(range(T - 1, -1, -1)) if reverse else list(range(T))
    return list(zip(order, [None] + order[:-1]))


def _ended(keep, t):
    """(B, 1) booleans: where the sequence has ended at step t; None when every row counts."""
    return None if keep is None else (keep[t] == 0)[:, None]


def _carry_and_output(ended, new, old, ys_t):
    """new = old where the sequence has ended; ys_t = new, or 0 there."""
    if ended is None:
        ys_t[...] = new
        return
    np.copyto(new, old, where=ended)
    ys_t[...] = np.where(ended, 0, new)


def _step_grad(ended, carried, dy_t):
    """What a step's backward gets: the carried gradient plus ∂L/∂y_t, 0 where the sequence has ended."""
    g = carried if dy_t is None else carried + dy_t
    return g if ended is None else np.where(ended, 0, g)


def _passed(ended, new, carried):
    """new + carried where the sequence has ended (the gradient skips the step there)."""
    return new if ended is None else new + np.where(ended, carried, 0)


def _zeros_or_copy(g, like):
    return np.zeros_like(like) if g is None else g.copy()


def rnn_sequence_forward(xp, h0, w_hh, keep, nonlinearity, hs=None, ys=None, reverse=False, transposed=False):
    """rnn_step_forward for every step, the state carried where keep is 0 → (hs, ys)"""
    T, H = xp.shape[0], h0.shape[1]
    hs, ys = _new3(hs, T, h0, H), _new3(ys, T, h0, H)
    for t, before in _steps(T, reverse):
        h_prev = h0 if before is None else hs[before]
        rnn_step_forward(xp[t], h_prev, w_hh, nonlinearity, hs[t], transposed)
        _carry_and_output(_ended(keep, t), hs[t], h_prev, ys[t])
    return hs, ys


def rnn_sequence_backward(hs, w_hh, keep, dys, dh_n, nonlinearity, dz=None, dh0=None, reverse=False):
    """rnn_step_backward for every step in reverse order → (dz (T, B, H), dh0 (B, H))"""
    T = hs.shape[0]
    dz = np.empty(hs.shape, hs.dtype) if dz is None else dz
    dh0 = np.empty(hs.shape[1:], hs.dtype) if dh0 is None else dh0
    dh = _zeros_or_copy(dh_n, dh0)
    for t, _ in reversed(_steps(T, reverse)):
        ended = _ended(keep, t)
        _, dh_prev = rnn_step_backward(hs[t], w_hh, _step_grad(ended, dh, None if dys is None else dys[t]),
                                       nonlinearity, dz[t])
        dh = _passed(ended, dh_prev, dh)
    dh0[...] = dh
    return dz, dh0


def lstm_sequence_forward(xp, h0, c0, w_hh, keep, act, gates=None, cs=None, hs=None, ys=None, reverse=False,
                          transposed=False):
    """lstm_step_forward for every step, the state carried where keep is 0 → (gates (T, B, 4H), cs, hs, ys)"""
    return _lstm_sequence_forward(xp, h0, c0, w_hh, None, keep, act, gates, cs, hs, ys, reverse, transposed)


def peephole_sequence_forward(xp, h0, c0, w_hh, w_ci, w_cf, w_co, keep, act, gates=None, cs=None, hs=None, ys=None,
                              reverse=False, transposed=False):
    """peephole_step_forward for every step, the state carried where keep is 0 → (gates (T, B, 4H), cs, hs, ys)"""
    return _lstm_sequence_forward(xp, h0, c0, w_hh, (w_ci, w_cf, w_co), keep, act, gates, cs, hs, ys, reverse,
                                  transposed)


def _lstm_sequence_forward(xp, h0, c0, w_hh, peep, keep, act, gates, cs, hs, ys, reverse, transposed):
    T, H = xp.shape[0], h0.shape[1]
    gates, cs, hs, ys = _new3(gates, T, h0, 4 * H), _new3(cs, T, h0, H), _new3(hs, T, h0, H), _new3(ys, T, h0, H)
    for t, before in _steps(T, reverse):
        h_prev, c_prev = (h0, c0) if before is None else (hs[before], cs[before])
        if peep is None:
            lstm_step_forward(xp[t], h_prev, c_prev, w_hh, act, gates[t], cs[t], hs[t], transposed)
        else:
            peephole_step_forward(xp[t], h_prev, c_prev, w_hh, *peep, act, gates[t], cs[t], hs[t], transposed)
        ended = _ended(keep, t)
        if ended is not None:
            np.copyto(cs[t], c_prev, where=ended)
        _carry_and_output(ended, hs[t], h_prev, ys[t])
    return gates, cs, hs, ys


def lstm_sequence_backward(gates, cs, c0, w_hh, keep, dys, dh_n, dc_n, dcs, act, dz=None, dh0=None, dc0=None,
                           reverse=False):
    """lstm_step_backward for every step in reverse order (dcs (T, B, H) or None: ∂L/∂c_t of cs itself)
    → (dz (T, B, 4H), dh0, dc0 (B, H))"""
    return _lstm_sequence_backward(gates, cs, c0, w_hh, None, keep, dys, dh_n, dc_n, dcs, act, dz, dh0, dc0, None,
                                   reverse)


def peephole_sequence_backward(gates, cs, c0, w_hh, w_ci, w_cf, w_co, keep, dys, dh_n, dc_n, dcs, act, dz=None,
                               dh0=None, dc0=None, dw_ci=None, dw_cf=None, dw_co=None, reverse=False):
    """peephole_step_backward for every step in reverse order, the peephole gradients summed
    → (dz (T, B, 4H), dh0, dc0 (B, H), dw_ci, dw_cf, dw_co (H,))"""
    return _lstm_sequence_backward(gates, cs, c0, w_hh, (w_ci, w_cf, w_co), keep, dys, dh_n, dc_n, dcs, act, dz, dh0,
                                   dc0, (dw_ci, dw_cf, dw_co), reverse)


def _lstm_sequence_backward(gates, cs, c0, w_hh, peep, keep, dys, dh_n, dc_n, dcs, act, dz, dh0, dc0, dw, reverse):
    T = gates.shape[0]
    dz = np.empty(gates.shape, gates.dtype) if dz is None else dz
    dh0 = np.empty(c0.shape, c0.dtype) if dh0 is None else dh0
    dc0 = np.empty(c0.shape, c0.dtype) if dc0 is None else dc0
    dh, dc = _zeros_or_copy(dh_n, c0), _zeros_or_copy(dc_n, c0)
    if peep is not None:
        dw = [np.empty(c0.shape[1], c0.dtype) if w is None else w for w in dw]
        for w in dw:
            w[...] = 0
    for t, before in reversed(_steps(T, reverse)):
        ended = _ended(keep, t)
        c_prev = c0 if before is None else cs[before]
        if dcs is not None:                   # every row: where the step did not count, c_t is the carried c
            dc = dc + dcs[t]
        g_h, g_c = _step_grad(ended, dh, None if dys is None else dys[t]), _step_grad(ended, dc, None)
        if peep is None:
            _, dc_prev, dh_prev = lstm_step_backward(gates[t], c_prev, cs[t], w_hh, g_h, g_c, act, dz[t])
        else:
            _, dc_prev, dh_prev, *step_dw = peephole_step_backward(gates[t], c_prev, cs[t], w_hh, *peep, g_h, g_c,
                                                                   act, dz[t])
            for total, step in zip(dw, step_dw):
                total += step
        dh, dc = _passed(ended, dh_prev, dh), _passed(ended, dc_prev, dc)
    dh0[...], dc0[...] = dh, dc
    return (dz, dh0, dc0) if peep is None else (dz, dh0, dc0, *dw)


def gru_sequence_forward(xp, h0, w_hh, b_hh, keep, act, hp=None, gates=None, hs=None, ys=None, reverse=False,
                         transposed=False):
    """gru_step_forward for every step, the state carried where keep is 0 → (hp, gates (T, B, 3H), hs, ys)"""
    T, H = xp.shape[0], h0.shape[1]
    hp, gates, hs, ys = _new3(hp, T, h0, 3 * H), _new3(gates, T, h0, 3 * H), _new3(hs, T, h0, H), _new3(ys, T, h0, H)
    for t, before in _steps(T, reverse):
        h_prev = h0 if before is None else hs[before]
        gru_step_forward(xp[t], h_prev, w_hh, b_hh, act, hp[t], gates[t], hs[t], transposed)
        _carry_and_output(_ended(keep, t), hs[t], h_prev, ys[t])
    return hp, gates, hs, ys


def gru_sequence_backward(gates, hp, hs, h0, w_hh, keep, dys, dh_n, act, dxp=None, dhp=None, dh0=None,
                          reverse=False):
    """gru_step_backward for every step in reverse order → (dxp, dhp (T, B, 3H), dh0 (B, H))"""
    T = gates.shape[0]
    dxp = np.empty(gates.shape, gates.dtype) if dxp is None else dxp
    dhp = np.empty(gates.shape, gates.dtype) if dhp is None else dhp
    dh0 = np.empty(h0.shape, h0.dtype) if dh0 is None else dh0
    dh = _zeros_or_copy(dh_n, h0)
    for t, before in reversed(_steps(T, reverse)):
        ended = _ended(keep, t)
        h_prev = h0 if before is None else hs[before]
        _, _, dh_prev = gru_step_backward(gates[t], hp[t], h_prev, w_hh,
                                          _step_grad(ended, dh, None if dys is None else dys[t]), act, dxp[t], dhp[t])
        dh = _passed(ended, dh_prev, dh)
    dh0[...] = dh
    return dxp, dhp, dh0


def gru_cho_sequence_forward(xp, h0, w_rz, w_n, keep, act, gates_rz=None, rh=None, n=None, hs=None, ys=None,
                             reverse=False):
    """GRUChoStep's forward for every step → (gates_rz (T, B, 2H), rh, n, hs, ys (T, B, H))"""
    T, H = xp.shape[0], h0.shape[1]
    gates_rz, rh, n = _new3(gates_rz, T, h0, 2 * H), _new3(rh, T, h0, H), _new3(n, T, h0, H)
    hs, ys = _new3(hs, T, h0, H), _new3(ys, T, h0, H)
    for t, before in _steps(T, reverse):
        h_prev = h0 if before is None else hs[before]
        gru_cho_reset_forward(xp[t], h_prev @ w_rz.T, h_prev, act, gates_rz[t], rh[t])
        gru_cho_update_forward(xp[t], rh[t] @ w_n.T, gates_rz[t], h_prev, n[t], hs[t])
        _carry_and_output(_ended(keep, t), hs[t], h_prev, ys[t])
    return gates_rz, rh, n, hs, ys


def gru_cho_sequence_backward(gates_rz, n, hs, h0, w_rz, w_n, keep, dys, dh_n, act, dxp=None, dh0=None,
                              reverse=False):
    """GRUChoStep's backward for every step in reverse order → (dxp = [dr, dz, dn] (T, B, 3H), dh0 (B, H))"""
    T, H = gates_rz.shape[0], h0.shape[1]
    dxp = np.empty((T,) + h0.shape[:1] + (3 * H,), h0.dtype) if dxp is None else dxp
    dh0 = np.empty(h0.shape, h0.dtype) if dh0 is None else dh0
    dh = _zeros_or_copy(dh_n, h0)
    for t, before in reversed(_steps(T, reverse)):
        ended = _ended(keep, t)
        h_prev = h0 if before is None else hs[before]
        g = _step_grad(ended, dh, None if dys is None else dys[t])
        dz_pre, dn_pre, dh_prev = gru_cho_update_backward(gates_rz[t], n[t], h_prev, g, act)
        dr_pre, dh_via_r = gru_cho_reset_backward(gates_rz[t], h_prev, dn_pre @ w_n, act)
        dh_prev += dh_via_r
        dxp[t, :, :H], dxp[t, :, H:2 * H], dxp[t, :, 2 * H:] = dr_pre, dz_pre, dn_pre
        dh_prev += dxp[t, :, :2 * H] @ w_rz
        dh = _passed(ended, dh_prev, dh)
    dh0[...] = dh
    return dxp, dh0
