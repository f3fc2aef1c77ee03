"""Issue 11, the command line: nothing the user has is lost or clobbered (--out checked before training, never a
device, the corpus or another run's file), a diverging run stops without saving over its last checkpoint, SIGTERM
saves as Ctrl-C does, --resume takes explicit flags and continues bit-identically after an interrupt, inputs that
would block or exhaust memory are refused, and bad values are one line with exit code 2, never a traceback."""
import errno
import os
import signal
import stat
import subprocess
import sys

import numpy as np
import pytest

from tinygrad_rnn import checkpoint
from tinygrad_rnn.apps import resources
from tinygrad_rnn.apps import train as train_module
from train_inputs import CORPUS, SMALL  # noqa: F401  (and the corpus fixture of tests/apps/conftest.py)

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))


def train_args(corpus, out, *extra):
    return ["train", "--text", corpus, "--out", str(out), *SMALL, *extra]


# ---- 7. --out never replaces a device, the corpus, or a file that is not this run's checkpoint ---------------------
@pytest.mark.skipif(os.geteuid() != 0, reason="os.mknod of a character device needs root")
@pytest.mark.parametrize("force", [[], ["--force"]])
def test_out_never_replaces_a_device_node(tmp_path, corpus, run_main, assert_refused, force):
    device = tmp_path / "null"
    os.mknod(device, stat.S_IFCHR | 0o666, os.makedev(1, 3))      # a /dev/null of our own, never the system's
    assert_refused(run_main(train_args(corpus, device, "--steps", "2", *force)), "is a character device")
    st = os.lstat(device)
    assert stat.S_ISCHR(st.st_mode) and (os.major(st.st_rdev), os.minor(st.st_rdev)) == (1, 3)


@pytest.mark.parametrize("kind", ["fifo", "directory", "symlink to a fifo"])
def test_out_never_replaces_a_fifo_or_a_directory(tmp_path, corpus, run_main, assert_refused, kind):
    target = tmp_path / "target"
    if kind == "directory":
        target.mkdir()
    else:
        os.mkfifo(target)
    out = target
    if kind.startswith("symlink"):
        out = tmp_path / "link.npz"
        os.symlink(target, out)
    assert_refused(run_main(train_args(corpus, out, "--steps", "2", "--force")), "expected a checkpoint file")
    mode = os.lstat(target).st_mode
    assert stat.S_ISDIR(mode) if kind == "directory" else stat.S_ISFIFO(mode)
    assert not kind.startswith("symlink") or os.path.islink(out)


@pytest.mark.parametrize("same", ["the path", "a hard link"])
def test_out_never_replaces_the_corpus(tmp_path, corpus, run_main, assert_refused, same):
    out = corpus
    if same == "a hard link":
        out = str(tmp_path / "link.npz")
        os.link(corpus, out)
    assert_refused(run_main(train_args(corpus, out, "--steps", "2", "--force")), "is the corpus")
    with open(corpus, encoding="utf-8") as f:
        assert f.read() == CORPUS


def test_out_replaces_a_file_that_is_not_a_checkpoint_only_with_force(tmp_path, corpus, run_main, assert_refused):
    out = tmp_path / "notes.npz"
    out.write_bytes(b"precious notes")
    assert_refused(run_main(train_args(corpus, out, "--steps", "2")), "is not a checkpoint; pass --force")
    assert out.read_bytes() == b"precious notes"
    assert run_main(train_args(corpus, out, "--steps", "2", "--force")).returncode == 0
    assert checkpoint.load(str(out))["step"] == 2


def test_out_refuses_another_runs_checkpoint_unless_resumed_or_forced(tmp_path, corpus, run_main, assert_refused):
    out = tmp_path / "run.npz"
    assert run_main(train_args(corpus, out, "--steps", "2")).returncode == 0
    first = out.read_bytes()
    line = assert_refused(run_main(train_args(corpus, out, "--steps", "3", "--seed", "1")), "another run (step 2)")
    assert f"--resume {out}" in line and out.read_bytes() == first
    assert run_main(train_args(corpus, out, "--steps", "3", "--resume", str(out))).returncode == 0
    assert checkpoint.load(str(out))["step"] == 3
    assert run_main(train_args(corpus, out, "--steps", "1", "--force")).returncode == 0
    assert checkpoint.load(str(out))["step"] == 1


