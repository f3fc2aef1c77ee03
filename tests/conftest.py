"""What many test files share: seeded data, the kernel and torch skips, and the command line's runners and contract.

- `rng`, `dtype`: a seeded generator; float32 and float64.
- `@pytest.mark.requires_kernels` (or the `requires_kernels` fixture): skip unless the Cython kernels are in use.
- `torch`: the torch module, or a skip when it is not installed.
- `run_cli(*args)`: `python -m tinygrad_rnn ARGS` in a fresh process -> CompletedProcess; `spawn_cli` the same as
  a Popen, for tests that signal it. `run_main(argv)`: `cli.main(argv)` in this process -> CompletedProcess.
- `assert_refused(result, needle)`: the command line's contract for bad input: exit code 2 and one line on stderr
  that contains needle (so never a traceback). Every test of that contract goes through it.
Fixtures rather than an importable module: they reach tests in every subfolder without touching sys.path.
"""
import os
import subprocess
import sys

import numpy as np
import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
KERNELS_REASON = "the Cython kernels are not in use (not built, or TINYGRAD_RNN_BACKEND=numpy)"


@pytest.fixture
def rng():
    """A seeded generator, so every test sees the same numbers on every run."""
    return np.random.default_rng(1234)


@pytest.fixture(params=[np.float32, np.float64], ids=["float32", "float64"])
def dtype(request):
    return request.param


# ---- skips -------------------------------------------------------------------------------------------------------
def _kernels_in_use():
    import tinygrad_rnn      # imported late: the debug-build CI step must pick the package up from its own cwd

    return tinygrad_rnn.BACKEND == "cython"


def pytest_configure(config):
    config.addinivalue_line("markers", f"requires_kernels: skip when {KERNELS_REASON}")


def pytest_runtest_setup(item):
    if item.get_closest_marker("requires_kernels") is not None and not _kernels_in_use():
        pytest.skip(KERNELS_REASON)


@pytest.fixture
def requires_kernels():
    """The marker as a fixture, for tests that already take fixtures (or `usefixtures`)."""
    if not _kernels_in_use():
        pytest.skip(KERNELS_REASON)


@pytest.fixture(scope="session")
def torch():
    """The optional reference for parity tests: the module, or a skip."""
    return pytest.importorskip("torch")


# ---- the command line --------------------------------------------------------------------------------------------
def _cli_env():
    """The package importable from any working directory (tests run the CLI from tmp_path)."""
    return dict(os.environ, PYTHONPATH=os.pathsep.join(filter(None, [ROOT, os.environ.get("PYTHONPATH")])))


@pytest.fixture
def run_cli():
    """run_cli(*args, cwd=None, timeout=120, env=None): `python -m tinygrad_rnn ARGS` -> CompletedProcess (text)."""
    def run_cli(*args, cwd=None, timeout=120, env=None):
        return subprocess.run([sys.executable, "-m", "tinygrad_rnn", *args], capture_output=True, text=True,
                              cwd=cwd, env={**_cli_env(), **(env or {})}, timeout=timeout)
    return run_cli


@pytest.fixture
def spawn_cli():
    """spawn_cli(*args, env=None): the same command as a Popen with stdout and stderr piped, for signalling it."""
    def spawn_cli(*args, env=None):
        return subprocess.Popen([sys.executable, "-m", "tinygrad_rnn", *args], env={**_cli_env(), **(env or {})},
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    return spawn_cli


@pytest.fixture
def run_main(capsys):
    """run_main(argv): `tinygrad_rnn.apps.cli.main(argv)` in this process -> CompletedProcess(argv, code, out, err).

    SystemExit (argparse) becomes the code; any other exception propagates and fails the test, traceback shown."""
    from tinygrad_rnn.apps.cli import main

    def run_main(argv):
        try:
            code = main(list(argv))
        except SystemExit as exit_:
            code = exit_.code
        out, err = capsys.readouterr()
        return subprocess.CompletedProcess(list(argv), code, out, err)
    return run_main


def _assert_refused(result, needle, code=2):
    """Exit code 2 (or code) and exactly one line on stderr, containing needle, no traceback; returns that line."""
    lines = result.stderr.strip().splitlines()
    assert result.returncode == code, (result.args, result.returncode, result.stderr)
    assert len(lines) == 1 and needle in lines[0] and "Traceback" not in result.stderr, (result.args, result.stderr)
    return lines[0]


@pytest.fixture
def assert_refused():
    """assert_refused(result, needle, code=2) -> the one line: the CLI contract for bad input (code=1: a run that
    stopped itself, same shape), for run_cli or run_main results."""
    return _assert_refused


def _tape_ops(t):
    """The op (Function class) names of every node on the tape behind tensor t."""
    seen, stack, names = set(), [t._ctx], []
    while stack:
        node = stack.pop()
        if node is None or id(node) in seen:
            continue
        seen.add(id(node))
        names.append(type(node).__name__)
        stack.extend(p._ctx for p in node.parents)
    return names


@pytest.fixture
def tape_ops():
    """tape_ops(t) -> the op names of every node behind t (one per node, in no particular order)."""
    return _tape_ops
