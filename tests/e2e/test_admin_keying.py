"""Keying a report in the admin, in a real browser: new inline rows come numbered."""

import pytest
from django.contrib.auth.models import Group
from django.urls import reverse
from playwright.sync_api import Page, expect

from improvement import roles
from tests.factories import AuthorityFactory, InspectionFactory, JudgementFactory

PASSWORD = "correct-horse-battery-staple"


@pytest.fixture
def keying(django_user_model):
    authority = AuthorityFactory(name="Knowsley", ons_code="E08000011")
    user = django_user_model.objects.create_user(
        username="k.admin", password=PASSWORD, authority=authority, is_staff=True
    )
    user.groups.add(Group.objects.get(name=roles.ADMINISTRATOR))
    inspection = InspectionFactory(authority=authority)
    JudgementFactory(inspection=inspection, position=1)
    JudgementFactory(inspection=inspection, position=2)
    return {"user": user, "inspection": inspection}


def test_new_judgement_row_gets_the_next_position(
    page: Page, live_server, page_problems, login, keying
):
    """Adding a row fills in 3 after positions 1 and 2; the script runs under the CSP."""
    login(page, live_server, "k.admin", PASSWORD)
    url = reverse("admin:improvement_inspection_change", args=[keying["inspection"].pk])
    page.goto(f"{live_server.url}{url}")
    expect(page.locator("textarea[name=lead_inspectors]")).to_have_value("Paula Thomson-Jones")
    page.locator("#judgements-group .add-row a").click()
    expect(page.locator("input[name='judgements-2-position']")).to_have_value("3")
    page.locator("#judgements-group .add-row a").click()
    expect(page.locator("input[name='judgements-3-position']")).to_have_value("4")
    # Other admin assets are not this test's concern; this script and the CSP are.
    mine = [p for p in page_problems if "admin_numbering" in p or "Content Security" in p]
    mine += [p for p in page_problems if p.startswith("uncaught exception")]
    assert not mine, mine
