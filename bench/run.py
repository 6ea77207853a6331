"""`make bench`: the server under gunicorn, loaded by wrk, figures against references.

Starts gunicorn with the project's gunicorn.conf.py on a free 127.0.0.1 port, seeds
users (bench/seed.py), runs each scenario with wrk for a bounded time, measures the
two references (a bare Flask endpoint under the same gunicorn settings, bcrypt's hash
rate on all cores), and writes a markdown table to bench/results/. Every server it
starts is stopped, whatever happens. Settings: see bench/README.md.
"""

import http.client
import json
import multiprocessing
import os
import platform
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import verifier as verifier_bench  # bench/verifier.py (this folder is on sys.path)

BENCH_DIR = Path(__file__).resolve().parent
BASE_DIR = BENCH_DIR.parent
LUA_DIR = BENCH_DIR / "lua"
PYTHON = sys.executable
READY_TIMEOUT = 60


def setting(name, default):
    value = os.environ.get(name)
    return type(default)(value) if value not in (None, "") else default


DURATION = setting("BENCH_DURATION", 10)
WARMUP = setting("BENCH_WARMUP", 3)
CONNECTIONS = setting("BENCH_CONNECTIONS", 16)
LOGIN_CONNECTIONS = setting("BENCH_LOGIN_CONNECTIONS", 16)
FLOOD_ME_CONNECTIONS = setting("BENCH_FLOOD_ME_CONNECTIONS", 4)
# More login clients than a worker has threads: the bcrypt gate must shed, not pile up.
FLOOD_CONNECTIONS = setting("BENCH_FLOOD_CONNECTIONS", 32)
HEALTH_CONNECTIONS = 1  # a load balancer's probe
WRK_THREADS = setting("BENCH_WRK_THREADS", 1)
USERS = setting("BENCH_USERS", 1000)
COOKIE_POOL = setting("BENCH_COOKIE_POOL", 20000)
BCRYPT_SECONDS = setting("BENCH_BCRYPT_SECONDS", 5.0)
BCRYPT_ROUNDS = setting("BENCH_BCRYPT_ROUNDS", 12)
RESULTS_DIR = Path(setting("BENCH_RESULTS_DIR", str(BENCH_DIR / "results")))
# A comma-separated subset, for quick iterations (the table then has gaps).
SCENARIOS = set(
    setting(
        "BENCH_SCENARIOS",
        "bare,me,refresh_bearer,refresh_cookie,login,flood,verifier",
    ).split(",")
)

TARGETS = {
    "me_vs_bare": 0.50,
    "refresh_vs_bare": 0.25,
    "login_vs_bcrypt": 0.95,
    "flood_p99_factor": 5.0,
    "rss_mb": 60.0,
}


@dataclass
class Result:
    name: str
    connections: int
    requests: int = 0
    seconds: float = 0.0
    non2xx: int = 0
    socket_errors: int = 0
    exhausted: int = 0
    # Logins shed with 503 `busy` (the bcrypt queue was full): by design, not errors;
    # the client waited Retry-After. They are not counted in the rate.
    busy: int = 0
    p50_ms: float = 0.0
    p99_ms: float = 0.0
    max_ms: float = 0.0
    # Server CPU (all workers, user + system) per request: steadier than req/s when
    # other processes share the machine.
    cpu_us: float | None = None

    @property
    def rate(self):
        served = self.requests - self.busy
        return served / self.seconds if self.seconds else 0.0


@dataclass
class Server:
    url: str
    process: subprocess.Popen
    log_path: Path
    cold_start: float = 0.0
    extra: dict = field(default_factory=dict)

    def worker_pids(self):
        """The gunicorn workers: the children of the master process."""
        pids = []
        for task in Path(f"/proc/{self.process.pid}/task").iterdir():
            children = (task / "children").read_text().split()
            pids.extend(int(pid) for pid in children)
        return pids


def require_wrk():
    if shutil.which("wrk") is None:
        sys.exit(
            "make bench needs wrk (Debian's package): apt-get install -y wrk\n"
            "(on other systems: the package manager's wrk, or build it from source)"
        )


