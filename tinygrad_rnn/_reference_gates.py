"""NumPy twins of the recurrent gate kernels: same signatures as the Cython ones in _kernels/gates.pyx.

Each writes into the output arrays it is given. Gate order: i, f, g, o (LSTM) and r, z, n (GRU); `act` is the gate
activation ("sigmoid" or "hard_sigmoid"); derivatives are taken from the activations' outputs.
"""
import numpy as np

from tinygrad_rnn._reference import ACTIVATIONS


def _act(name):
    """(activation, derivative from its output) for a gate activation name."""
    return ACTIVATIONS[name]


def lstm_gates_forward(z, c_prev, act, gates, c, h):
    """i,f,o = act(z), g = tanh(z) (order i,f,g,o); c = f⊙c_prev + i⊙g; h = o⊙tanh(c)"""
    H = c_prev.shape[1]
    fn = _act(act)[0]
    gates[:, :2 * H] = fn(z[:, :2 * H])
    gates[:, 2 * H:3 * H] = np.tanh(z[:, 2 * H:3 * H])
    gates[:, 3 * H:] = fn(z[:, 3 * H:])
    i, f, g, o = gates[:, :H], gates[:, H:2 * H], gates[:, 2 * H:3 * H], gates[:, 3 * H:]
    np.add(f * c_prev, i * g, out=c)
    np.multiply(o, np.tanh(c), out=h)


def lstm_gates_backward(gates, c_prev, c, dh, dc, act, dz, dc_prev):
    """dc_t = dc + dh⊙o⊙(1−tanh²c); dz = [dc_t⊙g⊙i', dc_t⊙c_prev⊙f', dc_t⊙i⊙(1−g²), dh⊙tanh(c)⊙o']; dc_prev = dc_t⊙f"""
    H = c_prev.shape[1]
    d = _act(act)[1]
    i, f, g, o = gates[:, :H], gates[:, H:2 * H], gates[:, 2 * H:3 * H], gates[:, 3 * H:]
    tc = np.tanh(c)
    dct = dc + dh * o * (1 - tc * tc)
    dz[:, :H] = dct * g * d(i)
    dz[:, H:2 * H] = dct * c_prev * d(f)
    dz[:, 2 * H:3 * H] = dct * i * (1 - g * g)
    dz[:, 3 * H:] = dh * tc * d(o)
    np.multiply(dct, f, out=dc_prev)


def peephole_gates_forward(z, c_prev, w_ci, w_cf, w_co, act, gates, c, h):
    """i = act(z_i + w_ci⊙c_prev), f = act(z_f + w_cf⊙c_prev), g = tanh(z_g); c = f⊙c_prev + i⊙g;
    o = act(z_o + w_co⊙c); h = o⊙tanh(c)"""
    H = c_prev.shape[1]
    fn = _act(act)[0]
    gates[:, :H] = fn(z[:, :H] + w_ci * c_prev)
    gates[:, H:2 * H] = fn(z[:, H:2 * H] + w_cf * c_prev)
    gates[:, 2 * H:3 * H] = np.tanh(z[:, 2 * H:3 * H])
    i, f, g = gates[:, :H], gates[:, H:2 * H], gates[:, 2 * H:3 * H]
    np.add(f * c_prev, i * g, out=c)
    gates[:, 3 * H:] = fn(z[:, 3 * H:] + w_co * c)
    np.multiply(gates[:, 3 * H:], np.tanh(c), out=h)


def peephole_gates_backward(gates, c_prev, c, w_ci, w_cf, w_co, dh, dc, act, dz, dc_prev, dw_ci, dw_cf, dw_co):
    """do = dh⊙tanh(c)⊙o'; dc_t = dc + dh⊙o⊙(1−tanh²c) + do⊙w_co; di = dc_t⊙g⊙i'; df = dc_t⊙c_prev⊙f';
    dc_prev = dc_t⊙f + di⊙w_ci + df⊙w_cf; dw_ci = Σ_b di⊙c_prev, dw_cf = Σ_b df⊙c_prev, dw_co = Σ_b do⊙c"""
    H = c_prev.shape[1]
    d = _act(act)[1]
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


