"""The GOV.UK page template in a real browser: assets, CSP, accessibility, keyboard and sign-in."""

import re

import pytest
from django.contrib.auth.models import Group
from django.urls import reverse
from playwright.sync_api import Page, expect

from improvement import roles

PASSWORD = "correct-horse-battery-staple"
NAVIGATION = [
    ("improvement:my-actions", "My actions"),
    ("improvement:action-list", "Actions"),
    ("improvement:dashboard", "Dashboard"),
    ("improvement:inspection-list", "Inspections"),
]


@pytest.fixture
def owner(django_user_model):
    user = django_user_model.objects.create_user(
        username="a.owner", password=PASSWORD, first_name="Alex", last_name="Owner"
    )
    user.groups.add(Group.objects.get(name=roles.ACTION_OWNER))
    return user


def test_login_page_loads_styles_scripts_and_passes_axe(
    page: Page, live_server, page_problems, assert_no_axe_violations
):
    """The login page loads every static file, runs GOV.UK JS under the CSP and passes axe."""
    page.goto(f"{live_server.url}{reverse('login')}")

    expect(page).to_have_title(re.compile("^Sign in \u2013 "))
    # The nonce'd inline script ran (CSP allowed it) and the browser supports ES modules.
    expect(page.locator("body")).to_have_class(re.compile(r"\bjs-enabled\b"))
    expect(page.locator("body")).to_have_class(re.compile(r"\bgovuk-frontend-supported\b"))
    # initAll() ran from static/js/app.js: the password input's Show button is only unhidden by JS.
    expect(page.get_by_role("button", name="Show password")).to_be_visible()
    # The vendored GOV.UK CSS and app.css are applied, and no GOV.UK typeface is asked for.
    font = page.evaluate("getComputedStyle(document.querySelector('h1')).fontFamily")
    assert "GDS Transport" not in font
    assert font.startswith("arial")
    header_border = page.evaluate(
        "getComputedStyle(document.querySelector('.app-header')).borderBottomColor"
    )
    assert header_border == "rgb(42, 127, 98)"

    assert_no_axe_violations(page)
    assert page_problems == []


def test_skip_link_is_first_tab_stop_and_moves_focus_to_main(page: Page, live_server):
    """The first Tab reaches the skip link, and following it puts focus on the main content."""
    page.goto(f"{live_server.url}{reverse('login')}")

    page.keyboard.press("Tab")
    skip_link = page.get_by_role("link", name="Skip to main content")
    expect(skip_link).to_be_focused()
    expect(skip_link).to_be_visible()

    page.keyboard.press("Enter")
    expect(page.locator("#main-content")).to_be_focused()


def test_failed_sign_in_shows_focused_error_summary(
    page: Page, live_server, owner, assert_no_axe_violations
):
    """A wrong password re-shows the form with a focused error summary and an "Error:" title."""
    page.goto(f"{live_server.url}{reverse('login')}")
    page.locator("#id_username").fill(owner.username)
    page.locator("#id_password").fill("not-the-password")
    page.get_by_role("button", name="Sign in").click()

    summary = page.locator(".govuk-error-summary")
    expect(summary).to_be_focused()
    expect(summary).to_contain_text("There is a problem")
    expect(page).to_have_title(re.compile("^Error: Sign in \u2013 "))
    expect(page.locator("#id_username")).to_have_value(owner.username)
    assert_no_axe_violations(page)

    summary.get_by_role("link").first.click()
    expect(page.locator("#id_username")).to_be_focused()


def test_signed_in_layout_has_navigation_and_signs_out(
    page: Page, live_server, owner, login, page_problems, assert_no_axe_violations
):
    """Signed in, the header names the user, the navigation works and Sign out POSTs to logout."""
    login(page, live_server, owner.username, PASSWORD)
    # An action owner lands on My actions, a real page built on base.html.
    expect(page).to_have_url(f"{live_server.url}{reverse('improvement:my-actions')}")

    expect(page.get_by_role("heading", level=1)).to_have_text("My actions")
    expect(page.locator(".app-header")).to_contain_text("Alex Owner")
    menu = page.get_by_role("navigation", name="Menu")
    expect(menu.get_by_role("link", name="My actions", exact=True)).to_be_visible()
    expect(menu.get_by_role("link", name="My actions", exact=True)).to_have_attribute(
        "aria-current", "page"
    )
    for name, text in NAVIGATION:
        expect(menu.get_by_role("link", name=text, exact=True)).to_have_attribute(
            "href", reverse(name)
        )
    expect(menu.get_by_role("link", name="Admin")).to_have_count(0)
    assert_no_axe_violations(page)
    assert page_problems == []

    page.get_by_role("button", name="Sign out").click()
    expect(page).to_have_url(f"{live_server.url}{reverse('login')}")
    expect(page.get_by_role("button", name="Sign out")).to_have_count(0)
