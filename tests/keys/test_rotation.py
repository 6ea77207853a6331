"""Rotation: the new key signs, the previous one verifies until it is removed."""

import pytest

from tests.helpers import assert_error
from tests.keys.support import asymmetric_settings, key_pair, token_parts
from tests.urls import JWKS, ME, REFRESH


@pytest.fixture
def settings(algorithm):
    return asymmetric_settings(algorithm, 0)


def bearer(token):
    return {"Authorization": f"Bearer {token}"}


def test_old_token_works_after_rotation_and_stops_once_removed(
    auth, make_app, algorithm
):
    caller = auth.register()
    spare = auth.login(caller.extra["email"])  # a second session, refreshed later
    old_kid = token_parts(caller.access_token)[0]["kid"]

    rotated = make_app(
        **asymmetric_settings(algorithm, 1),
        JWT_PREVIOUS_PUBLIC_KEYS=key_pair(algorithm, 0)[1],
    ).test_client()
    assert rotated.get(ME, headers=caller.headers).status_code == 200
    refreshed = rotated.post(REFRESH, headers=bearer(caller.refresh_token))
    assert refreshed.status_code == 200, refreshed.json
    new_access = refreshed.json["data"]["accessToken"]
    new_kid = token_parts(new_access)[0]["kid"]
    assert new_kid != old_kid
    assert [key["kid"] for key in rotated.get(JWKS).json["keys"]] == [new_kid, old_kid]

    removed = make_app(**asymmetric_settings(algorithm, 1)).test_client()
    assert_error(removed.get(ME, headers=spare.headers), 401, "token_invalid")
    # Refresh tokens are signed with a server-only key: retiring a published signing
    # key ends no session; the next refresh gets an access token of the new key.
    renewed = removed.post(REFRESH, headers=bearer(spare.refresh_token))
    assert renewed.status_code == 200, renewed.json
    assert token_parts(renewed.json["data"]["accessToken"])[0]["kid"] == new_kid
    assert removed.get(ME, headers=bearer(new_access)).status_code == 200
    assert [key["kid"] for key in removed.get(JWKS).json["keys"]] == [new_kid]


def test_rotation_with_key_files(auth, make_app, algorithm, tmp_path):
    caller = auth.register()
    old_public = tmp_path / "old-public.pem"
    old_public.write_text(key_pair(algorithm, 0)[1])
    new_private = tmp_path / "new-private.pem"
    new_private.write_text(key_pair(algorithm, 1)[0])
    rotated = make_app(
        JWT_ALGORITHM=algorithm,
        JWT_PRIVATE_KEY_FILE=str(new_private),
        JWT_PREVIOUS_PUBLIC_KEY_FILES=[str(old_public)],
    ).test_client()
    assert rotated.get(ME, headers=caller.headers).status_code == 200
    assert len(rotated.get(JWKS).json["keys"]) == 2


def test_previous_file_may_be_the_old_private_key(auth, make_app, algorithm, tmp_path):
    caller = auth.register()
    old_private = tmp_path / "old-private.pem"
    old_private.write_text(key_pair(algorithm, 0)[0])
    rotated = make_app(
        **asymmetric_settings(algorithm, 1),
        JWT_PREVIOUS_PUBLIC_KEY_FILES=[str(old_private)],
    ).test_client()
    assert rotated.get(ME, headers=caller.headers).status_code == 200
    for key in rotated.get(JWKS).json["keys"]:
        assert "d" not in key
