"""Every table that holds rows of one account: what deletion erases and export shows.

One entry per model with a `user_id` column. `section` names its list in the data
export (GET /users/me/export) and `fields` the columns shown there; None: never
exported (secrets, hashes, one-time tokens, passkey challenges). A passkey's
metadata is exported, never its public key or credential id.
"""

from dataclasses import dataclass

from app.models import (
    MfaChallenge,
    OneTimeToken,
    Passkey,
    PasskeyChallenge,
    RecoveryCode,
    TotpCredential,
    UserSession,
)


@dataclass(frozen=True)
class OwnedData:
    model: type
    section: str | None = None
    fields: tuple = ()


OWNED_DATA = (
    # Before the sessions: a registration challenge names the session that asked.
    OwnedData(PasskeyChallenge),
    OwnedData(
        Passkey,
        "passkeys",
        (
            "id",
            "name",
            "created_at",
            "last_used_at",
            "transports",
            "aaguid",
            "backup_eligible",
            "backed_up",
        ),
    ),
    OwnedData(
        UserSession,
        "sessions",
        (
            "id",
            "transport",
            "created_at",
            "last_used_at",
            "expires_at",
            "revoked_at",
            "revoked_reason",
            "amr",
            "auth_time",
            "user_agent",
            "ip",
        ),
    ),
    OwnedData(OneTimeToken),
    OwnedData(MfaChallenge),
    OwnedData(RecoveryCode),
    OwnedData(TotpCredential),
)
# The export's lists of owned rows.
EXPORTED_SECTIONS = ("sessions", "passkeys")
