"""JWT signing keys: the HS256 secret or an asymmetric key pair, rotation by `kid`.

The current key signs; previous keys only verify, until the operator removes them.
Every token names its key in the `kid` header: the RFC 7638 thumbprint of the public
key, or for HS256 a one-way derivative of the secret (never the secret itself).
"""

import base64
import hashlib
import hmac
import json
import logging
import os
import re
from dataclasses import dataclass, field
from pathlib import Path

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, rsa
from flask import current_app
from jwt.algorithms import ECAlgorithm, OKPAlgorithm, RSAAlgorithm

from app.errors import TokenInvalid

log = logging.getLogger(__name__)

HS256 = "HS256"
ASYMMETRIC = ("RS256", "ES256", "EdDSA")
ALGORITHMS = (HS256, *ASYMMETRIC)
MIN_RSA_BITS = 2048
# RFC 7638: the thumbprint hashes exactly these members, and they are also the only
# members a public JWK needs; anything else (d, p, q, dp...) is private.
PUBLIC_MEMBERS = {
    "RSA": ("e", "kty", "n"),
    "EC": ("crv", "kty", "x", "y"),
    "OKP": ("crv", "kty", "x"),
}
PEM_BLOCK = re.compile(r"-----BEGIN ([A-Z ]+)-----\s.*?-----END \1-----", re.DOTALL)
HS_KID_LABEL = b"auth-server/jwt-kid/v1"


class KeyConfigError(RuntimeError):
    """The signing-key settings are unusable; the message names the setting."""


@dataclass(frozen=True)
class KeySet:
    """The algorithm, the current signing key, and every key that still verifies."""

    algorithm: str
    kid: str
    signing_key: object
    verify_keys: dict = field(default_factory=dict)
    jwks: tuple = ()

    @property
    def asymmetric(self):
        return self.algorithm != HS256


def canonical_algorithm(value):
    """The supported algorithm `value` names (case-insensitive), else KeyConfigError."""
    for name in ALGORITHMS:
        if str(value or "").strip().lower() == name.lower():
            return name
    raise KeyConfigError(
        f"JWT_ALGORITHM must be one of {', '.join(ALGORITHMS)}, not {value!r}"
    )


def b64url(data):
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def hs_kid(secret):
    """A stable id for an HMAC secret: an HMAC of a fixed label, so it is one-way."""
    digest = hmac.new(secret.encode("utf-8"), HS_KID_LABEL, hashlib.sha256).digest()
    return "hs256-" + b64url(digest[:12])


def public_jwk(public_key, algorithm):
    """The public JWK of a key: only the RFC 7638 members, plus kid, use and alg."""
    converter = {"RS256": RSAAlgorithm, "ES256": ECAlgorithm, "EdDSA": OKPAlgorithm}
    full = converter[algorithm].to_jwk(public_key, as_dict=True)
    members = {name: full[name] for name in PUBLIC_MEMBERS[full["kty"]]}
    return {
        "kty": members["kty"],
        "use": "sig",
        "alg": algorithm,
        "kid": jwk_thumbprint(members),
        **{name: value for name, value in members.items() if name != "kty"},
    }


def jwk_thumbprint(jwk):
    """RFC 7638 JWK thumbprint (SHA-256, base64url) of a public JWK."""
    members = {name: jwk[name] for name in PUBLIC_MEMBERS[jwk["kty"]]}
    canonical = json.dumps(members, separators=(",", ":"), sort_keys=True)
    return b64url(hashlib.sha256(canonical.encode("utf-8")).digest())


def pem_text(value):
    """PEM from an environment variable; one-line values with literal \\n work too."""
    text = value.strip()
    if "\n" not in text and "\\n" in text:
        text = text.replace("\\n", "\n")
    return text


def read_key_file(path, setting):
    try:
        return Path(path).expanduser().read_text(encoding="ascii")
    except (OSError, UnicodeDecodeError) as error:
        reason = getattr(error, "strerror", None) or "not a PEM text file"
        raise KeyConfigError(f"{setting}: cannot read {path}: {reason}") from None


def pem_blocks(text, setting):
    blocks = [match.group(0) for match in PEM_BLOCK.finditer(text)]
    if not blocks:
        raise KeyConfigError(f"{setting} holds no PEM key")
    return blocks


