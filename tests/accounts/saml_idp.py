"""A real SAML 2.0 identity provider for the tests: pysaml2's own IdP side, with its own key
pair and metadata, answering Hallway's signed AuthnRequests with signed assertions. It lives
in-process (SAML's front channel is the browser: the tests carry the request and the answer
between the two, as a browser would), and can answer as a broken or hostile IdP would.
"""

from __future__ import annotations

import base64
import shutil
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.x509.oid import NameOID
from saml2 import BINDING_HTTP_POST, BINDING_HTTP_REDIRECT
from saml2.config import Config, IdPConfig, SPConfig
from saml2.metadata import (
    create_metadata_string,
    entity_descriptor,
    metadata_tostring_fix,
    sign_entity_descriptor,
)
from saml2.saml import NAME_FORMAT_URI, NAMEID_FORMAT_PERSISTENT, NameID
from saml2.server import Server
from saml2.sigver import security_context
from saml2.xmldsig import DIGEST_SHA256, SIG_RSA_SHA256

ENTITY_ID = "https://idp.example.edu/idp/shibboleth"
XMLSEC = shutil.which("xmlsec1")


def key_pair(folder: Path, name: str) -> tuple[str, str]:
    """A private key and a self-signed certificate, as PEM files."""
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, name)])
    now = datetime.now(UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - timedelta(days=1))
        .not_valid_after(now + timedelta(days=365))
        .sign(key, hashes.SHA256())
    )
    key_file, cert_file = folder / f"{name}.key", folder / f"{name}.crt"
    key_file.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.TraditionalOpenSSL,
            serialization.NoEncryption(),
        )
    )
    cert_file.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    return str(key_file), str(cert_file)


def another_sp(folder: Path, entity_id: str, acs: str) -> str:
    """Metadata of another service provider in the same federation (whose assertions must not
    open Hallway), here with Hallway's ACS address so only the audience differs."""
    key_file, cert_file = key_pair(folder, "another-sp")
    config = SPConfig()
    config.load(
        {
            "entityid": entity_id,
            "xmlsec_binary": XMLSEC,
            "key_file": key_file,
            "cert_file": cert_file,
            "service": {
                "sp": {"endpoints": {"assertion_consumer_service": [(acs, BINDING_HTTP_POST)]}}
            },
        }
    )
    return create_metadata_string(None, config=config, valid=24).decode()


