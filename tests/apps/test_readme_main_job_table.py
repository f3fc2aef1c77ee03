"""Issue 18's "every command in it runs as written": the README's main-job table (model in the texts → command →
result after the default steps) is read from README.md, and each command runs as the CLI accepts it.

Each row's command (in backticks, written out in full: `python -m tinygrad_rnn train ...`) runs in a fresh
directory with its own arguments followed by tiny overrides (this suite's corpus, 2 steps, small sizes; later
options win in argparse), so what is checked is that the CLI takes the command's arguments, that a checkpoint comes
out where the command would write it, that the checkpoint records the options the command gave, and that `sample`
generates from it. A row whose results say "refused" must be one line on stderr and exit code 2, writing nothing.
The table's numbers are measurements on the build machine; they are not checked here.
"""
import os
import pathlib
import shlex

import pytest

from tinygrad_rnn import checkpoint
from tinygrad_rnn.apps.cli import build_parser
from train_inputs import CORPUS

README = pathlib.Path(__file__).resolve().parents[2] / "README.md"
HEADER_START = "| model in the texts"
PROGRAM = ["python", "-m", "tinygrad_rnn"]
TINY = ["--steps", "2", "--seq-len", "8", "--batch", "2", "--hidden", "16", "--quiet", "--sample-every", "1000",
        "--save-every", "1000"]
NOT_OVERRIDDEN = {"cell", "preset", "layers", "dropout", "dtype", "gate_activation", "forget_bias", "periods",
                  "one_hot", "optimizer", "lr", "clip", "clip_value", "weight_decay", "reduction", "carry_state",
                  "embedding", "scheduler"}     # the options a command's own value must reach the checkpoint for


def split_row(line):
    return [cell.strip() for cell in line.strip().strip("|").split("|")]


def main_job_table(text):
    """[(row cells as a dict by header)] of the first table whose header starts with HEADER_START and has a
    results column (one naming bits per char), or None when the README has no such table."""
    lines = text.splitlines()
    for k, line in enumerate(lines):
        if not line.startswith(HEADER_START):
            continue
        header = [h.lower() for h in split_row(line)]
        if "command" not in header or not any("bits" in h for h in header):
            continue          # the table of commands without results (before the measured one was pasted)
        rows = []
        for row in lines[k + 2:]:
            if not row.startswith("|"):
                break
            rows.append(dict(zip(header, split_row(row))))
        return rows
    return None


def command_of(row):
    """The row's command as an argv list, from the backticked text of its command column."""
    cell = row["command"]
    assert cell.count("`") == 2, f"the command column should hold one `command`, got {cell!r}"
    argv = shlex.split(cell.split("`")[1])
    assert argv[:len(PROGRAM)] == PROGRAM, f"a command is written out in full ({' '.join(PROGRAM)} ...): {cell!r}"
    return argv[len(PROGRAM):]


def refused(row):
    return any("refused" in value.lower() for key, value in row.items() if key not in ("command",))


def table_rows():
    rows = main_job_table(README.read_text(encoding="utf-8")) if README.exists() else None
    if rows is None:
        return [pytest.param(None, marks=pytest.mark.skip(
            reason="README.md has no measured main-job table yet (a header '| model in the texts | command | ... "
                   "bits ... |'): the lead pastes it from the main-job measurements before merging"))]
    return [pytest.param(row, id=row["command"].strip("`")) for row in rows]


def test_the_table_has_the_default_every_preset_and_every_cell_of_the_texts():
    rows = main_job_table(README.read_text(encoding="utf-8")) if README.exists() else None
    if rows is None:
        pytest.skip("README.md has no measured main-job table yet")
    from tinygrad_rnn.apps.models import CELLS
    from tinygrad_rnn.apps.presets import PRESETS

    commands = [command_of(row) for row in rows]
    assert all(c[0] == "train" for c in commands) and len({tuple(c) for c in commands}) == len(commands)
    assert ["train"] in commands                     # the default model, as the README's first command
    parsed = [build_parser().parse_args(c) for c in commands]
    assert {a.preset for a in parsed} >= set(PRESETS)
    cells = {a.cell or (PRESETS[a.preset].options["cell"] if a.preset else "lstm") for a in parsed}
    assert cells >= set(CELLS) - {"rnn-relu"}        # (relu is PyTorch's option, not a model of the texts)
    assert any(a.bidirectional for a in parsed)       # the row that says why it is not offered


@pytest.mark.parametrize("row", table_rows())
def test_the_readme_command_runs_as_written(row, tmp_path, monkeypatch, run_main, assert_refused):
    argv = command_of(row)
    corpus = tmp_path / "corpus.txt"
    corpus.write_text(CORPUS, encoding="utf-8")
    workdir = tmp_path / "run"
    workdir.mkdir()
    monkeypatch.chdir(workdir)                      # where the command's default outputs go
    given = build_parser().parse_args(argv)         # what the command itself asks for
    result = run_main([*argv, "--text", str(corpus), *TINY])
    if refused(row):
        named = [a for a in argv if a.startswith("--")]      # the one line names one of the command's options
        line = assert_refused(result, "")
        assert any(option in line for option in named), (line, named)
        assert os.listdir(workdir) == []
        return
    assert result.returncode == 0, (argv, result.stderr)
    path = workdir / given.out
    assert path.exists(), (argv, os.listdir(workdir))
    saved = checkpoint.load(str(path))
    config = saved["config"]
    assert saved["step"] == 2 and config["hidden"] == 16 and config["seq_len"] == 8
    for key in NOT_OVERRIDDEN:                      # the command's own options are the checkpoint's
        value = getattr(given, key, None)
        if value is None:
            continue
        value = None if key in ("clip", "clip_value") and value == "none" else value
        recorded = config[key]
        if isinstance(value, tuple):
            value = list(value)
        assert recorded == value, (key, recorded, value)
    if given.preset is not None:                    # and the preset's options, where the command gives none
        from tinygrad_rnn.apps.presets import PRESETS
        for key, value in PRESETS[given.preset].options.items():
            if getattr(given, key, None) is None and key in NOT_OVERRIDDEN:
                expected = None if key in ("clip", "clip_value") and value == "none" else value
                assert config[key] == expected, (given.preset, key, config[key], expected)
    sample = run_main(["sample", str(path), "--prime", "th", "--length", "30", "--seed", "0"])
    assert sample.returncode == 0, sample.stderr
    text = sample.stdout.rstrip("\n")
    assert text.startswith("th") and len(text) == 32 and set(text) <= set(CORPUS)
