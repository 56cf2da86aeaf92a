"""Each user's main journey in a real browser, with axe-core on every page it visits."""

from __future__ import annotations

import io
import re
import zipfile
from datetime import date, timedelta

from pypdf import PdfReader

from program.db import utc_now
from seed.demo import current_term_dates
from tests.e2e.conftest import check_accessibility, screenshot, sign_in

ROSTER = (
    "Email,Name,Role,Department,Stage,Cohort,Interests\n"
    "new.resident@demo.example.edu,Noor Haddad,trainee,Internal Medicine,PGY-1,PGY-1,wellness\n"
    "new.mentor@demo.example.edu,Dr. Ada Lovelace,mentor,Cardiology,Senior faculty,,research\n"
)


def current_term_slug() -> str:
    name, _, _ = current_term_dates(utc_now().date())
    return name.lower().replace(" ", "-")


def open_latest_mail(page, server: str, to: str, subject_part: str) -> str:
    """The demo inbox, as the person would see it: the newest message whose subject matches."""
    page.goto(f"{server}/demo/inbox?to={to}")
    check_accessibility(page)
    with page.expect_navigation():
        mail = page.locator("table")  # the list of their e-mails, newest first
        mail.get_by_role("link", name=re.compile(re.escape(subject_part))).first.click()
    check_accessibility(page)
    return page.url


def test_coordinator_sets_up_a_term_and_runs_both_tracks(page, server, tmp_path):
    sign_in(page, server, "coordinator")
    page.goto(f"{server}/programs/im-residency/")
    check_accessibility(page)
    screenshot(page, "dashboard")
    assert page.get_by_role("heading", name=re.compile("at a glance")).is_visible()

    # A new term.
    with page.expect_navigation():
        page.get_by_role("link", name="New term").first.click()
    page.fill("#name", "Spring 2027")
    page.fill("#starts_on", "2027-01-01")
    page.fill("#ends_on", "2027-06-30")
    check_accessibility(page)
    page.get_by_role("button", name="Save term").click()
    page.wait_for_url(re.compile("/terms/spring-2027"))
    check_accessibility(page)

    # Its roster, from a file.
    roster = tmp_path / "spring.csv"
    roster.write_text(ROSTER)
    with page.expect_navigation():
        page.get_by_role("link", name="Import a roster").click()
    check_accessibility(page)
    page.set_input_files("#file", str(roster))
    with page.expect_navigation():
        page.locator("#roster-upload-form [type=submit]").first.click()
    check_accessibility(page)
    with page.expect_navigation():
        page.get_by_role("button", name=re.compile("Import .* changes")).click()
    assert page.get_by_text(re.compile("imported", re.I)).first.is_visible()

    # Availability for the new term.
    page.goto(f"{server}/programs/im-residency/terms/spring-2027/availability")
    check_accessibility(page)
    with page.expect_navigation():
        page.get_by_role(
            "button",
            name=re.compile(
                "Ask .*mentors|Send the availability request|Ask for availability", re.I
            ),
        ).first.click()
    confirm_mailing(page)
    assert page.get_by_text(re.compile("Availability asked of")).is_visible()

    # The coffee round of the current term.
    page.goto(f"{server}/programs/im-residency/coffee")
    check_accessibility(page)
    with page.expect_navigation():
        page.get_by_role("button", name=re.compile("Publish or schedule round")).click()
    confirm_mailing(page)
    assert page.get_by_text(re.compile(r"Round \d+ published")).is_visible()


def confirm_mailing(page) -> None:
    """The page that says how many people an action e-mails, and asks once: read, then agree."""
    yes = page.get_by_role("button", name=re.compile("^Yes, "))
    if yes.count():
        assert page.get_by_text(re.compile(r"This e-mails \d+ (person|people)")).is_visible()
        check_accessibility(page)
        with page.expect_navigation():
            yes.click()


