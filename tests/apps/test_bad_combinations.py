"""Issue 18, item 1: a combination no cell can take is one line on stderr and exit code 2, before anything is
written (nothing appears in the working directory, where the default outputs would go)."""
import os

import pytest

from train_inputs import SMALL

CASES = [
    (["--cell", "clockwork", "--hidden", "10", "--periods", "1,2,4"],
     "--periods 1,2,4 makes 3 equal modules of hidden units, but --hidden 10 is not divisible by 3"),
    (["--cell", "clockwork", "--hidden", "18"], "--hidden 18 is not divisible by 4"),       # the default 1,2,4,8
    (["--cell", "rnn", "--gate-activation", "hard_sigmoid"],
     "--gate-activation hard_sigmoid does not apply to --cell rnn: it has no gates"),
    (["--cell", "rnn-relu", "--gate-activation", "hard_sigmoid"], "--cell rnn-relu: it has no gates"),
    (["--cell", "clockwork", "--gate-activation", "hard_sigmoid"], "--cell clockwork: it has no gates"),
    (["--cell", "gru", "--forget-bias", "1"], "--forget-bias does not apply to --cell gru: it has no forget gate"),
    (["--cell", "rnn", "--forget-bias", "1"], "--cell rnn: it has no forget gate"),
    (["--cell", "lstm", "--periods", "1,2"], "--periods applies only to --cell clockwork, not --cell lstm"),
    (["--cell", "depth-gated", "--layers", "1"], "--cell depth-gated needs --layers 2 or more"),
    (["--bidirectional"], "--bidirectional: not offered for a language model"),
    (["--cell", "clockwork", "--hidden", "16", "--seq-len", "12"],
     "--seq-len 12 is not a multiple of 8, the least common multiple of the clockwork --periods 1,2,4,8"),
    (["--one-hot", "--embedding", "5"], "--embedding 5 does not apply with --one-hot"),
    (["--periods", "1,2,2"], "argument --periods: expected strictly increasing positive integers"),
    (["--periods", "1,x"], "argument --periods: expected comma-separated positive integers"),
    (["--periods", "0,1"], "argument --periods"),
    (["--clip-value", "0"], "argument --clip-value: expected a positive finite number, got 0"),
    (["--clip-value", "nan"], "argument --clip-value"),
    (["--clip", "-1"], "argument --clip"),
    (["--weight-decay", "-0.1"], "argument --weight-decay: expected a finite number >= 0"),
    (["--weight-decay", "inf"], "argument --weight-decay"),
    (["--lr-gamma", "1"], "argument --lr-gamma: expected a number in (0, 1)"),
    (["--lr-patience", "-1"], "argument --lr-patience"),
    (["--forget-bias", "nan"], "argument --forget-bias: expected a finite number"),
    (["--scheduler", "linear"], "argument --scheduler: invalid choice"),
    (["--preset", "keras"], "argument --preset: invalid choice"),
    (["--gate-activation", "relu"], "argument --gate-activation: invalid choice"),
    (["--reduction", "max"], "argument --reduction: invalid choice"),
    (["--preset", "min-char-rnn", "--gate-activation", "hard_sigmoid"],
     "--gate-activation hard_sigmoid does not apply to --cell rnn"),           # the preset's cell, the user's option
]


@pytest.mark.parametrize("extra,needle", CASES, ids=[" ".join(c[0]) for c in CASES])
def test_bad_combination_is_one_line_and_exit_2(tmp_path, corpus, extra, needle, run_main, assert_refused,
                                                monkeypatch):
    monkeypatch.chdir(tmp_path)
    before = sorted(os.listdir(tmp_path))
    assert_refused(run_main(["train", "--text", corpus, *SMALL, *extra]), needle)
    assert sorted(os.listdir(tmp_path)) == before


