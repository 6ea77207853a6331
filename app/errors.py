"""Every answer's envelope, the error classes of API.md, and all error handlers."""

import logging

from flask import current_app, has_request_context, jsonify, request
from marshmallow import ValidationError
from werkzeug.exceptions import HTTPException, MethodNotAllowed

log = logging.getLogger(__name__)

HTTP_CODES = {
    400: "bad_request",
    401: "token_missing",
    403: "forbidden",
    404: "not_found",
    405: "method_not_allowed",
    413: "payload_too_large",
    415: "unsupported_media_type",
    429: "rate_limited",
}
HTTP_MESSAGES = {
    404: "The requested resource was not found.",
    405: "The method is not allowed for this resource.",
    413: "The request body is too large.",
    415: "The request body must be application/json.",
    429: "Too many requests; retry later.",
}
# Where error_response leaves the code of this request's error (the rate limits
# count refusals by it, whatever shape the answer has).
ERROR_CODE_KEY = "app.error_code"
# app.extensions key: {blueprint name: render(status, code, message, details)}.
ERROR_SHAPES = "error_shapes"
# Codes that mean a token was sent and refused (RFC 6750 `error="invalid_token"`).
INVALID_TOKEN_CODES = {"token_invalid", "token_expired", "token_revoked"}


class ApiError(Exception):
    """A failure the client can act on; carries its status and code from API.md."""

    status = 400
    code = "bad_request"
    message = "The request could not be processed."

    def __init__(self, message=None, *, details=None, headers=None):
        super().__init__(message or self.message)
        self.message = message or self.message
        self.details = details
        self.headers = headers or {}


class InvalidJSON(ApiError):
    code = "invalid_json"
    message = "The request body must be a valid JSON object."


class ValidationFailed(ApiError):
    code = "validation_error"
    message = "The request body is invalid."


class InvalidCredentials(ApiError):
    status = 401
    code = "invalid_credentials"
    message = "Invalid email or password."


class WrongOldPassword(ApiError):
    # 400, not 401: the caller is authenticated; only the confirmation was wrong.
    status = 400
    code = "invalid_credentials"
    message = "The current password is incorrect."


class InvalidMfaCode(ApiError):
    status = 401
    code = "invalid_mfa_code"
    message = "The authentication code is incorrect."


class WrongMfaCode(InvalidMfaCode):
    # 400 on endpoints of a signed-in caller, as for a wrong old password.
    status = 400


class MfaRequired(ApiError):
    status = 403
    code = "mfa_required"
    message = "This action needs a recent second factor: POST /api/v1/auth/mfa/step-up."


class MfaUnsupported(ApiError):
    # A compatibility profile's login (app/compat): those APIs have no second step.
    status = 401
    code = "mfa_unsupported"
    message = (
        "This account uses two-factor sign-in, which this API cannot complete; "
        "sign in through POST /api/v1/auth/login."
    )


class ReauthenticationRequired(ApiError):
    status = 403
    code = "reauthentication_required"
    message = (
        "This account has no password: sign in with its provider again (or give a "
        "second factor) and retry."
    )


class MfaAlreadyEnabled(ApiError):
    status = 409
    code = "mfa_already_enabled"
    message = "Two-factor sign-in is already on; turn it off first."


class MfaNotEnabled(ApiError):
    status = 409
    code = "mfa_not_enabled"
    message = "Two-factor sign-in is not on for this account."


class MfaNotPending(ApiError):
    status = 409
    code = "mfa_not_pending"
    message = "No authenticator setup is pending; start with POST /mfa/totp/setup."


class PasskeyInvalid(ApiError):
    code = "passkey_invalid"
    message = "The passkey's answer could not be verified."


class PasskeySignInRefused(PasskeyInvalid):
    # 401 at sign-in, as a wrong password; 400 where the caller is signed in.
    status = 401


class PasskeyChallengeInvalid(ApiError):
    code = "passkey_challenge_invalid"
    message = (
        "The passkey challenge is unknown, used, expired or not yours; "
        "ask for new options."
    )


