"""The character-level language model: embedding → recurrent layers → dropout → linear decoder to logits."""
from .. import nn

CELLS = nn.LAYERS  # the cells a char model can use: every recurrent layer


class CharLM(nn.Module):
    """logits (T, B, V) of the next character given characters (T, B); state carries across calls (TBPTT)."""

    def __init__(self, vocab_size, hidden=128, layers=2, cell="lstm", dropout=0.0, embedding=None, dtype=None):
        super().__init__()
        if cell not in CELLS:
            raise ValueError(f"cell: expected one of {', '.join(CELLS)}, but got {cell!r}")
        embedding = embedding or min(hidden, 64)
        self.config = dict(vocab_size=vocab_size, hidden=hidden, layers=layers, cell=cell, dropout=dropout,
                           embedding=embedding)
        self.embedding = nn.Embedding(vocab_size, embedding, dtype=dtype)
        self.rnn = CELLS[cell](embedding, hidden, num_layers=layers, dropout=dropout if layers > 1 else 0.0,
                               dtype=dtype)
        self.drop = nn.Dropout(dropout)
        self.decoder = nn.Linear(hidden, vocab_size, dtype=dtype)

    def forward(self, chars, state=None):
        out, state = self.rnn(self.embedding(chars), state)
        return self.decoder(self.drop(out)), state


def detach_state(state):
    """Cut the carried state from the tape (truncated BPTT): the next window backpropagates only into itself."""
    if state is None:
        return None
    return tuple(s.detach() for s in state) if isinstance(state, tuple) else state.detach()


_GATES = {"lstm": 4, "peephole": 4, "gru": 3, "rnn": 1}


def estimate_bytes(vocab_size, hidden, layers, cell, batch, seq_len, itemsize, weight_copies=4):
    """A lower estimate of a run's memory in bytes: `weight_copies` arrays the size of the weights (training with
    Adam: 4, the weights, their gradients, exp_avg and exp_avg_sq; sampling: 1), plus the activations a window of
    seq_len × batch keeps for backward. Plain Python ints, so absurd sizes cannot overflow."""
    embedding = min(hidden, 64)
    gates = _GATES[cell]
    recurrent = gates * hidden * (embedding + hidden + 2) + (layers - 1) * gates * hidden * (2 * hidden + 2)
    weights = vocab_size * embedding + recurrent + hidden * vocab_size + vocab_size
    activations = seq_len * batch * (layers * (2 * gates + 4) * hidden + 3 * vocab_size + embedding)
    return itemsize * (weights * weight_copies + activations)
