"""Parse the text of an Ofsted children's services report into structured data.

The parser reads printed wording, not layout: it relies on the headings, table labels and
phrases Ofsted has used across the SIF (2013-18), ILACS (2018 onwards) and area SEND
frameworks and their focused/monitoring visit letters (see DOMAIN.md). Anything it is unsure
about is reported in ``warnings`` rather than guessed silently.

Public API: ``parse_report(text)``, ``parse_pdf(data)``, ``parse_file(path)``.
"""

# Ofsted reports print typographic apostrophes and dashes, which must be matched literally.

from __future__ import annotations

import itertools
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

from .authorities import match_authority, ons_authority_names
from .errors import FileTooLarge, NotAnOfstedReport
from .pdf import DEFAULT_MAX_BYTES, cut_boilerplate, extract, normalise_line
from .themes import suggest_themes

KINDS = (
    "ilacs_standard",
    "ilacs_short",
    "focused_visit",
    "monitoring_visit",
    "jtai",
    "send_area",
    "sif",
    "sif_reinspection",
    "lac_2013",
    "lscb_review",
)
# The kind of a report whose wording the parser does not recognise: the person importing it
# must choose the kind in the preview.
UNKNOWN_KIND = ""
# More improvement items than this under one heading is improbable enough to ask for a check.
MAX_LIKELY_ITEMS = 15
# Rows of the judgement table: SIF 1, 2, 2.1, 2.2 and 3; ILACS at least three.
SIF_TABLE_ROWS = 5
ILACS_TABLE_ROWS = 3
UNKNOWN_KIND_WARNING = (
    "The kind of report could not be recognised from its wording. Choose the kind of "
    "inspection before importing it, and check every reading: it may not be laid out as the "
    "reports the importer knows."
)

# From 1 April 2026 ILACS reports no longer carry an overall effectiveness judgement.
OVERALL_REMOVED_FROM = date(2026, 4, 1)

_A = "['’]"  # reports use both straight and curly apostrophes
_MONTH = (
    r"(?:January|February|March|April|May|June|July|August|September|October|November|December)"
)
_MONTHS = {
    name.lower(): number
    for number, name in enumerate(_MONTH.removeprefix("(?:").removesuffix(")").split("|"), 1)
}
_DAY = r"\d{1,2}(?:st|nd|rd|th)?"
_DATE_RANGE = re.compile(
    rf"(?P<d1>{_DAY})\s*(?P<m1>{_MONTH})?\s*(?P<y1>\d{{4}})?\s*"
    rf"(?:to|–|—|-|and|until)\s*(?P<d2>{_DAY})\s+(?P<m2>{_MONTH})\s+(?P<y2>\d{{4}})",
    re.IGNORECASE,
)
_SINGLE_DATE = re.compile(rf"(?P<d>{_DAY})\s+(?P<m>{_MONTH})\s+(?P<y>\d{{4}})", re.IGNORECASE)

# Grades as printed in judgement tables: capitalised, with the pre-2020 short form.
# Some SIF tables print "Require improvement", lower-case grades or "Not judged".
_TABLE_GRADE = (
    r"Requires? [Ii]mprovement to be [Gg]ood|Requires? [Ii]mprovement|Outstanding|Good|"
    r"Inadequate|Not judged"
)
_TABLE_ROW = re.compile(rf"^(?P<area>.+?)\s+(?P<grade>{_TABLE_GRADE})\s*$")
# SIF rows are numbered ("2.1 Adoption performance good"), so a lower-case grade is safe there.
_SIF_TABLE_ROW = re.compile(
    rf"^(?P<area>.+?)\s+(?P<grade>{_TABLE_GRADE}|requires? improvement(?: to be good)?|"
    r"outstanding|good|inadequate|not judged)\s*$"
)
# Grades as printed in running text and headings ("...: requires improvement to be good").
_TEXT_GRADE = r"requires? improvement to be good|requires? improvement|inadequate|good|outstanding"

# Some ILACS reports (Lewisham 2024) print the judgement headings without "The".
_JUDGEMENT_AREA_START = (
    r"The experiences and progress of|The experience and progress of|The impact of leaders|"
    r"Experiences and progress of|Experience and progress of|Impact of leaders|"
    r"Leadership, management and governance|The effectiveness of leaders|"
    r"Children who need help and protection|Children looked after and achieving permanence"
)
_JUDGEMENT_HEADING = re.compile(
    rf"^(?P<area>(?:{_JUDGEMENT_AREA_START}).*?)(?:\s+(?:is|are))?\s*:?\s*"
    rf"(?P<grade>{_TEXT_GRADE})\s*\.?$",
    re.IGNORECASE,
)
_GRADED_SENTENCE = re.compile(
    rf"^The graded judgement (?:for|about|on) (?:the )?(?P<area>.+?) is that (?:it|they) "
    rf"(?:is|are) (?P<grade>{_TEXT_GRADE})\s*\.?$",
    re.IGNORECASE,
)
_LSCB_JUDGEMENT = re.compile(
    r"^(?:The judgement (?:for|on|about) )?"
    r"(?P<area>The (?:effectiveness of the )?(?:Local Safeguarding Children Board|LSCB)"
    r"(?: \(LSCB\))?)"
    rf"(?: is)?(?: that it)? (?P<grade>{_TEXT_GRADE})\s*\.?$",
    re.IGNORECASE,
)
_SIF_OVERALL = re.compile(
    rf"^(?:Children{_A}s services in (?P<la>.+?) (?:are |is )?"
    rf"|The overall judgement is (?:that )?(?:children{_A}s services (?:in .+? )?"
    rf"(?:are |is |require |requires )?)?)(?P<grade>{_TEXT_GRADE})\s*\.?$",
    re.IGNORECASE,
)
_SIF_ROW_START = re.compile(r"^(?P<num>\d(?:\.\d)?\.?)\s+(?P<rest>\S.*)$")

# Some PDFs print no space glyph after the number ("31.The senior..."): then a capital follows.
_NUMBERED = re.compile(r"^(?P<num>\d{1,3})\.(?:\s+(?P<text>\S.*)|(?P<glued>[A-Z‘“].*))$")
_BULLET = re.compile(
    r"^(?:[◼■▪●•◆►➢✓\uf06e\uf0b7\uf0a7\uf0d8\uf076\uf0fc]|[-*](?=\s))\s*(?P<text>.*)$"
)
_SUB_BULLET = re.compile(r"^(?P<mark>[−–—\uf02d]|o(?=\s))\s*(?P<text>.*)$")
_FRAMEWORK_TAG = re.compile(
    r"\s*\((?P<tag>(?:outcomes?|enablers?|principles?)\b[^()]*)\)\s*(?P<after>[.;]?)\s*$",
    re.IGNORECASE,
)
_TERMINAL = re.compile(r"[.?!:;)’'\"”]$")

