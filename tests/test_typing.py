"""A PyTorch user's typed training script, checked by mypy against the package's annotations: it passes, it runs,
and the same calls made wrongly (a string learning rate, a string dim, a Tensor plus a string, ...) are each
rejected on their own line."""
import os
import pathlib
import re
import subprocess
import sys

import pytest

ROOT = pathlib.Path(__file__).resolve().parents[1]
ONCE = pytest.mark.skipif(os.environ.get("TINYGRAD_RNN_BACKEND", "").strip().lower() == "numpy",
                          reason="backend-independent, run once in the suite on the Cython kernels")

GOOD = '''\
from __future__ import annotations

import numpy as np

import tinygrad_rnn as tg
from tinygrad_rnn import nn, optim


class Tagger(nn.Module):
    def __init__(self, vocab: int, hidden: int, tags: int) -> None:
        super().__init__()
        self.embed = nn.Embedding(vocab, 8)
        self.lstm = nn.LSTM(8, hidden, batch_first=True)
        self.out = nn.Linear(hidden, tags)

    def forward(self, x: tg.Tensor) -> tg.Tensor:
        h, _ = self.lstm(self.embed(x))
        logits: tg.Tensor = self.out(h)
        return logits


def train(steps: int) -> list[float]:
    tg.manual_seed(0)
    model = Tagger(10, 16, 3)
    opt = optim.Adam(model.parameters(), lr=1e-2, betas=(0.9, 0.99))
    loss_fn = nn.CrossEntropyLoss()
    x = tg.tensor(np.random.default_rng(0).integers(0, 10, (4, 7)), dtype=tg.int64)
    y = tg.tensor(np.random.default_rng(1).integers(0, 3, (4, 7)), dtype=tg.int64)
    losses: list[float] = []
    for _ in range(steps):
        opt.zero_grad()
        loss = loss_fn(model(x).reshape(-1, 3), y.reshape(-1))
        loss.backward()
        nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        opt.step()
        losses.append(float(loss.item()))
    first: tg.Tensor = next(model.parameters())
    grad: np.ndarray | None = first.grad
    shape: tuple[int, ...] = x.shape
    count: int = x.numel()
    assert grad is not None and shape == (4, 7) and count == 28
    with tg.no_grad():
        probs = model.eval()(x).softmax(dim=-1)
    total: tg.Tensor = probs.sum(dim=-1) - tg.ones(4, 7)
    assert float(total.abs().max()) < 1e-5
    return losses


if __name__ == "__main__":
    print(" ".join(f"{v:.6f}" for v in train(40)))
'''

# Each wrong call on a line of its own; mypy must report an error on each of these lines and on no other
WRONG = [
    ('optim.Adam(model.parameters(), lr="0.01")', "arg-type"),
    ('x.sum(dim="rows")', "arg-type"),
    ('x + "1"', "operator"),
    ('tg.zeros(2, 3, requires_grad="yes")', "arg-type"),
    ('model.train("yes")', "arg-type"),
    ("x.backward(retain_graph=1.5)", "arg-type"),
    ("optim.SGD(model.parameters(), lr=0.1, momentum=None)", "arg-type"),
    ("nn.Linear(3, 4.5)", "arg-type"),
    ('nn.LSTM("8", 16)', "arg-type"),
    ("nn.GRU(8, 16, bidirectional=None)", "arg-type"),
]
BAD_HEAD = '''\
import tinygrad_rnn as tg
from tinygrad_rnn import nn, optim

model = nn.Linear(3, 4)
x = tg.randn(2, 3)
'''

CONFIG = """\
[mypy]
python_version = 3.10
mypy_path = {root}
disallow_untyped_defs = True
warn_unused_ignores = True
ignore_missing_imports = True

[mypy-tinygrad_rnn.*]
follow_imports = silent
"""


@pytest.mark.slow
@ONCE
def test_a_typed_user_script_passes_mypy_and_wrong_calls_do_not(tmp_path):
    pytest.importorskip("mypy", reason="mypy is not installed (pip install -e '.[test]')")
    (tmp_path / "good.py").write_text(GOOD)
    (tmp_path / "bad.py").write_text(BAD_HEAD + "".join(call + "\n" for call, _ in WRONG))
    (tmp_path / "mypy.ini").write_text(CONFIG.format(root=ROOT))
    done = subprocess.run([sys.executable, "-m", "mypy", "--config-file", "mypy.ini", "--cache-dir", "cache",
                           "--no-error-summary", "--show-error-codes", "good.py", "bad.py"],
                          capture_output=True, text=True, cwd=tmp_path, timeout=900)
    errors = [line for line in done.stdout.splitlines() if ": error:" in line]
    assert not [e for e in errors if e.startswith("good.py")], done.stdout
    first = BAD_HEAD.count("\n") + 1
    found = {}
    for e in errors:
        match = re.match(r"bad\.py:(\d+): error: .*\[([a-z-]+)\]$", e)
        assert match, e
        found.setdefault(int(match.group(1)), set()).add(match.group(2))
    expected = {first + i: code for i, (_, code) in enumerate(WRONG)}
    assert sorted(found) == sorted(expected), (done.stdout, expected)
    for line, code in expected.items():
        assert code in found[line], (WRONG[line - first], found[line])

    ran = subprocess.run([sys.executable, str(tmp_path / "good.py")], capture_output=True, text=True, timeout=300)
    assert ran.returncode == 0, ran.stderr[-2000:]
    losses = [float(v) for v in ran.stdout.split()]
    assert len(losses) == 40 and losses[-1] < 0.5 * losses[0], losses     # the script trains, not only type-checks