# ---- 8. a bad --out is found before training, not at the first save ----------------------------------------------
@pytest.fixture
def no_training(monkeypatch):
    """Records whether training started (it must not, for a bad --out)."""
    started = []
    original = train_module.Trainer.train
    monkeypatch.setattr(train_module.Trainer, "train", lambda self, *a, **k: started.append(1) or original(self, *a,
                                                                                                            **k))
    return started


@pytest.mark.parametrize("bad,needle", [("missing/dir/out.npz", "does not exist"),
                                        ("a_directory", "is a directory"),
                                        ("x" * 240 + ".npz", "File name too long")])
def test_bad_out_is_refused_before_training(tmp_path, corpus, run_main, assert_refused, no_training, bad, needle):
    (tmp_path / "a_directory").mkdir()
    assert_refused(run_main(train_args(corpus, tmp_path / bad, "--steps", "3", "--save-every", "3")), needle)
    assert no_training == []
    assert sorted(os.listdir(tmp_path)) == ["a_directory", "corpus.txt"]


def test_out_on_a_read_only_filesystem_is_refused_before_training(tmp_path, corpus, run_main, assert_refused,
                                                                  no_training,
                                                                  monkeypatch):
    """Root writes through chmod, so the read-only mount is simulated: creating a file there fails with EROFS."""
    read_only = tmp_path / "ro"
    read_only.mkdir()
    real_open = os.open

    def open_(path, flags, *args, **kwargs):
        if flags & os.O_CREAT and os.path.dirname(os.path.abspath(path)) == str(read_only):
            raise OSError(errno.EROFS, os.strerror(errno.EROFS), path)
        return real_open(path, flags, *args, **kwargs)

    monkeypatch.setattr(os, "open", open_)
    assert_refused(run_main(train_args(corpus, read_only / "out.npz", "--steps", "3")),
                   "Read-only file system")
    assert no_training == [] and os.listdir(read_only) == []


# ---- 9. a non-finite loss stops the run and keeps the last good checkpoint -------------------------------------------
def test_parse_refuses_infinite_lr_and_clip(corpus, run_main, assert_refused):
    for flag in ("--lr", "--clip"):
        assert_refused(run_main(["train", "--text", corpus, flag, "inf"]),
                       f"argument {flag}: expected a positive finite")


def test_a_diverging_run_stops_and_keeps_the_last_checkpoint(tmp_path, corpus, run_main, assert_refused):
    out = tmp_path / "good.npz"
    assert run_main(train_args(corpus, out, "--steps", "2")).returncode == 0
    good = out.read_bytes()
    line = assert_refused(run_main(train_args(corpus, out, "--resume", str(out), "--steps", "10", "--save-every", "1",
                                              "--lr", "1e308")), "training stopped", code=1)
    assert "not finite" in line or "nan" in line
    assert f"{out} keeps the checkpoint of step 2" in line
    assert out.read_bytes() == good                       # never NaN weights over the last good checkpoint


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_a_run_diverging_from_the_start_saves_nothing(tmp_path, corpus, run_main, assert_refused, dtype):
    out = tmp_path / "new.npz"
    line = assert_refused(run_main(train_args(corpus, out, "--steps", "10", "--save-every", "1", "--lr", "1e308",
                                              "--dtype", dtype)), "no checkpoint was saved", code=1)
    assert "at step 1" in line or "at step 2" in line
    assert not out.exists() and sorted(os.listdir(tmp_path)) == ["corpus.txt"]


# ---- 10. SIGTERM saves as Ctrl-C does; exit 128 + the signal; a killed save's leftovers are cleared ------------------
def test_sigterm_saves_a_checkpoint_and_exits_143(tmp_path, corpus, spawn_cli):
    out = tmp_path / "term.npz"
    proc = spawn_cli(*train_args(corpus, out, "--steps", "10000000", "--save-every", "10000000"))
    assert "parameters" in proc.stdout.readline()       # printed once the handlers are in place
    proc.send_signal(signal.SIGTERM)
    _, err = proc.communicate(timeout=120)
    assert proc.returncode == 143, err
    assert "stopped by SIGTERM at step" in err and len(err.strip().splitlines()) == 1
    saved = checkpoint.load(str(out))
    assert 0 <= saved["step"] < 10000000 and f"at step {saved['step']}:" in err


