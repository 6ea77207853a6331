"""The README's curl blocks run as written against gunicorn, each in a fresh shell.

Each ```sh block of README.md that calls curl runs in its own `bash -euo pipefail`
with a bare environment and an empty folder, so a block that leans on a variable or
file of another block fails; only the server's address is swapped in.
"""

import json
import os
import shutil
import subprocess

import pytest

from tests.docs.support import README, code_blocks, read
from tests.servers import run_gunicorn

DOCUMENTED_URL = "http://127.0.0.1:8000"
BLOCK_TIMEOUT = 60

pytestmark = [
    pytest.mark.live_server,
    pytest.mark.skipif(shutil.which("curl") is None, reason="curl is not installed"),
    # The server has its own SQLite; the PostgreSQL pass would only repeat this.
    pytest.mark.skipif(
        bool(os.environ.get("TEST_DATABASE_URL")), reason="runs on the SQLite pass"
    ),
]


def curl_blocks():
    return [block for block in code_blocks(read(README), "sh") if "curl " in block]


@pytest.fixture(scope="module")
def base_url(tmp_path_factory):
    workdir = tmp_path_factory.mktemp("readme")
    # As `make run`: development on plain http, so the cookies are not Secure.
    env = {"APP_ENV": "development", "COOKIE_SECURE": "false"}
    with run_gunicorn(workdir, workers=1, env=env) as server:
        yield server.url


def run_block(block, base_url, folder):
    """Run one block in a fresh shell; its output lines, parsed as JSON."""
    assert DOCUMENTED_URL in block
    result = subprocess.run(
        ["bash", "-euo", "pipefail", "-c", block.replace(DOCUMENTED_URL, base_url)],
        cwd=folder,
        env={"PATH": os.environ["PATH"], "HOME": str(folder)},
        capture_output=True,
        text=True,
        timeout=BLOCK_TIMEOUT,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    return [json.loads(line) for line in result.stdout.splitlines() if line.strip()]


def test_readme_has_both_flows():
    blocks = curl_blocks()
    assert len(blocks) == 2
    assert "X-CSRF-TOKEN" in blocks[0]
    assert "X-Auth-Mode: bearer" in blocks[1]


@pytest.mark.parametrize("index", [0, 1], ids=["browser", "mobile"])
def test_readme_curl_block_succeeds_on_its_own(base_url, tmp_path, index):
    answers = run_block(curl_blocks()[index], base_url, tmp_path)
    assert len(answers) >= 3, "register, /users/me and logout each print an answer"
    for answer in answers:
        assert answer["success"] is True, answer
    assert answers[-1]["data"] == {"message": "Logged out."}
