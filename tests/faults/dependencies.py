"""The dependencies the fault tests start, break and mend: PostgreSQL and Redis.

Each runs on 127.0.0.1 on a port of its own, from a temporary folder, never the
machine's own servers. `stop()`/`start()` is an outage (connections refused);
`pause()`/`resume()` is a hang (SIGSTOP/SIGCONT: the kernel still accepts and
acknowledges TCP, nothing answers).
"""

import glob
import os
import pwd
import shutil
import signal
import subprocess
import tempfile
import time
from contextlib import suppress
from pathlib import Path

import psycopg
import redis

from tests.servers import free_port

START_TIMEOUT = 30


def postgres_bin(name):
    """A PostgreSQL server program (Debian's /usr/lib/postgresql/N/bin), or None."""
    found = sorted(
        glob.glob(f"/usr/lib/postgresql/*/bin/{name}"),
        key=lambda path: (
            int(Path(path).parts[4]) if Path(path).parts[4].isdigit() else 0
        ),
    )
    return found[-1] if found else shutil.which(name)


class PostgresCluster:
    """A cluster made by initdb in a temporary folder (as `postgres` when root)."""

    def __init__(self):
        self.port = free_port()
        self.initdb = postgres_bin("initdb")
        self.pg_ctl = postgres_bin("pg_ctl")
        self.directory = Path(tempfile.mkdtemp(prefix="faults-pg-"))
        self.data = self.directory / "data"
        # initdb refuses to run as root: the cluster belongs to `postgres` then.
        self.user = "postgres" if os.geteuid() == 0 else None
        if self.user:
            os.chown(self.directory, pwd.getpwnam(self.user).pw_uid, -1)
        self.paused = False

    @property
    def url(self):
        return f"postgresql+psycopg://postgres@127.0.0.1:{self.port}/postgres"

    def run(self, *command):
        prefix = ["runuser", "-u", self.user, "--"] if self.user else []
        subprocess.run([*prefix, *command], check=True, capture_output=True, timeout=60)

    def create(self):
        self.run(self.initdb, "-D", self.data, "-A", "trust", "-U", "postgres", "-N")
        return self

    def start(self):
        options = (
            f"-p {self.port} -k {self.directory} -c listen_addresses=127.0.0.1 "
            "-c fsync=off -c synchronous_commit=off -c full_page_writes=off"
        )
        log = self.directory / "server.log"
        self.run(
            self.pg_ctl, "-D", self.data, "-o", options, "-l", log,
            "-w", "-t", str(START_TIMEOUT), "start",
        )  # fmt: skip
        self.wait_until_answering()

    def stop(self):
        self.run(self.pg_ctl, "-D", self.data, "-m", "fast", "-w", "stop")

    def wait_until_answering(self):
        deadline = time.monotonic() + START_TIMEOUT
        while True:
            try:
                with psycopg.connect(
                    f"host=127.0.0.1 port={self.port} user=postgres dbname=postgres "
                    "connect_timeout=2"
                ):
                    return
            except psycopg.OperationalError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.1)

    def processes(self):
        """The postmaster, then every process it started (each backend)."""
        postmaster = int((self.data / "postmaster.pid").read_text().split()[0])
        children = []
        for task in Path(f"/proc/{postmaster}/task").iterdir():
            children += [int(pid) for pid in (task / "children").read_text().split()]
        return [postmaster, *children]

    def pause(self):
        """Freeze the whole server: no new backend, no answer on open connections."""
        for pid in self.processes():  # the postmaster first: it forks no more
            os.kill(pid, signal.SIGSTOP)
        self.paused = True

    def resume(self):
        for pid in reversed(self.processes()):
            with suppress(ProcessLookupError):
                os.kill(pid, signal.SIGCONT)
        self.paused = False

    def destroy(self):
        if self.paused:
            self.resume()
        with suppress(subprocess.SubprocessError, OSError):
            self.run(self.pg_ctl, "-D", self.data, "-m", "immediate", "-w", "stop")
        shutil.rmtree(self.directory, ignore_errors=True)


class RedisServer:
    """`redis-server` on a port of its own, without persistence."""

    def __init__(self):
        self.port = free_port()
        self.process = None
        self.directory = Path(tempfile.mkdtemp(prefix="faults-redis-"))

    @property
    def url(self):
        return f"redis://127.0.0.1:{self.port}"

    def client(self):
        return redis.Redis(port=self.port, socket_timeout=2, socket_connect_timeout=2)

    def start(self):
        self.process = subprocess.Popen(
            [
                shutil.which("redis-server"), "--port", str(self.port),
                "--bind", "127.0.0.1", "--save", "", "--appendonly", "no",
                "--dir", str(self.directory),
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )  # fmt: skip
        deadline = time.monotonic() + START_TIMEOUT
        client = self.client()
        while True:
            try:
                client.ping()
                return
            except redis.RedisError:
                if time.monotonic() > deadline or self.process.poll() is not None:
                    raise
                time.sleep(0.05)
            finally:
                client.close()

    def stop(self):
        self.process.terminate()
        self.process.wait(timeout=START_TIMEOUT)

    def pause(self):
        self.process.send_signal(signal.SIGSTOP)

    def resume(self):
        self.process.send_signal(signal.SIGCONT)

    def destroy(self):
        if self.process and self.process.poll() is None:
            self.resume()
            self.process.kill()
            self.process.wait(timeout=START_TIMEOUT)
        shutil.rmtree(self.directory, ignore_errors=True)
