"""Signing in through the institution in a real browser: Hallway's button, the provider's own
sign-in page (tests/accounts/oidc_provider.py, served on loopback), and back, signed in; by
keyboard alone."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from program.people.models import Person
from tests.accounts.oidc_provider import Provider
from tests.accounts.saml_idp import IdP, key_pair, web_sign_in
from tests.e2e.conftest import check_accessibility, hallway_served, opened, screenshot, served
from tests.smtp import free_port

ADMIN_PASSWORD = "correct horse battery staple"


@pytest.fixture(scope="module")
def sso_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    provider = Provider([f"{base}/login/sso/uni/callback"]).start()
    provider.add("grace", sub="idp-grace", email="grace.hopper@example.edu", name="Grace Hopper")
    admin = Person(name="Ada Admin", email="ada.admin@example.edu", is_admin=True)
    admin.set_password(ADMIN_PASSWORD)
    people = [Person(name="Grace Hopper", email="grace.hopper@example.edu"), admin]
    folder = tmp_path_factory.mktemp("sso")
    with hallway_served(folder, port, people, OIDC_PROVIDERS=[provider.settings()]):
        yield base
    provider.stop()


def test_a_person_signs_in_through_their_institution_by_keyboard(browser: Any, sso_server: str):
    with opened(browser, 390, 844) as page:
        page.goto(f"{sso_server}/login")
        check_accessibility(page)
        screenshot(page, "sso-sign-in-page")
        # Tabbing from the top reaches the institution's button before the password form.
        for _ in range(8):
            page.keyboard.press("Tab")
            focused = page.evaluate("document.activeElement.outerHTML")
            assert 'name="email"' not in focused, "the password form came first"
            if "Sign in with Example University" in focused:
                break
        else:
            pytest.fail("the institution's button is not reachable by keyboard")
        page.keyboard.press("Enter")
        page.wait_for_url(lambda url: "/authorize" in url)
        page.fill("input[name=username]", "grace")
        page.fill("input[name=password]", "idp-password")
        page.keyboard.press("Enter")
        page.wait_for_url(f"{sso_server}/")
        assert "Grace Hopper" in page.content()
        screenshot(page, "sso-signed-in")


def test_signing_out_on_a_shared_workstation_means_a_password_to_get_back_in(
    browser: Any, sso_server: str
):
    """Signed in through the institution, signed out of Hallway: the browser leaves for the
    provider's sign-out (Hallway's own form-action policy once blocked that redirect), so the
    next "Sign in with ..." on this computer asks for the password again."""
    with opened(browser, 1200, 900) as page:

        def sign_in_with_institution() -> None:
            page.goto(f"{sso_server}/login")
            page.get_by_role("link", name="Sign in with Example University").click()
            page.wait_for_url(lambda url: "/authorize" in url or url == f"{sso_server}/")

        sign_in_with_institution()
        page.fill("input[name=username]", "grace")
        page.fill("input[name=password]", "idp-password")
        page.click("button[type=submit]")
        page.wait_for_url(f"{sso_server}/")
        page.get_by_role("button", name="Sign out").click()
        page.wait_for_url(f"{sso_server}/login")  # back from the provider's own sign-out
        sign_in_with_institution()
        assert "/authorize" in page.url and page.locator("input[name=password]").is_visible()


def test_an_admin_makes_the_institution_the_only_way_in_and_keeps_an_emergency_door(
    browser: Any, sso_server: str
):
    with opened(browser, 1200, 900) as page:
        page.goto(f"{sso_server}/login")
        page.fill("#email", "ada.admin@example.edu")
        page.fill("#password", ADMIN_PASSWORD)
        page.click("input[type=submit]")
        page.goto(f"{sso_server}/admin/settings")
        page.get_by_label("With their institution's account only").check()
        page.get_by_label("Break-glass administrator").select_option(
            label="Ada Admin (ada.admin@example.edu)"
        )
        page.get_by_role("button", name="Save sign-in").click()
        assert "People now sign in with their institution's account only." in page.content()
        check_accessibility(page)
        screenshot(page, "sso-only-settings")
        page.get_by_role("button", name="Sign out").click()
        page.goto(f"{sso_server}/login")
        # The password form waits, closed, behind the emergency door.
        assert not page.locator("#password").is_visible()
        assert page.get_by_role("link", name="Sign in with Example University").is_visible()
        check_accessibility(page)
        screenshot(page, "sso-only-sign-in-page")
        page.get_by_text("Emergency sign-in").click()
        page.fill("#email", "ada.admin@example.edu")
        page.fill("#password", ADMIN_PASSWORD)
        page.click("input[type=submit]")
        page.wait_for_url(f"{sso_server}/")
        assert "Ada Admin" in page.content()


@pytest.fixture(scope="module")
def saml_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """Hallway on 127.0.0.1 and the IdP on localhost: two sites, so the IdP's POST to the ACS
    is cross-site for the browser, as it is for real (no session cookie comes with it)."""
    folder = tmp_path_factory.mktemp("saml")
    port, idp_port = free_port(), free_port()
    base = f"http://127.0.0.1:{port}"
    idp = IdP(folder, sso_url=f"http://localhost:{idp_port}/sso")
    sp_key, sp_cert = key_pair(folder, "sp")
    saml = {
        "idp_entity_id": idp.entity_id,
        "idp_metadata": idp.metadata_file,
        "sp_key": sp_key,
        "sp_cert": sp_cert,
        "label": "Example University",
    }
    katherine = Person(name="Katherine Johnson", email="kjohnson@example.edu")
    person = {"eduPersonPrincipalName": "kj@example.edu", "mail": "kjohnson@example.edu"}
    with hallway_served(folder, port, [katherine], SAML=saml) as app:
        idp.trust(app.test_client().get("/saml/metadata").get_data(as_text=True))
        with served(idp_port, web_sign_in(idp, {"kj": person}, "idp-pass")):
            yield base


def test_a_person_signs_in_through_a_saml_idp_on_another_site(browser: Any, saml_server: str):
    with opened(browser, 390, 844) as page:
        page.goto(f"{saml_server}/login?next=/account/notifications")
        page.get_by_role("link", name="Sign in with Example University").click()
        page.wait_for_url(lambda url: url.startswith("http://localhost:"))
        page.fill("input[name=username]", "kj")
        page.fill("input[name=password]", "idp-pass")
        page.click("button[type=submit]")
        page.wait_for_url(f"{saml_server}/account/notifications")
        assert "Katherine Johnson" in page.content()
