"""Issue 18, item 1: `train` and `sample` for every cell. Each cell trains a few steps and samples from its
checkpoint; the model that `sample` and `--resume` rebuild is the right one (the same outputs as the nn layer the
cell names, with the checkpoint's weights: a GRU of the other variant has the same weight shapes and different
outputs); a resumed run continues bit-identically; a different model option on --resume is refused."""
import numpy as np
import pytest

from tinygrad_rnn import Tensor, checkpoint, nn
from tinygrad_rnn.apps.cli import main
from tinygrad_rnn.apps.models import CELLS
from tinygrad_rnn.apps.sample import load_model
from train_inputs import CORPUS, SMALL

OPTIONS = {   # each cell with the options that only it (or its family) takes
    "lstm": ["--gate-activation", "hard_sigmoid", "--forget-bias", "1"],
    "peephole": ["--gate-activation", "hard_sigmoid", "--forget-bias", "0.5"],
    "tutorial-lstm": ["--forget-bias", "1"],
    "depth-gated": ["--layers", "2", "--gate-activation", "hard_sigmoid"],
    "gru": ["--gate-activation", "hard_sigmoid"],
    "gru-cho": ["--gate-activation", "hard_sigmoid"],
    "rnn": [],
    "rnn-relu": [],
    "clockwork": ["--periods", "1,2,4", "--hidden", "15", "--seq-len", "8"],
}
REFERENCE = {  # the nn layer each cell is, built directly (options as in OPTIONS)
    "lstm": lambda i, h, L: nn.LSTM(i, h, L, gate_activation="hard_sigmoid", dtype=np.float64),
    "peephole": lambda i, h, L: nn.PeepholeLSTM(i, h, L, gate_activation="hard_sigmoid", dtype=np.float64),
    "tutorial-lstm": lambda i, h, L: nn.NoOutputTanhLSTM(i, h, L, dtype=np.float64),
    "depth-gated": lambda i, h, L: nn.DepthGatedLSTM(i, h, L, gate_activation="hard_sigmoid", dtype=np.float64),
    "gru": lambda i, h, L: nn.GRU(i, h, L, gate_activation="hard_sigmoid", dtype=np.float64),
    "gru-cho": lambda i, h, L: nn.GRU(i, h, L, reset_after=False, gate_activation="hard_sigmoid", dtype=np.float64),
    "rnn": lambda i, h, L: nn.RNN(i, h, L, dtype=np.float64),
    "rnn-relu": lambda i, h, L: nn.RNN(i, h, L, nonlinearity="relu", dtype=np.float64),
    "clockwork": lambda i, h, L: nn.ClockworkRNN(i, h, 3, L, periods=(1, 2, 4), dtype=np.float64),
}


def small(cell):
    """SMALL with the cell's own options (later options win in argparse)."""
    return [*SMALL, "--plot", "none", "--cell", cell, "--dtype", "float64", *OPTIONS[cell]]


def train(tmp_path, corpus, cell, name, *extra):
    out = str(tmp_path / name)
    assert main(["train", "--text", corpus, "--out", out, *small(cell), *extra]) == 0
    return out


def test_every_cell_is_offered():
    assert set(OPTIONS) == set(CELLS) == set(REFERENCE)


@pytest.mark.parametrize("cell", sorted(CELLS))
def test_cell_trains_samples_and_is_rebuilt_as_itself(tmp_path, corpus, cell, capsys):
    out = train(tmp_path, corpus, cell, "m.npz", "--steps", "4")
    saved = checkpoint.load(out)
    config = saved["config"]
    assert config["cell"] == cell and saved["step"] == 4
    assert config["gate_activation"] == ("hard_sigmoid" if "hard_sigmoid" in OPTIONS[cell] else "sigmoid")
    assert config["periods"] == ([1, 2, 4] if cell == "clockwork" else None)
    capsys.readouterr()
    assert main(["sample", out, "--prime", "the ", "--length", "30", "--seed", "3"]) == 0
    text = capsys.readouterr().out
    assert text.startswith("the ") and len(text.rstrip("\n")) == 34 and set(text.strip()) <= set(CORPUS)
    # the rebuilt model is the cell's nn layer: same outputs as the reference layer given the checkpoint's weights
    model, vocab = load_model(out)
    layers = config["layers"]
    reference = REFERENCE[cell](config["embedding"], config["hidden"], layers)
    prefix = "rnn."
    reference.load_state_dict({k[len(prefix):]: v for k, v in saved["model"].items() if k.startswith(prefix)})
    x = Tensor(np.random.default_rng(0).standard_normal((8, 3, config["embedding"])), dtype=np.float64)
    model.eval()
    expected, _ = reference(x)
    got, _ = model.rnn(x)
    np.testing.assert_allclose(got.data, expected.data, rtol=0, atol=1e-13)


def test_the_other_gru_variant_would_differ(tmp_path, corpus):
    """What the rebuild test relies on: with the same weights, the two GRUs (and the two LSTM outputs) differ."""
    out = train(tmp_path, corpus, "gru-cho", "m.npz", "--steps", "2")
    saved = checkpoint.load(out)
    weights = {k[4:]: v for k, v in saved["model"].items() if k.startswith("rnn.")}
    x = Tensor(np.random.default_rng(0).standard_normal((5, 2, saved["config"]["embedding"])), dtype=np.float64)
    outputs = []
    for reset_after in (False, True):
        gru = nn.GRU(saved["config"]["embedding"], 16, reset_after=reset_after, gate_activation="hard_sigmoid",
                     dtype=np.float64)
        gru.load_state_dict(weights)
        outputs.append(gru(x)[0].data)
    assert np.abs(outputs[0] - outputs[1]).max() > 1e-3


