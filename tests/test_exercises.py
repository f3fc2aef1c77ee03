"""docs/exercises.md and its checker: every solution in docs/solutions/ passes `python -m tinygrad_rnn exercise N
FILE`, and a wrong answer fails with the first wrong number named (the checker compares against the library's own
cells, a NumPy transcription of the equations, finite differences and its own truncated BPTT)."""
import pathlib
import re

import pytest

from tinygrad_rnn.apps.exercise import EXERCISES

ROOT = pathlib.Path(__file__).resolve().parents[1]
EXERCISES_MD = ROOT / "docs" / "exercises.md"
SOLUTIONS = ROOT / "docs" / "solutions"


def solution(n):
    return SOLUTIONS / f"exercise_{n}.py"


@pytest.mark.parametrize("n", sorted(EXERCISES))
def test_every_solution_passes(n, run_main):
    result = run_main(["exercise", str(n), str(solution(n))])
    assert result.returncode == 0, result.stdout + result.stderr
    assert result.stdout.startswith(f"exercise {n} ({EXERCISES[n][0]}): pass: ")


def test_the_checker_runs_as_a_command(run_cli):
    result = run_cli("exercise", "2", str(solution(2)))
    assert result.returncode == 0, result.stderr
    assert "pass" in result.stdout and result.stderr == ""


def wrong(tmp_path, n, old, new):
    """The solution of exercise n with `old` replaced by `new` (which must occur), written to tmp_path."""
    text = solution(n).read_text(encoding="utf-8")
    assert old in text, old
    path = tmp_path / f"answer_{n}.py"
    path.write_text(text.replace(old, new), encoding="utf-8")
    return str(path)


WRONG = [  # (exercise, what a learner might get wrong, replaced by, the message's pattern)
    (1, "o = (zo + w_co * c_new).sigmoid()", "o = (zo + w_co * c).sigmoid()",
     r"FAIL: h\[0, 0\] is -?\d\.\d+(e-?\d+)? but should be -?\d\.\d+"),
    (1, "i = (zi + w_ci * c).sigmoid()", "i = zi.sigmoid()", r"FAIL: c\[\d, \d\] is .* but should be "),
    (1, "    zi, zf, zg, zo = (x @ weight_ih.T", "    from tinygrad_rnn import fused\n"
     "    return fused.PeepholeLSTMStep.apply(x @ weight_ih.T + bias, h, c, weight_hh, w_ci, w_cf, w_co)[:2]\n"
     "    zi, zf, zg, zo = (x @ weight_ih.T", r"FAIL: the tape holds a PeepholeLSTMStep node"),
    (2, "return grad * (1 - y * y)", "return grad * (1 - y)",
     r"FAIL: the gradient of x\[0, 0\] is -?\d+\.\d+ but should be 0"),
    (2, "y = np.tanh(x)", "y = np.tanh(x) * 1.000001", r"FAIL: Tanh\.apply\(x\)\[0, 0\] is "),
    (3, "BROKEN_FORGET_BIAS = -6.0", "BROKEN_FORGET_BIAS = 2.0", r"FAIL: .*break it harder"),
    (3, "return float(np.linalg.norm(x.grad[0]))", "return float(np.linalg.norm(x.grad[-1]))",
     r"FAIL: gradient_reach\(-6\.0\) is .* but should be "),
    (4, "n_gates = 2 ", "n_gates = 3 ", r"FAIL: MGURecurrence\.n_gates is 3 but should be 2"),
    (4, "return (1 - f) * h + f * n, None", "return f * h + (1 - f) * n, None",
     r"FAIL: output\[0, 0, 0\] is .* but should be "),
    (5, "    layer.zero_grad()\n", "", r"FAIL: truncated_gradient\(layer, x, 1\)\[0, 0\] is .* but should be "),
    (5, "state = tuple(s.detach() for s in state)", "pass",
     r"FAIL: your code raised RuntimeError: Trying to backward through the graph a second time.*"
     r"\(answer_5\.py, line \d+\)"),
]


@pytest.mark.parametrize("n,old,new,message", WRONG, ids=[f"{n}-{k}" for k, (n, *_) in enumerate(WRONG)])
def test_a_wrong_answer_fails_naming_the_first_wrong_number(n, old, new, message, tmp_path, run_main):
    result = run_main(["exercise", str(n), wrong(tmp_path, n, old, new)])
    assert result.returncode == 1, result.stdout + result.stderr
    lines = result.stdout.strip().splitlines()
    assert len(lines) == 1 and re.search(message, lines[0]), lines


def test_a_file_that_does_not_run_is_a_failure_with_its_line(tmp_path, run_main):
    path = tmp_path / "broken.py"
    path.write_text("def peephole_step(x, h, c\n", encoding="utf-8")
    result = run_main(["exercise", "1", str(path)])
    assert result.returncode == 1
    assert re.search(r"FAIL: your code raised SyntaxError: .* \(broken\.py, line 1\)", result.stdout), result.stdout
    path.write_text("x = 1\n", encoding="utf-8")
    result = run_main(["exercise", "1", str(path)])
    assert result.returncode == 1 and "your file defines no peephole_step" in result.stdout


@pytest.mark.parametrize("args,needle", [(["9", "x.py"], "invalid choice"), (["1", "/nonexistent/a.py"], "FILE"),
                                         (["1", "."], "FILE: is a directory"), (["x", "a.py"], "invalid int")])
def test_bad_input_is_one_line_and_exit_2(args, needle, run_main, assert_refused):
    assert_refused(run_main(["exercise", *args]), needle)


def test_exercises_md_lists_every_exercise_with_its_check_and_solution():
    text = EXERCISES_MD.read_text(encoding="utf-8")
    headings = re.findall(r"^## (\d+)\. (.+)$", text, flags=re.M)
    assert [int(n) for n, _ in headings] == sorted(EXERCISES)
    for n in EXERCISES:
        assert f"python -m tinygrad_rnn exercise {n} " in text, n
        assert f"solutions/exercise_{n}.py" in text and solution(n).exists(), n
