"""The files of deploy/ read as an operator's machine would use them.

`unit_exec_start` reads a systemd unit's ExecStart lines (this machine's PID 1 is not
systemd, so the cluster test runs them itself); `env_file` fills the environment
template; `nginx_site` renders the nginx site with only its lines marked `site:`
changed. Paths of the release (/srv/auth-server) become this checkout.
"""

import re
import shlex
import subprocess

from tests.servers import ROOT

DEPLOY = ROOT / "deploy"
SYSTEMD = DEPLOY / "systemd"
RELEASE_DIR = "/srv/auth-server"
ENV_TEMPLATE = DEPLOY / "auth-server.env.template"
NGINX_SITE = DEPLOY / "nginx" / "auth-server.conf"
ASSIGNMENT = re.compile(r"^([A-Z][A-Z0-9_]*)=(.*)$")


def unit_settings(name):
    """{key: [values]} of a unit's [Service] (and other) sections, in order."""
    settings = {}
    for raw in (SYSTEMD / name).read_text().splitlines():
        line = raw.strip()
        if not line or line.startswith(("#", ";", "[")):
            continue
        key, _, value = line.partition("=")
        settings.setdefault(key.strip(), []).append(value.strip())
    return settings


def in_release(text):
    """A path or command of the unit, with the release folder at this checkout."""
    return text.replace(RELEASE_DIR, str(ROOT))


def unit_exec_start(name):
    """Each ExecStart command of the unit as argv, run from this checkout."""
    return [shlex.split(in_release(line)) for line in unit_settings(name)["ExecStart"]]


def unit_listen_stream(name):
    """(address, port, backlog) of a .socket unit's one `ListenStream=address:port`."""
    settings = unit_settings(name)
    [listen] = settings["ListenStream"]
    address, _, port = listen.rpartition(":")
    return address, int(port), int(settings.get("Backlog", ["128"])[0])


def unit_environment(name, runtime_dir):
    """The unit's own `Environment=` lines; /run/auth-server is `runtime_dir`."""
    environment = {}
    for line in unit_settings(name).get("Environment", []):
        for item in shlex.split(line):
            key, _, value = item.partition("=")
            environment[key] = value.replace("/run/auth-server", str(runtime_dir))
    return environment


def template_settings():
    """{variable: value} of the template's set (uncommented) lines."""
    settings = {}
    for line in ENV_TEMPLATE.read_text().splitlines():
        match = ASSIGNMENT.match(line)
        if match:
            settings[match.group(1)] = match.group(2)
    return settings


def template_variables():
    """Every variable the template names, set or commented out at its default."""
    return set(re.findall(r"^#? ?([A-Z][A-Z0-9_]*)=", ENV_TEMPLATE.read_text(), re.M))


def env_file(path, values):
    """Write the template with `values` for its set lines (and any extra ones).

    Every CHANGE-ME of the template must be given a value: a deployment from the
    template fails loudly on a forgotten secret, and so does this test.
    """
    settings = {**template_settings(), **values}
    missing = [name for name, value in settings.items() if "CHANGE-ME" in value]
    assert not missing, f"no value for {missing}"
    path.write_text("".join(f"{name}={value}\n" for name, value in settings.items()))
    path.chmod(0o600)
    return settings


def nginx_site(replacements):
    """The site with each `site:` line's text replaced; every such line must be."""
    lines = []
    for line in NGINX_SITE.read_text().splitlines():
        if "# site:" in line:
            code, _, label = line.partition("# site:")
            label = label.strip()
            assert label in replacements, f"no value for site line {label!r}"
            line = replacements[label]
        lines.append(line)
    unused = set(replacements) - {
        line.partition("# site:")[2].strip()
        for line in NGINX_SITE.read_text().splitlines()
        if "# site:" in line
    }
    assert not unused, f"the site has no line {unused}"
    return "\n".join(lines) + "\n"


def verify_units(workdir):
    """`systemd-analyze verify` of every unit, at this checkout's paths.

    Returns its output: empty when systemd has nothing to say (an unknown key is
    only a warning, exit 0, so the output is what the caller checks).
    """
    units = []
    for unit in sorted(SYSTEMD.iterdir()):
        copy = workdir / unit.name
        text = in_release(unit.read_text()).replace(
            "/etc/auth-server/auth-server.env", str(ENV_TEMPLATE)
        )
        copy.write_text(text)
        units.append(str(copy))
    result = subprocess.run(
        ["systemd-analyze", "verify", *units],
        capture_output=True,
        text=True,
        timeout=60,
    )
    return result.returncode, (result.stdout + result.stderr).strip()