@pytest.mark.parametrize("cell", ["gru-cho", "depth-gated", "clockwork", "tutorial-lstm"])
def test_resume_is_bit_identical_for_the_new_cells(tmp_path, corpus, cell):
    straight = checkpoint.load(train(tmp_path, corpus, cell, "straight.npz", "--steps", "6", "--save-every", "3"))
    half = train(tmp_path, corpus, cell, "half.npz", "--steps", "3", "--save-every", "3")
    # --resume alone: the cell and its options come from the checkpoint
    assert main(["train", "--text", corpus, "--out", half, "--resume", half, "--steps", "6", "--save-every", "3",
                 "--quiet", "--plot", "none"]) == 0
    resumed = checkpoint.load(half)
    assert resumed["step"] == 6 and resumed["config"]["cell"] == cell
    for name, value in straight["model"].items():
        assert value.tobytes() == resumed["model"][name].tobytes(), name


@pytest.mark.parametrize("cell,change,needle", [
    ("clockwork", ["--cell", "rnn"], "--cell rnn does not match"),
    ("clockwork", ["--periods", "1,2,4,8"], "--periods 1,2,4,8 does not match"),
    ("gru-cho", ["--gate-activation", "sigmoid"], "--gate-activation sigmoid does not match"),
    ("gru-cho", ["--cell", "gru"], "--cell gru does not match"),
    ("lstm", ["--forget-bias", "2"], "--forget-bias 2.0 does not match"),
])
def test_resume_refuses_another_model(tmp_path, corpus, cell, change, needle, run_main, assert_refused):
    out = train(tmp_path, corpus, cell, "c.npz", "--steps", "2")
    before = open(out, "rb").read()
    assert_refused(run_main(["train", "--text", corpus, "--out", out, "--resume", out, "--steps", "4", "--quiet",
                             *change]), needle)
    assert open(out, "rb").read() == before


def test_clockwork_sampling_keeps_the_clock(tmp_path, corpus):
    """One character at a time, the clock's modules must still sleep on their off-steps: the logits that
    generate() sees for each new character are those of the whole text run through the layer at once."""
    from tinygrad_rnn.apps.sample import generate

    out = train(tmp_path, corpus, "clockwork", "c.npz", "--steps", "3")
    model, vocab = load_model(out)
    seen = []
    original = model.forward

    def recording(chars, state=None):
        logits, new = original(chars, state)
        seen.append(logits.data[-1, 0].copy())
        return logits, new
    model.forward = recording
    prime, length = "the qu", 13
    text = generate(model, vocab, prime, length, temperature=0.5, generator=np.random.default_rng(2))
    model.forward = original
    whole, _ = model(vocab.encode(text).reshape(-1, 1))
    # the last length + 1 calls: after the prime, then after each generated character (the last one unused)
    np.testing.assert_allclose(np.array(seen[-length - 1:]), whole.data[len(prime) - 1:, 0], rtol=0, atol=1e-12)


def test_checkpoints_written_before_these_options_still_load(tmp_path, corpus, run_main):
    """A checkpoint whose config has only the keys train wrote before (cell, hidden, layers, dropout, dtype,
    seq_len, batch, optimizer, clip, carried_state): sample and --resume take the defaults of the new options."""
    new = str(tmp_path / "new.npz")
    assert run_main(["train", "--text", corpus, "--out", new, *SMALL, "--steps", "3", "--plot", "none"]).returncode == 0
    saved = checkpoint.load(new)
    old_keys = ("cell", "hidden", "layers", "dropout", "dtype", "seq_len", "batch", "optimizer", "clip",
                "carried_state")
    old = str(tmp_path / "old.npz")
    checkpoint.save(old, saved["model"], saved["optimizer"], {k: saved["config"][k] for k in old_keys},
                    saved["vocab"], saved["step"], saved["rng_state"])
    assert run_main(["sample", old, "--seed", "1", "--length", "20"]).stdout == \
        run_main(["sample", new, "--seed", "1", "--length", "20"]).stdout
    result = run_main(["train", "--text", corpus, "--out", old, "--resume", old, "--steps", "5", "--quiet",
                       "--plot", "none"])
    assert result.returncode == 0, result.stderr
    resumed = checkpoint.load(old)
    assert resumed["step"] == 5 and resumed["config"]["gate_activation"] == "sigmoid"
    assert resumed["config"]["embedding"] == 16 and resumed["config"]["scheduler"] == "none"


def test_the_checkpoint_records_the_seed(tmp_path, corpus, run_main):
    """The seed the run started from is in the config (with the random state it led to); a resumed run keeps it
    unless --seed replaces it."""
    out = train(tmp_path, corpus, "gru-cho", "s.npz", "--steps", "2", "--seed", "7")
    assert checkpoint.load(out)["config"]["seed"] == 7
    assert checkpoint.load(train(tmp_path, corpus, "rnn", "d.npz", "--steps", "1"))["config"]["seed"] == 0
    common = ["train", "--text", corpus, "--out", out, "--resume", out, "--quiet", "--plot", "none"]
    assert run_main([*common, "--steps", "3"]).returncode == 0
    assert checkpoint.load(out)["config"]["seed"] == 7
    assert run_main([*common, "--steps", "4", "--seed", "9"]).returncode == 0
    assert checkpoint.load(out)["config"]["seed"] == 9
