"""Deadline changes and sign-off in a real browser, and axe on each workflow and inspection page."""

import datetime as dt

import pytest
from django.urls import reverse
from django.utils import timezone
from playwright.sync_api import Browser, Page, expect

from improvement.models import Action, DueDateChange
from tests.factories import (
    ActionFactory,
    AuthorityFactory,
    DueDateChangeFactory,
    EvidenceFactory,
    FindingFactory,
    ImprovementAreaFactory,
    InspectionFactory,
    JudgementFactory,
    LeaderFactory,
    MeasureFactory,
    MeasureValueFactory,
    OwnerFactory,
)

PASSWORD = "password"  # what tests/factories.py gives every user


@pytest.fixture
def plan(transactional_db):
    """Knowsley's 2021 inspection, an owner's open action and a delivered one with evidence."""
    today = timezone.localdate()
    authority = AuthorityFactory(name="Knowsley")
    owner = OwnerFactory(username="tm", first_name="Tom", last_name="Manager", authority=authority)
    leader = LeaderFactory(
        username="dcs", first_name="Dee", last_name="Director", authority=authority
    )
    inspection = InspectionFactory(
        authority=authority,
        start_date=dt.date(2021, 10, 11),
        end_date=dt.date(2021, 10, 22),
        publication_date=dt.date(2021, 12, 3),
    )
    JudgementFactory(
        inspection=inspection,
        area="Overall effectiveness",
        grade="requires_improvement_to_be_good",
        is_overall=True,
    )
    finding = FindingFactory(inspection=inspection, number=12, text="Plans drift.")
    area = ImprovementAreaFactory(
        inspection=inspection, position=1, text="The quality of pathway plans for care leavers."
    )
    area.supporting_findings.add(finding)
    ImprovementAreaFactory(inspection=inspection, position=2, text="Management oversight.")
    action = ActionFactory(
        authority=authority,
        owner=owner,
        title="Improve pathway plans for care leavers",
        start_date=today - dt.timedelta(days=60),
        due_date=today + dt.timedelta(days=30),
        improvement_areas=[area],
    )
    delivered = ActionFactory(
        authority=authority,
        owner=owner,
        title="Audit supervision records",
        start_date=today - dt.timedelta(days=60),
        due_date=today + dt.timedelta(days=10),
        improvement_areas=[area],
        delivery_status=Action.DeliveryStatus.DELIVERED,
        success_measure="Every supervision record shows reflective discussion.",
    )
    EvidenceFactory(action=delivered, title="Supervision audit report", added_by=owner)
    measure = MeasureFactory(authority=authority, name="Supervision records meeting standard")
    measure.actions.add(delivered)
    MeasureValueFactory(measure=measure, recorded_by=owner)
    return {
        "today": today,
        "owner": owner,
        "leader": leader,
        "action": action,
        "delivered": delivered,
        "inspection": inspection,
    }


def test_owner_asks_for_a_new_deadline_and_a_leader_approves_it(
    browser: Browser, live_server, plan, login
):
    """Owner asks in one browser; the leader approves in another; the action shows both dates."""
    action = plan["action"]
    original = action.due_date
    new_date = plan["today"] + dt.timedelta(days=75)
    owner_context, leader_context = browser.new_context(), browser.new_context()
    try:
        owner_page = owner_context.new_page()
        login(owner_page, live_server, "tm", PASSWORD)
        owner_page.goto(f"{live_server.url}{action.get_absolute_url()}")
        owner_page.get_by_role("button", name="Ask for a new deadline").click()
        expect(owner_page.get_by_role("heading", level=1)).to_have_text("Ask for a new due date")
        owner_page.get_by_label("Day").fill(str(new_date.day))
        owner_page.get_by_label("Month").fill(str(new_date.month))
        owner_page.get_by_label("Year").fill(str(new_date.year))
        owner_page.get_by_label("Why does the due date need to change?").fill(
            "The audit team was redeployed to the front door for six weeks."
        )
        owner_page.get_by_role("button", name="Send request").click()
        expect(owner_page).to_have_url(f"{live_server.url}{action.get_absolute_url()}")
        expect(owner_page.locator(".govuk-notification-banner--success")).to_contain_text(
            "sent to a senior leader"
        )

        leader_page = leader_context.new_page()
        login(leader_page, live_server, "dcs", PASSWORD)
        leader_page.goto(f"{live_server.url}{reverse('improvement:deadline-list')}")
        row = leader_page.locator("tbody tr", has_text=action.title)
        expect(row).to_contain_text("redeployed to the front door")
        expect(row).to_contain_text("+45 days")
        row.get_by_role("link", name="Decide").click()
        leader_page.get_by_role("radio", name="Approve the new due date").check()
        leader_page.get_by_role("button", name="Record decision").click()
        expect(leader_page.locator(".govuk-notification-banner--success")).to_contain_text(
            "Approved"
        )

        leader_page.goto(f"{live_server.url}{action.get_absolute_url()}")
        summary = leader_page.locator(".govuk-summary-list").first
        expect(summary).to_contain_text(f"{new_date.day} {new_date:%B %Y}")
        expect(summary).to_contain_text(f"Originally {original.day} {original:%B %Y}")
    finally:
        owner_context.close()
        leader_context.close()

    action.refresh_from_db()
    assert action.due_date == new_date
    assert action.original_due_date == original
    assert action.due_date_change_count == 1
    assert DueDateChange.objects.get(action=action).status == DueDateChange.Status.APPROVED