def test_mentor_answers_availability_from_the_email_then_matches_are_published(page, server):
    # The coordinator asks (idempotent if the journey above already did).
    sign_in(page, server, "coordinator")
    page.goto(f"{server}/programs/im-residency/terms/spring-2027/availability")
    if page.get_by_role("button", name=re.compile("Ask", re.I)).count():
        with page.expect_navigation():
            page.get_by_role("button", name=re.compile("Ask", re.I)).first.click()
        confirm_mailing(page)
    page.context.clear_cookies()  # the mentor reads their mail signed out, on their own device

    open_latest_mail(page, server, "mentor@demo.example.edu", "mentor")
    frame = page.frame_locator("iframe.demo-email")
    with page.expect_navigation():
        frame.get_by_role("link", name="Yes, I can mentor").click()
    check_accessibility(page)
    page.fill("#capacity", "2")
    with page.expect_navigation():
        page.get_by_role("button", name="Confirm", exact=True).click()
    assert page.get_by_text(re.compile("Thank", re.I)).first.is_visible()

    sign_in(page, server, "coordinator")
    page.goto(f"{server}/programs/im-residency/terms/spring-2027/matches")
    check_accessibility(page)
    with page.expect_navigation():
        page.get_by_role("button", name=re.compile("Propose matches")).click()
    check_accessibility(page)
    with page.expect_navigation():
        page.get_by_role("button", name=re.compile("Publish .* and send introductions")).click()
    confirm_mailing(page)
    assert page.get_by_text(re.compile(r"published; each side has an introduction")).is_visible()


def test_trainee_on_a_phone_answers_a_check_in_from_the_inbox(browser, server):
    context = browser.new_context(viewport={"width": 390, "height": 844}, is_mobile=True)
    page = context.new_page()
    try:
        open_latest_mail(
            page, server, "trainee1@demo.example.edu", "Did you meet Dr. Miguel Santos"
        )
        frame = page.frame_locator("iframe.demo-email")
        with page.expect_navigation():
            frame.get_by_role("link", name="We met").click()
        check_accessibility(page)
        with page.expect_navigation():
            page.get_by_role("button", name="Confirm", exact=True).click()
        assert page.get_by_text(re.compile("Thank", re.I)).first.is_visible()
        check_accessibility(page)
        sign_in(page, server, "trainee1")
        check_accessibility(page)
        screenshot(page, "trainee-home-phone")
        assert page.get_by_text("Mentor: Dr. Miguel Santos").is_visible()
    finally:
        context.close()


def tab_to(page, reached, limit: int = 60) -> None:
    for _ in range(limit):
        page.keyboard.press("Tab")
        if reached():
            return
    raise AssertionError("not reachable with the keyboard")


def test_a_trainee_uses_the_keyboard_alone(browser, server):
    context = browser.new_context(viewport={"width": 1000, "height": 800})
    page = context.new_page()
    try:
        page.goto(f"{server}/login")
        page.keyboard.type("trainee2@demo.example.edu")  # the e-mail field has focus
        tab_to(page, lambda: page.evaluate("document.activeElement.id") == "password")
        page.keyboard.type("hallway-demo")
        page.keyboard.press("Enter")
        page.wait_for_url(lambda url: "/login" not in url)
        check_accessibility(page)
        # Tab to the first one-click answer and press it.
        tab_to(
            page,
            lambda: page.evaluate("(document.activeElement.textContent || '').trim()").startswith(
                "We met"
            ),
        )
        with page.expect_navigation():
            page.keyboard.press("Enter")
        assert page.get_by_role("status").filter(has_text="Thanks, noted").is_visible()
    finally:
        context.close()


