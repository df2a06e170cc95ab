"""The parser reads each real Ofsted sample exactly as a person reading the report would.

Expected values live in ``expected/*.json``. They were written from reading the report text
(pypdf's raw extraction, headers and page numbers left in, checked against the PDF layout),
not from the parser's output.
"""

# Ofsted reports print typographic apostrophes and dashes, which must be matched literally.

from __future__ import annotations

import json
import re
from functools import cache
from pathlib import Path
from typing import Any

import pytest

from improvement.importer import ParsedReport, parse_file, parse_report
from improvement.importer.authorities import ons_authority_names

# The samples are kept in the repository so that a fresh clone tests the same reports.
SAMPLES = Path(__file__).resolve().parent / "samples"
SEED = SAMPLES / "003_5d010b12ace66d17.txt"
EXPECTED = Path(__file__).resolve().parent / "expected"

SAMPLE_FILES = [
    "knowsley-ilacs-2021.pdf",
    "devon-ilacs-2020.pdf",
    "havering-ilacs-2018.pdf",
    "dorset-ilacs-short-2025.pdf",
    "portsmouth-ilacs-short-2026.pdf",
    "wigan-sif-2017.pdf",
    "dorset-send-area-2024.pdf",
]

# Things that only exist on the printed page, never in a finding.
DEBRIS = [
    re.compile(r"Inspection of .{0,60}children['’]s services"),
    re.compile(r"Area SEND inspection report:"),
    re.compile(r"\(\d{1,2} to \d{1,2} \w+ \d{4}\)"),
    re.compile(r"\b\d{1,2} to \d{1,2} \w+ \d{4} \d{1,2}\b"),
    re.compile(r"\bPage \d+\b"),
    re.compile(r"Crown copyright|Open Government Licence|Piccadilly Gate|enquiries@ofsted"),
    re.compile(r"cross-referenced with the outcomes|Ofsted produces this report"),
    re.compile(r"\s{2,}|\n"),
]


@cache
def _parsed(source: str) -> ParsedReport:
    # PDF extraction dominates test time; each sample is read once per session.
    return parse_file(SAMPLES / source, in_process=True)


def _load_expected(source: str) -> dict[str, Any]:
    stem = source.rsplit(".", 1)[0]
    return json.loads((EXPECTED / f"{stem}.json").read_text(encoding="utf-8"))


def _summary(report: ParsedReport, expected: dict[str, Any]) -> dict[str, Any]:
    """The parsed values in the same shape as the expected file, for one readable diff."""
    data = report.to_dict()
    paragraphs = data["paragraphs"]
    by_number = {str(p["number"]): p for p in paragraphs}
    starts: dict[str, str] = {}
    previous = None
    for paragraph in paragraphs:
        if paragraph["section"] != previous:
            starts[str(paragraph["number"])] = paragraph["section"]
            previous = paragraph["section"]
    return {
        "source": expected["source"],
        "authority": data["authority"],
        "kind": data["kind"],
        "start_date": data["start_date"],
        "end_date": data["end_date"],
        "publication_date": data["publication_date"],
        "lead_inspectors": data["lead_inspectors"],
        "judgements": data["judgements"],
        "overall_effectiveness": data["overall_effectiveness"],
        "improvement_areas": data["improvement_areas"],
        "priority_actions": data["priority_actions"],
        "paragraph_count": len(paragraphs),
        "first_number": paragraphs[0]["number"] if paragraphs else None,
        "last_number": paragraphs[-1]["number"] if paragraphs else None,
        "first_section": paragraphs[0]["section"] if paragraphs else None,
        "last_section": paragraphs[-1]["section"] if paragraphs else None,
        "section_starts": starts,
        "paragraph_texts": {
            number: by_number[number]["text"] if number in by_number else None
            for number in expected["paragraph_texts"]
        },
    }


def _assert_matches(report: ParsedReport, source: str) -> None:
    expected = _load_expected(source)
    assert _summary(report, expected) == expected
    numbers = [p.number for p in report.paragraphs]
    assert numbers == list(range(1, len(numbers) + 1)), "numbering is continuous"
    for paragraph in report.paragraphs:
        for pattern in DEBRIS:
            assert not pattern.search(paragraph.text), (paragraph.number, pattern.pattern)
        assert re.search(r"[.)’'”]$", paragraph.text), (paragraph.number, paragraph.text[-60:])
    assert report.warnings == []
    assert set(report.to_dict()) >= {
        "authority",
        "kind",
        "start_date",
        "end_date",
        "publication_date",
        "lead_inspectors",
        "judgements",
        "overall_effectiveness",
        "improvement_areas",
        "priority_actions",
        "paragraphs",
        "warnings",
    }


@pytest.mark.parametrize("source", SAMPLE_FILES)
def test_sample_pdf_is_read_in_full(source: str) -> None:
    """Every field of each sample PDF matches what the report prints."""
    _assert_matches(_parsed(source), source)


def test_seed_text_of_knowsley_2021_is_read_in_full() -> None:
    """The plain-text Knowsley 2021 report parses like its PDF (straight apostrophes kept)."""
    report = parse_report(SEED.read_text(encoding="utf-8"))
    _assert_matches(report, SEED.name)


def test_seed_text_and_pdf_give_the_same_findings_modulo_apostrophes() -> None:
    """The same report read from PDF and from text yields the same paragraphs."""
    from_pdf = _parsed("knowsley-ilacs-2021.pdf")
    from_text = parse_report(SEED.read_text(encoding="utf-8"))

    def flat(report: ParsedReport) -> list[tuple[int, str, str]]:
        return [(p.number, p.section, p.text.replace("’", "'")) for p in report.paragraphs]

    assert flat(from_pdf) == flat(from_text)


def test_sample_authorities_are_ons_names() -> None:
    """The authority of each sample is a name from the ONS reference list."""
    names = set(ons_authority_names())
    assert names, "the app's local-authorities.csv should be readable"
    for source in SAMPLE_FILES:
        assert _parsed(source).authority in names


def test_themes_are_suggested_from_improvement_areas() -> None:
    """Knowsley's five improvement areas suggest the matching taxonomy themes."""
    report = _parsed("knowsley-ilacs-2021.pdf")
    for slug in (
        "care-leavers",
        "domestic-abuse",
        "homeless-16-17",
        "private-fostering",
        "transition-to-adult-services",
    ):
        assert slug in report.suggested_themes
    assert report.to_dict()["themes"] == report.suggested_themes