PRESET_CASES = [   # the value the cell cannot take is the preset's, not typed by the user: the line says so
    (["--preset", "theano-gru", "--cell", "rnn"],
     "--gate-activation hard_sigmoid does not apply to --cell rnn: it has no gates (only lstm, peephole, "
     "tutorial-lstm, depth-gated, gru, gru-cho do) (--gate-activation hard_sigmoid set by --preset theano-gru)"),
    (["--preset", "min-char-rnn", "--gate-activation", "hard_sigmoid"], "(--cell rnn set by --preset min-char-rnn)"),
    (["--preset", "min-char-rnn", "--cell", "depth-gated"],
     "--cell depth-gated needs --layers 2 or more: its depth gate links a layer's cell to the cell of the layer "
     "below (with one layer it is an LSTM) (--layers 1 set by --preset min-char-rnn)"),
    (["--preset", "min-char-rnn", "--cell", "clockwork"],
     "--seq-len 25 (set by --preset min-char-rnn) is not a multiple of 8"),
]


@pytest.mark.parametrize("extra,needle", PRESET_CASES, ids=[" ".join(c[0]) for c in PRESET_CASES])
def test_a_presets_value_that_the_chosen_cell_cannot_take_is_named_as_the_presets(tmp_path, corpus, extra, needle,
                                                                                   run_main, assert_refused,
                                                                                   monkeypatch):
    monkeypatch.chdir(tmp_path)
    before = sorted(os.listdir(tmp_path))
    assert_refused(run_main(["train", "--text", corpus, "--quiet", *extra]), needle)
    assert sorted(os.listdir(tmp_path)) == before


def test_a_value_the_user_typed_is_not_blamed_on_the_preset(tmp_path, corpus, run_main, assert_refused):
    line = assert_refused(run_main(["train", "--text", corpus, "--quiet", "--preset", "min-char-rnn", "--cell",
                                    "clockwork", "--seq-len", "12", "--out", str(tmp_path / "m.safetensors")]),
                          "--seq-len 12 is not a multiple of 8")
    assert "preset" not in line


def test_resume_with_another_preset_is_refused(tmp_path, corpus, run_main, assert_refused):
    out = str(tmp_path / "m.npz")
    assert run_main(["train", "--text", corpus, "--out", out, *SMALL, "--steps", "1", "--plot", "none",
                     "--preset", "min-char-rnn", "--hidden", "8"]).returncode == 0
    before = open(out, "rb").read()
    assert_refused(run_main(["train", "--text", corpus, "--out", out, "--resume", out, "--preset", "theano-gru",
                             "--quiet"]), "--preset theano-gru does not match the checkpoint")
    assert open(out, "rb").read() == before


@pytest.mark.parametrize("key,value,needle", [
    ("gate_activation", "relu", "config 'gate_activation'"),
    ("periods", [4, 2], "config 'periods'"),
    ("forget_bias", "one", "config 'forget_bias'"),
    ("one_hot", 1, "config 'one_hot'"),
    ("scheduler", "linear", "config 'scheduler'"),
    ("clip_value", -5.0, "config 'clip_value'"),
    ("reduction", "max", "config 'reduction'"),
    ("carry_state", "yes", "config 'carry_state'"),
    ("seed", -1, "config 'seed'"),
])
def test_a_checkpoint_with_bad_new_fields_is_refused_by_train_and_sample(tmp_path, corpus, run_main,
                                                                         assert_refused, key, value, needle):
    """Fields the checkpoint loader does not know (yet) are checked by train and sample: one line, exit 2."""
    from tinygrad_rnn import checkpoint

    good = str(tmp_path / "good.npz")
    assert run_main(["train", "--text", corpus, "--out", good, *SMALL, "--steps", "1", "--plot", "none",
                     "--cell", "gru-cho"]).returncode == 0
    saved = checkpoint.load(good)
    bad = str(tmp_path / "bad.npz")
    checkpoint.save(bad, saved["model"], saved["optimizer"], {**saved["config"], key: value}, saved["vocab"],
                    saved["step"], saved["rng_state"])
    assert_refused(run_main(["train", "--text", corpus, "--resume", bad, "--out", bad, "--steps", "2",
                             "--quiet"]), needle)
    if key in ("gate_activation", "periods", "forget_bias", "one_hot"):      # the model's fields: sample reads them
        assert_refused(run_main(["sample", bad]), needle)