def free_port():
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def unbiting_limits():
    """Every rate limit on, as in production, but far above what the bench sends
    (hundreds of logins a second from one IP, which production rightly refuses)."""
    sys.path.insert(0, str(BASE_DIR))
    from app.ratelimit import LIMITS

    return {limit.setting: "1000000 per second" for limit in LIMITS}


def base_env(database_url, redis_url):
    """The server's environment: production settings the guard accepts."""
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(
            ("PROMETHEUS_", "RATELIMIT_", "METRICS_", "CORS_", "JWT_", "DATABASE_")
        )
        and key not in {"BIND", "PORT", "HOST", "SECRET_KEY", "APP_ENV"}
    }
    env.update(
        APP_ENV="production",
        SECRET_KEY=secrets.token_urlsafe(48),
        JWT_SECRET_KEY=secrets.token_urlsafe(48),
        DATABASE_URL=database_url,
        BCRYPT_ROUNDS=str(BCRYPT_ROUNDS),
        # The production guard's requirements, met rather than switched off: limits
        # on (in Redis, shared by the workers) but never biting, https links, a mail
        # server (nothing listens there: the bench sends no mail).
        RATELIMIT_ENABLED="true",
        RATELIMIT_STORAGE_URI=redis_url,
        **unbiting_limits(),
        FRONTEND_URL="https://app.bench.invalid",
        MAIL_SERVER="127.0.0.1",
        MAIL_PORT=str(free_port()),
        # Production serves /metrics (and counts requests for it) only with a token.
        METRICS_TOKEN=secrets.token_urlsafe(32),
        # The bench's clients keep no device token: every login would be a "new
        # device" and queue an alert mail, which is not the login path measured.
        ALERT_NEW_DEVICE="false",
        LOG_LEVEL=os.environ.get("LOG_LEVEL", "INFO"),
        PYTHONDONTWRITEBYTECODE="1",
    )
    return env


def get_status(url, path, timeout=1.0):
    host, port = url.removeprefix("http://").split(":")
    connection = http.client.HTTPConnection(host, int(port), timeout=timeout)
    try:
        connection.request("GET", path)
        return connection.getresponse().status
    finally:
        connection.close()


def stop(process):
    if process.poll() is not None:
        return
    try:
        os.killpg(process.pid, signal.SIGTERM)
        process.wait(timeout=20)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        process.wait(timeout=5)
    except ProcessLookupError:
        pass


