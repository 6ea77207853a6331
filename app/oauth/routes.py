"""Sign-in with a provider: authorize, callback, the login code's exchange, the list.

Their rate limits are declared in app/ratelimit.py's table, not here.
"""

from flask import redirect, request

from app.auth import mfa
from app.auth.devices import presented_device_token
from app.auth.tokens import issue_tokens
from app.http import client_ip, user_agent
from app.oauth import bp, flow, providers, services
from app.openapi import examples as ex
from app.openapi.declare import Alternative, body, operation, query, response
from app.openapi.examples import example
from app.schemas.auth import LoginDataSchema
from app.schemas.mfa import MfaChallengeSchema
from app.schemas.oauth import AuthorizeQuerySchema, LoginCodeSchema, ProviderListSchema

HTML = "text/html"
NO_STORE = "no-store"


def redirect_to(url):
    answer = redirect(url, code=302)
    answer.headers["Cache-Control"] = NO_STORE
    return answer


@bp.get("/providers")
@operation(tag="oauth")
@response(
    ProviderListSchema,
    examples={"one": example("One provider", {"providers": [ex.PROVIDER]})},
)
def list_providers():
    """The configured sign-in providers.

    Their names and labels, in OIDC_PROVIDERS order: what a SPA shows as its
    "Sign in with ..." buttons.
    """
    return {"providers": providers.configured_providers()}


@bp.get("/<provider>/authorize")
@operation(
    tag="oauth",
    errors={
        400: ["return_to_invalid", "redirect_uri_invalid"],
        401: ["token_invalid"],
    },
)
@response(None, 302, media_type=HTML, dump=False, envelope=False)
@query(AuthorizeQuerySchema)
def authorize(provider, query):
    """Start a sign-in: 302 to the provider.

    The browser goes to the provider with `state`, `nonce` and a PKCE S256
    challenge; the flow travels in the signed, HttpOnly, `SameSite=Lax`
    `oauth_state` cookie. SPAs name `returnTo` (on FRONTEND_URL's origin); apps send
    `mode=bearer`, a `redirectUri` of OAUTH_APP_REDIRECTS and their own
    `codeChallenge`. A provider that does not answer sends the browser back with
    `error=provider_unavailable`.
    """
    started = services.start(
        provider_name=provider,
        return_to=query.get("return_to"),
        mode=query.get("mode", flow.MODE_COOKIE),
        redirect_uri=query.get("redirect_uri"),
        code_challenge=query.get("code_challenge"),
        link=query.get("link"),
    )
    answer = redirect_to(started.url)
    if started.sealed_flow is not None:
        flow.set_state_cookie(answer, started.sealed_flow)
    return answer


@bp.get("/<provider>/callback")
@operation(tag="oauth")
@response(None, 302, media_type=HTML, dump=False, envelope=False)
def callback(provider):
    """The provider's redirect back: 302 to returnTo (or the app) with a login code.

    The code is exchanged at POST /auth/oauth/token within OAUTH_LOGIN_CODE_TTL.
    Every failure (cancelled, forged or replayed state, ID token refused, provider
    down, an account that must link from its settings) redirects with `error=`
    and its code instead; a link flow returns `linked=<provider>`.
    """
    target = services.finish(
        provider_name=provider,
        sealed_flow=request.cookies.get(flow.STATE_COOKIE),
        params=request.args.to_dict(),
    )
    return flow.clear_state_cookie(redirect_to(target))


@bp.post("/token")
@operation(
    tag="oauth",
    errors={
        401: ["login_code_invalid", "code_verifier_invalid"],
        403: ["account_disabled"],
    },
    device_cookie=True,
)
@response(
    LoginDataSchema,
    tokens=True,
    alternative=MfaChallengeSchema,
    examples={
        "cookie": example(
            "Browser (cookie transport)", {**ex.LOGIN_PROFILE, **ex.TOKENS}
        ),
        "bearer": example(
            "App (bearer transport)", {**ex.LOGIN_PROFILE, **ex.BEARER_LOGIN_TOKENS}
        ),
        "mfa": example(
            "Two-factor sign-in on: POST /mfa/verify next", ex.MFA_CHALLENGE
        ),
    },
)
@body(
    LoginCodeSchema,
    examples={
        "spa": example("SPA", {"code": ex.LOGIN_CODE}),
        "app": example(
            "App", {"code": ex.LOGIN_CODE, "codeVerifier": ex.CODE_VERIFIER}
        ),
    },
)
def exchange_login_code(body):
    """Exchange a provider sign-in's login code for the login answer.

    Once, within OAUTH_LOGIN_CODE_TTL. The transport is the flow's: cookie for
    SPAs, bearer for apps, whose `codeVerifier` must match the challenge they gave
    at authorize. An account with two-factor sign-in gets `mfaRequired` as a
    password login does.
    """
    outcome = services.exchange(
        code=body["code"],
        code_verifier=body.get("code_verifier"),
        device_token=presented_device_token(body.get("device_token")),
        user_agent=user_agent(),
        ip=client_ip(),
    )
    if isinstance(outcome, mfa.Challenge):
        return Alternative(outcome)
    user, user_session, device_token = outcome
    return issue_tokens(user_session, device_token, role=user.role), user
