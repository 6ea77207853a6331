"""Helpers for the signing-key tests: key material, forged tokens, a real server."""

import base64
import json
from functools import cache

import jwt
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, rsa
from werkzeug.serving import make_server

from tests.servers import in_thread

ASYMMETRIC = ("RS256", "ES256", "EdDSA")


def new_private_key(algorithm, *, rsa_bits=2048):
    if algorithm == "RS256":
        return rsa.generate_private_key(public_exponent=65537, key_size=rsa_bits)
    if algorithm == "ES256":
        return ec.generate_private_key(ec.SECP256R1())
    return ed25519.Ed25519PrivateKey.generate()


def private_pem(key):
    return key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    ).decode()


def public_pem(key):
    public = key.public_key() if hasattr(key, "public_key") else key
    return public.public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    ).decode()


def key_pair(algorithm, slot=0):
    """(private PEM, public PEM), one per algorithm and slot for the whole run."""
    return _key_pair(algorithm, slot)


@cache
def _key_pair(algorithm, slot):
    key = new_private_key(algorithm)
    return private_pem(key), public_pem(key)


def sign_raw(header, payload, key, algorithm):
    """A JWS with exactly this header (PyJWT refuses odd ones: a non-string kid)."""
    signing_input = f"{b64url_json(header)}.{b64url_json(payload)}"
    signer = jwt.get_algorithm_by_name(algorithm)
    signature = signer.sign(signing_input.encode(), signer.prepare_key(key))
    return f"{signing_input}.{jwt.utils.base64url_encode(signature).decode()}"


def asymmetric_settings(algorithm, slot=0):
    """App settings that sign with key `slot` of `algorithm`."""
    return {"JWT_ALGORITHM": algorithm, "JWT_PRIVATE_KEY": key_pair(algorithm, slot)[0]}


def b64url_json(value):
    raw = json.dumps(value, separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


def token_parts(token):
    header, payload, _ = token.split(".")
    pad = lambda part: part + "=" * (-len(part) % 4)  # noqa: E731
    return (
        json.loads(base64.urlsafe_b64decode(pad(header))),
        json.loads(base64.urlsafe_b64decode(pad(payload))),
    )


def serving(app):
    """Serve `app` over real HTTP on 127.0.0.1 (a free port) in a thread."""
    return in_thread(make_server("127.0.0.1", 0, app, threaded=True))
