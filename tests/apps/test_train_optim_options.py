"""Issue 18, item 1, and issue 14's `train --scheduler`: weight decay (L2 for SGD, Adam, ...; AdamW's decoupled form),
per-element gradient clipping, the loss reduction, and the learning-rate schedules, each checked on the weights or
learning rates a run records, against the formula (and torch's schedulers when torch is installed); the
scheduler's state is in the checkpoint and a resumed run continues it bit-identically."""
import csv
import math

import numpy as np
import pytest

from tinygrad_rnn import checkpoint, rng
from tinygrad_rnn.apps.charlm import build_model, model_options
from tinygrad_rnn.apps.cli import main
from tinygrad_rnn.apps.data import Vocabulary, split, streams, windows
from tinygrad_rnn.nn.functional import cross_entropy
from train_inputs import CORPUS, SMALL

F64 = [*SMALL, "--dtype", "float64", "--plot", "none"]


def train(tmp_path, corpus, name, *extra):
    out = str(tmp_path / name)
    assert main(["train", "--text", corpus, "--out", out, *F64, *extra]) == 0
    return out


def weights(path):
    return {k: np.asarray(v) for k, v in checkpoint.load(path)["model"].items()}


def lrs(path):
    with open(path.replace(".npz", ".metrics.csv"), newline="") as f:
        return [float(r["lr"]) for r in csv.DictReader(f)]


def initial_model_and_gradient(path):
    """The model train started from (seed 0) and its gradient on the first window (mean loss)."""
    saved = checkpoint.load(path)
    vocab = Vocabulary(saved["vocab"])
    rng.manual_seed(0)
    model = build_model(len(vocab), model_options(saved["config"], len(vocab)))
    w0 = {k: np.array(v) for k, v in model.state_dict().items()}
    inputs, targets = windows(streams(split(vocab.encode(CORPUS))[0], 4), 8, 0)
    logits, _ = model(inputs)
    cross_entropy(logits.reshape(-1, logits.shape[2]), targets.reshape(-1)).backward()
    names = dict(model.named_parameters())
    return w0, {k: names[k].grad for k in w0}


@pytest.mark.parametrize("optimizer", ["sgd", "adamw"])
def test_weight_decay_takes_lr_times_lambda_times_w_off_the_first_step(tmp_path, corpus, optimizer):
    """SGD's L2 adds λw to the gradient, AdamW subtracts lr·λ·w itself: either way, after one step the weights
    differ from those of a run without decay by exactly -lr·λ·w0 (clipping scales the gradient alone)."""
    common = ["--steps", "1", "--optimizer", optimizer, "--lr", "0.05"]
    with_decay = weights(train(tmp_path, corpus, "d.npz", *common, "--weight-decay", "0.3"))
    without = weights(train(tmp_path, corpus, "n.npz", *common, "--weight-decay", "0"))
    w0, _ = initial_model_and_gradient(str(tmp_path / "d.npz"))
    for name in w0:
        np.testing.assert_allclose(with_decay[name] - without[name], -0.05 * 0.3 * w0[name], rtol=0, atol=1e-12,
                                   err_msg=name)


def test_adam_s_l2_is_coupled_unlike_adamw(tmp_path, corpus):
    common = ["--steps", "1", "--lr", "0.05", "--weight-decay", "0.3"]
    coupled = weights(train(tmp_path, corpus, "a.npz", *common, "--optimizer", "adam"))
    decoupled = weights(train(tmp_path, corpus, "w.npz", *common, "--optimizer", "adamw"))
    assert max(np.abs(coupled[k] - decoupled[k]).max() for k in coupled) > 1e-4
    assert checkpoint.load(str(tmp_path / "a.npz"))["optimizer"]["param_groups"][0]["weight_decay"] == 0.3


def test_adamw_decays_by_default_as_torch(tmp_path, corpus):
    path = train(tmp_path, corpus, "w.npz", "--steps", "1", "--optimizer", "adamw")
    saved = checkpoint.load(path)
    assert saved["config"]["weight_decay"] == 0.01 == saved["optimizer"]["param_groups"][0]["weight_decay"]
    assert checkpoint.load(train(tmp_path, corpus, "a.npz", "--steps", "1"))["config"]["weight_decay"] == 0.0


