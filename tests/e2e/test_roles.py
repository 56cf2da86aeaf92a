"""Each role's day on a phone (390 pixels wide): the pages it visits fit the screen (tables
scroll inside their own box, never the page), pass axe-core, and show what the role relies on:
the attention list, confirmations, the pending rematch, the right navigation."""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

import pytest

from program.db import utc_now
from program.programs.terms import slugify
from seed.programs import term_dates
from tests.e2e.conftest import check_accessibility, screenshot, sign_in
from tests.e2e.test_journeys import confirm_mailing, current_term_slug

PHONE = {"width": 390, "height": 844}


@pytest.fixture
def phone(browser: Any, server: str) -> Iterator[Any]:
    context = browser.new_context(viewport=PHONE, is_mobile=True, has_touch=True)
    page = context.new_page()
    page.set_default_timeout(15000)
    yield page
    context.close()


def fits(page: Any) -> None:
    """No sideways scrolling of the page itself, and accessible."""
    overflow = page.evaluate(
        "() => document.documentElement.scrollWidth - document.documentElement.clientWidth"
    )
    if overflow > 0:
        # The outermost elements that stick out, to say where to look.
        culprits = page.evaluate(
            """() => [...document.querySelectorAll('body *')]
                .filter(e => e.getBoundingClientRect().right > innerWidth + 1)
                .filter(e => !e.parentElement.closest('.table-responsive'))
                .slice(0, 5)
                .map(e => e.tagName + '.' + e.className + ' ' + e.textContent.trim().slice(0, 40))"""
        )
        raise AssertionError(f"{page.url} is {overflow}px wider than a phone: {culprits}")
    check_accessibility(page)


def visit(page: Any, url: str) -> None:
    page.goto(url)
    fits(page)


def test_coordinator_on_a_phone(phone, server):
    term = current_term_slug()
    sign_in(phone, server, "coordinator")
    fits(phone)
    nav = phone.get_by_role("navigation", name="Main")
    phone.get_by_role("button", name="Show the menu").click()
    assert nav.get_by_role("link", name="Internal Medicine Residency").is_visible()
    assert nav.get_by_role("link", name="Reports").is_visible()
    visit(phone, f"{server}/programs/im-residency/")
    screenshot(phone, "phone-coordinator-overview")
    attention = phone.locator("#unmatched")
    assert re.search(r"\d+ formal-track trainees? without a mentor", attention.inner_text())
    for path in (
        f"/programs/im-residency/terms/{term}/pairs",
        f"/programs/im-residency/terms/{term}/matches",
        f"/programs/im-residency/terms/{term}/availability",
        f"/programs/im-residency/terms/{term}/survey",
        "/programs/im-residency/people",
        "/programs/im-residency/coffee",
        "/programs/im-residency/coffee/rounds/1",
        "/reports",
    ):
        visit(phone, f"{server}{path}")
    visit(phone, f"{server}/programs/im-residency/terms/{term}/pairs")
    screenshot(phone, "phone-coordinator-pairs")
    nudge = phone.get_by_role("button", name=re.compile("Send a gentle nudge"))
    if nudge.count():
        with phone.expect_navigation():
            nudge.first.click()
        fits(phone)
        confirm_mailing(phone)
        assert phone.get_by_text(re.compile(r"Nudge sent to \d+")).is_visible()

    # A person's page: edit their details and see "Saved".
    visit(phone, f"{server}/programs/im-residency/people?role=trainee")
    with phone.expect_navigation():
        phone.locator("table a").first.click()
    fits(phone)
    details = phone.get_by_text("Edit details")
    if details.count():
        details.click()
        phone.fill("#interests", "wellness; quality improvement")
        with phone.expect_navigation():
            phone.get_by_role("button", name="Save details").click()
        assert phone.get_by_text(re.compile("^Saved: interests of")).is_visible()
        fits(phone)


@pytest.mark.parametrize("who", ["trainee1", "mentor"])
def test_trainee_and_mentor_on_a_phone(phone, server, who):
    sign_in(phone, server, who)
    fits(phone)
    screenshot(phone, f"phone-{who}-home")
    assert phone.get_by_role("heading", name="Your formal mentoring").is_visible()
    phone.get_by_role("button", name="Show the menu").click()
    nav = phone.get_by_role("navigation", name="Main")
    assert nav.get_by_role("link", name="Reports").count() == 0
    for path in ("/account/notifications", "/account/pairing", "/how-hallway-works"):
        visit(phone, f"{server}{path}")


def test_trainee_sees_their_pending_rematch_request(phone, server):
    sign_in(phone, server, "trainee1")
    with phone.expect_navigation():
        phone.get_by_role("link", name=re.compile("Ask privately for a different pairing")).click()
    fits(phone)
    with phone.expect_navigation():
        phone.get_by_role("button", name="Ask for a new pairing").click()
    fits(phone)
    phone.goto(f"{server}/")
    pending = phone.get_by_text(re.compile("You asked privately for a different pairing on"))
    assert pending.is_visible()
    fits(phone)


@pytest.mark.parametrize("who", ["dean", "admin"])
def test_dean_and_admin_on_a_phone(phone, server, who):
    sign_in(phone, server, who)
    fits(phone)
    assert phone.get_by_text("No formal mentoring pair yet").count() == 0
    phone.get_by_role("button", name="Show the menu").click()
    nav = phone.get_by_role("navigation", name="Main")
    assert nav.get_by_role("link", name="Reports").is_visible()
    assert nav.get_by_role("link", name="Outcomes").is_visible()
    visit(phone, f"{server}/reports")
    screenshot(phone, f"phone-{who}-reports")
    # Outcomes: the measures the demo's dean defined, and the last closed term's report with
    # its survey and outcomes sections.
    visit(phone, f"{server}/outcomes/")
    assert phone.get_by_role("cell", name="Well-being index").count() == 1
    closed = slugify(term_dates(utc_now().date())[-2][0])
    visit(phone, f"{server}/reports?program=all&term={closed}")
    assert phone.get_by_role("heading", name="The term survey").is_visible()
    assert phone.get_by_role("heading", name="Outcomes, by who took part").is_visible()
    if who == "admin":
        for path in (
            "/admin/programs",
            "/admin/people",
            "/admin/mail",
            "/admin/audit",
            "/admin/settings",
        ):
            visit(phone, f"{server}{path}")
        screenshot(phone, "phone-admin-people")
        # A new program: its overview opens on the setup checklist, which ticks itself.
        visit(phone, f"{server}/admin/programs/new")
        phone.fill("#name", "Pediatrics Residency")
        phone.fill("#slug", "peds")
        with phone.expect_navigation():
            phone.get_by_role("button", name=re.compile("Save|Create")).first.click()
        assert phone.get_by_text(re.compile("created")).first.is_visible()
        visit(phone, f"{server}/programs/peds/")
        checklist = phone.get_by_role("heading", name=re.compile("Getting Pediatrics Residency"))
        assert "0 of 6 done" in checklist.inner_text()
        screenshot(phone, "phone-new-program-checklist")
        with phone.expect_navigation():
            phone.get_by_role("link", name="Create the first term").click()
        phone.fill("#name", "Spring 2027")
        phone.fill("#starts_on", "2027-01-01")
        phone.fill("#ends_on", "2027-06-30")
        with phone.expect_navigation():
            phone.get_by_role("button", name="Save term").click()
        visit(phone, f"{server}/programs/peds/")
        assert "1 of 6 done" in checklist.inner_text()
        assert phone.get_by_text("Done: Create the first term").count() == 1
