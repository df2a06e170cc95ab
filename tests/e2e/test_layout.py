"""Every page, as every demo user, at 320 and 1280 CSS pixels: no sideways scroll, no axe-core
violation of any rule, no console error. The Django admin's pages are swept for console errors.

The pages come from the URLconf: a page routed without an entry in PAGES (or a reason in
NOT_PAGES) fails test_every_routed_page_is_in_the_layout_walk, and a page in PAGES that no demo
user reached fails the walk itself. One browser for the run, one sign-in per user.

axe-core runs every rule it has, best-practice, experimental and deprecated ones included, except
the three that test WCAG AAA only (color-contrast-enhanced, identical-links-same-purpose,
meta-refresh-no-exceptions): the service aims at AA.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from axe_playwright_python.sync_playwright import Axe
from django.contrib import admin
from django.contrib.auth import get_user_model
from django.db.models import Count, Q
from django.template.loader import render_to_string
from django.urls import URLPattern, URLResolver, get_resolver, reverse
from django.utils import timezone
from playwright.sync_api import Browser, ConsoleMessage, Page, Response

from improvement import rulebook, scope
from improvement.demo import DEMO_USERS, load_demo
from improvement.models import (
    Action,
    Authority,
    BoardMeeting,
    BoardPack,
    DueDateChange,
    Inspection,
    Measure,
)
from improvement.services.packs import board_pack_freeze

WIDTHS = (320, 1280)
REPO = Path(__file__).resolve().parents[2]
# A report to preview: the importer's in-repo samples, or the shared ones beside the repository.
IMPORT_SAMPLE_CANDIDATES = (
    REPO / "tests" / "importer" / "samples" / "dorset-ilacs-short-2025.pdf",
    (REPO / ".." / "shared" / "ofsted-samples" / "dorset-ilacs-short-2025.pdf").resolve(),
)

_axe = Axe()
AXE_ALL_RULES = """() => {
  const aaaOnly = (rule) => rule.tags.includes('wcag2aaa')
    && !rule.tags.some((tag) => /^wcag2\\d?a{1,2}$/.test(tag));
  const ids = axe.getRules().filter((rule) => !aaaOnly(rule)).map((rule) => rule.ruleId);
  return axe.run(document, {runOnly: {type: 'rule', values: ids}, resultTypes: ['violations']})
    .then((results) => results.violations.map((v) => ({
      id: v.id, help: v.help, targets: v.nodes.map((n) => n.target.join(' ')),
    })));
}"""


# ---------------------------------------------------------------------------------------------
# The pages: URL name -> the URLs to visit as a user (none when the user has nothing to open).

User = get_user_model()


def _visible_actions(user):
    return scope.restrict(Action.objects.all(), user).order_by("pk")


def _updatable(user) -> list[Action]:
    return [
        a
        for a in _visible_actions(user).filter(rulebook.not_closed())
        if user.has_perm("improvement.update_action", a)
    ]


def _fullest_action(user) -> Action | None:
    """The user's own action with the most on its page (notes, dates, evidence), else any."""
    actions = _visible_actions(user).annotate(
        rows=Count("notes", distinct=True)
        + Count("due_date_changes", distinct=True)
        + Count("evidence", distinct=True)
    )
    return (
        actions.filter(owner=user).order_by("-rows", "pk").first()
        or actions.order_by("-rows", "pk").first()
    )


def _awaiting_sign_off(user) -> Action | None:
    candidates = _visible_actions(user).filter(rulebook.awaiting_sign_off())
    return next((a for a in candidates if user.has_perm("improvement.sign_off_action", a)), None)


def _one(name: str, pick: Callable) -> Callable[[User], list[str]]:
    def urls(user) -> list[str]:
        obj = pick(user)
        return [reverse(name, kwargs={"pk": obj.pk})] if obj else []

    return urls


def _plain(name: str) -> Callable[[User], list[str]]:
    return lambda user: [reverse(name)]


def _pending_change(user) -> DueDateChange | None:
    pending = scope.restrict(
        DueDateChange.objects.filter(status=DueDateChange.Status.PENDING),
        user,
        path="action__authority",
    ).select_related("action")
    return next((c for c in pending if user.has_perm("improvement.decide_deadline", c)), None)


def _fullest_inspection(user) -> Inspection | None:
    inspections = scope.restrict(Inspection.objects.all(), user)
    return inspections.annotate(n=Count("findings")).order_by("-n", "pk").first()


def _authority(user) -> Authority | None:
    return (
        scope.authorities_for(user)
        .annotate(n=Count("actions"))
        .filter(Q(n__gt=0))
        .order_by("-n", "pk")
        .first()
    )