def test_clip_value_clamps_each_gradient_element(tmp_path, corpus):
    path = train(tmp_path, corpus, "c.npz", "--steps", "1", "--optimizer", "sgd", "--lr", "0.5", "--clip", "none",
                 "--clip-value", "0.01")
    w0, grads = initial_model_and_gradient(path)
    assert max(np.abs(g).max() for g in grads.values()) > 0.05                  # the clamp bites
    for name, value in weights(path).items():
        np.testing.assert_allclose(value, w0[name] - 0.5 * np.clip(grads[name], -0.01, 0.01), rtol=0, atol=1e-12,
                                   err_msg=name)


def test_clip_none_and_the_global_norm(tmp_path, corpus):
    free = train(tmp_path, corpus, "f.npz", "--steps", "1", "--optimizer", "sgd", "--lr", "0.5", "--clip", "none")
    clipped = train(tmp_path, corpus, "c.npz", "--steps", "1", "--optimizer", "sgd", "--lr", "0.5", "--clip", "0.1")
    w0, grads = initial_model_and_gradient(free)
    norm = math.sqrt(sum(float((g * g).sum()) for g in grads.values()))
    assert norm > 0.1
    for name in w0:
        np.testing.assert_allclose(weights(free)[name], w0[name] - 0.5 * grads[name], rtol=0, atol=1e-12)
        np.testing.assert_allclose(weights(clipped)[name], w0[name] - 0.5 * grads[name] * 0.1 / (norm + 1e-6),
                                   rtol=0, atol=1e-12)


def test_reduction_sum_is_the_mean_times_the_window(tmp_path, corpus):
    common = ["--steps", "1", "--optimizer", "sgd", "--lr", "0.01", "--clip", "none"]
    summed = weights(train(tmp_path, corpus, "s.npz", *common, "--reduction", "sum"))
    mean = weights(train(tmp_path, corpus, "m.npz", *common))
    w0, _ = initial_model_and_gradient(str(tmp_path / "m.npz"))
    for name in w0:                                              # T·B = 8·4 characters per window
        np.testing.assert_allclose(summed[name] - w0[name], 32 * (mean[name] - w0[name]), rtol=1e-9, atol=1e-14)


# ---- schedules --------------------------------------------------------------------------------------------------
def test_cosine_follows_the_formula_and_torch(tmp_path, corpus, request):
    path = train(tmp_path, corpus, "c.npz", "--steps", "10", "--lr", "0.02", "--scheduler", "cosine", "--lr-min",
                 "0.001")
    expected = [0.001 + (0.02 - 0.001) * (1 + math.cos(math.pi * t / 10)) / 2 for t in range(10)]
    np.testing.assert_allclose(lrs(path), expected, rtol=1e-12)
    torch = pytest.importorskip("torch")
    opt = torch.optim.SGD([torch.zeros(1, requires_grad=True)], lr=0.02)
    sched = torch.optim.lr_scheduler.CosineAnnealingLR(opt, T_max=10, eta_min=0.001)
    torch_lrs = []
    for _ in range(10):
        torch_lrs.append(opt.param_groups[0]["lr"])
        opt.step()
        sched.step()
    np.testing.assert_allclose(lrs(path), torch_lrs, rtol=1e-12)


def test_step_schedule_decays_every_step_size(tmp_path, corpus):
    path = train(tmp_path, corpus, "s.npz", "--steps", "9", "--lr", "0.02", "--scheduler", "step", "--lr-step-size",
                 "4", "--lr-gamma", "0.5")
    np.testing.assert_allclose(lrs(path), [0.02] * 4 + [0.01] * 4 + [0.005], rtol=1e-12)
    default = train(tmp_path, corpus, "d.npz", "--steps", "8", "--scheduler", "step")      # step size: --steps / 4
    assert checkpoint.load(default)["config"]["lr_step_size"] == 2


