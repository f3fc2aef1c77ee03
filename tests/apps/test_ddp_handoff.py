"""The scale-out hand-off (examples/continue_on_pytorch_ddp.py), run as a user would: an engine checkpoint continues
on PyTorch with DistributedDataParallel in two processes (torchrun, gloo, CPU) and comes back. Checked against the
engine: each rank's first loss equals the engine's on the same batch (1e-5), both ranks end with identical weights,
and the engine, given the weights torch wrote, reproduces torch's final logits (1e-5, float32)."""
import json
import os
import subprocess
import sys

import numpy as np
import pytest

import tinygrad_rnn as tg
from tinygrad_rnn import checkpoint
from tinygrad_rnn.apps.charlm import CharLM
from tinygrad_rnn.nn.functional import cross_entropy

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
EXAMPLE = os.path.join(ROOT, "examples", "continue_on_pytorch_ddp.py")


def corpus_text(n=4000):
    """Text without a short period, so that the ranks' rows of a batch differ (a repeated sentence would not)."""
    words = ["the", "state", "carries", "gradient", "through", "time", "cell", "gate", "forget", "a", "of", "and"]
    g = np.random.default_rng(0)
    return " ".join(words[i] for i in g.integers(0, len(words), n // 5))[:n] + "\n"


def engine_model(config, vocab, weights):
    model = CharLM(len(vocab), config["hidden"], config["layers"], config["cell"], config["dropout"],
                   dtype=np.dtype(config["dtype"]))
    model.load_state_dict(weights)
    model.eval()
    return model


@pytest.mark.slow
@pytest.mark.parametrize("cell", ["lstm", "gru"])
def test_continue_on_pytorch_ddp_and_come_back(tmp_path, torch, cell):
    pytest.importorskip("safetensors")
    corpus = tmp_path / "corpus.txt"
    corpus.write_text(corpus_text(), encoding="utf-8")
    start = tmp_path / "char_lm.safetensors"
    trained = subprocess.run([sys.executable, "-m", "tinygrad_rnn", "train", "--text", str(corpus), "--out",
                              str(start), "--steps", "3", "--cell", cell, "--hidden", "16", "--layers", "2",
                              "--seq-len", "12", "--batch", "4", "--quiet", "--sample-every", "1000"],
                             capture_output=True, text=True, cwd=tmp_path, timeout=300)
    assert trained.returncode == 0, trained.stderr
    out, report = tmp_path / "char_lm_torch.safetensors", tmp_path / "report"
    report.mkdir()
    env = {k: v for k, v in os.environ.items() if not k.startswith(("MASTER_", "RANK", "WORLD_SIZE", "LOCAL_"))}
    env["OMP_NUM_THREADS"] = "1"
    run = subprocess.run([sys.executable, "-m", "torch.distributed.run", "--standalone", "--nnodes", "1",
                          "--nproc_per_node", "2", EXAMPLE, str(start), "--text", str(corpus), "--steps", "5",
                          "--out", str(out), "--report", str(report)],
                         capture_output=True, text=True, cwd=tmp_path, timeout=600, env=env)
    assert run.returncode == 0, run.stdout[-3000:] + run.stderr[-3000:]
    ranks = [json.loads((report / f"rank{r}.json").read_text()) for r in range(2)]
    assert [r["world_size"] for r in ranks] == [2, 2]

    saved = checkpoint.load(start)
    model = engine_model(saved["config"], saved["vocab"], saved["model"])
    losses = []
    for r in ranks:                                      # the engine on each rank's first batch, from zero state
        inputs, targets = np.array(r["first_inputs"]), np.array(r["first_targets"])
        assert inputs.shape == (12, 2)                   # (T, B / world): rank r's rows of the batch
        logits, _ = model(tg.Tensor(inputs))
        loss = cross_entropy(logits.reshape(-1, len(saved["vocab"])), tg.Tensor(targets.reshape(-1))).item()
        assert abs(loss - r["first_loss"]) < 1e-5, (loss, r["first_loss"])
        losses.append(loss)
    assert abs(np.mean(losses) - ranks[0]["first_mean_loss"]) < 1e-5
    assert ranks[0]["first_inputs"] != ranks[1]["first_inputs"]        # each rank trained on its own rows

    assert ranks[0]["weights_sha256"] == ranks[1]["weights_sha256"]    # DDP kept the replicas identical

    back = tg.load(out)                                  # torch's safetensors.torch.save_file output
    assert sorted(back) == sorted(saved["model"])
    assert any(not np.array_equal(back[k].data, saved["model"][k]) for k in back)   # torch did train it
    returned = engine_model(saved["config"], saved["vocab"], back)
    logits, _ = returned(tg.Tensor(np.array(ranks[0]["probe_inputs"])))
    np.testing.assert_allclose(logits.data, np.array(ranks[0]["probe_logits"], dtype=np.float32), rtol=0,
                               atol=1e-5)
    same = engine_model(saved["config"], saved["vocab"], tg.load_torch_state_dict(out))
    assert same(tg.Tensor(np.array(ranks[0]["probe_inputs"])))[0].data.tobytes() == logits.data.tobytes()