def gru_gates_forward(xp, hp, h_prev, act, gates, h):
    """reset-after: r, z = act(xp + hp); n = tanh(xp_n + r⊙hp_n); h = (1−z)⊙n + z⊙h_prev"""
    H = h_prev.shape[1]
    fn = _act(act)[0]
    gates[:, :2 * H] = fn(xp[:, :2 * H] + hp[:, :2 * H])
    r, z = gates[:, :H], gates[:, H:2 * H]
    gates[:, 2 * H:] = np.tanh(xp[:, 2 * H:] + r * hp[:, 2 * H:])
    n = gates[:, 2 * H:]
    h[...] = (1 - z) * n + z * h_prev


def gru_gates_backward(gates, hp, h_prev, dh, act, dxp, dhp, dh_prev):
    """dn = dh⊙(1−z)⊙(1−n²); dz = dh⊙(h_prev−n)⊙z'; dr = dn⊙hp_n⊙r'; dxp = [dr, dz, dn];
    dhp = [dr, dz, dn⊙r]; dh_prev = dh⊙z (the part not through hp)"""
    H = h_prev.shape[1]
    d = _act(act)[1]
    r, z, n = gates[:, :H], gates[:, H:2 * H], gates[:, 2 * H:]
    dn = dh * (1 - z) * (1 - n * n)
    dz = dh * (h_prev - n) * d(z)
    dr = dn * hp[:, 2 * H:] * d(r)
    dxp[:, :H], dxp[:, H:2 * H], dxp[:, 2 * H:] = dr, dz, dn
    dhp[:, :H], dhp[:, H:2 * H], dhp[:, 2 * H:] = dr, dz, dn * r
    dh_prev[...] = dh * z


def gru_cho_reset_forward(xp, hp_rz, h_prev, act, gates_rz, rh):
    """Cho GRU, first half: r, z = act(xp_rz + hp_rz); rh = r⊙h_prev (then hn = rh @ W_hnᵀ)"""
    H = h_prev.shape[1]
    gates_rz[...] = _act(act)[0](xp[:, :2 * H] + hp_rz)
    rh[...] = gates_rz[:, :H] * h_prev


def gru_cho_update_forward(xp, hn, gates_rz, h_prev, n, h):
    """Cho GRU, second half: n = tanh(xp_n + hn); h = (1−z)⊙n + z⊙h_prev"""
    H = h_prev.shape[1]
    n[...] = np.tanh(xp[:, 2 * H:] + hn)
    z = gates_rz[:, H:]
    h[...] = (1 - z) * n + z * h_prev


def gru_cho_update_backward(gates_rz, n, h_prev, dh, act, dz_pre, dn_pre, dh_prev):
    """dn_pre = dh⊙(1−z)⊙(1−n²); dz_pre = dh⊙(h_prev−n)⊙z'; dh_prev = dh⊙z"""
    H = h_prev.shape[1]
    z = gates_rz[:, H:]
    dn_pre[...] = dh * (1 - z) * (1 - n * n)
    dz_pre[...] = dh * (h_prev - n) * _act(act)[1](z)
    dh_prev[...] = dh * z


def gru_cho_reset_backward(gates_rz, h_prev, d_rh, act, dr_pre, dh_prev):
    """given d_rh = dn_pre @ W_hn: dr_pre = d_rh⊙h_prev⊙r'; dh_prev = d_rh⊙r (the part through r⊙h_prev)"""
    H = h_prev.shape[1]
    r = gates_rz[:, :H]
    dr_pre[...] = d_rh * h_prev * _act(act)[1](r)
    dh_prev[...] = d_rh * r
