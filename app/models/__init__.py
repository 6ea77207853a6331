"""All tables, imported here so metadata is complete for Alembic."""

from app.models.audit_event import AuditEvent
from app.models.identity import Identity, LoginCode, SpentState
from app.models.mfa import MfaChallenge, RecoveryCode, TotpCredential
from app.models.one_time_token import OneTimeToken
from app.models.outbox import OutboxMail
from app.models.passkey import Passkey, PasskeyChallenge
from app.models.revocation import Revocation, RevocationHead
from app.models.session import UserSession
from app.models.user import User

__all__ = [
    "AuditEvent",
    "Identity",
    "LoginCode",
    "MfaChallenge",
    "OneTimeToken",
    "OutboxMail",
    "Passkey",
    "PasskeyChallenge",
    "RecoveryCode",
    "Revocation",
    "RevocationHead",
    "SpentState",
    "TotpCredential",
    "User",
    "UserSession",
]
