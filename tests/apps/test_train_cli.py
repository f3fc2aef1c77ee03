"""The main job: train a char model on a tiny corpus, sample from it, resume exactly, refuse bad input cleanly."""
import numpy as np
import pytest

from tinygrad_rnn import checkpoint
from tinygrad_rnn.apps.cli import main
from train_inputs import CORPUS, SMALL  # noqa: F401  (and the corpus fixture of tests/apps/conftest.py)



def train(tmp_path, corpus, name, *extra):
    out = str(tmp_path / name)
    assert main(["train", "--text", corpus, "--out", out, *SMALL, *extra]) == 0
    return out


def weights(path):
    return checkpoint.load(path)["model"]


def test_loss_falls_and_validation_is_reported(tmp_path, corpus, capsys):
    out = train(tmp_path, corpus, "a.npz", "--steps", "60", "--lr", "0.01")
    text = capsys.readouterr().out
    bpc = float(text.split("validation: ")[1].split(" bits")[0])
    assert bpc < np.log2(len(set(CORPUS))) - 1.0        # well below a uniform guess over the vocabulary
    saved = checkpoint.load(out)
    assert saved["step"] == 60 and saved["vocab"] == "".join(sorted(set(CORPUS)))
    assert saved["config"]["cell"] == "lstm" and saved["config"]["hidden"] == 16


def test_same_seed_gives_bit_identical_weights(tmp_path, corpus):
    a = weights(train(tmp_path, corpus, "a.npz", "--steps", "6", "--dropout", "0.2", "--layers", "2"))
    b = weights(train(tmp_path, corpus, "b.npz", "--steps", "6", "--dropout", "0.2", "--layers", "2"))
    assert all(np.array_equal(a[k], b[k]) for k in a)
    c = weights(train(tmp_path, corpus, "c.npz", "--steps", "6", "--dropout", "0.2", "--layers", "2", "--seed", "1"))
    assert not all(np.array_equal(a[k], c[k]) for k in a)


def test_resume_continues_bit_identically(tmp_path, corpus):
    straight = weights(train(tmp_path, corpus, "straight.npz", "--steps", "8", "--save-every", "4"))
    half = train(tmp_path, corpus, "half.npz", "--steps", "4", "--save-every", "4")
    assert main(["train", "--text", corpus, "--out", half, "--resume", half, "--steps", "8", "--save-every", "4",
                 *SMALL]) == 0
    resumed = checkpoint.load(half)
    assert resumed["step"] == 8
    assert all(np.array_equal(straight[k], resumed["model"][k]) for k in straight)


@pytest.mark.parametrize("cell", ["gru", "peephole", "rnn"])
def test_other_cells_train(tmp_path, corpus, cell):
    saved = checkpoint.load(train(tmp_path, corpus, f"{cell}.npz", "--steps", "3", "--cell", cell))
    assert saved["config"]["cell"] == cell and saved["step"] == 3


def test_sample_from_checkpoint(tmp_path, corpus, capsys):
    out = train(tmp_path, corpus, "a.npz", "--steps", "30", "--lr", "0.01")
    capsys.readouterr()
    assert main(["sample", out, "--prime", "the ", "--length", "40", "--temperature", "0.5", "--seed", "3"]) == 0
    first = capsys.readouterr().out
    assert first.startswith("the ") and len(first.rstrip("\n")) == 44 and set(first.strip()) <= set(CORPUS)
    main(["sample", out, "--prime", "the ", "--length", "40", "--temperature", "0.5", "--seed", "3"])
    assert capsys.readouterr().out == first


def bad_inputs(tmp_path, corpus):
    empty, binary, other = tmp_path / "empty.txt", tmp_path / "latin1.txt", tmp_path / "other.npz"
    empty.write_text("")
    binary.write_bytes("caf\xe9 au lait ".encode("latin-1") * 50)
    checkpoint.save(str(other), {"w": np.zeros(2)}, config={"cell": "gru", "hidden": 99, "layers": 1,
                                                             "dropout": 0.0, "dtype": "float32"}, vocab="ab")
    return [
        (["train", "--text", str(tmp_path / "missing.txt")], "no such file"),
        (["train", "--text", str(empty)], "is empty"),
        (["train", "--text", str(binary)], "not UTF-8"),
        (["train", "--hidden", "0"], "--hidden"),
        (["train", "--seq-len", "-3"], "--seq-len"),
        (["train", "--cell", "transformer"], "--cell"),
        (["train", "--text", corpus, "--resume", str(other), "--hidden", "16"], "another model"),
        (["train", "--text", corpus, "--resume", str(tmp_path / "nope.npz")], "nope.npz"),
        (["sample", str(corpus)], "corpus.txt"),
        (["sample", str(other), "--prime", ""], "--prime"),
    ]


def test_bad_input_is_one_line_exit_2_and_clobbers_nothing(tmp_path, corpus, run_cli, assert_refused):
    keep = tmp_path / "char_lm.safetensors"      # the default --out
    keep.write_bytes(b"precious")
    for args, needle in bad_inputs(tmp_path, corpus):
        assert_refused(run_cli(*args, cwd=tmp_path), needle)
        assert keep.read_bytes() == b"precious"


def test_ctrl_c_saves_a_checkpoint_and_exits_130(tmp_path, corpus, spawn_cli):
    import signal
    import time

    out = tmp_path / "interrupted.npz"
    proc = spawn_cli("train", "--text", corpus, "--out", str(out), "--steps", "1000000", "--save-every", "1000000",
                     *SMALL)
    assert "parameters" in proc.stdout.readline()       # the model is built: training starts now
    time.sleep(1.5)
    proc.send_signal(signal.SIGINT)
    _, err = proc.communicate(timeout=60)
    assert proc.returncode == 130, err                     # 128 + SIGINT, as a shell reports Ctrl-C
    assert "interrupted at step" in err and "Traceback" not in err
    saved = checkpoint.load(str(out))
    assert 0 < saved["step"] < 1000000
