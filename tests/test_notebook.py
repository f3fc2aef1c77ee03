"""docs/tutorial.ipynb is docs/tutorial.md as a Jupyter notebook (made by jupytext), and it runs cell by cell in a
real kernel (nbclient + ipykernel), each code cell printing what the tutorial's text block under it shows.

After editing the tutorial, make the notebook again:
    jupytext --to ipynb --set-kernel python3 docs/tutorial.md -o docs/tutorial.ipynb
"""
import json
import pathlib

import pytest

from test_tutorial import normalised

ROOT = pathlib.Path(__file__).resolve().parents[1]
TUTORIAL = ROOT / "docs" / "tutorial.md"
NOTEBOOK = ROOT / "docs" / "tutorial.ipynb"
REMAKE = "jupytext --to ipynb --set-kernel python3 docs/tutorial.md -o docs/tutorial.ipynb"

jupytext = pytest.importorskip("jupytext", reason="jupytext is in the test extra: pip install -e '.[test]'")


def generated():
    """The notebook jupytext makes from the tutorial now."""
    nb = jupytext.reads(TUTORIAL.read_text(encoding="utf-8"), fmt="md")
    nb.metadata["kernelspec"] = {"name": "python3", "language": "python", "display_name": "Python 3 (ipykernel)"}
    return nb


def cells(nb):
    return [(c["cell_type"], "".join(c["source"]) if isinstance(c["source"], list) else c["source"])
            for c in nb["cells"]]


def expected_output(markdown):
    """The text block a markdown cell starts with (what the code cell above it prints), or '' when it has none."""
    if not markdown.startswith("```text\n"):
        return ""
    return markdown[len("```text\n"):markdown.index("\n```", len("```text")) + 1]


def test_the_committed_notebook_is_the_tutorial():
    committed = json.loads(NOTEBOOK.read_text(encoding="utf-8"))
    assert committed["metadata"]["kernelspec"]["name"] == "python3"
    assert cells(committed) == cells(generated()), f"docs/tutorial.ipynb is out of date: run {REMAKE}"
    assert all(not c.get("outputs") for c in committed["cells"] if c["cell_type"] == "code")   # no stale outputs


def test_the_notebook_runs_cell_by_cell_and_prints_what_the_tutorial_shows(tmp_path):
    nbclient = pytest.importorskip("nbclient", reason="nbclient is in the test extra: pip install -e '.[test]'")
    pytest.importorskip("ipykernel", reason="ipykernel is in the test extra: pip install -e '.[test]'")
    nb = generated()
    nbclient.NotebookClient(nb, timeout=600, kernel_name="python3",
                            resources={"metadata": {"path": str(tmp_path)}}).execute()
    checked = 0
    for k, cell in enumerate(nb.cells):
        if cell.cell_type != "code":
            continue
        extra = [o["output_type"] for o in cell.outputs if o["output_type"] not in ("stream",)]
        assert not extra, f"code cell {k} ({cell.source.splitlines()[0]!r}) displayed {extra}: end it with a print"
        printed = "".join(o["text"] for o in cell.outputs if o["output_type"] == "stream" and o["name"] == "stdout")
        following = nb.cells[k + 1].source if k + 1 < len(nb.cells) and nb.cells[k + 1].cell_type == "markdown" else ""
        assert normalised(printed) == normalised(expected_output(following)), (
            f"code cell {k} (starting {cell.source.splitlines()[0]!r}) printed\n{printed}\nbut the tutorial shows\n"
            f"{expected_output(following)}")
        checked += 1
    assert checked == TUTORIAL.read_text(encoding="utf-8").count("\n```python\n") > 0   # every python block ran
