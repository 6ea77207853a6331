"""The deployment of docs/deployment.md on one machine: nginx with TLS in front of two
app hosts, each in a network namespace of its own, on PostgreSQL and a Redis.

Run by `make cluster` (CLUSTER=1, as root: namespaces, ports 80 and 443); plain
`make test` skips these. The hosts run the ExecStart lines of deploy/systemd as
written, with the environment file made from deploy/auth-server.env.template;
nginx runs deploy/nginx/auth-server.conf with only its `site:` lines changed.
"""

import os
import secrets
import shutil
import signal
import socket
import ssl
import subprocess
import time
from contextlib import ExitStack, contextmanager, suppress
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import pytest

from tests.cluster import network
from tests.cluster.deployment import (
    env_file,
    nginx_site,
    unit_environment,
    unit_exec_start,
    unit_listen_stream,
)
from tests.helpers import run_apart, skip_or_fail
from tests.servers import ROOT

CLUSTER_DIR = Path(__file__).resolve().parent
SITE = "auth.cluster.test"
# nginx listens here (a loopback address of its own: ports 80 and 443 stay free on
# 127.0.0.1); clients come from other loopback addresses, one per "internet" client.
SITE_ADDRESS = "127.0.77.1"
ORIGIN = f"https://{SITE}"
POSTGRES_SOCKET = "/var/run/postgresql"
DATABASE = "cluster"
REDIS_PORT = 6391
SMTP_PORT = 2526
# Short, so that a test outwaits an access token (key rotation retires a key after it).
ACCESS_TOKEN_TTL = 12
PASSWORD = "correct horse battery staple"
WORKDIR = Path("/tmp/auth-server-cluster")
START_TIMEOUT = 60
STOP_TIMEOUT = 45


def pytest_configure(config):
    config.addinivalue_line(
        "markers", "cluster: nginx, two app hosts, PostgreSQL, Redis (make cluster)"
    )


def pytest_collection_modifyitems(config, items):
    run_apart(
        config,
        items,
        CLUSTER_DIR,
        variable="CLUSTER",
        marker="cluster",
        reason="cluster test (namespaces, nginx, root): run `make cluster`",
    )


def run(argv, **kwargs):
    result = subprocess.run(argv, capture_output=True, text=True, timeout=120, **kwargs)
    if result.returncode != 0:
        raise RuntimeError(f"{argv} failed:\n{result.stdout}{result.stderr}"[-4000:])
    return result


def make_certificates(directory):
    """A CA of the test's own and a certificate for SITE (and SITE_ADDRESS)."""
    ca_key, ca_cert = directory / "ca.key", directory / "ca.pem"
    key, request, cert = (
        directory / "site.key",
        directory / "site.csr",
        directory / "site.pem",
    )
    p256 = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes"]
    run(["openssl", "req", "-x509", *p256, "-keyout", ca_key, "-out", ca_cert,
         "-days", "2", "-subj", "/CN=auth cluster test CA"])  # fmt: skip
    run(["openssl", "req", *p256, "-keyout", key, "-out", request,
         "-subj", f"/CN={SITE}"])  # fmt: skip
    extensions = directory / "site.ext"
    extensions.write_text(
        f"subjectAltName=DNS:{SITE},IP:{SITE_ADDRESS}\n"
        "extendedKeyUsage=serverAuth\nbasicConstraints=CA:FALSE\n"
    )
    run(["openssl", "x509", "-req", "-in", request, "-CA", ca_cert,
         "-CAkey", ca_key, "-CAcreateserial", "-out", cert, "-days", "2",
         "-extfile", extensions])  # fmt: skip
    return ca_cert, cert, key


def spki_hash(cert):
    """base64 SHA-256 of the certificate's public key: Chromium's SPKI allow-list."""
    public = run(["openssl", "x509", "-in", cert, "-pubkey", "-noout"]).stdout
    der = subprocess.run(
        ["openssl", "pkey", "-pubin", "-outform", "der"],
        input=public.encode(), capture_output=True, check=True,
    ).stdout  # fmt: skip
    digest = subprocess.run(
        ["openssl", "dgst", "-sha256", "-binary"], input=der, capture_output=True,
        check=True,
    ).stdout  # fmt: skip
    import base64

    return base64.b64encode(digest).decode()


