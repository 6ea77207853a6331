"""The profiles' paths (docs/compat.md)."""

CHIRPY_USERS = "/api/users"
CHIRPY_LOGIN = "/api/login"
CHIRPY_REFRESH = "/api/refresh"
CHIRPY_REVOKE = "/api/revoke"

MOCK_REGISTER = "/api/auth/register"
MOCK_LOGIN = "/api/auth/login"
MOCK_REFRESH = "/api/auth/refresh"
MOCK_ME = "/api/auth/me"
MOCK_USERS = "/api/auth/users"
MOCK_RESET = "/api/auth/users/reset"

OAUTH2_REGISTER = "/auth/register/"
OAUTH2_CREATE = "/auth/jwt/create/"
OAUTH2_TOKEN = "/auth/token/"
OAUTH2_REFRESH = "/auth/jwt/refresh/"
OAUTH2_REVOKE = "/auth/jwt/revoke/"
OAUTH2_LOGOUT = "/auth/logout/"
OAUTH2_RESET = "/auth/password/reset/"
OAUTH2_RESET_CONFIRM = "/auth/password/reset/confirm/"
OAUTH2_CHANGE = "/auth/password/change/"
OAUTH2_ME = "/users/me/"

# (method, path) of every profile endpoint outside the dev mock.
PROFILE_ENDPOINTS = [
    ("POST", CHIRPY_USERS),
    ("POST", CHIRPY_LOGIN),
    ("POST", CHIRPY_REFRESH),
    ("POST", CHIRPY_REVOKE),
    ("POST", MOCK_REGISTER),
    ("POST", MOCK_LOGIN),
    ("POST", MOCK_REFRESH),
    ("GET", MOCK_ME),
    ("POST", OAUTH2_REGISTER),
    ("POST", OAUTH2_CREATE),
    ("POST", OAUTH2_TOKEN),
    ("POST", OAUTH2_REFRESH),
    ("POST", OAUTH2_REVOKE),
    ("POST", OAUTH2_LOGOUT),
    ("POST", OAUTH2_RESET),
    ("POST", OAUTH2_RESET_CONFIRM),
    ("POST", OAUTH2_CHANGE),
    ("GET", OAUTH2_ME),
    ("PATCH", OAUTH2_ME),
]
