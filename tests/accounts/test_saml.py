"""Signing in with SAML 2.0 against a real IdP (pysaml2's own IdP side, its own keys and
metadata; tests/accounts/saml_idp.py): SP metadata, SP- and IdP-initiated sign-in, linking,
and every answer an attacker or a broken IdP could post, refused with nobody signed in."""

from __future__ import annotations

import base64
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from defusedxml import ElementTree
from flask import Flask
from flask.testing import FlaskClient
from saml2.xmldsig import DIGEST_SHA1, SIG_RSA_SHA1
from werkzeug.serving import make_server

from program import create_app
from program.accounts.models import SamlRequest, SignInIdentity
from program.config import saml_settings
from program.extensions import db
from tests.accounts.saml_idp import ENTITY_ID, XMLSEC, IdP, another_sp, key_pair
from tests.conftest import IN_CI, empty_all_tables, leaves_for, make_config, new_app
from tests.factories import Factory

if XMLSEC is None:
    if IN_CI:
        pytest.fail("CI must run the SAML tests: install xmlsec1 (.ci/run does)")
    pytest.skip("xmlsec1 is not installed (apt-get install xmlsec1)", allow_module_level=True)

GRACE = {
    "eduPersonPrincipalName": "ghopper@example.edu",
    "mail": "Grace.Hopper@example.edu",
    "givenName": "Grace",
    "sn": "Hopper",
}
REFUSED = "Signing in with Example University did not work"


def settings(idp: IdP, folder: Path, **changes: Any) -> dict[str, Any]:
    sp_key, sp_cert = key_pair(folder, "sp")
    return {
        "idp_entity_id": idp.entity_id,
        "idp_metadata": idp.metadata_file,
        "sp_key": sp_key,
        "sp_cert": sp_cert,
        "label": "Example University",
        "idp_metadata_cert": None,
        "id_attribute": "eduPersonPrincipalName",
        "email_attribute": "mail",
        "name_attribute": "displayName",
        "idp_initiated": True,
        **changes,
    }


def saml_app(database_url: str, folder: Path, idp: IdP, **changes: Any) -> Flask:
    application = new_app(database_url, folder, SAML=settings(idp, folder, **changes))
    idp.trust(application.test_client().get("/saml/metadata").get_data(as_text=True))
    return application


@pytest.fixture
def idp(tmp_path: Path) -> IdP:
    return IdP(tmp_path)


@pytest.fixture
def app(database_url: str, tmp_path: Path, idp: IdP) -> Iterator[Flask]:
    application = saml_app(database_url, tmp_path, idp)
    yield application
    empty_all_tables(application)


@pytest.fixture
def grace(make: Factory) -> Any:
    return make.person("Grace Hopper", email="grace.hopper@example.edu")


def to_idp(client: FlaskClient, path: str = "/login/saml") -> str:
    start = client.get(path)
    assert start.status_code == 302
    assert start.headers["Location"].startswith(f"{ENTITY_ID}/sso?SAMLRequest=")
    return start.headers["Location"]


def post(client: FlaskClient, answer: str) -> Any:
    # The IdP's page posts the form cross-site: no Hallway CSRF token, no session cookie.
    return client.post("/saml/acs", data={"SAMLResponse": answer}, csrf=False)


def signed_in(client: FlaskClient) -> bool:
    return client.get("/").status_code == 200


def identities(app: Flask) -> list[tuple[int, str]]:
    with app.app_context():
        return [
            tuple(r)
            for r in db.session.execute(sa.select(SignInIdentity.person_id, SignInIdentity.subject))
        ]


# --- the journey ----------------------------------------------------------------------------


