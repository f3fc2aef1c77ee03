"""Exercise 1: the peephole LSTM step (Gers & Schmidhuber 2000) from primitive ops.

Check: python -m tinygrad_rnn exercise 1 docs/solutions/exercise_1.py
"""


def peephole_step(x, h, c, weight_ih, weight_hh, bias, w_ci, w_cf, w_co):
    """i = σ(z_i + w_ci⊙c), f = σ(z_f + w_cf⊙c), g = tanh(z_g), c' = f⊙c + i⊙g, o = σ(z_o + w_co⊙c'),
    h' = o⊙tanh(c'), with z = x W_ihᵀ + h W_hhᵀ + b cut into i, f, g, o. x (B, I); h, c (B, H) -> (h', c')."""
    zi, zf, zg, zo = (x @ weight_ih.T + h @ weight_hh.T + bias).chunk(4, dim=1)
    i = (zi + w_ci * c).sigmoid()              # the input and forget gates look at the old cell state
    f = (zf + w_cf * c).sigmoid()
    c_new = f * c + i * zg.tanh()
    o = (zo + w_co * c_new).sigmoid()          # the output gate looks at the new one
    return o * c_new.tanh(), c_new