def check_key_type(key, algorithm, setting):
    """Refuse a key that does not fit the algorithm (no silent algorithm switch)."""
    if algorithm == "RS256":
        ok = isinstance(key, rsa.RSAPublicKey | rsa.RSAPrivateKey)
        if ok and key.key_size < MIN_RSA_BITS:
            raise KeyConfigError(
                f"{setting}: RSA keys need at least {MIN_RSA_BITS} bits, "
                f"not {key.key_size}"
            )
        wanted = "an RSA key"
    elif algorithm == "ES256":
        ok = isinstance(
            key, ec.EllipticCurvePublicKey | ec.EllipticCurvePrivateKey
        ) and isinstance(key.curve, ec.SECP256R1)
        wanted = "an EC P-256 key"
    else:
        ok = isinstance(key, ed25519.Ed25519PublicKey | ed25519.Ed25519PrivateKey)
        wanted = "an Ed25519 key"
    if not ok:
        raise KeyConfigError(
            f"{setting} must be {wanted} for JWT_ALGORITHM={algorithm}"
        )


def load_private_key(pem, algorithm, setting):
    try:
        key = serialization.load_pem_private_key(pem.encode("ascii"), password=None)
    except (ValueError, TypeError, UnicodeEncodeError):
        raise KeyConfigError(
            f"{setting} is not an unencrypted PEM private key"
        ) from None
    check_key_type(key, algorithm, setting)
    return key


def load_public_key(pem, algorithm, setting):
    """A public key from PEM (of a private key PEM, only the public half is kept)."""
    data = pem.encode("ascii", errors="replace")
    try:
        key = serialization.load_pem_public_key(data)
    except (ValueError, TypeError):
        try:
            key = serialization.load_pem_private_key(data, password=None).public_key()
        except (ValueError, TypeError):
            raise KeyConfigError(
                f"{setting} holds a PEM block that is not a key"
            ) from None
    check_key_type(key, algorithm, setting)
    return key


def public_pem(public_key):
    return public_key.public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    ).decode("ascii")


def one_of(config, value_setting, file_setting):
    """PEM text from `value_setting` or the file `file_setting` names (not both)."""
    value, path = config.get(value_setting), config.get(file_setting)
    if value and path:
        raise KeyConfigError(f"set {value_setting} or {file_setting}, not both")
    if path:
        return read_key_file(path, file_setting), file_setting
    if value:
        return pem_text(value), value_setting
    return None, value_setting


def previous_public_pems(config):
    """(setting, PEM block) for every previous public key, text first, then files."""
    found = []
    text = config.get("JWT_PREVIOUS_PUBLIC_KEYS")
    if text:
        setting = "JWT_PREVIOUS_PUBLIC_KEYS"
        found += [(setting, block) for block in pem_blocks(pem_text(text), setting)]
    for path in config.get("JWT_PREVIOUS_PUBLIC_KEY_FILES") or []:
        setting = f"JWT_PREVIOUS_PUBLIC_KEY_FILES ({path})"
        text = read_key_file(path, "JWT_PREVIOUS_PUBLIC_KEY_FILES")
        found += [(setting, block) for block in pem_blocks(text, setting)]
    return found


def load_hs256(config):
    secret = config.get("JWT_SECRET_KEY")
    if not secret:
        raise KeyConfigError(
            "JWT_SECRET_KEY is not set (needed for JWT_ALGORITHM=HS256)"
        )
    verify_keys = {hs_kid(secret): secret}
    for previous in config.get("JWT_PREVIOUS_SECRET_KEYS") or []:
        verify_keys.setdefault(hs_kid(previous), previous)
    return KeySet(
        algorithm=HS256,
        kid=hs_kid(secret),
        signing_key=secret,
        verify_keys=verify_keys,
    )


