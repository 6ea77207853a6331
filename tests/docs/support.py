"""Reading the project's Markdown docs: sections, tables, code blocks, commands."""

import re
from pathlib import Path

from tests.servers import ROOT

DOCS = ROOT / "docs"
README = ROOT / "README.md"
HEADING = re.compile(r"^(#{1,6}) (.+?)\s*$", re.MULTILINE)
FENCE = re.compile(r"^```(\w*)\n(.*?)^```", re.MULTILINE | re.DOTALL)
BACKTICKED = re.compile(r"`([^`]+)`")


def doc_files():
    """README.md and every page of docs/."""
    return [README, *sorted(DOCS.glob("*.md"))]


def read(path):
    return Path(path).read_text(encoding="utf-8")


def sections(text, level):
    """{heading: body} of the headings of exactly `level` (`###` is 3)."""
    found = {}
    matches = [m for m in HEADING.finditer(text) if len(m.group(1)) <= level]
    for index, match in enumerate(matches):
        if len(match.group(1)) != level:
            continue
        end = matches[index + 1].start() if index + 1 < len(matches) else len(text)
        found[match.group(2)] = text[match.end() : end]
    return found


def table_rows(text):
    """The cells of every Markdown table row in `text`, header and rule excluded."""
    rows = []
    lines = text.splitlines()
    for index, line in enumerate(lines):
        if not line.startswith("|") or set(line) <= set("|-: "):
            continue
        following = lines[index + 1] if index + 1 < len(lines) else ""
        if following.startswith("|") and set(following) <= set("|-: "):
            continue  # a header row
        rows.append([cell.strip() for cell in line.strip().strip("|").split(" | ")])
    return rows


def code_blocks(text, language):
    """The bodies of the fenced blocks of one language (```sh ...```)."""
    return [body for lang, body in FENCE.findall(text) if lang == language]