def test_the_sp_metadata_names_its_acs_certificate_and_the_attributes_it_asks_for(app, client):
    response = client.get("/saml/metadata")
    assert response.status_code == 200
    assert response.mimetype == "application/samlmetadata+xml"
    xml = response.get_data(as_text=True)
    assert 'entityID="http://localhost/saml/metadata"' in xml
    assert 'Location="http://localhost/saml/acs"' in xml
    assert "X509Certificate" in xml
    assert 'AuthnRequestsSigned="true"' in xml and 'WantAssertionsSigned="true"' in xml
    assert "http://refeds.org/category/research-and-scholarship" in xml
    assert "urn:oid:1.3.6.1.4.1.5923.1.1.1.6" in xml  # eduPersonPrincipalName


def test_the_sp_metadata_is_fit_for_a_federation_and_advertises_only_what_it_accepts(app, client):
    """InCommon and eduGAIN registration: a ServiceName, the organization, contacts and mdui
    display names; and only SHA-2 algorithms (Hallway refuses md5 and SHA-1)."""
    app.config["SAML"] = {
        **app.config["SAML"],
        "organization": "Example University",
        "organization_url": "https://www.example.edu/",
        "technical_contact": "mailto:idm@example.edu",
        "support_contact": "mailto:helpdesk@example.edu",
        "privacy_url": "https://www.example.edu/privacy",
    }
    xml = client.get("/saml/metadata").get_data(as_text=True)
    root = ElementTree.fromstring(xml)
    md = "{urn:oasis:names:tc:SAML:2.0:metadata}"
    names = [e.text for e in root.iter(f"{md}ServiceName")]
    assert names and all(n and "Hallway" in n for n in names)
    assert [e.text for e in root.iter(f"{md}OrganizationName")] == ["Example University"]
    contacts = {e.get("contactType") for e in root.iter(f"{md}ContactPerson")}
    assert contacts == {"technical", "support"}
    ui = "{urn:oasis:names:tc:SAML:metadata:ui}"
    assert [e.text for e in root.iter(f"{ui}DisplayName")]
    assert [e.text for e in root.iter(f"{ui}PrivacyStatementURL")] == [
        "https://www.example.edu/privacy"
    ]
    algorithms = [
        e.get("Algorithm")
        for e in root.iter()
        if e.tag.endswith(("}DigestMethod", "}SigningMethod")) and e.get("Algorithm")
    ]
    assert algorithms and not [a for a in algorithms if "sha1" in a or "md5" in a], algorithms


def test_a_person_on_a_roster_signs_in_and_goes_where_they_were_going(app, client, idp, grace):
    request = to_idp(client, "/login/saml?next=/account/notifications")
    response = post(client, idp.answer(GRACE, request))
    assert response.status_code == 302
    assert response.headers["Location"] == "/account/notifications"
    assert "Grace Hopper" in client.get("/").get_data(as_text=True)
    assert identities(app) == [(grace.id, "ghopper@example.edu")]
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count()).select_from(SamlRequest)) == 0


def test_the_idp_may_start_a_sign_in(app, client, idp, grace):
    response = post(client, idp.answer(GRACE))
    assert response.status_code == 302 and response.headers["Location"] == "/"
    assert signed_in(client)


def test_without_eppn_a_persistent_name_id_identifies_the_person(app, client, idp, grace):
    without = {k: v for k, v in GRACE.items() if k != "eduPersonPrincipalName"}
    response = post(client, idp.answer({**without, "eduPersonPrincipalName": ""}, to_idp(client)))
    assert response.status_code == 302
    assert identities(app) == [(grace.id, "nid-Grace.Hopper@example.edu")]


def test_attributes_are_mapped_by_configuration(database_url, tmp_path, make):
    """An IdP that identifies people by eduPersonUniqueId-like ids in `uid` and gives their
    address in `email` (a friendly name pysaml2 knows)."""
    idp = IdP(tmp_path)
    application = saml_app(database_url, tmp_path, idp, id_attribute="uid", email_attribute="email")
    try:
        grace = Factory(application).person("Grace Hopper", email="grace.hopper@example.edu")
        client = application.test_client()
        person = {
            "eduPersonPrincipalName": "ignored@example.edu",
            "uid": "u-1906",
            "email": "grace.hopper@example.edu",
            "mail": "someone.else@example.edu",
        }
        assert post(client, idp.answer(person, to_idp(client))).status_code == 302
        assert identities(application) == [(grace.id, "u-1906")]
    finally:
        empty_all_tables(application)