_IMPROVE_HEADING = re.compile(
    r"^(?:What needs to improve(?: in this area of (?:social work )?practice)?"
    r"|What does the (?:local authority|LSCB|Local Safeguarding Children Board) need to improve)"
    # A footnote mark may follow the question mark, but a page number (a contents page
    # line, "What does the local authority need to improve? 6") may not.
    r"\s*(?:\?\d?)?\s*:?$",
    re.IGNORECASE,
)
_PRIORITY_HEADING = re.compile(
    r"^(?:Areas? for priority action|Priority and immediate action)\s*:?$", re.IGNORECASE
)
_PRIORITY_TABLE_HEADER = re.compile(
    r"^Responsible bod(?:y|ies)\s+Areas? for priority action$", re.IGNORECASE
)
_AFI_HEADING = re.compile(r"^Areas? for (?:improvement|development)\s*:?$", re.IGNORECASE)
_RECS_HEADING = re.compile(r"^Recommendations?\s*:?$", re.IGNORECASE)
_SUB_HEADINGS = {"summary", "executive summary", "inspection findings"}
_OTHER_HEADINGS = {
    "information about this inspection",
    "the inspection team",
    "inspection team",
    "contents",
    "the local authority",
    "information about the local authority area",
    "summary for children and young people",
    "the local safeguarding children board (lscb)",
    "the local safeguarding children board",
    "local area partnership details",
    "information about the local area partnership",
    "inspection outcome",
    "what is it like to be a child or young person with send in this area?",
    "what is the area partnership doing that is effective?",
    "what does the area partnership need to do better?",
    "headline findings",
    "main findings",
    "findings",
    "areas covered by the visit",
    "next steps",
    "previous ofsted inspections",
    "local leadership",
    "children living in this area",
    "child protection in this area",
    "children looked after in this area",
    "key findings",
    "evaluation of progress",
    "judgement grade",
    # SIF 2014: the safeguarding board's findings follow its areas for improvement.
    "key strengths and weaknesses of the lscb",
    "key strengths and weaknesses of the local safeguarding children board",
    "summary of key findings",
}
_STOP_HEADINGS = re.compile(r"^(?:Yours sincerely|Yours faithfully)\b", re.IGNORECASE)
_INSPECTION_FINDINGS_TITLED = re.compile(r"^Inspection findings\s*[–—-]\s*\S.*$", re.IGNORECASE)
_HEADING_PREFIX = re.compile(
    rf"^(?:{_JUDGEMENT_AREA_START}|The graded judgement|The (?:effectiveness of the )?Local "
    r"Safeguarding Children Board)",
    re.IGNORECASE,
)

_REPORT_MARKERS = (
    re.compile(r"Inspection dates?\s*:", re.IGNORECASE),
    re.compile(r"Lead inspectors?\s*:", re.IGNORECASE),
    re.compile(rf"Inspection of .{{0,80}}children{_A}s (?:social care )?services", re.I | re.S),
    re.compile(r"This letter summarises the findings of", re.IGNORECASE),
    re.compile(r"Area SEND inspection|local area SEND|Joint targeted area inspection", re.I),
    re.compile(r"Local Safeguarding Children Board", re.IGNORECASE),
    re.compile(rf"(?:His|Her) Majesty{_A}s Inspector", re.IGNORECASE),
)

_INSPECTOR_TITLES = re.compile(
    rf"(?:,?\s*(?:His|Her) Majesty{_A}s Inspectors?|,?\s*Senior HMI|\s*\(HMI\)|,?\s*\bHMI\b|"
    r",?\s*Ofsted Inspector|\(OI\)|,?\s*\(designate\))",
    re.IGNORECASE,
)
_NAME = re.compile(r"^[A-Z][\w’'.-]*(?:\s+(?:[A-Z][\w’'.-]*|de|van|von|da|le|la))+$")
# The area SEND team table prints each inspectorate's lead in many ways: "Charlie Fordham,
# HMI, Lead inspector", "Adam Sproston HMI, Ofsted lead inspector", "Leanne Thirlby, Ofsted HMI
# Lead inspector", "Tessa Valpy, CQC Lead inspector".
_SEND_LEAD = re.compile(
    r"(?P<name>[A-Z][\w’'-]+(?:[ ]+[A-Z][\w’'-]+)+?)(?:,?[ ]*HMI)?,[ ]*"
    r"(?:(?P<org>Ofsted|CQC|HMICFRS|HMI Probation|HMIP)[ ]+)?(?:HMI,?[ ]+|Inspector[ ]+)?"
    r"[Ll]ead [Ii]nspector"
)


@dataclass
class Judgement:
    area: str
    grade: str


@dataclass
class ImprovementArea:
    text: str
    framework_tag: str | None = None


@dataclass
class PriorityAction:
    text: str
    responsible_body: str | None = None
    # The organisations named in the responsible body cell, one by one.
    responsible_bodies: list[str] = field(default_factory=list)


@dataclass
class Paragraph:
    number: int
    section: str
    text: str


@dataclass
class ParsedReport:
    """Everything read from one report; ``to_dict`` gives the JSON shape the app stores."""

    authority: str
    kind: str
    start_date: date | None
    end_date: date | None
    publication_date: date | None = None
    lead_inspectors: list[str] = field(default_factory=list)
    # Each fieldwork visit as (start, end); more than one when the fieldwork was split.
    fieldwork_ranges: list[tuple[date, date]] = field(default_factory=list)
    judgements: list[Judgement] = field(default_factory=list)
    overall_effectiveness: str | None = None
    improvement_areas: list[ImprovementArea] = field(default_factory=list)
    priority_actions: list[PriorityAction] = field(default_factory=list)
    paragraphs: list[Paragraph] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    suggested_themes: list[str] = field(default_factory=list)
    # The authority name exactly as printed, before matching to the ONS list.
    printed_authority: str = ""

    def to_dict(self) -> dict[str, Any]:
        return {
            "authority": self.authority,
            "kind": self.kind,
            "start_date": _iso(self.start_date),
            "end_date": _iso(self.end_date),
            "publication_date": _iso(self.publication_date),
            "lead_inspectors": list(self.lead_inspectors),
            "fieldwork_ranges": [[_iso(a), _iso(b)] for a, b in self.fieldwork_ranges],
            "judgements": [{"area": j.area, "grade": j.grade} for j in self.judgements],
            "overall_effectiveness": self.overall_effectiveness,
            "improvement_areas": [
                {"text": a.text, "framework_tag": a.framework_tag} for a in self.improvement_areas
            ],
            "priority_actions": [
                {
                    "text": p.text,
                    "responsible_body": p.responsible_body,
                    "responsible_bodies": list(p.responsible_bodies),
                }
                for p in self.priority_actions
            ],
            "paragraphs": [
                {"number": p.number, "section": p.section, "text": p.text} for p in self.paragraphs
            ],
            "warnings": list(self.warnings),
            "themes": list(self.suggested_themes),
        }


def _iso(value: date | None) -> str | None:
    return value.isoformat() if value else None


# --------------------------------------------------------------------------- public API


def parse_file(
    path: str | Path, *, max_bytes: int = DEFAULT_MAX_BYTES, in_process: bool = False
) -> ParsedReport:
    """Parse a report from a ``.pdf`` file, or from a text file of its extracted text."""
    path = Path(path)
    if path.suffix.lower() == ".pdf":
        size = path.stat().st_size
        if size > max_bytes:
            # Avoid reading a huge file into memory just to reject it.
            raise FileTooLarge(size=size, max_bytes=max_bytes)
        return parse_pdf(path.read_bytes(), max_bytes=max_bytes, in_process=in_process)
    return parse_report(path.read_text(encoding="utf-8", errors="replace"))


