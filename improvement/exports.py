"""The action list as a spreadsheet: CSV or XLSX, streamed, with the columns a council's plan uses.

The rows are whatever the action list shows for the same query string (its FilterSet, over the
user's scope): their ids in order first, then the rows as plain values in chunks of ids, with a
fixed number of queries per chunk, so 100,000 actions export in bounded memory. The plan-import
reads these same columns back (services/plan_import.py).
"""

from __future__ import annotations

import csv
import datetime as dt
import tempfile
from array import array
from collections import defaultdict
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from decimal import Decimal

from django.db import connection
from django.db.models import F, Lookup, OuterRef, Q, QuerySet, Subquery
from django.utils import timezone

from improvement.models import (
    Action,
    ImprovementArea,
    Measure,
    MeasureValue,
    ProgressNote,
    User,
)

CHUNK_SIZE = 2000
CSV_BLOCK_SIZE = 64 * 1024
# The most actions an Excel download writes. openpyxl writes about 50,000 cells a second: the
# largest authority's 100,000 actions (1.4 million cells) took 31 s of CPU, past a web worker's
# timeout (gunicorn's default is 30 s), and a workbook cannot be sent before it is finished. CSV
# streams each row as it is read, so it has no such limit and opens in Excel too.
XLSX_MAX_ROWS = 20_000
# Ids read per round trip: 8 bytes each, so large batches cost little.
ID_FETCH_SIZE = 20_000

# (heading, kind): the kind says how XLSX writes the cell.
COLUMNS: list[tuple[str, str]] = [
    ("Authority", "text"),
    ("Reference", "text"),
    ("Improvement area", "text"),
    ("Action", "text"),
    ("Owner", "text"),
    ("Owner email", "text"),
    ("Team or partner", "text"),
    ("Start date", "date"),
    ("Original due date", "date"),
    ("Current due date", "date"),
    ("Delivery status", "text"),
    ("Impact", "text"),
    ("RAG", "text"),
    ("Latest note", "text"),
    ("Latest note date", "date"),
    ("Success measure", "text"),
    ("Latest measure value", "text"),
]
HEADINGS = [heading for heading, _ in COLUMNS]

# A spreadsheet runs a cell starting with these as a formula (CSV injection): such cells get a
# leading apostrophe, which spreadsheets show as text and do not display.
FORMULA_TRIGGERS = ("=", "+", "-", "@", "\t", "\r")

_STATUS = dict(Action.DeliveryStatus.choices)
_IMPACT = dict(Action.ImpactStatus.choices)
_RAG = dict(Action.Rag.choices)


def neutralise(value: str) -> str:
    """Text a spreadsheet will show, never run."""
    if value and value.startswith(FORMULA_TRIGGERS):
        return "'" + value
    return value


def area_label(position: int, text: str) -> str:
    """How an improvement area is written in a cell: its number, then its words."""
    return f"{position}. {text}"


def _rows_query(queryset: QuerySet[Action]) -> QuerySet:
    latest_note = ProgressNote.objects.filter(action=OuterRef("pk")).order_by("-created_at", "-pk")
    return queryset.annotate(
        latest_note_text=Subquery(latest_note.values("text")[:1]),
        latest_note_at=Subquery(latest_note.values("created_at")[:1]),
    ).values_list(
        "pk",
        "authority__name",
        "reference",
        "title",
        "owner_id",
        "team__name",
        "start_date",
        "original_due_date",
        "due_date",
        "delivery_status",
        "impact_status",
        "rag",
        "latest_note_text",
        "latest_note_at",
        "success_measure",
    )


class _AnyOf(Lookup):
    """column = ANY(array) on PostgreSQL: one parameter for a chunk of ids, written as an array
    literal in one join (psycopg's list adapter, like IN's thousands of parameters, costs more
    client time than the query)."""

    lookup_name = "any_of"
    prepare_rhs = False

    def get_db_prep_lookup(self, value, connection):
        return ("%s::bigint[]", ["{" + ",".join(str(int(pk)) for pk in value) + "}"])

    def as_sql(self, compiler, connection):
        lhs, lhs_params = self.process_lhs(compiler, connection)
        rhs, rhs_params = self.process_rhs(compiler, connection)
        return f"{lhs} = ANY({rhs})", [*lhs_params, *rhs_params]