def test_a_changed_address_keeps_the_account(app, client, idp, grace):
    post(client, idp.answer(GRACE, to_idp(client)))
    client.post("/logout")
    moved = {**GRACE, "mail": "grace.brewster@example.edu"}
    assert post(client, idp.answer(moved, to_idp(client))).status_code == 302
    assert identities(app) == [(grace.id, "ghopper@example.edu")]


def test_the_sign_in_page_offers_the_institution(app, client):
    page = client.get("/login").get_data(as_text=True)
    assert page.index("Sign in with Example University") < page.index('name="password"')
    assert 'href="/login/saml' in page


# --- single logout --------------------------------------------------------------------------


def test_signing_out_signs_out_at_the_idp_too(app, client, idp, grace):
    post(client, idp.answer(GRACE, to_idp(client)))
    out = leaves_for(client.post("/logout"))
    assert out.startswith(f"{idp.slo_url}?SAMLRequest=")
    assert not signed_in(client)  # Hallway's own sign-out does not wait for the IdP
    name_id, back = idp.answer_logout(out)
    assert name_id == "nid-Grace.Hopper@example.edu"
    done = client.get(back.removeprefix("http://localhost"))
    assert done.headers["Location"] == "/login"
    page = client.get("/login").get_data(as_text=True)
    assert "signed out of Hallway and of Example University" in page


def test_an_idp_answer_to_another_sign_out_confirms_nothing(app, client, idp, grace):
    post(client, idp.answer(GRACE, to_idp(client)))
    first = leaves_for(client.post("/logout"))
    other = app.test_client()
    post(other, idp.answer(GRACE, to_idp(other)))
    _, back = idp.answer_logout(leaves_for(other.post("/logout")))
    client.get(back.removeprefix("http://localhost"))  # not the answer to `first`
    assert "did not confirm" in client.get("/login").get_data(as_text=True)
    assert first


def test_the_idp_signs_someone_out_everywhere(app, client, idp, grace):
    post(client, idp.answer(GRACE, to_idp(client)))
    laptop = app.test_client()
    post(laptop, idp.answer(GRACE, to_idp(laptop)))
    answer = client.get(
        idp.ask_logout("nid-Grace.Hopper@example.edu").removeprefix("http://localhost")
    )
    assert answer.status_code == 302
    assert answer.headers["Location"].startswith(f"{idp.slo_url}?SAMLResponse=")
    assert not signed_in(client)
    assert not signed_in(laptop)  # her other sessions end too


def test_an_unsigned_logout_request_signs_nobody_out(app, client, idp, grace):
    post(client, idp.answer(GRACE, to_idp(client)))
    forged = idp.ask_logout("nid-Grace.Hopper@example.edu", sign=False)
    stranger = app.test_client()
    answer = stranger.get(forged.removeprefix("http://localhost"))
    assert answer.status_code == 400
    # Said as what it is, a sign-out not acted on, never "Signing in ... did not work".
    said = answer.get_data(as_text=True)
    assert "asked Hallway to sign you out, but its request could not be verified" in said
    assert "Signing in" not in said
    assert signed_in(client)


def test_someone_signed_in_with_a_password_signs_out_of_hallway_alone(app, client, idp, grace):
    from tests.conftest import login

    login(client, grace.email)
    out = client.post("/logout")
    assert out.headers["Location"] == "/login"


# --- refused --------------------------------------------------------------------------------


def refused(app: Flask, client: FlaskClient, response: Any, says: str = REFUSED) -> None:
    assert response.status_code == 403, response.status_code
    assert says in response.get_data(as_text=True)
    assert not signed_in(client)
    assert identities(app) == []


