"""The docs stand on their own: short README, links inside the repository, and
`make run` saying where the docs page is and how to make demo users."""

import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest

from tests.docs.support import README, doc_files, read
from tests.servers import ROOT

PAGES = ["API.md", "clients.md", "configuration.md", "deployment.md", "downstream.md"]
PAGES += ["operations.md", "security.md"]
LINK = re.compile(r"\]\(([^)\s]+)\)")
SKIPPED_DIRS = {".git", ".venv", "instance", "artifacts", "node_modules", "__pycache__"}
TEXT_SUFFIXES = {".md", ".py", ".sh", ".js", ".html", ".css", ".txt", ".toml", ".cfg"}
TEXT_SUFFIXES |= {".ini", ".json", ".yml", ".yaml", ".mako", ".conf", ""}


def project_files():
    for folder, dirs, files in os.walk(ROOT):
        dirs[:] = [name for name in dirs if name not in SKIPPED_DIRS]
        for name in files:
            path = Path(folder) / name
            if path.suffix in TEXT_SUFFIXES:
                yield path


def anchors(path):
    """GitHub's heading anchors of a Markdown file: lower case, spaces to hyphens."""
    return {
        re.sub(r"[^\w\- ]", "", heading.lower()).replace(" ", "-")
        for heading in re.findall(r"^#+ (.+?)\s*$", read(path), re.MULTILINE)
    }


def test_readme_is_short_and_links_every_page():
    text = read(README)
    assert len(text.splitlines()) <= 200
    for page in PAGES:
        assert f"(docs/{page})" in text, page
        assert (ROOT / "docs" / page).is_file(), page


def test_relative_links_point_at_files_of_the_repository():
    for path in doc_files() + [ROOT / "bench" / "README.md"]:
        for target in LINK.findall(read(path)):
            if re.match(r"[a-z]+:", target):
                continue  # http:, https:, mailto:
            file_part, _, anchor = target.partition("#")
            resolved = (path.parent / file_part).resolve() if file_part else path
            assert resolved.is_relative_to(ROOT), f"{path.name}: {target}"
            assert resolved.exists(), f"{path.name}: {target}"
            if anchor and resolved.suffix == ".md":
                assert anchor in anchors(resolved), f"{path.name}: {target}"


def test_no_file_refers_to_the_shared_folder_outside():
    outside = "../" + "shared"  # spelled in two, so this file does not match itself
    for path in project_files():
        text = path.read_text(encoding="utf-8", errors="replace")
        assert outside not in text, path.relative_to(ROOT)


@pytest.mark.skipif(shutil.which("make") is None, reason="make is not installed")
def test_make_run_prints_the_docs_page_and_the_demo_users_command():
    # -n prints the recipe without running anything (no install, no server).
    recipe = subprocess.run(
        ["make", "-n", "run"], cwd=ROOT, capture_output=True, text=True, timeout=30
    ).stdout
    echoed = "\n".join(line for line in recipe.splitlines() if line.startswith("echo"))
    printed = subprocess.run(
        ["bash", "-c", echoed], capture_output=True, text=True, env={}, timeout=10
    ).stdout
    assert "http://127.0.0.1:8000/docs" in printed
    command = ".venv/bin/flask users seed-demo"
    assert command in printed
    assert command in read(README)
    # Both lines come before gunicorn starts.
    assert recipe.index("echo") < recipe.index("gunicorn -c")


def test_project_files_are_found():
    names = {Path(path).name for path in project_files()}
    assert {"README.md", "config.py", "Makefile", "API.md"} <= names
