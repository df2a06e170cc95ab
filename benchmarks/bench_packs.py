"""Export and board pack figures: time and peak memory of the export, time of the pack.

Loads the Knowsley demo into the database DATABASE_URL names (it must be safe to fill; default a
throwaway SQLite file; the brief's figures are for PostgreSQL), then prints:
- the board pack's HTML and PDF time (median of REPEATS) for the Knowsley demo and for an
  authority with PACK_ACTIONS actions (default 2,000), with the PDF's pages and size;
- the export of EXPORT_ACTIONS actions (default 100,000) as CSV and XLSX: wall time, and peak
  Python memory (tracemalloc, in a second run, as tracing slows the code) and the process's
  peak RSS.
Asserts nothing.

Usage: DATABASE_URL=postgres://postgres@127.0.0.1:5432/tracker_bench \\
       .venv/bin/python benchmarks/bench_packs.py [EXPORT_ACTIONS] [PACK_ACTIONS]
"""

from __future__ import annotations

import datetime as dt
import io
import os
import resource
import statistics
import sys
import tempfile
import time
import tracemalloc
from decimal import Decimal
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "tracker.test_settings")
os.environ.setdefault("DATABASE_URL", f"sqlite:///{Path(tempfile.mkdtemp()) / 'bench.sqlite3'}")

import django  # noqa: E402

django.setup()

from django.core.management import call_command  # noqa: E402
from django.db import connection  # noqa: E402
from django.test.utils import CaptureQueriesContext  # noqa: E402
from django.utils import timezone  # noqa: E402
from pypdf import PdfReader  # noqa: E402

from improvement import exports, scope  # noqa: E402
from improvement.demo import load_demo  # noqa: E402
from improvement.models import (  # noqa: E402
    Action,
    Authority,
    ImprovementArea,
    Inspection,
    Measure,
    MeasureValue,
    ProgressNote,
    User,
)
from improvement.selectors import packs as pack_reads  # noqa: E402
from improvement.services import packs as pack_services  # noqa: E402

REPEATS = 3
BATCH = 5000


def bench_authority(name: str, ons_code: str, count: int, owner: User) -> Authority:
    """An authority with one inspection of 10 areas, `count` actions, notes and 8 measures."""
    authority = Authority.objects.create(name=name, ons_code=ons_code, region="North West")
    inspection = Inspection.objects.create(
        authority=authority,
        kind=Inspection.Kind.ILACS_STANDARD,
        title=f"{name} ILACS",
        start_date=dt.date(2026, 6, 1),
        end_date=dt.date(2026, 6, 12),
        publication_date=dt.date(2026, 7, 24),
    )
    areas = ImprovementArea.objects.bulk_create(
        ImprovementArea(inspection=inspection, position=n + 1, text=f"Improvement area {n + 1}.")
        for n in range(10)
    )
    today = timezone.localdate()
    now = timezone.now()
    through = Action.improvement_areas.through
    for start in range(0, count, BATCH):
        actions = Action.objects.bulk_create(
            Action(
                authority=authority,
                reference=f"{n // 100 + 1}.{n % 100 + 1}",
                title=f"Benchmark action {n} to improve practice for children",
                owner=owner,
                start_date=today - dt.timedelta(days=120),
                original_due_date=today + dt.timedelta(days=(n % 180) - 60),
                due_date=today + dt.timedelta(days=(n % 180) - 60),
                rag=("red", "amber", "green")[n % 3],
                delivery_status=("not_started", "in_progress", "in_progress")[n % 3],
                success_measure="Children say things are better; audits show it.",
                last_note_at=now - dt.timedelta(days=n % 60),
                is_sample=True,
            )
            for n in range(start, min(count, start + BATCH))
        )
        through.objects.bulk_create(
            through(action=a, improvementarea=areas[i % 10]) for i, a in enumerate(actions)
        )
        ProgressNote.objects.bulk_create(
            ProgressNote(
                action=a,
                author=owner,
                created_at=now - dt.timedelta(days=i % 60),
                text=f"Update {i}: work under way, audit booked.",
                is_sample=True,
            )
            for i, a in enumerate(actions)
            if i % 2 == 0
        )
    for m in range(8):
        measure = Measure.objects.create(
            authority=authority,
            name=f"Benchmark measure {m}",
            direction=Measure.Direction.HIGHER_IS_BETTER,
            baseline_value=Decimal("50"),
            baseline_date=today - dt.timedelta(days=365),
            target_value=Decimal("80"),
            target_date=today + dt.timedelta(days=365),
        )
        MeasureValue.objects.bulk_create(
            MeasureValue(
                measure=measure,
                recorded_on=today - dt.timedelta(days=30 * k),
                value=Decimal(60 + k),
                recorded_by=owner,
            )
            for k in range(6)
        )
        measure.actions.add(*Action.objects.filter(authority=authority)[:5])
    return authority