def test_someone_on_no_roster_is_not_let_in(app, client, idp):
    refused(app, client, post(client, idp.answer(GRACE, to_idp(client))), "on its roster")


def test_a_replayed_assertion_signs_nobody_in(app, client, idp, grace):
    answer = idp.answer(GRACE)  # IdP-initiated: pysaml2 alone would take it again and again
    assert post(client, answer).status_code == 302
    client.post("/logout")
    again = post(client, answer)
    assert again.status_code == 403
    assert not signed_in(client)


def test_an_answer_to_a_request_used_already_is_refused(app, client, idp, grace):
    request = to_idp(client)
    first = idp.answer(GRACE, request)
    assert post(client, first).status_code == 302
    client.post("/logout")
    second = idp.answer(GRACE, request)  # a fresh assertion, to the same request
    assert post(client, second).status_code == 403
    assert not signed_in(client)


def test_an_answer_to_a_request_hallway_never_sent_is_refused(app, client, idp, grace):
    forged = idp.answer(GRACE, in_response_to="id-hallway-never-sent-this")
    assert post(client, forged).status_code == 403
    assert not signed_in(client)


@pytest.mark.parametrize(
    "attack",
    [
        pytest.param({"sign_assertion": False}, id="unsigned"),
        pytest.param({"sign_alg": SIG_RSA_SHA1, "digest_alg": DIGEST_SHA1}, id="signed with SHA-1"),
        pytest.param({"destination": "https://another-sp.example.edu/acs"}, id="wrong destination"),
    ],
)
def test_a_bad_answer_signs_nobody_in(app, client, idp, grace, attack):
    refused_answer = idp.answer(GRACE, to_idp(client), **attack)
    response = post(client, refused_answer)
    assert response.status_code == 403
    assert not signed_in(client)
    assert identities(app) == []


def test_an_assertion_for_another_service_provider_is_refused(app, client, idp, grace, tmp_path):
    """Another application in the federation receives Grace's assertion and posts it here."""
    other = "https://another-sp.example.edu/sp"
    hallway = client.get("/saml/metadata").get_data(as_text=True)
    idp.trust(hallway, another_sp(tmp_path, other, "http://localhost/saml/acs"))
    xml = base64.b64decode(idp.answer(GRACE, sp_entity_id=other)).decode()
    assert f"<ns1:Audience>{other}</ns1:Audience>" in xml  # the attack is what it says
    response = post(client, base64.b64encode(xml.encode()).decode())
    assert response.status_code == 403
    assert not signed_in(client)
    assert identities(app) == []


def test_an_assertion_changed_after_signing_is_refused(app, client, idp, grace, make):
    make.person("Admin", email="admin.person@example.edu", is_admin=True)
    xml = base64.b64decode(idp.answer(GRACE, to_idp(client))).decode()
    assert "Grace.Hopper@example.edu" in xml
    forged = xml.replace("Grace.Hopper@example.edu", "admin.person@example.edu")
    response = post(client, base64.b64encode(forged.encode()).decode())
    assert response.status_code == 403
    assert not signed_in(client)


def test_an_assertion_signed_by_a_key_not_in_the_metadata_is_refused(
    app, client, idp, grace, tmp_path
):
    impostor = IdP(tmp_path / "impostor" if (tmp_path / "impostor").mkdir() is None else tmp_path)
    impostor.trust(client.get("/saml/metadata").get_data(as_text=True))
    response = post(client, impostor.answer(GRACE, to_idp(client)))
    assert response.status_code == 403
    assert not signed_in(client)


def test_an_expired_assertion_is_refused(database_url, tmp_path, make):
    stale = IdP(tmp_path, lifetime_minutes=-5)
    application = saml_app(database_url, tmp_path, stale)
    try:
        Factory(application).person("Grace Hopper", email="grace.hopper@example.edu")
        client = application.test_client()
        response = post(client, stale.answer(GRACE, to_idp(client)))
        assert response.status_code == 403
        assert not signed_in(client)
    finally:
        empty_all_tables(application)