def interrupt_at(monkeypatch, step, signum=signal.SIGINT):
    """Raises `signum` in this thread (synchronously, as a Ctrl-C would arrive) right after training step `step`."""
    calls = []
    detach = train_module.detach_state

    def detach_state(state):
        calls.append(1)
        if len(calls) == step:
            signal.raise_signal(signum)
        return detach(state)
    monkeypatch.setattr(train_module, "detach_state", detach_state)


def test_ctrl_c_saves_and_exits_130_in_process(tmp_path, corpus, run_main, monkeypatch):
    interrupt_at(monkeypatch, 3)
    out = tmp_path / "int.npz"
    result = run_main(train_args(corpus, out, "--steps", "50"))
    assert result.returncode == 130 and result.stderr.strip() == f"interrupted at step 3: checkpoint saved to {out}"
    assert checkpoint.load(str(out))["step"] == 3


def test_the_next_save_removes_temporaries_left_by_a_killed_save(tmp_path, corpus, run_main):
    out = tmp_path / "k.npz"
    kill_mid_save = (f"import os, signal\nfrom tinygrad_rnn import checkpoint\n"
                     f"def write(f):\n    f.write(b'half a checkpoint'); f.flush(); os.kill(os.getpid(), signal.SIGKILL)\n"
                     f"checkpoint._write_atomically({str(out)!r}, write)\n")
    result = subprocess.run([sys.executable, "-c", kill_mid_save], cwd=ROOT, capture_output=True, timeout=60)
    assert result.returncode == -signal.SIGKILL
    left = [n for n in os.listdir(tmp_path) if n.endswith(".tmp")]
    assert len(left) == 1 and left[0].startswith(".k.npz.")      # what a kill during a save leaves
    live = tmp_path / f".k.npz.{os.getpid()}.0123abcd.tmp"       # a save in progress in a live process: kept
    live.write_bytes(b"")
    other = tmp_path / ".other.npz.4194305.0123abcd.tmp"         # another path's (4194305 > Linux's PID_MAX_LIMIT)
    other.write_bytes(b"")
    assert run_main(train_args(corpus, out, "--steps", "2")).returncode == 0
    assert sorted(n for n in os.listdir(tmp_path) if n.endswith(".tmp")) == sorted([live.name, other.name])
    assert checkpoint.load(str(out))["step"] == 2


# ---- 11. --resume: explicit flags win and are reported; an interrupted run resumes bit-identically ------------------
def test_explicit_flags_win_over_the_checkpoint_on_resume(tmp_path, corpus, run_main):
    out = tmp_path / "r.npz"
    assert run_main(train_args(corpus, out, "--steps", "2", "--lr", "0.01", "--clip", "2")).returncode == 0
    result = run_main(["train", "--text", corpus, "--out", str(out), "--resume", str(out), "--steps", "4",
                       "--lr", "0.02", "--quiet"])
    assert result.returncode == 0
    assert "resuming" in result.stdout and "--lr 0.02 (checkpoint: 0.01)" in result.stdout
    saved = checkpoint.load(str(out))
    assert saved["step"] == 4 and saved["optimizer"]["param_groups"][0]["lr"] == 0.02
    # not given: the checkpoint's (--seq-len 8, --batch 4 and --clip 2 from the first run, --lr 0.02 from the second)
    assert (saved["config"]["seq_len"], saved["config"]["batch"], saved["config"]["clip"]) == (8, 4, 2.0)
    assert run_main(["train", "--text", corpus, "--out", str(out), "--resume", str(out), "--steps", "5",
                     "--quiet"]).returncode == 0
    assert checkpoint.load(str(out))["optimizer"]["param_groups"][0]["lr"] == 0.02


def test_help_says_flags_win_on_resume(run_main):
    result = run_main(["train", "--help"])
    assert result.returncode == 0 and "given on the command line" in " ".join(result.stdout.split())