def test_dean_reads_the_report_and_downloads_the_pdf_and_csv(page, server, tmp_path):
    sign_in(page, server, "dean")
    check_accessibility(page)
    term = current_term_slug()
    page.goto(f"{server}/reports?program=all&term={term}")
    check_accessibility(page)
    # The MD program's report: the network each track builds, with its trend, and its classes'
    # satisfaction line by line.
    page.goto(f"{server}/reports?program=md-program&term={term}")
    for name in ("The network each track builds", "Satisfaction by cohort"):
        heading = page.get_by_role("heading", name=name)
        heading.scroll_into_view_if_needed()
        assert heading.is_visible()
    coffee = page.get_by_role("table", name="Usefulness rating by cohort, coffee chats")
    assert coffee.get_by_role("rowheader", name="MS1").is_visible()
    assert page.get_by_role("table", name=re.compile("The network across terms")).is_visible()
    check_accessibility(page)
    page.goto(f"{server}/reports?program=im-residency&term={term}")
    page.get_by_role("heading", name="The two tracks side by side").scroll_into_view_if_needed()
    screenshot(page, "report-page", full_page=False)
    with page.expect_download() as pdf_download:
        page.get_by_role("link", name="Download PDF").click()
    pdf = PdfReader(io.BytesIO(pdf_download.value.path().read_bytes()))
    assert "Page 1 of" in pdf.pages[0].extract_text() or len(pdf.pages) > 1
    assert pdf.metadata.title.startswith("Mentoring and coffee chats")
    with page.expect_download() as zip_download:
        page.get_by_role("link", name=re.compile("Download CSV bundle")).click()
    archive = zipfile.ZipFile(zip_download.value.path())
    assert {"metrics.csv", "datapackage.json", "README.txt"} <= set(archive.namelist())
    assert archive.read("metrics.csv").startswith(b"\xef\xbb\xbf")
    # The downloaded page, opened on a phone: it fits, its wide tables scroll in their own box.
    with page.expect_download() as html_download:
        page.get_by_role("link", name="Download HTML").click()
    saved = tmp_path / html_download.value.suggested_filename
    html_download.value.save_as(saved)
    phone = page.context.browser.new_page(viewport={"width": 390, "height": 844})
    phone.goto(saved.as_uri())
    assert (
        phone.evaluate(
            "() => document.documentElement.scrollWidth - document.documentElement.clientWidth"
        )
        <= 0
    )
    assert phone.evaluate(
        """() => [...document.querySelectorAll('.table-responsive')]
            .some(box => box.scrollWidth > box.clientWidth
                 && getComputedStyle(box).overflowX === 'auto')"""
    )
    phone.close()


def test_trainee_on_a_phone_proposes_times_from_the_intro_and_the_mentor_accepts(browser, server):
    phone = browser.new_context(viewport={"width": 390, "height": 844}, is_mobile=True)
    page = phone.new_page()
    try:
        open_latest_mail(
            page, server, "trainee1@demo.example.edu", "Residency: meet Dr. Miguel Santos"
        )
        frame = page.frame_locator("iframe.demo-email")
        with page.expect_navigation():
            frame.get_by_role("link", name="Propose times").click()
        check_accessibility(page)
        day = date.today() + timedelta(days=9)
        page.fill("#first", f"{day.isoformat()}T10:00")
        page.fill("#second", f"{(day + timedelta(days=1)).isoformat()}T14:30")
        page.fill("#place", "Video call")
        with page.expect_navigation():
            page.get_by_role("button", name="Send these times").click()
        assert page.get_by_role("heading", name="Times sent").is_visible()
        check_accessibility(page)
    finally:
        phone.close()
    desk = browser.new_context()
    page = desk.new_page()
    try:
        open_latest_mail(page, server, "mentor@demo.example.edu", "suggests a new time")
        frame = page.frame_locator("iframe.demo-email")
        with page.expect_navigation():
            frame.get_by_role("link", name=re.compile("10:00")).click()
        check_accessibility(page)
        with page.expect_navigation():
            page.get_by_role("button", name=re.compile("Accept")).click()
        assert page.get_by_role("heading", name=re.compile("Agreed")).is_visible()
        check_accessibility(page)
        open_latest_mail(page, server, "trainee1@demo.example.edu", "Mentoring meeting with")
        assert page.get_by_text(re.compile("Calendar invitation attached")).is_visible()
    finally:
        desk.close()


