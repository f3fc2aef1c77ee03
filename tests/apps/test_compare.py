"""Issue 18, item 3: `compare` trains every cell the same way (data, seed, steps, a parameter budget within ±10%)
on the char-LM and the adding problem, and prints a table, a CSV and a PNG of the validation curves. The CI smoke
run uses tiny sizes; the budget search is checked against brute force."""
import csv

import pytest

from tinygrad_rnn.apps import adding, compare
from tinygrad_rnn.apps.charlm import CharLM
from tinygrad_rnn.apps.models import CELLS

TINY = ["--quick", "--hidden", "8", "--embedding", "4", "--steps", "4", "--eval-every", "2", "--seq-len", "8",
        "--batch", "2", "--adding-length", "6", "--adding-hidden", "4", "--adding-steps", "4", "--adding-batch", "4"]


def run_compare(run_main, corpus, tmp_path, *extra):
    result = run_main(["compare", *TINY, "--text", corpus, "--out", str(tmp_path / "c.png"), "--csv",
                       str(tmp_path / "c.csv"), *extra])
    assert result.returncode == 0, result.stderr
    return result


def test_compare_smoke_every_cell(tmp_path, corpus, run_main):
    result = run_compare(run_main, corpus, tmp_path)
    table = [line for line in result.stdout.splitlines() if line.startswith("| ") and "---" not in line][1:]
    assert [line.split("|")[1].strip() for line in table] == list(CELLS)
    with open(tmp_path / "c.csv", newline="") as f:
        rows = list(csv.DictReader(f))
    lm = {r["cell"]: r for r in rows if r["task"] == "char_lm_valid_bpc"}
    budget = int(lm["lstm"]["parameters"])
    for line in table:
        cells = [c.strip() for c in line.split("|")[1:-1]]
        cell, params, bpc = cells[0], int(cells[2].replace(",", "").split()[0]), float(cells[3])
        assert abs(params - budget) <= 0.10 * budget, cell                    # one parameter budget
        last = [r for r in rows if r["cell"] == cell and r["task"] == "char_lm_valid_bpc"][-1]
        assert int(last["step"]) == 4 and abs(float(last["value"]) - bpc) < 5e-4
        assert float(cells[6]) == pytest.approx(float([r for r in rows if r["cell"] == cell and
                                                       r["task"] == "adding_test_mse"][-1]["value"]), abs=5e-5)
    try:
        import matplotlib  # noqa: F401
    except ImportError:
        assert "matplotlib is not installed" in result.stdout
    else:
        assert (tmp_path / "c.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_compare_is_reproducible(tmp_path, corpus, run_main):
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    values = []
    for sub in ("a", "b"):
        run_compare(run_main, corpus, tmp_path / sub, "--cells", "lstm,gru-cho,clockwork", "--out", "none")
        with open(tmp_path / sub / "c.csv", newline="") as f:
            values.append([(r["cell"], r["task"], r["step"], r["value"]) for r in csv.DictReader(f)])
    assert values[0] == values[1]


@pytest.mark.parametrize("cell", ["gru", "rnn", "clockwork", "depth-gated"])
def test_the_budget_search_finds_the_closest_size(cell):
    s = dict(compare.PROFILES["quick"], layers=2, embedding=4)
    target = compare.count(compare.lm_model("lstm", 9, 11, s))
    multiple = compare.clockwork_multiple(cell)
    found = compare.hidden_for_budget(lambda h: compare.lm_model(cell, h, 11, s), target, multiple)
    brute = min(((h, compare.count(compare.lm_model(cell, h, 11, s))) for h in range(multiple, 41, multiple)),
                key=lambda hp: abs(hp[1] - target))
    assert found == brute
    assert found[1] == sum(p.numel() for p in CharLM(11, found[0], 2, cell, embedding=4,
                                                        forget_bias=None).parameters())


def test_adding_budget_uses_the_same_search(tmp_path):
    target = compare.count(adding.Regressor("lstm", 12, 2))
    hidden, params = compare.hidden_for_budget(lambda h: adding.Regressor("rnn", h, 2), target)
    assert abs(params - target) <= 0.1 * target and hidden > 12


def test_compare_never_replaces_a_file(tmp_path, corpus, run_main, assert_refused):
    keep = tmp_path / "c.png"
    keep.write_text("mine")
    assert_refused(run_main(["compare", *TINY, "--text", corpus, "--out", str(keep)]), "exists and is not this run's")
    assert keep.read_text() == "mine"