def generate_keys(*directories):
    """Signing key pairs the way docs/deployment.md makes them (in parallel)."""
    processes = [
        subprocess.Popen(
            [
                str(ROOT / ".venv/bin/flask"),
                "--app",
                "maintenance",
                "keys",
                "generate",
                "--algorithm",
                "ES256",
                "--out",
                str(directory),
            ],
            cwd=ROOT,
            env={**os.environ, "APP_ENV": "development"},
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
        )  # fmt: skip
        for directory in directories
    ]
    for process in processes:
        _, errors = process.communicate(timeout=120)
        assert process.returncode == 0, errors
    return [(d / "jwt-private.pem", d / "jwt-public.pem") for d in directories]


def psql(sql):
    run(["psql", "-h", POSTGRES_SOCKET, "-U", "postgres", "-v", "ON_ERROR_STOP=1",
         "-qc", sql])  # fmt: skip


def wait_for(check, timeout, what):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with suppress(Exception):
            if check():
                return
        time.sleep(0.1)
    raise RuntimeError(f"{what} not ready in {timeout}s")


def remember(process):
    """Note a process group this run started: a run killed outright (CI's timeout)
    leaves them, and the next run ends them (`end_leftovers`), those only."""
    with open(WORKDIR / "process-groups", "a") as groups:
        groups.write(f"{process.pid}\n")
    return process


def end_leftovers():
    try:
        groups = (WORKDIR / "process-groups").read_text().split()
    except FileNotFoundError:
        return
    # Only a group whose leader is still one of ours (a pid may have been reused).
    ours = (str(ROOT), str(WORKDIR), f":{REDIS_PORT}")
    for group in groups:
        with suppress(OSError):
            command = Path(f"/proc/{group}/cmdline").read_bytes().replace(b"\0", b" ")
            if any(mark.encode() in command for mark in ours):
                os.killpg(int(group), signal.SIGKILL)


def stop_group(process, timeout=STOP_TIMEOUT):
    if process is None or process.poll() is not None:
        return
    with suppress(ProcessLookupError):
        os.killpg(process.pid, signal.SIGTERM)
    try:
        process.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        with suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGKILL)
        process.wait(timeout=10)


@dataclass
class Host:
    """One app host: gunicorn from auth-server.service, in its own namespace."""

    name: str
    address: str
    workdir: Path
    settings: dict
    process: subprocess.Popen = None
    starts: int = 0
    # auth-server.socket's listening socket, made at the first start, kept by this
    # process (as by systemd) across restarts, closed when the host shuts down.
    listener: socket.socket = None

    @property
    def url(self):
        return f"http://{self.address}:8000"

    @property
    def served_by(self):
        return f"host-{self.name}"

    @property
    def log_path(self):
        return self.workdir / f"gunicorn-{self.starts}.log"

    def environment(self, unit):
        values = {**self.settings, "SERVED_BY": self.served_by}
        written = env_file(self.workdir / "auth-server.env", values)
        runtime = self.workdir / "run"
        runtime.mkdir(exist_ok=True)
        return {
            "PATH": os.environ["PATH"],
            "LANG": "C.UTF-8",
            **unit_environment(unit, runtime),
            **written,
        }

    def spawn(self, unit, argv, log_path, pass_fds=()):
        with open(log_path, "ab") as log:
            return remember(
                subprocess.Popen(
                    network.in_namespace(self.name, argv),
                    cwd=ROOT,
                    env=self.environment(unit),
                    stdout=log,
                    stderr=subprocess.STDOUT,
                    start_new_session=True,
                    pass_fds=pass_fds,
                )
            )

    def launch(self):
        self.starts += 1
        if self.listener is None:
            address, port, backlog = unit_listen_stream("auth-server.socket")
            self.listener = network.listening_socket(self.name, address, port, backlog)
        [argv] = unit_exec_start("auth-server.service")
        self.process = self.spawn(
            "auth-server.service",
            network.with_socket(self.listener, argv),
            self.log_path,
            pass_fds=(self.listener.fileno(),),
        )

    def wait_serving(self):
        wait_for(self.serving, START_TIMEOUT, f"host {self.name}")

    def start(self):
        self.launch()
        self.wait_serving()

    def serving(self):
        if self.process.poll() is not None:
            raise AssertionError(self.log_path.read_text()[-3000:])
        return httpx.get(f"{self.url}/health", timeout=2).status_code == 200

    def stop(self):
        """systemctl stop: SIGTERM, gunicorn's graceful stop."""
        stop_group(self.process)

    def shut_down(self):
        """systemctl stop auth-server.service auth-server.socket."""
        self.stop()
        if self.listener is not None:
            self.listener.close()
            self.listener = None

    def restart(self, **changes):
        """systemctl restart (of the service: its socket stays), with the env file
        changed (`changes`)."""
        self.settings.update(changes)
        self.stop()
        self.start()

    def logs(self):
        return "".join(
            path.read_text(errors="replace")
            for path in sorted(self.workdir.glob("gunicorn-*.log"))
        )