def parse_pdf(
    data: bytes,
    *,
    max_bytes: int = DEFAULT_MAX_BYTES,
    authorities: Iterable[str] | None = None,
    in_process: bool = False,
) -> ParsedReport:
    """Extract the text of a report PDF and parse it."""
    extracted = extract(data, max_bytes=max_bytes, in_process=in_process)
    report = parse_report(extracted.text, authorities=authorities, table_rows=extracted.table_rows)
    report.warnings[:0] = extracted.warnings
    return report


def parse_report(
    text: str,
    *,
    authorities: Iterable[str] | None = None,
    table_rows: list | None = None,
) -> ParsedReport:
    """Parse report text (as extracted from the PDF, or pasted) into a ``ParsedReport``.

    ``authorities`` are the names the authority is matched against; by default the ONS names
    from the app's local-authorities reference list.
    """
    if not isinstance(text, str):
        raise NotAnOfstedReport()
    lines = _prepare_lines(text)
    joined = "\n".join(lines)
    if not any(marker.search(joined) for marker in _REPORT_MARKERS):
        raise NotAnOfstedReport()
    parser = _Parser(lines, list(authorities) if authorities is not None else None)
    parser.table_rows = table_rows
    return parser.parse()


def framework_tag_key(tag: str | None) -> str | None:
    """Normalise a printed National Framework tag: "(Outcome four, National Framework)" gives
    "Outcome 4", "Enabler two" gives "Enabler 2"; None when no outcome/enabler/principle."""
    if not tag:
        return None
    words = {
        "one": 1,
        "two": 2,
        "three": 3,
        "four": 4,
        "five": 5,
        "six": 6,
        "seven": 7,
        "eight": 8,
        "nine": 9,
        "ten": 10,
    }
    match = re.search(
        r"\b(outcome|enabler|principle)s?\s+(\d+|" + "|".join(words) + r")\b", tag, re.I
    )
    if not match:
        return None
    number = match.group(2).lower()
    value = int(number) if number.isdigit() else words[number]
    return f"{match.group(1).capitalize()} {value}"


# --------------------------------------------------------------------------- helpers


def _prepare_lines(text: str) -> list[str]:
    raw = text.replace("\r\n", "\n").replace("\r", "\n").replace("\f", "\n").split("\n")
    lines = []
    for line in raw:
        clean = normalise_line(line)
        # Pasted or raw-extracted text may still hold bare page numbers between paragraphs.
        if re.fullmatch(r"(?:Page\s+)?\d{1,3}", clean, flags=re.IGNORECASE):
            continue
        lines.append(clean)
    return cut_boilerplate(lines)


def collapse(text: str) -> str:
    """Collapse all whitespace runs to single spaces."""
    return re.sub(r"\s+", " ", text).strip()


def _join_wrapped(lines: Iterable[str]) -> str:
    """Join printed lines into one string, mending words hyphenated at a line end."""
    parts: list[str] = []
    for line in lines:
        line = line.strip()
        if not line:
            continue
        previous = parts[-1] if parts else ""
        if (
            len(previous) >= 2
            and previous[-1] == "-"
            and previous[-2].isalpha()
            and (line[:1].isalpha())
        ):
            parts[-1] = previous + line
        else:
            parts.append(line)
    return collapse(" ".join(parts))


def _parse_day_month_year(day: str, month: str, year: str) -> date | None:
    try:
        return date(int(year), _MONTHS[month.lower()], int(re.sub(r"\D", "", day)))
    except (ValueError, KeyError):
        return None


_NUMERIC_DATE = re.compile(r"\b(?P<d>\d{1,2})/(?P<m>\d{1,2})/(?P<y>\d{4})\b")
_MONTH_NAMES = {number: name for name, number in _MONTHS.items()}
# Where the dates of the fieldwork stop in the opening lines.
_AFTER_DATES = re.compile(
    r"\b(?:Report published|Publication date|Lead inspector|Date published|Published)\b", re.I
)


def _words_for_numeric_dates(text: str) -> str:
    """ "12/09/2016" (as SIF reports of 2016 print) becomes "12 september 2016"."""

    def spell(match: re.Match[str]) -> str:
        month = int(match["m"])
        if not 1 <= month <= 12:
            return match[0]
        return f"{int(match['d'])} {_MONTH_NAMES[month]} {match['y']}"

    return _NUMERIC_DATE.sub(spell, text)


def parse_fieldwork(text: str) -> list[tuple[date, date]]:
    """Every fieldwork range printed after "Inspection dates:", in order.

    "30 September to 11 October 2024 and 13 to 16 January 2025" gives two ranges; a single
    date gives a one-day range.
    """
    text = _words_for_numeric_dates(_AFTER_DATES.split(text, maxsplit=1)[0])
    ranges = []
    position = 0
    while True:
        match = _DATE_RANGE.search(text, position)
        if not match or (
            ranges and not re.fullmatch(r"[\s,;]*(?:and|&)?[\s,;]*", text[position : match.start()])
        ):
            break
        start, end = _range_of(match)
        if start and end:
            ranges.append((start, end))
        position = match.end()
    if not ranges:
        single = _SINGLE_DATE.search(text)
        if single:
            day = _parse_day_month_year(single["d"], single["m"], single["y"])
            if day:
                ranges.append((day, day))
    return ranges


def _range_of(match: re.Match[str]) -> tuple[date | None, date | None]:
    end = _parse_day_month_year(match["d2"], match["m2"], match["y2"])
    start = _parse_day_month_year(
        match["d1"], match["m1"] or match["m2"], match["y1"] or match["y2"]
    )
    if start and end and start > end and not match["y1"]:
        # "30 December to 3 January 2020": the start lies in the previous year.
        start = _parse_day_month_year(match["d1"], match["m1"] or match["m2"], str(end.year - 1))
    return start, end


def _parse_date_range(text: str) -> tuple[date | None, date | None]:
    text = _words_for_numeric_dates(text)
    match = _DATE_RANGE.search(text)
    if match:
        end = _parse_day_month_year(match["d2"], match["m2"], match["y2"])
        start = _parse_day_month_year(
            match["d1"], match["m1"] or match["m2"], match["y1"] or match["y2"]
        )
        if start and end and start > end and not match["y1"]:
            # "30 December to 3 January 2020": the start lies in the previous year.
            start = _parse_day_month_year(
                match["d1"], match["m1"] or match["m2"], str(end.year - 1)
            )
        return start, end
    single = _SINGLE_DATE.search(text)
    if single:
        day = _parse_day_month_year(single["d"], single["m"], single["y"])
        return day, day
    return None, None


def _canonical_grade(printed: str) -> str:
    """Turn a grade written in running text into the wording used in judgement tables."""
    lower = collapse(printed).lower()
    if lower == "not judged":
        return "Not judged"
    if lower.startswith("require"):
        return (
            "Requires improvement to be good" if lower.endswith("good") else "Requires improvement"
        )
    return lower.capitalize()


def _strip_framework_tag(text: str) -> tuple[str, str | None]:
    match = _FRAMEWORK_TAG.search(text)
    if not match:
        return text, None
    body = text[: match.start()].rstrip()
    if match["after"] and not re.search(r"[.?!;]$", body):
        body += match["after"]
    return body, collapse(match["tag"])