@contextmanager
def gunicorn(app_spec, env, workdir, *, name, pythonpath=None):
    """Run gunicorn (gunicorn.conf.py) on a free port; always stopped on exit.

    The cold start is the time from exec to the first 200 on /health.
    """
    port = free_port()
    log_path = workdir / f"{name}.log"
    command = [PYTHON, "-m", "gunicorn", "-c", "gunicorn.conf.py"]
    # wrk opens its connections in one burst and keeps them: whichever worker wakes
    # first would accept them all and the other idle. With SO_REUSEPORT each worker
    # listens on its own socket and the kernel spreads the connections. (Behind
    # nginx every request comes on a new connection, which spreads by itself.)
    command += ["--no-control-socket", "--reuse-port"]
    if pythonpath:
        command += ["--pythonpath", str(pythonpath)]
    command.append(app_spec)
    with open(log_path, "wb") as log_file:
        started = time.monotonic()
        process = subprocess.Popen(  # noqa: S603 (our own command line)
            command,
            cwd=BASE_DIR,
            env={
                **env,
                "BIND": f"127.0.0.1:{port}",
                # Inside the work directory, so even a killed server leaves nothing.
                "PROMETHEUS_MULTIPROC_DIR": str(workdir / f"metrics-{name}"),
            },
            stdout=log_file,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    server = Server(url=f"http://127.0.0.1:{port}", process=process, log_path=log_path)
    try:
        deadline = started + READY_TIMEOUT
        while True:
            if process.poll() is not None or time.monotonic() > deadline:
                tail = log_path.read_text(errors="replace")[-3000:]
                raise RuntimeError(f"gunicorn ({name}) did not start:\n{tail}")
            try:
                if get_status(server.url, "/health") == 200:
                    break
            except OSError:
                pass
            time.sleep(0.01)
        server.cold_start = time.monotonic() - started
        yield server
    finally:
        stop(process)


def wrk(url, script, connections, seconds, *args, threads=None):
    """Start wrk (returns the process); `collect` reads its summary."""
    threads = min(threads or WRK_THREADS, connections)
    command = [
        "wrk",
        f"-t{threads}",
        f"-c{connections}",
        f"-d{seconds}s",
        "--timeout",
        "30s",
        "-s",
        str(LUA_DIR / script),
        url,
        "--",
        *[str(arg) for arg in args],
    ]
    return subprocess.Popen(  # noqa: S603 (our own command line)
        command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True
    )


def collect(process, name, connections):
    output, _ = process.communicate(timeout=DURATION + 120)
    for line in output.splitlines():
        if line.startswith("BENCH_JSON "):
            data = json.loads(line.removeprefix("BENCH_JSON "))
            break
    else:
        raise RuntimeError(f"wrk ({name}) printed no summary:\n{output[-3000:]}")
    return Result(
        name=name,
        connections=connections,
        requests=data["requests"],
        seconds=data["duration_us"] / 1e6,
        non2xx=data["non2xx"],
        socket_errors=data["connect_errors"]
        + data["read_errors"]
        + data["write_errors"]
        + data["timeouts"],
        exhausted=data["exhausted"],
        busy=data.get("busy", 0),
        p50_ms=data["p50_us"] / 1000,
        p99_ms=data["p99_us"] / 1000,
        max_ms=data["max_us"] / 1000,
    )


def cpu_seconds(pids):
    """User + system CPU time of these processes so far."""
    total = 0
    for pid in pids:
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        total += int(fields[11]) + int(fields[12])  # utime, stime (clock ticks)
    return total / os.sysconf("SC_CLK_TCK")


def settle(server, limit=120):
    """Wait until the workers have worked off what the last scenario left queued.

    wrk stops after its duration, but requests it had sent (logins above all) are
    still queued in the workers; the next scenario would wait behind them. Done when
    the workers use under 5 % of a core over half a second.
    """
    deadline = time.monotonic() + limit
    pids = server.worker_pids()
    before = cpu_seconds(pids)
    while time.monotonic() < deadline:
        time.sleep(0.5)
        after = cpu_seconds(pids)
        if after - before < 0.025:
            return
        before = after


def run_wrk(server, url, script, name, connections, *args, seconds=None):
    seconds = seconds or DURATION
    settle(server)
    print(f"  {name}: {connections} connections, {seconds} s", flush=True)
    pids = server.worker_pids()
    cpu_before = cpu_seconds(pids)
    result = collect(wrk(url, script, connections, seconds, *args), name, connections)
    settle(server)
    if result.requests:
        result.cpu_us = (cpu_seconds(pids) - cpu_before) / result.requests * 1e6
    print(
        f"    {result.rate:.1f} req/s, p50 {result.p50_ms:.2f} ms, "
        f"p99 {result.p99_ms:.2f} ms, non-2xx {result.non2xx}, "
        f"server CPU {result.cpu_us or 0:.0f} µs/request",
        flush=True,
    )
    return result


def rss_mb(pid):
    """Resident set size of a process, in MB (VmRSS)."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


def pss_mb(pid):
    """Proportional set size (shared pages split between sharers), in MB."""
    try:
        text = Path(f"/proc/{pid}/smaps_rollup").read_text()
    except OSError:
        return None
    for line in text.splitlines():
        if line.startswith("Pss:"):
            return int(line.split()[1]) / 1024
    return None


def _bcrypt_loop(args):
    seconds, rounds = args
    import bcrypt

    # The same call a login makes: checkpw of a 44-byte pre-hash against a hash.
    password = b"x" * 44
    hashed = bcrypt.hashpw(password, bcrypt.gensalt(rounds))
    count = 0
    started = time.perf_counter()
    while time.perf_counter() - started < seconds:
        bcrypt.checkpw(password, hashed)
        count += 1
    return count / (time.perf_counter() - started)


def bcrypt_limit(processes, seconds, rounds):
    """Hashes per second at `rounds`, one process per core, all cores at once."""
    with multiprocessing.get_context("spawn").Pool(processes) as pool:
        return sum(pool.map(_bcrypt_loop, [(seconds, rounds)] * processes))


def bcrypt_reference():
    print(f"  bcrypt limit: {os.cpu_count()} processes, {BCRYPT_SECONDS} s", flush=True)
    rate = bcrypt_limit(os.cpu_count(), BCRYPT_SECONDS, BCRYPT_ROUNDS)
    print(f"    {rate:.2f} hashes/s", flush=True)
    return rate


def loadavg():
    return Path("/proc/loadavg").read_text().split()[0]


def machine():
    model = "unknown CPU"
    for line in Path("/proc/cpuinfo").read_text().splitlines():
        if line.startswith("model name"):
            model = line.split(":", 1)[1].strip()
            break
    memory = "?"
    for line in Path("/proc/meminfo").read_text().splitlines():
        if line.startswith("MemTotal:"):
            memory = f"{int(line.split()[1]) / 1024 / 1024:.0f} GiB"
    return (
        f"{model}, {os.cpu_count()} cores, {memory}, Linux {platform.release()}, "
        f"Python {platform.python_version()}"
    )


@contextmanager
def redis_storage(workdir):
    """BENCH_REDIS_URL, or a redis-server of the bench's own on a free port."""
    url = os.environ.get("BENCH_REDIS_URL")
    if url:
        yield url, "Redis (BENCH_REDIS_URL)"
        return
    server = shutil.which("redis-server")
    if server is None:
        raise SystemExit("make bench needs redis-server (apt-get install redis-server)")
    port = free_port()
    process = subprocess.Popen(  # noqa: S603 (our own command line)
        [server, "--port", str(port), "--bind", "127.0.0.1", "--save", ""]
        + ["--appendonly", "no", "--dir", str(workdir)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        deadline = time.monotonic() + 10
        while True:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
                break
            except OSError:
                if time.monotonic() > deadline:
                    raise RuntimeError("redis-server did not start") from None
                time.sleep(0.05)
        yield f"redis://127.0.0.1:{port}", "Redis (a redis-server of the bench's own)"
    finally:
        process.terminate()
        process.wait(timeout=10)


@contextmanager
def database(workdir):
    """A fresh database: an SQLite file, or a new schema in BENCH_DATABASE_URL."""
    url = os.environ.get("BENCH_DATABASE_URL")
    if not url:
        yield f"sqlite:///{workdir / 'bench.db'}", "SQLite (WAL) on a temporary file"
        return
    from sqlalchemy import create_engine, text
    from sqlalchemy.engine import make_url

    schema = f"bench_{secrets.token_hex(6)}"
    engine = create_engine(url, isolation_level="AUTOCOMMIT")
    with engine.connect() as connection:
        connection.execute(text(f'CREATE SCHEMA "{schema}"'))
    scoped = make_url(url).update_query_dict({"options": f"-csearch_path={schema}"})
    try:
        yield (
            scoped.render_as_string(hide_password=False),
            (f"PostgreSQL (schema {schema}, dropped after)"),
        )
    finally:
        with engine.connect() as connection:
            connection.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        engine.dispose()


def migrate(env):
    subprocess.run(  # noqa: S603 (our own command line)
        [PYTHON, "-m", "flask", "--app", "wsgi", "db", "upgrade"],
        cwd=BASE_DIR,
        env=env,
        check=True,
        capture_output=True,
        timeout=120,
    )


def seed(env, workdir):
    completed = subprocess.run(  # noqa: S603 (our own command line)
        [
            PYTHON,
            str(BENCH_DIR / "seed.py"),
            "--out",
            str(workdir),
            "--users",
            str(USERS),
            "--cookie-pool",
            str(COOKIE_POOL if "refresh_cookie" in SCENARIOS else 0),
        ],
        cwd=BASE_DIR,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
    )
    if completed.returncode != 0:
        raise RuntimeError(f"seeding failed:\n{completed.stdout}{completed.stderr}")
    print("  " + completed.stdout.strip().splitlines()[-1], flush=True)


def mean_result(first, second):
    """The bare reference as the mean of its two runs (before and after the app's)."""
    merged = Result(name=first.name, connections=first.connections)
    merged.requests = first.requests + second.requests
    merged.seconds = first.seconds + second.seconds
    merged.non2xx = first.non2xx + second.non2xx
    merged.socket_errors = first.socket_errors + second.socket_errors
    merged.p50_ms = (first.p50_ms + second.p50_ms) / 2
    merged.p99_ms = (first.p99_ms + second.p99_ms) / 2
    merged.max_ms = max(first.max_ms, second.max_ms)
    if first.cpu_us and second.cpu_us:
        merged.cpu_us = (first.cpu_us + second.cpu_us) / 2
    return merged


def bench_app(env, workdir, figures, bare=None):
    """The app's scenarios; the bare reference (if given) runs before and after the
    cheap ones, so both see the same machine (other tenants of a VM come and go)."""
    tokens = workdir / "me_tokens.txt"
    with gunicorn("wsgi:app", env, workdir, name="app") as srv:
        figures["cold_start"] = srv.cold_start
        url = srv.url
        collect(
            wrk(url, "users_me.lua", CONNECTIONS, WARMUP, tokens),
            "warm-up",
            CONNECTIONS,
        )
        bare_url = f"{bare.url}/bare" if bare else None
        if bare:
            collect(wrk(bare_url, "bare.lua", CONNECTIONS, WARMUP), "warm-up", 0)
            first = run_wrk(bare, bare_url, "bare.lua", "bare endpoint", CONNECTIONS)
        if "me" in SCENARIOS:
            figures["me"] = run_wrk(
                srv, url, "users_me.lua", "GET /users/me", CONNECTIONS, tokens
            )
        if "refresh_bearer" in SCENARIOS:
            figures["refresh_bearer"] = run_wrk(
                srv,
                url,
                "refresh_bearer.lua",
                "refresh (bearer)",
                CONNECTIONS,
                workdir / "bearer_chains.txt",
                min(WRK_THREADS, CONNECTIONS),
            )
        if "refresh_cookie" in SCENARIOS:
            figures["refresh_cookie"] = run_wrk(
                srv,
                url,
                "refresh_cookie.lua",
                "refresh (cookie)",
                CONNECTIONS,
                workdir / "cookie_pool.txt",
                min(WRK_THREADS, CONNECTIONS),
            )
        if bare:
            second = run_wrk(bare, bare_url, "bare.lua", "bare endpoint", CONNECTIONS)
            figures["bare_runs"] = (first.rate, second.rate)
            figures["bare"] = mean_result(first, second)
        logins = workdir / "login_users.txt"
        if "login" in SCENARIOS:
            figures["login"] = run_wrk(
                srv, url, "login.lua", "login (cost 12)", LOGIN_CONNECTIONS, logins
            )
        if "flood" in SCENARIOS:
            # The references are the same cheap traffic without the logins: what the
            # flood adds is what it measures. (/health alone on an idle server
            # would also count /users/me's load on the two cores against it.)
            figures["me_alone"], figures["health_alone"], _ = cheap_traffic(
                srv, url, tokens, "no logins"
            )
            figures["me_flood"], figures["health_flood"], figures["flood"] = (
                cheap_traffic(srv, url, tokens, "under login flood", logins)
            )
        settle(srv)
        figures["rss"] = {pid: rss_mb(pid) for pid in srv.worker_pids()}
        figures["pss"] = {pid: pss_mb(pid) for pid in srv.worker_pids()}
        figures["server_log_bytes"] = srv.log_path.stat().st_size


def cheap_traffic(srv, url, tokens, label, logins=None):
    """GET /users/me and GET /health at once (and the login flood, with `logins`)."""
    flooded = f"login flood ({FLOOD_CONNECTIONS} connections) beside " if logins else ""
    print(
        f"  {flooded}GET /users/me ({FLOOD_ME_CONNECTIONS} connections) and GET "
        f"/health ({HEALTH_CONNECTIONS}), {label}, {DURATION} s",
        flush=True,
    )
    settle(srv)
    flood = logins and wrk(url, "login.lua", FLOOD_CONNECTIONS, DURATION, logins)
    me = wrk(url, "users_me.lua", FLOOD_ME_CONNECTIONS, DURATION, tokens)
    health = wrk(url, "bare.lua", HEALTH_CONNECTIONS, DURATION, "/health")
    health_name = "GET /health " + ("beside it, " if not logins else "") + label
    return (
        collect(me, f"GET /users/me, {label}", FLOOD_ME_CONNECTIONS),
        collect(health, health_name, HEALTH_CONNECTIONS),
        logins and collect(flood, "login flood (beside /users/me)", FLOOD_CONNECTIONS),
    )


def fmt_rate(value):
    return f"{value:,.0f}" if value >= 100 else f"{value:,.1f}"


def cpu_text(result):
    return f"{result.cpu_us:,.0f}" if result.cpu_us else ""


def ratio_text(value, reference, label):
    if not value or not reference:
        return "—"
    return f"{100 * value / reference:.0f} % of {label}"


def verdict(ok):
    return "**holds**" if ok else "**misses**"


def render(figures, info):
    bare = figures.get("bare")
    bare_rate = bare.rate if bare else 0.0
    limit = figures.get("bcrypt")
    rows = []

    def row(result, reference_text):
        rows.append(
            f"| {result.name} | {result.connections} | {fmt_rate(result.rate)} | "
            f"{result.p50_ms:.1f} | {result.p99_ms:.1f} | "
            f"{result.non2xx + result.socket_errors}"
            f"{f' (+{result.busy} busy)' if result.busy else ''} | {reference_text} | "
            f"{cpu_text(result)} |"
        )

    if bare:
        runs = figures.get("bare_runs")
        spread = (
            f"reference (mean of {runs[0]:,.0f} before and {runs[1]:,.0f} after)"
            if runs
            else "reference"
        )
        row(bare, spread)
    for key in ("me", "refresh_bearer", "refresh_cookie"):
        if key in figures:
            row(figures[key], ratio_text(figures[key].rate, bare_rate, "bare"))
    if limit:
        rows.append(
            f"| bcrypt limit, cost {BCRYPT_ROUNDS} (reference) | "
            f"{os.cpu_count()} processes | {limit:.2f} | | | | reference"
            + (
                f" (mean of {figures['bcrypt_runs'][0]:.2f} before and "
                f"{figures['bcrypt_runs'][1]:.2f} after)"
                if "bcrypt_runs" in figures
                else ""
            )
            + " | |"
        )
    if "login" in figures:
        row(figures["login"], ratio_text(figures["login"].rate, limit, "bcrypt"))
    if "me_alone" in figures:
        row(figures["me_alone"], "p99 reference for the flood")
    if "health_flood" in figures:
        row(figures["health_alone"], "p99 reference for the flood")
        alone = figures["health_alone"].p99_ms
        factor = figures["health_flood"].p99_ms / alone if alone else 0
        row(figures["health_flood"], f"p99 {factor:.1f}× without the logins")
    if "me_flood" in figures:
        alone = figures["me_alone"].p99_ms
        factor = figures["me_flood"].p99_ms / alone if alone else 0
        row(figures["me_flood"], f"p99 {factor:.1f}× without the logins")
        row(figures["flood"], ratio_text(figures["flood"].rate, limit, "bcrypt"))

    rss = figures.get("rss", {})
    pss = figures.get("pss", {})
    worker_mem = ", ".join(
        f"{rss[pid]:.1f} MB (PSS {pss[pid]:.1f})"
        if pss.get(pid) is not None
        else f"{rss[pid]:.1f} MB"
        for pid in sorted(rss)
    )
    bare_mem = ", ".join(f"{value:.1f}" for value in figures.get("bare_rss", []))

    checks = []

    def check(label, value_text, goal_text, ok):
        checks.append(f"| {label} | {value_text} | {goal_text} | {verdict(ok)} |")

    def by_cpu(result):
        # The same ratio from server CPU per request (bare's / this one's).
        if not (bare and bare.cpu_us and result.cpu_us):
            return ""
        return f" (by server CPU per request: {bare.cpu_us / result.cpu_us:.0%})"

    if bare_rate and "me" in figures:
        share = figures["me"].rate / bare_rate
        text = f"{share:.0%}{by_cpu(figures['me'])}"
        check("/users/me vs bare", text, "≥ 50 %", share >= 0.50)
    for key, label in (("refresh_bearer", "bearer"), ("refresh_cookie", "cookie")):
        if bare_rate and key in figures:
            share = figures[key].rate / bare_rate
            text = f"{share:.0%}{by_cpu(figures[key])}"
            check(f"refresh ({label}) vs bare", text, "≥ 25 %", share >= 0.25)
    if limit and "login" in figures:
        share = figures["login"].rate / limit
        check("login vs bcrypt limit", f"{share:.0%}", "≥ 95 %", share >= 0.95)
    if "me_flood" in figures and figures["me_alone"].p99_ms:
        factor = figures["me_flood"].p99_ms / figures["me_alone"].p99_ms
        check(
            "/users/me p99 under login flood",
            f"{factor:.1f}× ({figures['me_flood'].p99_ms:.1f} ms vs "
            f"{figures['me_alone'].p99_ms:.1f} ms)",
            "≤ 5×",
            factor <= 5.0,
        )
    if "health_flood" in figures and figures["health_alone"].p99_ms:
        factor = figures["health_flood"].p99_ms / figures["health_alone"].p99_ms
        check(
            "/health p99 under login flood",
            f"{factor:.1f}× ({figures['health_flood'].p99_ms:.1f} ms vs "
            f"{figures['health_alone'].p99_ms:.1f} ms)",
            "≤ 5×",
            factor <= 5.0,
        )
    results = [v for v in figures.values() if isinstance(v, Result)]
    failures = sum(r.non2xx + r.socket_errors for r in results)
    exhausted = sum(r.exhausted for r in results)
    check(
        "non-2xx and socket errors",
        str(failures) + (f" (token pool ran dry {exhausted}×)" if exhausted else ""),
        "0",
        failures == 0 and exhausted == 0,
    )
    if rss:
        top = max(rss.values())
        check("worker RSS (max)", f"{top:.1f} MB", "≤ 60 MB", top <= 60.0)
    if "verifier" in figures:
        verified = figures["verifier"]
        share = verified["verifier_rate"] / verified["pyjwt_rate"]
        goal = verifier_bench.GOAL
        check(
            "verifier checks vs PyJWT decode",
            f"{share:.0%}",
            f"≥ {goal:.0%}",
            share >= goal,
        )

    lines = [
        f"## Benchmark run {info['stamp']}",
        "",
        f"- Machine: {info['machine']}; 1-minute load average "
        f"{info['load_before']} before, {info['load_after']} after.",
        f"- Server: gunicorn {info['gunicorn']} (gunicorn.conf.py), "
        f"{info['workers']} workers × {info['threads']} threads (gthread), "
        f"APP_ENV=production, {info['database']}, rate-limit storage "
        f"{info['ratelimit_storage']}, rate limits on (set far above the load), "
        f"BCRYPT_ROUNDS={BCRYPT_ROUNDS}, JSON request log and metrics on.",
        f"- Load: {info['wrk']}, {WRK_THREADS} thread(s) per process, "
        f"{DURATION} s per scenario after a {WARMUP} s warm-up, keep-alive, "
        f"{USERS} users' tokens for /users/me.",
        "",
        "| scenario | connections | req/s | p50 ms | p99 ms | non-2xx | ratio | "
        "server CPU µs/req |",
        "| --- | ---: | ---: | ---: | ---: | ---: | --- | ---: |",
        *rows,
        "",
        f"Worker memory after the run: {worker_mem or '—'} "
        f"(bare app's workers: {bare_mem or '—'} MB). Cold start (gunicorn exec to "
        f"first 200 on /health): app {figures.get('cold_start', 0):.2f} s, bare "
        f"{figures.get('bare_cold_start', 0):.2f} s.",
        "",
        "| target | measured | goal | |",
        "| --- | --- | --- | --- |",
        *checks,
        "",
    ]
    if "verifier" in figures:
        lines += verifier_bench.render(figures["verifier"])
    return "\n".join(lines)


def gunicorn_settings(env, workdir):
    """workers and threads as gunicorn.conf.py resolves them from `env`."""
    probe = (
        "import runpy; c = runpy.run_path('gunicorn.conf.py'); "
        "import gunicorn; print(c['workers'], c['threads'], gunicorn.__version__)"
    )
    output = subprocess.run(  # noqa: S603 (our own command line)
        [PYTHON, "-c", probe],
        cwd=BASE_DIR,
        env={**env, "PROMETHEUS_MULTIPROC_DIR": str(workdir / "metrics-probe")},
        capture_output=True,
        text=True,
        check=True,
    ).stdout.split()
    return output[0], output[1], output[2]


def wrk_version():
    command = [shutil.which("wrk"), "-v"]
    output = subprocess.run(command, capture_output=True, text=True).stdout  # noqa: S603
    return output.split(" [")[0].strip() or "wrk"


def main():
    require_wrk()
    RESULTS_DIR.mkdir(parents=True, exist_ok=True)
    stamp = datetime.now(UTC).strftime("%Y-%m-%dT%H-%M-%SZ")
    info = {"stamp": stamp, "machine": machine(), "load_before": loadavg()}
    figures = {}
    workdir = Path(tempfile.mkdtemp(prefix="auth-bench-"))
    # SIGTERM/SIGINT unwind through the context managers, which stop the servers.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    wants_bcrypt = "login" in SCENARIOS or "flood" in SCENARIOS
    print(f"bench: {info['machine']}; load {info['load_before']}", flush=True)
    try:
        # bcrypt's rate before the servers start and after they stop (the mean is
        # the reference): a neighbour on the VM can move it within minutes.
        first_bcrypt = bcrypt_reference() if wants_bcrypt else 0.0
        with (
            database(workdir) as (database_url, database_text),
            redis_storage(workdir) as (redis_url, _),
        ):
            env = base_env(database_url, redis_url)
            workers, threads, version = gunicorn_settings(env, workdir)
            info.update(
                database=database_text,
                workers=workers,
                threads=threads,
                gunicorn=version,
                wrk=wrk_version(),
                ratelimit_storage=env["RATELIMIT_STORAGE_URI"].split("://")[0],
            )
            print(f"  {workers} workers × {threads} threads, {database_text}")
            print("  migrating and seeding", flush=True)
            migrate(env)
            seed(env, workdir)
            if "bare" in SCENARIOS:
                with gunicorn(
                    "bare:app", env, workdir, name="bare", pythonpath=BENCH_DIR
                ) as bare:
                    figures["bare_cold_start"] = bare.cold_start
                    bench_app(env, workdir, figures, bare)
                    figures["bare_rss"] = [rss_mb(pid) for pid in bare.worker_pids()]
            else:
                bench_app(env, workdir, figures)
        if "verifier" in SCENARIOS:
            print("  verifier package: checks/s and downstream services", flush=True)
            figures["verifier"] = verifier_bench.measure(workdir)
        if wants_bcrypt:
            second = bcrypt_reference()
            figures["bcrypt_runs"] = (first_bcrypt, second)
            figures["bcrypt"] = (first_bcrypt + second) / 2
    finally:
        shutil.rmtree(workdir, ignore_errors=True)
    info["load_after"] = loadavg()
    table = render(figures, info)
    (RESULTS_DIR / f"{stamp}.md").write_text(table)
    (RESULTS_DIR / "latest.md").write_text(table)
    print()
    print(table)
    print(f"written to {RESULTS_DIR / (stamp + '.md')} and latest.md")


if __name__ == "__main__":
    main()
