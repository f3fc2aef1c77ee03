"""The recurrent cells the commands offer, by name: what each one is, which layer builds it, which options it takes,
and the check that turns a combination no cell can take into one line and exit code 2.

The layers are nn's; this table only names them for the command line and records which options make sense where
(a vanilla RNN has no gates to make hard, a GRU no forget gate to open).
"""
import math
from dataclasses import dataclass

from .. import nn
from ..activations import GATE_NAMES
from .cli import UsageError

DEFAULT_PERIODS = (1, 2, 4, 8)   # the clockwork cell's modules when --periods is not given (Koutník et al.: 2^k)


@dataclass(frozen=True)
class Cell:
    about: str           # one line for --help: what the cell computes and whose equations they are
    gates: int           # gate blocks per layer (PyTorch's G: weight_ih is G·H × I)
    gated: bool          # takes --gate-activation (sigmoid or hard_sigmoid gates)
    forget_gate: bool    # takes --forget-bias
    cell_state: bool     # its state is (h, c), not h alone


CELLS = {
    "lstm": Cell("LSTM with forget gate (Hochreiter & Schmidhuber 1997, Gers et al. 2000): h = o⊙tanh(c)",
                 4, True, True, True),
    "peephole": Cell("peephole LSTM (Gers & Schmidhuber 2000): i and f see c_prev, o sees the new c",
                     4, True, True, True),
    "tutorial-lstm": Cell("LSTM with h = o⊙c, no tanh (nicodjimenez/lstm's NumPy tutorial; Greff et al.'s NOAF)",
                          4, True, True, True),
    "depth-gated": Cell("depth-gated LSTM (Yao et al. 2015): a depth gate adds layer L-1's cell to layer L's",
                        4, True, True, True),
    "gru": Cell("GRU with the reset after the recurrent product (PyTorch, cuDNN, Keras reset_after=True)",
                3, True, False, False),
    "gru-cho": Cell("GRU of Cho et al. 2014: the reset applied to h before the recurrent product", 3, True, False,
                    False),
    "rnn": Cell("vanilla (Elman) RNN: h = tanh(W x + U h + b)", 1, False, False, False),
    "rnn-relu": Cell("vanilla RNN with relu: h = relu(W x + U h + b)", 1, False, False, False),
    "clockwork": Cell("clockwork RNN (Koutník et al. 2014): module k updates only when t mod period_k = 0",
                      1, False, False, False),
}


def cell_help():
    """The --cell help: one line per cell."""
    return "; ".join(f"{name}: {cell.about}" for name, cell in CELLS.items())


def build_layer(cell, input_size, hidden, layers=1, dropout=0.0, dtype=None, gate_activation="sigmoid",
                forget_bias=None, periods=None):
    """The recurrent layer (nn's) of the named cell; the options are assumed checked (check_cell_options)."""
    dropout = dropout if layers > 1 else 0.0
    common = dict(num_layers=layers, dropout=dropout, dtype=dtype)
    if cell == "lstm":
        return nn.LSTM(input_size, hidden, gate_activation=gate_activation, forget_bias=forget_bias, **common)
    if cell == "peephole":
        return nn.PeepholeLSTM(input_size, hidden, gate_activation=gate_activation, forget_bias=forget_bias,
                               **common)
    if cell == "tutorial-lstm":
        return nn.NoOutputTanhLSTM(input_size, hidden, gate_activation=gate_activation, forget_bias=forget_bias,
                                   **common)
    if cell == "depth-gated":
        return nn.DepthGatedLSTM(input_size, hidden, gate_activation=gate_activation, forget_bias=forget_bias,
                                 **common)
    if cell == "gru":
        return nn.GRU(input_size, hidden, reset_after=True, gate_activation=gate_activation, **common)
    if cell == "gru-cho":
        return nn.GRU(input_size, hidden, reset_after=False, gate_activation=gate_activation, **common)
    if cell == "rnn":
        return nn.RNN(input_size, hidden, nonlinearity="tanh", **common)
    if cell == "rnn-relu":
        return nn.RNN(input_size, hidden, nonlinearity="relu", **common)
    if cell == "clockwork":
        periods = tuple(periods or DEFAULT_PERIODS)
        return nn.ClockworkRNN(input_size, hidden, len(periods), periods=periods, **common)
    raise ValueError(f"cell: expected one of {', '.join(CELLS)}, but got {cell!r}")


def clock_period(cell, periods):
    """After how many steps the cell's clock repeats: the periods' least common multiple (clockwork), else 1."""
    return math.lcm(*(periods or DEFAULT_PERIODS)) if cell == "clockwork" else 1


def check_cell_options(cell, hidden, layers, gate_activation="sigmoid", forget_bias=None, periods=None):
    """UsageError (one line, exit code 2) for an option the cell cannot take; nothing when all fit."""
    spec = CELLS[cell]
    if gate_activation not in GATE_NAMES:
        raise UsageError(f"--gate-activation: expected one of {', '.join(GATE_NAMES)}, but got {gate_activation!r}")
    if gate_activation != "sigmoid" and not spec.gated:
        gated = ", ".join(name for name, c in CELLS.items() if c.gated)
        raise UsageError(f"--gate-activation {gate_activation} does not apply to --cell {cell}: it has no gates "
                         f"(only {gated} do)")
    if forget_bias is not None and not spec.forget_gate:
        with_forget = ", ".join(name for name, c in CELLS.items() if c.forget_gate)
        raise UsageError(f"--forget-bias does not apply to --cell {cell}: it has no forget gate (only {with_forget} "
                         f"do)")
    if periods is not None and cell != "clockwork":
        raise UsageError(f"--periods applies only to --cell clockwork, not --cell {cell}")
    if cell == "clockwork":
        periods = tuple(periods or DEFAULT_PERIODS)
        if hidden % len(periods):
            raise UsageError(f"--periods {','.join(map(str, periods))} makes {len(periods)} equal modules of hidden "
                             f"units, but --hidden {hidden} is not divisible by {len(periods)}")
    if cell == "depth-gated" and layers < 2:
        raise UsageError("--cell depth-gated needs --layers 2 or more: its depth gate links a layer's cell to the "
                         "cell of the layer below (with one layer it is an LSTM)")


def parse_periods(text):
    """An argparse type: comma-separated, strictly increasing positive integers ("1,2,4,8")."""
    import argparse

    try:
        periods = tuple(int(p) for p in text.split(","))
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected comma-separated positive integers such as 1,2,4,8, got "
                                         f"{text!r}") from None
    if not periods or any(p <= 0 for p in periods) or any(a >= b for a, b in zip(periods, periods[1:])):
        raise argparse.ArgumentTypeError(f"expected strictly increasing positive integers such as 1,2,4,8, got "
                                         f"{text}")
    return periods
