"""An administrator imports Dorset's 2025 report in a real browser: upload, preview, confirm."""

import re
from pathlib import Path

import pytest
from django.contrib.auth.models import Group
from django.urls import reverse
from playwright.sync_api import Page, expect

from improvement import roles
from improvement.models import Authority, Inspection
from improvement.reference import load_authorities

PASSWORD = "correct-horse-battery-staple"
SAMPLE = (
    Path(__file__).resolve().parents[2] / ".." / "shared" / "ofsted-samples"
).resolve() / "dorset-ilacs-short-2025.pdf"


@pytest.fixture
def importer_admin(django_user_model):
    user = django_user_model.objects.create_user(
        username="i.admin",
        password=PASSWORD,
        first_name="Ros",
        last_name="Ashworth",
        reach="national",
    )
    user.groups.add(Group.objects.get(name=roles.ADMINISTRATOR))
    return user


def test_administrator_imports_a_report(
    page: Page, live_server, page_problems, assert_no_axe_violations, login, importer_admin
):
    """Upload (with an error first), check the preview with its National Framework tag, import."""
    if not SAMPLE.is_file():
        pytest.skip(f"sample {SAMPLE} not found")
    load_authorities()
    login(page, live_server, importer_admin.username, PASSWORD)
    page.goto(f"{live_server.url}{reverse('improvement:report-import')}")
    expect(page.get_by_role("heading", level=1)).to_have_text("Import an Ofsted report")
    assert_no_axe_violations(page)

    # Submitting nothing: the error summary links to the file input.
    page.get_by_role("button", name="Read the report").click()
    summary = page.locator(".govuk-error-summary")
    expect(summary).to_contain_text("Upload the report PDF or paste the report text.")
    expect(page).to_have_title(re.compile("^Error: "))
    assert_no_axe_violations(page)

    page.get_by_label("Upload the report").set_input_files(str(SAMPLE))
    page.get_by_role("button", name="Read the report").click()
    expect(page.get_by_role("heading", level=1)).to_have_text(
        "Check the report before importing it"
    )
    dorset = Authority.objects.get(name="Dorset")
    expect(page.get_by_label("Authority", exact=True)).to_have_value(str(dorset.pk))
    tags = page.locator("table").filter(has_text="National Framework tag")
    expect(tags).to_contain_text("Outcome 4")
    expect(tags).to_contain_text("The clarity and detail of the care leaver offer")
    expect(page.locator("main")).to_contain_text("Sarah Canto")
    assert_no_axe_violations(page)

    # The paragraphs sit in collapsed details that the keyboard can open.
    first = page.locator("details.govuk-details").first
    first.locator("summary").focus()
    page.keyboard.press("Enter")
    expect(first.locator(".govuk-details__text")).to_be_visible()

    page.get_by_role("button", name="Import the report").click()
    inspection = Inspection.objects.get()
    expect(page).to_have_url(
        f"{live_server.url}{reverse('improvement:inspection-detail', kwargs={'pk': inspection.pk})}"
    )
    expect(page.locator(".govuk-notification-banner--success")).to_contain_text("imported")
    assert inspection.authority == dorset
    assert inspection.findings.exists()
    assert inspection.improvement_areas.get().framework_tag == "Outcome 4"
    assert page_problems == []
