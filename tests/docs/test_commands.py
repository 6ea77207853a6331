"""Every `flask` command in README.md and docs/ exists, as written, with its options.

The docs write them as `.venv/bin/flask <group> <command> [options]`; each is run with
`--help` through Flask's own CLI (`flask.cli.cli`), which finds `wsgi.py` in the project
folder the way `.venv/bin/flask` does there after `make run`.
"""

import re

import pytest
from click.testing import CliRunner
from flask.cli import cli

from tests.docs.support import doc_files, read
from tests.servers import ROOT

# Options run to the end of the code span, line or table cell (`\|` is no cell end).
# An `--app NAME` first picks another app (`--app maintenance` for broken settings).
COMMAND = re.compile(
    r"\.venv/bin/flask((?: --app [a-z_.:]+)?(?: [a-z][a-z-]*)+)((?:[^`\n|\\]|\\.)*)"
)
OPTION = re.compile(r"(?<![\w-])--[a-z][a-z-]*")
# `flask ...` without the venv path would only work with the venv activated.
BARE = re.compile(r"(?<![\w/.-])flask (?=[a-z])")


def documented_commands():
    """{(words...): {options}} of every `.venv/bin/flask` command in the docs."""
    commands = {}
    for path in doc_files():
        for match in COMMAND.finditer(read(path)):
            words = tuple(match.group(1).split())
            options = set(OPTION.findall(match.group(2)))
            commands.setdefault(words, set()).update(options)
    return commands


@pytest.fixture
def flask_cli(monkeypatch):
    """Flask's CLI in the project folder, as after `make run`; a throwaway database."""
    monkeypatch.chdir(ROOT)
    monkeypatch.delenv("FLASK_APP", raising=False)
    runner = CliRunner()

    def invoke(*args):
        env = {"APP_ENV": "testing", "DATABASE_URL": "sqlite://"}
        return runner.invoke(cli, list(args), env=env, catch_exceptions=False)

    return invoke


def test_docs_name_the_commands():
    commands = documented_commands()
    assert ("users", "seed-demo") in commands
    assert ("db", "upgrade") in commands
    assert len(commands) >= 8


@pytest.mark.parametrize("words", sorted(documented_commands()), ids=" ".join)
def test_documented_command_exists_with_its_options(flask_cli, words):
    result = flask_cli(*words, "--help")
    assert result.exit_code == 0, result.output
    usage = next(line for line in result.output.splitlines() if "Usage:" in line)
    command = words[2:] if words[0] == "--app" else words
    assert f" {' '.join(command)} " in usage
    for option in documented_commands()[words]:
        assert option in result.output, f"{option} of {' '.join(words)}"


def test_every_flask_command_is_written_with_the_venv_path():
    for path in doc_files():
        for number, line in enumerate(read(path).splitlines(), 1):
            assert not BARE.search(line), f"{path.name}:{number}: {line}"