@dataclass
class Cluster:
    workdir: Path
    ca: Path
    spki: str
    hosts: dict
    keys: dict
    metrics_token: str
    mail: object
    access_log: Path
    nginx_error_log: Path
    extra: dict = field(default_factory=dict)

    def client(self, source="127.0.78.1", **kwargs):
        """An https client of the site, connecting from `source` (its client IP)."""
        transport = httpx.HTTPTransport(
            verify=ssl.create_default_context(cafile=str(self.ca)),
            local_address=source,
            retries=0,
        )
        return httpx.Client(base_url=ORIGIN, transport=transport, timeout=60, **kwargs)

    def rolling_restart(self, **changes):
        for host in self.hosts.values():
            host.restart(**changes)


def nginx_config(workdir, cert, key, spa_dir):
    health = "max_fails=1 fail_timeout=5s"
    site = nginx_site(
        {
            "app host A": f"    server {network.HOSTS['a']}:8000 {health};",
            "app host B": f"    server {network.HOSTS['b']}:8000 {health};",
            "plain http listener": f"    listen {SITE_ADDRESS}:80;",
            "https listener": f"    listen {SITE_ADDRESS}:443 ssl http2;",
            "host name": f"    server_name {SITE};",
            "certificate": f"    ssl_certificate {cert};",
            "certificate key": f"    ssl_certificate_key {key};",
            "folder holding errors/": f"        root {ROOT / 'deploy' / 'nginx'};",
            "the SPA's files": f"        root {spa_dir};",
        }
    )  # fmt: skip
    (workdir / "auth-server.conf").write_text(site)
    for temp in ("body", "proxy", "fastcgi", "uwsgi", "scgi"):
        (workdir / "temp" / temp).mkdir(parents=True, exist_ok=True)
    main = f"""
user root;
worker_processes 1;
daemon off;
pid {workdir}/nginx.pid;
error_log {workdir}/error.log info;
events {{ worker_connections 1024; }}
http {{
    include /etc/nginx/mime.types;
    default_type application/octet-stream;
    log_format cluster '$remote_addr $server_port $status $request_method $uri '
                       'upstream=$upstream_addr xff="$http_x_forwarded_for"';
    access_log {workdir}/access.log cluster;
    client_body_temp_path {workdir}/temp/body;
    proxy_temp_path {workdir}/temp/proxy;
    fastcgi_temp_path {workdir}/temp/fastcgi;
    uwsgi_temp_path {workdir}/temp/uwsgi;
    scgi_temp_path {workdir}/temp/scgi;
    include {workdir}/auth-server.conf;
}}
"""
    (workdir / "nginx.conf").write_text(main)
    return workdir / "nginx.conf"


@contextmanager
def started(argv, log_path, **kwargs):
    with open(log_path, "ab") as log:
        process = remember(
            subprocess.Popen(
                argv,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
                **kwargs,
            )
        )
    try:
        yield process
    finally:
        stop_group(process)


def port_open(address, port):
    with socket.create_connection((address, port), timeout=1):
        return True


