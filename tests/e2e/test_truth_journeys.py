"""What leaders and owners see is true, in a browser, on the Knowsley demo loaded in the test.

The dashboard's first screen shows no false overdue plan; a plan recorded as sent stops the clock;
gaps cover every live inspection; the owner sees the leader's decision; the board viewer is
offered only pages it can use.
"""

import datetime as dt

import pytest
from django.urls import reverse
from django.utils import timezone
from playwright.sync_api import Page, expect

from improvement import services
from improvement.demo import load_demo
from improvement.models import Action, Authority, DueDateChange, Inspection, User


@pytest.fixture
def demo(transactional_db):
    load_demo()
    return Authority.objects.get(ons_code="E08000011")


def _password(username: str) -> str:
    return f"demo-{username}-2021"


def _dashboard(live_server, authority) -> str:
    return f"{live_server.url}{reverse('improvement:dashboard-authority', args=[authority.pk])}"


def test_the_directors_first_screen_shows_no_false_overdue_and_every_live_gap(
    page: Page, live_server, demo, login, page_problems, assert_no_axe_violations
):
    login(page, live_server, "leader", _password("leader"))
    page.goto(_dashboard(live_server, demo))
    clock = page.locator("section[aria-labelledby='clock']")
    expect(clock).to_contain_text("ILACS standard inspection, November 2024")
    expect(clock).to_contain_text("Submitted on 25 April 2025 (67 working days after publication)")
    expect(clock).to_contain_text("What comes next: monitoring")
    expect(clock).not_to_contain_text("verdue")
    # The first screen (what a director reads before scrolling) has no plan overdue.
    page.set_viewport_size({"width": 1280, "height": 900})
    page.goto(_dashboard(live_server, demo))
    first_screen = page.evaluate(
        """() => [...document.querySelectorAll('main *')]
            .filter(e => e.children.length === 0 && e.getBoundingClientRect().top < innerHeight)
            .map(e => e.textContent).join(' ')"""
    )
    assert "overdue by" not in first_screen.lower()
    gaps = page.locator("section[aria-labelledby='gaps']")
    expect(gaps).to_contain_text("An inspection's plan is live from the full inspection before")
    expect(gaps).to_contain_text("Area SEND inspection, March 2022")
    expect(gaps).to_contain_text("ILACS focused visit, October 2022")
    expect(gaps).to_contain_text("ILACS standard inspection, October 2021")
    expect(gaps).to_contain_text("Judged below good, but no improvement areas are recorded")
    expect(gaps).not_to_contain_text("Single inspection framework (SIF), April 2014")
    assert_no_axe_violations(page)
    assert page_problems == []


def test_recording_a_plan_as_sent_stops_the_clock(
    page: Page, live_server, demo, login, page_problems, assert_no_axe_violations
):
    today = timezone.localdate()
    visit = services.inspection_create(
        authority=demo,
        kind=Inspection.Kind.JTAI,
        start_date=today - dt.timedelta(days=60),
        end_date=today - dt.timedelta(days=56),
        publication_date=today - dt.timedelta(days=40),
        title="Joint targeted area inspection (test)",
    )
    services.improvement_area_add(
        inspection=visit, text="Sample priority action.", is_priority_action=True
    )
    login(page, live_server, "leader", _password("leader"))
    page.goto(f"{live_server.url}{visit.get_absolute_url()}")
    expect(page.locator("#clock ~ table").first).to_contain_text("Overdue by")
    page.get_by_role("link", name="Record an action plan as sent").click()
    assert_no_axe_violations(page)
    page.get_by_label("Final action plan").check()
    sent = today - dt.timedelta(days=1)
    page.get_by_label("Day").fill(str(sent.day))
    page.get_by_label("Month").fill(str(sent.month))
    page.get_by_label("Year").fill(str(sent.year))
    page.get_by_label("Link to the plan (optional)").fill("https://example.org/jtai-plan")
    page.get_by_role("button", name="Record as sent").click()
    expect(page.locator(".govuk-notification-banner--success")).to_contain_text(
        "Final action plan recorded as sent"
    )
    table = page.locator("#clock ~ table").first
    expect(table).to_contain_text("Submitted on")
    expect(table).not_to_contain_text("Overdue")
    assert_no_axe_violations(page)
    assert page_problems == []


