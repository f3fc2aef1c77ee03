"""`python -m tinygrad_rnn export CHECKPOINT --onnx FILE`: the exported model equals `sample`'s model in onnxruntime,
and the command never replaces what it should not."""
import os

import numpy as np
import pytest

import tinygrad_rnn as tg
from tinygrad_rnn.apps.cli import main
from tinygrad_rnn.apps.sample import load_model
from train_inputs import SMALL  # noqa: F401  (and the corpus fixture of tests/apps/conftest.py)

ort = pytest.importorskip("onnxruntime")
pytest.importorskip("onnx")


@pytest.fixture
def trained(tmp_path, corpus):
    out = str(tmp_path / "m.npz")
    assert main(["train", "--text", corpus, "--out", out, *SMALL, "--steps", "3"]) == 0
    return out


def test_export_matches_the_checkpoint_s_model(tmp_path, trained, run_main):
    target = str(tmp_path / "m.onnx")
    result = run_main(["export", trained, "--onnx", target])
    assert result.returncode == 0 and "wrote" in result.stdout
    model, vocab = load_model(trained)
    model.eval()
    chars = np.random.default_rng(0).integers(0, len(vocab), (9, 3)).astype(np.int64)
    h0 = np.random.default_rng(1).standard_normal((model.rnn.num_layers, 3, model.rnn.hidden_size)).astype(np.float32)
    c0 = np.zeros_like(h0)
    with tg.no_grad():
        logits, (h_n, c_n) = model(chars, (tg.Tensor(h0), tg.Tensor(c0)))
    got = ort.InferenceSession(target).run(None, {"chars": chars, "h_0": h0, "c_0": c0})
    for a, b in zip(got, [logits, h_n, c_n]):
        np.testing.assert_allclose(a, b.numpy(), rtol=1e-5, atol=1e-5)


def test_refusals_leave_files_alone(tmp_path, trained, run_main, assert_refused):
    existing = tmp_path / "taken.onnx"
    existing.write_bytes(b"keep me")
    assert_refused(run_main(["export", trained, "--onnx", str(existing)]), "exists; pass --force")
    assert existing.read_bytes() == b"keep me"
    before = open(trained, "rb").read()
    assert_refused(run_main(["export", trained, "--onnx", trained, "--force"]), "is the checkpoint being exported")
    assert open(trained, "rb").read() == before
    assert_refused(run_main(["export", trained, "--onnx", str(tmp_path)]), "is a directory")
    fifo = tmp_path / "fifo"
    os.mkfifo(fifo)
    assert_refused(run_main(["export", trained, "--onnx", str(fifo), "--force"]), "is a FIFO")
    assert_refused(run_main(["export", str(tmp_path / "none.npz"), "--onnx", str(tmp_path / "x.onnx")]), "none.npz")
    assert_refused(run_main(["export", trained, "--onnx", str(tmp_path / "no" / "x.onnx")]), "does not exist")
    assert run_main(["export", trained, "--onnx", str(existing), "--force"]).returncode == 0
    assert existing.read_bytes()[:8] != b"keep me"
