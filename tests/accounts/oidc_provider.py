"""A real OpenID Connect provider for the tests, built with Authlib's server side and served
over HTTP on loopback: discovery, published keys, the authorization endpoint (with a sign-in
form for browsers), and the token endpoint with PKCE, issuing signed ID tokens.

Hallway's client talks to it exactly as to Entra ID or Okta. Knobs let a test make it
misbehave the way an attacker or a broken provider would: claims changed in the ID token
(nonce, issuer, audience, expiry), a token signed with a key it never published, a discovery
document naming another issuer, no ID token at all.
"""

from __future__ import annotations

import hmac
import os
import threading
import time
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlencode

from authlib.integrations.flask_oauth2 import AuthorizationServer
from authlib.oauth2.rfc6749 import ClientMixin
from authlib.oauth2.rfc6749.grants import AuthorizationCodeGrant
from authlib.oauth2.rfc7636 import CodeChallenge
from authlib.oidc.core import UserInfo
from authlib.oidc.core.grants import OpenIDCode
from flask import Flask, jsonify, make_response, redirect, request
from joserfc.jwk import KeySet, RSAKey
from markupsafe import escape
from werkzeug.serving import make_server

# Authlib's server refuses plain http; this provider lives on loopback, in tests only.
os.environ.setdefault("AUTHLIB_INSECURE_TRANSPORT", "1")

CLIENT_ID = "hallway-test"
CLIENT_SECRET = "hallway-test-secret"


@dataclass
class Account:
    sub: str
    email: str
    name: str
    password: str = "idp-password"
    email_verified: bool = True


@dataclass
class Code:
    code: str
    client_id: str
    redirect_uri: str
    scope: str
    user: Account
    nonce: str | None
    code_challenge: str | None
    code_challenge_method: str | None
    auth_time: int = field(default_factory=lambda: int(time.time()))

    def get_redirect_uri(self) -> str:
        return self.redirect_uri

    def get_scope(self) -> str:
        return self.scope

    def get_nonce(self) -> str | None:
        return self.nonce

    def get_auth_time(self) -> int:
        return self.auth_time

    def get_acr(self) -> None:
        return None

    def get_amr(self) -> None:
        return None


class Client(ClientMixin):
    def __init__(self, redirect_uris: list[str]) -> None:
        self.client_id = CLIENT_ID
        self.redirect_uris = redirect_uris

    def get_client_id(self) -> str:
        return self.client_id

    def get_default_redirect_uri(self) -> str:
        return self.redirect_uris[0]

    def get_allowed_scope(self, scope: str) -> str:
        return " ".join(s for s in (scope or "").split() if s in {"openid", "email", "profile"})

    def check_redirect_uri(self, redirect_uri: str) -> bool:
        return redirect_uri in self.redirect_uris

    def check_client_secret(self, client_secret: str) -> bool:
        return hmac.compare_digest(client_secret.encode(), CLIENT_SECRET.encode())

    def check_endpoint_auth_method(self, method: str, endpoint: str) -> bool:
        return endpoint != "token" or method in {"client_secret_basic", "client_secret_post"}

    def check_response_type(self, response_type: str) -> bool:
        return response_type == "code"

    def check_grant_type(self, grant_type: str) -> bool:
        return grant_type == "authorization_code"


