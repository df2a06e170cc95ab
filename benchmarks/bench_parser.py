"""Time to read each Ofsted sample (PDF extraction + parse), and how many fields it reads right.

Extraction is timed in process (pypdfium2, as the worker process runs it), so the figures are
the reading itself; the worker's start-up is timed separately below, as is the refusal of the
crafted million-operator PDF. "fields" counts the hand-written expected fields the reading gets
right (tests/importer/test_parser_readings.py and tests/importer/expected/*.json).

Usage: .venv/bin/python benchmarks/bench_parser.py [repeats]
"""

from __future__ import annotations

import contextlib
import json
import os
import statistics
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
os.environ.setdefault("DEBUG", "1")

from improvement.importer.errors import ReportError  # noqa: E402
from improvement.importer.parser import parse_pdf, parse_report  # noqa: E402
from improvement.importer.pdf import extract  # noqa: E402
from tests.importer.crafted import million_operator_pdf  # noqa: E402
from tests.importer.test_parser_readings import EXPECTED, reading  # noqa: E402
from tests.importer.test_parser_samples import _summary  # noqa: E402

SAMPLES = REPO / "tests" / "importer" / "samples"
EXPECTED_JSON = REPO / "tests" / "importer" / "expected"


def fields_right(path: Path) -> tuple[int, int]:
    if path.name in EXPECTED:
        got, want = reading(path.name), EXPECTED[path.name]
        return sum(got[key] == value for key, value in want.items()), len(want)
    expected_file = EXPECTED_JSON / f"{path.stem}.json"
    if not expected_file.is_file():
        return 0, 0
    want = json.loads(expected_file.read_text(encoding="utf-8"))
    got = _summary(parse_pdf(path.read_bytes(), in_process=True), want)
    return sum(got[key] == value for key, value in want.items()), len(want)


def main(repeats: int) -> None:
    samples = sorted(SAMPLES.glob("*.pdf"))
    print(f"{repeats} runs per sample; times in milliseconds (median), in process\n")
    print(f"{'sample':42} {'pages':>5} {'extract':>8} {'parse':>7} {'total':>7} {'fields':>7}")
    totals: list[float] = []
    right_all = wanted_all = 0
    for path in samples:
        data = path.read_bytes()
        extract_times, parse_times, total_times = [], [], []
        pages = 0
        for _ in range(repeats):
            started = time.perf_counter()
            extracted = extract(data, in_process=True)
            middle = time.perf_counter()
            parse_report(extracted.text, table_rows=extracted.table_rows)
            finished = time.perf_counter()
            extract_times.append((middle - started) * 1000)
            parse_times.append((finished - middle) * 1000)
            total_times.append((finished - started) * 1000)
            pages = extracted.page_count
        totals.append(statistics.median(total_times))
        right, wanted = fields_right(path)
        right_all += right
        wanted_all += wanted
        print(
            f"{path.name:42} {pages:5d} {statistics.median(extract_times):8.1f} "
            f"{statistics.median(parse_times):7.1f} {statistics.median(total_times):7.1f} "
            f"{right:3d}/{wanted:<3d}"
        )
    print(
        f"\n{'median total per report':42} {'':5} {'':8} {'':7} {statistics.median(totals):7.1f} "
        f"{right_all:3d}/{wanted_all:<3d}"
    )

    # The path the app takes: a worker process per PDF (start-up + the same reading).
    worker_times = []
    for path in samples:
        started = time.perf_counter()
        extract(path.read_bytes())
        worker_times.append((time.perf_counter() - started) * 1000)
    print(f"{'median extract in the worker process':42} {statistics.median(worker_times):29.1f}")

    started = time.perf_counter()
    with contextlib.suppress(ReportError):
        extract(million_operator_pdf())
    print(f"{'crafted 10 KB PDF refused after':42} {(time.perf_counter() - started) * 1000:29.1f}")

    # A pathological text: 50,000 lines all numbered "1." (guards against quadratic parsing).
    huge = "Lead inspector: Jo Bloggs HMI\n" + ("1. Words words words.\n" * 50_000)
    started = time.perf_counter()
    with contextlib.suppress(ReportError):
        parse_report(huge)
    print(f"{'50,000 repeated lines of text':42} {(time.perf_counter() - started) * 1000:29.1f}")


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 5)