PAGES: dict[str, Callable[[User], list[str]]] = {
    "login": lambda user: [],  # visited signed out, see test_signed_out_pages
    "accessibility-statement": _plain("accessibility-statement"),
    "improvement:home": _plain("improvement:home"),
    "improvement:dashboard": _plain("improvement:dashboard"),
    "improvement:dashboard-authority": _one("improvement:dashboard-authority", _authority),
    "improvement:my-actions": _plain("improvement:my-actions"),
    "improvement:action-list": _plain("improvement:action-list"),
    "improvement:action-detail": _one("improvement:action-detail", _fullest_action),
    "improvement:action-update": _one(
        "improvement:action-update", lambda u: next(iter(_updatable(u)), None)
    ),
    "improvement:deadline-request": _one(
        "improvement:deadline-request", lambda u: next(iter(_updatable(u)), None)
    ),
    "improvement:deadline-list": _plain("improvement:deadline-list"),
    "improvement:deadline-decide": _one("improvement:deadline-decide", _pending_change),
    "improvement:sign-off-list": _plain("improvement:sign-off-list"),
    "improvement:action-sign-off": _one("improvement:action-sign-off", _awaiting_sign_off),
    "improvement:action-send-back": _one("improvement:action-send-back", _awaiting_sign_off),
    "improvement:inspection-list": _plain("improvement:inspection-list"),
    "improvement:inspection-detail": _one("improvement:inspection-detail", _fullest_inspection),
    "improvement:report-import": _plain("improvement:report-import"),
    # Reached by uploading a report from the upload page: see _preview_an_import.
    "improvement:report-import-preview": lambda user: [],
    "improvement:plan-submission": _one("improvement:plan-submission", _fullest_inspection),
    "improvement:measure-detail": _one(
        "improvement:measure-detail",
        lambda u: scope.restrict(Measure.objects.all(), u).order_by("pk").first(),
    ),
    "improvement:pack-list": _plain("improvement:pack-list"),
    "improvement:pack-draft": _one("improvement:pack-draft", _authority),
    "improvement:pack-detail": _one(
        "improvement:pack-detail",
        lambda u: scope.restrict(BoardPack.objects.all(), u).order_by("pk").first(),
    ),
    "improvement:plan-import": _plain("improvement:plan-import"),
    "improvement:board-meetings": _one("improvement:board-meetings", _authority),
    "improvement:board-meeting": _one(
        "improvement:board-meeting",
        lambda u: scope.restrict(BoardMeeting.objects.all(), u).order_by("pk").first(),
    ),
    "improvement:your-emails": _plain("improvement:your-emails"),
}
NOT_PAGES = {
    "logout": "POST only: the Sign out button",
    "favicon": "an icon (tests/test_error_pages.py)",
    "improvement:evidence-download": "a file download, not a page",
    "improvement:plan-download": "a file download, not a page",
    "improvement:action-export-csv": "a CSV download, not a page",
    "improvement:action-export-xlsx": "an XLSX download, not a page",
    "improvement:pack-draft-pdf": "a PDF download, not a page",
    "improvement:pack-pdf": "a PDF download, not a page",
    "improvement:pack-html": "the frozen pack's HTML as a download (pack-detail shows it)",
    "improvement:plan-import-preview": "reached by uploading a plan (e2e/test_packs_journey.py)",
    "improvement:national": "for national and regional users, whom the demo has none of: walked"
    " by test_national_overview_layout below",
}
SIGNED_OUT = ("login", "accessibility-statement")


def routed_page_names() -> set[str]:
    """Every named route outside the Django admin, as "namespace:name" (or "name")."""
    found: set[str] = set()

    def walk(patterns, namespace: str | None) -> None:
        for pattern in patterns:
            if isinstance(pattern, URLResolver):
                if pattern.namespace == "admin":
                    continue
                walk(pattern.url_patterns, pattern.namespace or namespace)
            elif isinstance(pattern, URLPattern):
                name = pattern.name or f"<unnamed {pattern.pattern}>"
                found.add(f"{namespace}:{name}" if namespace else name)

    walk(get_resolver().url_patterns, None)
    return found


def test_every_routed_page_is_in_the_layout_walk():
    """A page added to the URLconf must be walked here (PAGES) or say why not (NOT_PAGES)."""
    routed = routed_page_names()
    missing = sorted(routed - set(PAGES) - set(NOT_PAGES))
    assert not missing, "\n".join(f"add {name} to PAGES in {__file__}" for name in missing)
    stale = sorted((set(PAGES) | set(NOT_PAGES)) - routed)
    assert not stale, f"no longer routed: {stale}"