class Provider:
    """Start with `start()`; `issuer` is then its address. `signed_in` is who is signed in at
    the provider (its own session, as in a browser that signed in there earlier); when empty,
    its authorization endpoint shows a sign-in form."""

    def __init__(self, redirect_uris: list[str]) -> None:
        self.accounts: dict[str, Account] = {}
        self.signed_in: str | None = None
        self.key = RSAKey.generate_key(2048, parameters={"kid": "test-key", "use": "sig"})
        # Same key id, never published: a token it signs must be refused.
        self.stranger_key = RSAKey.generate_key(2048, parameters={"kid": "test-key"})
        self.sign_with_stranger_key = False
        self.claims: dict[str, Any] = {}  # changed in every ID token issued
        self.metadata_issuer: str | None = None  # the discovery document's, when not its own
        self.no_id_token = False
        # As LemonLDAP::NG by default: the address at the userinfo endpoint only, not in the ID
        # token; and a userinfo answer about someone else (it must be ignored).
        self.address_in_userinfo_only = False
        self.userinfo_sub: str | None = None
        self.tokens: dict[str, Account] = {}  # access token -> whom it is for
        self.last_logout: dict[str, str] = {}  # the last RP-initiated logout's parameters
        self.codes: dict[str, Code] = {}
        self.client = Client(redirect_uris)
        self.app = self._build()
        self._server = make_server("127.0.0.1", 0, self.app, threaded=True)
        self.issuer = f"http://127.0.0.1:{self._server.server_port}"

    def settings(self) -> dict[str, Any]:
        """Hallway's OIDC_PROVIDERS entry for this provider, as "Example University"."""
        return {
            "name": "uni",
            "label": "Example University",
            "issuer": self.issuer,
            "client_id": CLIENT_ID,
            "client_secret": CLIENT_SECRET,
        }

    def add(self, username: str, **details: Any) -> Account:
        self.accounts[username] = Account(**details)
        return self.accounts[username]

    def start(self) -> Provider:
        threading.Thread(target=self._server.serve_forever, daemon=True).start()
        return self

    def stop(self) -> None:
        self._server.shutdown()

    def _build(self) -> Flask:
        provider = self
        app = Flask("test_oidc_provider")
        app.secret_key = "provider"

        class Grant(AuthorizationCodeGrant):
            TOKEN_ENDPOINT_AUTH_METHODS = ["client_secret_basic", "client_secret_post"]

            def save_authorization_code(self, code: str, req: Any) -> None:
                data = req.payload.data
                provider.codes[code] = Code(
                    code=code,
                    client_id=req.client.client_id,
                    redirect_uri=req.payload.redirect_uri,
                    scope=req.payload.scope,
                    user=req.user,
                    nonce=data.get("nonce"),
                    code_challenge=data.get("code_challenge"),
                    code_challenge_method=data.get("code_challenge_method"),
                )

            def query_authorization_code(self, code: str, client: Client) -> Code | None:
                found = provider.codes.get(code)
                return found if found and found.client_id == client.client_id else None

            def delete_authorization_code(self, code: Code) -> None:
                provider.codes.pop(code.code, None)

            def authenticate_user(self, code: Code) -> Account:
                return code.user

        class IdTokens(OpenIDCode):
            def exists_nonce(self, nonce: str, req: Any) -> bool:
                return any(c.nonce == nonce for c in provider.codes.values())

            def resolve_client_private_key(self, client: Client) -> RSAKey:
                return provider.stranger_key if provider.sign_with_stranger_key else provider.key

            def get_client_claims(self, client: Client) -> dict[str, Any]:
                return {"iss": provider.issuer, "aud": [client.client_id]}

            def generate_user_info(self, user: Account, scope: str) -> UserInfo:
                info = UserInfo(sub=user.sub, name=user.name)
                if not provider.address_in_userinfo_only:
                    info.update(email=user.email, email_verified=user.email_verified)
                info.update(provider.claims)
                return info

            def process_token(self, grant: Any, response: Any) -> Any:
                token = super().process_token(grant, response)
                if provider.no_id_token:
                    token.pop("id_token", None)
                return token

        server = AuthorizationServer(
            app,
            query_client=lambda cid: provider.client if cid == CLIENT_ID else None,
            save_token=lambda token, req: provider.tokens.__setitem__(
                token["access_token"], req.user
            ),
        )
        server.register_grant(Grant, [IdTokens(require_nonce=True), CodeChallenge(required=True)])

        @app.get("/.well-known/openid-configuration")
        def discovery() -> Any:
            return jsonify(
                issuer=provider.metadata_issuer or provider.issuer,
                authorization_endpoint=f"{provider.issuer}/authorize",
                token_endpoint=f"{provider.issuer}/token",
                jwks_uri=f"{provider.issuer}/jwks",
                end_session_endpoint=f"{provider.issuer}/logout",
                userinfo_endpoint=f"{provider.issuer}/userinfo",
                response_types_supported=["code"],
                subject_types_supported=["public"],
                id_token_signing_alg_values_supported=["RS256"],
                code_challenge_methods_supported=["S256"],
                token_endpoint_auth_methods_supported=["client_secret_basic", "client_secret_post"],
                scopes_supported=["openid", "email", "profile"],
            )

        @app.get("/jwks")
        def jwks() -> Any:
            return jsonify(KeySet([provider.key]).as_dict(private=False))

        @app.route("/authorize", methods=["GET", "POST"])
        def authorize() -> Any:
            if request.method == "POST":
                username = request.form.get("username", "")
                account = provider.accounts.get(username)
                if account is None or request.form.get("password") != account.password:
                    return _sign_in_form(request.args, "Unknown user or wrong password."), 401
                answer = server.create_authorization_response(grant_user=account)
                # The provider's own session in this browser, as a real one keeps.
                answer.set_cookie("idp_session", username, httponly=True)
                return answer
            who = provider.signed_in or request.cookies.get("idp_session")
            if who in provider.accounts:
                return server.create_authorization_response(grant_user=provider.accounts[who])
            return _sign_in_form(request.args)

        @app.get("/userinfo")
        def userinfo() -> Any:
            bearer = request.headers.get("Authorization", "").removeprefix("Bearer ")
            user = provider.tokens.get(bearer)
            if user is None:
                return jsonify(error="invalid_token"), 401
            return jsonify(
                sub=provider.userinfo_sub or user.sub,
                name=user.name,
                email=user.email,
                email_verified=user.email_verified,
            )

        @app.get("/logout")
        def logout() -> Any:
            """RP-Initiated Logout: the provider's own session ends, then back to the client's
            registered address (its sign-in page)."""
            provider.signed_in = None
            provider.last_logout = dict(request.args)
            back = request.args.get("post_logout_redirect_uri", "")
            known = {u.rsplit("/login/", 1)[0] + "/login" for u in provider.client.redirect_uris}
            answer = (
                redirect(back)
                if request.args.get("client_id") == CLIENT_ID and back in known
                else make_response("You are signed out of Example University.")
            )
            answer.delete_cookie("idp_session")
            return answer

        @app.post("/token")
        def token() -> Any:
            return server.create_token_response()

        return app


def _sign_in_form(args: Any, problem: str = "") -> str:
    return f"""<!doctype html><html lang="en"><head><title>Example University sign-in</title></head>
<body><h1>Example University</h1><p>{escape(problem)}</p>
<form method="post" action="/authorize?{escape(urlencode(args))}">
<label>Username <input name="username" autocomplete="username"></label>
<label>Password <input name="password" type="password"></label>
<button type="submit">Sign in</button></form></body></html>"""
