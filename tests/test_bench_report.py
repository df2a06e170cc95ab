"""The scale benchmark's Markdown report: each of issue 15's targets judged, pages chosen."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import pytest

# benchmarks/ is scripts, not a package: load the one module without putting the folder on the
# path for the whole test session.
_SPEC = importlib.util.spec_from_file_location(
    "bench_report", Path(__file__).resolve().parents[1] / "benchmarks" / "bench_report.py"
)
bench_report = importlib.util.module_from_spec(_SPEC)
_SPEC.loader.exec_module(bench_report)


def _page(p50, *, p95=None, c_p95=100.0, queries="7"):
    return {
        "p50": p50,
        "p95": p95 or p50 * 1.2,
        "n": 15,
        "c_p50": c_p95 / 2,
        "c_p95": c_p95,
        "c_n": 40,
        "queries": queries,
    }


@pytest.fixture
def results():
    small = {
        bench_report.FLOOR: _page(5.0, queries="2"),
        "national overview": _page(20.0),
        "action detail": _page(10.0),
        "admin changelist": _page(60.0),
        bench_report.ANCHOR: _page(50.0, queries="6"),
        bench_report.EXPORT: _page(40.0, queries="8"),
    }
    large = {
        bench_report.FLOOR: _page(5.0, queries="2"),
        "national overview": _page(45.0),  # under 50 ms, but 2.25x its time at 1,000
        "action detail": _page(12.0, c_p95=300.0),  # 8 clients over 250 ms
        "admin changelist": _page(140.0, queries="8"),  # under the anchor, one more query
        bench_report.ANCHOR: _page(150.0, queries="6"),
        bench_report.EXPORT: _page(9000.0, queries="204", c_p95=18000.0),
    }
    return {1_000: small, 1_000_000: large}


def _row(table: str, label: str) -> list[str]:
    line = next(line for line in table.splitlines() if line.startswith(f"| {label} |"))
    return [cell.strip() for cell in line.strip("|").split("|")]


def test_single_table_judges_each_target_at_the_largest_size(results):
    table = bench_report.single_table(results)
    overview = _row(table, "national overview")
    assert overview[-2] == "2.25"
    assert overview[-1] == "p50 < 50 ms: met; ≤ 1.5x: **not met**; queries equal: met"
    detail = _row(table, "action detail")
    assert detail[-1] == "p50 < 30 ms: met; ≤ 1.5x: met; queries equal: met"
    admin = _row(table, "admin changelist")
    assert (
        admin[-1] == "under anchor (150 ms): met; ≤ 1.5x: **not met**; queries equal: **not met**"
    )
    assert _row(table, bench_report.FLOOR)[-1] == "yardstick"
    # The export is judged on memory, not on 100,000 rows against 100.
    assert _row(table, bench_report.EXPORT)[-1] == "memory: see below"
    # Ratio to the floor at each size.
    assert overview[4] == "4.0" and overview[8] == "9.0"
    assert "issue 15 sets them" not in table.splitlines()[0]


def test_concurrent_table_judges_p95(results):
    table = bench_report.concurrent_table(results)
    assert _row(table, "action detail")[-1] == "**not met**"
    assert _row(table, "national overview")[-1] == "met"
    assert _row(table, bench_report.ANCHOR)[-1] == "yardstick"
    # Eight whole downloads at once are timed and shown, but judged on memory.
    export = _row(table, bench_report.EXPORT)
    assert export[-4:-1] == ["9,000", "18,000", "40"]
    assert export[-1] == "not a page (memory: see below)"


def test_a_run_below_a_million_says_where_its_targets_were_judged(results):
    table = bench_report.single_table({1_000: results[1_000]})
    assert "issue 15 sets them at 1,000,000; this run's largest is 1,000" in table
    # One size: no growth ratio and no query comparison to judge.
    assert _row(table, "national overview")[-1] == "p50 < 50 ms: met"


def test_memory_table_takes_time_from_the_untraced_run_and_the_worst_growth():
    runs = [
        {"format": "csv", "rows": 100_000, "bytes": 2**20 * 36, "seconds": 12.0, "queries": 204,
         "rss_growth_mb": 9.5},
        {"format": "csv", "rows": 100_000, "bytes": 2**20 * 36, "seconds": 40.0, "queries": 204,
         "rss_growth_mb": 11.0, "tracemalloc_peak_mb": 6.0},
        {"format": "xlsx", "rows": 100_000, "bytes": 2**20 * 10, "seconds": 80.0, "queries": 204,
         "rss_growth_mb": 120.0},
    ]  # fmt: skip
    table = bench_report.memory_table({1_000_000: runs})
    assert _row(table, "CSV") == [
        "CSV", "1,000,000", "100,000", "36.0", "12.0", "204", "9.5", "6.0", "met",
    ]  # fmt: skip
    assert _row(table, "XLSX")[-1] == "**not met**"
    small = bench_report.memory_table({1_000: [{**runs[0], "rows": 100}]})
    assert _row(small, "CSV")[-1] == "met (100 rows, not 100,000)"


def test_pages_are_chosen_by_words_with_the_yardsticks_kept():
    pages = [
        (bench_report.FLOOR, "national", "GET", "/bench/floor/"),
        ("largest authority dashboard", "leader", "GET", "/dashboard/1/"),
        ("my actions", "owner", "GET", "/my-actions/"),
        ("actions list", "leader", "GET", "/actions/"),
        (bench_report.ANCHOR, "admin", "GET", "/bench-admin/"),
    ]
    chosen = bench_report.select_pages(pages, "Dashboard, my actions")
    assert [p[0] for p in chosen] == [
        bench_report.FLOOR,
        "largest authority dashboard",
        "my actions",
        bench_report.ANCHOR,
    ]
    assert bench_report.select_pages(pages, None) == pages
    assert len(bench_report.select_pages(pages, "memory")) == 2
    with pytest.raises(SystemExit, match="no page matches dashbord"):
        bench_report.select_pages(pages, "dashbord")
