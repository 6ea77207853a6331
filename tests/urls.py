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
HEALTH = "/health"
METRICS = "/metrics"
DOCS = "/docs"
SECURITY_EVENTS = f"{ME}/security-events"
ADMIN = f"{API}/admin"
ADMIN_USERS = f"{ADMIN}/users"
ADMIN_AUDIT_EVENTS = f"{ADMIN}/audit-events"


def admin_user(user_id, action=""):
    """/admin/users/<id>, or one of its actions: admin_user(id, "deactivate")."""
    return f"{ADMIN_USERS}/{user_id}" + (f"/{action}" if action else "")


COMPROMISED = f"{AUTH}/compromised"
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
