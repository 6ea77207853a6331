"""Access and refresh tokens: minting and verifying, on PyJWT's public API.

Access tokens (RFC 9068, RFC 8725): header `typ: at+jwt` with the `alg` and `kid` of
the published signing key; claims `iss`, `aud`, `sub`, `sid`, `jti`, `iat`, `exp`,
`role` (`user` or `admin`; a role change ends the user's sessions), and how the
session was authenticated: `amr` (RFC 8176), `acr` (`aal1` password,
`aal2` with a second factor) and `auth_time` (OpenID Connect); nothing else. Any
service verifies them with the JWKS (or, with HS256, the shared secret), requiring
`iss`, `aud` and `exp`.

Refresh tokens are for this server alone: header `typ: rt+jwt`, HS256 with a key
derived from SECRET_KEY that is never published. A verifier that trusts the JWKS
cannot take one for an access token, and retiring a signing key ends no session.

MFA tokens (`typ: mfa+jwt`) stand for a login waiting for its second factor: HS256
with a server-only key of their own, no `sid`, and good for nothing else.
"""

import hashlib
import hmac
import json
import time
import uuid
from dataclasses import dataclass

import jwt as pyjwt
from flask import current_app
from jwt.algorithms import HMACAlgorithm

from app import clock
from app.auth.keys import b64url, current_keyset, verification_key
from app.errors import TokenExpired, TokenInvalid
from app.models.user import ROLE_USER

ACCESS_TOKEN_TYPE = "at+jwt"
REFRESH_TOKEN_TYPE = "rt+jwt"
REFRESH_ALGORITHM = "HS256"
REFRESH_KEY_LABEL = b"auth-server/refresh-token/v1"
MFA_TOKEN_TYPE = "mfa+jwt"
MFA_KEY_LABEL = b"auth-server/mfa-token/v1"
# Far above any token this server mints (under 1 KiB): refused before any parsing.
MAX_TOKEN_LENGTH = 4096
ACCESS_CLAIMS = ("iss", "aud", "sub", "sid", "jti", "iat", "exp")
REFRESH_CLAIMS = ("iss", "aud", "sub", "sid", "jti", "iat", "exp")
MFA_CLAIMS = ("iss", "aud", "sub", "jti", "iat", "exp")
# acr of a session: a password alone, or a password and a second factor.
ACR_PASSWORD = "aal1"
ACR_SECOND_FACTOR = "aal2"
# "hwk": a passkey (a hardware-bound key that verified its user).
SECOND_FACTOR_AMR = frozenset({"otp", "hwk"})
# One codec for the process: PyJWT's own object, configured, never changed after.
CODEC = pyjwt.PyJWT(options={"verify_sub": True, "verify_jti": True})


class CheckedOnceHMAC(HMACAlgorithm):
    """PyJWT's HMAC, checking each of the server's own keys once, not per token.

    PyJWT's `prepare_key` makes sure an HMAC secret is no PEM, SSH or DER key on
    every call, by trying to parse it (some 30 µs). The signer below only ever signs
    with the few keys of this server, so each is checked the first time it signs.
    """

    MAX_KEYS = 16

    def __init__(self, hash_alg):
        super().__init__(hash_alg)
        self.checked = {}

    def prepare_key(self, key):
        prepared = self.checked.get(key)
        if prepared is None:
            prepared = super().prepare_key(key)
            if len(self.checked) < self.MAX_KEYS:
                self.checked[key] = prepared
        return prepared


def build_signer():
    """A PyJWS of our own for minting: PyJWT's algorithms, its HMAC checked once."""
    signer = pyjwt.PyJWS()
    for name, digest in (
        ("HS256", HMACAlgorithm.SHA256),
        ("HS384", HMACAlgorithm.SHA384),
        ("HS512", HMACAlgorithm.SHA512),
    ):
        signer.unregister_algorithm(name)
        signer.register_algorithm(name, CheckedOnceHMAC(digest))
    return signer


# Signs only; every token is verified by CODEC, with PyJWT's checks in full.
SIGNER = build_signer()


def sign(claims, key, *, algorithm, headers):
    """The compact JWS of `claims` (a dict of JSON values), as PyJWT.encode makes it."""
    payload = json.dumps(claims, separators=(",", ":")).encode("utf-8")
    return SIGNER.encode(payload, key, algorithm=algorithm, headers=headers)


@dataclass(frozen=True)
class RefreshKey:
    kid: str
    secret: bytes


@dataclass(frozen=True)
class IssuedTokens:
    access_token: str
    expires_in: int
    refresh_token: str
    refresh_expires_in: int
    transport: str
    session_id: uuid.UUID
    device_token: str | None = None


@dataclass(frozen=True)
class VerifiedToken:
    header: dict
    claims: dict
    kind: str  # ACCESS_TOKEN_TYPE, REFRESH_TOKEN_TYPE or MFA_TOKEN_TYPE


