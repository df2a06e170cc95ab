"""An owner's journeys in a real browser: update an action, meet a concurrent edit, and axe."""

import datetime as dt
import re

import pytest
from django.contrib.auth.models import Group
from django.urls import reverse
from django.utils import timezone
from playwright.sync_api import Browser, Page, expect

from improvement import roles
from improvement.models import Evidence, ProgressNote
from tests.factories import (
    ActionFactory,
    AuthorityFactory,
    EvidenceFactory,
    FindingFactory,
    ImprovementAreaFactory,
    MeasureFactory,
    MeasureValueFactory,
    MilestoneFactory,
    OwnerFactory,
    ProgressNoteFactory,
    UserFactory,
)

PASSWORD = "password"  # what tests/factories.py gives every user
PDF = b"%PDF-1.4\n1 0 obj<</Type/Catalog>>endobj\ntrailer<</Root 1 0 R>>\n%%EOF\n"


@pytest.fixture
def plan(transactional_db):
    """An owner's open action with a full trail, and an administrator who may also edit it."""
    today = timezone.localdate()
    authority = AuthorityFactory(name="Knowsley")
    owner = OwnerFactory(username="tm", first_name="Tom", last_name="Manager", authority=authority)
    admin = UserFactory(
        username="ia", first_name="Ida", last_name="Admin", authority=authority, is_staff=True
    )
    admin.groups.add(Group.objects.get(name=roles.ADMINISTRATOR))
    area = ImprovementAreaFactory(inspection__authority=authority)
    area.supporting_findings.add(
        FindingFactory(inspection=area.inspection, number=12, text="Plans drift.")
    )
    action = ActionFactory(
        authority=authority,
        owner=owner,
        title="Improve pathway plans for care leavers",
        start_date=today - dt.timedelta(days=60),
        due_date=today + dt.timedelta(days=30),
        improvement_areas=[area],
    )
    ActionFactory(
        authority=authority,
        owner=owner,
        title="Overdue supervision audit",
        start_date=today - dt.timedelta(days=60),
        due_date=today - dt.timedelta(days=3),
        improvement_areas=[area],
    )
    MilestoneFactory(action=action, title="Audit 40 plans", due_date=today + dt.timedelta(days=5))
    ProgressNoteFactory(action=action, text="Audit tool agreed.")
    EvidenceFactory(action=action, title="Audit tool", added_by=owner)
    measure = MeasureFactory(authority=authority, name="Care leavers with a current plan")
    measure.actions.add(action)
    MeasureValueFactory(measure=measure, recorded_by=owner)
    return {"owner": owner, "admin": admin, "action": action}


def test_owner_updates_an_action_with_a_note_status_and_file(
    page: Page, live_server, plan, login, page_problems, tmp_path
):
    """My actions -> the action -> quick update with a file -> the note and file on the trail."""
    action = plan["action"]
    login(page, live_server, "tm", PASSWORD)
    page.goto(f"{live_server.url}{reverse('improvement:my-actions')}")
    expect(page.get_by_role("heading", level=1)).to_have_text("My actions")
    # Overdue first.
    expect(page.locator("tbody tr").first).to_contain_text("Overdue supervision audit")

    page.get_by_role("link", name=f"{action.reference} {action.title}", exact=True).click()
    expect(page.get_by_role("heading", level=1)).to_have_text(action.title)
    page.get_by_role("button", name="Update this action").click()

    page.get_by_role("radio", name="In progress", exact=True).check()
    page.get_by_label("Progress note").fill("Forty plans audited; <b>ten</b> need rewriting.")
    upload = tmp_path / "audit.pdf"
    upload.write_bytes(PDF)
    page.get_by_label("Upload a file").set_input_files(str(upload))
    page.get_by_label("Evidence title").fill("Audit findings")
    page.get_by_role("button", name="Save update").click()

    expect(page).to_have_url(f"{live_server.url}{action.get_absolute_url()}")
    expect(page.locator(".govuk-notification-banner--success")).to_contain_text(
        "Your update has been saved"
    )
    notes = page.locator(".app-notes")
    expect(notes).to_contain_text("Forty plans audited; <b>ten</b> need rewriting.")
    expect(notes).to_contain_text("Not started to In progress")
    evidence = page.get_by_role("link", name=re.compile("Audit findings"))
    expect(evidence).to_be_visible()
    with page.expect_download() as download:
        evidence.click()
    assert download.value.suggested_filename == "audit.pdf"
    assert Evidence.objects.filter(title="Audit findings", content_type="application/pdf").exists()
    assert page_problems == []


