"""The documentation site: `mkdocs build --strict` (material theme, mkdocstrings over the public API, the tutorial,
the exercises and the README's "Coming from PyTorch") passes, and a broken reference in a docstring would fail it.
Skipped only when mkdocs itself is not installed (the test extra installs it with the theme and mkdocstrings)."""
import inspect
import os
import pathlib
import subprocess
import sys

import pytest

ROOT = pathlib.Path(__file__).resolve().parents[1]

pytest.importorskip("mkdocs", reason="mkdocs is in the test extra: pip install -e '.[test]'")


def build(config, site):
    env = dict(os.environ, NO_MKDOCS_2_WARNING="1", PYTHONPATH=os.pathsep.join(
        filter(None, [str(ROOT), os.environ.get("PYTHONPATH")])))
    return subprocess.run([sys.executable, "-m", "mkdocs", "build", "--strict", "--config-file", str(config),
                           "--site-dir", str(site)], capture_output=True, text=True, cwd=config.parent, env=env,
                          timeout=600)


def test_the_site_builds_strictly_with_every_page(tmp_path):
    result = build(ROOT / "mkdocs.yml", tmp_path / "site")
    assert result.returncode == 0, result.stderr[-3000:]
    page = {name: (tmp_path / "site" / name / "index.html").read_text(encoding="utf-8")
            for name in ("tutorial", "exercises", "pytorch", "api/nn", "api/tensor", "api/utils", "api/viz")}
    assert "The reverse sweep, by hand" in page["tutorial"] and "img/lstm_unfused.png" in page["tutorial"]
    assert "python -m tinygrad_rnn exercise" in page["exercises"]
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    assert "### Coming from PyTorch" in readme and "torch.tensor([1, 2])" in page["pytorch"]   # the README's table
    assert 'id="tinygrad_rnn.nn.layers.LSTM"' in page["api/nn"]
    assert 'id="tinygrad_rnn.tensor.Tensor.backward"' in page["api/tensor"]
    assert 'id="tinygrad_rnn.utils.checkpoint.checkpoint"' in page["api/utils"]
    assert (tmp_path / "site" / "tutorial.ipynb").exists()


def test_a_broken_docstring_reference_fails_the_strict_build(tmp_path):
    (tmp_path / "docs").mkdir()
    (tmp_path / "docs" / "index.md").write_text("# API\n\n::: brokenref\n", encoding="utf-8")
    (tmp_path / "brokenref.py").write_text('"""A module."""\n\n\ndef f():\n    """Returns a [Tensor][tinygrad_rnn.'
                                           'no_such_thing]."""\n', encoding="utf-8")
    (tmp_path / "mkdocs.yml").write_text("site_name: t\ntheme:\n  name: material\nplugins:\n  - mkdocstrings:\n"
                                         "      handlers:\n        python:\n          paths: [.]\n", encoding="utf-8")
    result = build(tmp_path / "mkdocs.yml", tmp_path / "site")
    assert result.returncode != 0 and "no_such_thing" in result.stderr, result.stderr[-2000:]


def public_objects():
    """(name, object) for every class and function the package exports by name."""
    import tinygrad_rnn as tg
    from tinygrad_rnn import nn, optim, utils, viz
    from tinygrad_rnn.nn import functional, init
    from tinygrad_rnn.optim import lr_scheduler

    found = {}
    for module, names in [(tg, tg.__all__), (nn, nn.__all__), (optim, optim.__all__), (utils, utils.__all__),
                          (functional, dir(functional)), (init, dir(init)), (lr_scheduler, dir(lr_scheduler)),
                          (viz, dir(viz))]:
        for name in names:
            obj = getattr(module, name, None)
            if (not name.startswith("_") and (inspect.isclass(obj) or inspect.isfunction(obj))
                    and getattr(obj, "__module__", "").startswith("tinygrad_rnn")):
                found[f"{module.__name__}.{name}"] = obj
    return found


def test_every_exported_class_and_function_has_a_docstring():
    missing = sorted(name for name, obj in public_objects().items() if not (obj.__doc__ or "").strip())
    assert missing == []
