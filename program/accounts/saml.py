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

import base64
import logging
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
from saml2.ident import code, decode
from saml2.metadata import entity_descriptor, metadata_tostring_fix
from saml2.saml import NAMEID_FORMAT_PERSISTENT
from saml2.sigver import (
    SignatureError,
    get_xmlsec_binary,
    security_context,
    verify_redirect_signature,
)
from saml2.validate import valid_instance
from saml2.xmldsig import DIGEST_SHA1, DIGEST_SHA256, SIG_RSA_SHA1, SIG_RSA_SHA256
from sqlalchemy.exc import IntegrityError

from program.accounts.models import SamlRequest, SamlSeen, SignInIdentity
from program.accounts.sso import Asserted, did_not_work, sign_in_with
from program.audit.services import record
from program.db import DomainError, utc_now
from program.extensions import db
from program.institution import get_settings
from program.links import external_url
from program.people.models import Person

log = logging.getLogger(__name__)

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
    email_attribute: str = "mail"
    name_attribute: str = "displayName"  # else givenName and sn
    idp_initiated: bool = True
    organization: str = ""  # else the institution's name
    organization_url: str = ""  # else Hallway's address
    technical_contact: str = ""  # e-mail addresses
    support_contact: str = ""
    privacy_url: str = ""

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
            "signing_algorithm": SIG_RSA_SHA256,
            "digest_algorithm": DIGEST_SHA256,
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
                        "single_logout_service": [
                            (external_url("accounts.saml_sls"), BINDING_HTTP_REDIRECT)
                        ],
                    },
                    "allow_unsolicited": s.idp_initiated,
                    "authn_requests_signed": True,
                    "want_assertions_signed": True,
                    "want_response_signed": False,
                    "name_id_format": NAMEID_FORMAT_PERSISTENT,
                    # R&S's, and whichever this install identifies people by.
                    "optional_attributes": list(
                        dict.fromkeys(
                            [*ATTRIBUTES, s.id_attribute, s.email_attribute, s.name_attribute]
                        )
                    ),
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


# What Hallway accepts, and so all its metadata advertises (pysaml2 would list every algorithm
# xmlsec knows, md5 and SHA-1 among them, which Hallway refuses).
ACCEPTED_ALGORITHMS = frozenset(
    {
        "http://www.w3.org/2001/04/xmlenc#sha256",
        "http://www.w3.org/2001/04/xmldsig-more#sha384",
        "http://www.w3.org/2001/04/xmlenc#sha512",
        "http://www.w3.org/2001/04/xmldsig-more#rsa-sha256",
        "http://www.w3.org/2001/04/xmldsig-more#rsa-sha384",
        "http://www.w3.org/2001/04/xmldsig-more#rsa-sha512",
        "http://www.w3.org/2001/04/xmldsig-more#ecdsa-sha256",
        "http://www.w3.org/2001/04/xmldsig-more#ecdsa-sha384",
        "http://www.w3.org/2001/04/xmldsig-more#ecdsa-sha512",
    }
)


