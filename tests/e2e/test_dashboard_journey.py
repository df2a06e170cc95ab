"""The leader's dashboard in a browser: counts, links to the actions, updates, axe, keyboard."""

import datetime as dt
import re

import pytest
from django.urls import reverse
from django.utils import timezone
from playwright.sync_api import Page, expect

from improvement import services
from improvement.models import Action
from tests.factories import (
    ActionFactory,
    AuthorityFactory,
    ImprovementAreaFactory,
    InspectionFactory,
    JudgementFactory,
    LeaderFactory,
    MeasureFactory,
    MeasureValueFactory,
    OwnerFactory,
    ThemeFactory,
)

PASSWORD = "password"  # what tests/factories.py gives every user


@pytest.fixture
def plan(db):
    """An authority with two overdue actions, three on time, history, a measure and themes."""
    today = timezone.localdate()
    authority = AuthorityFactory(name="Knowsley")
    leader = LeaderFactory(
        username="dcs", first_name="Dana", last_name="Director", authority=authority
    )
    owner = OwnerFactory(username="tm", first_name="Tom", last_name="Manager", authority=authority)
    theme = ThemeFactory(slug="care-leavers", name="Care leavers")
    old = InspectionFactory(authority=authority, start_date=dt.date(2017, 3, 13))
    JudgementFactory(
        inspection=old, area="Overall effectiveness", grade="inadequate", is_overall=True
    )
    ImprovementAreaFactory(inspection=old).themes.add(theme)
    inspection = InspectionFactory(
        authority=authority,
        start_date=dt.date(2021, 10, 11),
        publication_date=today - dt.timedelta(days=20),
    )
    JudgementFactory(inspection=inspection, area="Overall effectiveness", is_overall=True)
    area = ImprovementAreaFactory(inspection=inspection)
    area.themes.add(theme)
    ImprovementAreaFactory(inspection=inspection, text="An area nobody has answered yet.")
    start = today - dt.timedelta(days=120)
    overdue = [
        ActionFactory(
            authority=authority,
            owner=owner,
            title=f"Overdue action {n}",
            start_date=start,
            due_date=today - dt.timedelta(days=n),
            improvement_areas=[area],
        )
        for n in (3, 9)
    ]
    on_time = [
        ActionFactory(
            authority=authority,
            owner=owner,
            title=f"On-time action {n}",
            start_date=start,
            improvement_areas=[area],
        )
        for n in range(3)
    ]
    ActionFactory(
        title="Someone else's overdue action",
        due_date=today - dt.timedelta(days=2),
        start_date=start,
    )
    measure = MeasureFactory(authority=authority, name="Care leavers in suitable accommodation")
    MeasureValueFactory(measure=measure, recorded_on=today - dt.timedelta(days=5))
    return {
        "authority": authority,
        "leader": leader,
        "owner": owner,
        "overdue": overdue,
        "on_time": on_time,
    }


def _dashboard_url(live_server, authority) -> str:
    return f"{live_server.url}{reverse('improvement:dashboard-authority', args=[authority.pk])}"


def test_leader_lands_on_dashboard_and_follows_the_overdue_count(
    page: Page, live_server, plan, login, page_problems
):
    """Sign-in lands on the dashboard; the overdue count opens the list of exactly those actions."""
    login(page, live_server, "dcs", PASSWORD)

    expect(page).to_have_url(_dashboard_url(live_server, plan["authority"]))
    expect(page.get_by_role("heading", level=1)).to_have_text("Knowsley")
    overdue = page.locator("#stat-overdue")
    expect(overdue.locator(".app-stat__number")).to_have_text("2")
    expect(page.locator("#stat-due_soon .app-stat__number")).to_have_text("0")

    overdue.get_by_role("link").click()

    expect(page.get_by_role("heading", level=1)).to_have_text("Actions")
    assert re.search(r"[?&]overdue=1", page.url)
    rows = page.locator("table.govuk-table tbody tr")
    expect(rows).to_have_count(2)
    titles = sorted(rows.locator("a").all_inner_texts())
    assert titles == ["Overdue action 3", "Overdue action 9"]
    assert page_problems == []


def test_owner_update_shows_on_the_leaders_dashboard_after_reload(
    page: Page, live_server, plan, login
):
    """When an owner marks an overdue action delivered, the dashboard moves it on reload."""
    login(page, live_server, "dcs", PASSWORD)
    page.goto(_dashboard_url(live_server, plan["authority"]))
    expect(page.locator("#stat-overdue .app-stat__number")).to_have_text("2")
    expect(page.locator("#stat-awaiting_sign_off .app-stat__number")).to_have_text("0")

    action = Action.objects.get(pk=plan["overdue"][0].pk)
    services.action_record_progress(
        action=action,
        by=plan["owner"],
        expected_version=action.version,
        text="Delivered: every care leaver now has a pathway plan.",
        delivery_status=Action.DeliveryStatus.DELIVERED,
    )

    page.reload()
    expect(page.locator("#stat-overdue .app-stat__number")).to_have_text("1")
    expect(page.locator("#stat-awaiting_sign_off .app-stat__number")).to_have_text("1")
    delivered_row = page.get_by_role("row", name=re.compile(r"^Delivered\b"))
    expect(delivered_row).to_contain_text("1")


def test_dashboards_pass_axe(
    page: Page, live_server, plan, login, assert_no_axe_violations, page_problems
):
    """The authority dashboard and the national list have no WCAG 2.2 A/AA violations."""
    login(page, live_server, "dcs", PASSWORD)
    page.goto(_dashboard_url(live_server, plan["authority"]))
    assert_no_axe_violations(page)
    # Expanded details are checked too.
    for summary in page.locator("summary").all():
        summary.click()
    assert_no_axe_violations(page)

    LeaderFactory(username="national", authority=None)
    with page.expect_navigation():
        page.get_by_role("button", name="Sign out").click()
    expect(page.get_by_role("button", name="Sign out")).to_have_count(0)
    login(page, live_server, "national", PASSWORD)
    page.goto(f"{live_server.url}{reverse('improvement:dashboard')}")
    expect(page.get_by_role("heading", level=1)).to_have_text("National overview")
    expect(page.get_by_role("link", name=re.compile("^Knowsley"))).to_be_visible()
    assert_no_axe_violations(page)
    assert page_problems == []


def test_keyboard_reaches_the_count_links(page: Page, live_server, plan, login):
    """Tabbing from the top of the page reaches the overdue count link, and Enter follows it."""
    login(page, live_server, "dcs", PASSWORD)
    page.goto(_dashboard_url(live_server, plan["authority"]))
    target = page.locator("#stat-overdue a")
    for _ in range(40):
        page.keyboard.press("Tab")
        if target.evaluate("el => el === document.activeElement"):
            break
    expect(target).to_be_focused()
    page.keyboard.press("Enter")
    expect(page.get_by_role("heading", level=1)).to_have_text("Actions")