def test_an_idp_initiated_answer_is_refused_when_they_are_turned_off(database_url, tmp_path):
    idp = IdP(tmp_path)
    application = saml_app(database_url, tmp_path, idp, idp_initiated=False)
    try:
        Factory(application).person("Grace Hopper", email="grace.hopper@example.edu")
        client = application.test_client()
        assert post(client, idp.answer(GRACE)).status_code == 403
        assert not signed_in(client)
        assert post(client, idp.answer(GRACE, to_idp(client))).status_code == 302
    finally:
        empty_all_tables(application)


@pytest.fixture
def federation(tmp_path: Path, idp: IdP) -> Iterator[tuple[str, str, str]]:
    """The IdP's metadata signed by a federation and served over HTTP, as InCommon's MDQ
    does: (its URL, the federation's certificate, a certificate that did not sign it); the
    `?unsigned` address serves it unsigned."""
    fed_key, fed_cert = key_pair(tmp_path, "federation")
    _, stranger_cert = key_pair(tmp_path, "stranger")
    signed = idp.signed_metadata(fed_key, fed_cert)
    unsigned = Path(idp.metadata_file).read_bytes()

    def serve(environ: Any, start_response: Any) -> list[bytes]:
        start_response("200 OK", [("Content-Type", "application/samlmetadata+xml")])
        return [unsigned if environ.get("QUERY_STRING") == "unsigned" else signed]

    server = make_server("127.0.0.1", 0, serve)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_port}/entities/idp", fed_cert, stranger_cert
    server.shutdown()


@pytest.mark.parametrize("case", ["signed", "wrong certificate", "unsigned"])
def test_idp_metadata_from_a_url_is_used_only_when_its_signature_verifies(
    database_url, tmp_path, idp, federation, case
):
    url, fed_cert, stranger_cert = federation
    application = saml_app(
        database_url,
        tmp_path,
        idp,
        idp_metadata=url + ("?unsigned" if case == "unsigned" else ""),
        idp_metadata_cert=stranger_cert if case == "wrong certificate" else fed_cert,
    )
    try:
        Factory(application).person("Grace Hopper", email="grace.hopper@example.edu")
        client = application.test_client()
        start = client.get("/login/saml")
        if case != "signed":
            assert start.status_code == 503
            assert REFUSED in start.get_data(as_text=True)
            return
        assert post(client, idp.answer(GRACE, start.headers["Location"])).status_code == 302
        assert signed_in(client)
    finally:
        empty_all_tables(application)


def test_without_saml_its_addresses_are_not_found(database_url, tmp_path):
    application = create_app(make_config(database_url))
    client = application.test_client()
    assert client.get("/saml/metadata").status_code == 404
    assert client.get("/login/saml").status_code == 404
    assert client.post("/saml/acs", data={"SAMLResponse": "x"}).status_code == 404


def test_saml_settings_come_from_the_environment(tmp_path):
    assert saml_settings({}) is None
    env = {
        "HALLWAY_SAML_IDP_ENTITY_ID": ENTITY_ID,
        "HALLWAY_SAML_IDP_METADATA": "https://md.incommon.org/InCommon/InCommon-metadata.xml",
        "HALLWAY_SAML_SP_KEY": "/etc/hallway/sp.key",
        "HALLWAY_SAML_SP_CERT": "/etc/hallway/sp.crt",
    }
    with pytest.raises(RuntimeError, match="HALLWAY_SAML_IDP_METADATA_CERT"):
        saml_settings(env)
    found = saml_settings({**env, "HALLWAY_SAML_IDP_METADATA_CERT": "/etc/hallway/md.pem"})
    assert found["idp_initiated"] is True and found["id_attribute"] == "eduPersonPrincipalName"
    with pytest.raises(RuntimeError, match="HALLWAY_SAML_SP_KEY"):
        saml_settings({**env, "HALLWAY_SAML_SP_KEY": ""})
