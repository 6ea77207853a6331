"""Sign-in with a provider: authorize, callback, and the login code's exchange.

authorize: a new flow (state, nonce, PKCE S256 by Authlib) in the signed state
cookie, and the provider's URL. callback: the flow's checks, the provider's code
exchanged and its ID token validated (app/oauth/providers.py), the account found,
created or linked, and a one-time login code handed to the SPA (returnTo) or app
(its registered redirect). exchange: the code for the login answer of its
transport, or the mfaRequired challenge of an account with two-factor sign-in.
"""

from dataclasses import dataclass
from datetime import timedelta

from flask import current_app, url_for
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from app import clock, events
from app.auth import alerts, devices, mfa
from app.auth.services import second_factor_challenge
from app.auth.sessions import open_session
from app.database import read_connection
from app.errors import (
    AccountDisabled,
    ApiError,
    ProviderDenied,
    ProviderUnavailable,
    StateInvalid,
    ValidationFailed,
)
from app.extensions import db
from app.models import SpentState, User
from app.models.session import TRANSPORT_BEARER, TRANSPORT_COOKIE
from app.oauth import accounts, flow, login_codes, providers

FEDERATED_AMR = mfa.FEDERATED_AMR
SPENT_STATES = SpentState.__table__
PKCE_CHALLENGE_LENGTH = 43


@dataclass(frozen=True)
class Authorization:
    """Where authorize sends the browser; the state cookie (None: an error URL)."""

    url: str
    sealed_flow: str | None


def callback_url(provider):
    return url_for("oauth.callback", provider=provider, _external=True)


def start(*, provider_name, return_to, mode, redirect_uri, code_challenge, link):
    """A new flow for the authorize redirect (400s before anything is sent)."""
    provider = providers.provider_named(provider_name)
    link_user_id = flow.read_link_token(link) if link else None
    if mode == flow.MODE_BEARER:
        target = flow.checked_app_redirect(redirect_uri)
        if link_user_id is None and not valid_challenge(code_challenge):
            raise ValidationFailed(
                details={"codeChallenge": ["A PKCE S256 challenge is required."]}
            )
    else:
        if redirect_uri or code_challenge:
            raise ValidationFailed(details={"redirectUri": ["Only with mode=bearer."]})
        target = flow.checked_return_to(return_to)
    try:
        request = providers.authorization_request(
            provider, redirect_uri=callback_url(provider.name)
        )
    except ProviderUnavailable as error:
        return Authorization(
            url=flow.with_query(target, error=error.code), sealed_flow=None
        )
    sealed = flow.seal_flow(
        flow.Flow(
            provider=provider.name,
            state=request["state"],
            nonce=request.get("nonce"),
            code_verifier=request["code_verifier"],
            return_to=target,
            mode=mode,
            app_challenge=code_challenge if mode == flow.MODE_BEARER else None,
            link_user_id=link_user_id,
        )
    )
    return Authorization(url=request["url"], sealed_flow=sealed)


def valid_challenge(value):
    # RFC 7636: BASE64URL(SHA-256(verifier)) is 43 characters of the URL-safe alphabet.
    return (
        isinstance(value, str)
        and len(value) == PKCE_CHALLENGE_LENGTH
        and all(char.isalnum() or char in "-_" for char in value)
        and value.isascii()
    )


def state_spent(state):
    with read_connection() as connection:
        return (
            connection.execute(
                select(SPENT_STATES.c.state_hash).where(
                    SPENT_STATES.c.state_hash == flow.state_hash(state)
                )
            ).first()
            is not None
        )


def finish(*, provider_name, sealed_flow, params):
    """The callback: where to send the browser (a login code, or an error code).

    Before the flow is known to be ours, errors go to FRONTEND_URL: a forged
    cookie must not choose where the browser goes.
    """
    provider = providers.provider_named(provider_name)
    state = params.get("state")
    try:
        current = flow.open_flow(sealed_flow, provider=provider.name, state=state)
        if state_spent(current.state):
            raise StateInvalid()
    except ApiError as error:
        return flow.with_query(flow.default_return_to(), error=error.code)
    try:
        return flow.with_query(
            current.return_to, **signed_in(provider, current, params)
        )
    except ApiError as error:
        db.session.rollback()
        return flow.with_query(current.return_to, error=error.code)


def signed_in(provider, current, params):
    """The provider's answer checked, the account's work done: the query to return."""
    if params.get("error"):
        raise ProviderDenied()
    if not params.get("code"):
        raise ProviderDenied("The provider sent no code.")
    profile = providers.signed_in_profile(
        provider,
        code=params["code"],
        code_verifier=current.code_verifier,
        nonce=current.nonce,
        redirect_uri=callback_url(provider.name),
    )
    # The provider's HTTP calls are done: the transaction starts here.
    db.session.add(
        SpentState(
            state_hash=flow.state_hash(current.state),
            expires_at=clock.now()
            + timedelta(seconds=current_app.config["OAUTH_STATE_TTL"]),
        )
    )
    try:
        db.session.flush()
    except IntegrityError:
        db.session.rollback()
        raise StateInvalid() from None
    if current.link_user_id is not None:
        user = accounts.link_to(
            user_id=current.link_user_id, provider=provider.name, profile=profile
        )
        db.session.commit()
        return {"linked": provider.name}
    user = accounts.account_for(provider=provider.name, profile=profile)
    transport = (
        TRANSPORT_BEARER if current.mode == flow.MODE_BEARER else TRANSPORT_COOKIE
    )
    code = login_codes.add_login_code(
        user=user,
        provider=provider.name,
        transport=transport,
        code_challenge=current.app_challenge,
    )
    events.emit(events.IDENTITY_SIGN_IN, user_id=str(user.id), provider=provider.name)
    db.session.commit()
    return {"code": code}


def exchange(*, code, code_verifier, device_token, user_agent, ip):
    """A login code for the login answer: (user, session, device token), or a
    Challenge when the account has two-factor sign-in."""
    row = login_codes.spend_login_code(code=code, code_verifier=code_verifier)
    user = db.session.get(User, row.user_id, with_for_update=True)
    if not user.is_active:
        db.session.commit()
        raise AccountDisabled()
    if user.mfa_enabled:
        return second_factor_challenge(
            user=user,
            device_token=device_token,
            transport=row.transport,
            first_factor=FEDERATED_AMR,
        )
    user_session = open_session(
        user=user, transport=row.transport, user_agent=user_agent, ip=ip
    )
    user_session.amr = FEDERATED_AMR
    device_id, new_device = devices.device_of_login(user=user, presented=device_token)
    if new_device:
        alerts.queue_new_sign_in(user=user, user_agent=user_agent, ip=ip)
    events.emit(
        events.LOGIN_OK,
        user_id=str(user.id),
        session_id=str(user_session.id),
        device=device_id,
        new_device=new_device,
        provider=row.provider,
    )
    db.session.commit()
    return user, user_session, devices.mint_device_token(user=user, device_id=device_id)


def link_url(*, user, claims, return_to, redirect_uri, provider_name):
    """The authorize URL that links `provider` to the caller (used at once)."""
    providers.provider_named(provider_name)
    mfa.require_recent_factor(user=user, claims=claims)
    if redirect_uri:
        flow.checked_app_redirect(redirect_uri)
        mode, return_to = flow.MODE_BEARER, None
    else:
        flow.checked_return_to(return_to)
        mode = None
    return url_for(
        "oauth.authorize",
        provider=provider_name,
        link=flow.mint_link_token(user_id=user.id),
        returnTo=return_to or None,
        mode=mode,
        redirectUri=redirect_uri or None,
        _external=True,
    )
