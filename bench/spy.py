"""Where a gunicorn worker spends its CPU under load: py-spy on a live worker.

    .venv/bin/python bench/spy.py [me|bare|refresh_bearer] [--seconds 6]

Starts the server as `make bench` does, loads it with wrk, and samples one worker
with py-spy (`pip install py-spy`; needs ptrace, i.e. root or CAP_SYS_PTRACE). Prints
the share of samples per top frame group (gunicorn, Flask, the app...) and the
functions with the most samples, self and total. bench/profile.py shows the app
alone; this shows the app plus everything gunicorn does around it.
"""

import argparse
import collections
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import run  # noqa: E402  (bench/run.py)

GROUPS = (
    ("app/", "app"),
    ("bench/bare.py", "app"),
    ("gunicorn/", "gunicorn"),
    ("flask/", "flask+werkzeug"),
    ("werkzeug/", "flask+werkzeug"),
    ("sqlalchemy/", "sqlalchemy"),
    ("jwt/", "jwt"),
    ("marshmallow/", "marshmallow"),
    ("prometheus_client/", "metrics"),
    ("logging/", "logging"),
    ("concurrent/", "threads"),
    ("threading.py", "threads"),
    ("selectors.py", "gunicorn"),
    ("socket.py", "gunicorn"),
)


def group_of(frame):
    for needle, name in GROUPS:
        if needle in frame:
            return name
    return "other"


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("scenario", nargs="?", default="me")
    parser.add_argument("--seconds", type=int, default=6)
    args = parser.parse_args()
    spy = shutil.which("py-spy") or str(Path(sys.executable).parent / "py-spy")
    workdir = Path(tempfile.mkdtemp(prefix="auth-spy-"))
    out = workdir / "stacks.txt"
    try:
        with run.database(workdir) as (database_url, _):
            env = run.base_env(database_url)
            if args.scenario == "bare":
                spec, script, path, extra = "bare:app", "bare.lua", "/bare", []
                context = run.gunicorn(
                    spec, env, workdir, name="bare", pythonpath=run.BENCH_DIR
                )
            else:
                run.migrate(env)
                run.seed(env, workdir)
                spec = "wsgi:app"
                context = run.gunicorn(spec, env, workdir, name="app")
                if args.scenario == "me":
                    script, path = "users_me.lua", ""
                    extra = [workdir / "me_tokens.txt"]
                else:
                    script, path = "refresh_bearer.lua", ""
                    extra = [workdir / "bearer_chains.txt", 1]
            with context as server:
                run.settle(server)  # every worker booted
                load = run.wrk(
                    server.url + path,
                    script,
                    run.CONNECTIONS,
                    args.seconds + 3,
                    *extra,
                )
                # Every worker sampled at once (wrk's connections may not be spread
                # evenly between them).
                spies = [
                    subprocess.Popen(  # noqa: S603 (our own command line)
                        [spy, "record", "--pid", str(pid), "--duration"]
                        + [str(args.seconds), "--format", "raw", "--output"]
                        + [str(out.with_suffix(f".{pid}")), "--rate", "500"]
                        + ["--nonblocking", "--gil"],
                        stdout=subprocess.DEVNULL,
                        stderr=subprocess.DEVNULL,
                    )
                    for pid in server.worker_pids()
                ]
                for process in spies:
                    process.wait()
                run.collect(load, "load", run.CONNECTIONS)
        out.write_text("".join(part.read_text() for part in workdir.glob("stacks.*")))
        report(out)
    finally:
        shutil.rmtree(workdir, ignore_errors=True)


def report(path):
    groups = collections.Counter()
    own = collections.Counter()
    total = collections.Counter()
    samples = 0
    for line in path.read_text().splitlines():
        if not line.strip():
            continue
        stack, _, count = line.rpartition(" ")
        count = int(count)
        frames = stack.split(";")
        # Idle threads wait in the poller or for work: not CPU.
        leaf = frames[-1]
        if any(word in leaf for word in ("select (", "wait (", "_wait_for_tstate")):
            continue
        samples += count
        groups[group_of(leaf)] += count
        own[leaf] += count
        for frame in set(frames):
            total[frame] += count
    print(f"{samples} CPU samples")
    print("\nby the group of the running (leaf) frame:")
    for name, count in groups.most_common():
        print(f"  {100 * count / samples:5.1f} %  {name}")
    print("\nfunctions, self:")
    for frame, count in own.most_common(25):
        print(f"  {100 * count / samples:5.1f} %  {frame}")
    print("\nfunctions, total (self and callees):")
    for frame, count in total.most_common(40):
        print(f"  {100 * count / samples:5.1f} %  {frame}")


if __name__ == "__main__":
    main()