def metadata() -> str:
    """Hallway's SP metadata, for the IdP or the federation's registry (InCommon and eduGAIN
    ask for the organization, a technical and a support contact, and mdui display names): it
    does not depend on the IdP's, which is not read for it (so it is served even while that
    cannot be)."""
    s = _required()
    config = _config(s, with_idp=False)
    institution = get_settings().name
    config.organization = {
        "name": [(s.organization or institution, "en")],
        "display_name": [(s.organization or institution, "en")],
        "url": [(s.organization_url or external_url("home.index"), "en")],
    }
    contacts = [
        {
            "contact_type": kind,
            "given_name": f"{institution} {kind} contact",
            "email_address": [address if address.startswith("mailto:") else f"mailto:{address}"],
        }
        for kind, address in (("technical", s.technical_contact), ("support", s.support_contact))
        if address
    ]
    config.contact_person = contacts or None
    service = f"Hallway mentoring at {institution}"
    config.name = (service, "en")  # the attribute consuming service's ServiceName
    config.description = ("Mentorship and coffee chats for trainees and faculty.", "en")
    ui_info: dict[str, Any] = {
        "display_name": [{"text": service, "lang": "en"}],
        "description": [
            {"text": "Formal mentoring and informal coffee chats, with check-ins.", "lang": "en"}
        ],
        "information_url": [{"text": external_url("home.how"), "lang": "en"}],
    }
    if s.privacy_url:
        ui_info["privacy_statement_url"] = [{"text": s.privacy_url, "lang": "en"}]
    config.setattr("sp", "ui_info", ui_info)
    descriptor = entity_descriptor(config)
    if descriptor.extensions is not None:
        descriptor.extensions.extension_elements = [
            e
            for e in descriptor.extensions.extension_elements
            if e.tag not in ("DigestMethod", "SigningMethod")
            or e.attributes.get("Algorithm") in ACCEPTED_ALGORITHMS
        ]
    valid_instance(descriptor)
    return metadata_tostring_fix(descriptor, {"xs": "http://www.w3.org/2001/XMLSchema"}).decode()


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
    now = utc_now()
    # Sign-ins abandoned at the IdP: their requests can no longer be answered.
    db.session.execute(
        sa.delete(SamlRequest).where(SamlRequest.created_at < now - REQUEST_LIFETIME)
    )
    db.session.add(SamlRequest(id=request_id, next_url=next_url, created_at=now))
    return dict(info["headers"])["Location"]


@dataclass(frozen=True)
class SignedIn:
    person: Person
    next_url: str | None
    # What single logout names this sign-in by (kept in the person's session).
    logout: dict[str, str | None]


def finish(saml_response: str) -> SignedIn:
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
    _refuse_sha1(s, saml_response)
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
    asserted = _asserted(s, response)
    person = sign_in_with(asserted)
    statements = response.assertion.authn_statement or []
    return SignedIn(
        person,
        waiting[answered] if answered else None,
        {
            "name_id": asserted.name_id,
            "session_index": statements[0].session_index if statements else None,
        },
    )


# --- single logout --------------------------------------------------------------------------


def logout_request(facts: dict[str, str | None]) -> tuple[str, str] | None:
    """(request id, the IdP's address with a signed LogoutRequest) to end the person's session
    at the IdP too; None when the IdP has no single logout (or cannot be asked): Hallway's
    own sign-out has happened either way."""
    s = _required()
    try:
        c = client()
        services = c.metadata.single_logout_service(
            s.idp_entity_id, BINDING_HTTP_REDIRECT, "idpsso"
        )
        if not services or not facts.get("name_id"):
            return None
        destination = services[0]["location"]
        request_id, request = c.create_logout_request(
            destination,
            s.idp_entity_id,
            name_id=decode(facts["name_id"]),
            session_indexes=[facts["session_index"]] if facts.get("session_index") else None,
            sign=False,  # the redirect binding signs the query string instead
        )
        info = c.apply_binding(
            BINDING_HTTP_REDIRECT, str(request), destination, sign=True, sigalg=SIG_RSA_SHA256
        )
    except Exception as exc:
        # Signing out of Hallway must not fail because the IdP's part could not be asked.
        log.warning("SAML single logout request not made: %r", exc, exc_info=True)
        return None
    return request_id, dict(info["headers"])["Location"]


def logout_confirmed(saml_response: str, request_id: str | None) -> bool:
    """Whether the IdP's LogoutResponse is genuine, answers our request and says done."""
    try:
        response = client().parse_logout_request_response(saml_response, BINDING_HTTP_REDIRECT)
    except Exception as exc:
        log.warning("SAML logout response refused: %r", exc)
        return False
    return bool(
        response is not None
        and request_id is not None
        and response.in_response_to == request_id
        and response.status_ok()
    )