def test_plateau_decays_after_patience_validations_without_improvement(tmp_path, corpus):
    """A learning rate too small to move the validation by torch's relative threshold (1e-4): every validation
    after the first is no better, so the rate drops after each patience + 1 of them, as torch's
    ReduceLROnPlateau does fed the same validations."""
    path = train(tmp_path, corpus, "p.npz", "--steps", "12", "--lr", "1e-6", "--optimizer", "sgd", "--scheduler",
                 "plateau", "--lr-patience", "1", "--lr-gamma", "0.5", "--eval-every", "2")
    with open(path.replace(".npz", ".metrics.csv"), newline="") as f:
        table = list(csv.DictReader(f))
    valid = [float(r["valid_bits_per_char"]) for r in table if r["valid_bits_per_char"]]
    assert len(valid) == 6
    # validations at steps 2, 4, ..., 12: better at 2; bad at 4, 6 -> decay after 6; bad at 8, 10 -> after 10
    np.testing.assert_allclose(lrs(path), [1e-6] * 6 + [5e-7] * 4 + [2.5e-7] * 2, rtol=1e-12)
    torch = pytest.importorskip("torch")
    opt = torch.optim.SGD([torch.zeros(1, requires_grad=True)], lr=1e-6)
    sched = torch.optim.lr_scheduler.ReduceLROnPlateau(opt, mode="min", factor=0.5, patience=1, min_lr=0.0)
    torch_lrs = []
    for v in valid:
        sched.step(v)
        torch_lrs.append(opt.param_groups[0]["lr"])
    after = [float(table[k]["lr"]) for k in (2, 4, 6, 8, 10)]       # the rates of steps 3, 5, ..., 11
    np.testing.assert_allclose(after, torch_lrs[:5], rtol=1e-12)


@pytest.mark.parametrize("schedule", [["--scheduler", "cosine"], ["--scheduler", "step", "--lr-step-size", "3"],
                                      ["--scheduler", "plateau", "--lr-patience", "0", "--eval-every", "2"]])
def test_a_resumed_schedule_continues_bit_identically(tmp_path, corpus, schedule, monkeypatch):
    """Interrupted after step 5 (Ctrl-C saves a checkpoint), then resumed: the rates, the weights and the
    scheduler's state at the end are those of the run that went straight through."""
    import signal

    from tinygrad_rnn.apps import train as train_module

    common = ["--steps", "9", "--save-every", "100", "--lr", "0.02", *schedule]
    straight = train(tmp_path, corpus, "s.npz", *common)
    calls, detach = [], train_module.detach_state

    def interrupting(state):
        calls.append(1)
        if len(calls) == 5:
            signal.raise_signal(signal.SIGINT)
        return detach(state)
    with monkeypatch.context() as patch:
        patch.setattr(train_module, "detach_state", interrupting)
        half = str(tmp_path / "h.npz")
        assert main(["train", "--text", corpus, "--out", half, *F64, *common]) == 130
    saved = checkpoint.load(half)
    assert saved["step"] == 5 and saved["config"]["scheduler"] == schedule[1]
    assert saved["scheduler"]["last_epoch"] >= 2
    assert main(["train", "--text", corpus, "--out", half, "--resume", half, "--quiet", "--plot", "none"]) == 0
    assert lrs(half) == lrs(straight)
    a, b = checkpoint.load(straight), checkpoint.load(half)
    for name in a["model"]:
        assert a["model"][name].tobytes() == b["model"][name].tobytes(), name
    assert a["scheduler"] == b["scheduler"] and a["scheduler"]["last_epoch"] > saved["scheduler"]["last_epoch"]


def test_a_schedule_given_on_resume_starts_over_the_steps_left(tmp_path, corpus, capsys):
    path = train(tmp_path, corpus, "r.npz", "--steps", "4", "--lr", "0.02")
    capsys.readouterr()
    assert main(["train", "--text", corpus, "--out", path, "--resume", path, "--steps", "8", "--scheduler",
                 "cosine", "--quiet", "--plot", "none"]) == 0
    assert "--scheduler cosine (checkpoint: none)" in capsys.readouterr().out
    expected = [0.02 * (1 + math.cos(math.pi * t / 4)) / 2 for t in range(4)]
    np.testing.assert_allclose(lrs(path), [0.02] * 4 + expected, rtol=1e-12)
