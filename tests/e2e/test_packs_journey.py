"""A leader's board pack and plan import in a real browser: prepare, freeze, read; and axe."""

import datetime as dt
import re

import pytest
from django.urls import reverse
from django.utils import timezone
from playwright.sync_api import Page, expect

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
    inspection = InspectionFactory(authority=authority, title="Knowsley ILACS")
    area = ImprovementAreaFactory(inspection=inspection, position=1)
    leader = LeaderFactory(username="sl", first_name="Sue", last_name="Leader", authority=authority)
    owner = OwnerFactory(username="tm", authority=authority)
    ActionFactory(
        authority=authority,
        owner=owner,
        title="Overdue supervision audit",
        start_date=today - dt.timedelta(days=60),
        due_date=today - dt.timedelta(days=3),
        improvement_areas=[area],
    )
    return {"authority": authority, "leader": leader}


def test_leader_prepares_freezes_and_reads_a_board_pack(
    page: Page, live_server, plan, login, assert_no_axe_violations, page_problems
):
    login(page, live_server, "sl", PASSWORD)
    page.goto(f"{live_server.url}{reverse('improvement:pack-list')}")
    assert_no_axe_violations(page)
    page.get_by_role("link", name="Knowsley: prepare the board pack").click()
    page.get_by_label("Date of the board meeting").fill("31/02/2027")
    page.get_by_role("button", name="Show the pack for this meeting").click()
    expect(page.locator(".govuk-error-summary")).to_be_visible()
    expect(page).to_have_title(re.compile("^Error: "))
    assert_no_axe_violations(page)
    page.get_by_label("Date of the board meeting").fill("15/01/2027")
    page.get_by_role("button", name="Show the pack for this meeting").click()
    expect(page.locator("#pack-exceptions")).to_be_visible()
    expect(page.get_by_text("Overdue supervision audit").first).to_be_visible()
    assert_no_axe_violations(page)
    page.get_by_role("button", name="Freeze the pack for 15 January 2027").click()
    expect(page.get_by_role("heading", name="Board pack: 15 January 2027")).to_be_visible()
    expect(page.get_by_text("SHA-256 of the frozen HTML")).to_be_visible()
    assert_no_axe_violations(page)
    page.goto(f"{live_server.url}{reverse('improvement:plan-import')}")
    page.get_by_role("button", name="Check the plan").click()
    expect(page.locator(".govuk-error-summary")).to_contain_text("Choose the spreadsheet")
    assert_no_axe_violations(page)
    assert page_problems == []