class IdP:
    """`metadata_file` is for Hallway's settings; `trust(sp_metadata)` once Hallway's SP
    metadata is known; then `answer(...)` gives the base64 SAMLResponse a browser would post."""

    def __init__(
        self,
        folder: Path,
        entity_id: str = ENTITY_ID,
        lifetime_minutes: int = 5,
        sso_url: str | None = None,
    ):
        self.folder = folder
        self.entity_id = entity_id
        self.sso_url = sso_url or f"{entity_id}/sso"
        self.slo_url = self.sso_url.rsplit("/", 1)[0] + "/slo"
        self.lifetime_minutes = lifetime_minutes
        self.key_file, self.cert_file = key_pair(folder, f"idp-{abs(hash(entity_id))}")
        self.server = Server(config=self._config(None))
        self.metadata_file = str(folder / "idp-metadata.xml")
        Path(self.metadata_file).write_bytes(
            create_metadata_string(None, config=self.server.config, valid=24)
        )

    def _config(self, sp_metadata: list[str] | None) -> IdPConfig:
        config = IdPConfig()
        config.load(
            {
                "entityid": self.entity_id,
                "xmlsec_binary": XMLSEC,
                "key_file": self.key_file,
                "cert_file": self.cert_file,
                "metadata": {"local": sp_metadata} if sp_metadata else {},
                "service": {
                    "idp": {
                        "endpoints": {
                            "single_sign_on_service": [(self.sso_url, BINDING_HTTP_REDIRECT)],
                            "single_logout_service": [(self.slo_url, BINDING_HTTP_REDIRECT)],
                        },
                        "policy": {
                            "default": {
                                "lifetime": {"minutes": self.lifetime_minutes},
                                "attribute_restrictions": None,
                                "name_form": NAME_FORMAT_URI,
                            }
                        },
                        "name_id_format": [NAMEID_FORMAT_PERSISTENT],
                    }
                },
            }
        )
        return config

    def signed_metadata(self, key_file: str, cert_file: str) -> bytes:
        """This IdP's metadata signed by someone else's key (a federation's)."""
        signer = Config()
        signer.key_file, signer.cert_file, signer.xmlsec_binary = key_file, cert_file, XMLSEC
        signer.crypto_backend = self.server.config.crypto_backend
        signed, xml = sign_entity_descriptor(
            entity_descriptor(self.server.config), None, security_context(signer)
        )
        return metadata_tostring_fix(signed, {}, xml).encode()

    def trust(self, *sp_metadata: str) -> None:
        """Know these service providers (their metadata's XML)."""
        paths = []
        for n, xml in enumerate(sp_metadata):
            path = self.folder / f"sp-metadata-{abs(hash(self.entity_id))}-{n}.xml"
            path.write_text(xml)
            paths.append(str(path))
        self.server = Server(config=self._config(paths))

    def request_id(self, redirect_url: str) -> tuple[str, dict[str, Any]]:
        """The AuthnRequest a browser carried here, read as the IdP reads it."""
        query = parse_qs(urlsplit(redirect_url).query)
        request = self.server.parse_authn_request(query["SAMLRequest"][0], BINDING_HTTP_REDIRECT)
        return request.message.id, self.server.response_args(request.message, [BINDING_HTTP_POST])

    def answer_logout(self, redirect_url: str) -> tuple[str, str]:
        """The IdP's side of Hallway's sign-out: (the NameID the LogoutRequest names, the
        address of its signed LogoutResponse back to Hallway)."""
        query = {k: v[0] for k, v in parse_qs(urlsplit(redirect_url).query).items()}
        assert {"SAMLRequest", "SigAlg", "Signature"} <= set(query), "an unsigned request"
        request = self.server.parse_logout_request(query["SAMLRequest"], BINDING_HTTP_REDIRECT)
        response = self.server.create_logout_response(request.message, [BINDING_HTTP_REDIRECT])
        destination = self.server.metadata.single_logout_service(
            request.message.issuer.text, BINDING_HTTP_REDIRECT, "spsso"
        )[0]["location"]
        info = self.server.apply_binding(
            BINDING_HTTP_REDIRECT,
            str(response),
            destination,
            query.get("RelayState", ""),
            response=True,
            sign=True,
            sigalg=SIG_RSA_SHA256,
        )
        return request.message.name_id.text, dict(info["headers"])["Location"]

    def ask_logout(
        self, name_id_text: str, sp_entity_id: str = "http://localhost/saml/metadata", sign=True
    ) -> str:
        """The IdP asks Hallway to sign someone out (they signed out elsewhere): the address
        of its LogoutRequest, signed unless told otherwise."""
        destination = self.server.metadata.single_logout_service(
            sp_entity_id, BINDING_HTTP_REDIRECT, "spsso"
        )[0]["location"]
        _, request = self.server.create_logout_request(
            destination,
            sp_entity_id,
            name_id=NameID(format=NAMEID_FORMAT_PERSISTENT, text=name_id_text),
            sign=False,
        )
        info = self.server.apply_binding(
            BINDING_HTTP_REDIRECT, str(request), destination, sign=sign, sigalg=SIG_RSA_SHA256
        )
        return dict(info["headers"])["Location"]

    def answer(
        self,
        person: dict[str, str],
        redirect_url: str | None = None,
        *,
        acs: str = "http://localhost/saml/acs",
        sp_entity_id: str = "http://localhost/saml/metadata",
        sign_assertion: bool = True,
        sign_alg: str = SIG_RSA_SHA256,
        digest_alg: str = DIGEST_SHA256,
        **overrides: Any,
    ) -> str:
        """A signed answer about `person` (eduPersonPrincipalName, mail, displayName...): to
        the AuthnRequest in `redirect_url`, or unsolicited (IdP-initiated) without one."""
        if redirect_url:
            _, args = self.request_id(redirect_url)
        else:
            args = {"in_response_to": None, "destination": acs, "sp_entity_id": sp_entity_id}
        args = {**args, **overrides}
        args.pop("binding", None)
        response = self.server.create_authn_response(
            {k: [v] for k, v in person.items()},
            userid=person["eduPersonPrincipalName"],
            name_id=NameID(format=NAMEID_FORMAT_PERSISTENT, text=f"nid-{person['mail']}"),
            authn={
                "class_ref": "urn:oasis:names:tc:SAML:2.0:ac:classes:PasswordProtectedTransport"
            },
            sign_assertion=sign_assertion,
            sign_response=False,
            sign_alg=sign_alg,
            digest_alg=digest_alg,
            **args,
        )
        return base64.b64encode(str(response).encode()).decode()


def web_sign_in(idp: IdP, people: dict[str, dict[str, str]], password: str) -> Any:
    """The IdP's sign-in pages as a WSGI app, for a browser: a form at its SSO address, then
    the signed answer in a form that posts itself to the service provider (as Shibboleth's
    does)."""
    from html import escape

    from werkzeug.wrappers import Request, Response

    def app(environ: Any, start_response: Any) -> Any:
        request = Request(environ)
        saml_request = request.values.get("SAMLRequest", "")
        if request.method == "POST":
            person = people.get(request.form.get("username", ""))
            if person is None or request.form.get("password") != password:
                return Response("Unknown user or wrong password.", 401)(environ, start_response)
            _, args = idp.request_id(f"{idp.sso_url}?{urlencode({'SAMLRequest': saml_request})}")
            answer = idp.answer(person, f"{idp.sso_url}?{urlencode({'SAMLRequest': saml_request})}")
            page = f"""<!doctype html><html lang="en"><head><title>Signing you in</title></head>
<body onload="document.forms[0].submit()"><form method="post" action="{escape(args["destination"])}">
<input type="hidden" name="SAMLResponse" value="{escape(answer)}">
<noscript><button type="submit">Continue</button></noscript></form></body></html>"""
            return Response(page, mimetype="text/html")(environ, start_response)
        page = f"""<!doctype html><html lang="en"><head><title>Example University sign-in</title>
</head><body><h1>Example University</h1><form method="post">
<input type="hidden" name="SAMLRequest" value="{escape(saml_request)}">
<label>Username <input name="username"></label>
<label>Password <input name="password" type="password"></label>
<button type="submit">Sign in</button></form></body></html>"""
        return Response(page, mimetype="text/html")(environ, start_response)

    return app
