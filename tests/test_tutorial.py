"""docs/tutorial.md runs as written: every ```python block, in order, in one namespace, and what each prints is the
```text block that follows it (a python block with no text block after it must print nothing)."""
import contextlib
import io
import pathlib
import re

ROOT = pathlib.Path(__file__).resolve().parents[1]
TUTORIAL = ROOT / "docs" / "tutorial.md"
README = ROOT / "README.md"
FENCE = re.compile(r"^```(\w*)\n(.*?)^```[ \t]*$", flags=re.S | re.M)


def blocks(markdown):
    """[(python source, expected output or None)] in document order."""
    fenced = [(m.group(1), m.group(2)) for m in FENCE.finditer(markdown)]
    out = []
    for k, (lang, body) in enumerate(fenced):
        if lang == "python":
            following = fenced[k + 1] if k + 1 < len(fenced) else None
            out.append((body, following[1] if following and following[0] == "text" else None))
    return out


def execute(markdown):
    """Executes the blocks in one namespace -> [(source, expected, printed)]."""
    namespace = {"__name__": "tutorial"}
    results = []
    for k, (source, expected) in enumerate(blocks(markdown)):
        buffer = io.StringIO()
        with contextlib.redirect_stdout(buffer):
            exec(compile(source, f"{TUTORIAL.name}:block{k}", "exec"), namespace)
        results.append((source, expected, buffer.getvalue()))
    return results


def normalised(text):
    return "\n".join(line.rstrip() for line in (text or "").strip("\n").splitlines())


def test_tutorial_blocks_run_and_print_what_the_text_shows():
    for k, (source, expected, printed) in enumerate(execute(TUTORIAL.read_text(encoding="utf-8"))):
        assert normalised(printed) == normalised(expected), (
            f"python block {k} (starting {source.splitlines()[0]!r}) printed\n{printed}\nbut the tutorial shows\n"
            f"{expected}")


# README.md's "Teaching" paragraph promises these; (words of the README, words of the tutorial heading that keeps it)
PROMISED = [("an LSTM cell from primitive ops", "from primitive ops"), ("walks the tape", "the tape"),
            ("hand-derived BPTT", "hand-derived BPTT"), ("reset-after GRU", "reset before or after"),
            ("vanishing gradients", "vanishing"), ("clipping", "clipping"), ("truncated BPTT", "truncated BPTT"),
            ("a bidirectional layer", "bidirectional"), ("how to write a new cell", "a new cell")]


def sections(markdown):
    """{"## heading": [fence languages in that section, in order]}."""
    parts = re.split(r"^## ", markdown, flags=re.M)[1:]
    return {part.splitlines()[0]: [m.group(1) for m in FENCE.finditer(part)] for part in parts}


def test_every_code_block_runs_and_every_output_is_checked():
    """A fence in another language (```py, ```console) would be skipped by execute(), and a text block that does
    not follow a python block would be compared with nothing."""
    fenced = [m.group(1) for m in FENCE.finditer(TUTORIAL.read_text(encoding="utf-8"))]
    assert fenced and set(fenced) <= {"python", "text"}, fenced
    assert all(fenced[k - 1] == "python" for k, lang in enumerate(fenced) if lang == "text"), fenced


def test_every_section_the_readme_promises_is_there_and_shows_its_output():
    readme = " ".join(README.read_text(encoding="utf-8").split()).lower()
    found = sections(TUTORIAL.read_text(encoding="utf-8"))
    for promise, heading in PROMISED:
        assert promise.lower() in readme, f"README.md no longer promises {promise!r}: update PROMISED"
        matching = [h for h in found if heading.lower() in h.lower()]
        assert len(matching) == 1, (heading, list(found))
        assert "text" in found[matching[0]], f"section {matching[0]!r} prints nothing the tutorial shows"