@dataclass(frozen=True)
class Authentication:
    """How a session was authenticated: its `amr` values and when last."""

    amr: tuple
    auth_time: int

    @property
    def acr(self):
        has_second = SECOND_FACTOR_AMR.intersection(self.amr)
        return ACR_SECOND_FACTOR if has_second else ACR_PASSWORD


def derive_secret(secret_key, label):
    """A server-only key of its own for one use: an HMAC of `label` under SECRET_KEY."""
    return hmac.new(secret_key.encode("utf-8"), label, hashlib.sha256).digest()


def derive_server_key(secret_key, label, prefix):
    """A server-only HS256 key and its kid (a one-way derivative of the key)."""
    secret = derive_secret(secret_key, label)
    kid = prefix + b64url(hmac.new(secret, b"kid", hashlib.sha256).digest()[:12])
    return RefreshKey(kid=kid, secret=secret)


def derive_refresh_key(secret_key):
    """The server-only refresh-token key."""
    return derive_server_key(secret_key, REFRESH_KEY_LABEL, "rt-")


def derive_mfa_key(secret_key):
    """The server-only MFA-token key."""
    return derive_server_key(secret_key, MFA_KEY_LABEL, "mfa-")


def refresh_key():
    return current_app.extensions["refresh_key"]


def mfa_key():
    return current_app.extensions["mfa_key"]


def new_jti():
    return uuid.uuid4().hex


def audience_claim(audience):
    """One audience as a string, several as a list (RFC 7519 allows both)."""
    return audience[0] if len(audience) == 1 else list(audience)


def token_claims(*, issuer, audience, subject, session_id, jti, ttl):
    # Token times are wall-clock times (what every verifier compares them with);
    # session lifetimes follow app.clock.
    issued_at = int(time.time())
    return {
        "iss": issuer,
        "aud": audience,
        "sub": subject,
        "sid": str(session_id),
        "jti": jti,
        "iat": issued_at,
        "exp": issued_at + ttl,
    }


def authentication_of(user_session):
    """The session's Authentication (sessions from before MFA: password at creation)."""
    when = user_session.auth_time or user_session.created_at
    return Authentication(
        amr=tuple((user_session.amr or "pwd").split()),
        auth_time=int(when.timestamp()),
    )


def mint_access_token(
    *, subject, session_id, role=ROLE_USER, ttl=None, authentication=None
):
    config = current_app.config
    keyset = current_keyset()
    claims = token_claims(
        issuer=config["JWT_ISSUER"],
        audience=audience_claim(config["JWT_AUDIENCE"]),
        subject=subject,
        session_id=session_id,
        jti=new_jti(),
        ttl=config["ACCESS_TOKEN_TTL"] if ttl is None else ttl,
    )
    claims["role"] = role
    if authentication is None:
        authentication = Authentication(amr=("pwd",), auth_time=claims["iat"])
    claims["amr"] = list(authentication.amr)
    claims["acr"] = authentication.acr
    claims["auth_time"] = authentication.auth_time
    headers = {"typ": ACCESS_TOKEN_TYPE, "kid": keyset.kid}
    return sign(claims, keyset.signing_key, algorithm=keyset.algorithm, headers=headers)


def mint_refresh_token(*, subject, session_id, jti, ttl):
    key = refresh_key()
    issuer = current_app.config["JWT_ISSUER"]
    claims = token_claims(
        issuer=issuer,
        audience=issuer,
        subject=subject,
        session_id=session_id,
        jti=jti,
        ttl=ttl,
    )
    headers = {"typ": REFRESH_TOKEN_TYPE, "kid": key.kid}
    return sign(claims, key.secret, algorithm=REFRESH_ALGORITHM, headers=headers)


def mint_mfa_token(*, subject, jti, ttl):
    key = mfa_key()
    issued_at = int(time.time())
    claims = {
        "iss": current_app.config["JWT_ISSUER"],
        "aud": current_app.config["JWT_ISSUER"],
        "sub": subject,
        "jti": jti,
        "iat": issued_at,
        "exp": issued_at + ttl,
    }
    headers = {"typ": MFA_TOKEN_TYPE, "kid": key.kid}
    return sign(claims, key.secret, algorithm=REFRESH_ALGORITHM, headers=headers)


def verify_mfa_token(encoded):
    """The claims of a valid MFA token; 401 token_invalid / token_expired."""
    return verify_token(encoded, kinds={MFA_TOKEN_TYPE}).claims


def issue_tokens(user_session, device_token=None, *, role=ROLE_USER):
    """A new access token and the session's current refresh token (by its jti).

    `device_token`: the login's or registration's (app/auth/devices.py), if any.
    """
    subject = str(user_session.user_id)
    remaining = max(int((user_session.expires_at - clock.now()).total_seconds()), 0)
    return IssuedTokens(
        access_token=mint_access_token(
            subject=subject,
            session_id=user_session.id,
            role=role,
            authentication=authentication_of(user_session),
        ),
        expires_in=current_app.config["ACCESS_TOKEN_TTL"],
        refresh_token=mint_refresh_token(
            subject=subject,
            session_id=user_session.id,
            jti=user_session.refresh_jti,
            ttl=remaining,
        ),
        refresh_expires_in=remaining,
        transport=user_session.transport,
        session_id=user_session.id,
        device_token=device_token,
    )