def _split_plain_block(lines: list[str]) -> list[list[str]]:
    """Split table cells that lost their borders into items.

    A new item starts after a line that ends a sentence and is clearly shorter than a full
    printed line; text that was not wrapped at all has one item per line.
    """
    content = [line for line in lines if line]
    if not content:
        return []
    longest = max(len(line) for line in content)
    wrapped = longest <= 120
    items: list[list[str]] = [[]]
    for line in lines:
        if not line:
            continue
        items[-1].append(line)
        ends_sentence = bool(re.search(r"[.?!]$", line))
        if ends_sentence and (not wrapped or len(line) < 0.8 * longest):
            items.append([])
    return [item for item in items if item]


# An organisation's name ends with one of these words; "and" or a comma after one starts the next
# organisation ("Bury Metropolitan Borough Council and NHS Greater Manchester ICB").
_BODY_END = r"(?:Council|ICB|\(ICB\)|Board|Trust|Partnership|Authority|CCG|\(CCG\)|Group)"
_BODY_SPLIT = re.compile(rf"(?P<end>\b{_BODY_END})\s*(?:,\s*(?:and\s+)?|and\s+|&\s*)(?=[A-Z])")
_ONE_LINE_BODY = re.compile(
    r"^(?P<body>[A-Z][\w’'&.,()-]*\s+(?:[A-Z][\w’'&.,()-]*\s+|and\s+|of\s+|the\s+)"
    r"{0,14}(?:Council|ICB|Integrated Care Board|Partnership|Trust|CCG|"
    r"Commissioning Group|Board))(?:\s+(?P<rest>.*))?$"
)
# Lines of the page footer and header that run across a table continued over a page break.
_RUNNING_LINE = re.compile(
    r"^(?:Area SEND inspection report|Inspection report)\s*:|^\d{1,2}(?: \w+)?(?: \d{4})? to "
    r"\d{1,2} \w+ \d{4}(?: \d{1,3})?$|^\d{1,3}$",
    re.IGNORECASE,
)


def split_bodies(printed: str) -> list[str]:
    """The organisations named in a "Responsible body" cell, in printed order."""
    text = collapse(printed)
    if not text:
        return []
    marked = _BODY_SPLIT.sub(lambda match: match["end"] + "\x00", text)
    return [part.strip(" ,") for part in marked.split("\x00") if part.strip(" ,")]


