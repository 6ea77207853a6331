"""Per-request CPU cost of the hot paths, in-process, and their pyinstrument profile.

    .venv/bin/python bench/profile.py [me|refresh_bearer|refresh_cookie|login|bare]
        [--requests N] [--profile]

Builds the app as the bench serves it (APP_ENV=production, a migrated SQLite file,
JSON request logs, metrics), seeds one user, and calls the WSGI app directly, without
gunicorn or sockets. CPU time per request (time.process_time) is much steadier than
a throughput figure on a busy machine, so it is what before/after comparisons of a
change use; `--profile` adds pyinstrument's call tree (requirements-dev.txt).
Login runs at bcrypt cost 10 here: the profile is about what surrounds the hash.
"""

import argparse
import io
import os
import secrets
import sys
import tempfile
import time
from http.cookies import SimpleCookie
from pathlib import Path

BASE_DIR = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(BASE_DIR))

WORKDIR = Path(tempfile.mkdtemp(prefix="auth-profile-"))
os.environ.update(
    APP_ENV="production",
    SECRET_KEY=secrets.token_urlsafe(48),
    JWT_SECRET_KEY=secrets.token_urlsafe(48),
    DATABASE_URL=f"sqlite:///{WORKDIR / 'profile.db'}",
    # What the production guard asks for (app/guard.py), as `make bench` sets it; the
    # limits count in this one process's memory, far above what the loop sends.
    RATELIMIT_ENABLED="true",
    RATELIMIT_STORAGE_URI="memory://",
    SERVER_WORKERS="1",
    FRONTEND_URL="https://app.profile.invalid",
    MAIL_SERVER="127.0.0.1",
    METRICS_TOKEN=secrets.token_urlsafe(32),
    ALERT_NEW_DEVICE="false",
    # The lowest cost production accepts (app/guard.py); 12 would only add hash time.
    BCRYPT_ROUNDS="10",
    PROMETHEUS_MULTIPROC_DIR=str(WORKDIR / "metrics"),
)
(WORKDIR / "metrics").mkdir()  # gunicorn's on_starting makes it under gunicorn

import json  # noqa: E402

from flask_migrate import upgrade  # noqa: E402

from app import create_app  # noqa: E402
from app.auth import passwords  # noqa: E402
from app.auth.csrf import session_csrf_value  # noqa: E402
from app.auth.sessions import open_session  # noqa: E402
from app.auth.tokens import issue_tokens  # noqa: E402
from app.clock import now  # noqa: E402
from app.extensions import db  # noqa: E402
from app.models import User  # noqa: E402
from app.ratelimit import LIMITS  # noqa: E402

# Every limit on, as in production, but never biting in a loop of thousands.
os.environ.update({limit.setting: "1000000 per second" for limit in LIMITS})

PASSWORD = "profile pass phrase 1"
EMAIL = "profile@example.com"


def environ(method, path, headers=None, body=b""):
    env = {
        "REQUEST_METHOD": method,
        "SCRIPT_NAME": "",
        "PATH_INFO": path,
        "QUERY_STRING": "",
        "SERVER_NAME": "127.0.0.1",
        "SERVER_PORT": "8000",
        "SERVER_PROTOCOL": "HTTP/1.1",
        "REMOTE_ADDR": "127.0.0.1",
        "wsgi.url_scheme": "http",
        "wsgi.input": io.BytesIO(body),
        "wsgi.errors": sys.stderr,
        "wsgi.multithread": True,
        "wsgi.multiprocess": True,
        "wsgi.run_once": False,
        "wsgi.version": (1, 0),
        "HTTP_HOST": "127.0.0.1:8000",
        "HTTP_USER_AGENT": "wrk",
    }
    if body:
        env["CONTENT_LENGTH"] = str(len(body))
    for name, value in (headers or {}).items():
        key = name.upper().replace("-", "_")
        if key == "CONTENT_TYPE":
            env["CONTENT_TYPE"] = value
        else:
            env[f"HTTP_{key}"] = value
    return env


def call(app, env):
    captured = {}

    def start_response(status, headers, exc_info=None):
        captured["status"] = int(status.split()[0])
        captured["headers"] = headers

    body = b"".join(app(env, start_response))
    return captured["status"], captured["headers"], body


