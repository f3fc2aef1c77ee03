"""gradflow: ‖∂L/∂h_t‖ against distance in time (vanishing in the RNN, kept by the LSTM), exploding gradients and
clipping, and the command's files and errors."""
import csv
import sys

import numpy as np
import pytest

from tinygrad_rnn.apps import cli, gradflow


@pytest.mark.parametrize("seed", [0, 1, 2, 3])
def test_rnn_gradient_at_distance_50_is_100x_below_the_lstm(seed):
    flows = gradflow.gradient_flow(length=100, seed=seed, cells=("rnn", "lstm"))
    assert flows["rnn"][50] * 100 <= flows["lstm"][50]
    assert flows["rnn"][0] == pytest.approx(flows["lstm"][0])  # same loss: ∂(Σ h_T)/∂h_T is all ones for both
    assert np.all(np.diff(np.log(flows["rnn"][1:])) < 0)         # vanishing: it shrinks at every step back


def test_every_cell_is_probed_with_the_same_input():
    flows = gradflow.gradient_flow(length=20, seed=0)
    assert set(flows) == {"rnn", "lstm", "gru", "peephole", "rnn_large_w"}
    for norms in flows.values():
        assert norms.shape == (20,) and np.all(np.isfinite(norms)) and np.all(norms > 0)
        assert norms[0] == pytest.approx(np.sqrt(16 * 32))        # batch 16, hidden 32
    assert flows["rnn_large_w"][19] > flows["rnn_large_w"][0]     # large W_hh: it grows instead


def test_clipping_tames_the_exploding_rnn():
    unclipped, _ = gradflow.train_exploding(False, iters=40)
    clipped, norms = gradflow.train_exploding(True, iters=150)
    assert not np.all(np.isfinite(unclipped))                    # diverged, and the run stopped there
    assert np.all(np.isfinite(clipped))
    assert np.mean(clipped[-10:]) < 0.25 * clipped[0]
    assert np.nanmax(norms) > 10 * gradflow.CLIP_NORM            # the gradients do spike: clipping is at work


def read_csv(path):
    with open(path, newline="") as f:
        rows = list(csv.DictReader(f))
    return {(r["cell"], int(r["distance"])): float(r["grad_norm"]) for r in rows}, rows


def test_cli_writes_csv_and_png(tmp_path, run_cli):
    pytest.importorskip("matplotlib")
    out, table = tmp_path / "flow.png", tmp_path / "flow.csv"
    result = run_cli("gradflow", "--out", str(out), "--csv", str(table), "--iters", "20")
    assert result.returncode == 0, result.stderr
    norms, rows = read_csv(table)
    assert list(rows[0]) == ["cell", "distance", "grad_norm"]
    assert {r["cell"] for r in rows} == {"rnn", "lstm", "gru", "peephole", "rnn_large_w"}
    assert len(rows) == 5 * 100
    assert norms["lstm", 50] / norms["rnn", 50] >= 100
    assert out.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert "times the vanilla RNN's" in result.stdout


def test_cli_without_matplotlib_writes_the_csv_and_says_how_to_install(tmp_path, monkeypatch, capsys):
    monkeypatch.setitem(sys.modules, "matplotlib", None)  # import matplotlib now raises ImportError
    code = cli.main(["gradflow", "--length", "60", "--iters", "3", "--out", str(tmp_path / "f.png"), "--csv",
                     str(tmp_path / "f.csv")])
    captured = capsys.readouterr()
    assert code == 0
    norms, _ = read_csv(tmp_path / "f.csv")
    assert norms["lstm", 50] / norms["rnn", 50] >= 100
    assert not (tmp_path / "f.png").exists()
    err = captured.err.strip().splitlines()
    assert len(err) == 1 and 'pip install -e ".[plot]"' in err[0]


@pytest.mark.parametrize("args,needle", [(("--length", "0"), "--length"), (("--seed", "x"), "--seed"),
                                         (("--csv", "/nonexistent/dir/f.csv", "--length", "5", "--iters", "1"),
                                          "cannot write")])
def test_cli_bad_input_is_one_line_and_exit_2(args, needle, run_cli, assert_refused):
    assert_refused(run_cli("gradflow", *args), needle)