def bench_pack(label: str, authority: Authority, repeats: int = REPEATS) -> None:
    """Wall time (median) and the process's CPU time: on a shared machine the CPU time says
    what the render costs, the wall time what a user waited under that load."""
    today, now = timezone.localdate(), timezone.now()
    board = today + dt.timedelta(days=14)
    html_times, pdf_times, pdf_cpu = [], [], []
    for _ in range(repeats):
        began = time.perf_counter()
        with CaptureQueriesContext(connection) as queries:
            content = pack_reads.pack_content(
                authority=authority, board_date=board, today=today, now=now
            )
        html = pack_services.pack_html(content)
        html_times.append(time.perf_counter() - began)
        began, cpu = time.perf_counter(), time.process_time()
        pdf = pack_services.pack_pdf(html)
        pdf_times.append(time.perf_counter() - began)
        pdf_cpu.append(time.process_time() - cpu)
    pages = len(PdfReader(io.BytesIO(pdf)).pages)
    print(
        f"board pack {label}: {len(content['actions']):,} actions, {len(queries)} queries; "
        f"HTML {statistics.median(html_times):.2f} s ({len(html) / 1024:.0f} KiB); "
        f"PDF {statistics.median(pdf_times):.2f} s wall, {statistics.median(pdf_cpu):.2f} s CPU "
        f"({pages} pages, {len(pdf) / 1024:.0f} KiB); load average {os.getloadavg()[0]:.1f}"
    )


def _drain(chunks) -> int:
    size = 0
    for chunk in chunks:
        size += len(chunk)
    return size


def bench_export(queryset, count: int) -> None:
    for kind in ("csv", "xlsx"):

        def run(kind=kind):
            rows = exports.export_rows(queryset)
            if kind == "csv":
                return _drain(exports.csv_stream(rows))
            return _drain(exports.xlsx_file(rows))

        with CaptureQueriesContext(connection) as queries:
            began = time.perf_counter()
            size = run()
            elapsed = time.perf_counter() - began
        tracemalloc.start()
        run()
        _, peak = tracemalloc.get_traced_memory()
        tracemalloc.stop()
        rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        print(
            f"export {kind.upper()} of {count:,} actions: {elapsed:.1f} s, "
            f"{size / 1024 / 1024:.1f} MiB, {len(queries)} queries "
            f"(chunks of {exports.CHUNK_SIZE:,}); peak traced Python memory "
            f"{peak / 1024 / 1024:.1f} MiB; process peak RSS so far {rss:.0f} MiB"
        )


def main(export_actions: int, pack_actions: int) -> None:
    call_command("migrate", verbosity=0)
    if not Authority.objects.filter(ons_code="E08000011", actions__isnull=False).exists():
        load_demo()
    owner = User.objects.get(username="owner")
    print(f"{connection.vendor}")
    knowsley = Authority.objects.get(ons_code="E08000011")
    bench_pack("Knowsley demo", knowsley)
    Authority.objects.filter(ons_code__in=["E99000001", "E99000002"]).exists() and sys.exit(
        "The benchmark authorities exist already: use a fresh database."
    )
    began = time.perf_counter()
    medium = bench_authority("Benchmark Borough", "E99000001", pack_actions, owner)
    print(f"(made {pack_actions:,} actions in {time.perf_counter() - began:.0f} s)")
    bench_pack(f"{pack_actions:,}-action authority", medium, repeats=1)
    if not export_actions:
        return
    began = time.perf_counter()
    large = bench_authority("Export County", "E99000002", export_actions, owner)
    print(f"(made {export_actions:,} actions in {time.perf_counter() - began:.0f} s)")
    admin = User.objects.get(username="admin")
    # The action list's default order (due date), as the export view asks it.
    queryset = scope.restrict(Action.objects.filter(authority=large), admin).order_by(
        "due_date", "pk"
    )
    bench_export(queryset, export_actions)


if __name__ == "__main__":
    args = [int(a) for a in sys.argv[1:]]
    main(*(args + [100_000, 2_000][len(args) :]))
