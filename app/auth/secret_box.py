"""Secrets at rest (TOTP seeds): AES-GCM under keys derived from SECRET_KEY.

Each ciphertext is stored with the id of its key. The current SECRET_KEY encrypts;
the keys of PREVIOUS_SECRET_KEYS only decrypt, so SECRET_KEY can be rotated without
losing the enrolled authenticators (list the old one there until users re-enrol).
"""

import hashlib
import hmac
import os
from dataclasses import dataclass

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from flask import current_app

from app.auth.keys import b64url
from app.auth.tokens import derive_secret

LABEL = b"auth-server/secret-at-rest/v1"
NONCE_BYTES = 12


class SecretUnreadable(RuntimeError):
    """No configured key decrypts the value (its SECRET_KEY was removed)."""


@dataclass(frozen=True)
class Keyring:
    current_id: str
    keys: dict  # key id -> AESGCM


def box_key(secret_key):
    """(key id, AES-256 key) for one SECRET_KEY."""
    key = derive_secret(secret_key, LABEL)
    key_id = "sk-" + b64url(hmac.new(key, b"kid", hashlib.sha256).digest()[:9])
    return key_id, key


def build_keyring(secret_key, previous=()):
    current_id, current = box_key(secret_key)
    keys = {current_id: AESGCM(current)}
    for old in previous:
        old_id, old_key = box_key(old)
        keys.setdefault(old_id, AESGCM(old_key))
    return Keyring(current_id=current_id, keys=keys)


def keyring():
    return current_app.extensions["secret_box"]


def seal(plaintext, *, context):
    """(key id, nonce + ciphertext); `context` (the owner's id) is authenticated."""
    ring = keyring()
    nonce = os.urandom(NONCE_BYTES)
    sealed = ring.keys[ring.current_id].encrypt(nonce, plaintext, context)
    return ring.current_id, nonce + sealed


def unseal(key_id, data, *, context):
    aead = keyring().keys.get(key_id)
    if aead is None:
        raise SecretUnreadable(key_id)
    try:
        return aead.decrypt(data[:NONCE_BYTES], data[NONCE_BYTES:], context)
    except InvalidTag:
        raise SecretUnreadable(key_id) from None


def register_secret_box(app):
    """The keyring, derived once at start-up (None without SECRET_KEY: commands)."""
    secret_key = app.config.get("SECRET_KEY")
    previous = app.config.get("PREVIOUS_SECRET_KEYS") or []
    app.extensions["secret_box"] = (
        build_keyring(secret_key, previous) if secret_key else None
    )
