"""Whatever is uploaded, the importer either parses it or raises a ``ReportError``.

Views and the management command catch ``ReportError`` only, so any other exception escaping
``parse_pdf``/``parse_report`` would surface as a server error.
"""

# Ofsted reports print typographic apostrophes and dashes, which must be matched literally.

from __future__ import annotations

import io
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pypdf import PdfWriter

from improvement.importer import (
    DamagedPdf,
    EncryptedPdf,
    FileTooLarge,
    NotAnOfstedReport,
    NotAPdf,
    NoTextInPdf,
    ParsedReport,
    ReportError,
    parse_pdf,
    parse_report,
)
from improvement.importer.pdf import DEFAULT_MAX_BYTES

SAMPLES = Path(__file__).resolve().parent / "samples"
SEED = SAMPLES / "003_5d010b12ace66d17.txt"

FUZZ = settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)


def _sample_bytes(name: str) -> bytes:
    return (SAMPLES / name).read_bytes()


def _parse_pdf_or_report_error(data: bytes) -> ParsedReport | None:
    try:
        return parse_pdf(data)
    except ReportError as exc:
        error = exc
    assert error.message, "every ReportError carries a message for the user"
    return None


def _parse_text_or_report_error(text: str) -> ParsedReport | None:
    try:
        report = parse_report(text)
    except ReportError as exc:
        error = exc
    else:
        # Whatever was parsed must serialise to the documented shape.
        data = report.to_dict()
        assert isinstance(data["paragraphs"], list)
        assert isinstance(data["warnings"], list)
        return report
    assert error.message, "every ReportError carries a message for the user"
    return None


def _pdf_with_blank_page() -> bytes:
    writer = PdfWriter()
    writer.add_blank_page(width=595, height=842)
    buffer = io.BytesIO()
    writer.write(buffer)
    return buffer.getvalue()


@FUZZ
@given(st.binary(max_size=4096))
def test_random_bytes_raise_only_report_errors(data: bytes) -> None:
    """Arbitrary bytes never crash the PDF reader."""
    _parse_pdf_or_report_error(data)


@FUZZ
@given(st.binary(max_size=2048))
def test_random_bytes_after_a_pdf_header_raise_only_report_errors(tail: bytes) -> None:
    """Garbage that claims to be a PDF is reported as damaged, not as a crash."""
    _parse_pdf_or_report_error(b"%PDF-1.7\n" + tail)


@FUZZ
@given(st.text(max_size=3000))
def test_random_text_raises_only_report_errors(text: str) -> None:
    """Arbitrary text is either parsed or rejected as not a report."""
    _parse_text_or_report_error(text)


@FUZZ
@given(st.data())
def test_truncated_sample_pdfs_raise_only_report_errors(data: st.DataObject) -> None:
    """A download cut off part way through is handled."""
    name = data.draw(st.sampled_from(["knowsley-ilacs-2021.pdf", "wigan-sif-2017.pdf"]))
    pdf = _sample_bytes(name)
    cut = data.draw(st.integers(min_value=0, max_value=len(pdf) - 1))
    _parse_pdf_or_report_error(pdf[:cut])


@FUZZ
@given(st.data())
def test_sample_pdfs_with_flipped_bytes_raise_only_report_errors(data: st.DataObject) -> None:
    """Corruption anywhere in the file (xref, streams, fonts) is handled."""
    name = data.draw(st.sampled_from(["devon-ilacs-2020.pdf", "dorset-send-area-2024.pdf"]))
    pdf = bytearray(_sample_bytes(name))
    flips = data.draw(
        st.lists(
            st.tuples(st.integers(0, len(pdf) - 1), st.integers(0, 255)),
            min_size=1,
            max_size=20,
        )
    )
    for position, value in flips:
        pdf[position] = value
    _parse_pdf_or_report_error(bytes(pdf))


@FUZZ
@given(st.data())
def test_damaged_report_text_raises_only_report_errors(data: st.DataObject) -> None:
    """Real report text with lines dropped, duplicated or reordered is handled."""
    lines = SEED.read_text(encoding="utf-8").splitlines()
    mutated = data.draw(
        st.lists(st.sampled_from(lines), min_size=0, max_size=len(lines))
        | st.permutations(lines)
        | st.just(lines[: data.draw(st.integers(0, len(lines)))])
    )
    _parse_text_or_report_error("\n".join(mutated))


