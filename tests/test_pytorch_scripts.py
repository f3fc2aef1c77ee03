"""Three training scripts written for PyTorch (tests/scripts/) run on the engine with only their import lines
changed, from the same initial weights as on torch, and their losses (and accuracies) agree step by step to 1e-8 in
float64: a padded bidirectional tagger (pack_padded_sequence, ReduceLROnPlateau, clip_grad_norm_), a forecaster with
a hand-written LayerNorm-LSTM cell in a ModuleList (xavier init, early stopping, save/load of the best model), and a
GRU classifier (OneCycleLR, label smoothing, argmax accuracy with ==)."""
import pathlib
import types

import numpy as np
import pytest

SCRIPTS = pathlib.Path(__file__).parent / "scripts"
IMPORTS = {  # PyTorch's import line -> the engine's
    "import torch\n": "import tinygrad_rnn as torch\n",
    "import torch.nn as nn\n": "import tinygrad_rnn.nn as nn\n",
    "import torch.nn.functional as F\n": "import tinygrad_rnn.nn.functional as F\n",
    "from torch.nn.utils.rnn import": "from tinygrad_rnn.nn.utils.rnn import",
}


def load(name, engine):
    source = (SCRIPTS / f"{name}.py").read_text()
    if engine:
        for theirs, ours in IMPORTS.items():
            source = source.replace(theirs, ours)
        assert "torch." not in "".join(line for line in source.splitlines(True) if line.startswith(("import",
                                                                                                     "from")))
    module = types.ModuleType(f"{name}_{'engine' if engine else 'torch'}")
    exec(compile(source, str(SCRIPTS / f"{name}.py"), "exec"), module.__dict__)
    return module


@pytest.mark.parametrize("name", ["tagger", "forecaster", "classifier", "lm_loader"])
def test_script_runs_unchanged_and_matches_torch(name, torch, capsys):
    torch.manual_seed(0)
    _, initial = load(name, engine=False).main(only_init=True)   # torch's initial weights, shared by both runs
    want, want_weights = load(name, engine=False).main(init=initial)
    torch_log = capsys.readouterr().out
    got, got_weights = load(name, engine=True).main(init=initial)
    engine_log = capsys.readouterr().out
    assert len(got) == len(want) > 5
    np.testing.assert_allclose(got, want, rtol=1e-8, atol=1e-10)
    assert set(got_weights) == set(want_weights)
    for k in want_weights:
        np.testing.assert_allclose(got_weights[k], want_weights[k], rtol=1e-7, atol=1e-9, err_msg=k)
    assert engine_log == torch_log                               # the same f-string logs, digit for digit
