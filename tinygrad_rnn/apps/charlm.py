"""The character-level language model: embedding → recurrent layers → dropout → linear decoder to logits."""
import numbers

import numpy as np

from .. import nn
from ..activations import GATE_NAMES
from .models import CELLS, build_layer, check_cell_options, clock_period


class CharLM(nn.Module):
    """logits (T, B, V) of the next character given characters (T, B); state carries across calls (TBPTT).

    cell is a name of models.CELLS; gate_activation, forget_bias and periods go to its layer. one_hot=True feeds
    each character as a one-hot vector (min-char-rnn's input: the embedding is the identity, frozen), so the first
    layer's weight_ih plays the part of min-char-rnn's Wxh.
    """

    def __init__(self, vocab_size, hidden=128, layers=2, cell="lstm", dropout=0.0, embedding=None, dtype=None,
                 gate_activation="sigmoid", forget_bias=None, periods=None, one_hot=False):
        super().__init__()
        if cell not in CELLS:
            raise ValueError(f"cell: expected one of {', '.join(CELLS)}, but got {cell!r}")
        embedding = vocab_size if one_hot else embedding or min(hidden, 64)
        self.config = dict(vocab_size=vocab_size, hidden=hidden, layers=layers, cell=cell, dropout=dropout,
                           embedding=embedding, gate_activation=gate_activation, forget_bias=forget_bias,
                           periods=None if periods is None else list(periods), one_hot=bool(one_hot))
        self.embedding = nn.Embedding(vocab_size, embedding, dtype=dtype)
        if one_hot:
            self.embedding.weight = nn.Parameter(np.eye(vocab_size, dtype=self.embedding.weight.dtype),
                                                 requires_grad=False)
        self.rnn = build_layer(cell, embedding, hidden, layers, dropout, dtype, gate_activation, forget_bias,
                               periods)
        self.drop = nn.Dropout(dropout)
        self.decoder = nn.Linear(hidden, vocab_size, dtype=dtype)
        # the clockwork cell counts time from 0 at every call: a stream must be fed in blocks of this many steps
        self.clock_period = clock_period(cell, periods)

    def forward(self, chars, state=None):
        out, state = self.rnn(self.embedding(chars), state)
        return self.decoder(self.drop(out)), state

    def trainable_parameters(self):
        """The parameters training updates (all but a one-hot input's fixed identity)."""
        return [p for p in self.parameters() if p.requires_grad]


def detach_state(state):
    """Cut the carried state from the tape (truncated BPTT): the next window backpropagates only into itself."""
    if state is None:
        return None
    return tuple(s.detach() for s in state) if isinstance(state, tuple) else state.detach()


def estimate_bytes(vocab_size, hidden, layers, cell, batch, seq_len, itemsize, weight_copies=4, embedding=None):
    """A lower estimate of a run's memory in bytes: `weight_copies` arrays the size of the weights (training with
    Adam: 4, the weights, their gradients, exp_avg and exp_avg_sq; sampling: 1), plus the activations a window of
    seq_len × batch keeps for backward. Plain Python ints, so absurd sizes cannot overflow."""
    embedding = embedding or min(hidden, 64)
    gates = CELLS[cell].gates
    recurrent = gates * hidden * (embedding + hidden + 2) + (layers - 1) * gates * hidden * (2 * hidden + 2)
    weights = vocab_size * embedding + recurrent + hidden * vocab_size + vocab_size
    activations = seq_len * batch * (layers * (2 * gates + 4) * hidden + 3 * vocab_size + embedding)
    return itemsize * (weights * weight_copies + activations)


MODEL_KEYS = ("cell", "hidden", "layers", "dropout", "dtype", "embedding", "one_hot", "gate_activation",
              "forget_bias", "periods")
"""The config keys that describe a CharLM (what a checkpoint must agree with to be resumed or sampled)."""


def model_options(config, vocab_size):
    """The model options a checkpoint's config describes, with the defaults of checkpoints written before an option
    existed (embedding min(hidden, 64), sigmoid gates, ...); ValueError saying which value is unusable.

    checkpoint.load has checked cell, hidden, layers, dropout, dtype and embedding; the newer keys are checked here.
    """
    if config.get("cell") not in CELLS:
        raise ValueError(f"config 'cell': expected one of {', '.join(CELLS)}, but got {config.get('cell')!r:.80}")
    options = {key: config[key] for key in ("cell", "hidden", "layers", "dtype")}
    options["dropout"] = config.get("dropout", 0.0)
    one_hot = config.get("one_hot", False)
    if not isinstance(one_hot, bool):
        raise ValueError(f"config 'one_hot': expected True or False, but got {one_hot!r:.80}")
    embedding = config.get("embedding") or (vocab_size if one_hot else min(options["hidden"], 64))
    if one_hot and embedding != vocab_size:
        raise ValueError(f"config 'embedding': a one-hot input has the vocabulary's size {vocab_size}, but got "
                         f"{embedding!r:.80}")
    gate_activation = config.get("gate_activation", "sigmoid")
    if gate_activation not in GATE_NAMES:
        raise ValueError(f"config 'gate_activation': expected one of {', '.join(GATE_NAMES)}, but got "
                         f"{gate_activation!r:.80}")
    forget_bias = config.get("forget_bias")
    if forget_bias is not None and (isinstance(forget_bias, bool) or not isinstance(forget_bias, numbers.Real)
                                    or not abs(forget_bias) < float("inf")):
        raise ValueError(f"config 'forget_bias': expected None or a finite number, but got {forget_bias!r:.80}")
    periods = config.get("periods")
    if periods is not None:
        if not (isinstance(periods, (list, tuple)) and periods
                and all(isinstance(p, int) and not isinstance(p, bool) and 0 < p < 2**31 for p in periods)
                and all(a < b for a, b in zip(periods, periods[1:]))):
            raise ValueError(f"config 'periods': expected strictly increasing positive ints, but got {periods!r:.80}")
        periods = tuple(periods)
    options.update(embedding=embedding, one_hot=one_hot, gate_activation=gate_activation, forget_bias=forget_bias,
                   periods=periods)
    try:
        check_cell_options(options["cell"], options["hidden"], options["layers"], gate_activation, forget_bias,
                           periods)
    except Exception as err:               # UsageError: a combination no cell takes, written by hand
        raise ValueError(f"config: {err}") from None
    return options


def build_model(vocab_size, options):
    """The CharLM that model_options describe."""
    return CharLM(vocab_size, options["hidden"], options["layers"], options["cell"], options["dropout"],
                  embedding=options["embedding"], dtype=np.dtype(options["dtype"]),
                  gate_activation=options["gate_activation"], forget_bias=options["forget_bias"],
                  periods=options["periods"], one_hot=options["one_hot"])