def bounded(encoded):
    """The token, if it is a string of a size this server mints; else 401."""
    if not isinstance(encoded, str) or not encoded or len(encoded) > MAX_TOKEN_LENGTH:
        raise TokenInvalid()
    return encoded


def read_header(encoded):
    """The JOSE header, after bounding the token's size; 401 token_invalid if bad."""
    try:
        return pyjwt.get_unverified_header(bounded(encoded))
    except (pyjwt.PyJWTError, ValueError, TypeError, RecursionError):
        raise TokenInvalid() from None


def current_header(kind):
    """The header of a token of `kind` signed with its current key."""
    if kind == ACCESS_TOKEN_TYPE:
        keyset = current_keyset()
        return {"typ": kind, "alg": keyset.algorithm, "kid": keyset.kid}
    key = refresh_key() if kind == REFRESH_TOKEN_TYPE else mfa_key()
    return {"typ": kind, "alg": REFRESH_ALGORITHM, "kid": key.kid}


def decoding_key(header):
    """(kind, key, algorithm, audience) for a header: its `typ` names the kind."""
    config = current_app.config
    kind = header.get("typ")
    if kind == ACCESS_TOKEN_TYPE:
        keyset = current_keyset()
        key = verification_key(keyset, header)
        return kind, key, keyset.algorithm, config["JWT_AUDIENCE"], ACCESS_CLAIMS
    server_keys = {
        REFRESH_TOKEN_TYPE: (refresh_key, REFRESH_CLAIMS),
        MFA_TOKEN_TYPE: (mfa_key, MFA_CLAIMS),
    }
    if kind in server_keys:
        key_of, required = server_keys[kind]
        key = key_of()
        if header.get("alg") != REFRESH_ALGORITHM or header.get("kid") != key.kid:
            raise TokenInvalid()
        issuer = config["JWT_ISSUER"]
        return kind, key.secret, REFRESH_ALGORITHM, [issuer], required
    raise TokenInvalid()


def decode(encoded, header, *, allow_expired):
    """PyJWT's verification with the key `header` names: the header and claims."""
    kind, key, algorithm, audience, required = decoding_key(header)
    decoded = CODEC.decode_complete(
        encoded,
        key,
        algorithms=[algorithm],
        audience=audience,
        issuer=current_app.config["JWT_ISSUER"],
        options={"require": list(required), "verify_exp": not allow_expired},
    )
    return decoded["header"], decoded["payload"], required


def verify_token(encoded, *, kinds, allow_expired=False):
    """Verify signature, `typ`, `iss`, `aud`, `exp` and the required claims.

    `kinds`: the token types this caller accepts. An expired token is 401
    token_expired (still verified first), unless `allow_expired` (logout).

    A token of the one kind a caller expects, signed with that kind's current key,
    is verified at once, its header checked after the signature: one parse, where
    reading the header first is a second one. Any other token takes the header
    first way, which names the key and gives the precise refusal.
    """
    bounded(encoded)
    if len(kinds) == 1:
        (kind,) = kinds
        expected = current_header(kind)
        try:
            header, claims, required = decode(
                encoded, expected, allow_expired=allow_expired
            )
        except (TokenInvalid, pyjwt.PyJWTError, ValueError, TypeError, RecursionError):
            pass
        else:
            if all(header.get(name) == expected[name] for name in expected):
                return checked_claims(header, claims, kind, required)
    header = read_header(encoded)
    kind = header.get("typ")
    if kind not in kinds:
        raise TokenInvalid()
    try:
        header, claims, required = decode(encoded, header, allow_expired=allow_expired)
    except pyjwt.ExpiredSignatureError:
        raise TokenExpired() from None
    except (pyjwt.PyJWTError, ValueError, TypeError, RecursionError):
        raise TokenInvalid() from None
    return checked_claims(header, claims, kind, required)


def checked_claims(header, claims, kind, required):
    if not isinstance(claims.get("sub"), str):
        raise TokenInvalid()
    if "sid" in required and not isinstance(claims["sid"], str):
        raise TokenInvalid()
    return VerifiedToken(header=header, claims=claims, kind=kind)


def verify_access_token(encoded):
    return verify_token(encoded, kinds={ACCESS_TOKEN_TYPE}).claims


def session_id_of(claims):
    """The session id a token names, or 401 token_invalid."""
    try:
        return uuid.UUID(str(claims["sid"]))
    except (KeyError, ValueError):
        raise TokenInvalid() from None


def register_token_keys(app):
    """The refresh- and MFA-token keys, derived once from SECRET_KEY at start-up."""
    secret_key = app.config.get("SECRET_KEY")
    # Missing only for maintenance commands on broken settings, which mint nothing.
    app.extensions["refresh_key"] = (
        derive_refresh_key(secret_key) if secret_key else None
    )
    app.extensions["mfa_key"] = derive_mfa_key(secret_key) if secret_key else None
