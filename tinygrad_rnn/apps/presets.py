"""`train --preset NAME`: the models of the source texts, as option values for `train`.

A preset only sets defaults: an option given on the command line wins over the preset's value, and a checkpoint
records the values used, so `--resume` and `sample` rebuild the same model. Each preset says which source it
follows and, plainly, where it departs from it (the corpus and the char-LM framing are always this project's).
"""
from dataclasses import dataclass, field


@dataclass(frozen=True)
class Preset:
    source: str                    # what it reproduces, and from where
    departures: str                # where it does not, and why
    options: dict = field(default_factory=dict)    # train's option names (dest) -> value


PRESETS = {
    "theano-gru": Preset(
        source="the Theano GRU language model of the source texts (WildML's GRU tutorial, part 4): two GRU layers "
               "whose step is Cho et al.'s, z = hard_sigmoid(U_z x + W_z s + b_z), r = hard_sigmoid(U_r x + W_r s "
               "+ b_r), c = tanh(U_c x + W_c (s⊙r) + b_c), s' = (1-z)⊙c + z⊙s, an embedding of 128 and "
               "o = softmax(V s' + c_o); trained by SGD with backpropagation through whole sequences",
        departures="characters of the default corpus instead of words; windows of 64 characters, each one started "
                   "from a zero state (the source's sentences), 32 of them per step with the loss averaged "
                   "(the source sums one sentence's loss; the same update at a 2048 times smaller lr); two "
                   "biases per gate in PyTorch's layout (their sum is the source's b); weights U(±1/√H); a "
                   "gradient-norm clip of 5 kept as a guard (the source clips nothing). The tutorial's published "
                   "code scales its SGD step by a running RMS of the gradient; --optimizer rmsprop follows that",
        options=dict(cell="gru-cho", gate_activation="hard_sigmoid", hidden=128, layers=2, embedding=128,
                     optimizer="sgd", lr=2.0, carry_state=False)),
    "min-char-rnn": Preset(
        source="Karpathy's min-char-rnn.py: a vanilla tanh RNN of 100 units on one-hot characters, windows of 25 "
               "characters with the hidden state carried from window to window, the loss summed over the "
               "window, Adagrad with lr 0.1 and every gradient element clipped to ±5",
        departures="two biases in PyTorch's layout (their sum is the source's bh) and weights U(±1/√H) instead of "
                   "N(0, 0.01²) with zero biases; torch's Adagrad divides by √G + 1e-10 where the source divides "
                   "by √(G + 1e-8); the stream wraps around without restarting the state, and the last 10% of "
                   "the text is held out for validation",
        options=dict(cell="rnn", hidden=100, layers=1, one_hot=True, seq_len=25, batch=1, optimizer="adagrad",
                     lr=0.1, clip="none", clip_value=5.0, reduction="sum", steps=10000)),
    "tutorial-lstm": Preset(
        source="nicodjimenez/lstm, the NumPy LSTM with hand-derived BPTT: 100 memory cells, inputs of 50, "
               "g = tanh(W_g [x, h] + b_g), i, f, o = σ(W [x, h] + b), s = g⊙i + s_prev⊙f and h = s⊙o with no "
               "tanh (the cell tutorial-lstm), one example at a time, the loss summed over the sequence, SGD "
               "with lr 0.1",
        departures="a character model (an embedding of 50, a softmax decoder and cross-entropy) instead of the "
                   "tutorial's squared error on h[0]; windows of 64 characters of one stream, the state carried "
                   "across them; two biases per gate and weights U(±1/√H) instead of U(-0.1, 0.1); a "
                   "gradient-norm clip of 5 kept as a guard, which the tutorial does without: with h = s⊙o "
                   "nothing bounds h",
        options=dict(cell="tutorial-lstm", hidden=100, layers=1, embedding=50, batch=1, optimizer="sgd", lr=0.1,
                     reduction="sum")),
}


def preset_help():
    """The --preset help: each preset's source and departures (% escaped for argparse)."""
    text = " ".join(f"{name}: follows {p.source}. Departs: {p.departures}." for name, p in PRESETS.items())
    return text.replace("%", "%%")
