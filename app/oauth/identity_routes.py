"""The caller's provider identities: list, link, unlink."""

from flask import g

from app.auth.principal import access_token_required
from app.oauth import accounts, identities_bp, services
from app.openapi import examples as ex
from app.openapi.declare import ACCESS, body, operation, response
from app.openapi.examples import example
from app.schemas.auth import MessageSchema
from app.schemas.oauth import IdentityListSchema, LinkBodySchema, LinkDataSchema


@identities_bp.get("")
@operation(tag="oauth", security=ACCESS)
@response(
    IdentityListSchema,
    examples={
        "one": example(
            "One identity", {"identities": [ex.IDENTITY], "hasPassword": True}
        )
    },
)
@access_token_required
def list_identities():
    """The provider identities linked to the caller's account.

    `hasPassword` says whether the account also signs in with a password (an
    account made by a provider sign-in has none until it sets one by the reset
    flow).
    """
    user = g.current_user
    return {
        "identities": accounts.list_identities(user=user),
        "has_password": accounts.has_password(user),
    }


@identities_bp.post("/<provider>/link")
@operation(
    tag="oauth",
    security=ACCESS,
    errors={400: ["return_to_invalid", "redirect_uri_invalid"], 403: ["mfa_required"]},
)
@response(
    LinkDataSchema,
    examples={"url": example("Open it", {"authorizationUrl": ex.LINK_URL})},
)
@access_token_required
@body(LinkBodySchema, optional=True)
def link_identity(provider, body):
    """Start linking a provider: the authorize URL to open, within 2 minutes.

    The browser signs in at the provider and returns to `returnTo` (or the app's
    `redirectUri`) with `linked=<provider>`, or `error=` (`identity_in_use`: that
    provider account belongs to another user). With two-factor sign-in on, the
    access token must show a recent second factor (403 `mfa_required`).
    """
    url = services.link_url(
        user=g.current_user,
        claims=g.access_claims,
        return_to=body.get("return_to"),
        redirect_uri=body.get("redirect_uri"),
        provider_name=provider,
    )
    return {"authorization_url": url}


@identities_bp.delete("/<provider>")
@operation(tag="oauth", security=ACCESS, errors={409: ["last_sign_in_method"]})
@response(
    MessageSchema, examples={"done": example("Unlinked", {"message": "Unlinked."})}
)
@access_token_required
def unlink_identity(provider):
    """Unlink a provider identity.

    Never the last way to sign in: an account without a password keeps its one
    identity (409 `last_sign_in_method`; set a password through the reset flow).
    """
    accounts.unlink(user=g.current_user, provider=provider)
    return {"message": "Unlinked."}