def test_trainee_on_a_phone_asks_a_mentor_two_stages_ahead_who_says_yes_from_the_email(
    browser, server
):
    """The directory's journey: Jonah (PGY-2, Internal Medicine) on his phone finds someone two
    stages ahead in another department, sends the prefilled ask; they say yes from the e-mail;
    both see the chat on their home pages."""
    phone = browser.new_context(viewport={"width": 390, "height": 844}, is_mobile=True)
    page = phone.new_page()
    try:
        sign_in(page, server, "trainee2")
        with page.expect_navigation():
            page.get_by_role("link", name="Find them in the directory").first.click()
        check_accessibility(page)
        for toggle in ("One or two stages ahead of me", "Another department"):
            with page.expect_navigation():
                page.get_by_role("link", name=toggle).click()
            assert page.get_by_role("link", name=toggle).get_attribute("aria-current") == "true"
        check_accessibility(page)
        screenshot(page, "directory-phone")
        # The first one still taking asks (some have had all they take this month).
        first = (
            page.locator("li.card")
            .filter(has=page.get_by_role("link", name="Ask for a coffee"))
            .first
        )
        name = first.locator("strong").first.inner_text()
        assert "Junior faculty" in first.inner_text()  # two stages after PGY-2 here
        assert "Internal Medicine" not in first.inner_text()
        with page.expect_navigation():
            first.get_by_role("link", name="Ask for a coffee").click()
        check_accessibility(page)
        body = page.locator("textarea#body")
        assert f"Dear {name}" in body.input_value()
        count = page.locator("#word-count [data-words]")
        before = int(count.inner_text())
        body.press("End")
        body.type(" Thank you again.")
        assert int(count.inner_text()) == before + 3  # counted live, as typed
        screenshot(page, "ask-phone")
        with page.expect_navigation():
            page.get_by_role("button", name="Send my ask").click()
        assert page.get_by_text(f"Your ask is on its way to {name}").is_visible()
    finally:
        phone.close()

    desk = browser.new_context()
    page = desk.new_page()
    try:
        open_latest_mail(page, server, "", "Jonah Whitfield asks")
        to = re.search(r"To (\S+@demo\.example\.edu)", page.inner_text("body")).group(1)
        frame = page.frame_locator("iframe.demo-email")
        with page.expect_navigation():
            frame.get_by_role("link", name="Yes, I'll have a coffee").click()
        check_accessibility(page)
        assert page.get_by_role("heading", name="A coffee with Jonah Whitfield?").is_visible()
        with page.expect_navigation():
            page.get_by_role("button", name="Yes, I'll have a coffee").click()
        assert page.get_by_role("heading", name="Thank you").is_visible()
        check_accessibility(page)
        page.goto(f"{server}/login")
        page.fill("#email", to)
        page.fill("#password", "hallway-demo")
        page.click("#submit")
        page.wait_for_url(lambda url: "/login" not in url)
        assert page.get_by_text("You said yes to Jonah Whitfield").is_visible()
    finally:
        desk.close()

    phone = browser.new_context(viewport={"width": 390, "height": 844}, is_mobile=True)
    page = phone.new_page()
    try:
        sign_in(page, server, "trainee2")
        assert page.get_by_text(f"Your coffee chat is with {name}").is_visible()
        check_accessibility(page)
        open_latest_mail(page, server, "trainee2@demo.example.edu", f"meet {name}")
        intro = page.frame_locator("iframe.demo-email")
        assert intro.get_by_text(f"{name} said yes to your ask").is_visible()
        assert intro.get_by_role("link", name="Propose times").is_visible()
    finally:
        phone.close()


def test_a_trainee_with_a_long_url_in_a_note_and_the_pairs_page_fit_a_phone(browser, server):
    """Whatever people type, every page fits a 390-pixel phone: a private note holding a long
    URL on the trainee's home, and the coordinator's Pairs table (status and buttons on
    screen, not beyond the edge)."""
    phone = browser.new_context(viewport={"width": 390, "height": 844}, is_mobile=True)
    page = phone.new_page()
    width = "document.documentElement.scrollWidth"
    try:
        sign_in(page, server, "trainee2")
        with page.expect_navigation():
            page.get_by_role("link", name=re.compile("^Change")).first.click()
        details = page.locator("details:has(textarea[name=note])")
        if details.get_attribute("open") is None:
            details.locator("summary").click()
        page.fill(
            "textarea[name=note]",
            "Read https://www.example.org/" + "a-very-long-path-segment/" * 12 + "?and=more",
        )
        with page.expect_navigation():
            page.get_by_role("button", name="Confirm with these details").click()
        assert page.get_by_text("a-very-long-path-segment", exact=False).first.is_visible()
        assert page.evaluate(width) <= 390, page.evaluate(width)
        check_accessibility(page)
        page.close()

        page = phone.new_page()
        page.context.clear_cookies()
        sign_in(page, server, "coordinator")
        page.goto(f"{server}/programs/im-residency/")
        with page.expect_navigation():
            page.get_by_role("link", name="pairs").first.click()
        assert page.evaluate(width) <= 390, page.evaluate(width)
        status = page.locator("td[data-label=Status]").first
        end = page.get_by_role("link", name=re.compile("^(End|Rematch)")).first
        for seen in (status, end):
            box = seen.bounding_box()
            assert box and box["x"] >= 0 and box["x"] + box["width"] <= 390, box
        screenshot(page, "pairs-phone")
        check_accessibility(page)
    finally:
        phone.close()
