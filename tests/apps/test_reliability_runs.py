"""Issue 8, determinism and the command line: the same seed gives bit-identical losses and checkpoints in fresh
processes, another seed does not; every command refuses bad input with one line on stderr and exit code 2."""
import os
import subprocess
import sys

import numpy as np
import pytest

from tinygrad_rnn import checkpoint
from tinygrad_rnn.apps.cli import COMMANDS

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))

# ---- 11. determinism -------------------------------------------------------------------------------------------
TRAIN = """
import sys
import numpy as np
from threadpoolctl import threadpool_limits
from tinygrad_rnn import checkpoint, optim, rng
from tinygrad_rnn.apps.charlm import CharLM, detach_state
from tinygrad_rnn.nn.functional import cross_entropy

seed, out = int(sys.argv[1]), sys.argv[2]
rng.manual_seed(seed)
text = np.random.default_rng(123).integers(0, 30, size=(4, 3000))      # the data do not depend on the seed
model = CharLM(30, hidden=24, layers=2, cell="lstm", dropout=0.2, embedding=8)
opt = optim.Adam(model.parameters(), lr=3e-3)
state, losses = None, []
with threadpool_limits(1):
    for step in range(200):
        chunk = text[:, step * 8: step * 8 + 9].T
        logits, state = model(chunk[:-1], state)
        T, B, V = logits.shape
        loss = cross_entropy(logits.reshape(T * B, V), chunk[1:].reshape(-1))
        opt.zero_grad()
        loss.backward()
        optim.clip_grad_norm_(model.parameters(), 1.0)
        opt.step()
        state = detach_state(state)
        losses.append(loss.item().hex())
checkpoint.save(out, model.state_dict(), opt.state_dict(), step=200, rng_state=rng.generator)
print(" ".join(losses))
"""


def train_in_fresh_process(tmp_path, seed, name, hash_seed):
    out = str(tmp_path / name)
    env = dict(os.environ, PYTHONHASHSEED=str(hash_seed))
    result = subprocess.run([sys.executable, "-c", TRAIN, str(seed), out], capture_output=True, text=True,
                            cwd=ROOT, env=env, timeout=300)
    assert result.returncode == 0, result.stderr[-2000:]
    return [float.fromhex(v) for v in result.stdout.split()], checkpoint.load(out)


@pytest.mark.slow
def test_same_seed_is_bitwise_identical_and_another_seed_is_not(tmp_path):
    losses_a, saved_a = train_in_fresh_process(tmp_path, 7, "a.npz", hash_seed=1)
    losses_b, saved_b = train_in_fresh_process(tmp_path, 7, "b.npz", hash_seed=2)   # other dict/set orders
    losses_c, _ = train_in_fresh_process(tmp_path, 8, "c.npz", hash_seed=1)
    assert len(losses_a) == 200 and all(np.isfinite(losses_a))
    assert losses_a == losses_b                                      # every loss, bit for bit
    for part in ("model",):
        assert list(saved_a[part]) == list(saved_b[part])
        for k in saved_a[part]:
            assert saved_a[part][k].tobytes() == saved_b[part][k].tobytes(), k
    for i, (sa, sb) in enumerate(zip(saved_a["optimizer"]["state"].values(), saved_b["optimizer"]["state"].values())):
        for key in ("exp_avg", "exp_avg_sq"):
            assert sa[key].tobytes() == sb[key].tobytes(), (i, key)
    assert saved_a["rng_state"] == saved_b["rng_state"]
    assert losses_c != losses_a and losses_c[0] != losses_a[0]


# ---- 12. the command line ----------------------------------------------------------------------------------------
@pytest.fixture
def files(tmp_path):
    """Bad inputs of every kind, and a good corpus."""
    paths = {name: tmp_path / name for name in ("missing.txt", "empty.txt", "latin1.txt", "short.txt",
                                                "corpus.txt", "other.npz", "weights_only.npz", "junk.npz")}
    paths["empty.txt"].write_text("")
    paths["latin1.txt"].write_bytes("na\xefve caf\xe9 ".encode("latin-1") * 200)
    paths["short.txt"].write_text("abc\n", encoding="utf-8")
    paths["corpus.txt"].write_text("the quick brown fox jumps over the lazy dog. " * 40, encoding="utf-8")
    checkpoint.save(paths["other.npz"], {"w": np.zeros(2)}, vocab="ab",
                    config={"cell": "gru", "hidden": 99, "layers": 1, "dropout": 0.0, "dtype": "float32"})
    checkpoint.save(paths["weights_only.npz"], {"w": np.zeros(2)})
    paths["junk.npz"].write_bytes(b"\x89PNG\r\n\x1a\n not a checkpoint at all \xff\xfe")
    return {name: str(p) for name, p in paths.items()}


