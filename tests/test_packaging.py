"""The package as a Python user meets it: what `import tinygrad_rnn` pulls in (scipy only when scipy's BLAS is
chosen; no torch, matplotlib or safetensors), one version everywhere (metadata, __version__, --version, the
console script), the license and typing markers, stripped kernels, lint and types clean, and (slow) a wheel and an
sdist built from a copy of the sources that install into a fresh virtual environment and run."""
import json
import os
import pathlib
import shutil
import struct
import subprocess
import sys
import zipfile
from importlib import metadata

import pytest

import tinygrad_rnn
from tinygrad_rnn.backend import calls

ROOT = pathlib.Path(__file__).resolve().parents[1]
# the build and type checks do not depend on which kernels run: CI's second suite (the NumPy twins) skips them
ONCE = pytest.mark.skipif(os.environ.get("TINYGRAD_RNN_BACKEND", "").strip().lower() == "numpy",
                          reason="backend-independent, run once in the suite on the Cython kernels")
HEAVY = {"scipy", "torch", "matplotlib", "safetensors", "tqdm", "pandas"}   # packages: any of their modules
MODULES = "import json, sys\nimport tinygrad_rnn\n{body}\nprint(json.dumps(sorted(sys.modules)))"


def imported(body="", **env):
    """The modules loaded in a fresh interpreter after `import tinygrad_rnn` and `body`."""
    environ = {k: v for k, v in os.environ.items() if not k.startswith("TINYGRAD_RNN_")} | env
    done = subprocess.run([sys.executable, "-c", MODULES.format(body=body)], capture_output=True, text=True,
                          env=environ, cwd=ROOT, timeout=120)
    assert done.returncode == 0, done.stderr[-2000:]
    return set(json.loads(done.stdout.strip().splitlines()[-1]))


def heavy(modules):
    """The heavy modules among `modules`; importlib.metadata too (__version__ is read on first use)."""
    return sorted(m for m in modules if m.split(".")[0] in HEAVY or m == "importlib.metadata")


# ---- import: what it pulls in ----------------------------------------------------------------------------------------
def test_import_pulls_in_no_heavy_module():
    """scipy.linalg was ~0.3 s of `import tinygrad_rnn`: the kernels cimported scipy's BLAS even when NumPy's ran
    the GEMMs. A GEMM through the kernels (a fused linear layer, forward and backward) must not need it either."""
    body = ("import numpy as np\nx = tinygrad_rnn.Tensor(np.ones((4, 3)), requires_grad=True)\n"
            "w = tinygrad_rnn.Tensor(np.ones((5, 3)), requires_grad=True)\n"
            "tinygrad_rnn.nn.functional.linear(x, w, act='tanh').sum().backward()\n"
            "from tinygrad_rnn.backend import calls\nassert calls.KERNEL_BLAS is None or "
            "calls.KERNEL_BLAS.startswith('numpy'), calls.KERNEL_BLAS")
    if calls.KERNEL_BLAS is not None and calls.KERNEL_BLAS.startswith("scipy"):
        pytest.skip("NumPy's CBLAS was not found here: the kernels use scipy's BLAS, which imports scipy")
    assert heavy(imported(body)) == []


def test_numpy_twins_import_no_scipy_either():
    assert heavy(imported(TINYGRAD_RNN_BACKEND="numpy")) == []


@pytest.mark.requires_kernels
def test_scipy_is_imported_when_its_blas_is_chosen():
    modules = imported("from tinygrad_rnn.backend import calls\nassert calls.KERNEL_BLAS.startswith('scipy')",
                       TINYGRAD_RNN_BLAS="scipy")
    assert "scipy.linalg.cython_blas" in modules


@pytest.mark.requires_kernels
def test_scipy_s_blas_is_found_on_first_use_when_nothing_chose_one():
    """A kernel module whose BLAS was never chosen (the NumPy twins selected, the kernels called directly) looks
    scipy's up at its first GEMM instead of calling a NULL pointer."""
    body = ("import numpy as np\nfrom tinygrad_rnn.backend._kernels import _blas, linear\n"
            "assert not _blas.using_cblas() and not _blas.scipy_blas_loaded()\n"
            "x, w = np.ones((2, 3)), np.full((4, 3), 2.0)\n"
            "out = linear.linear_act_forward(x, w, None, 'identity')\n"
            "assert (out == 6.0).all() and _blas.scipy_blas_loaded(), out")
    assert "scipy.linalg.cython_blas" in imported(body, TINYGRAD_RNN_BACKEND="numpy")


