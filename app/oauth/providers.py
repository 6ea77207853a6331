"""The sign-in providers of OIDC_PROVIDERS, as Authlib clients, and what they say.

OpenID Connect providers are configured by their issuer: Authlib reads the
discovery document once (cached for the process) and the JWKS it names, and reads
the JWKS again when an ID token names a key it does not have (key rotation). The
`github` preset is plain OAuth 2.0: the user comes from GitHub's user and
verified-emails API. Every call to a provider is bounded by OAUTH_HTTP_TIMEOUT.
"""

import re
from dataclasses import dataclass

import requests
from authlib.integrations.base_client import OAuthError
from authlib.integrations.flask_client import OAuth
from flask import current_app
from joserfc.errors import JoseError

from app.errors import IdTokenInvalid, NotFound, ProviderDenied, ProviderUnavailable

EXTENSION = "oidc_providers"
KIND_OIDC = "oidc"
KIND_GITHUB = "github"
NAME_PATTERN = re.compile(r"^[a-z0-9][a-z0-9-]{0,31}$")
OIDC_SCOPES = ("openid", "email", "profile")
GITHUB = {
    "authorize_url": "https://github.com/login/oauth/authorize",
    "token_url": "https://github.com/login/oauth/access_token",
    "api_base_url": "https://api.github.com/",
    "scopes": ("read:user", "user:email"),
}
DISCOVERY_PATH = "/.well-known/openid-configuration"
# What the ID token may be signed with: asymmetric algorithms of a published key.
NEVER_ACCEPTED_ALGS = {"none", "HS256", "HS384", "HS512"}
PROVIDER_FAILURES = (requests.RequestException, ValueError, RuntimeError, KeyError)


@dataclass(frozen=True)
class Provider:
    name: str
    label: str
    kind: str
    issuer: str | None
    client: object  # Authlib's Flask OAuth 2.0 app of this provider


@dataclass(frozen=True)
class Profile:
    """Who the provider says signed in."""

    subject: str
    email: str | None
    email_verified: bool
    name: str


def entry_error(index, message):
    return RuntimeError(f"OIDC_PROVIDERS entry {index}: {message}")


def registration_of(index, entry, timeout):
    """Authlib `register` arguments of one OIDC_PROVIDERS entry (camelCase JSON)."""
    if not isinstance(entry, dict):
        raise entry_error(index, "must be an object")
    name = entry.get("name")
    if not isinstance(name, str) or not NAME_PATTERN.match(name):
        raise entry_error(index, "name must be 1-32 of a-z, 0-9 and -")
    for key in ("clientId", "clientSecret"):
        if not isinstance(entry.get(key), str) or not entry[key]:
            raise entry_error(index, f"{key} is required")
    kind = KIND_GITHUB if entry.get("preset") == KIND_GITHUB else KIND_OIDC
    if entry.get("preset") not in (None, KIND_GITHUB):
        raise entry_error(index, "preset must be github")
    defaults = GITHUB if kind == KIND_GITHUB else {"scopes": OIDC_SCOPES}
    scopes = entry.get("scopes") or defaults["scopes"]
    arguments = {
        "name": name,
        "client_id": entry["clientId"],
        "client_secret": entry["clientSecret"],
        "client_kwargs": {
            "scope": " ".join(scopes),
            "code_challenge_method": "S256",
            "default_timeout": timeout,
        },
    }
    issuer = None
    if kind == KIND_GITHUB:
        arguments["authorize_url"] = entry.get("authorizeUrl", GITHUB["authorize_url"])
        arguments["access_token_url"] = entry.get("tokenUrl", GITHUB["token_url"])
        arguments["api_base_url"] = entry.get("apiBaseUrl", GITHUB["api_base_url"])
        arguments["client_kwargs"]["token_endpoint_auth_method"] = "client_secret_post"
    else:
        issuer = entry.get("issuer")
        if not isinstance(issuer, str) or not issuer.startswith(
            ("https://", "http://")
        ):
            raise entry_error(index, "issuer must be an http(s) URL")
        if "openid" not in scopes:
            raise entry_error(index, "scopes must include openid")
        arguments["server_metadata_url"] = entry.get(
            "discoveryUrl", issuer.rstrip("/") + DISCOVERY_PATH
        )
    label = entry.get("label") or name.title()
    return name, label, kind, issuer, arguments


def register_providers(app):
    """One Authlib client per configured provider, in app.extensions."""
    oauth = OAuth(app)
    providers = {}
    for index, entry in enumerate(app.config["OIDC_PROVIDERS"]):
        name, label, kind, issuer, arguments = registration_of(
            index, entry, app.config["OAUTH_HTTP_TIMEOUT"]
        )
        if name in providers:
            raise entry_error(index, f"a second provider named {name!r}")
        client = oauth.register(**arguments)
        providers[name] = Provider(
            name=name, label=label, kind=kind, issuer=issuer, client=client
        )
    app.extensions[EXTENSION] = providers