def test_leader_signs_off_a_delivered_action_as_impact_evidenced(
    page: Page, live_server, plan, login, page_problems
):
    """Awaiting sign-off -> the evidence -> impact evidenced -> the action shows as closed."""
    delivered = plan["delivered"]
    login(page, live_server, "dcs", PASSWORD)
    page.goto(f"{live_server.url}{reverse('improvement:sign-off-list')}")
    row = page.locator("tbody tr", has_text=delivered.title)
    row.get_by_role("link", name="Sign off").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Sign off an action")
    expect(page.locator("main")).to_contain_text("Supervision audit report")
    expect(page.locator("main")).to_contain_text("reflective discussion")
    page.get_by_role("radio", name="Impact evidenced", exact=False).check()
    page.get_by_label("Sign-off note").fill("The re-audit shows 9 in 10 records meet the standard.")
    page.get_by_role("button", name="Close the action").click()

    expect(page).to_have_url(f"{live_server.url}{delivered.get_absolute_url()}")
    expect(page.locator(".govuk-notification-banner--success")).to_contain_text("is closed")
    expect(page.locator(".app-tags").first).to_contain_text("Impact evidenced")
    delivered.refresh_from_db()
    assert delivered.is_closed
    assert delivered.signed_off_by == plan["leader"]
    assert page_problems == []


def test_workflow_and_inspection_pages_have_no_axe_violations(
    page: Page, live_server, plan, login, assert_no_axe_violations
):
    """Every page of this area, and the deadline request in its error state, passes axe."""
    change = DueDateChangeFactory(action=plan["action"], requested_by=plan["owner"])
    login(page, live_server, "tm", PASSWORD)
    page.goto(f"{live_server.url}{reverse('improvement:deadline-list')}")
    assert_no_axe_violations(page)
    # A second request is blocked while one waits, so ask about the delivered action instead.
    url = reverse("improvement:deadline-request", args=[plan["delivered"].pk])
    page.goto(f"{live_server.url}{url}")
    expect(page.get_by_role("heading", level=1)).to_have_text("Ask for a new due date")
    assert_no_axe_violations(page)
    page.get_by_label("Day").fill("31")
    page.get_by_label("Month").fill("2")
    page.get_by_label("Year").fill("2030")
    page.get_by_role("button", name="Send request").click()
    expect(page.locator(".govuk-error-summary")).to_contain_text("must be a real date")
    expect(page.get_by_label("Day")).to_have_value("31")
    assert_no_axe_violations(page)

    page.context.clear_cookies()
    login(page, live_server, "dcs", PASSWORD)
    pages = [
        reverse("improvement:deadline-list"),
        reverse("improvement:deadline-decide", args=[change.pk]),
        reverse("improvement:sign-off-list"),
        reverse("improvement:action-sign-off", args=[plan["delivered"].pk]),
        reverse("improvement:action-send-back", args=[plan["delivered"].pk]),
        reverse("improvement:inspection-list"),
        reverse("improvement:inspection-detail", args=[plan["inspection"].pk]),
    ]
    for path in pages:
        response = page.goto(f"{live_server.url}{path}")
        assert response is not None
        assert response.status == 200, path
        assert_no_axe_violations(page)
    # The decide page in its error state (refusing without a reason).
    page.goto(f"{live_server.url}{reverse('improvement:deadline-decide', args=[change.pk])}")
    page.get_by_role("radio", name="Refuse the request").check()
    page.get_by_role("button", name="Record decision").click()
    expect(page.locator(".govuk-error-summary")).to_contain_text("Enter why the request is refused")
    assert_no_axe_violations(page)