def load_asymmetric(config, algorithm):
    private_text, setting = one_of(config, "JWT_PRIVATE_KEY", "JWT_PRIVATE_KEY_FILE")
    if not private_text:
        raise KeyConfigError(
            f"JWT_PRIVATE_KEY or JWT_PRIVATE_KEY_FILE is needed for "
            f"JWT_ALGORITHM={algorithm}"
        )
    blocks = pem_blocks(private_text, setting)
    if len(blocks) != 1:
        raise KeyConfigError(f"{setting} must hold exactly one private key")
    private_key = load_private_key(blocks[0], algorithm, setting)
    public_key = private_key.public_key()

    public_text, public_setting = one_of(
        config, "JWT_PUBLIC_KEY", "JWT_PUBLIC_KEY_FILE"
    )
    if public_text:
        given = load_public_key(public_text, algorithm, public_setting)
        if public_pem(given) != public_pem(public_key):
            raise KeyConfigError(
                f"{public_setting} does not belong to the private key of {setting}"
            )

    current = public_jwk(public_key, algorithm)
    verify_keys = {current["kid"]: public_key}
    jwks = [current]
    for source, block in previous_public_pems(config):
        key = load_public_key(block, algorithm, source)
        jwk = public_jwk(key, algorithm)
        if jwk["kid"] not in verify_keys:
            verify_keys[jwk["kid"]] = key
            jwks.append(jwk)
    return KeySet(
        algorithm=algorithm,
        kid=current["kid"],
        signing_key=private_key,
        verify_keys=verify_keys,
        jwks=tuple(jwks),
    )


def load_keyset(config):
    """Build the KeySet from settings; KeyConfigError names the setting at fault."""
    algorithm = canonical_algorithm(config.get("JWT_ALGORITHM") or HS256)
    if algorithm == HS256:
        return load_hs256(config)
    return load_asymmetric(config, algorithm)


def current_keyset():
    keyset = current_app.extensions.get("signing_keys")
    if keyset is None:
        raise KeyConfigError("signing keys are not configured")
    return keyset


def verification_key(keyset, header):
    """The key for a token's (unverified) header; 401 token_invalid when none fits.

    The header's `alg` must be the configured algorithm (no `none`, and no HS256
    token "signed" with a public key) and its `kid` one of the keys that verify.
    """
    if header.get("alg") != keyset.algorithm:
        raise TokenInvalid()
    kid = header.get("kid")
    if not isinstance(kid, str) or kid not in keyset.verify_keys:
        raise TokenInvalid()
    return keyset.verify_keys[kid]


def generate_private_key(algorithm):
    """A new private key for RS256 (RSA 3072), ES256 (P-256) or EdDSA (Ed25519)."""
    if algorithm == "RS256":
        return rsa.generate_private_key(public_exponent=65537, key_size=3072)
    if algorithm == "ES256":
        return ec.generate_private_key(ec.SECP256R1())
    if algorithm == "EdDSA":
        return ed25519.Ed25519PrivateKey.generate()
    raise KeyConfigError(f"cannot generate keys for {algorithm!r}")


def private_pem(private_key):
    return private_key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    ).decode("ascii")


@dataclass(frozen=True)
class GeneratedKey:
    algorithm: str
    kid: str
    private_path: Path
    public_path: Path
    public_pem: str


PRIVATE_FILE = "jwt-private.pem"
PUBLIC_FILE = "jwt-public.pem"


def _write(path, text, mode, *, force):
    # O_EXCL: never overwrite by accident (nor follow a planted file) without force.
    flags = os.O_WRONLY | os.O_CREAT | (os.O_TRUNC if force else os.O_EXCL)
    descriptor = os.open(path, flags, mode)
    with os.fdopen(descriptor, "w", encoding="ascii") as handle:
        handle.write(text)
    os.chmod(path, mode)  # an overwritten file keeps its old mode otherwise


def write_key_pair(*, algorithm, directory, force=False):
    """Generate a key pair into `directory`: private 0600, public 0644.

    Raises FileExistsError when a file is there already and `force` is false.
    """
    directory = Path(directory).expanduser()
    private_path, public_path = directory / PRIVATE_FILE, directory / PUBLIC_FILE
    if not force:
        for path in (private_path, public_path):
            if path.exists():
                raise FileExistsError(path)
    directory.mkdir(mode=0o700, parents=True, exist_ok=True)
    private_key = generate_private_key(algorithm)
    public_text = public_pem(private_key.public_key())
    _write(private_path, private_pem(private_key), 0o600, force=force)
    _write(public_path, public_text, 0o644, force=force)
    return GeneratedKey(
        algorithm=algorithm,
        kid=public_jwk(private_key.public_key(), algorithm)["kid"],
        private_path=private_path,
        public_path=public_path,
        public_pem=public_text,
    )