# ---------------------------------------------------------------------------------------------
# The checks, gathered across pages so one run reports every problem.


@dataclass
class Walk:
    page: Page
    origin: str
    problems: list[str] = field(default_factory=list)
    reached: dict[str, set[str]] = field(default_factory=dict)  # URL name -> usernames
    figures: list[str] = field(default_factory=list)
    console: list[ConsoleMessage] = field(default_factory=list)
    failed: list[str] = field(default_factory=list)

    def listen(self) -> None:
        self.page.on("console", self._on_console)
        self.page.on("pageerror", lambda error: self.failed.append(f"uncaught: {error}"))
        self.page.on("requestfailed", self._on_request_failed)
        self.page.on("response", self._on_response)

    def _on_console(self, message: ConsoleMessage) -> None:
        if message.type == "error":
            self.console.append(message)

    def _on_request_failed(self, request) -> None:
        # ERR_ABORTED is the browser cancelling a late sub-resource (the admin's icons, fetched
        # by script after load) because the walk moved on; a server's error status is still
        # caught by _on_response.
        if request.url.startswith(self.origin) and "ERR_ABORTED" not in (request.failure or ""):
            self.failed.append(f"request failed: {request.url} ({request.failure})")

    def _on_response(self, response: Response) -> None:
        # The document's own status is the visit's business; a sub-resource must not fail.
        if (
            response.url.startswith(self.origin)
            and response.status >= 400
            and response.request.resource_type != "document"
        ):
            self.failed.append(f"HTTP {response.status} for {response.url}")

    def visit(
        self,
        who: str,
        name: str,
        url: str,
        *,
        ours: bool = True,
        widths: Iterable[int] = WIDTHS,
        expect: Iterable[int] = (200,),
    ) -> int:
        """Open url and check it at each width; return the document's status.

        Pages not ours (the Django admin's) are checked for console errors and failed requests
        only.
        """
        self.console.clear()
        self.failed.clear()
        self.page.set_viewport_size({"width": max(widths), "height": 900})
        response = self.page.goto(self.origin + url if url.startswith("/") else url)
        status = response.status if response else 0
        where = f"{who} {url}"
        if status not in expect:
            self.problems.append(f"{where}: HTTP {status}")
        if status == 200:
            self.reached.setdefault(name, set()).add(who)
        if ours:
            self.page.evaluate(_axe.axe_script)
        for width in widths if ours else ():
            self.page.set_viewport_size({"width": width, "height": 900})
            scroll_width = self.page.evaluate("document.documentElement.scrollWidth")
            self.figures.append(f"{where} @{width}: {scroll_width}px")
            if scroll_width > width:
                self.problems.append(
                    f"{where} @{width}px: {scroll_width}px wide (scrolls sideways)"
                )
            for violation in self.page.evaluate(AXE_ALL_RULES):
                self.problems.append(
                    f"{where} @{width}px: axe {violation['id']} ({violation['help']}) "
                    f"at {'; '.join(violation['targets'][:5])}"
                )
        document = self.page.url
        for message in self.console:
            # Chrome reports an error status of the document itself as a console error.
            own_status = message.location.get("url") == document and re.match(
                r"Failed to load resource: the server responded with a status of \d+",
                message.text,
            )
            if not (own_status and status in expect):
                self.problems.append(f"{where}: console error: {message.text}")
        self.problems.extend(f"{where}: {failure}" for failure in self.failed)
        return status


def sign_in(page: Page, origin: str, username: str, password: str) -> None:
    page.goto(f"{origin}{reverse('login')}")
    page.locator("#id_username").fill(username)
    page.locator("#id_password").fill(password)
    with page.expect_navigation():
        page.get_by_role("button", name="Sign in").click()
    if page.url.startswith(f"{origin}{reverse('login')}"):
        pytest.fail(f"could not sign in as {username}")


def import_sample() -> Path | None:
    return next((path for path in IMPORT_SAMPLE_CANDIDATES if path.is_file()), None)


def _preview_an_import(walk: Walk, who: str) -> None:
    """Upload a report as an administrator and check the preview it leads to."""
    sample = import_sample()
    if sample is None:
        walk.problems.append(f"no sample report to preview: {IMPORT_SAMPLE_CANDIDATES}")
        return
    walk.page.goto(walk.origin + reverse("improvement:report-import"))
    walk.page.get_by_label("Upload the report").set_input_files(str(sample))
    with walk.page.expect_navigation():
        walk.page.get_by_role("button", name="Read the report").click()
    preview = walk.page.url.removeprefix(walk.origin)
    if "/import/" not in preview or preview.rstrip("/").endswith("import"):
        walk.problems.append(f"{who}: uploading {sample.name} did not lead to a preview")
        return
    walk.visit(who, "improvement:report-import-preview", preview)