def _among(field: str, ids: list[int]) -> Lookup | Q:
    """`field` is one of the ids: one array on PostgreSQL, IN elsewhere."""
    if connection.vendor == "postgresql":
        return _AnyOf(F(field), ids)
    return Q(**{f"{field}__in": ids})


def _by_ids(ids: list[int]) -> QuerySet[Action]:
    return Action.objects.filter(_among("pk", ids)).order_by()


def _ordered_ids(queryset: QuerySet[Action]) -> array:
    """The ids of the export in its order: one narrow query an index serves, 8 bytes an action.

    Read through a server-side cursor on PostgreSQL, so 1,000,000 ids never sit in the driver.
    """
    ids = array("q")
    ids.extend(queryset.values_list("pk", flat=True).iterator(chunk_size=ID_FETCH_SIZE))
    return ids


def _owners_of(owner_ids: set[int]) -> dict[int, tuple[str, str]]:
    """One query: each owner's name and email, by primary key.

    Apart from the rows, because joined PostgreSQL hashes the whole user table for every chunk.
    """
    owners = User.objects.filter(_among("pk", list(owner_ids))).order_by()
    return {
        pk: (f"{first} {last}".strip() or username, email)
        for pk, first, last, username, email in owners.values_list(
            "pk", "first_name", "last_name", "username", "email"
        )
    }


def _areas_of(action_ids: list[int]) -> dict[int, list[str]]:
    """One query: each action's improvement areas, by number.

    Each area is read by its primary key (subqueries, not a join): joined, PostgreSQL hashes the
    whole area table for every chunk.
    """
    area = ImprovementArea.objects.filter(pk=OuterRef("improvementarea_id")).order_by()
    links = (
        Action.improvement_areas.through.objects.filter(_among("action_id", action_ids))
        .annotate(
            area_inspection=Subquery(area.values("inspection_id")),
            area_position=Subquery(area.values("position")),
            area_text=Subquery(area.values("text")),
        )
        .order_by("area_inspection", "area_position")
        .values_list("action_id", "area_position", "area_text")
    )
    found: dict[int, list[str]] = defaultdict(list)
    for action_id, position, text in links:
        found[action_id].append(area_label(position, text))
    return found


def _measures_of(action_ids: list[int]) -> dict[int, list[str]]:
    """One query: each action's measures with their latest value."""
    latest = MeasureValue.objects.filter(measure=OuterRef("measure_id")).order_by(
        "-recorded_on", "-pk"
    )
    links = (
        Measure.actions.through.objects.filter(_among("action_id", action_ids))
        .annotate(
            latest_value=Subquery(latest.values("value")[:1]),
            latest_on=Subquery(latest.values("recorded_on")[:1]),
        )
        .order_by("measure__name")
        .values_list("action_id", "measure__name", "latest_value", "latest_on")
    )
    found: dict[int, list[str]] = defaultdict(list)
    for action_id, name, value, on in links:
        if value is None:
            found[action_id].append(f"{name}: no value yet")
        else:
            # Normalised, so that PostgreSQL's 61.50 and SQLite's 61.5 read the same.
            number = format(Decimal(value).normalize(), "f")
            on = dt.date.fromisoformat(on) if isinstance(on, str) else on
            found[action_id].append(f"{name}: {number} ({on:%d/%m/%Y})")
    return found


def export_rows(queryset: QuerySet[Action], *, chunk_size: int | None = None) -> Iterator[list]:
    """Each action as a list of cells in COLUMNS order (text neutralised, dates as dates).

    One query for the ordered ids, then three per chunk of ids (the rows, their areas, their
    measures), each reading its chunk by primary key. No cursor stays open while the response
    streams: on PostgreSQL an open cursor outside a transaction is a WITH HOLD cursor, which
    computes the whole export (every row's latest note) before the first byte goes out.
    """
    chunk_size = chunk_size or CHUNK_SIZE
    ids = _ordered_ids(queryset)
    for start in range(0, len(ids), chunk_size):
        chunk = ids[start : start + chunk_size].tolist()
        # By primary key alone: the ids already passed the scope and the filters, and repeating
        # them makes PostgreSQL intersect the chunk with the whole authority's index.
        found = {row[0]: row for row in _rows_query(_by_ids(chunk))}
        owners = _owners_of({row[4] for row in found.values()})
        areas, measures = _areas_of(chunk), _measures_of(chunk)
        for pk in chunk:
            row = found.get(pk)
            if row is None:
                continue
            (
                _,
                authority,
                reference,
                title,
                owner_id,
                team,
                start_date,
                original_due,
                due,
                status,
                impact,
                rag,
                note,
                note_at,
                success,
            ) = row
            owner, email = owners[owner_id]
            # The day in the council's time zone: a note at 00:30 BST belongs to that day.
            note_date = (
                timezone.localtime(note_at).date() if isinstance(note_at, dt.datetime) else note_at
            )
            yield [
                neutralise(authority),
                neutralise(reference),
                neutralise("\n".join(areas.get(pk, []))),
                neutralise(title),
                neutralise(owner),
                neutralise(email),
                neutralise(team or ""),
                start_date,
                original_due,
                due,
                _STATUS.get(status, status),
                _IMPACT.get(impact, impact),
                _RAG.get(rag, rag),
                neutralise(note or ""),
                note_date,
                neutralise(success),
                neutralise("; ".join(measures.get(pk, []))),
            ]


