"""The package's layers import inward only (README, "Where things are"): the core never imports the speed layer, the
kernel boundary or the apps; nn does not import viz; nothing outside apps/ imports apps/; the kernel boundary knows
no Tensors. Read from the source with ast, so a lazy import inside a function counts too."""
import ast
import pathlib

import pytest

PACKAGE = pathlib.Path(__file__).resolve().parents[1] / "tinygrad_rnn"
CORE = {"tensor", "tensor_math", "tensor_reduce", "tensor_shape", "tensor_index", "tensor_inplace", "indexing", "writes",
        "interop", "devices", "threads", "shape_functions", "functions", "dtypes", "function", "ops", "autograd", "grad_mode", "anomaly", "inplace", "gradcheck",
        "rng", "activations"}


def module_name(path):
    parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def imports(path):
    """Every module `path` imports, as absolute names (relative imports resolved; `from . import x` gives pkg.x)."""
    name = module_name(path)
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    found = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found.update(a.name for a in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")
                anchor = anchor[:len(anchor) - (node.level - 1)]
                base = ".".join(anchor + ([base] if base else []))
            found.add(base)
            found.update(f"{base}.{a.name}" for a in node.names)
    return found


MODULES = {module_name(p): imports(p) for p in PACKAGE.rglob("*.py")}


def layer_of(module):
    parts = module.split(".")
    if parts[0] != "tinygrad_rnn" or len(parts) < 2:
        return None
    return parts[1] if parts[1] in ("fused", "backend", "apps", "nn") else ("core" if parts[1] in CORE else parts[1])


def offenders(source_layers, forbidden):
    return sorted((m, i) for m, found in MODULES.items() if layer_of(m) in source_layers
                  for i in found if layer_of(i) in forbidden)


def test_the_module_list_is_read():
    assert "tinygrad_rnn.tensor" in MODULES and "tinygrad_rnn.fused.scan" in MODULES
    assert "tinygrad_rnn.fused.outer_sum" in MODULES["tinygrad_rnn.fused.scan"]   # a relative import resolved


def test_the_core_imports_neither_the_speed_layer_nor_the_boundary_nor_the_apps():
    assert offenders({"core"}, {"fused", "backend", "apps", "nn", "viz"}) == []


def test_nn_does_not_import_viz_or_the_apps():
    assert offenders({"nn"}, {"viz", "apps"}) == []


def test_nothing_outside_apps_imports_apps():
    # __main__ is the command line's entry point: it hands over to apps.cli and is nothing else
    assert [(m, i) for m, i in offenders(set(map(layer_of, MODULES)) - {"apps"}, {"apps"})
            if m != "tinygrad_rnn.__main__"] == []


@pytest.mark.parametrize("forbidden", ["core", "fused", "nn", "apps", "viz"])
def test_the_kernel_boundary_knows_no_tensors(forbidden):
    allowed = "tinygrad_rnn.activations"                   # the activation table: plain NumPy functions
    assert [(m, i) for m, i in offenders({"backend"}, {forbidden})
            if i != allowed and not i.startswith(allowed + ".")] == []


def test_fused_ops_do_not_import_nn_or_the_apps():
    assert offenders({"fused"}, {"nn", "apps", "viz"}) == []
