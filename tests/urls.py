"""Every URL the tests call, in one place (the contract: docs/API.md)."""

API = "/api/v1"
AUTH = f"{API}/auth"
REGISTER = f"{AUTH}/register"
LOGIN = f"{AUTH}/login"
REFRESH = f"{AUTH}/refresh-token"
LOGOUT = f"{AUTH}/logout"
LOGOUT_ALL = f"{AUTH}/logout-all"
SESSIONS = f"{AUTH}/sessions"
PASSWORD_RESET = f"{AUTH}/password/reset"
PASSWORD_RESET_CONFIRM = f"{AUTH}/password/reset/confirm"
PASSWORD_CHANGE = f"{AUTH}/password/change"
EMAIL_VERIFY_REQUEST = f"{AUTH}/email/verify/request"
EMAIL_VERIFY_CONFIRM = f"{AUTH}/email/verify/confirm"
EMAIL_VERIFY_RESEND = f"{AUTH}/email/verify/resend"
EMAIL_CHANGE_CONFIRM = f"{AUTH}/email/change/confirm"
EMAIL_CHANGE_REVERT = f"{AUTH}/email/change/revert"
MFA = f"{AUTH}/mfa"
MFA_SETUP = f"{MFA}/totp/setup"
MFA_CONFIRM = f"{MFA}/totp/confirm"
MFA_TOTP = f"{MFA}/totp"
MFA_VERIFY = f"{MFA}/verify"
MFA_STEP_UP = f"{MFA}/step-up"
MFA_RECOVERY_CODES = f"{MFA}/recovery-codes"
ME = f"{API}/users/me"
OPENAPI = f"{API}/openapi.json"
JWKS = "/.well-known/jwks.json"
REVOCATIONS = "/.well-known/revocations"
INTROSPECT = f"{AUTH}/introspect"
HEALTH = "/health"
METRICS = "/metrics"
DOCS = "/docs"
SECURITY_EVENTS = f"{ME}/security-events"
ME_EMAIL = f"{ME}/email"
ME_EXPORT = f"{ME}/export"
ADMIN = f"{API}/admin"
ADMIN_USERS = f"{ADMIN}/users"
ADMIN_AUDIT_EVENTS = f"{ADMIN}/audit-events"


def admin_user(user_id, action=""):
    """/admin/users/<id>, or one of its actions: admin_user(id, "deactivate")."""
    return f"{ADMIN_USERS}/{user_id}" + (f"/{action}" if action else "")


COMPROMISED = f"{AUTH}/compromised"
PASSKEYS = f"{AUTH}/passkeys"
PASSKEY_REGISTER_OPTIONS = f"{PASSKEYS}/register/options"
PASSKEY_REGISTER_VERIFY = f"{PASSKEYS}/register/verify"
PASSKEY_LOGIN_OPTIONS = f"{PASSKEYS}/login/options"
PASSKEY_LOGIN_VERIFY = f"{PASSKEYS}/login/verify"
MFA_PASSKEY_OPTIONS = f"{MFA}/passkey/options"


def passkey(passkey_id):
    return f"{PASSKEYS}/{passkey_id}"


OAUTH = f"{AUTH}/oauth"
OAUTH_TOKEN = f"{OAUTH}/token"
OAUTH_PROVIDERS = f"{OAUTH}/providers"
IDENTITIES = f"{ME}/identities"


def oauth_authorize(provider):
    return f"{OAUTH}/{provider}/authorize"


def oauth_callback(provider):
    return f"{OAUTH}/{provider}/callback"


def identity(provider, action=""):
    return f"{IDENTITIES}/{provider}" + (f"/{action}" if action else "")