def test_save_and_load_are_there_when_asked_for():
    assert "tinygrad_rnn.serialization" not in imported()
    modules = imported("from tinygrad_rnn import save, load, load_torch_state_dict\nassert callable(save)")
    assert "tinygrad_rnn.serialization" in modules and heavy(modules) == []
    assert {"save", "load", "load_torch_state_dict", "__version__"} <= set(tinygrad_rnn.__all__)


# ---- one version, the entry points, the markers ----------------------------------------------------------------------
def test_one_version_everywhere():
    version = metadata.version("tinygrad_rnn")
    assert tinygrad_rnn.__version__ == version
    text = (ROOT / "pyproject.toml").read_text()
    assert f'version = "{version}"' in text
    for command in ([sys.executable, "-m", "tinygrad_rnn", "--version"],
                    [str(pathlib.Path(sys.executable).with_name("tinygrad-rnn")), "--version"]):
        if not os.path.exists(command[0]):
            pytest.fail(f"{command[0]} is missing: the console script was not installed")
        done = subprocess.run(command, capture_output=True, text=True, timeout=120)
        assert (done.returncode, done.stdout.strip()) == (0, f"tinygrad_rnn {version}"), done.stderr


def test_metadata_license_and_markers():
    meta = metadata.metadata("tinygrad_rnn")
    assert meta["License-Expression"] == "MIT" and "LICENSE" in meta.get_all("License-File")
    assert "Typing :: Typed" in meta.get_all("Classifier")
    assert not any(c.startswith("License ::") for c in meta.get_all("Classifier"))   # SPDX replaces them
    scripts = {e.name: e.value for e in metadata.entry_points(group="console_scripts") if e.name == "tinygrad-rnn"}
    assert scripts == {"tinygrad-rnn": "tinygrad_rnn.apps.cli:main"}
    assert "MIT License" in (ROOT / "LICENSE").read_text()
    assert (ROOT / "tinygrad_rnn" / "py.typed").exists()
    for name, words in [("CHANGELOG.md", ["## Unreleased", "## 0.1.0"]),
                        ("CONTRIBUTING.md", ['pip install -e ".[test]"', "TINYGRAD_RNN_DEBUG=1", "pytest benchmarks",
                                             "ruff check", "mypy"])]:
        text = (ROOT / name).read_text()
        assert all(w in text for w in words), name


def elf_sections(data):
    """Section names of an ELF64 little-endian shared object (enough of the format to ask for .debug_*)."""
    assert data[:4] == b"\x7fELF" and data[4] == 2 and data[5] == 1
    shoff, = struct.unpack_from("<Q", data, 0x28)
    shentsize, shnum, shstrndx = struct.unpack_from("<HHH", data, 0x3A)
    strtab_offset, = struct.unpack_from("<Q", data, shoff + shstrndx * shentsize + 0x18)
    names = []
    for i in range(shnum):
        name_offset, = struct.unpack_from("<I", data, shoff + i * shentsize)
        start = strtab_offset + name_offset
        names.append(data[start:data.index(b"\0", start)].decode())
    return names


@pytest.mark.requires_kernels
@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="-s strips on GNU ld (Linux)")
def test_installed_kernels_are_stripped():
    if os.environ.get("TINYGRAD_RNN_EXPECT_KERNELS_FROM"):
        pytest.skip("the debug build keeps its symbols")
    kernels = sorted((ROOT / "tinygrad_rnn" / "backend" / "_kernels").glob("*.so"))
    assert kernels
    for path in kernels:
        sections = elf_sections(path.read_bytes())
        assert ".dynsym" in sections                       # what the loader needs stays
        assert not [s for s in sections if s.startswith(".debug") or s == ".symtab"], (path.name, sections)


# ---- lint and types ------------------------------------------------------------------------------------------------
def test_ruff_is_clean():
    ruff = shutil.which("ruff", path=str(pathlib.Path(sys.executable).parent)) or shutil.which("ruff")
    if ruff is None:
        pytest.skip("ruff is not installed (pip install -e '.[test]')")
    done = subprocess.run([ruff, "check", "--no-cache", "."], capture_output=True, text=True, cwd=ROOT, timeout=300)
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-2000:]


