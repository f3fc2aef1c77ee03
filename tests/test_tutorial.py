"""docs/tutorial.md runs as written: every ```python block, in order, in one namespace, and what each prints is the
```text block that follows it (a python block with no text block after it must print nothing)."""
import contextlib
import io
import pathlib
import re

TUTORIAL = pathlib.Path(__file__).resolve().parents[1] / "docs" / "tutorial.md"
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


def test_tutorial_shape():
    markdown = TUTORIAL.read_text(encoding="utf-8")
    found = blocks(markdown)
    assert len(found) >= 10
    assert sum(expected is not None for _, expected in found) >= 8
    assert 250 <= len(markdown.splitlines()) <= 450
    for topic in ("primitive ops", "tape", "oracle", "Cho", "Vanishing", "clip", "detach", "Bidirectional",
                  "new cell"):
        assert topic.lower() in markdown.lower(), topic
