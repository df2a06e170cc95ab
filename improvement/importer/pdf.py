"""Text extraction from Ofsted report PDFs.

Ofsted PDFs repeat a running header on every page ("Inspection of X local authority children's
services" plus the dates and page number), print bare page numbers, put footnotes at the foot of
a page, and end with a page of publisher boilerplate. None of that belongs to the report's
paragraphs, and because paragraphs run across page breaks it would otherwise end up in the
middle of a finding. This module removes it and returns plain text, one printed line per line.
"""

# Ofsted reports print typographic apostrophes and dashes, which must be matched literally.

from __future__ import annotations

import json
import logging
import re
import subprocess
import sys
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

from .errors import (
    DamagedPdf,
    EncryptedPdf,
    FileTooLarge,
    NotAPdf,
    NoTextInPdf,
    PdfTooComplex,
    TooManyPages,
)
from .pdf_worker import PdfWorkerError, read_pdf

logger = logging.getLogger(__name__)

DEFAULT_MAX_BYTES = 20 * 1024 * 1024
# The longest Ofsted reports (SIF, 2014-18) run to about 50 pages.
MAX_PAGES = 150
# A 45-page report takes well under a second of CPU to read; a crafted file is stopped here.
MAX_CPU_SECONDS = 3
MAX_WALL_SECONDS = 4.0
MAX_MEMORY_BYTES = 1024 * 1024 * 1024
_WORKER = Path(__file__).resolve().with_name("pdf_worker.py")

# The PDF header may legally be preceded by a little junk, so look a short way in.
_PDF_MAGIC_WINDOW = 1024

# A page with fewer readable characters than this carries no real text (a scan or a blank page).
_MIN_TEXT_CHARS = 40

# Running headers sit in the first few lines of a page and footers in the last few.
_HEADER_LINES = 4
_FOOTER_LINES = 3
_FOOTNOTE_SCAN_LINES = 10

# pdfium marks a hyphen printed at a line break as U+FFFE and a soft hyphen as U+0002.
_LIGATURES = str.maketrans(
    {"ﬁ": "fi", "ﬂ": "fl", "ﬀ": "ff", "ﬃ": "ffi", "ﬄ": "ffl", "\ufffe": "-", "\x02": "-"}
)
_SPACES = re.compile(r"[ \t\u00a0\u2000-\u200a\u202f\u3000]+")
_LONE_PAGE_NUMBER = re.compile(r"^(?:Page\s+)?\d{1,3}(?:\s+of\s+\d{1,3})?$", re.IGNORECASE)
_DIGITS = re.compile(r"\d+")
_FOOTNOTE_START = re.compile(r"^(\d{1,2})\s+[A-Z‘'\"“]")

# The closing publisher blocks, in the order they can first appear on the last pages.
BOILERPLATE_STARTS = (
    re.compile(r"^If you are not happy with the inspection or the report", re.IGNORECASE),
    re.compile(r"^Any complaints about the inspection or the report should be made", re.I),
    re.compile(
        r"^The Office for Standards in Education, Children['’]s Services and Skills", re.IGNORECASE
    ),
    re.compile(r"^If you would like a copy of this document in a different format", re.I),
    re.compile(r"^You may reuse this information \(not including logos\)", re.IGNORECASE),
    re.compile(r"^©\s*Crown copyright", re.IGNORECASE),
)


@dataclass
class PdfText:
    """Clean text of a PDF plus anything worth telling the user about the extraction."""

    text: str
    page_count: int
    warnings: list[str] = field(default_factory=list)
    # Per page, positioned lines of pages holding a table (None for other pages).
    table_rows: list | None = None


def extract_text(data: bytes, *, max_bytes: int = DEFAULT_MAX_BYTES) -> str:
    """Return the clean text of a report PDF; raise a ``ReportError`` subclass if unreadable."""
    return extract(data, max_bytes=max_bytes).text


def extract(
    data: bytes, *, max_bytes: int = DEFAULT_MAX_BYTES, in_process: bool = False
) -> PdfText:
    """Extract and clean the text of a report PDF, keeping extraction warnings.

    The PDF is read in a separate process with CPU, memory and wall-clock limits; a crafted
    file that would spin or allocate without end is refused with ``PdfTooComplex``.
    ``in_process`` skips the process (for trusted files: the benchmark and sample tests).
    """
    pages, warnings = _read_pages(data, max_bytes=max_bytes, in_process=in_process)
    readable = sum(len(p["text"].strip()) for p in pages)
    if readable < _MIN_TEXT_CHARS:
        raise NoTextInPdf()
    table_rows = [p["rows"] for p in pages]
    return PdfText(
        text=clean_pages([p["text"] for p in pages]),
        page_count=len(pages),
        warnings=warnings,
        table_rows=table_rows if any(table_rows) else None,
    )


def _check_input(data: bytes, max_bytes: int) -> bytes:
    if not isinstance(data, bytes | bytearray | memoryview):
        raise NotAPdf()
    size = len(data)
    if size > max_bytes:
        raise FileTooLarge(size=size, max_bytes=max_bytes)
    if size == 0 or b"%PDF-" not in bytes(data[:_PDF_MAGIC_WINDOW]):
        raise NotAPdf()
    return bytes(data)


