"""docs/benchmarks.md is shared: each benchmark owns marked sections and rewrites only those."""

from __future__ import annotations

import re
from pathlib import Path

DOC = Path(__file__).resolve().parent.parent.parent / "docs" / "benchmarks.md"
IMAGES = DOC.parent / "img"


def markers(section: str) -> tuple[str, str]:
    """The start and end comments around a section owned by one benchmark."""
    return f"<!-- bench:{section}:start -->", f"<!-- bench:{section}:end -->"


def replace_section(text: str, section: str, body: str, *, heading: str = "", at_top: bool = False) -> str:
    """`text` with the marked `section` replaced by `body`; a missing section is added at the top or the end."""
    start, end = markers(section)
    block = f"{start}\n{body.strip()}\n{end}"
    pattern = re.compile(re.escape(start) + r".*?" + re.escape(end), re.DOTALL)
    if pattern.search(text):
        return pattern.sub(lambda _: block, text, count=1)
    titled = f"{heading}\n\n{block}" if heading else block
    if at_top:
        return f"{titled}\n\n{text.lstrip()}" if text.strip() else f"{titled}\n"
    return f"{text.rstrip()}\n\n{titled}\n" if text.strip() else f"{titled}\n"


def replace_top(text: str, body: str) -> str:
    """`text` with its top matter (marked, or else whatever precedes the first section) replaced by `body`."""
    start, _ = markers("top")
    if start in text:
        return replace_section(text, "top", body)
    cut = [i for i in (text.find("\n<!--"), text.find("\n## ")) if i >= 0]
    rest = text[min(cut):].lstrip("\n") if cut else ""
    return replace_section(rest, "top", body, at_top=True)


def write_section(section: str, body: str, *, heading: str = "", at_top: bool = False, doc: Path = DOC) -> None:
    """Rewrite one section of `doc` in place, leaving every other section as it is."""
    text = doc.read_text() if doc.exists() else ""
    doc.parent.mkdir(parents=True, exist_ok=True)
    if section == "top":
        doc.write_text(replace_top(text, body))
        return
    doc.write_text(replace_section(text, section, body, heading=heading, at_top=at_top))


def table(header: list[str], rows: list[list[str]]) -> str:
    """A Markdown table."""
    lines = ["| " + " | ".join(header) + " |", "|" + "|".join(" --- " for _ in header) + "|"]
    lines += ["| " + " | ".join(row) + " |" for row in rows]
    return "\n".join(lines)


def num(value: float | None, digits: int = 0) -> str:
    """A number for a table ('-' when missing), thousands separated."""
    if value is None:
        return "-"
    return f"{value:,.{digits}f}"