def idp_logout(query: dict[str, str]) -> tuple[str, list[int]]:
    """The IdP asks Hallway to sign someone out (they signed out elsewhere): verify its
    signature, end that person's Hallway sessions everywhere, and answer. Returns (the
    address of the IdP's answer, the ids of the people signed out); a DomainError if the
    request cannot be trusted, which changes nothing."""
    s = _required()
    c = client()
    # pysaml2 takes an unsigned LogoutRequest from the redirect binding unless told otherwise:
    # a forged one could sign anyone out. It must carry the IdP's signature.
    signed = {k: query[k] for k in ("SAMLRequest", "SigAlg", "Signature") if query.get(k)}
    if query.get("SigAlg") == SIG_RSA_SHA1:
        raise _logout_refused(s, "logout request signed with RSA-SHA1")
    if query.get("RelayState") is not None:
        signed["RelayState"] = query["RelayState"]
    certs = c.metadata.certs(s.idp_entity_id, "idpsso", "signing")
    if len(signed) < 3 or not any(
        verify_redirect_signature(signed, c.sec.sec_backend, cert) for _, cert in certs
    ):
        raise _logout_refused(s, "logout request without a valid signature")
    try:
        request = c.parse_logout_request(
            query["SAMLRequest"],
            BINDING_HTTP_REDIRECT,
            relay_state=query.get("RelayState"),
            sigalg=query.get("SigAlg"),
            signature=query.get("Signature"),
        )
        message = request.message
        if message.issuer is None or message.issuer.text != s.idp_entity_id:
            raise ValueError("issued by another IdP")
    except Exception as exc:
        raise _logout_refused(s, repr(exc)) from exc
    ended = []
    for identity in db.session.scalars(
        sa.select(SignInIdentity).where(
            SignInIdentity.provider == s.key,
            SignInIdentity.name_id == code(message.name_id),
        )
    ):
        identity.person.rotate_security_stamp()
        record(None, "account.sso_signed_out", identity.person, summary="Single logout")
        ended.append(identity.person_id)
    services = c.metadata.single_logout_service(s.idp_entity_id, BINDING_HTTP_REDIRECT, "idpsso")
    destination = services[0]["location"]
    answer = c.create_logout_response(message, [BINDING_HTTP_REDIRECT], sign=False)
    info = c.apply_binding(
        BINDING_HTTP_REDIRECT,
        str(answer),
        destination,
        query.get("RelayState") or "",
        response=True,
        sign=True,
        sigalg=SIG_RSA_SHA256,
    )
    return dict(info["headers"])["Location"], ended


def _refuse_sha1(s: Settings, saml_response: str) -> None:
    """SHA-1 signatures can be forged by a well-funded attacker (SHAttered, 2017); the REFEDS
    and InCommon baselines require SHA-256. pysaml2 accepts either: Hallway refuses SHA-1."""
    try:
        root = ElementTree.fromstring(base64.b64decode(saml_response, validate=False))
    except Exception as exc:
        raise _did_not_work(s, f"not a SAML response: {exc!r}") from exc
    for method in root.iter(f"{{{DSIG}}}SignatureMethod"):
        if method.get("Algorithm") == SIG_RSA_SHA1:
            raise _did_not_work(s, "signed with RSA-SHA1")
    for method in root.iter(f"{{{DSIG}}}DigestMethod"):
        if method.get("Algorithm") == DIGEST_SHA1:
            raise _did_not_work(s, "digested with SHA-1")


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
    try:
        db.session.flush()
    except IntegrityError as exc:
        # The same assertion posted twice at once: the other request took it.
        db.session.rollback()
        raise _did_not_work(s, f"assertion {assertion.id!r} replayed") from exc


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
    email = first(s.email_attribute)
    return Asserted(
        name_id=code(name_id) if name_id is not None else None,
        provider=s.key,
        subject=subject,
        email=email.lower() if email else None,
        # The institution's IdP releases `mail` from its own directory: people cannot set it.
        email_verified=bool(email),
        name=first(s.name_attribute) or " ".join(n for n in (given, family) if n) or None,
    )


def _did_not_work(s: Settings, why: str) -> DomainError:
    return did_not_work(s.label, s.key, why)


def _logout_refused(s: Settings, why: str) -> DomainError:
    """A sign-out asked by the IdP that Hallway cannot trust (unsigned, SHA-1, another IdP's):
    nothing changes. Said as a sign-out, with what the person can do; the reason is logged for
    the IdP's administrators (an IdP must sign its logout requests: the README says how)."""
    log.warning("Single logout from %s refused: %s", s.key, why)
    return DomainError(
        f"{s.label} asked Hallway to sign you out, but its request could not be verified (it "
        "must be signed), so nothing changed here. If you meant to sign out, use Sign out in "
        "Hallway; if this keeps happening, tell your institution's IT service desk."
    )
