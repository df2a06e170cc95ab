"""Query count and median response time of every page, on the Knowsley demo plus N extra actions.

Loads the demo into a throwaway SQLite database (or the database DATABASE_URL names, which it
must be safe to fill), then, for each size, adds actions in bulk and requests every page as the
role that uses it. Prints figures; asserts nothing.

Usage: .venv/bin/python benchmarks/bench_pages.py [sizes...]   (default: 10 1000 10000)
"""

from __future__ import annotations

import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "tracker.test_settings")
os.environ.setdefault("DATABASE_URL", f"sqlite:///{Path(tempfile.mkdtemp()) / 'bench.sqlite3'}")

import django  # noqa: E402

django.setup()

from django.core.management import call_command  # noqa: E402
from django.db import connection  # noqa: E402
from django.test import Client  # noqa: E402
from django.test.utils import CaptureQueriesContext  # noqa: E402
from django.urls import reverse  # noqa: E402
from django.utils import timezone  # noqa: E402

from improvement.demo import load_demo  # noqa: E402
from improvement.models import Action, Authority, ImprovementArea, Inspection, User  # noqa: E402

REPEATS = 5


def add_actions(count: int) -> None:
    authority = Authority.objects.get(ons_code="E08000011")
    area = ImprovementArea.objects.filter(inspection__authority=authority).first()
    owner = User.objects.get(username="owner")
    today = timezone.localdate()
    start = Action.objects.count()
    actions = Action.objects.bulk_create(
        Action(
            authority=authority,
            reference=f"B{start + n}",
            title=f"Benchmark action {start + n}",
            owner=owner,
            start_date=today,
            original_due_date=today,
            due_date=today + timezone.timedelta(days=n % 90),
            rag=("red", "amber", "green")[n % 3],
            success_measure="Sample benchmark action.",
            is_sample=True,
        )
        for n in range(count)
    )
    Action.improvement_areas.through.objects.bulk_create(
        Action.improvement_areas.through(action=action, improvementarea=area) for action in actions
    )


def pages() -> list[tuple[str, str]]:
    authority = Authority.objects.get(ons_code="E08000011")
    action = Action.objects.filter(reference="1.1").get()
    owners_action = Action.objects.filter(reference="2.3").get()
    inspection = Inspection.objects.get(authority=authority, start_date="2021-10-11")
    measure_pk = action.measures.values_list("pk", flat=True).first() or (
        authority.measures.values_list("pk", flat=True).first()
    )
    return [
        ("owner", reverse("improvement:my-actions")),
        ("owner", reverse("improvement:action-update", args=[owners_action.pk])),
        ("leader", reverse("improvement:dashboard-authority", args=[authority.pk])),
        ("leader", reverse("improvement:action-list")),
        ("leader", reverse("improvement:action-list") + "?rag=red&overdue=1&q=plan&sort=-due_date"),
        ("leader", reverse("improvement:action-detail", args=[action.pk])),
        ("leader", reverse("improvement:deadline-list")),
        ("leader", reverse("improvement:sign-off-list")),
        ("leader", reverse("improvement:inspection-list")),
        ("leader", reverse("improvement:inspection-detail", args=[inspection.pk])),
        ("admin", reverse("improvement:report-import")),
        ("admin", reverse("admin:improvement_action_changelist")),
        ("owner", reverse("improvement:measure-detail", args=[measure_pk])),
        ("leader", reverse("improvement:plan-submission", args=[inspection.pk])),
    ]


def measure(client: Client, url: str) -> tuple[int, float]:
    client.get(url)  # warm caches and the template loader
    timings = []
    for _ in range(REPEATS):
        with CaptureQueriesContext(connection) as queries:
            began = time.perf_counter()
            response = client.get(url)
            timings.append(time.perf_counter() - began)
        assert response.status_code == 200, (url, response.status_code)
    return len(queries), statistics.median(timings) * 1000


def main(sizes: list[int]) -> None:
    call_command("migrate", verbosity=0)
    load_demo()
    clients = {}
    for username in ("owner", "leader", "admin"):
        clients[username] = Client()
        clients[username].force_login(User.objects.get(username=username))
    added = 0
    results: dict[tuple[str, str], list[str]] = {}
    for size in sizes:
        add_actions(size - added)
        added = size
        for role, url in pages():
            queries, ms = measure(clients[role], url)
            results.setdefault((role, url), []).append(f"{queries:>3} q {ms:>7.1f} ms")
    print(f"{connection.vendor}; extra actions: {', '.join(map(str, sizes))}")
    print(f"{'role':<7} {'page':<55} " + " | ".join(f"{s:>16}" for s in sizes))
    for (role, url), cells in results.items():
        print(f"{role:<7} {url:<55} " + " | ".join(f"{c:>16}" for c in cells))


if __name__ == "__main__":
    main([int(s) for s in sys.argv[1:]] or [10, 1000, 10000])
