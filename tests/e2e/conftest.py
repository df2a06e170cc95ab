"""Browser tests: Debian Chromium driven by Playwright, with axe-core and static-asset checks.

`playwright install` cannot download browsers here, so the tests launch the system Chromium
(`/usr/bin/chromium`, or `CHROMIUM_PATH`). Without one they are skipped, unless `REQUIRE_BROWSER=1`
(set in CI), which turns the missing browser into an error so a skipped suite cannot pass CI.
"""

import os
import shutil
from pathlib import Path

import pytest
from axe_playwright_python.sync_playwright import Axe
from django.urls import reverse
from playwright.sync_api import ConsoleMessage, Page, Request, Response

E2E_DIR = Path(__file__).resolve().parent


# Playwright's sync API runs an event loop in the test thread, which Django's async-safety check
# mistakes for async code touching the ORM (microsoft/playwright-pytest#29). Session fixtures
# (the browser, the test database) need it, so it is set when this conftest loads; the deploy
# check in tests/test_security.py runs in a subprocess without it.
os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"


DEFAULT_CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
# WCAG 2.2 A and AA as axe-core tags them; 2.2 added no level A rules that axe checks.
WCAG_TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22aa"]

_axe = Axe()


def chromium_path() -> str | None:
    """Return the Chromium executable to drive, or None when there is none."""
    candidate = os.environ.get("CHROMIUM_PATH") or DEFAULT_CHROMIUM
    resolved = shutil.which(candidate)
    return resolved if resolved and os.access(resolved, os.X_OK) else None


def browser_required() -> bool:
    return os.environ.get("REQUIRE_BROWSER", "").strip().lower() in {"1", "true", "yes"}


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    # Every test under e2e/ drives a browser, so `-m "not browser"` can leave them all out.
    for item in items:
        if E2E_DIR in item.path.parents:
            item.add_marker(pytest.mark.browser)


@pytest.fixture(scope="session")
def browser_type_launch_args(browser_type_launch_args: dict) -> dict:
    """Launch the system Chromium instead of a Playwright-downloaded one."""
    path = chromium_path()
    if path is None:
        reason = (
            f"No Chromium at {os.environ.get('CHROMIUM_PATH') or DEFAULT_CHROMIUM}: "
            "install it with `apt-get install chromium` or set CHROMIUM_PATH."
        )
        if browser_required():
            pytest.fail(f"REQUIRE_BROWSER is set but the browser tests cannot run. {reason}")
        pytest.skip(reason)
    args = CHROMIUM_ARGS if browser_type_launch_args.get("headless", True) else CHROMIUM_ARGS[1:]
    return {**browser_type_launch_args, "executable_path": path, "args": args}


@pytest.fixture
def page_problems(page: Page, live_server) -> list[str]:
    """Collect failed requests, 4xx/5xx responses and console errors (which include CSP reports).

    Assert the list is empty at the end of a test. Only the live server's own URLs count as
    failures, so a page that links out does not make a test flaky.
    """
    problems: list[str] = []
    origin = live_server.url

    def on_request_failed(request: Request) -> None:
        if request.url.startswith(origin):
            problems.append(f"request failed: {request.method} {request.url} ({request.failure})")

    def on_response(response: Response) -> None:
        if response.url.startswith(origin) and response.status >= 400:
            problems.append(f"HTTP {response.status}: {response.request.method} {response.url}")

    def on_console(message: ConsoleMessage) -> None:
        if message.type == "error":
            problems.append(f"console error: {message.text}")

    page.on("requestfailed", on_request_failed)
    page.on("response", on_response)
    page.on("console", on_console)
    page.on("pageerror", lambda error: problems.append(f"uncaught exception: {error}"))
    return problems


def _assert_no_axe_violations(page: Page, *, context: str | dict | None = None) -> None:
    """Fail with a readable list if axe-core finds any WCAG 2.2 A/AA violation on the page.

    context narrows the check to part of the page (an axe-core context: a selector, or a dict
    with include/exclude).
    """
    options = {
        "runOnly": {"type": "tag", "values": WCAG_TAGS},
        "resultTypes": ["violations"],
    }
    violations = _axe.run(page, context=context, options=options).response["violations"]
    if not violations:
        return
    lines = [f"axe-core found {len(violations)} WCAG 2.2 A/AA violation(s) on {page.url}:"]
    for violation in violations:
        lines.append(
            f"- {violation['id']} ({violation['impact']}): {violation['help']} "
            f"<{violation['helpUrl']}>"
        )
        for node in violation["nodes"]:
            target = " ".join(str(part) for part in node["target"])
            summary = "; ".join(
                line.strip() for line in node.get("failureSummary", "").splitlines()[1:]
            )
            lines.append(f"    at {target}: {summary}")
    pytest.fail("\n".join(lines), pytrace=False)


def _login(page: Page, live_server, username: str, password: str) -> Page:
    """Sign in through the login form and wait for the page it lands on to finish loading."""
    login_url = f"{live_server.url}{reverse('login')}"
    page.goto(login_url)
    page.locator("#id_username").fill(username)
    page.locator("#id_password").fill(password)
    # Waiting for the whole redirect chain to load stops a following goto() from aborting its
    # requests, which page_problems would report as failures.
    with page.expect_navigation():
        page.get_by_role("button", name="Sign in").click()
    if page.url.startswith(login_url):
        errors = page.locator(".govuk-error-summary").all_inner_texts()
        pytest.fail(f"Sign-in as {username!r} failed: {errors or 'no error summary shown'}")
    return page


# Fixtures hand out the helpers because test modules cannot import from a conftest reliably.
@pytest.fixture
def assert_no_axe_violations():
    """`assert_no_axe_violations(page)`: fail on any WCAG 2.2 A/AA violation axe-core finds."""
    return _assert_no_axe_violations


@pytest.fixture
def login():
    """`login(page, live_server, username, password)`: sign in through the login form."""
    return _login
