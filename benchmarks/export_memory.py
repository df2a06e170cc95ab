"""Peak memory of one action export, measured in a process of its own.

The largest authority's leader downloads the action list's export (CSV or XLSX, no filters: every
action of the authority; for XLSX the largest authority whose list fits an Excel download)
through Django's test client; the streamed body is read to the end and thrown away, as a browser
saving it would. The process first signs in and runs a small export, so
the baseline holds Django, the URL map, openpyxl and a database connection; then it resets the
kernel's peak-RSS mark (/proc/self/clear_refs) and exports. It prints one JSON line:

  rows, bytes, seconds, queries (all of them, the streamed chunks' too),
  rss_growth_mb  (VmHWM after the export minus VmRSS at the baseline: what the serving
                  process really grew by),
  tracemalloc_peak_mb (with --tracemalloc: the peak of Python allocations during the export,
                  in a separate run because tracing slows the export and adds its own memory).

Usage (bench_scale.py runs it; on its own):
  .venv/bin/python benchmarks/export_memory.py SIZE csv|xlsx [--tracemalloc]
Environment: BENCH_PG as for bench_scale.py.
"""

from __future__ import annotations

import json
import os
import resource
import subprocess
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
PG = os.environ.get("BENCH_PG", "postgres://postgres@127.0.0.1:5432")


def _status_kb(field: str) -> int:
    """A line of /proc/self/status, in kB (Linux); None elsewhere."""
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith(field + ":"):
                return int(line.split()[1])
    except OSError:
        pass
    return None


def _reset_peak() -> bool:
    """Let VmHWM start again from the current RSS (Linux 4.0+), so it measures the export only."""
    try:
        Path("/proc/self/clear_refs").write_text("5")
    except OSError:
        return False
    return True


def measure(size: int, fmt: str, *, trace: bool) -> dict:
    database = f"{PG}/tracker_bench_{size}"
    os.environ.update(
        {
            "DATABASE_URL": database,
            "DJANGO_SETTINGS_MODULE": "bench_settings",
            "SECRET_KEY": "bench-only-secret-key-0123456789-abcdefghijklmnopqrstuvwxyz",
            "ALLOWED_HOSTS": "testserver,127.0.0.1",
            "SECURE_HTTPS": "0",
            "DEBUG": "0",
            "LOG_LEVEL": "WARNING",
        }
    )
    sys.path[:0] = [str(REPO), str(REPO / "benchmarks")]
    import django

    django.setup()
    from django.db import connection
    from django.test import Client
    from django.urls import reverse

    from improvement import exports
    from improvement.models import Action, User

    sizes = (
        Action.objects.values("authority_id")
        .order_by()
        .annotate(n=django.db.models.Count("pk"))
        .order_by("-n")
        .values_list("authority_id", "n")
    )
    # An Excel download holds up to exports.XLSX_MAX_ROWS actions (past that the page offers
    # CSV): the XLSX is measured on the largest authority whose whole list fits.
    fits = exports.XLSX_MAX_ROWS if fmt == "xlsx" else None
    largest = next(pk for pk, n in sizes if fits is None or n <= fits)
    client = Client()
    client.force_login(User.objects.get(username=f"leader-{largest}"))
    url = reverse(f"improvement:action-export-{fmt}")

    def export(query: dict) -> int:
        response = client.get(url, query)
        if response.status_code != 200:
            raise RuntimeError(f"{url} answered {response.status_code}")
        total = sum(len(block) for block in response.streaming_content)
        response.close()
        return total

    # The baseline: everything a first request loads, and a few rows through each writer.
    export({"q": "benchmark warm-up matches nothing"})
    list(exports.xlsx_file([[None] * len(exports.HEADINGS)]))
    count = 0

    def counter(execute, sql, params, many, context):
        nonlocal count
        count += 1
        return execute(sql, params, many, context)

    if trace:
        import tracemalloc

        tracemalloc.start()
    baseline_kb = _status_kb("VmRSS")
    peak_reset = _reset_peak()
    started = time.perf_counter()
    with connection.execute_wrapper(counter):
        body_bytes = export({})
    seconds = time.perf_counter() - started
    result = {
        "size": size,
        "format": fmt,
        "authority": largest,
        "rows": Action.objects.filter(authority_id=largest).count(),
        "bytes": body_bytes,
        "seconds": round(seconds, 2),
        "queries": count,
    }
    if trace:
        _, peak = tracemalloc.get_traced_memory()
        tracemalloc.stop()
        result["tracemalloc_peak_mb"] = round(peak / 2**20, 1)
    peak_kb = _status_kb("VmHWM") if peak_reset else None
    if peak_kb is None:  # no /proc: ru_maxrss is the process's lifetime peak, in kB on Linux
        peak_kb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    if baseline_kb is not None:
        result["rss_growth_mb"] = round((peak_kb - baseline_kb) / 1024, 1)
        result["baseline_rss_mb"] = round(baseline_kb / 1024, 1)
    return result


def run(size: int, fmt: str, *, trace: bool) -> dict:
    """The measurement in a fresh process (what bench_scale.py calls)."""
    command = [sys.executable, __file__, str(size), fmt] + (["--tracemalloc"] if trace else [])
    output = subprocess.run(command, check=True, capture_output=True, text=True).stdout
    return json.loads(output.strip().splitlines()[-1])


if __name__ == "__main__":
    args = sys.argv[1:]
    print(json.dumps(measure(int(args[0]), args[1], trace="--tracemalloc" in args)))
