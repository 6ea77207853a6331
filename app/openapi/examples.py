"""Example values the views' declarations show in the document.

Answers are examples of what the views dump: one example user and session, dumped
through the same schemas the views answer with.
"""

from datetime import UTC, datetime

from app.schemas.auth import LoginDataSchema
from app.schemas.session import SessionSchema
from app.schemas.user import UserSchema

EMAIL = "ada@example.com"
PASSWORD = "correct horse battery staple"
NEW_PASSWORD = "a new long passphrase"
MAILED_TOKEN = "tkn_from_the_mail"
CREATED = datetime(2025, 1, 15, 9, 30, tzinfo=UTC)

ADA = {
    "id": "5f0c6c1e-8b3a-4d5e-9a61-2f4b7c9d0e13",
    "name": "Ada Lovelace",
    "email": EMAIL,
    "profile_picture": None,
    "email_verified": False,
    "mfa_enabled": False,
    "created_at": CREATED,
    "updated_at": CREATED,
}
USER = UserSchema().dump(ADA)
LOGIN_PROFILE = LoginDataSchema().dump(ADA)

ACCESS_TOKEN = "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiI1ZjBjIn0.c2lnbmF0dXJl"
REFRESH_TOKEN = "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJ0eXBlIjoicmVmcmVzaCJ9.c2ln"
TOKENS = {"accessToken": ACCESS_TOKEN, "tokenType": "Bearer", "expiresIn": 3600}
DEVICE_TOKEN = "eyJhbGciOiJIUzI1NiIsInR5cCI6ImR0K2p3dCJ9.eyJkaWQiOiI3YjEifQ.c2ln"
BEARER_TOKENS = {
    **TOKENS,
    "refreshToken": REFRESH_TOKEN,
    "refreshExpiresIn": 5184000,
}
# What a bearer login or registration answers: the session's tokens and the device's.
BEARER_LOGIN_TOKENS = {**BEARER_TOKENS, "deviceToken": DEVICE_TOKEN}


SESSION_ROW = {
    "id": "0b7e4f2a-6c1d-4e8f-9a3b-5d2c1e0f9a87",
    "created_at": CREATED,
    "last_used_at": datetime(2025, 1, 15, 10, 5, tzinfo=UTC),
    "expires_at": datetime(2025, 3, 16, 9, 30, tzinfo=UTC),
    "user_agent": "Mozilla/5.0",
    "ip": "203.0.113.7",
    "amr": "pwd otp",
    "auth_time": datetime(2025, 1, 15, 9, 30, tzinfo=UTC),
}
# `current` is the caller's own session (it depends on the request).
SESSION = {**SessionSchema(exclude=["current"]).dump(SESSION_ROW), "current": True}


MFA_TOKEN = "eyJhbGciOiJIUzI1NiIsInR5cCI6Im1mYStqd3QifQ.eyJzdWIiOiI1ZjBjIn0.c2ln"
MFA_CHALLENGE = {
    "mfaRequired": True,
    "mfaToken": MFA_TOKEN,
    "mfaTokenExpiresIn": 300,
    "methods": ["totp", "recovery_code"],
}
RECOVERY_CODE = "k7q2-mx4d-pyza-3hte"
RECOVERY_CODES = {"recoveryCodes": [RECOVERY_CODE, "w2cv-an5r-ju6e-qa4l"]}


def example(summary, value):
    return {"summary": summary, "value": value}


# Swagger UI sends the first example: the cookie case must work as is.
REFRESH_BODY = {
    "browser": example("Cookie session: no body, the browser sends the cookie", {}),
    "mobile": example(
        "Bearer session, token in the body", {"refreshToken": REFRESH_TOKEN}
    ),
}

# Sign-in with a provider (app/oauth)
PROVIDER = {"name": "google", "label": "Google"}
LOGIN_CODE = "Jd2mH0f0sQxN3e1cK5a9T7wq8ZpLrV4yBbUuGgXxYy0"
CODE_VERIFIER = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk"
IDENTITY = {
    "provider": "google",
    "email": "ada@example.com",
    "createdAt": "2026-12-01T10:00:00Z",
    "lastSignInAt": "2026-12-01T10:00:00Z",
}
LINK_URL = (
    "https://auth.example.com/api/v1/auth/oauth/google/authorize"
    "?link=eyJ1c2VyIjoiLi4uIn0.Z0x.abc&returnTo=https%3A%2F%2Fapp.example.com%2Fsettings"
)
