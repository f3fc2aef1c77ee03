"""Exercise 4: the minimal gated unit (Zhou et al. 2016) as a Recurrence, and a sequence layer built on it.

Check: python -m tinygrad_rnn exercise 4 docs/solutions/exercise_4.py
"""
from tinygrad_rnn.nn.layers import RNNBase
from tinygrad_rnn.nn.recurrences import Recurrence


class MGURecurrence(Recurrence):
    """f = σ(W_f x + U_f h + b_f); ñ = tanh(W_n x + U_n (f⊙h) + b_n); h' = (1 − f)⊙h + f⊙ñ (gate order f, n)"""

    n_gates = 2               # weight_ih is (2H, I), weight_hh (2H, H): the rows of f, then those of ñ
    has_cell_state = False    # the state is h alone (an LSTM's is (h, c))

    def __init__(self):
        super().__init__("sigmoid", fused=False)

    def step(self, xp, state, prepared, return_gates=False):   # xp = W_ih x_t + b_ih + b_hh, (B, 2H)
        h, w_hh = state, prepared
        u_f, u_n = w_hh.chunk(2, dim=0)
        x_f, x_n = xp.chunk(2, dim=1)
        f = (x_f + h @ u_f.T).sigmoid()
        n = (x_n + (f * h) @ u_n.T).tanh()
        return (1 - f) * h + f * n, None


class MGU(RNNBase):
    def __init__(self, input_size, hidden_size, **options):
        super().__init__(MGURecurrence(), input_size, hidden_size, **options)
