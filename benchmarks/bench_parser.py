"""Median parse time per Ofsted sample (PDF extraction + parse) and overall.

Usage: .venv/bin/python benchmarks/bench_parser.py [repeats]
"""

from __future__ import annotations

import contextlib
import statistics
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from improvement.importer import parse_file  # noqa: E402
from improvement.importer.errors import ReportError  # noqa: E402
from improvement.importer.parser import parse_report  # noqa: E402
from improvement.importer.pdf import extract_text  # noqa: E402

SHARED = (REPO / ".." / "shared").resolve()


def _samples() -> list[Path]:
    pdfs = sorted((SHARED / "ofsted-samples").glob("*.pdf"))
    seed = SHARED / "seeds" / "003_5d010b12ace66d17.txt"
    return [*pdfs, seed] if seed.is_file() else pdfs


def main(repeats: int) -> None:
    samples = _samples()
    if not samples:
        print(f"No samples found under {SHARED}")
        return
    print(f"{repeats} runs per sample; times in milliseconds (median)\n")
    print(f"{'sample':38} {'extract':>9} {'parse':>9} {'total':>9} {'paras':>6}")
    totals: list[float] = []
    for path in samples:
        extract_times, parse_times, total_times = [], [], []
        paragraphs = 0
        for _ in range(repeats):
            started = time.perf_counter()
            if path.suffix == ".pdf":
                text = extract_text(path.read_bytes())
            else:
                text = path.read_text(encoding="utf-8")
            extracted = time.perf_counter()
            report = parse_report(text)
            finished = time.perf_counter()
            extract_times.append((extracted - started) * 1000)
            parse_times.append((finished - extracted) * 1000)
            total_times.append((finished - started) * 1000)
            paragraphs = len(report.paragraphs)
        totals.extend(total_times)
        print(
            f"{path.name:38} {statistics.median(extract_times):9.1f} "
            f"{statistics.median(parse_times):9.1f} {statistics.median(total_times):9.1f} "
            f"{paragraphs:6d}"
        )
    print(f"\n{'overall median per report':38} {'':9} {'':9} {statistics.median(totals):9.1f}")
    # parse_file is the entry point the app uses; time it once per sample as a cross-check.
    started = time.perf_counter()
    for path in samples:
        parse_file(path)
    print(
        f"{'parse_file, all samples once':38} {'':9} {'':9} "
        f"{(time.perf_counter() - started) * 1000:9.1f}"
    )

    # A pathological text: 50,000 lines all numbered "1." (guards against quadratic parsing).
    huge = "Lead inspector: Jo Bloggs HMI\n" + ("1. Words words words.\n" * 50_000)
    started = time.perf_counter()
    with contextlib.suppress(ReportError):
        parse_report(huge)
    print(
        f"{'50,000 repeated lines of text':38} {'':9} {'':9} "
        f"{(time.perf_counter() - started) * 1000:9.1f}"
    )


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 5)