def priority_table(pages: list | None) -> list[PriorityAction] | None:
    """The area SEND "Responsible body | Areas for priority action" table, cell by cell.

    ``pages`` holds, per page, the positioned lines of pages with a table (``pdf_worker``).
    Columns are told apart by the x position of the header's second cell; a row starts where
    the body column starts again after a line without it (rows are separated by rules and
    padding, and each row's body sits beside the first lines of its action).
    """
    if not pages:
        return None
    split = None
    rows: list[tuple[list[str], list[str]]] = []
    had_left = False
    for page in pages:
        if page is None:
            if split is not None and rows:
                break
            continue
        had_left = False
        last_y = None
        gaps = sorted(a["y"] - b["y"] for a, b in itertools.pairwise(page))
        pitch = gaps[len(gaps) // 2] if gaps else 0
        for line in page:
            cells = line["cells"]
            texts = " ".join(cell[2] for cell in cells)
            if split is None:
                if re.match(r"Responsible bod", texts) and re.search(r"priority action", texts):
                    split = next(c[0] for c in cells if re.search(r"priority action", c[2]))
                continue
            if _RUNNING_LINE.match(texts) or line["y"] < 45 or line["y"] > 800:
                continue
            if re.match(r"Responsible bod", texts):
                continue  # the header repeated on a new page
            left = [c for c in cells if c[0] < split - 4]
            right = [c for c in cells if c[0] >= split - 4]
            if any(c[1] > split + 20 for c in left) or (
                left and not right and _AFI_HEADING.match(" ".join(c[2] for c in left))
            ):
                return _table_actions(rows)  # text running across both columns: table over
            # Rows are set apart by their rules and padding: a wider gap than between lines.
            spaced = last_y is not None and last_y - line["y"] > 1.3 * pitch
            last_y = line["y"]
            if left and (not had_left or not rows or spaced):
                rows.append(([], []))
            if not rows:
                rows.append(([], []))
            rows[-1][0].extend(c[2] for c in left)
            rows[-1][1].extend(c[2] for c in right)
            had_left = bool(left)
    return _table_actions(rows) if split is not None else None


def _table_actions(rows: list[tuple[list[str], list[str]]]) -> list[PriorityAction]:
    actions = []
    for body_lines, action_lines in rows:
        text = _join_wrapped(action_lines)
        if not text:
            continue
        body = _join_wrapped(body_lines)
        actions.append(
            PriorityAction(
                text=text, responsible_body=body or None, responsible_bodies=split_bodies(body)
            )
        )
    return actions


_IMPERATIVE = re.compile(
    r"(?:act|address|agree|analyse|assure|audit|build|clarify|commission|complete|consider|"
    r"continue|create|develop|embed|enable|ensure|establish|evaluate|expedite|extend|further|"
    r"identify|implement|improve|increase|make|measure|monitor|prioritise|promote|provide|put|"
    r"raise|reduce|review|secure|seek|set|strengthen|take|undertake|use|work)\b",
    re.IGNORECASE,
)


def _is_recommendation(text: str) -> bool:
    """A SIF recommendation is an instruction: "Ensure that...", "The board should..."."""
    return bool(_IMPERATIVE.match(text)) or " should " in text[:120]


# --------------------------------------------------------------------------- the parser


@dataclass
class _Heading:
    kind: str  # judgement, graded, lscb, improve, priority, afi, recs, sub, other, stop
    text: str
    section: str | None
    consumed: int
    table: bool = False


@dataclass
class _OpenParagraph:
    number: int
    section: str
    lines: list[str]
    list_mode: str | None


class _Parser:
    def __init__(self, lines: list[str], authorities: list[str] | None) -> None:
        self.lines = lines
        self.authorities = authorities
        self.warnings: list[str] = []
        self.consumed: set[int] = set()
        self.judgements: list[Judgement] = []
        self.overall: str | None = None
        self.improvement_areas: list[ImprovementArea] = []
        self.priority_actions: list[PriorityAction] = []
        self.paragraphs: list[Paragraph] = []
        self.fieldwork_ranges: list[tuple[date, date]] = []
        self.table_rows: list | None = None
        self.table_priority: list[PriorityAction] | None = None
        self.kind = ""
        self.none_found = 0
        non_blank = [line for line in lines if line]
        self.title = collapse(" ".join(non_blank[:15]))
        self.head = collapse(" ".join(non_blank[:60]))
        self.text = "\n".join(lines)

    def warn(self, message: str) -> None:
        if message not in self.warnings:
            self.warnings.append(message)

    # ---------------------------------------------------------------- orchestration

    def parse(self) -> ParsedReport:
        kind_hint = self._kind_hint()
        start, end = self._dates()
        kind = self._kind(kind_hint, start, end)
        self.kind = kind
        printed, authority = self._authority(kind)
        leads = self._lead_inspectors(kind)

        if kind in ("sif", "sif_reinspection"):
            self._sif_table()
        else:
            self._ilacs_table()
        self._lscb_judgement()
        if kind == "send_area":
            self.overall = self._send_outcome()
        self.table_priority = priority_table(self.table_rows)
        self._body()
        if kind == "lac_2013":
            self._lac_2013()
        if self.table_priority is not None:
            self.priority_actions = self.table_priority

        self._final_checks(kind, end)
        themes = suggest_themes(
            " ".join(a.text for a in self.improvement_areas)
            + " "
            + " ".join(p.text for p in self.priority_actions)
        )
        return ParsedReport(
            authority=authority,
            kind=kind,
            start_date=start,
            end_date=end,
            publication_date=self._publication_date(),
            lead_inspectors=leads,
            fieldwork_ranges=self.fieldwork_ranges,
            judgements=self.judgements,
            overall_effectiveness=self.overall,
            improvement_areas=self.improvement_areas,
            priority_actions=self.priority_actions,
            paragraphs=self.paragraphs,
            warnings=self.warnings,
            suggested_themes=themes,
            printed_authority=printed,
        )

    def _lac_2013(self) -> None:
        """Sections graded "Grade 3 (Adequate)" under their heading; the actions listed under
        "Areas for improvement" by timescale ("Immediately:", "Within three months:")."""
        self.judgements = []
        for i, line in enumerate(self.lines):
            match = re.fullmatch(r"Grade [1-4] \((?P<grade>[A-Za-z ]+)\)", line)
            if not match:
                continue
            heading: list[str] = []
            for j in range(i - 1, max(-1, i - 4), -1):
                above = self.lines[j]
                if not above or re.search(r"[.:;]$|^\d", above) or _NUMBERED.match(above):
                    break
                heading.insert(0, above)
            area = collapse(" ".join(heading))
            grade = _canonical_grade(match["grade"])
            if not area:
                continue
            if area.lower().startswith("overall effectiveness"):
                self.overall = grade
            else:
                self.judgements.append(Judgement(area=area, grade=grade))
        self.improvement_areas = []
        start = next((i for i, line in enumerate(self.lines) if _AFI_HEADING.match(line)), None)
        if start is None:
            return
        item: list[str] = []
        for line in self.lines[start + 1 :]:
            if re.fullmatch(r"Grade [1-4] \([A-Za-z ]+\)", line):
                break
            bullet = _BULLET.match(line)
            if bullet:
                if item:
                    self._add_list_item("afi", _join_wrapped(item))
                item = [bullet["text"]]
            elif item and not re.fullmatch(r"(?:Immediately|Within [\w ]+):", line):
                item.append(line)
            if item and re.search(r"[.]$", line):
                self._add_list_item("afi", _join_wrapped(item))
                item = []
        # The heading of the next section sits above its grade: drop it from the last item.
        if item:
            self._add_list_item("afi", _join_wrapped(item))

    def _final_checks(self, kind: str, end: date | None) -> None:
        graded = kind in ("ilacs_standard", "ilacs_short", "sif", "sif_reinspection")
        if graded and not self.judgements:
            self.warn("No judgement table was found.")
        table_rows = [
            j
            for j in self.judgements
            if "safeguarding children board" not in j.area.lower() and "lscb" not in j.area.lower()
        ]
        wanted = SIF_TABLE_ROWS if kind.startswith("sif") else ILACS_TABLE_ROWS
        if graded and table_rows and len(table_rows) < wanted:
            self.warn(
                f"The judgement table has {len(table_rows)} rows where this kind of report has "
                f"at least {wanted}: a row may be missing."
            )
        before_removal = end is None or end < OVERALL_REMOVED_FROM
        if kind.startswith("ilacs") and self.judgements and self.overall is None and before_removal:
            self.warn("No overall effectiveness judgement was found.")
        if kind.startswith("sif") and self.overall is None:
            self.warn("The overall judgement sentence was not found.")
        if graded and not self.improvement_areas:
            self.warn("No improvement areas were found.")
        if graded and not self.paragraphs:
            self.warn("No numbered paragraphs were found.")

    # ---------------------------------------------------------------- kind and dates

    def _kind_hint(self) -> str | None:
        title = self.title
        letter = re.search(
            r"This letter summarises the findings of (?:the|a|our) (?P<kind>focused|monitoring)"
            r" visit",
            self.head,
            re.IGNORECASE,
        )
        if letter:
            return "focused_visit" if letter["kind"].lower() == "focused" else "monitoring_visit"
        if re.search(r"Joint targeted area inspection", title, re.IGNORECASE):
            return "jtai"
        if re.search(r"area SEND inspection|local area SEND|Local area partnership", title, re.I):
            return "send_area"
        if re.search(r"Re-?inspection of services for children", title, re.IGNORECASE):
            return "sif_reinspection"
        if re.search(r"Inspection of services for children in need of help", title, re.I):
            return "sif"
        # The 2013 inspections of looked after children services (graded 1 to 4).
        if re.search(r"Inspection of looked after children(?:’s|'s)? services", title, re.I):
            return "lac_2013"
        # A safeguarding board review published on its own, not within a SIF report.
        if re.search(
            r"Review of the effectiveness of the Local Safeguarding Children Board", title, re.I
        ):
            return "lscb_review"
        # Letters are titled e.g. "Focused visit to X children's services"; full reports
        # mention earlier visits in their summaries, so only the opening lines count.
        opening = collapse(" ".join([line for line in self.lines if line][:4]))
        if re.search(r"\bfocused visit (?:to|of)\b", opening, re.IGNORECASE):
            return "focused_visit"
        if re.search(r"\bmonitoring visit (?:to|of)\b", opening, re.IGNORECASE):
            return "monitoring_visit"
        if re.search(
            rf"local authority children{_A}s services|children{_A}s social care services|"
            r"Judgement Grade",
            title,
            re.IGNORECASE,
        ):
            return "ilacs"
        return None

    def _dates(self) -> tuple[date | None, date | None]:
        match = re.search(r"Inspection dates?\s*:?\s*(?P<rest>.{0,120})", self.head, re.I)
        if match:
            ranges = parse_fieldwork(match["rest"])
            if ranges:
                self.fieldwork_ranges = ranges
                return min(r[0] for r in ranges), max(r[1] for r in ranges)
        letter = re.search(
            r"(?:focused|monitoring) visit to .{0,120}? (?:on|from|between) (?P<rest>.{0,80})",
            self.head,
            re.IGNORECASE,
        )
        if letter:
            start, end = _parse_date_range(letter["rest"])
            if start and end:
                return start, end
        found = re.search(
            r"(?:Fieldwork|Visit|Inspection) (?:dates?|took place)\W+(?P<rest>.{0,90})",
            self.head,
            re.I,
        )
        if found:
            start, end = _parse_date_range(found["rest"])
            if start and end:
                return start, end
        self.warn("The inspection dates could not be found.")
        return None, None

    def _kind(self, hint: str | None, start: date | None, end: date | None) -> str:
        if hint and hint != "ilacs":
            return hint
        if hint == "ilacs" or self._has_judgement_table():
            if start and end:
                # Reports never say "short" or "standard": a short inspection is one week of
                # fieldwork (Monday to Friday), a standard one two weeks.
                return "ilacs_short" if (end - start).days <= 6 else "ilacs_standard"
            self.warn("Could not tell a short from a standard ILACS inspection without dates.")
            return "ilacs_standard"
        self.warn(UNKNOWN_KIND_WARNING)
        return UNKNOWN_KIND

    def _has_judgement_table(self) -> bool:
        return any(re.fullmatch(r"Judgement\s+Grade", line) for line in self.lines[:120])

    def _publication_date(self) -> date | None:
        numeric = re.search(
            r"(?:Report published|Publication date|Date published|Published)\s*:?\s*"
            r"(?P<d>\d{1,2})/(?P<m>\d{1,2})/(?P<y>\d{4})\b",
            self.head,
            re.IGNORECASE,
        )
        if numeric:
            try:
                return date(int(numeric["y"]), int(numeric["m"]), int(numeric["d"]))
            except ValueError:
                return None
        match = re.search(
            r"(?:Report published|Publication date|Date published|Published)\s*:?\s*"
            rf"(?P<d>{_DAY})\s+(?P<m>{_MONTH})\s+(?P<y>\d{{4}})",
            self.head,
            re.IGNORECASE,
        )
        if not match:
            return None
        return _parse_day_month_year(match["d"], match["m"], match["y"])

    # ---------------------------------------------------------------- authority and people

    def _authority(self, kind: str) -> tuple[str, str]:
        title = self.title
        patterns = (
            rf"Inspection of (?P<n>.+?) local authority children{_A}s services",
            r"Area SEND inspection of (?P<n>.+?)(?: Local Area Partnership\b| Inspection dates|$)",
            rf"(?:focused|monitoring) visit to (?P<n>.+?) (?:local authority )?children{_A}s "
            r"services",
            r"Joint local area SEND inspection in (?P<n>.+?)(?: \d| Dear|$)",
        )
        printed = ""
        for pattern in patterns:
            match = re.search(pattern, title if "visit to" not in pattern else self.head, re.I)
            if match:
                printed = collapse(match["n"])
                break
        if not printed:
            first = next((line for line in self.lines if line), "")
            if len(first) <= 60 and not re.match(r"(?:Inspection|Local area|Area SEND)", first):
                printed = first
        candidates = self.authorities if self.authorities is not None else ons_authority_names()
        matched = match_authority(printed, candidates) if printed and candidates else None
        if matched is None and candidates:
            matched = self._authority_in_title(candidates)
            if matched and not printed:
                printed = matched
        if matched:
            return printed, matched
        if not printed:
            self.warn("The authority name could not be found.")
            return "", ""
        if candidates:
            self.warn(f"The authority “{printed}” did not match any known local authority.")
        return printed, printed

    def _authority_in_title(self, candidates: list[str]) -> str | None:
        # Last resort for letters and unfamiliar layouts: the longest known name in the title.
        best: str | None = None
        for name in candidates:
            pattern = r"(?<![\w-])" + re.escape(name) + r"(?![\w-])"
            if re.search(pattern, self.title) and (best is None or len(name) > len(best)):
                best = name
        return best

    def _lead_inspectors(self, kind: str) -> list[str]:
        for i, line in enumerate(self.lines):
            # "Lead inspector:", "Lead inspector on site:" (SIF), "Reporting inspector" (2013).
            match = re.match(
                r"(?:Lead inspectors?(?: on site)?\s*:|Reporting inspectors?\s*:?)\s*(?P<rest>.*)$",
                line,
                re.IGNORECASE,
            )
            if not match:
                continue
            rest = match["rest"]
            # The name and title can wrap ("Lead inspector: Steve Lowe" / "Her Majesty's...").
            following = self.lines[i + 1] if i + 1 < len(self.lines) else ""
            if following and (
                re.match(rf"(?:,\s*)?(?:His|Her) Majesty{_A}s Inspector|and\b", following, re.I)
                or rest.rstrip().endswith((",", " and"))
            ):
                rest += " " + following
            names = self._names_from(rest)
            if names:
                return names
        # Area SEND and joint inspections list each inspectorate's lead in a team table.
        found = [
            (match["org"] not in (None, "Ofsted"), collapse(match["name"]))
            for line in self.lines
            if "lead inspector" in line.lower()
            for match in _SEND_LEAD.finditer(line)
        ]
        if found:
            # Ofsted's lead first, then the other inspectorates' leads (sorted is stable).
            return list(dict.fromkeys(name for _other, name in sorted(found, key=lambda f: f[0])))
        signer = re.search(
            r"Yours sincerely\s*\n(?:\s*\n)*(?P<name>[^\n]+)\n\s*(?:His|Her) Majesty",
            self.text,
            re.IGNORECASE,
        )
        if signer:
            names = self._names_from(signer["name"])
            if names:
                return names
        listed = re.search(
            rf"(?:His|Her) Majesty{_A}s Inspectors? for this (?:visit|inspection) (?:were|was)"
            r" (?P<names>[^.]+)\.",
            collapse(self.head),
            re.IGNORECASE,
        )
        if listed:
            names = self._names_from(listed["names"])
            if names:
                self.warn("No lead inspector is named; the visit's inspectors are listed.")
                return names
        self.warn("The lead inspector could not be found.")
        return []

    @staticmethod
    def _names_from(text: str) -> list[str]:
        cleaned = _INSPECTOR_TITLES.sub("|", text)
        parts = re.split(r"\||,|;|\band\b", cleaned)
        names = []
        for part in parts:
            name = collapse(part).strip(" .")
            if name and _NAME.match(name) and len(name) <= 60:
                names.append(name)
        return list(dict.fromkeys(names))

    # ---------------------------------------------------------------- judgements

    def _ilacs_table(self) -> None:
        start = next(
            (i for i, line in enumerate(self.lines) if re.fullmatch(r"Judgement\s+Grade", line)),
            None,
        )
        if start is None:
            return
        self.consumed.add(start)
        pending: list[int] = []
        i = start + 1
        while i < len(self.lines):
            line = self.lines[i]
            if not line:
                i += 1
                continue
            pending.append(i)
            joined = collapse(" ".join(self.lines[j] for j in pending))
            row = _TABLE_ROW.match(joined)
            if row:
                # Cheshire East 2020 ends a row's area with a full stop.
                area = row["area"].removesuffix(".")
                if not self._valid_area(area):
                    break
                grade, i = self._wrapped_grade(row["grade"], i, pending)
                grade = _canonical_grade(grade)
                self.consumed.update(pending)
                pending = []
                if area.lower() == "overall effectiveness":
                    self.overall = grade
                    break
                self.judgements.append(Judgement(area=area, grade=grade))
            elif len(pending) > 6 or len(joined) > 250:
                break
            i += 1

    def _wrapped_grade(self, grade: str, i: int, pending: list[int]) -> tuple[str, int]:
        """Join "Requires improvement" with a "to be good" printed on the next line."""
        following = self.lines[i + 1] if i + 1 < len(self.lines) else ""
        if re.fullmatch(r"requires? improvement", grade, re.IGNORECASE) and re.fullmatch(
            r"to be good", following, re.IGNORECASE
        ):
            pending.append(i + 1)
            return f"{grade} {following}", i + 1
        return grade, i

    @staticmethod
    def _valid_area(area: str) -> bool:
        return (
            len(area) <= 160
            and area[:1].isupper()
            and not re.search(r"[.;!?]\s", area)
            and not area.endswith(".")
        )

    def _sif_table(self) -> None:
        overall_at = None
        for i, line in enumerate(self.lines[:150]):
            if not line:
                continue
            for span in (1, 2):
                joined = collapse(" ".join(self.lines[i : i + span]))
                match = _SIF_OVERALL.match(joined)
                if match:
                    self.overall = _canonical_grade(match["grade"])
                    overall_at = i + span - 1
                    self.consumed.update(range(i, i + span))
                    break
            if overall_at is not None:
                break
        search_from = overall_at + 1 if overall_at is not None else 0
        i = search_from
        pending: list[int] = []
        rows_seen = False
        while i < min(len(self.lines), search_from + 60):
            line = self.lines[i]
            if not line:
                i += 1
                continue
            if not pending and not _SIF_ROW_START.match(line):
                if rows_seen:
                    break
                i += 1
                continue
            pending.append(i)
            joined = collapse(" ".join(self.lines[j] for j in pending))
            start = _SIF_ROW_START.match(joined)
            row = _SIF_TABLE_ROW.match(start["rest"]) if start else None
            if row and self._valid_area(row["area"].removesuffix(".")):
                grade, i = self._wrapped_grade(row["grade"], i, pending)
                area = row["area"].removesuffix(".")
                self.judgements.append(Judgement(area=area, grade=_canonical_grade(grade)))
                self.consumed.update(pending)
                pending = []
                rows_seen = True
            elif len(pending) > 5:
                if rows_seen:
                    break
                pending = []
            i += 1

    def _lscb_judgement(self) -> None:
        for i, line in enumerate(self.lines):
            if not re.match(
                r"The (?:judgement (?:for|on|about) the )?(?:effectiveness of the )?"
                r"(?:Local Safeguarding|LSCB)",
                line,
                re.I,
            ):
                continue
            for span in (1, 2):
                joined = collapse(" ".join(self.lines[i : i + span]))
                match = _LSCB_JUDGEMENT.match(joined)
                if match:
                    self.judgements.append(
                        Judgement(
                            # "The judgement for the effectiveness of the LSCB is..." (2014)
                            area=match["area"][:1].upper() + match["area"][1:],
                            grade=_canonical_grade(match["grade"]),
                        )
                    )
                    return

    def _send_outcome(self) -> str | None:
        for i, line in enumerate(self.lines):
            if line.lower() != "inspection outcome":
                continue
            collected: list[str] = []
            for j in range(i + 1, len(self.lines)):
                following = self.lines[j]
                if not following:
                    if collected:
                        break
                    continue
                if re.match(r"The next |Ofsted and |Information about", following) or (
                    self._heading_at(j)
                ):
                    break
                collected.append(following)
            if collected:
                return _join_wrapped(collected)
        text = collapse(self.text)
        match = re.search(
            r"typically lead to positive experiences|lead to inconsistent experiences|"
            r"widespread and/or systemic failings",
            text,
            re.IGNORECASE,
        )
        if match:
            # Widen the phrase to its sentence without a backtracking regex over the report.
            start = text.rfind(". ", 0, match.start())
            end = text.find(".", match.end())
            return text[start + 2 if start >= 0 else 0 : end + 1 if end >= 0 else len(text)]
        self.warn("The area SEND inspection outcome could not be found.")
        return None

    # ---------------------------------------------------------------- headings

    def _heading_at(self, i: int) -> _Heading | None:
        line = self.lines[i]
        if not line or _NUMBERED.match(line):
            return None
        if _HEADING_PREFIX.match(line):
            for span in (1, 2, 3):
                chunk = self.lines[i : i + span]
                if len(chunk) < span or any(
                    not part or _NUMBERED.match(part) for part in chunk[1:]
                ):
                    break
                joined = collapse(" ".join(chunk))
                for kind, pattern in (
                    ("judgement", _JUDGEMENT_HEADING),
                    ("graded", _GRADED_SENTENCE),
                    ("lscb", _LSCB_JUDGEMENT),
                ):
                    match = pattern.match(joined)
                    if match:
                        area = collapse(match["area"])
                        if kind == "graded":
                            area = area[:1].upper() + area[1:]
                        return _Heading(kind, joined, area, span)
        lower = line.lower().replace("’", "'")
        if _STOP_HEADINGS.match(line):
            return _Heading("stop", line, None, 1)
        if _IMPROVE_HEADING.match(line):
            return _Heading("improve", line, line, 1)
        if _PRIORITY_TABLE_HEADER.match(line):
            return _Heading("priority", line, None, 1, table=True)
        if _PRIORITY_HEADING.match(line):
            return _Heading("priority", line, line, 1)
        if _AFI_HEADING.match(line):
            return _Heading("afi", line, line, 1)
        if _RECS_HEADING.match(line):
            return _Heading("recs", line, line, 1)
        if lower in _SUB_HEADINGS:
            return _Heading("sub", line, None, 1)
        if lower.rstrip(" :") in _OTHER_HEADINGS or _INSPECTION_FINDINGS_TITLED.match(line):
            return _Heading("other", line, line, 1)
        return None

    # ---------------------------------------------------------------- body

    def _body(self) -> None:
        section = ""
        mode: str | None = None
        table = False
        para: _OpenParagraph | None = None
        item: list[str] | None = None
        plain: list[str] = []
        expected = 1
        previous = ""
        # The list section open now: its heading and how many items there were when it opened.
        opened: tuple[str, str, int] | None = None

        def items_so_far() -> int:
            return len(self.improvement_areas) + len(self.priority_actions) + self.none_found

        def check_empty(next_kind: str | None) -> None:
            if opened is None or next_kind in ("improve", "priority", "afi", "recs"):
                # A repeated heading (the table header under the section heading), or a
                # heading whose items sit under subheadings ("Priority and immediate action").
                return
            if opened[0] == "priority" and self.table_priority:
                return
            if items_so_far() - opened[2] > MAX_LIKELY_ITEMS:
                self.warn(
                    f"{items_so_far() - opened[2]} items were read under “{opened[1]}”, more "
                    "than reports usually have: check that no finding was taken for an item."
                )
            if items_so_far() == opened[2]:
                self.warn(
                    f"The section “{opened[1]}” has no items: check the report, the items "
                    "may be printed as an image or in an unusual layout."
                )

        def close_item() -> None:
            nonlocal item
            if item:
                self._add_list_item(mode, _join_wrapped(item))
            item = None

        def close_plain() -> None:
            nonlocal plain
            if plain:
                if mode == "priority" and table:
                    self._add_priority_rows(plain)
                elif mode == "afi" and self.kind == "send_area":
                    self._add_list_item(mode, _join_wrapped(plain))
                else:
                    for chunk in _split_plain_block(plain):
                        self._add_list_item(mode, _join_wrapped(chunk))
            plain = []

        def close_paragraph() -> None:
            nonlocal para
            if para:
                text = _join_wrapped(para.lines)
                self.paragraphs.append(Paragraph(para.number, para.section, text))
                if para.list_mode:
                    self._add_list_item(para.list_mode, text)
            para = None

        i = 0
        while i < len(self.lines):
            if i in self.consumed:
                i += 1
                continue
            line = self.lines[i]
            if not line:
                previous = ""
                i += 1
                continue
            heading = self._heading_at(i)
            if heading:
                close_paragraph()
                close_item()
                close_plain()
                if heading.kind == "stop":
                    break
                check_empty(heading.kind)
                # The 2013 looked after children reports list their actions by timescale,
                # read by _lac_2013; their numbered paragraphs are all findings.
                if heading.kind in ("improve", "priority", "afi", "recs") and (
                    self.kind != "lac_2013"
                ):
                    if opened is None or opened[0] != heading.kind:
                        opened = (heading.kind, heading.text, items_so_far())
                    table = heading.table
                    mode = heading.kind
                else:
                    opened = None
                    # "Inspection findings" after the safeguarding board's recommendations
                    # starts its findings: they are paragraphs, not improvement areas.
                    mode = None
                    table = False
                if heading.section is not None:
                    section = heading.section
                previous = line
                i += heading.consumed
                continue

            if mode == "priority" and table and self.table_priority is not None:
                # The table was read cell by cell from the text positions.
                previous = line
                i += 1
                continue

            numbered = _NUMBERED.match(line)
            if numbered and self._accept_number(
                int(numbered["num"]), expected, para is not None, previous
            ):
                close_paragraph()
                close_item()
                close_plain()
                number = int(numbered["num"])
                first = numbered["text"] or numbered["glued"]
                if (
                    mode in ("afi", "recs")
                    and self.kind.startswith("sif")
                    and opened is not None
                    and items_so_far() == opened[2]
                    and not _is_recommendation(first)
                ):
                    # A finding straight after the heading (Redbridge 2016 prints the LSCB's
                    # recommendations as an image): the list has ended.
                    check_empty(None)
                    mode = None
                    opened = None
                list_mode = mode if mode in ("improve", "priority", "afi", "recs") else None
                first = numbered["text"] or numbered["glued"]
                para = _OpenParagraph(number, section, [first], list_mode)
                expected = number + 1
                previous = line
                i += 1
                continue

            bullet = _BULLET.match(line)
            sub = _SUB_BULLET.match(line)
            in_list = mode in ("improve", "priority", "afi", "recs") and para is None
            if in_list and mode == "priority" and table and item is None:
                # Pasted text of the area SEND table: bullets belong inside a cell's action.
                plain.append(f"• {bullet['text']}" if bullet else line)
                previous = line
                i += 1
                continue
            if in_list and mode == "afi" and self.kind == "send_area" and item is None:
                # Area SEND areas for improvement are paragraphs in a one-column table, with
                # bullets inside an item; an item ends with a sentence at the end of a line.
                if bullet:
                    plain.append(f"• {bullet['text']}")
                else:
                    if plain and previous.endswith(".") and line[:1].isupper():
                        self._add_list_item(mode, _join_wrapped(plain))
                        plain = []
                    plain.append(line)
                previous = line
                i += 1
                continue
            if in_list and bullet:
                close_item()
                close_plain()
                item = [bullet["text"]] if bullet["text"] else []
            elif in_list and sub and item is not None:
                mark = "-" if sub["mark"] == "\uf02d" else sub["mark"]
                item.append(f"{mark} {sub['text']}")
            elif item is not None:
                item.append(line)
            elif para is not None:
                para.lines.append(line)
            elif in_list and mode in ("afi", "priority", "improve"):
                plain.append(line)
            previous = line
            i += 1

        close_paragraph()
        close_item()
        close_plain()
        check_empty(None)

    def _accept_number(self, number: int, expected: int, in_para: bool, previous: str) -> bool:
        if number == expected:
            return True
        after_break = not previous or bool(_TERMINAL.search(previous))
        if not in_para:
            # Straight after a heading a number can only start a paragraph.
            self._numbering_warning(number, expected)
            return True
        if expected < number <= expected + 3 and after_break:
            self._numbering_warning(number, expected)
            return True
        return False

    def _numbering_warning(self, number: int, expected: int) -> None:
        if number > expected:
            missing = str(expected) if number == expected + 1 else f"{expected}–{number - 1}"
            self.warn(
                f"Paragraph numbering jumps from {expected - 1} to {number}: "
                f"paragraph {missing} may be missing."
            )
        elif number < expected:
            self.warn(f"Paragraph numbering restarts at {number} after {expected - 1}.")

    def _add_list_item(self, mode: str | None, text: str) -> None:
        if not text:
            return
        if mode == "priority":
            # SIF 2014: "The inspection did not find any areas for priority and immediate action."
            if re.search(r"did not find any areas for priority|no areas for priority", text):
                self.none_found += 1  # the section is not empty: it says there are none
            else:
                self.priority_actions.append(PriorityAction(text=text))
        elif mode in ("improve", "afi", "recs"):
            body, tag = _strip_framework_tag(text)
            self.improvement_areas.append(ImprovementArea(text=body, framework_tag=tag))

    @staticmethod
    def _body_lines(lines: list[str], start: int) -> int:
        """Where a responsible body cell starting at ``start`` ends (0 if none starts there).

        The cell's lines come before the action's: a body wrapped over a few short lines
        that ends with an organisation's last word (Council, ICB, Trust...).
        """
        if _BULLET.match(lines[start]) or not lines[start][:1].isupper():
            return 0
        for end in range(start, min(len(lines), start + 7)):
            text = collapse(" ".join(lines[start : end + 1]))
            if len(lines[end]) > 40:
                return 0  # an action's line, not a narrow cell's
            following = lines[end + 1] if end + 1 < len(lines) else ""
            if re.search(rf"\b{_BODY_END}$", text) and not re.match(r"(?:and|&|,)\s", following):
                return end + 1
        return 0

    def _add_priority_rows(self, lines: list[str]) -> None:
        """Rows of the area SEND "Responsible body | Areas for priority action" table.

        Once the table borders are gone, a row reads as the body's name (which may wrap over
        lines beginning "and ...") followed by the action text.
        """
        rows: list[tuple[list[str], list[str]]] = []
        index = 0
        while index < len(lines):
            line = lines[index]
            current = rows[-1][1] if rows else None
            # A new row can only begin once the previous action's sentence is complete.
            row_may_start = not current or bool(re.search(r"[.?!]$", current[-1]))
            body_end = self._body_lines(lines, index) if row_may_start else 0
            if body_end:
                rows.append((lines[index:body_end], []))
                index = body_end
                continue
            # A body printed on one line, possibly followed by its action on the same line.
            match = _ONE_LINE_BODY.match(line) if row_may_start else None
            if match:
                rows.append(([match["body"]], [match["rest"]] if match["rest"] else []))
                index += 1
                continue
            if rows:
                rows[-1][1].append(line)
            else:
                rows.append(([], [line]))
            index += 1
        if any(not body for body, _ in rows):
            self.warn("The responsible body of some areas for priority action was not found.")
        for body, text in rows:
            content = _join_wrapped(text)
            if content:
                printed = _join_wrapped(body)
                self.priority_actions.append(
                    PriorityAction(
                        text=content,
                        responsible_body=printed or None,
                        responsible_bodies=split_bodies(printed),
                    )
                )
