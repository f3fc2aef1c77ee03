"""mkdocs hook: a page line `<!-- README: ### Heading -->` becomes that section of README.md (down to the next
heading of the same or a higher level), so the site shows the README's text without a second copy to keep in step.
Links into docs/ are made relative to the site (docs/img/x.png -> img/x.png)."""
import pathlib
import re

MARKER = re.compile(r"^<!-- README: (#+) (.+?) -->$", flags=re.M)


def section(readme, level, title):
    lines = readme.splitlines()
    start = next((k for k, line in enumerate(lines) if line == f"{level} {title}"), None)
    if start is None:
        raise ValueError(f"README.md has no section {level} {title!r} (docs/ asks for it)")
    end = next((k for k in range(start + 1, len(lines))
                if re.match(rf"^#{{1,{len(level)}}} ", lines[k])), len(lines))
    return "\n".join(lines[start:end]).rstrip() + "\n"


def on_page_markdown(markdown, page, config, files):
    if "<!-- README:" not in markdown:
        return markdown
    readme = (pathlib.Path(config["config_file_path"]).parent / "README.md").read_text(encoding="utf-8")

    def include(match):
        text = section(readme, match.group(1), match.group(2))
        return re.sub(r"\]\(docs/", "](", text)

    return MARKER.sub(include, markdown)
