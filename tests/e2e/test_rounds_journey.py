"""The board's calendar, an update round and "Your emails" in a real browser, with axe."""

import datetime as dt

import pytest
from django.urls import reverse
from django.utils import timezone
from playwright.sync_api import Page, expect

from improvement.models import BoardMeeting
from improvement.services.rounds import default_updates_due_on
from tests.factories import (
    ActionFactory,
    AuthorityFactory,
    ImprovementAreaFactory,
    InspectionFactory,
    LeaderFactory,
    OwnerFactory,
)

PASSWORD = "password"  # what tests/factories.py gives every user


@pytest.fixture
def plan(transactional_db):
    today = timezone.localdate()
    authority = AuthorityFactory(name="Knowsley")
    owner = OwnerFactory(username="tm", first_name="Tom", last_name="Manager", authority=authority)
    LeaderFactory(username="dcs", first_name="Dee", last_name="Director", authority=authority)
    area = ImprovementAreaFactory(inspection=InspectionFactory(authority=authority))
    ActionFactory(
        authority=authority,
        owner=owner,
        improvement_areas=[area],
        title="Improve pathway plans for care leavers",
        start_date=today - dt.timedelta(days=60),
        due_date=today - dt.timedelta(days=2),
    )
    return authority


def test_a_leader_sets_the_next_board_and_sees_who_has_updated(
    page: Page, live_server, plan, login, page_problems, assert_no_axe_violations
):
    login(page, live_server, "dcs", PASSWORD)
    page.get_by_role("link", name="Board", exact=True).click()
    expect(page.get_by_role("heading", name="Improvement board")).to_be_visible()
    assert_no_axe_violations(page)

    # A date in the past first: the error summary takes focus and names the problem.
    page.get_by_role("group", name="Date of the board meeting").get_by_label("Day").fill("1")
    page.get_by_role("group", name="Date of the board meeting").get_by_label("Month").fill("1")
    page.get_by_role("group", name="Date of the board meeting").get_by_label("Year").fill("2020")
    page.get_by_role("button", name="Set meeting").click()
    expect(page.locator(".govuk-error-summary")).to_be_focused()
    expect(page.locator(".govuk-error-summary")).to_contain_text("must be today or in the future")
    assert_no_axe_violations(page)

    meets_on = timezone.localdate() + dt.timedelta(days=42)
    group = page.get_by_role("group", name="Date of the board meeting")
    group.get_by_label("Day").fill(str(meets_on.day))
    group.get_by_label("Month").fill(str(meets_on.month))
    group.get_by_label("Year").fill(str(meets_on.year))
    page.get_by_role("button", name="Set meeting").click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("Update round for")
    due = default_updates_due_on(meets_on, today=timezone.localdate())
    expect(page.locator("main")).to_contain_text(f"by {due:%-d %B %Y}")
    expect(page.get_by_role("row", name="Tom Manager")).to_contain_text("Improve pathway plans")
    assert BoardMeeting.objects.get().meets_on == meets_on
    assert_no_axe_violations(page)
    assert page_problems == []


def test_your_emails_previews_the_reminder(
    page: Page, live_server, plan, login, page_problems, assert_no_axe_violations
):
    login(page, live_server, "tm", PASSWORD)
    page.get_by_role("link", name="Your emails").click()
    expect(page.get_by_role("heading", name="Overdue")).to_be_visible()
    expect(page.locator("main")).to_contain_text("Improve pathway plans for care leavers")
    assert_no_axe_violations(page)
    page.get_by_label("Actions due within 14 days").uncheck()
    page.get_by_role("button", name="Save choices").click()
    expect(page.locator(".govuk-notification-banner--success")).to_contain_text("saved")
    expect(page.get_by_label("Actions due within 14 days")).not_to_be_checked()
    assert_no_axe_violations(page)
    assert page.url.endswith(reverse("improvement:your-emails"))
    assert page_problems == []
