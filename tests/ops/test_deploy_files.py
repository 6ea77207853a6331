"""deploy/ is complete and valid: the env template names every setting, the systemd
units pass `systemd-analyze verify`, the alert rules pass `promtool` with their unit
tests. The tools' checks skip where the tool is missing (`make cluster` installs
them and runs this file)."""

import shutil
import subprocess

import pytest

from config import Config
from tests.cluster.deployment import (
    DEPLOY,
    NGINX_SITE,
    template_settings,
    template_variables,
    verify_units,
)
from tests.docs.test_configuration import INTERNAL, variables_read

PROMETHEUS = DEPLOY / "prometheus"


def test_the_env_template_names_every_setting_the_server_reads():
    assert set(variables_read()) - INTERNAL - template_variables() == set()
    assert template_settings()["APP_ENV"] == "production"
    assert template_settings()["TRUSTED_PROXY_COUNT"] == "1"


def test_nginx_refuses_bodies_over_the_apps_limit():
    assert (
        f"client_max_body_size {Config().MAX_CONTENT_LENGTH // 1024}k;"
        in NGINX_SITE.read_text()
    )


def tool(name):
    path = shutil.which(name)
    if path is None:
        pytest.skip(f"{name} not found (make cluster installs it)")
    return path


def test_systemd_units_verify(tmp_path):
    tool("systemd-analyze")
    returncode, output = verify_units(tmp_path)
    assert returncode == 0 and output == "", output


@pytest.mark.parametrize(
    "args",
    [
        ["check", "rules", "auth-server-alerts.yml"],
        ["test", "rules", "auth-server-alerts.test.yml"],
    ],
)
def test_alert_rules_and_their_unit_tests(args):
    result = subprocess.run(
        [tool("promtool"), *args], cwd=PROMETHEUS, capture_output=True, text=True
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_scrape_config(tmp_path):
    promtool = tool("promtool")
    token = tmp_path / "token"
    token.write_text("a-metrics-token\n")
    config = (PROMETHEUS / "prometheus.yml").read_text()
    config = config.replace("/etc/prometheus/auth-server-metrics-token", str(token))
    (tmp_path / "prometheus.yml").write_text(config)
    shutil.copy(PROMETHEUS / "auth-server-alerts.yml", tmp_path)
    result = subprocess.run(
        [promtool, "check", "config", "prometheus.yml"],
        cwd=tmp_path, capture_output=True, text=True,
    )  # fmt: skip
    assert result.returncode == 0, result.stdout + result.stderr
