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