def _sweep_admin(walk: Walk, who: str, user) -> None:
    """Every admin list, add form, change form and history page a user can open: no console
    error and no failed request (axe and reflow are not asked of Django's own admin)."""
    urls = [reverse("admin:index")]
    for model in admin.site._registry:
        opts = model._meta
        prefix = f"admin:{opts.app_label}_{opts.model_name}"
        urls += [reverse(f"{prefix}_changelist"), reverse(f"{prefix}_add")]
        # A record within the administrator's reach (another authority's answers 404 by design).
        rows = model._default_manager.order_by("pk")
        if model is Authority:
            rows = scope.authorities_for(user).order_by("pk")
        elif model in scope.AUTHORITY_PATHS:
            rows = scope.restrict(rows, user)
        obj = rows.first()
        if obj is not None:
            urls += [
                reverse(f"{prefix}_change", args=[obj.pk]),
                reverse(f"{prefix}_history", args=[obj.pk]),
            ]
    for url in urls:
        # A page this administrator may not use answers 403: not a layout failure.
        walk.visit(who, "admin", url, ours=False, expect=(200, 403))


# ---------------------------------------------------------------------------------------------


def test_signed_out_pages_and_error_pages(browser: Browser, live_server):
    """Sign-in, the accessibility statement, and the 404 and 500 pages, at both widths."""
    context = browser.new_context()
    walk = Walk(context.new_page(), live_server.url)
    walk.listen()
    for name in SIGNED_OUT:
        walk.visit("signed out", name, reverse(name))
    walk.visit("signed out", "404", "/no-such-page/", expect=(404,))
    # The 500 page is rendered with no request and no database: serve it as Django would.
    error_page = render_to_string("500.html")
    walk.page.route(
        f"{live_server.url}/__server-error__/",
        lambda route: route.fulfill(status=500, content_type="text/html", body=error_page),
    )
    walk.visit("signed out", "500", "/__server-error__/", expect=(500,))
    context.close()
    assert walk.problems == [], "\n".join(walk.problems)


def one_user_per_role():
    """The first demo user of each role (the demo has three action owners)."""
    return list({demo.role: demo for demo in reversed(DEMO_USERS)}.values())[::-1]


def test_every_page_in_every_role_at_320_and_1280(browser: Browser, live_server):
    """Each role opens every page it can, and the 403 page of one it cannot."""
    load_demo()
    # A frozen board pack, so that its page is walked too (the demo freezes none).
    leader = User.objects.get(username="leader")
    board_pack_freeze(
        authority=leader.authority,
        board_date=BoardMeeting.objects.get(authority=leader.authority).meets_on,
        by=leader,
        now=timezone.now(),
    )
    problems: list[str] = []
    reached: dict[str, set[str]] = {}
    for demo in one_user_per_role():
        user = User.objects.get(username=demo.username)
        context = browser.new_context()
        walk = Walk(context.new_page(), live_server.url)
        walk.listen()
        sign_in(walk.page, live_server.url, demo.username, demo.password)
        for name, urls in PAGES.items():
            for url in urls(user):
                # A page outside the user's role shows the 403 (or 404) page, checked too.
                walk.visit(demo.username, name, url, expect=(200, 403, 404))
        if user.has_perm("improvement.import_report"):
            _preview_an_import(walk, demo.username)
        if user.is_staff:
            _sweep_admin(walk, demo.username, user)
        context.close()
        # Figures for whoever runs this with -s: each page's width at 320 CSS pixels.
        print("\n".join(line for line in walk.figures if "@320:" in line))
        problems += walk.problems
        for name, users in walk.reached.items():
            reached.setdefault(name, set()).update(users)

    unreached = sorted(set(PAGES) - set(SIGNED_OUT) - set(reached))
    for name in unreached:
        problems.append(f"{name}: no demo user reached this page (add data or a way to it)")
    assert problems == [], f"{len(problems)} problem(s):\n" + "\n".join(problems)


def test_national_overview_layout(browser: Browser, live_server):
    """The national overview, for a national senior leader over the demo's authorities."""
    from tests.factories import LeaderFactory

    load_demo()
    LeaderFactory(username="national", authority=None)  # national reach, password "password"
    context = browser.new_context()
    walk = Walk(context.new_page(), live_server.url)
    walk.listen()
    sign_in(walk.page, live_server.url, "national", "password")
    walk.visit("national", "improvement:national", reverse("improvement:national"))
    context.close()
    assert walk.reached.get("improvement:national") == {"national"}
    assert walk.problems == [], "\n".join(walk.problems)