@pytest.mark.parametrize("signum", [signal.SIGINT, signal.SIGTERM])
def test_resume_after_an_interrupt_is_bit_identical(tmp_path, corpus, run_main, monkeypatch, signum):
    model = ["--layers", "2", "--dropout", "0.2", "--steps", "8", "--save-every", "100"]
    straight = tmp_path / "straight.npz"
    assert run_main(train_args(corpus, straight, *model)).returncode == 0
    def as_ctrl_c(signum, frame):
        raise KeyboardInterrupt

    with monkeypatch.context() as patch:
        if signum == signal.SIGTERM:       # where train installs no SIGTERM handler, pytest must survive it
            previous = signal.signal(signal.SIGTERM, as_ctrl_c)
        try:
            interrupt_at(patch, 3, signum)
            broken = tmp_path / "broken.npz"
            assert run_main(train_args(corpus, broken, *model)).returncode == 128 + signum
        finally:
            if signum == signal.SIGTERM:
                signal.signal(signal.SIGTERM, previous)
    assert checkpoint.load(str(broken))["step"] == 3
    assert run_main(train_args(corpus, broken, *model, "--resume", str(broken))).returncode == 0
    a, b = checkpoint.load(str(straight)), checkpoint.load(str(broken))
    assert b["step"] == 8 and list(a["model"]) == list(b["model"])
    for name in a["model"]:
        assert a["model"][name].tobytes() == b["model"][name].tobytes(), name
    for i, state in a["optimizer"]["state"].items():
        for key, value in state.items():
            assert np.asarray(value).tobytes() == np.asarray(b["optimizer"]["state"][i][key]).tobytes(), (i, key)
    assert a["rng_state"] == b["rng_state"]


# ---- 12. inputs that would block or exhaust memory ------------------------------------------------------------------
def test_fifos_as_inputs_are_refused_not_waited_on(tmp_path, corpus, run_cli, assert_refused):
    """In a child process with a timeout: the old code blocked forever opening the FIFO."""
    fifo = tmp_path / "fifo"
    os.mkfifo(fifo)
    for args, needle in ((["train", "--text", str(fifo)], "not a regular file"),
                         (["sample", str(fifo)], "FIFO"),
                         (["train", "--text", corpus, "--resume", str(fifo)], "FIFO"),
                         (["bench", "--json", str(fifo)], "FIFO")):
        assert_refused(run_cli(*args, timeout=60), needle)


def test_the_corpus_size_is_capped(tmp_path, run_main, assert_refused):
    big = tmp_path / "big.txt"
    with open(big, "wb") as f:
        f.truncate(100_000_001)                  # sparse: 100 MB of zeros that take no disk
    assert_refused(run_main(["train", "--text", str(big)]),
                   "100,000,001 bytes, more than --max-text-bytes 100,000,000")
    small = tmp_path / "small.txt"
    small.write_text(CORPUS, encoding="utf-8")
    assert_refused(run_main(["train", "--text", str(small), "--max-text-bytes", "1000"]),
                   "more than --max-text-bytes 1,000")


@pytest.mark.parametrize("sizes", [["--layers", "1000000"], ["--hidden", str(10**9)]])
def test_models_larger_than_the_machine_are_refused_before_allocating(tmp_path, corpus, run_main, assert_refused,
                                                                      monkeypatch, sizes,
                                                                      no_training):
    monkeypatch.setattr(resources, "machine_memory", lambda: 16 * 10**9)     # the same answer on every machine
    line = assert_refused(run_main(["train", "--text", corpus, "--out", str(tmp_path / "m.npz"), "--batch", "4",
                                    "--seq-len", "8", "--quiet", *sizes]), "needs about")
    assert "more than this machine's 16.0 GB" in line and " ".join(sizes) in line
    assert no_training == [] and not (tmp_path / "m.npz").exists()


def test_the_memory_estimate_counts_weights_optimizer_and_activations():
    from tinygrad_rnn.apps.charlm import CharLM, estimate_bytes

    model = CharLM(30, hidden=16, layers=2, cell="lstm")
    weights = sum(p.numel() for p in model.parameters())
    assert estimate_bytes(30, 16, 2, "lstm", 1, 1, 4, weight_copies=1) - 4 * (2 * 12 * 16 + 3 * 30 + 16) == \
        4 * weights
    assert estimate_bytes(30, 16, 2, "lstm", 4, 8, 4) == 4 * (4 * weights + 8 * 4 * (2 * 12 * 16 + 3 * 30 + 16))


# ---- 13. one line and exit 2, never a traceback -------------------------------------------------------------------
@pytest.fixture
def char_checkpoint(tmp_path, corpus, run_main):
    out = tmp_path / "model.npz"
    assert run_main(train_args(corpus, out, "--steps", "2")).returncode == 0
    return str(out)


def test_seeds_outside_numpys_range_are_refused(tmp_path, corpus, char_checkpoint, run_main, assert_refused,
                                                monkeypatch):
    monkeypatch.chdir(tmp_path)                   # (gradflow and train would write their outputs here)
    for command in (["train", "--text", corpus, *SMALL, "--steps", "1"], ["sample", char_checkpoint],
                    ["adding", "--steps", "1", "--length", "4"], ["demo", "--steps", "1"],
                    ["gradflow", "--length", "3", "--iters", "1"]):
        for seed in ("-1", str(2**64)):
            assert_refused(run_main([*command, "--seed", seed]),
                           "argument --seed: expected an integer in [0, 2**64)")