def bad_invocations(f):
    """(argv, a word the one-line message must contain) for every command."""
    tiny = ["--hidden", "4", "--layers", "1", "--seq-len", "8", "--batch", "2", "--steps", "1", "--quiet"]
    return [
        (["train", "--text", f["missing.txt"]], "no such file"),
        (["train", "--text", f["empty.txt"]], "is empty"),
        (["train", "--text", f["latin1.txt"]], "not UTF-8"),
        (["train", "--text", f["short.txt"], "--seq-len", "64"], "too short"),
        (["train", "--text", f["corpus.txt"], "--resume", f["missing.txt"]], "missing.txt"),
        (["train", "--text", f["corpus.txt"], "--resume", f["empty.txt"]], "empty.txt"),
        (["train", "--text", f["corpus.txt"], "--resume", f["junk.npz"]], "junk.npz"),
        (["train", "--text", f["corpus.txt"], "--resume", f["other.npz"], "--hidden", "16"], "another model"),
        (["train", "--text", f["corpus.txt"], "--resume", f["other.npz"], *tiny[4:]], "vocabulary"),
        *[(["train", opt, value], opt) for opt in ("--hidden", "--layers", "--seq-len", "--batch", "--steps",
                                                   "--threads", "--save-every") for value in ("0", "-1")],
        *[(["train", opt, value], opt) for opt in ("--lr", "--clip") for value in ("0", "-0.5", "nan")],
        (["train", "--dropout", "1"], "--dropout"),
        (["sample", f["missing.txt"]], "missing.txt"),
        (["sample", f["empty.txt"]], "empty.txt"),
        (["sample", f["latin1.txt"]], "latin1.txt"),
        (["sample", f["junk.npz"]], "junk.npz"),
        (["sample", f["weights_only.npz"]], "not a character-model checkpoint"),
        (["sample", f["other.npz"]], "other.npz"),
        (["sample", f["other.npz"], "--temperature", "0"], "--temperature"),
        (["sample", f["other.npz"], "--temperature", "-1"], "--temperature"),
        (["sample", f["other.npz"], "--length", "0"], "--length"),
        (["sample", f["other.npz"], "--prime", ""], "--prime"),
        *[(["adding", opt, value], opt) for opt in ("--length", "--steps", "--hidden", "--batch")
          for value in ("0", "-2")],
        (["adding", "--lr", "0"], "--lr"),
        (["adding", "--cells", ""], "--cells"),
        *[(["demo", opt, value], opt) for opt in ("--steps", "--hidden", "--seq-len") for value in ("0", "-3")],
        (["demo", "--lr", "-1"], "--lr"),
        (["bench", "--json", f["missing.txt"]], "missing.txt"),
        (["bench", "--json", f["empty.txt"]], "empty.txt"),
        (["bench", "--json", f["latin1.txt"]], "latin1.txt"),
        (["bench", "--json", f["corpus.txt"]], "corpus.txt"),
        (["bench", "--repeats", "0"], "--repeats"),
        (["bench", "--threads", "-1"], "--threads"),
        (["bench", "--shapes", "XXL"], "--shapes"),
        *[(["graph", opt, "0"], opt) for opt in ("--steps", "--max-nodes")],
        (["graph", "--steps", "2", "--out", os.path.join(f["missing.txt"], "g.dot")], "cannot write"),
        *[(["gradflow", opt, "0"], opt) for opt in ("--length", "--hidden", "--batch", "--iters")],
        (["gradflow", "--length", "-5"], "--length"),
        (["compare", "--cells", "lstm,transformer"], "--cells"),
        (["compare", "--hidden", "0"], "--hidden"),
        (["compare", "--layers", "1"], "--layers"),
        (["compare", "--text", f["missing.txt"]], "missing.txt"),
        (["compare", "--text", f["empty.txt"]], "empty.txt"),
        (["compare", "--quick", "--seq-len", "12", "--cells", "clockwork"], "--seq-len 12"),
        (["export", f["missing.txt"], "--onnx", "x.onnx"], "missing.txt"),
        (["export", f["junk.npz"], "--onnx", "x.onnx"], "junk.npz"),
        (["export", f["other.npz"], "--onnx", f["corpus.txt"]], "exists; pass --force"),
        (["export", f["other.npz"], "--onnx", f["other.npz"], "--force"], "is the checkpoint being exported"),
        *[(["export", f[name], "--onnx", os.path.join(os.path.dirname(f[name]), "x.onnx")], name)
          for name in ("missing.txt", "junk.npz", "weights_only.npz")],
        (["graph", "--max-steps", "2"], "--max-steps"),
        (["export", f["missing.txt"]], "--onnx"),
        (["exercise", "9", f["corpus.txt"]], "invalid choice"),
        (["exercise", "1", f["missing.txt"]], "FILE"),
        (["exercise", "1", os.path.dirname(f["corpus.txt"])], "FILE"),
    ]


def test_every_command_refuses_bad_input_with_one_line_and_exit_2(files, tmp_path, run_main, assert_refused,
                                                                  monkeypatch):
    monkeypatch.chdir(tmp_path)                     # a default output path would land here, and must not appear
    before = sorted(os.listdir(tmp_path))
    cases = bad_invocations(files)
    assert {argv[0] for argv, _ in cases} == set(COMMANDS)
    for argv, needle in cases:
        assert_refused(run_main(argv), needle)
    assert sorted(os.listdir(tmp_path)) == before   # nothing written, nothing clobbered


@pytest.mark.parametrize("command", [None, *COMMANDS])
def test_help_exits_0(command, run_main):
    assert run_main(([command] if command else []) + ["--help"]).returncode == 0


def test_bad_input_in_a_real_process_is_one_line_without_traceback(files, run_cli, assert_refused):
    """The same path end to end, through `python -m tinygrad_rnn` (the in-process test cannot see stray prints at
    interpreter exit)."""
    for argv in (["sample", files["latin1.txt"]], ["train", "--text", files["short.txt"]], ["sample", "--help"]):
        result = run_cli(*argv, cwd=ROOT)
        if argv[-1] == "--help":
            assert result.returncode == 0 and result.stderr == ""
        else:
            assert_refused(result, "")