class UnknownPasskey(ApiError):
    status = 401
    code = "passkey_unknown"
    message = "This passkey is not registered here."


class PasskeyCloned(ApiError):
    status = 401
    code = "passkey_cloned"
    message = (
        "This passkey's signature counter went backwards: a copy of it may be in "
        "use. Sign-in refused."
    )

    def __init__(self, *, user_id, passkey_id):
        super().__init__()
        self.user_id = user_id
        self.passkey_id = passkey_id


class PasskeyExists(ApiError):
    status = 409
    code = "passkey_exists"
    message = "This authenticator is already registered."


class PasskeyNotFound(ApiError):
    status = 404
    code = "passkey_not_found"
    message = "No such passkey."


class NoPasskeys(ApiError):
    status = 409
    code = "passkey_not_registered"
    message = "This account has no passkey; use another second factor."


class TokenMissing(ApiError):
    status = 401
    code = "token_missing"
    message = "Authentication token is missing."


class TokenInvalid(ApiError):
    status = 401
    code = "token_invalid"
    message = "Token is invalid."


class TokenExpired(ApiError):
    status = 401
    code = "token_expired"
    message = "Token has expired."


class TokenRevoked(ApiError):
    status = 401
    code = "token_revoked"
    message = "Token has been revoked."


class CSRFFailed(ApiError):
    status = 403
    code = "csrf_failed"
    message = "CSRF token is missing or does not match."


class AccountDisabled(ApiError):
    status = 403
    code = "account_disabled"
    message = "This account is disabled."


class EmailUnverified(ApiError):
    # After the password check (REQUIRE_EMAIL_VERIFICATION): tells nothing to a guesser.
    status = 403
    code = "email_unverified"
    message = (
        "Confirm your email address first: follow the link we mailed you, or ask "
        "for a new one (POST /api/v1/auth/email/verify/resend)."
    )


class TooManyAttempts(ApiError):
    # Another password attempt for this account is being checked right now.
    status = 429
    code = "rate_limited"
    message = "Too many attempts at once for this account; retry shortly."

    def __init__(self, message=None, **kwargs):
        super().__init__(message, headers={"Retry-After": "1"}, **kwargs)


class Forbidden(ApiError):
    status = 403
    code = "forbidden"
    message = "This endpoint needs an admin token."


class AdminMfaRequired(MfaRequired):
    # The admin API: a session that passed the second factor (ADMIN_REQUIRE_MFA).
    message = "Admin endpoints need a session that passed a second factor."


class NotFound(ApiError):
    status = 404
    code = "not_found"
    message = "The requested resource was not found."


class EmailTaken(ApiError):
    status = 409
    code = "email_taken"
    message = "An account with this email already exists."


class ProviderUnavailable(ApiError):
    status = 502
    code = "provider_unavailable"
    message = "The sign-in provider did not answer; try again later."


class ReturnToInvalid(ApiError):
    code = "return_to_invalid"
    message = "returnTo must be on the frontend's origin."


class RedirectUriInvalid(ApiError):
    code = "redirect_uri_invalid"
    message = "redirectUri is not a registered app redirect."


class LoginCodeInvalid(ApiError):
    status = 401
    code = "login_code_invalid"
    message = "The login code is invalid, expired or already used."


class CodeVerifierInvalid(ApiError):
    status = 401
    code = "code_verifier_invalid"
    message = "The code verifier does not match the code challenge."


class LastSignInMethod(ApiError):
    status = 409
    code = "last_sign_in_method"
    message = "This is the account's last way to sign in; set a password first."


# The callback's failures: it answers each with a redirect carrying the code.
class StateInvalid(ApiError):
    code = "state_invalid"
    message = "The sign-in state is missing, forged, expired or already used."


class ProviderDenied(ApiError):
    code = "provider_denied"
    message = "The provider did not grant the sign-in."


class IdTokenInvalid(ApiError):
    status = 401
    code = "id_token_invalid"
    message = "The provider's ID token did not validate."


class AccountExists(ApiError):
    status = 409
    code = "account_exists"
    message = (
        "An account with this email exists: sign in to it and link the provider "
        "from its settings."
    )


