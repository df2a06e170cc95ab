"""Reflow, axe-core and console audit of a running demo: figures per page and role, asserts nothing.

Signs in as each demo user, crawls every same-origin link it finds (one example of each route,
ids folded), and for each page prints the page's scrollWidth at 320 and 1280 CSS pixels, the
number of axe-core violations (every rule but the AAA-only and experimental ones) and console
errors. The admin's pages are crawled too, for console errors only.

Usage: start the demo (`make run`, or runserver on another HOST), then
    .venv/bin/python benchmarks/layout_audit.py [base_url] [role ...]
"""

from __future__ import annotations

import re
import sys
from collections import Counter
from urllib.parse import urljoin, urlsplit

from axe_playwright_python.sync_playwright import Axe
from playwright.sync_api import sync_playwright

DEMO_LOGINS = {
    "admin": "demo-admin-2021",
    "owner": "demo-owner-2021",
    "owner2": "demo-owner2-2021",
    "partner": "demo-partner-2021",
    "leader": "demo-leader-2021",
    "board": "demo-board-2021",
}
SKIP = re.compile(r"^/(logout|static|media)/|/download/|/admin/(logout|password_change)|/delete/")
AXE = Axe()


def route_of(path: str) -> str:
    """Fold ids and hashes so one example of each route is visited."""
    path = re.sub(r"/[0-9a-f]{64}/", "/<sha>/", path)
    return re.sub(r"/\d+/", "/<id>/", path)


def axe_all_rules(page) -> list[dict]:
    """Every axe-core rule, experimental and deprecated ones included, but the AAA-only ones."""
    page.evaluate(AXE.axe_script)
    return page.evaluate(
        """() => {
          const aaaOnly = (r) => r.tags.includes('wcag2aaa')
            && !r.tags.some((t) => /^wcag2\\d?a{1,2}$/.test(t));
          const ids = axe.getRules().filter((r) => !aaaOnly(r)).map((r) => r.ruleId);
          return axe.run(document, {runOnly: {type: 'rule', values: ids},
                                    resultTypes: ['violations']})
            .then(r => r.violations.map(v => ({id: v.id, nodes: v.nodes.length,
              targets: v.nodes.slice(0, 3).map(n => n.target.join(' '))})));
        }"""
    )


def audit(base: str, roles: list[str]) -> None:
    with sync_playwright() as p:
        browser = p.chromium.launch(
            executable_path="/usr/bin/chromium", args=["--no-sandbox", "--headless"]
        )
        for role in roles:
            context = browser.new_context(viewport={"width": 1280, "height": 900})
            page = context.new_page()
            errors: list[str] = []

            def on_console(message, errors=errors) -> None:
                if message.type == "error":
                    errors.append(message.text)

            page.on("console", on_console)
            page.on("pageerror", lambda error, errors=errors: errors.append(str(error)))
            page.goto(f"{base}/login/")
            page.fill("#id_username", role)
            page.fill("#id_password", DEMO_LOGINS[role])
            with page.expect_navigation():
                page.click("button:has-text('Sign in')")
            queue = [page.url, f"{base}/accessibility/", f"{base}/no-such-page/"]
            seen: set[str] = set()
            print(f"\n== {role}")
            print(f"{'route':48} {'w320':>5} {'w1280':>5} {'axe320':>6} {'axe1280':>7} console")
            while queue:
                url = queue.pop(0)
                path = urlsplit(url).path
                key = route_of(path)
                if key in seen or SKIP.search(path):
                    continue
                seen.add(key)
                errors.clear()
                page.set_viewport_size({"width": 1280, "height": 900})
                response = page.goto(url)
                status = response.status if response else 0
                path = urlsplit(page.url).path
                is_admin = path.startswith("/admin/")
                widths, counts, ids = [], [], Counter()
                for width in (320, 1280):
                    page.set_viewport_size({"width": width, "height": 900})
                    widths.append(page.evaluate("document.documentElement.scrollWidth"))
                    if is_admin:
                        counts.append("-")
                        continue
                    violations = axe_all_rules(page)
                    counts.append(sum(v["nodes"] for v in violations))
                    ids.update({f"{v['id']}@{width}": v["nodes"] for v in violations})
                print(
                    f"{key[:48]:48} {widths[0]:>5} {widths[1]:>5} {counts[0]!s:>6} "
                    f"{counts[1]!s:>7} {len(errors)} [{status}] {dict(ids) or ''} "
                    f"{'; '.join(errors)[:200]}"
                )
                for href in page.eval_on_selector_all("a[href]", "els => els.map(e => e.href)"):
                    if href.startswith(base) and "#" not in href.split("/")[-1]:
                        queue.append(urljoin(base, urlsplit(href).path))
            context.close()
        browser.close()


if __name__ == "__main__":
    base_url = sys.argv[1] if len(sys.argv) > 1 else "http://127.0.0.1:8000"
    audit(base_url.rstrip("/"), sys.argv[2:] or list(DEMO_LOGINS))