def _run_worker(data: bytes) -> dict:
    command = [
        sys.executable,
        "-I",  # no PYTHON* variables or user site: the worker imports only what it ships with
        str(_WORKER),
        str(MAX_CPU_SECONDS),
        str(MAX_PAGES),
        str(MAX_MEMORY_BYTES),
    ]
    try:
        done = subprocess.run(  # noqa: S603 - a fixed command; the PDF goes to stdin
            command, input=data, capture_output=True, timeout=MAX_WALL_SECONDS, check=False
        )
    except subprocess.TimeoutExpired as exc:
        # subprocess.run kills the worker before raising.
        logger.warning("PDF worker timed out after %ss", MAX_WALL_SECONDS)
        raise PdfTooComplex() from exc
    if done.returncode != 0:
        # Killed by SIGXCPU/SIGKILL (CPU limit) or out of memory (MemoryError).
        logger.warning(
            "PDF worker failed (%s): %s",
            done.returncode,
            done.stderr[-500:].decode(errors="replace"),
        )
        raise PdfTooComplex()
    try:
        return json.loads(done.stdout)
    except ValueError as exc:
        raise DamagedPdf() from exc


def _read_pages(data: bytes, *, max_bytes: int, in_process: bool = False) -> tuple[list, list]:
    data = _check_input(data, max_bytes)
    if in_process:
        try:
            result = {"pages": read_pdf(data, max_pages=MAX_PAGES)}
        except PdfWorkerError as exc:
            result = {"error": exc.code}
    else:
        result = _run_worker(data)
    error = result.get("error")
    if error == "encrypted":
        raise EncryptedPdf()
    if error == "too_many_pages":
        raise TooManyPages(max_pages=MAX_PAGES)
    if error == "no_pages":
        raise DamagedPdf("The PDF has no pages.")
    if error:
        raise DamagedPdf()
    pages = result["pages"]
    failed = [number for number, page in enumerate(pages, start=1) if page.get("failed")]
    if failed and len(failed) == len(pages):
        raise DamagedPdf()
    warnings = []
    if failed:
        warnings.append(
            "The text of page(s) " + ", ".join(map(str, failed)) + " could not be read; "
            "paragraphs on those pages are missing."
        )
    return pages, warnings


def normalise_line(line: str) -> str:
    """Collapse the spacing of one extracted line and undo typographic ligatures."""
    return _SPACES.sub(" ", line.translate(_LIGATURES)).strip()


def _header_key(line: str) -> str:
    # Running headers differ between pages only in the page number (and sometimes spacing).
    return _DIGITS.sub("#", line.lower())


def clean_pages(pages: list[str]) -> str:
    """Join page texts, dropping running headers, page numbers, footnotes and boilerplate."""
    split_pages = [[normalise_line(line) for line in page.splitlines()] for page in pages]
    split_pages = [_trim_blank(lines) for lines in split_pages]

    repeated = _repeated_edge_lines(split_pages)
    footnote_refs: set[str] = set()
    cleaned: list[list[str]] = []
    for lines in split_pages:
        lines = _strip_edges(lines, repeated)
        lines, refs = _strip_footnote(lines, footnote_refs)
        footnote_refs |= refs
        cleaned.append(lines)

    text_lines = _cut_boilerplate([line for lines in cleaned for line in lines])
    return "\n".join(text_lines).strip() + "\n"


def _trim_blank(lines: list[str]) -> list[str]:
    start, end = 0, len(lines)
    while start < end and not lines[start]:
        start += 1
    while end > start and not lines[end - 1]:
        end -= 1
    return lines[start:end]


def _edge_indexes(lines: list[str]) -> list[int]:
    """Indexes of the first and last few non-blank lines: where headers and footers live."""
    non_blank = [i for i, line in enumerate(lines) if line]
    return non_blank[:_HEADER_LINES] + non_blank[-_FOOTER_LINES:]


def _repeated_edge_lines(pages: list[list[str]]) -> set[str]:
    """Keys of edge lines that recur on several pages: running headers and footers."""
    if len(pages) < 3:
        return set()
    counts: Counter[str] = Counter()
    for lines in pages:
        keys = {_header_key(lines[i]) for i in _edge_indexes(lines) if len(lines[i]) < 160}
        counts.update(keys)
    # A line counts as running when it recurs on at least a third of the pages (min. two), so
    # a header missing from the title and closing pages is still recognised.
    threshold = max(2, len(pages) // 3)
    return {key for key, n in counts.items() if n >= threshold and not key.startswith("#. ")}


def _strip_edges(lines: list[str], repeated: set[str]) -> list[str]:
    edge = set(_edge_indexes(lines))
    kept = []
    for i, line in enumerate(lines):
        if i in edge and (_header_key(line) in repeated or _LONE_PAGE_NUMBER.match(line)):
            continue
        kept.append(line)
    return _trim_blank(kept)


def _strip_footnote(lines: list[str], earlier_refs: set[str]) -> tuple[list[str], set[str]]:
    """Drop a footnote block at the foot of the page when its marker is referenced above it.

    Footnote markers are printed as superscript digits glued to a word ("improve?1",
    "Board1"); requiring that reference keeps ordinary lines starting with a number.
    """
    refs: set[str] = set()
    for line in lines:
        refs.update(m.group(1) for m in re.finditer(r"[A-Za-z?)’'”](\d{1,2})(?=\s|$)", line))
    known = refs | earlier_refs
    first_scan = max(0, len(lines) - _FOOTNOTE_SCAN_LINES)
    for i in range(first_scan, len(lines)):
        match = _FOOTNOTE_START.match(lines[i])
        if match and match.group(1) in known:
            return _trim_blank(lines[:i]), refs
    return lines, refs


def cut_boilerplate(lines: list[str]) -> list[str]:
    """Drop Ofsted's closing publisher blocks (licence, contact details, copyright)."""
    return _cut_boilerplate(lines)


def _cut_boilerplate(lines: list[str]) -> list[str]:
    # The blocks only ever close a report, so look in the final stretch of lines only: the
    # same wording inside a finding must survive.
    tail_start = max(0, len(lines) - 80)
    for i in range(tail_start, len(lines)):
        if any(pattern.match(lines[i]) for pattern in BOILERPLATE_STARTS):
            return _trim_blank(lines[:i])
    return lines
