"""A software WebAuthn authenticator for the passkey tests: an EC P-256 key of its own.

It answers the server's options as a browser with a platform authenticator would
(`PublicKeyCredential.toJSON()`): attestation "none", ES256 signatures, a signature
counter. Built from the WebAuthn spec with `cryptography` and `cbor2`, never with
the server's library, so the tests check py_webauthn's use and not themselves.
"""

import base64
import hashlib
import json
import os
from dataclasses import dataclass, field

import cbor2
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec

ORIGIN = "http://localhost:3000"  # the tests' FRONTEND_URL default
RP_ID = "localhost"
FLAG_UP = 0x01
FLAG_UV = 0x04
FLAG_BE = 0x08
FLAG_BS = 0x10
FLAG_AT = 0x40


def b64url(data):
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def unb64url(text):
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def sha256(data):
    return hashlib.sha256(data).digest()


@dataclass
class Authenticator:
    """One passkey: a key pair, its credential id, counter and user handle."""

    key: object = field(default_factory=lambda: ec.generate_private_key(ec.SECP256R1()))
    credential_id: bytes = field(default_factory=lambda: os.urandom(16))
    sign_count: int = 0
    user_handle: bytes | None = None
    aaguid: bytes = bytes(16)
    # Counts each signature; False: an authenticator without a counter (always 0).
    counts: bool = True

    def cose_key(self):
        numbers = self.key.public_key().public_numbers()
        return cbor2.dumps(
            {
                1: 2,  # kty: EC2
                3: -7,  # alg: ES256
                -1: 1,  # crv: P-256
                -2: numbers.x.to_bytes(32, "big"),
                -3: numbers.y.to_bytes(32, "big"),
            }
        )

    def authenticator_data(self, rp_id, flags, *, attested=False):
        data = sha256(rp_id.encode()) + bytes([flags])
        data += self.sign_count.to_bytes(4, "big")
        if attested:
            data += self.aaguid + len(self.credential_id).to_bytes(2, "big")
            data += self.credential_id + self.cose_key()
        return data

    @staticmethod
    def client_data(kind, challenge, origin):
        return json.dumps(
            {
                "type": kind,
                "challenge": challenge,
                "origin": origin,
                "crossOrigin": False,
            },
            separators=(",", ":"),
        ).encode()

    def create(self, options, *, origin=ORIGIN, rp_id=RP_ID, verified=True):
        """The answer to PublicKeyCredentialCreationOptions (JSON form)."""
        self.user_handle = unb64url(options["user"]["id"])
        flags = FLAG_UP | FLAG_AT | FLAG_BE | FLAG_BS | (FLAG_UV if verified else 0)
        auth_data = self.authenticator_data(rp_id, flags, attested=True)
        attestation = cbor2.dumps({"fmt": "none", "attStmt": {}, "authData": auth_data})
        client_data = self.client_data("webauthn.create", options["challenge"], origin)
        return {
            "id": b64url(self.credential_id),
            "rawId": b64url(self.credential_id),
            "type": "public-key",
            "response": {
                "clientDataJSON": b64url(client_data),
                "attestationObject": b64url(attestation),
                "transports": ["internal", "hybrid"],
            },
            "clientExtensionResults": {"credProps": {"rk": True}},
            "authenticatorAttachment": "platform",
        }

    def get(self, options, *, origin=ORIGIN, rp_id=RP_ID, verified=True, kind=None):
        """The answer to PublicKeyCredentialRequestOptions (JSON form), signed."""
        if self.counts:
            self.sign_count += 1
        flags = FLAG_UP | FLAG_BE | FLAG_BS | (FLAG_UV if verified else 0)
        auth_data = self.authenticator_data(rp_id, flags)
        client_data = self.client_data(
            kind or "webauthn.get", options["challenge"], origin
        )
        signature = self.key.sign(
            auth_data + sha256(client_data), ec.ECDSA(hashes.SHA256())
        )
        response = {
            "clientDataJSON": b64url(client_data),
            "authenticatorData": b64url(auth_data),
            "signature": b64url(signature),
        }
        if self.user_handle is not None:
            response["userHandle"] = b64url(self.user_handle)
        return {
            "id": b64url(self.credential_id),
            "rawId": b64url(self.credential_id),
            "type": "public-key",
            "response": response,
            "clientExtensionResults": {},
            "authenticatorAttachment": "platform",
        }

    def clone(self):
        """A copy of this authenticator's key and state (what cloning would give)."""
        return Authenticator(
            key=self.key,
            credential_id=self.credential_id,
            sign_count=self.sign_count,
            user_handle=self.user_handle,
        )