def test_second_editor_sees_the_conflict_keeps_their_note_and_resubmits(
    browser: Browser, live_server, plan, login
):
    """Owner and administrator edit at once: the second is told, keeps the note, then saves."""
    action = plan["action"]
    url = f"{live_server.url}{reverse('improvement:action-update', args=[action.pk])}"
    admin_context, owner_context = browser.new_context(), browser.new_context()
    try:
        admin_page, owner_page = admin_context.new_page(), owner_context.new_page()
        login(admin_page, live_server, "ia", PASSWORD)
        login(owner_page, live_server, "tm", PASSWORD)
        admin_page.goto(url)
        owner_page.goto(url)

        admin_page.get_by_role("radio", name="Amber", exact=True).check()
        admin_page.get_by_label("Progress note").fill("Admin: agency staff have left.")
        admin_page.get_by_role("button", name="Save update").click()
        expect(admin_page.locator(".govuk-notification-banner--success")).to_be_visible()

        owner_note = "Owner: second audit booked for March."
        owner_page.get_by_label("Progress note").fill(owner_note)
        owner_page.get_by_role("button", name="Save update").click()

        summary = owner_page.locator(".govuk-error-summary")
        expect(summary).to_contain_text("Someone else updated this action while you were editing")
        expect(summary).to_be_focused()
        expect(owner_page.locator("#what-changed")).to_contain_text(
            "Admin: agency staff have left."
        )
        expect(owner_page.locator("#what-changed")).to_contain_text("rated amber")
        expect(owner_page.get_by_label("Progress note")).to_have_value(owner_note)
        assert ProgressNote.objects.filter(text=owner_note).count() == 0

        owner_page.get_by_role("button", name="Save update").click()
        expect(owner_page.locator(".govuk-notification-banner--success")).to_be_visible()
        expect(owner_page.locator(".app-notes")).to_contain_text(owner_note)
        assert ProgressNote.objects.filter(text=owner_note).count() == 1
    finally:
        admin_context.close()
        owner_context.close()


def test_action_pages_have_no_axe_violations(
    page: Page, live_server, plan, login, assert_no_axe_violations, page_problems
):
    """My actions, the filtered list, the trail and the update form (with errors) pass axe."""
    action = plan["action"]
    login(page, live_server, "tm", PASSWORD)

    page.goto(f"{live_server.url}{reverse('improvement:my-actions')}")
    assert_no_axe_violations(page)

    page.goto(
        f"{live_server.url}{reverse('improvement:action-list')}"
        "?rag=green&overdue=1&q=audit&sort=-title&due_within=oops"
    )
    expect(page.locator(".govuk-error-summary")).to_be_visible()
    assert_no_axe_violations(page)
    page.goto(f"{live_server.url}{reverse('improvement:action-list')}?status=not_started&sort=rag")
    expect(page.locator("th[aria-sort=ascending]")).to_have_text("RAG")
    assert_no_axe_violations(page)

    page.goto(f"{live_server.url}{action.get_absolute_url()}")
    assert_no_axe_violations(page)

    page.goto(f"{live_server.url}{reverse('improvement:action-update', args=[action.pk])}")
    assert_no_axe_violations(page)
    page.get_by_role("radio", name="Red", exact=True).check()
    page.get_by_role("button", name="Save update").click()
    expect(page.locator(".govuk-error-summary")).to_contain_text("a note is needed")
    expect(page).to_have_title(re.compile("^Error: "))
    assert_no_axe_violations(page)
    assert page_problems == []


def test_owner_update_in_the_browser_shows_on_the_leaders_dashboard(
    browser: Browser, live_server, plan, login, tmp_path
):
    """The owner rates an action red with a note and a file; the leader's dashboard shows it."""
    action = plan["action"]
    leader = UserFactory(username="dcs", authority=action.authority, role=roles.SENIOR_LEADER)
    owner_context, leader_context = browser.new_context(), browser.new_context()
    try:
        owner_page = owner_context.new_page()
        login(owner_page, live_server, "tm", PASSWORD)
        owner_page.goto(
            f"{live_server.url}{reverse('improvement:action-update', args=[action.pk])}"
        )
        owner_page.get_by_role("radio", name="Red", exact=True).check()
        owner_page.get_by_label("Progress note").fill("Two personal advisers left this month.")
        upload = tmp_path / "caseload.pdf"
        upload.write_bytes(PDF)
        owner_page.get_by_label("Upload a file").set_input_files(str(upload))
        owner_page.get_by_label("Evidence title").fill("Caseload report")
        owner_page.get_by_role("button", name="Save update").click()
        expect(owner_page.locator(".govuk-notification-banner--success")).to_be_visible()

        leader_page = leader_context.new_page()
        login(leader_page, live_server, leader.username, PASSWORD)
        leader_page.goto(f"{live_server.url}{reverse('improvement:dashboard')}")
        rag_table = leader_page.locator("table", has_text="Actions by RAG rating")
        red_row = rag_table.locator("tr", has=leader_page.get_by_role("rowheader", name="Red"))
        expect(red_row).to_contain_text("1")
        red_row.get_by_role("link").click()
        expect(leader_page.locator("main")).to_contain_text(action.title)
        leader_page.get_by_role("link", name=re.compile(action.title)).first.click()
        expect(leader_page.locator(".app-notes")).to_contain_text(
            "Two personal advisers left this month."
        )
        expect(leader_page.get_by_role("link", name=re.compile("Caseload report"))).to_be_visible()
    finally:
        owner_context.close()
        leader_context.close()


def test_a_list_too_long_for_excel_offers_csv(
    page: Page, live_server, plan, login, assert_no_axe_violations, page_problems, monkeypatch
):
    """Past the XLSX limit the Excel link leads to a page that says why and offers the same
    actions as CSV; the page passes axe."""
    from improvement import exports

    monkeypatch.setattr(exports, "XLSX_MAX_ROWS", 1)
    login(page, live_server, "ia", PASSWORD)
    page.goto(f"{live_server.url}{reverse('improvement:action-list')}")
    page.get_by_role("link", name="Excel (XLSX)").click()
    expect(page.get_by_role("heading", level=1)).to_have_text(
        "This list is too long for an Excel download"
    )
    assert_no_axe_violations(page)
    with page.expect_download() as download:
        page.get_by_role("link", name="download these actions as CSV").click()
    assert download.value.suggested_filename.endswith(".csv")
    assert page_problems == []