@pytest.fixture(scope="session")
def cluster():
    for tool in ("ip", "nginx", "openssl", "redis-server", "psql"):
        if shutil.which(tool) is None:
            skip_or_fail(f"{tool} not found: run `make cluster` (installs it as root)")
    if os.geteuid() != 0:
        skip_or_fail("the cluster test needs root (network namespaces, nginx)")
    # A folder of its own, kept after the run for its logs (the next run empties it).
    workdir = WORKDIR
    end_leftovers()
    shutil.rmtree(workdir, ignore_errors=True)
    workdir.mkdir(mode=0o755, parents=True)
    ca, cert, key = make_certificates(workdir)
    spa_dir = workdir / "www"
    shutil.copytree(ROOT / "examples" / "spa", spa_dir)
    # The SPA and the API on one site: the SPA calls /api/v1 on its own origin.
    (spa_dir / "config.js").write_text('export const API_BASE = "";\n')
    old, new = generate_keys(workdir / "keys" / "2026-11", workdir / "keys" / "2027-01")
    keys = {"old": old, "new": new}
    psql(f"DROP DATABASE IF EXISTS {DATABASE} WITH (FORCE)")
    psql(f"CREATE DATABASE {DATABASE}")
    metrics_token = secrets.token_urlsafe(32)
    from aiosmtpd.controller import Controller

    from tests.mailserver import Sink

    settings = {
        "SECRET_KEY": secrets.token_urlsafe(48),
        "DATABASE_URL": (
            f"postgresql+psycopg://postgres@/{DATABASE}?host={POSTGRES_SOCKET}"
        ),
        "RATELIMIT_STORAGE_URI": f"redis://{network.BRIDGE_ADDRESS}:{REDIS_PORT}/0",
        "RATELIMIT_FALLBACK_HOSTS": "2",
        "JWT_PRIVATE_KEY_FILE": str(keys["old"][0]),
        "JWT_ISSUER": ORIGIN,
        "FRONTEND_URL": ORIGIN,
        "CORS_ORIGINS": ORIGIN,
        "MAIL_SERVER": network.BRIDGE_ADDRESS,
        "MAIL_PORT": str(SMTP_PORT),
        "MAIL_USE_TLS": "false",
        "MAIL_USERNAME": "",
        "MAIL_PASSWORD": "",
        "MAIL_DEFAULT_SENDER": "no-reply@cluster.test",
        "MAIL_RETRY_BACKOFF_MS": "200",
        "METRICS_TOKEN": metrics_token,
        # The test's own figures: bcrypt at production's lowest cost, a short access
        # token, refreshes enough for the steady load (per client IP).
        "BCRYPT_ROUNDS": "10",
        "ACCESS_TOKEN_TTL": str(ACCESS_TOKEN_TTL),
        "RATELIMIT_REFRESH": "600 per minute",
        "GUNICORN_THREADS": "8",
    }
    with ExitStack() as stack:
        network.set_up()
        stack.callback(network.tear_down)
        stack.enter_context(
            started(
                ["redis-server", "--bind", network.BRIDGE_ADDRESS, "--port",
                 str(REDIS_PORT), "--save", "", "--appendonly", "no",
                 "--protected-mode", "no"],
                workdir / "redis.log",
            )
        )  # fmt: skip
        wait_for(lambda: port_open(network.BRIDGE_ADDRESS, REDIS_PORT), 20, "redis")
        sink = Sink()
        smtp = Controller(sink, hostname=network.BRIDGE_ADDRESS, port=SMTP_PORT)
        smtp.start()
        stack.callback(smtp.stop)
        hosts = {
            name: Host(name, address, workdir / f"host-{name}", dict(settings))
            for name, address in network.HOSTS.items()
        }
        for host in hosts.values():
            host.workdir.mkdir()
        # One release step before any host starts (docs/deployment.md).
        migrate = hosts["a"]
        run(
            network.in_namespace("a", [str(ROOT / ".venv/bin/flask"), "db", "upgrade"]),
            cwd=ROOT,
            env=migrate.environment("auth-server-purge.service"),
        )
        for host in hosts.values():
            host.launch()
            stack.callback(host.shut_down)
        for host in hosts.values():
            host.wait_serving()
        # The mail sender of its own (auth-server-mail.service) on host A.
        [mail_argv] = unit_exec_start("auth-server-mail.service")
        mail_process = migrate.spawn(
            "auth-server-mail.service", mail_argv, migrate.workdir / "mail.log"
        )
        stack.callback(stop_group, mail_process)
        config = nginx_config(workdir, cert, key, spa_dir)
        run(["nginx", "-t", "-c", str(config)])
        stack.enter_context(
            started(["nginx", "-c", str(config)], workdir / "nginx.out")
        )
        wait_for(lambda: port_open(SITE_ADDRESS, 443), 20, "nginx")
        yield Cluster(
            workdir=workdir,
            ca=ca,
            spki=spki_hash(cert),
            hosts=hosts,
            keys=keys,
            metrics_token=metrics_token,
            mail=sink,
            access_log=workdir / "access.log",
            nginx_error_log=workdir / "error.log",
            extra={"mail_process": mail_process},
        )


@pytest.fixture(scope="session", autouse=True)
def site_resolves():
    """SITE resolves to nginx for this process's clients (Chromium: its own rule)."""
    original = socket.getaddrinfo

    def getaddrinfo(host, *args, **kwargs):
        return original(SITE_ADDRESS if host == SITE else host, *args, **kwargs)

    socket.getaddrinfo = getaddrinfo
    try:
        yield
    finally:
        socket.getaddrinfo = original
