"""OpenID Connect sign-in (Microsoft Entra ID, Okta, Google Workspace, any certified provider)
with Authlib: discovery, the authorization code flow with PKCE, state and nonce, and the ID
token checked for signature, issuer, audience, expiry and nonce before anyone is signed in.

Providers come from the environment (`HALLWAY_OIDC_PROVIDERS`, see `program.config`); each is
registered once per app under its short name.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

from authlib.common.errors import AuthlibBaseError
from authlib.integrations.base_client.errors import MismatchingStateError
from authlib.integrations.flask_client import OAuth
from flask import Flask, current_app, g, session
from joserfc.errors import JoseError
from requests import RequestException

from program.accounts.sso import Asserted, did_not_work, sign_in_with
from program.db import DomainError
from program.links import external_url
from program.people.models import Person

log = logging.getLogger(__name__)

# ID tokens are checked against the clock with this much slack either way (seconds): clocks
# of two servers differ a little; a token older than this past its expiry is refused.
CLOCK_SKEW = 60


@dataclass(frozen=True)
class Provider:
    name: str  # short, as in the environment and the callback's address
    label: str  # "Sign in with <label>"
    issuer: str
    client_id: str
    client_secret: str
    # The provider is the institution's own directory, whose addresses people cannot set
    # themselves: its e-mail claim links accounts even without `email_verified`.
    trust_email: bool = False
    scope: str = "openid email profile"

    @property
    def key(self) -> str:
        return f"oidc:{self.name}"


def providers(app: Flask | None = None) -> list[Provider]:
    config = (app or current_app).config
    return [Provider(**p) for p in config.get("OIDC_PROVIDERS", [])]


def provider(name: str) -> Provider | None:
    return next((p for p in providers() if p.name == name), None)


def init_app(app: Flask) -> None:
    oauth = OAuth(app)
    for p in providers(app):
        oauth.register(
            name=p.name,
            client_id=p.client_id,
            client_secret=p.client_secret,
            server_metadata_url=p.issuer.rstrip("/") + "/.well-known/openid-configuration",
            client_kwargs={"scope": p.scope, "code_challenge_method": "S256", "timeout": 10},
        )
    app.extensions["hallway_oidc"] = oauth


def client(p: Provider) -> Any:
    return current_app.extensions["hallway_oidc"].create_client(p.name)


def asserted(p: Provider, token: dict[str, Any]) -> Asserted:
    """Who the provider's answer is about. Authlib has checked the ID token's signature against
    the provider's published keys, and its audience, expiry, nonce and issuer against the
    discovery document; this checks the discovery document's issuer is the one configured
    (OpenID Discovery 1.0, section 4.3), so a document naming another issuer is refused."""
    claims = token.get("userinfo")
    if not claims:
        raise _did_not_work(p, "no ID token in the token response")
    metadata = client(p).load_server_metadata()
    issuer = metadata.get("issuer", "")
    if issuer.rstrip("/") != p.issuer.rstrip("/"):
        raise _did_not_work(p, f"discovery names issuer {issuer!r}, not {p.issuer!r}")
    if not claims.get("email") and metadata.get("userinfo_endpoint"):
        # Many providers (LemonLDAP::NG by default) give the address at the userinfo endpoint
        # only; a standard client asks there when the ID token lacks it.
        claims = {**claims, **_from_userinfo(p, token, claims)}
    email = claims.get("email")
    return Asserted(
        provider=p.key,
        subject=str(claims.get("sub") or ""),
        email=email.strip().lower() if isinstance(email, str) else None,
        email_verified=claims.get("email_verified") is True or p.trust_email,
        name=claims.get("name"),
    )


def _from_userinfo(p: Provider, token: dict[str, Any], claims: dict[str, Any]) -> dict[str, Any]:
    """The address claims from the provider's userinfo endpoint (read with the access token),
    which must be about the ID token's subject (OpenID Connect Core 5.3.2): else nothing."""
    try:
        info = dict(client(p).userinfo(token=token))
    except (AuthlibBaseError, JoseError, RequestException, ValueError) as exc:
        log.warning("OpenID userinfo from %s not read: %r", p.name, exc)
        return {}
    if str(info.get("sub") or "") != str(claims.get("sub") or ""):
        log.warning("OpenID userinfo from %s is about another subject: ignored", p.name)
        return {}
    return {k: info[k] for k in ("email", "email_verified", "name") if k in info}


def begin(p: Provider, next_url: str | None) -> Any:
    """The redirect to the provider's sign-in page. State, nonce and the PKCE verifier wait in
    this browser's session until the provider sends the person back."""
    session["sso_next"] = next_url
    try:
        return client(p).authorize_redirect(external_url("accounts.sso_callback", name=p.name))
    except (AuthlibBaseError, RequestException, ValueError) as exc:
        # The provider's discovery document could not be read: it is down, or misconfigured.
        raise _did_not_work(p, repr(exc)) from exc


def finish(p: Provider) -> Person:
    """The person the provider's answer (this request) signs in, or a DomainError that says,
    in words for the person, why not. What went wrong in the protocol is logged for IT."""
    try:
        token = client(p).authorize_access_token(
            leeway=CLOCK_SKEW,
            # Authlib checks the audience only when told to: a token the provider issued to
            # another application (with `azp` naming this one) would pass without it.
            claims_options={
                "iss": {"essential": True, "values": [p.issuer]},
                "aud": {"essential": True, "values": [p.client_id]},
            },
        )
    except MismatchingStateError as exc:
        log.warning("OpenID sign-in with %s refused: %s", p.name, exc)
        raise DomainError(
            "That sign-in was started in another window, or took too long. Try again."
        ) from exc
    except (AuthlibBaseError, JoseError, RequestException, ValueError, KeyError) as exc:
        raise _did_not_work(p, repr(exc)) from exc
    person = sign_in_with(asserted(p, token))
    g.oidc_id_token = token.get("id_token")
    return person


def last_id_token() -> str | None:
    """The ID token of the sign-in this request finished, kept for the provider's sign-out
    (`id_token_hint`: without it a provider asks "Do you want to log out?")."""
    return g.get("oidc_id_token")


def _did_not_work(p: Provider, why: str) -> DomainError:
    return did_not_work(p.label, p.key, why)


def next_url() -> str | None:
    return session.pop("sso_next", None)


def logout_url(name: str, id_token: str | None = None) -> str | None:
    """Where to send someone who signed in with this provider when they sign out of Hallway, so
    that they are signed out there too (OpenID Connect RP-Initiated Logout): on a shared
    workstation, the next person's "Sign in with …" must not find them still signed in. None
    when the provider has no end-session endpoint, or cannot be asked."""
    p = provider(name)
    if p is None:
        return None
    try:
        endpoint = client(p).load_server_metadata().get("end_session_endpoint")
    except (AuthlibBaseError, RequestException, ValueError) as exc:
        log.warning("OpenID sign-out at %s not asked: %r", p.name, exc)
        return None
    if not endpoint:
        return None
    values = {"client_id": p.client_id, "post_logout_redirect_uri": external_url("accounts.login")}
    if id_token:
        values["id_token_hint"] = id_token
    query = urlencode(values)
    return f"{endpoint}{'&' if '?' in endpoint else '?'}{query}"