@pytest.mark.slow
@ONCE
def test_mypy_is_clean(tmp_path):
    pytest.importorskip("mypy", reason="mypy is not installed (pip install -e '.[test]')")
    done = subprocess.run([sys.executable, "-m", "mypy", "--cache-dir", str(tmp_path / "cache")],
                          capture_output=True, text=True, cwd=ROOT, timeout=900)
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-2000:]


# ---- the wheel and the sdist -----------------------------------------------------------------------------------------
SOURCES = ["setup.py", "pyproject.toml", "README.md", "MANIFEST.in", "LICENSE", "CHANGELOG.md", "CONTRIBUTING.md"]


@pytest.mark.slow
@ONCE
@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="the wheel checks read ELF")
def test_wheel_and_sdist_build_install_and_run(tmp_path):
    """python -m build on a copy of the sources (cythonize writes .c files beside the .pyx), then the wheel in a
    fresh virtual environment: it imports with the Cython kernels and runs the demo."""
    pytest.importorskip("build", reason="the build package is not installed (pip install -e '.[test]')")
    source = tmp_path / "src"
    source.mkdir()
    for name in SOURCES:
        shutil.copy(ROOT / name, source / name)
    for folder in ("tinygrad_rnn", "docs", "tests", "benchmarks", "examples"):
        shutil.copytree(ROOT / folder, source / folder, ignore=shutil.ignore_patterns(
            "*.so", "*.c", "__pycache__", "*.html", "*.egg-info"))
    dist = tmp_path / "dist"
    built = subprocess.run([sys.executable, "-m", "build", "--outdir", str(dist), str(source)],
                           capture_output=True, text=True, timeout=1800)
    assert built.returncode == 0, built.stdout[-3000:] + built.stderr[-3000:]
    wheel, = dist.glob("*.whl")
    sdist, = dist.glob("*.tar.gz")

    import tarfile
    with tarfile.open(sdist) as tar:
        names = tar.getnames()
    for needed in ("LICENSE", "docs/img/gradflow.png", "docs/img/lstm_unfused.png", "tinygrad_rnn/py.typed",
                   "tinygrad_rnn/backend/_kernels/fastmath.h", "examples/continue_on_pytorch_ddp.py"):
        assert any(n.endswith("/" + needed) for n in names), needed

    with zipfile.ZipFile(wheel) as z:
        names = z.namelist()
        kernels = [n for n in names if n.endswith(".so")]
        shipped = sorted(pathlib.Path(n).name.split(".")[0] for n in kernels)
        every = sorted(p.stem for p in (ROOT / "tinygrad_rnn" / "backend" / "_kernels").glob("*.pyx"))
        assert "fastmath_check" in every and shipped == [k for k in every if k != "fastmath_check"]
        for name in kernels:
            sections = elf_sections(z.read(name))
            assert not [s for s in sections if s.startswith(".debug") or s == ".symtab"], (name, sections)
        assert "tinygrad_rnn/py.typed" in names
        assert any(n.endswith(".dist-info/licenses/LICENSE") for n in names)
        meta = z.read(next(n for n in names if n.endswith(".dist-info/METADATA"))).decode()
        assert "License-Expression: MIT" in meta

    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True, timeout=300)
    python = venv / "bin" / "python"
    installed = subprocess.run([str(python), "-m", "pip", "install", "-q", str(wheel)], capture_output=True,
                               text=True, timeout=1200)
    assert installed.returncode == 0, installed.stderr[-3000:]
    smoke = ("import tinygrad_rnn, sys\nassert tinygrad_rnn.BACKEND == 'cython', tinygrad_rnn.BACKEND\n"
             "assert 'scipy' not in sys.modules or tinygrad_rnn.backend.calls.KERNEL_BLAS.startswith('scipy')\n"
             "print(tinygrad_rnn.__version__)")
    ran = subprocess.run([str(python), "-c", smoke], capture_output=True, text=True, cwd=tmp_path, timeout=300)
    assert ran.returncode == 0 and ran.stdout.strip() == tinygrad_rnn.__version__, ran.stderr[-2000:]
    demo = subprocess.run([str(venv / "bin" / "tinygrad-rnn"), "demo", "--steps", "5"], capture_output=True,
                          text=True, cwd=tmp_path, timeout=300)
    assert demo.returncode == 0, demo.stderr[-2000:]
