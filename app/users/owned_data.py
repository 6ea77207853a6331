"""Every table that holds rows of one account: what deletion erases and export shows.

One entry per model with a `user_id` column. `section` names its list in the data
export (GET /users/me/export) and `fields` the columns shown there; None: never
exported (secrets, hashes, one-time tokens). The passkeys table (issue 14) joins
with `OwnedData(Passkey, "passkeys", (...its metadata columns...))`; until then the
export's "passkeys" section is empty (EXPORTED_SECTIONS).
"""

from dataclasses import dataclass

from app.models import (
    MfaChallenge,
    OneTimeToken,
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
# The export's lists of owned rows, present even while no model fills them.
EXPORTED_SECTIONS = ("sessions", "passkeys")
