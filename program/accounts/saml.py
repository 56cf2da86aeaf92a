"""SAML 2.0 sign-in (Shibboleth and the InCommon federation, ADFS, Entra ID's SAML) with pysaml2:
Hallway is a service provider with its metadata at a stable address, sends signed
AuthnRequests, and accepts signed assertions at its assertion consumer service.

pysaml2 checks the signature against the IdP's metadata, the audience, the destination, the
conditions' times and that a response answers a request. Two checks are Hallway's, because
the ACS receives a cross-site POST that carries no session cookie (SameSite=Lax):
- the requests Hallway sent wait in the database, not the session, and each is answered once;
- every accepted assertion's id is kept until it expires, so a replayed one is refused
  (pysaml2 leaves this to its caller).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any

import requests
import sqlalchemy as sa
from defusedxml import ElementTree
from flask import Flask, current_app
from saml2 import BINDING_HTTP_POST, BINDING_HTTP_REDIRECT
from saml2.client import Saml2Client
from saml2.config import Config, SPConfig
from saml2.metadata import create_metadata_string
from saml2.saml import NAMEID_FORMAT_PERSISTENT
from saml2.sigver import SignatureError, get_xmlsec_binary, security_context

from program.accounts.models import SamlRequest, SamlSeen
from program.accounts.sso import Asserted, did_not_work, sign_in_with
from program.db import DomainError, utc_now
from program.extensions import db
from program.people.models import Person
from program.web import external_url

DSIG = "http://www.w3.org/2000/09/xmldsig#"
RESEARCH_AND_SCHOLARSHIP = "http://refeds.org/category/research-and-scholarship"
# What Hallway asks an IdP to release: the REFEDS Research & Scholarship bundle.
ATTRIBUTES = ["eduPersonPrincipalName", "mail", "displayName", "givenName", "sn"]
# How long a sign-in may take at the IdP before its answer is refused.
REQUEST_LIFETIME = timedelta(minutes=15)


@dataclass(frozen=True)
class Settings:
    idp_entity_id: str
    idp_metadata: str  # a file, or an https URL (then checked with `idp_metadata_cert`)
    sp_key: str
    sp_cert: str
    label: str = "your institution"
    idp_metadata_cert: str | None = None
    id_attribute: str = "eduPersonPrincipalName"
    idp_initiated: bool = True

    @property
    def key(self) -> str:
        return f"saml:{self.idp_entity_id}"


def settings(app: Flask | None = None) -> Settings | None:
    found = (app or current_app).config.get("SAML")
    return Settings(**found) if found else None


def _required() -> Settings:
    found = settings()
    if found is None:
        raise RuntimeError("SAML is not configured (HALLWAY_SAML_IDP_ENTITY_ID)")
    return found


def _config(s: Settings, with_idp: bool = True) -> SPConfig:
    """pysaml2's settings; without the IdP's metadata (not read) for Hallway's own."""
    if not with_idp:
        metadata: dict[str, Any] = {}
    elif s.idp_metadata.startswith(("https://", "http://")):
        metadata = {"local": [_fetched(s)]}
    else:
        metadata = {"local": [s.idp_metadata]}
    config = SPConfig()
    config.load(
        {
            "entityid": external_url("accounts.saml_metadata"),
            "xmlsec_binary": get_xmlsec_binary(["/usr/bin", "/usr/local/bin"]),
            "key_file": s.sp_key,
            "cert_file": s.sp_cert,
            "encryption_keypairs": [{"key_file": s.sp_key, "cert_file": s.sp_cert}],
            "metadata": metadata,
            "allow_unknown_attributes": True,
            # Seconds two clocks may differ by when an assertion's times are checked.
            "accepted_time_diff": 60,
            "entity_category": [RESEARCH_AND_SCHOLARSHIP],
            "service": {
                "sp": {
                    "name": "Hallway",
                    "endpoints": {
                        "assertion_consumer_service": [
                            (external_url("accounts.saml_acs"), BINDING_HTTP_POST)
                        ],
                    },
                    "allow_unsolicited": s.idp_initiated,
                    "authn_requests_signed": True,
                    "want_assertions_signed": True,
                    "want_response_signed": False,
                    "name_id_format": NAMEID_FORMAT_PERSISTENT,
                    "optional_attributes": ATTRIBUTES,
                }
            },
        }
    )
    return config


def _fetched(s: Settings) -> str:
    """The IdP's metadata from its URL, kept in the instance folder once its signature, by
    the configured certificate, over the whole document is checked. pysaml2's own loader would
    accept a document with no signature at all even when given a certificate."""
    xml = requests.get(s.idp_metadata, timeout=30).content
    root = ElementTree.fromstring(xml)
    signature = root.find(f"{{{DSIG}}}Signature")
    reference = (
        signature.find(f"{{{DSIG}}}SignedInfo/{{{DSIG}}}Reference")
        if signature is not None
        else None
    )
    # Signed, and what is signed is the document itself (not a part another could be
    # wrapped around).
    if reference is None or not root.get("ID") or reference.get("URI") != f"#{root.get('ID')}":
        raise SignatureError(f"{s.idp_metadata}: metadata not signed as a whole")
    namespace, _, tag = root.tag[1:].partition("}")
    checker = Config()
    checker.xmlsec_binary = get_xmlsec_binary(["/usr/bin", "/usr/local/bin"])
    security_context(checker).verify_signature(
        xml.decode(), cert_file=s.idp_metadata_cert, node_name=f"{namespace}:{tag}"
    )
    kept = Path(current_app.instance_path) / "saml-idp-metadata.xml"
    kept.parent.mkdir(parents=True, exist_ok=True)
    kept.write_bytes(xml)
    return str(kept)