class _Echo:
    """A file-like object whose write returns what it was given, for csv.writer to stream."""

    def write(self, value: str) -> str:
        return value


def _csv_cell(value) -> str:
    if value is None:
        return ""
    if isinstance(value, dt.date):
        return value.isoformat()
    return str(value)


def csv_stream(rows: Iterable[list], *, block_size: int = CSV_BLOCK_SIZE) -> Iterator[bytes]:
    """CSV in UTF-8 with a byte-order mark, so that Excel reads the accents right.

    Rows go out in blocks of about block_size characters: a block a row would cost the server a
    write (and a chunk header) for each of 100,000 rows.
    """
    writer = csv.writer(_Echo())
    yield "\ufeff".encode()
    yield writer.writerow(HEADINGS).encode()
    block: list[str] = []
    held = 0
    for row in rows:
        line = writer.writerow([_csv_cell(value) for value in row])
        block.append(line)
        held += len(line)
        if held >= block_size:
            yield "".join(block).encode()
            block, held = [], 0
    if block:
        yield "".join(block).encode()


@dataclass
class XlsxFile:
    """A finished XLSX on disk, read back in blocks: the workbook never sits whole in memory."""

    file: tempfile.SpooledTemporaryFile
    block_size: int = 64 * 1024

    def __iter__(self) -> Iterator[bytes]:
        try:
            self.file.seek(0)
            while block := self.file.read(self.block_size):
                yield block
        finally:
            self.file.close()


def too_many_for_xlsx(queryset: QuerySet[Action]) -> bool:
    """More actions than an Excel download writes in a request (counted one past, no further)."""
    return queryset.order_by().values("pk")[: XLSX_MAX_ROWS + 1].count() > XLSX_MAX_ROWS


def xlsx_file(rows: Iterable[list], *, title: str = "Actions") -> XlsxFile:
    """Write the rows with openpyxl's write-only mode, which spools each row to disk."""
    from openpyxl import Workbook
    from openpyxl.cell import WriteOnlyCell
    from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE
    from openpyxl.styles import Font

    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet(title=title)
    bold = Font(bold=True)
    header = []
    for heading in HEADINGS:
        cell = WriteOnlyCell(sheet, value=heading)
        cell.font = bold
        header.append(cell)
    sheet.append(header)
    kinds = [kind for _, kind in COLUMNS]
    for row in rows:
        cells = []
        for value, kind in zip(row, kinds, strict=True):
            if kind == "date" and value is not None:
                cell = WriteOnlyCell(sheet, value=value)
                cell.number_format = "DD/MM/YYYY"
                cells.append(cell)
            elif isinstance(value, str) and ILLEGAL_CHARACTERS_RE.search(value):
                # Control characters XML cannot hold: dropped, not an error half way through.
                cells.append(ILLEGAL_CHARACTERS_RE.sub("", value))
            elif isinstance(value, str) and value.startswith("'"):
                # openpyxl treats a leading "=" as a formula; the apostrophe already stops
                # that, and data_type "s" makes sure the cell is stored as a plain string.
                cell = WriteOnlyCell(sheet, value=value)
                cell.data_type = "s"
                cells.append(cell)
            else:
                cells.append(value)
        sheet.append(cells)
    # Closed by XlsxFile once the response has streamed it.
    spool = tempfile.SpooledTemporaryFile(max_size=8 * 1024 * 1024)  # noqa: SIM115
    workbook.save(spool)
    return XlsxFile(file=spool)