def test_the_owner_sees_the_leaders_decision_and_why(
    page: Page, live_server, demo, login, page_problems, assert_no_axe_violations
):
    leader = User.objects.get(username="leader")
    delivered = (
        Action.objects.filter(authority=demo, delivery_status="delivered")
        .filter(impact_status="not_assessed")
        .exclude(owner=leader)
        .first()
    )
    services.action_send_back(
        action=delivered,
        by=leader,
        expected_version=delivered.version,
        reason="Show the audit of plans after the change.",
    )
    login(page, live_server, delivered.owner.username, _password(delivered.owner.username))
    page.goto(f"{live_server.url}{reverse('improvement:my-actions')}")
    row = page.locator("tr", has_text=delivered.title)
    expect(row).to_contain_text("Sent back")
    expect(row).to_contain_text("Show the audit of plans after the change.")
    row.locator("th a").click()
    expect(page.locator("#decision")).to_contain_text("A senior leader sent this action back")
    assert_no_axe_violations(page)

    pending = DueDateChange.objects.filter(action__authority=demo, status="pending").first()
    services.due_date_change_decide(
        change=pending, by=leader, approve=False, note="Keep the date: use agency cover."
    )
    owner = pending.action.owner.username
    page.context.clear_cookies()
    login(page, live_server, owner, _password(owner))
    page.goto(f"{live_server.url}{reverse('improvement:my-actions')}")
    row = page.locator("tr", has_text=pending.action.title)
    expect(row).to_contain_text("New date refused")
    expect(row).to_contain_text("Keep the date: use agency cover.")
    assert_no_axe_violations(page)
    assert page_problems == []


def test_the_board_viewer_is_offered_only_what_it_can_use(
    page: Page, live_server, demo, login, page_problems
):
    login(page, live_server, "board", _password("board"))
    menu = page.get_by_role("navigation", name="Menu")
    expect(menu.get_by_role("link", name="Dashboard")).to_be_visible()
    expect(menu.get_by_role("link", name="My actions")).to_have_count(0)
    expect(menu.get_by_role("link", name="Sign-off")).to_have_count(0)
    for link in menu.get_by_role("link").all():
        href = link.get_attribute("href")
        response = page.request.get(f"{live_server.url}{href}")
        assert response.status == 200, href
    assert page_problems == []


def test_the_owner_records_a_measure_value_against_baseline_and_target(
    page: Page, live_server, demo, login, page_problems, assert_no_axe_violations
):
    from improvement.models import Measure

    measure = Measure.objects.filter(authority=demo, actions__isnull=False).first()
    owner = measure.actions.first().owner.username
    login(page, live_server, owner, _password(owner))
    page.goto(f"{live_server.url}{reverse('improvement:measure-detail', args=[measure.pk])}")
    expect(page.locator("main")).to_contain_text("Baseline")
    assert_no_axe_violations(page)
    page.get_by_label("Value", exact=True).fill("not a number")
    page.get_by_role("button", name="Record value").click()
    expect(page.locator(".govuk-error-summary")).to_contain_text("The value must be a number")
    assert_no_axe_violations(page)
    today = timezone.localdate()
    value = "1" if measure.unit != "percent" else "55"
    page.get_by_label("Value", exact=True).fill(value)
    page.get_by_label("Day").fill(str(today.day))
    page.get_by_label("Month").fill(str(today.month))
    page.get_by_label("Year").fill(str(today.year))
    page.get_by_label("Note (optional)").fill("From this month's performance report")
    page.get_by_role("button", name="Record value").click()
    expect(page.locator(".govuk-notification-banner--success")).to_contain_text("recorded for")
    expect(page.locator("#values ~ .app-table-scroll table").first).to_contain_text(
        "From this month's performance report"
    )
    assert page_problems == []