def client() -> Saml2Client:
    """One client per app: reading a federation's metadata takes time."""
    cached = current_app.extensions.get("hallway_saml")
    if cached is None:
        cached = current_app.extensions["hallway_saml"] = Saml2Client(config=_config(_required()))
    return cached


def metadata() -> str:
    """Hallway's SP metadata, for the IdP or the federation's registry: it does not depend on
    the IdP's, which is not read for it (so it is served even while that cannot be)."""
    config = _config(_required(), with_idp=False)
    return create_metadata_string(None, config=config, valid=24 * 365).decode()


def begin(next_url: str | None) -> str:
    """The IdP's address carrying a signed AuthnRequest; the request waits in the database."""
    s = _required()
    try:
        request_id, info = client().prepare_for_authenticate(
            entityid=s.idp_entity_id, binding=BINDING_HTTP_REDIRECT, sign=True
        )
    except Exception as exc:
        # The IdP's metadata could not be read or trusted (a URL down, a signature that does
        # not verify, an IdP missing from it): explained, and tried again next time.
        current_app.extensions.pop("hallway_saml", None)
        raise _did_not_work(s, repr(exc)) from exc
    db.session.add(SamlRequest(id=request_id, next_url=next_url, created_at=utc_now()))
    return dict(info["headers"])["Location"]


def finish(saml_response: str) -> tuple[Person, str | None]:
    """The person an IdP's response signs in, and where they were going; or a DomainError."""
    s = _required()
    now = utc_now()
    # pysaml2 wants a true value for each ("where they came from"): the path, or home.
    waiting = {
        r.id: r.next_url or "/"
        for r in db.session.scalars(
            sa.select(SamlRequest).where(SamlRequest.created_at > now - REQUEST_LIFETIME)
        )
    }
    try:
        response = client().parse_authn_request_response(
            saml_response, BINDING_HTTP_POST, outstanding=waiting
        )
    except Exception as exc:
        # pysaml2 reads hostile input and raises what it likes (a wrong audience is a bare
        # Exception): whatever it raises, nobody is signed in.
        raise _did_not_work(s, repr(exc)) from exc
    # pysaml2 returns a response without its assertion for some failures (a wrong destination
    # among them) rather than raising: only a whole, checked one goes on.
    if response is None or getattr(response, "assertion", None) is None:
        raise _did_not_work(s, "no valid assertion")
    if response.response.destination != external_url("accounts.saml_acs"):
        raise _did_not_work(s, f"sent to {response.response.destination!r}")
    if response.response.issuer is None or response.response.issuer.text != s.idp_entity_id:
        raise _did_not_work(s, "issued by another IdP")
    answered = response.in_response_to
    if answered:
        # pysaml2 let it through as unsolicited when IdP-initiated sign-in is allowed: an
        # answer to a request must be to one still waiting, once.
        if answered not in waiting:
            raise _did_not_work(s, f"answers {answered!r}, which is not waiting")
        db.session.execute(sa.delete(SamlRequest).where(SamlRequest.id == answered))
    elif not s.idp_initiated:
        raise _did_not_work(s, "unsolicited, and IdP-initiated sign-in is off")
    _refuse_replay(s, response)
    person = sign_in_with(_asserted(s, response))
    return person, waiting[answered] if answered else None


def _refuse_replay(s: Settings, response: Any) -> None:
    assertion = response.assertion
    seen = db.session.get(SamlSeen, assertion.id)
    if seen is not None:
        raise _did_not_work(s, f"assertion {assertion.id!r} replayed")
    until = response.not_on_or_after or 0
    now = utc_now()
    # Expired ones can no longer be replayed (their times fail): they need not be kept.
    db.session.execute(sa.delete(SamlSeen).where(SamlSeen.expires_at < now))
    expires = now + timedelta(seconds=max(0, until - int(now.timestamp()))) + REQUEST_LIFETIME
    db.session.add(SamlSeen(id=assertion.id, expires_at=expires))
    db.session.flush()


def _asserted(s: Settings, response: Any) -> Asserted:
    attributes = response.ava or {}

    def first(name: str) -> str | None:
        values = attributes.get(name) or []
        return str(values[0]).strip() if values else None

    name_id = response.name_id
    subject = first(s.id_attribute)
    if not subject and name_id is not None and name_id.format == NAMEID_FORMAT_PERSISTENT:
        subject = name_id.text
    if not subject:
        raise _did_not_work(s, f"neither {s.id_attribute} nor a persistent NameID")
    given, family = first("givenName"), first("sn")
    email = first("mail")
    return Asserted(
        provider=s.key,
        subject=subject,
        email=email.lower() if email else None,
        # The institution's IdP releases `mail` from its own directory: people cannot set it.
        email_verified=bool(email),
        name=first("displayName") or " ".join(n for n in (given, family) if n) or None,
    )


def _did_not_work(s: Settings, why: str) -> DomainError:
    return did_not_work(s.label, s.key, why)
