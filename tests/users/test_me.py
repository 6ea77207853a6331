import pytest

from tests.helpers import assert_error, assert_ok
from tests.urls import ME


@pytest.mark.parametrize("mode", ["bearer", "cookie"])
def test_me_returns_the_user(auth, mode):
    caller = auth.register(mode=mode)
    response = caller.client.get(ME, headers=caller.headers)
    data = assert_ok(response)
    assert data["user"]["id"] == caller.user["id"]
    assert "passwordHash" not in data["user"] and "isActive" not in data["user"]
    assert response.headers["Cache-Control"] == "no-store"


def test_me_without_token_is_401_token_missing(client):
    response = client.get(ME)
    assert_error(response, 401, "token_missing")
    assert response.headers["WWW-Authenticate"].startswith("Bearer")
    assert "error=" not in response.headers["WWW-Authenticate"]


def test_patch_me_updates_name_and_picture(auth):
    caller = auth.register()
    response = caller.client.patch(
        ME,
        json={
            "name": "  Grace Hopper ",
            "profilePicture": "https://cdn.example.com/g.png",
        },
        headers=caller.headers,
    )
    user = assert_ok(response)["user"]
    assert user["name"] == "Grace Hopper"
    assert user["profilePicture"] == "https://cdn.example.com/g.png"
    again = assert_ok(caller.client.get(ME, headers=caller.headers))["user"]
    assert again["name"] == "Grace Hopper"


def test_patch_me_clears_picture_with_null(auth):
    caller = auth.register()
    caller.client.patch(
        ME, json={"profilePicture": "https://x.example/p.png"}, headers=caller.headers
    )
    user = assert_ok(
        caller.client.patch(ME, json={"profilePicture": None}, headers=caller.headers)
    )["user"]
    assert user["profilePicture"] is None


@pytest.mark.parametrize(
    "payload",
    [
        {"email": "new@example.com"},
        {"password": "whatever-123456"},
        {"emailVerified": True},
        {"id": "x"},
        {"name": ""},
        {"name": "x" * 101},
        {"name": 5},
        {"name": "bad\u0007bell"},
        {"profilePicture": "javascript:alert(1)"},
        {"profilePicture": "ftp://example.com/x.png"},
        {"profilePicture": "https://" + "a" * 2100 + ".com"},
        {},
    ],
)
def test_patch_me_refuses_bad_or_unknown_fields(auth, payload):
    caller = auth.register()
    response = caller.client.patch(ME, json=payload, headers=caller.headers)
    assert_error(response, 400, "validation_error")
    user = assert_ok(caller.client.get(ME, headers=caller.headers))["user"]
    assert user["name"] == "Ada" and user["profilePicture"] is None


def test_patch_me_without_token_is_401(client):
    assert_error(client.patch(ME, json={"name": "x"}), 401, "token_missing")
