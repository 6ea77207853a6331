"""Under concurrent clients, exactly one audit row per event a client saw succeed."""

import collections
import threading

from app import events
from tests.audit.support import audit_types
from tests.conftest import PASSWORD
from tests.urls import LOGIN, LOGOUT, REGISTER, admin_user

WORKERS = 6
ROUNDS = 5
BEARER = {"X-Auth-Mode": "bearer"}


def test_audit_rows_match_what_concurrent_clients_saw(app, auth, promote):
    admin = promote(auth.register(email="root@example.com"))
    targets = [auth.register() for _ in range(2)]
    before = collections.Counter(audit_types(app))
    seen = collections.Counter()
    lock = threading.Lock()
    barrier = threading.Barrier(WORKERS)
    failures = []

    def saw(event):
        with lock:
            seen[event] += 1

    def user_worker(number):
        client = app.test_client()
        email = f"burst{number}@example.com"
        barrier.wait()
        body = {"name": "B", "email": email, "password": PASSWORD}
        # Two registrations of one email race: one 201, one 409 (no row).
        for _ in range(2):
            response = client.post(REGISTER, json=body, headers=BEARER)
            if response.status_code == 201:
                saw(events.REGISTERED)
        for _ in range(ROUNDS):
            wrong = client.post(LOGIN, json={"email": email, "password": "x" * 12})
            if wrong.status_code == 401:
                saw(events.LOGIN_FAILED)
            response = client.post(
                LOGIN, json={"email": email, "password": PASSWORD}, headers=BEARER
            )
            if response.status_code != 200:
                continue
            saw(events.LOGIN_OK)
            token = response.get_json()["data"]["refreshToken"]
            ended = client.post(LOGOUT, headers={"Authorization": f"Bearer {token}"})
            if ended.status_code == 200:
                saw(events.LOGOUT)

    def admin_worker():
        barrier.wait()
        for round_number in range(ROUNDS * 2):
            target = targets[round_number % len(targets)].user["id"]
            viewed = admin.client.get(admin_user(target), headers=admin.headers)
            if viewed.status_code == 200:
                saw(events.ADMIN_USER_VIEWED)
            revoked = admin.client.delete(
                admin_user(target, "sessions"), headers=admin.headers
            )
            if revoked.status_code == 200:
                saw(events.SESSION_REVOKED)

    def guarded(target, *args):
        try:
            target(*args)
        except Exception as error:  # noqa: BLE001  (reported below)
            failures.append(error)

    threads = [
        threading.Thread(target=guarded, args=(user_worker, n))
        for n in range(WORKERS - 1)
    ] + [threading.Thread(target=guarded, args=(admin_worker,))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert not failures, failures
    assert seen[events.LOGIN_OK] > 0 and seen[events.SESSION_REVOKED] > 0
    assert seen[events.REGISTERED] == WORKERS - 1
    stored = collections.Counter(audit_types(app)) - before
    assert stored == seen