def test_a_tiny_temperature_samples_the_argmax_instead_of_nan(char_checkpoint, run_main):
    outputs = []
    for seed in ("1", "2"):
        result = run_main(["sample", char_checkpoint, "--temperature", "1e-320", "--length", "30", "--prime", "the ",
                           "--seed", seed])
        assert result.returncode == 0 and result.stderr == "", result.stderr
        outputs.append(result.stdout)
    assert outputs[0] == outputs[1] and len(outputs[0]) == 4 + 30 + 1      # greedy: the seed does not matter


def test_adding_needs_two_steps(run_main, assert_refused):
    assert_refused(run_main(["adding", "--length", "1"]), "argument --length: expected an integer >= 2, got 1")


def test_bench_json_nested_too_deeply(tmp_path, run_main, assert_refused):
    deep = tmp_path / "deep.json"
    deep.write_text("[" * 200_000 + "]" * 200_000)
    assert_refused(run_main(["bench", "--json", str(deep)]), "nested too deeply")


def test_checkpoint_errors_become_one_line(tmp_path, corpus, char_checkpoint, run_main, assert_refused, monkeypatch):
    """Whatever checkpoint.load refuses (its CheckpointError names the path) is one line, exit 2, for both readers."""
    def load(path, *args, **kwargs):
        raise checkpoint.CheckpointError(f"{path}: config 'hidden': expected a positive int,\nbut got 'sixteen'")
    monkeypatch.setattr(checkpoint, "load", load)
    assert_refused(run_main(["sample", char_checkpoint]), f"{char_checkpoint}: config 'hidden'")
    assert_refused(run_main(["train", "--text", corpus, "--resume", char_checkpoint, "--out", char_checkpoint]),
                   f"{char_checkpoint}: config 'hidden'")


def crafted(tmp_path, name, good, **changes):
    """A digest-valid copy of the checkpoint `good` with some fields replaced."""
    saved = checkpoint.load(good)
    config = {**saved["config"], **changes.pop("config", {})}
    fields = dict(model_state=saved["model"], optimizer_state=saved["optimizer"], config=config,
                  vocab=saved["vocab"], step=saved["step"], rng_state=saved["rng_state"])
    fields.update(changes)
    path = str(tmp_path / name)
    checkpoint.save(path, **fields)
    return path


def test_crafted_checkpoints_are_one_line_for_resume_and_sample(tmp_path, corpus, char_checkpoint, run_main,
                                                                assert_refused):
    cases = {"optimizer": dict(config={"optimizer": "lbfgs"}), "clip": dict(config={"clip": -1.0}),
             "no_config": dict(config=None), "rng": dict(rng_state={"bit_generator": "nonsense"})}
    for name, changes in cases.items():
        if name == "no_config":
            path = str(tmp_path / "no_config.npz")
            saved = checkpoint.load(char_checkpoint)
            checkpoint.save(path, saved["model"], saved["optimizer"], None, saved["vocab"], saved["step"])
        else:
            path = crafted(tmp_path, f"{name}.npz", char_checkpoint, **changes)
        assert_refused(run_main(["train", "--text", corpus, "--resume", path, "--out", path, "--steps", "3",
                                 "--quiet"]), path)
    assert_refused(run_main(["sample", str(tmp_path / "no_config.npz")]), "no_config.npz")


def test_graph_and_gradflow_outputs_refuse_fifos_and_devices(tmp_path, run_cli, assert_refused):
    """In a child process with a timeout: opening a FIFO for writing blocked until a reader came, forever."""
    fifo = tmp_path / "fifo"
    os.mkfifo(fifo)
    for args in (["graph", "--steps", "2", "--out", str(fifo)],
                 ["gradflow", "--length", "3", "--iters", "1", "--csv", str(fifo), "--out", str(tmp_path / "g.png")],
                 ["gradflow", "--length", "3", "--iters", "1", "--csv", str(tmp_path / "g.csv"), "--out", str(fifo)]):
        assert_refused(run_cli(*args, timeout=60), "FIFO")
        assert stat.S_ISFIFO(os.lstat(fifo).st_mode)
