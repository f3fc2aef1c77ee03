"""Training scripts written for PyTorch (tests/scripts/) run on the engine with only their import lines changed,
from the same initial weights as on torch, and their losses (and accuracies) agree step by step to 1e-8 in float64:
a padded bidirectional tagger (pack_padded_sequence, ReduceLROnPlateau, clip_grad_norm_), a forecaster with a
hand-written LayerNorm-LSTM cell in a ModuleList (xavier init, early stopping, save/load of the best model), a GRU
classifier (OneCycleLR, label smoothing, argmax accuracy with ==), a GRU encoder-decoder (teacher forcing, torch.cat
of a context, greedy argmax decoding, StepLR), a char-RNN that checkpoints with torch.save(state_dicts) and resumes
in a fresh model and optimiser, an LSTM with attention pooling (masked_fill from lengths, softmax over time, bmm,
torch.autograd.grad), and a word-language-model-style loop (Dataset/DataLoader, the device line, causal attention
with tril, a forward hook, p -= lr * p.grad under no_grad)."""
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


def workdirs(name, tmp_path):
    """The keyword arguments of each run: the char-RNN writes its checkpoints into a directory of its own."""
    if name != "char_rnn":
        return {}, {}
    (tmp_path / "torch").mkdir()
    (tmp_path / "engine").mkdir()
    return {"workdir": str(tmp_path / "torch")}, {"workdir": str(tmp_path / "engine")}


@pytest.mark.parametrize("name", ["tagger", "forecaster", "classifier", "seq2seq", "char_rnn", "attention",
                                  "lm_loader"])
def test_script_runs_unchanged_and_matches_torch(name, torch, capsys, tmp_path):
    torch.manual_seed(0)
    _, initial = load(name, engine=False).main(only_init=True)   # torch's initial weights, shared by both runs
    torch_kwargs, engine_kwargs = workdirs(name, tmp_path)
    want, want_weights = load(name, engine=False).main(init=initial, **torch_kwargs)
    torch_log = capsys.readouterr().out
    got, got_weights = load(name, engine=True).main(init=initial, **engine_kwargs)
    engine_log = capsys.readouterr().out
    assert len(got) == len(want) > 5
    np.testing.assert_allclose(got, want, rtol=1e-8, atol=1e-10)
    assert set(got_weights) == set(want_weights)
    for k in want_weights:
        np.testing.assert_allclose(got_weights[k], want_weights[k], rtol=1e-7, atol=1e-9, err_msg=k)
    assert engine_log == torch_log                               # the same f-string logs, digit for digit


def test_char_rnn_resumes_from_its_checkpoint_as_the_uninterrupted_run(torch, tmp_path):
    """The engine's char-RNN: the two epochs trained after torch.load + load_state_dict (model and Adam) into a
    fresh model take the very steps of the model that never stopped; the weights file it wrote mid-run is a
    safetensors file (safetensors.torch reads it as the state_dict) holding torch's run's weights at that point."""
    torch.manual_seed(0)
    _, initial = load("char_rnn", engine=False).main(only_init=True)
    (tmp_path / "torch").mkdir()
    (tmp_path / "engine").mkdir()
    load("char_rnn", engine=False).main(init=initial, workdir=str(tmp_path / "torch"))
    losses, _ = load("char_rnn", engine=True).main(init=initial, workdir=str(tmp_path / "engine"))
    per_epoch = len(losses) // 6
    resumed, uninterrupted = losses[2 * per_epoch:4 * per_epoch], losses[4 * per_epoch:]
    assert per_epoch > 3 and len(uninterrupted) == len(resumed)
    np.testing.assert_array_equal(resumed, uninterrupted)
    safetensors_torch = pytest.importorskip("safetensors.torch")
    got = safetensors_torch.load_file(str(tmp_path / "engine" / "weights.pt"))
    want = torch.load(str(tmp_path / "torch" / "weights.pt"), weights_only=True)
    assert sorted(got) == sorted(want) and got["lstm.weight_ih_l0"].shape == (64, 10)
    for k in want:
        np.testing.assert_allclose(got[k].numpy(), want[k].numpy(), rtol=1e-8, atol=1e-10, err_msg=k)
