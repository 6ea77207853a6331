"""Seed the benchmark database through the app's own services and write token files.

Run by bench/run.py with the server's environment (same DATABASE_URL and secrets), so
the tokens minted here are the ones the server accepts. Writes into OUT_DIR:

- `me_tokens.txt`: one access token per line, one per user (`--users` users, each with
  one bearer session): GET /users/me cycles through them.
- `bearer_chains.txt`: refresh tokens of `--bearer-chains` bearer sessions; each is the
  head of a rotation chain the Lua script follows.
- `cookie_pool.txt`: `refresh_token csrf` pairs of `--cookie-pool` cookie sessions,
  each used once (see README: wrk hands Lua only the last Set-Cookie header).
- `login_users.txt`: `email password` of `--login-users` accounts hashed at the
  production cost (BCRYPT_ROUNDS of the environment, 12 by default).
"""

import argparse
import secrets
import sys
import time
import uuid
from pathlib import Path

BASE_DIR = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(BASE_DIR))

from flask import current_app  # noqa: E402

from app import create_app  # noqa: E402
from app.auth import passwords  # noqa: E402
from app.auth.csrf import session_csrf_value  # noqa: E402
from app.auth.sessions import open_session  # noqa: E402
from app.auth.tokens import issue_tokens  # noqa: E402
from app.clock import now  # noqa: E402
from app.extensions import db  # noqa: E402
from app.models import User  # noqa: E402
from app.models.session import TRANSPORT_BEARER, TRANSPORT_COOKIE  # noqa: E402

# Cheap hashes for the accounts that never log in (they only hold sessions).
TOKEN_ONLY_ROUNDS = 4
BATCH = 500


def new_user(run_id, kind, number, password_hash):
    stamp = now()
    return User(
        id=uuid.uuid4(),
        name=f"Bench {kind} {number}",
        email=f"bench-{run_id}-{kind}-{number}@example.com",
        password_hash=password_hash,
        created_at=stamp,
        updated_at=stamp,
        password_changed_at=stamp,
    )


def open_sessions(users, transport, count):
    """`count` sessions spread over `users`, committed in batches; their tokens."""
    issued = []
    for start in range(0, count, BATCH):
        batch = [
            open_session(
                user=users[(start + offset) % len(users)],
                transport=transport,
                user_agent="bench",
                ip="127.0.0.1",
            )
            for offset in range(min(BATCH, count - start))
        ]
        db.session.commit()
        issued.extend(issue_tokens(user_session) for user_session in batch)
    return issued


def seed(args):
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    run_id = secrets.token_hex(4)
    started = time.monotonic()

    cheap_hash = passwords.hash_password(secrets.token_urlsafe(16), TOKEN_ONLY_ROUNDS)
    users = [new_user(run_id, "me", n, cheap_hash) for n in range(args.users)]
    db.session.add_all(users)
    db.session.commit()

    me = open_sessions(users, TRANSPORT_BEARER, args.users)
    (out / "me_tokens.txt").write_text("".join(f"{t.access_token}\n" for t in me))

    chains = open_sessions(users, TRANSPORT_BEARER, args.bearer_chains)
    (out / "bearer_chains.txt").write_text(
        "".join(f"{t.refresh_token}\n" for t in chains)
    )

    pool = open_sessions(users, TRANSPORT_COOKIE, args.cookie_pool)
    lines = []
    for issued in pool:
        csrf = session_csrf_value(issued.session_id)
        lines.append(f"{issued.refresh_token} {csrf}\n")
    (out / "cookie_pool.txt").write_text("".join(lines))

    # Production cost: these accounts log in during the login scenarios.
    rounds = current_app.config["BCRYPT_ROUNDS"]
    login_lines = []
    for number in range(args.login_users):
        password = f"bench {secrets.token_urlsafe(12)} pass"
        user = new_user(
            run_id, "login", number, passwords.hash_password(password, rounds)
        )
        db.session.add(user)
        login_lines.append(f"{user.email} {password}\n")
    db.session.commit()
    (out / "login_users.txt").write_text("".join(login_lines))

    print(
        f"seeded {args.users} users with access tokens, {args.bearer_chains} bearer "
        f"chains, {args.cookie_pool} cookie sessions, {args.login_users} login users "
        f"(bcrypt cost {rounds}) in {time.monotonic() - started:.1f} s"
    )


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", required=True)
    parser.add_argument("--users", type=int, default=1000)
    parser.add_argument("--bearer-chains", type=int, default=256)
    parser.add_argument("--cookie-pool", type=int, default=20000)
    # More accounts than login connections: one account rarely has two logins in
    # flight (the second would be refused with 429, by design).
    parser.add_argument("--login-users", type=int, default=48)
    args = parser.parse_args()
    app = create_app()
    with app.app_context():
        seed(args)


if __name__ == "__main__":
    main()
