"""`flask keys generate`: a 0600 private key and its public key, never overwritten."""

import os
import stat
import subprocess
import sys
from pathlib import Path

import pytest

from tests.urls import ME, REGISTER

ROOT = Path(__file__).resolve().parents[2]
FLASK = Path(sys.executable).with_name("flask")


def mode(path):
    return stat.S_IMODE(path.stat().st_mode)


def generate(runner, *args):
    return runner.invoke(args=["keys", "generate", *args])


def test_generated_key_pair_loads_and_signs(runner, make_app, tmp_path, algorithm):
    out = tmp_path / "keys"
    result = generate(runner, "--algorithm", algorithm, "--out", str(out))
    assert result.exit_code == 0, result.output
    private, public = out / "jwt-private.pem", out / "jwt-public.pem"
    assert mode(private) == 0o600
    assert mode(public) == 0o644
    assert "PRIVATE KEY" not in result.output
    assert "-----BEGIN PUBLIC KEY-----" in result.output

    signer = make_app(
        JWT_ALGORITHM=algorithm,
        JWT_PRIVATE_KEY_FILE=str(private),
        JWT_PUBLIC_KEY_FILE=str(public),
    )
    kid = signer.extensions["signing_keys"].kid
    assert f"kid:         {kid}" in result.output
    client = signer.test_client()
    registered = client.post(
        REGISTER,
        json={"name": "Key", "email": "key@example.com", "password": "pass phrase 42"},
        headers={"X-Auth-Mode": "bearer"},
    )
    assert registered.status_code == 201, registered.json
    token = registered.json["data"]["accessToken"]
    me = client.get(ME, headers={"Authorization": f"Bearer {token}"})
    assert me.status_code == 200


@pytest.mark.parametrize("algorithm", ["EdDSA"])
def test_existing_files_are_kept_without_force(runner, tmp_path, algorithm):
    out = tmp_path / "keys"
    assert generate(runner, "--algorithm", "EdDSA", "--out", str(out)).exit_code == 0
    private = out / "jwt-private.pem"
    before = private.read_text()

    refused = generate(runner, "--algorithm", "ES256", "--out", str(out))
    assert refused.exit_code == 1
    assert "--force" in refused.output
    assert private.read_text() == before

    private.chmod(0o644)
    forced = generate(runner, "--algorithm", "ES256", "--out", str(out), "--force")
    assert forced.exit_code == 0, forced.output
    assert private.read_text() != before
    assert mode(private) == 0o600


@pytest.mark.parametrize("algorithm", ["HS256"])
def test_hs256_is_not_a_key_pair(runner, tmp_path, algorithm):
    out = tmp_path / "keys"
    result = generate(runner, "--algorithm", algorithm, "--out", str(out))
    assert result.exit_code == 2
    assert not out.exists()


@pytest.mark.parametrize("algorithm", ["ES256"])
def test_generate_runs_while_the_configured_key_is_missing(tmp_path, algorithm):
    """The real `flask` CLI: RS256 is set but has no key yet; the maintenance app's
    generate still runs, where wsgi.py's app (FLASK_APP) refuses to start."""
    env = {
        **os.environ,
        "FLASK_APP": "wsgi.py",
        "APP_ENV": "testing",
        "JWT_ALGORITHM": "RS256",
        "DATABASE_URL": "sqlite://",
    }
    for name in ("JWT_PRIVATE_KEY", "JWT_PRIVATE_KEY_FILE"):
        env.pop(name, None)
    out = tmp_path / "keys"
    result = subprocess.run(  # noqa: S603
        [
            *(str(FLASK), "--app", "maintenance", "keys", "generate"),
            *("--algorithm", "RS256", "--out", str(out)),
        ],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
    assert mode(out / "jwt-private.pem") == 0o600
    served = subprocess.run(  # noqa: S603
        [str(FLASK), "routes"], cwd=ROOT, env=env, capture_output=True, text=True
    )
    assert served.returncode != 0
    assert "JWT_PRIVATE_KEY" in served.stderr