class IdentityInUse(ApiError):
    status = 409
    code = "identity_in_use"
    message = "This provider account is linked to another account."


class ServerBusy(ApiError):
    # Too many password hashes waiting in this worker: come back in a moment.
    status = 503
    code = "busy"
    message = "The server is busy; retry shortly."

    def __init__(self, message=None, **kwargs):
        super().__init__(message, headers={"Retry-After": "1"}, **kwargs)


class ServiceUnavailable(ApiError):
    # /health: `details` names the failing checks.
    status = 503
    code = "unavailable"
    message = "A dependency of the service is unavailable."


def success(data, status=200, headers=None):
    """The success envelope `{"success": true, "data": ...}`."""
    response = jsonify({"success": True, "data": data})
    response.status_code = status
    for name, value in (headers or {}).items():
        response.headers[name] = value
    return response


def register_error_shape(app, blueprint_name, render):
    """Errors of a blueprint's views answered by `render` instead of the envelope.

    `render(status, code, message, details)` returns a Response (the compatibility
    profiles of app/compat answer in their API's own shape).
    """
    app.extensions.setdefault(ERROR_SHAPES, {})[blueprint_name] = render


def blueprint_of_request():
    """The request's blueprint; for a 405, the blueprint of the path's route."""
    if request.blueprint is not None:
        return request.blueprint
    refused = request.routing_exception
    if isinstance(refused, MethodNotAllowed) and refused.valid_methods:
        adapter = current_app.url_map.bind_to_environ(request.environ)
        endpoint, _ = adapter.match(method=sorted(refused.valid_methods)[0])
        return endpoint.rpartition(".")[0] or None
    return None


def error_shape():
    """The renderer of this request's blueprint, or None for the envelope."""
    if not has_request_context():
        return None
    shapes = current_app.extensions.get(ERROR_SHAPES)
    return shapes.get(blueprint_of_request()) if shapes else None


def envelope_error(status, code, message, details=None):
    body = {"success": False, "error": message, "code": code}
    if details:
        body["details"] = details
    response = jsonify(body)
    response.status_code = status
    return response


def error_response(status, code, message, details=None, headers=None):
    """The failure envelope (or a profile's shape); every error goes through here."""
    render = error_shape() or envelope_error
    if has_request_context():
        request.environ[ERROR_CODE_KEY] = code
    # The renderer sets the status (FastAPI's shape answers bad bodies with 422).
    response = render(status, code, message, details)
    for name, value in (headers or {}).items():
        response.headers[name] = value
    if status == 401:
        challenge = 'Bearer realm="api"'
        if code in INVALID_TOKEN_CODES:
            challenge += ', error="invalid_token"'
        response.headers["WWW-Authenticate"] = challenge
    return response


def from_api_error(error):
    return error_response(
        error.status, error.code, error.message, error.details, error.headers
    )


def handle_http_exception(error):
    # Keep headers Werkzeug set (Allow on 405, Retry-After on 429).
    headers = {
        name: value
        for name, value in error.get_response().headers.items()
        if name.lower() not in {"content-type", "content-length"}
    }
    status = error.code or 500
    code = HTTP_CODES.get(status, "bad_request" if status < 500 else "internal_error")
    message = HTTP_MESSAGES.get(status) or error.description or error.name
    return error_response(status, code, message, headers=headers)


def handle_validation_error(error):
    return error_response(
        400, "validation_error", "The request body is invalid.", details=error.messages
    )


def handle_unexpected(error):
    from app.http import request_id

    log.exception("unhandled error (request_id=%s)", request_id())
    return error_response(500, "internal_error", "An internal error occurred.")


def register_error_handlers(app):
    """Route every failure (ours, Werkzeug's, marshmallow's) to the envelope."""
    app.register_error_handler(ApiError, from_api_error)
    app.register_error_handler(ValidationError, handle_validation_error)
    app.register_error_handler(HTTPException, handle_http_exception)
    app.register_error_handler(Exception, handle_unexpected)