def setup():
    app = create_app()
    with app.app_context():
        upgrade(directory=str(BASE_DIR / "migrations"))
        stamp = now()
        user = User(
            name="Profile",
            email=EMAIL,
            password_hash=passwords.hash_password(
                PASSWORD, app.config["BCRYPT_ROUNDS"]
            ),
            created_at=stamp,
            updated_at=stamp,
            password_changed_at=stamp,
        )
        db.session.add(user)
        db.session.commit()
        bearer = open_session(user=user, transport="bearer", user_agent="", ip="")
        cookie = open_session(user=user, transport="cookie", user_agent="", ip="")
        db.session.commit()
        tokens = {"bearer": issue_tokens(bearer), "cookie": issue_tokens(cookie)}
        db.session.remove()
    return app, tokens


def scenario(name, app, tokens):
    """A function that makes one request of the scenario (and checks it is a 200)."""
    if name == "me":
        headers = {"Authorization": f"Bearer {tokens['bearer'].access_token}"}
        return lambda: call(app, environ("GET", "/api/v1/users/me", headers))
    if name == "bare":
        from bench.bare import app as bare_app

        return lambda: call(bare_app, environ("GET", "/bare"))
    if name == "refresh_bearer":
        state = {"token": tokens["bearer"].refresh_token}

        def refresh_bearer():
            headers = {"Authorization": f"Bearer {state['token']}"}
            result = call(app, environ("POST", "/api/v1/auth/refresh-token", headers))
            state["token"] = json.loads(result[2])["data"]["refreshToken"]
            return result

        return refresh_bearer
    if name == "refresh_cookie":
        cookies = {"refresh_token": tokens["cookie"].refresh_token}
        with app.app_context():
            cookies["csrf_refresh_token"] = session_csrf_value(
                tokens["cookie"].session_id
            )

        def refresh_cookie():
            headers = {
                "Cookie": "; ".join(f"{k}={v}" for k, v in cookies.items()),
                "X-CSRF-TOKEN": cookies["csrf_refresh_token"],
            }
            result = call(app, environ("POST", "/api/v1/auth/refresh-token", headers))
            for name, value in result[1]:
                if name.lower() == "set-cookie":
                    for morsel in SimpleCookie(value).values():
                        cookies[morsel.key] = morsel.value
            return result

        return refresh_cookie
    if name == "login":
        body = json.dumps({"email": EMAIL, "password": PASSWORD}).encode()
        headers = {"Content-Type": "application/json", "X-Auth-Mode": "bearer"}
        return lambda: call(
            app, environ("POST", "/api/v1/auth/login", headers, body=body)
        )
    raise SystemExit(f"unknown scenario {name!r}")


def measure(make_request, count):
    """CPU and wall microseconds per request over `count` requests."""
    cpu, wall = time.process_time(), time.perf_counter()
    for _ in range(count):
        status = make_request()[0]
        if status != 200:
            raise SystemExit(f"got {status}")
    return (
        (time.process_time() - cpu) / count * 1e6,
        (time.perf_counter() - wall) / count * 1e6,
    )


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("scenario", nargs="?", default="me")
    parser.add_argument("--requests", type=int, default=2000)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--profile", action="store_true")
    args = parser.parse_args()
    app, tokens = setup()
    make_request = scenario(args.scenario, app, tokens)
    real_stdout = sys.stdout
    # The JSON log lines are formatted as in production, then dropped.
    sys.stdout = open(os.devnull, "w")  # noqa: SIM115
    try:
        measure(make_request, min(200, args.requests))  # warm-up
        figures = [measure(make_request, args.requests) for _ in range(args.repeat)]
        report = None
        if args.profile:
            from pyinstrument import Profiler

            profiler = Profiler(interval=0.0002)
            profiler.start()
            measure(make_request, args.requests)
            profiler.stop()
            report = profiler.output_text(
                unicode=True, color=False, show_all=bool(os.environ.get("PROFILE_ALL"))
            )
    finally:
        sys.stdout.close()
        sys.stdout = real_stdout
    best_cpu = min(cpu for cpu, _ in figures)
    best_wall = min(wall for _, wall in figures)
    print(
        f"{args.scenario}: {best_cpu:.0f} µs CPU per request "
        f"(best of {args.repeat} × {args.requests}; wall {best_wall:.0f} µs)"
    )
    if report:
        print(report)


if __name__ == "__main__":
    main()