@FUZZ
@given(
    st.lists(
        st.sampled_from(
            [
                "Judgement Grade",
                "Overall effectiveness Good",
                "Requires improvement",
                "to be good",
                "What needs to improve?",
                "◼ The quality of plans. (Outcome 4, national framework)",
                "− a sub item",
                "1. A paragraph.",
                "2. Another paragraph",
                "99. Out of sequence.",
                "Recommendations",
                "Areas for priority action",
                "Responsible body Areas for priority action",
                "Dorset Council and NHS Dorset ICB Leaders should act.",
                "Areas for improvement",
                "Inspection outcome",
                "Children's services in Wigan are good",
                "2.1 Adoption performance Outstanding",
                "The Local Safeguarding Children Board requires improvement",
                "The graded judgement for adoption performance is that it is outstanding",
                "The experiences and progress of children in care: good",
                "Lead inspector: Jo Bloggs, His Majesty's Inspector",
                "Inspection dates: 31 to 3 February 2025",
                "Inspection dates: 30 February 2025",
                "This letter summarises the findings of the focused visit to X",
                "Yours sincerely",
                "",
            ]
        ),
        max_size=60,
    )
)
def test_report_shaped_line_soup_raises_only_report_errors(lines: list[str]) -> None:
    """Report vocabulary in any order, including impossible dates, is handled."""
    _parse_text_or_report_error(
        "Inspection of Knowsley local authority children's services\n" + "\n".join(lines)
    )


def test_empty_bytes_are_not_a_pdf() -> None:
    """An empty upload is rejected as not a PDF."""
    with pytest.raises(NotAPdf):
        parse_pdf(b"")


def test_text_file_renamed_to_pdf_is_not_a_pdf() -> None:
    """A text or Word file with a .pdf name is rejected as not a PDF."""
    with pytest.raises(NotAPdf):
        parse_pdf(b"PK\x03\x04 this is a docx really")


def test_oversized_input_is_rejected_before_parsing() -> None:
    """Input over the limit is refused with the limit in the message."""
    with pytest.raises(FileTooLarge) as caught:
        parse_pdf(b"%PDF-1.7\n" + b"0" * (DEFAULT_MAX_BYTES + 1))
    assert "20 MB" in caught.value.message
    with pytest.raises(FileTooLarge):
        parse_pdf(b"%PDF-1.7\n" + b"0" * 2000, max_bytes=1000)


def test_encrypted_pdf_is_rejected() -> None:
    """A password-protected PDF is reported as encrypted."""
    writer = PdfWriter()
    writer.add_blank_page(width=595, height=842)
    writer.encrypt(user_password="secret", owner_password="owner", algorithm="RC4-128")
    buffer = io.BytesIO()
    writer.write(buffer)
    with pytest.raises(EncryptedPdf):
        parse_pdf(buffer.getvalue())


def test_image_only_pdf_is_rejected() -> None:
    """A PDF without a text layer (a scan, or blank pages) is reported as having no text."""
    with pytest.raises(NoTextInPdf):
        parse_pdf(_pdf_with_blank_page())


def test_truncated_pdf_is_damaged() -> None:
    """A PDF cut off after its header is reported as damaged."""
    pdf = _sample_bytes("knowsley-ilacs-2021.pdf")
    with pytest.raises(DamagedPdf):
        parse_pdf(pdf[:200])


def test_text_that_is_not_a_report_is_rejected() -> None:
    """Text without any report marker is rejected."""
    with pytest.raises(NotAnOfstedReport):
        parse_report("Minutes of the corporate parenting board, 3 March 2024.")
    with pytest.raises(NotAnOfstedReport):
        parse_report("")


def test_huge_text_with_a_repeated_number_is_one_paragraph() -> None:
    """A repeated number is not a new paragraph (benchmarks/bench_parser.py times this case)."""
    text = "Lead inspector: Jo Bloggs HMI\n" + ("1. Words words words.\n" * 50_000)
    report = _parse_text_or_report_error(text)
    assert report is not None
    assert len(report.paragraphs) == 1