def configured_providers():
    return list(current_app.extensions[EXTENSION].values())


def provider_named(name):
    """The configured provider of this name; 404 not_found for any other."""
    provider = current_app.extensions[EXTENSION].get(name)
    if provider is None:
        raise NotFound("No such sign-in provider.")
    return provider


def authorization_request(provider, *, redirect_uri):
    """Authlib's authorization URL with a new state, nonce and PKCE verifier."""
    try:
        return provider.client.create_authorization_url(redirect_uri)
    except PROVIDER_FAILURES:
        raise ProviderUnavailable() from None


def signed_in_profile(provider, *, code, code_verifier, nonce, redirect_uri):
    """Exchange the provider's code and return who signed in (ID token checked)."""
    try:
        token = provider.client.fetch_access_token(
            redirect_uri=redirect_uri, code=code, code_verifier=code_verifier
        )
    except OAuthError:
        raise ProviderDenied("The provider refused the sign-in code.") from None
    except PROVIDER_FAILURES:
        raise ProviderUnavailable() from None
    if provider.kind == KIND_GITHUB:
        return github_profile(provider, token)
    return oidc_profile(provider, token, nonce)


def id_token_claims(provider, token, nonce):
    """The ID token's claims: signature by the JWKS, iss, aud, exp, nonce, azp."""
    if not isinstance(token.get("id_token"), str):
        raise IdTokenInvalid("The provider sent no ID token.")
    client = provider.client
    metadata = client.load_server_metadata()
    algorithms = metadata.get("id_token_signing_alg_values_supported") or ["RS256"]
    if NEVER_ACCEPTED_ALGS.intersection(algorithms):
        # Authlib accepts what discovery lists: a provider listing these is refused.
        algorithms = [alg for alg in algorithms if alg not in NEVER_ACCEPTED_ALGS]
        metadata["id_token_signing_alg_values_supported"] = algorithms or ["RS256"]
    options = {
        "iss": {"essential": True, "value": provider.issuer},
        "aud": {"essential": True, "value": client.client_id},
        "exp": {"essential": True},
        "sub": {"essential": True},
    }
    try:
        return client.parse_id_token(
            token, nonce=nonce, claims_options=options, leeway=30
        )
    except JoseError as error:
        raise IdTokenInvalid(
            f"The provider's ID token did not validate: {error.error}"
        ) from None
    except (requests.RequestException, RuntimeError):
        # The JWKS, read again for an unknown key, did not come.
        raise ProviderUnavailable() from None
    except (ValueError, TypeError, KeyError):
        raise IdTokenInvalid() from None


def oidc_profile(provider, token, nonce):
    claims = dict(id_token_claims(provider, token, nonce))
    if not claims.get("email") and provider.client.load_server_metadata().get(
        "userinfo_endpoint"
    ):
        claims = {**userinfo_claims(provider, token, claims["sub"]), **claims}
    return Profile(
        subject=str(claims["sub"]),
        email=email_of(claims.get("email")),
        email_verified=claims.get("email_verified") in (True, "true"),
        name=display_name(claims),
    )


def userinfo_claims(provider, token, subject):
    """UserInfo's claims when they belong to the ID token's subject (OIDC 5.3.2)."""
    try:
        info = dict(provider.client.userinfo(token=token))
    except PROVIDER_FAILURES:
        raise ProviderUnavailable() from None
    if info.get("sub") != subject:
        return {}
    info.pop("sub")
    return info


def github_profile(provider, token):
    """GitHub's user, with its primary email when GitHub has verified it."""
    client = provider.client
    try:
        user = client.get("user", token=token)
        user.raise_for_status()
        emails = client.get("user/emails", token=token)
        emails.raise_for_status()
        user, emails = user.json(), emails.json()
    except PROVIDER_FAILURES:
        raise ProviderUnavailable() from None
    if not isinstance(user, dict) or not isinstance(user.get("id"), int):
        raise ProviderUnavailable("GitHub sent no user.")
    primary = (
        next(
            (
                item
                for item in emails
                if isinstance(item, dict)
                and item.get("primary")
                and item.get("verified")
            ),
            None,
        )
        if isinstance(emails, list)
        else None
    )
    claims = {"name": user.get("name"), "preferred_username": user.get("login")}
    return Profile(
        subject=str(user["id"]),
        email=email_of(primary and primary.get("email")),
        email_verified=primary is not None,
        name=display_name(claims),
    )


def email_of(value):
    """A plausible email, lower-cased; anything else is no email."""
    if not isinstance(value, str) or len(value) > 254 or value.count("@") != 1:
        return None
    local, domain = value.split("@")
    if not local or "." not in domain or any(char.isspace() for char in value):
        return None
    return value.strip().lower()


def display_name(claims):
    for key in ("name", "preferred_username", "given_name", "nickname"):
        value = claims.get(key)
        if isinstance(value, str) and value.strip():
            return value.strip()[:100]
    email = email_of(claims.get("email"))
    return email.split("@")[0][:100] if email else "New user"
