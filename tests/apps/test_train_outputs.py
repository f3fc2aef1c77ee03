"""Issue 16, item 6: the main job as a tool. `train` writes a metrics CSV (step, loss, bits per char, lr, chars/s,
validation every --eval-every steps) and, with matplotlib, a loss-curve PNG beside the checkpoint; neither replaces
a file that is not this run's; a resumed run appends without listing a step twice; when the output is not a
terminal, progress is one line every --log-every steps (the tqdm bar redrawn into a pipe wrote 157 KB for 1,000
steps); every option of every command has help text that shows its default."""
import argparse
import csv
import math
import os

import numpy as np
import pytest

from tinygrad_rnn import checkpoint
from tinygrad_rnn.apps.cli import COMMANDS, DefaultsShown, build_parser
from tinygrad_rnn.apps.metrics import HEADER, PNG_SIGNATURE
from train_inputs import SMALL


def rows(path):
    with open(path, newline="") as f:
        return list(csv.DictReader(f))


def run(run_main, corpus, out, *extra):
    result = run_main(["train", "--text", corpus, "--out", str(out), *SMALL, *extra])
    assert result.returncode == 0, result.stderr
    return result


def test_metrics_csv_has_every_step_and_validation_every_eval_every(tmp_path, corpus, run_main):
    out = tmp_path / "m.npz"
    run(run_main, corpus, out, "--steps", "9", "--eval-every", "4", "--plot", "none", "--lr", "0.01")
    path = tmp_path / "m.metrics.csv"
    assert path.read_text().splitlines()[0] == ",".join(HEADER)
    table = rows(path)
    assert [int(r["step"]) for r in table] == list(range(1, 10))
    for r in table:
        assert math.isclose(float(r["bits_per_char"]), float(r["loss"]) / math.log(2), rel_tol=1e-12)
        assert float(r["lr"]) == 0.01 and float(r["chars_per_s"]) > 0
    validated = [int(r["step"]) for r in table if r["valid_bits_per_char"]]
    assert validated == [4, 8]
    # the validation column is what train's evaluate() gives for the weights of that step: the last row's
    # (step 8 of 9) cannot be checked from the final checkpoint, so a run of 8 steps is compared instead
    out8 = tmp_path / "e.npz"
    result = run(run_main, corpus, out8, "--steps", "8", "--eval-every", "4", "--plot", "none", "--lr", "0.01")
    final = float(result.stdout.split("validation: ")[1].split(" bits")[0])
    assert abs(float(rows(tmp_path / "e.metrics.csv")[-1]["valid_bits_per_char"]) - final) < 5e-4


def test_the_csv_loss_is_the_loss_of_each_step(tmp_path, corpus, run_main):
    """Rows agree with a run of a different length at the same steps (same seed): they are the steps' own losses,
    and the first is the loss of the initial model on the first window."""
    from tinygrad_rnn import rng
    from tinygrad_rnn.apps.charlm import build_model, model_options
    from tinygrad_rnn.apps.data import Vocabulary, split, streams, windows
    from tinygrad_rnn.nn.functional import cross_entropy

    run(run_main, corpus, tmp_path / "a.npz", "--steps", "3", "--plot", "none", "--dtype", "float64")
    saved = checkpoint.load(str(tmp_path / "a.npz"))
    vocab = Vocabulary(saved["vocab"])
    rng.manual_seed(0)
    model = build_model(len(vocab), model_options(saved["config"], len(vocab)))
    inputs, targets = windows(streams(split(vocab.encode(open(corpus).read()))[0], 4), 8, 0)
    logits, _ = model(inputs)
    first = cross_entropy(logits.reshape(-1, logits.shape[2]), targets.reshape(-1)).item()
    assert float(rows(tmp_path / "a.metrics.csv")[0]["loss"]) == pytest.approx(first, rel=1e-12)


def test_loss_curve_png_beside_the_checkpoint(tmp_path, corpus, run_main):
    pytest.importorskip("matplotlib")
    out = tmp_path / "m.npz"
    run(run_main, corpus, out, "--steps", "4", "--plot", str(tmp_path / "curve.png"))
    assert (tmp_path / "curve.png").read_bytes()[:8] == PNG_SIGNATURE
    run(run_main, corpus, tmp_path / "n.npz", "--steps", "2")
    assert (tmp_path / "n.loss.png").read_bytes()[:8] == PNG_SIGNATURE      # the default name


def test_metrics_and_plot_none_write_nothing(tmp_path, corpus, run_main):
    run(run_main, corpus, tmp_path / "m.npz", "--steps", "2", "--metrics", "none", "--plot", "none")
    # the checkpoint and its training-state file (checkpoint.save's pair), nothing else
    assert sorted(n for n in os.listdir(tmp_path) if ".state-" not in n) == ["corpus.txt", "m.npz"]
    assert len([n for n in os.listdir(tmp_path) if n.startswith("m.npz.state-")]) == 1


