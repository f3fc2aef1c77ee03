"""README.md's Python examples run as written, and what they claim holds."""
import pathlib
import re

README = pathlib.Path(__file__).resolve().parents[1] / "README.md"


def python_blocks():
    return re.findall(r"```python\n(.*?)```", README.read_text(encoding="utf-8"), flags=re.S)


def test_readme_examples_run(capsys):
    blocks = python_blocks()
    assert len(blocks) >= 2
    first = {}
    exec(blocks[0], first)
    assert first["x"].grad.shape == (4, 3) and first["w"].grad.shape == (5, 3)
    lstm = {}
    exec(blocks[1], lstm)
    assert lstm["loss"].item() < 0.05  # the README says the loss falls from ~0.6 to below 0.05
    assert "loss" in capsys.readouterr().out
