"""The command line: the demo trains (its loss falls), bad input is one line on stderr with exit code 2."""
import re

import numpy as np
import pytest

from tinygrad_rnn.apps.demo import run_demo


def test_demo_loss_falls_and_is_reproducible():
    losses = run_demo(steps=60, log=lambda line: None)
    assert np.mean(losses[-10:]) < 0.25 * np.mean(losses[:5])
    assert run_demo(steps=5, log=lambda line: None) == run_demo(steps=5, log=lambda line: None)


def test_demo_runs_in_float32():
    losses = run_demo(steps=20, dtype=np.float32, log=lambda line: None)
    assert np.isfinite(losses).all() and losses[-1] < losses[0]


def test_cli_demo_prints_falling_loss(run_cli):
    result = run_cli("demo", "--steps", "20", "--seed", "3")
    assert result.returncode == 0, result.stderr
    first, last = map(float, re.search(r"loss fell: from ([\d.]+) to ([\d.]+) in 20 steps", result.stdout).groups())
    assert last < first
    logged = [float(v) for v in re.findall(r"step +\d+ +loss ([\d.]+)", result.stdout)]
    assert logged[0] == pytest.approx(first, abs=1e-5) and logged[-1] == pytest.approx(last, abs=1e-5)


def test_cli_demo_says_when_the_loss_did_not_fall(run_cli):
    result = run_cli("demo", "--steps", "3", "--lr", "1e-12")      # too small a step to move the loss down reliably
    assert result.returncode == 0, result.stderr
    first, last = map(float, re.search(r"from ([\d.]+) to ([\d.]+)", result.stdout).groups())
    assert ("loss fell:" in result.stdout) == (last < first)


@pytest.mark.parametrize("args,needle", [(("demo", "--steps", "0"), "--steps"), (("demo", "--lr", "-1"), "--lr"),
                                         (("frobnicate",), "invalid choice"), ((), "required"),
                                         (("adding", "--cells", "lstm,tcn"), "--cells")])
def test_cli_bad_input_is_one_line_and_exit_2(args, needle, run_cli, assert_refused):
    assert_refused(run_cli(*args), needle)


def test_adding_problem_data_and_table(capsys):
    from tinygrad_rnn.apps.adding import batch
    from tinygrad_rnn.apps.cli import main

    x, y = batch(np.random.default_rng(0), 10, 5)
    assert x.shape == (10, 5, 2) and y.shape == (5, 1)
    assert (x[:, :, 1].sum(axis=0) == 2).all() and (x[:5, :, 1].sum(axis=0) == 1).all()
    np.testing.assert_allclose(y[:, 0], (x[:, :, 0] * x[:, :, 1]).sum(axis=0), rtol=1e-6)
    assert main(["adding", "--steps", "2", "--length", "10", "--hidden", "4", "--cells", "rnn,gru"]) == 0
    table = capsys.readouterr().out.split("learned?")[1].split()
    assert table[0] == "rnn" and float(table[1]) > 0 and table[3] == "gru"