@pytest.mark.parametrize("which", ["metrics", "plot"])
def test_a_users_file_is_never_replaced_without_force(tmp_path, corpus, run_main, assert_refused, which):
    target = tmp_path / ("m.metrics.csv" if which == "metrics" else "m.loss.png")
    target.write_text("my own notes")
    line = assert_refused(run_main(["train", "--text", corpus, "--out", str(tmp_path / "m.npz"), *SMALL,
                                    "--steps", "2"]), f"--{which} {target}: exists and is not this run's")
    assert "--force" in line and target.read_text() == "my own notes" and not (tmp_path / "m.npz").exists()
    if which == "plot":
        pytest.importorskip("matplotlib")
    run(run_main, corpus, tmp_path / "m.npz", "--steps", "2", "--force")
    assert target.read_bytes() != b"my own notes"


def test_outputs_never_replace_the_corpus_or_a_directory(tmp_path, corpus, run_main, assert_refused):
    assert_refused(run_main(["train", "--text", corpus, "--out", str(tmp_path / "m.npz"), *SMALL, "--metrics",
                             corpus, "--force"]), "is the corpus")
    (tmp_path / "d").mkdir()
    assert_refused(run_main(["train", "--text", corpus, "--out", str(tmp_path / "m.npz"), *SMALL, "--plot",
                             str(tmp_path / "d"), "--force"]), "is a directory")
    assert_refused(run_main(["train", "--text", corpus, "--out", str(tmp_path / "m.npz"), *SMALL, "--metrics",
                             str(tmp_path / "m.npz")]), "is the checkpoint")


def test_resume_appends_and_drops_the_rows_after_the_checkpoint(tmp_path, corpus, run_main):
    """A run killed after its checkpoint at step 4 had written rows 5 and 6: resuming from step 4 keeps rows 1-4,
    drops the killed run's 5 and 6 and appends its own, so each step is listed once, with the resumed values."""
    out, path = tmp_path / "m.npz", tmp_path / "m.metrics.csv"
    run(run_main, corpus, out, "--steps", "4", "--plot", "none")
    first = path.read_text()
    with open(path, "a") as f:
        f.write("5,9.0,9.0,0.003,1.0,\n6,9.0,9.0,0.003,1.0,\n")
    run(run_main, corpus, out, "--resume", str(out), "--steps", "7", "--plot", "none")
    table = rows(path)
    assert [int(r["step"]) for r in table] == list(range(1, 8))
    assert path.read_text().startswith(first) and all(float(r["loss"]) < 9 for r in table)
    straight = tmp_path / "s.npz"
    run(run_main, corpus, straight, "--steps", "7", "--save-every", "4", "--plot", "none")
    assert [r["loss"] for r in rows(tmp_path / "s.metrics.csv")] == [r["loss"] for r in table]


def test_a_run_stopped_before_its_first_checkpoint_leaves_no_metrics(tmp_path, corpus, run_main, assert_refused):
    assert_refused(run_main(["train", "--text", corpus, "--out", str(tmp_path / "m.npz"), *SMALL, "--steps", "5",
                             "--lr", "1e308", "--save-every", "3"]), "no checkpoint was saved", code=1)
    assert sorted(os.listdir(tmp_path)) == ["corpus.txt"]


def test_progress_is_a_line_every_log_every_steps_when_piped(tmp_path, corpus, run_cli):
    """1,000 steps into a pipe: a few KB of output (the old tqdm bar, redrawn per step, wrote 157 KB)."""
    quiet = [a for a in SMALL if a != "--quiet"]
    result = run_cli("train", "--text", corpus, "--out", str(tmp_path / "m.npz"), *quiet, "--hidden", "2",
                     "--seq-len", "2", "--batch", "1", "--steps", "1000", "--log-every", "250", "--save-every",
                     "1000", "--eval-every", "1000", "--metrics", "none", "--plot", "none", timeout=300)
    assert result.returncode == 0, result.stderr
    lines = [line for line in result.stdout.splitlines() if line.startswith("step ")]
    assert [line.split(":")[0] for line in lines] == ["step 250/1000", "step 500/1000", "step 750/1000",
                                                      "step 1000/1000"]
    assert "\r" not in result.stdout + result.stderr
    assert len(result.stdout) + len(result.stderr) < 4000


@pytest.mark.parametrize("command", list(COMMANDS))
def test_every_option_has_help_that_shows_its_default(command):
    """Each option's help, as --help renders it, says its default (flags aside: off unless given; required
    options have none)."""
    sub = next(a for a in build_parser()._actions if isinstance(a, argparse._SubParsersAction)).choices[command]
    formatter = DefaultsShown(sub.prog)
    for action in sub._actions:
        if not action.option_strings or isinstance(action, argparse._HelpAction):
            continue
        assert action.help, (command, action.option_strings)
        if not action.required and not isinstance(action, (argparse._StoreTrueAction, argparse._StoreConstAction)):
            assert "default" in formatter._get_help_string(action), (command, action.option_strings)


def test_defaults_appended_are_the_real_ones():
    sub = next(a for a in build_parser()._actions if isinstance(a, argparse._SubParsersAction)).choices["adding"]
    text = " ".join(sub.format_help().split())
    assert "Adam steps per cell (default: 3000)" in text and "(default: 0.01)" in text
    assert np.isclose(sub.get_default("lr"), 0.01)
