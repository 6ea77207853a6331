"""Unusable key settings stop startup with a message naming the setting."""

import pytest

from app import create_app
from app.auth.keys import KeyConfigError
from tests.auth.keys.support import key_pair, new_private_key, private_pem


def start(**overrides):
    return create_app({"APP_ENV": "testing", **overrides})


@pytest.mark.parametrize("name", ["none", "HS512", "RS512", "", "PS256"])
def test_unsupported_algorithm_is_refused(name):
    with pytest.raises(KeyConfigError, match="JWT_ALGORITHM"):
        start(JWT_ALGORITHM=name or "nonsense")


@pytest.mark.parametrize("algorithm", ["RS256", "ES256", "EdDSA"])
def test_asymmetric_algorithm_needs_a_private_key(algorithm):
    with pytest.raises(KeyConfigError, match="JWT_PRIVATE_KEY"):
        start(JWT_ALGORITHM=algorithm)


def test_key_of_the_wrong_type_is_refused():
    with pytest.raises(KeyConfigError, match="JWT_PRIVATE_KEY must be an RSA key"):
        start(JWT_ALGORITHM="RS256", JWT_PRIVATE_KEY=key_pair("ES256")[0])
    with pytest.raises(KeyConfigError, match="JWT_PREVIOUS_PUBLIC_KEYS"):
        start(
            JWT_ALGORITHM="ES256",
            JWT_PRIVATE_KEY=key_pair("ES256")[0],
            JWT_PREVIOUS_PUBLIC_KEYS=key_pair("EdDSA")[1],
        )


def test_short_rsa_key_is_refused():
    weak = private_pem(new_private_key("RS256", rsa_bits=1024))
    with pytest.raises(KeyConfigError, match="at least 2048 bits"):
        start(JWT_ALGORITHM="RS256", JWT_PRIVATE_KEY=weak)


def test_public_key_must_match_the_private_key():
    with pytest.raises(KeyConfigError, match="JWT_PUBLIC_KEY does not belong"):
        start(
            JWT_ALGORITHM="ES256",
            JWT_PRIVATE_KEY=key_pair("ES256", 0)[0],
            JWT_PUBLIC_KEY=key_pair("ES256", 1)[1],
        )
    app = start(
        JWT_ALGORITHM="ES256",
        JWT_PRIVATE_KEY=key_pair("ES256", 0)[0],
        JWT_PUBLIC_KEY=key_pair("ES256", 0)[1],
    )
    assert app.extensions["signing_keys"].algorithm == "ES256"


def test_missing_key_file_is_named(tmp_path):
    with pytest.raises(KeyConfigError, match="JWT_PRIVATE_KEY_FILE: cannot read"):
        start(JWT_ALGORITHM="EdDSA", JWT_PRIVATE_KEY_FILE=str(tmp_path / "nope.pem"))


def test_value_and_file_together_are_refused(tmp_path):
    path = tmp_path / "key.pem"
    path.write_text(key_pair("EdDSA")[0])
    with pytest.raises(KeyConfigError, match="not both"):
        start(
            JWT_ALGORITHM="EdDSA",
            JWT_PRIVATE_KEY=key_pair("EdDSA")[0],
            JWT_PRIVATE_KEY_FILE=str(path),
        )


def test_garbage_pem_is_refused():
    with pytest.raises(KeyConfigError, match="JWT_PRIVATE_KEY"):
        start(JWT_ALGORITHM="ES256", JWT_PRIVATE_KEY="not a key")
    broken = "-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n"
    with pytest.raises(KeyConfigError, match="JWT_PRIVATE_KEY"):
        start(JWT_ALGORITHM="ES256", JWT_PRIVATE_KEY=broken)


def test_one_line_pem_with_escaped_newlines_works():
    one_line = key_pair("EdDSA")[0].strip().replace("\n", "\\n")
    app = start(JWT_ALGORITHM="eddsa", JWT_PRIVATE_KEY=one_line)
    assert app.config["JWT_ALGORITHM"] == "EdDSA"
    assert app.extensions["signing_keys"].algorithm == "EdDSA"
