"""Import an existing action plan from a spreadsheet (CSV or XLSX, the export's columns).

Two steps. `plan_import_preview` reads the file, checks every row (improvement area by number or
text, owner by email, team by name, dates) and stores a PlanImport with each row and its errors;
nothing else is written. `plan_import_confirm` creates every new action through the services in
one transaction, or nothing if any row has an error. A row whose action is already in the plan
(same reference, or same title when there is none, answering the same area) is skipped, and the
same file imported twice into one plan is refused, so importing again creates nothing new.
Formula cells are read as the text of the formula, never evaluated.
"""

from __future__ import annotations

import csv
import datetime as dt
import hashlib
import io
import re

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models.functions import Lower

from improvement import exports, scope
from improvement.models import Action, ImprovementArea, Inspection, PlanImport, Team, User
from improvement.services.actions import action_create, action_record_progress

MAX_ROWS = 5000
REQUIRED = ("Improvement area", "Action", "Owner email", "Current due date", "Success measure")
_STATUS_BY_LABEL = {label.lower(): value for value, label in Action.DeliveryStatus.choices}
_RAG_BY_LABEL = {label.lower(): value for value, label in Action.Rag.choices}
_RAG_BY_LABEL.update({value: value for value in Action.Rag.values})
_IMPACT_OPEN = {"", Action.ImpactStatus.NOT_ASSESSED.label.lower(), "not_assessed"}
_AREA_NUMBER = re.compile(r"^\s*(\d{1,4})\s*[.):]?\s*(.*)$", re.DOTALL)


class PlanFileError(ValueError):
    """The file cannot be read as a plan at all (not a row-level error)."""


def _text(value) -> str:
    """A cell as text: formulas stay as their text; our own export's apostrophe is removed."""
    if value is None:
        return ""
    if isinstance(value, dt.datetime):
        return value.date().isoformat()
    if isinstance(value, dt.date):
        return value.isoformat()
    text = str(value).strip()
    if text.startswith("'") and text[1:2] and text[1:].startswith(exports.FORMULA_TRIGGERS):
        text = text[1:]
    return text


def _read_csv(data: bytes) -> list[list]:
    for encoding in ("utf-8-sig", "cp1252"):
        try:
            text = data.decode(encoding)
            break
        except UnicodeDecodeError:
            continue
    else:
        raise PlanFileError("The file is not a readable CSV file.")
    try:
        return list(csv.reader(io.StringIO(text, newline="")))
    except csv.Error as error:
        raise PlanFileError(f"The CSV file could not be read: {error}.") from error


def _read_xlsx(data: bytes) -> list[list]:
    from openpyxl import load_workbook

    try:
        # data_only=False: a formula cell gives its formula text, and nothing is calculated.
        workbook = load_workbook(io.BytesIO(data), read_only=True, data_only=False)
    except Exception as error:  # openpyxl raises many kinds for a broken file
        raise PlanFileError("The file is not a readable XLSX workbook.") from error
    try:
        sheet = workbook.worksheets[0]
        rows = []
        for row in sheet.iter_rows(values_only=True):
            rows.append(list(row))
            if len(rows) > MAX_ROWS + 1:
                break
        return rows
    finally:
        workbook.close()


def read_table(filename: str, data: bytes) -> list[dict[str, str]]:
    """The rows of the file as {heading: text}, judged by content (XLSX is a zip)."""
    rows = _read_xlsx(data) if data[:2] == b"PK" else _read_csv(data)
    rows = [row for row in rows if any(_text(cell) for cell in row)]
    if not rows:
        raise PlanFileError("The file is empty.")
    headings = [_text(cell) for cell in rows[0]]
    missing = [name for name in REQUIRED if name not in headings]
    if missing:
        raise PlanFileError(
            "The first row must name the columns; missing: " + ", ".join(missing) + "."
        )
    if len(rows) - 1 > MAX_ROWS:
        raise PlanFileError(f"The file has more than {MAX_ROWS:,} rows; split it.")
    table = []
    for row in rows[1:]:
        cells = [_text(cell) for cell in row] + [""] * (len(headings) - len(row))
        table.append({heading: cells[i] for i, heading in enumerate(headings) if heading})
    return table


def _date(text: str) -> dt.date | None:
    for pattern in ("%Y-%m-%d", "%d/%m/%Y", "%d/%m/%y", "%d %B %Y", "%d %b %Y"):
        try:
            # Only the date is kept, so the missing time zone does not matter.
            return dt.datetime.strptime(text, pattern).date()  # noqa: DTZ007
        except ValueError:
            continue
    return None


def _normal(text: str) -> str:
    return " ".join(text.split()).casefold()


class _Context:
    """What rows are checked against, read once per file (a fixed number of queries)."""

    def __init__(self, inspection: Inspection):
        self.inspection = inspection
        self.areas = list(ImprovementArea.objects.filter(inspection=inspection))
        self.by_position = {area.position: area for area in self.areas}
        self.by_text = {_normal(area.text): area for area in self.areas}
        self.teams = {
            _normal(team.name): team
            for team in Team.objects.filter(authority_id=inspection.authority_id)
        }
        self.existing: set[tuple[int, str]] = set()
        links = Action.improvement_areas.through.objects.filter(
            improvementarea__inspection=inspection
        ).values_list("improvementarea_id", "action__reference", "action__title")
        for area_id, reference, title in links:
            self.existing.add((area_id, _key(reference, title)))

    def area(self, text: str) -> ImprovementArea | None:
        match = _AREA_NUMBER.match(text)
        if match:
            return self.by_position.get(int(match.group(1)))
        normal = _normal(text)
        if normal in self.by_text:
            return self.by_text[normal]
        # Long area texts are often cut short in a plan: a unique prefix will do.
        found = [area for key, area in self.by_text.items() if key.startswith(normal)]
        return found[0] if len(normal) >= 20 and len(found) == 1 else None


def _key(reference: str, title: str) -> str:
    """An action's natural key within an area: its reference, or its title when it has none."""
    return f"ref:{_normal(reference)}" if reference.strip() else f"title:{_normal(title)}"


def _owners(emails: set[str]) -> dict[str, list[User]]:
    found: dict[str, list[User]] = {}
    users = User.objects.annotate(email_lower=Lower("email")).filter(
        email_lower__in=emails, is_active=True
    )
    for user in users.select_related("authority"):
        found.setdefault(user.email_lower, []).append(user)
    return found


def check_rows(inspection: Inspection, table: list[dict[str, str]]) -> list[dict]:
    """Each row with what it would create and its errors (plain data, stored for the preview)."""
    context = _Context(inspection)
    owners = _owners({row.get("Owner email", "").strip().lower() for row in table} - {""})
    seen: set[tuple[int, str]] = set()
    checked = []
    for number, row in enumerate(table, start=2):
        errors: list[str] = []
        title = row.get("Action", "").strip()
        reference = row.get("Reference", "").strip()
        if not title:
            errors.append("Enter the action.")
        elif len(title) > 250:
            errors.append("The action must be 250 characters or fewer.")
        if len(reference) > 20:
            errors.append("The reference must be 20 characters or fewer.")
        area_ids = []
        for line in [line for line in row.get("Improvement area", "").splitlines() if line.strip()]:
            area = context.area(line)
            if area is None:
                errors.append(f"No improvement area of this inspection matches “{line[:60]}”.")
            else:
                area_ids.append(area.pk)
        if not area_ids and not any(e.startswith("No improvement area") for e in errors):
            errors.append("Enter the improvement area, by its number or its words.")
        email = row.get("Owner email", "").strip().lower()
        owner_id = None
        if not email:
            errors.append("Enter the owner's email address.")
        else:
            matches = [
                u for u in owners.get(email, []) if scope.can_reach(u, inspection.authority_id)
            ]
            if not matches:
                errors.append(f"Nobody who works on this plan has the email {email}.")
            elif len(matches) > 1:
                errors.append(f"More than one person has the email {email}.")
            else:
                owner_id = matches[0].pk
        team_name = row.get("Team or partner", "").strip()
        team_id = None
        if team_name:
            team = context.teams.get(_normal(team_name))
            if team is None:
                errors.append(f"There is no team or partner called “{team_name}”.")
            else:
                team_id = team.pk
        start_text = row.get("Start date", "").strip()
        due_text = row.get("Current due date", "").strip()
        due = _date(due_text)
        start = _date(start_text) if start_text else due
        if due is None:
            errors.append("Enter the current due date as a date, like 31/03/2027.")
        if start_text and start is None:
            errors.append("Enter the start date as a date, like 01/01/2027.")
        if start and due and due < start:
            errors.append("The due date must be on or after the start date.")
        success = row.get("Success measure", "").strip()
        if not success:
            errors.append("Enter the success measure.")
        status_text = row.get("Delivery status", "").strip().lower()
        status = _STATUS_BY_LABEL.get(status_text or "not started")
        if status is None:
            errors.append(f"Delivery status “{row.get('Delivery status')}” is not one we know.")
        rag_text = row.get("RAG", "").strip().lower()
        rag = _RAG_BY_LABEL.get(rag_text or "green")
        if rag is None:
            errors.append(f"RAG “{row.get('RAG')}” is not red, amber or green.")
        impact = row.get("Impact", "").strip().lower()
        exists = bool(area_ids) and all(
            (area_id, _key(reference, title)) in context.existing for area_id in area_ids
        )
        if not exists:
            if impact not in _IMPACT_OPEN or rag == Action.Rag.BLUE:
                errors.append("A closed action is not imported: sign-off is recorded here.")
            key = (tuple(sorted(area_ids)), _key(reference, title))
            if area_ids and key in seen:
                errors.append("This action appears twice in the file.")
            seen.add(key)
        checked.append(
            {
                "row": number,
                "reference": reference,
                "title": title,
                "area_ids": area_ids,
                "areas": row.get("Improvement area", ""),
                "owner_id": owner_id,
                "owner_email": email,
                "team_id": team_id,
                "start": start.isoformat() if start else None,
                "due": due.isoformat() if due else None,
                "success_measure": success,
                "status": status,
                "rag": rag,
                "note": row.get("Latest note", "").strip(),
                "exists": exists,
                "errors": errors,
            }
        )
    return checked


def _sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


@transaction.atomic
def plan_import_preview(
    *, inspection: Inspection, filename: str, data: bytes, by: User, now: dt.datetime
) -> PlanImport:
    """Read and check the file; store what was read. Raises PlanFileError for an unreadable file."""
    table = read_table(filename, data)
    return PlanImport.objects.create(
        authority_id=inspection.authority_id,
        inspection=inspection,
        uploaded_by=by,
        uploaded_at=now,
        filename=filename[:255],
        sha256=_sha256(data),
        rows=check_rows(inspection, table),
    )


def already_imported(plan_import: PlanImport) -> PlanImport | None:
    return (
        PlanImport.objects.filter(
            inspection_id=plan_import.inspection_id,
            sha256=plan_import.sha256,
            status=PlanImport.Status.IMPORTED,
        )
        .exclude(pk=plan_import.pk)
        .first()
    )


@transaction.atomic
def plan_import_confirm(*, plan_import: PlanImport, by: User, now: dt.datetime) -> PlanImport:
    """Create every new action of the file, or nothing: rows are checked again first."""
    plan_import = PlanImport.objects.select_for_update().get(pk=plan_import.pk)
    if plan_import.status == PlanImport.Status.IMPORTED:
        raise ValidationError("This file has already been imported.")
    earlier = already_imported(plan_import)
    if earlier is not None:
        raise ValidationError(
            f"This file was already imported into this plan on {earlier.imported_at:%d %B %Y}; "
            "nothing new was created."
        )
    inspection = plan_import.inspection
    team_names = dict(
        Team.objects.filter(authority_id=inspection.authority_id).values_list("pk", "name")
    )
    # Checked again, so that what changed since the preview (a new action, a removed owner)
    # cannot slip in.
    table_rows = [
        {
            "Reference": r["reference"],
            "Action": r["title"],
            "Improvement area": r["areas"],
            "Owner email": r["owner_email"],
            "Team or partner": team_names.get(r["team_id"], ""),
            "Start date": r["start"] or "",
            "Current due date": r["due"] or "",
            "Success measure": r["success_measure"],
            "Delivery status": dict(Action.DeliveryStatus.choices).get(r["status"], ""),
            "RAG": r["rag"] or "",
            "Latest note": r["note"],
        }
        for r in plan_import.rows
    ]
    rows = check_rows(inspection, table_rows)
    errors = [r for r in rows if r["errors"]]
    if errors:
        raise ValidationError(
            f"{len(errors)} row{'s' if len(errors) != 1 else ''} have errors; nothing was imported."
        )
    areas = {a.pk: a for a in ImprovementArea.objects.filter(inspection=inspection)}
    owners = {u.pk: u for u in User.objects.filter(pk__in={r["owner_id"] for r in rows})}
    teams = {t.pk: t for t in Team.objects.filter(authority_id=inspection.authority_id)}
    created = skipped = 0
    for row in rows:
        if row["exists"]:
            skipped += 1
            continue
        action = action_create(
            title=row["title"],
            reference=row["reference"],
            improvement_areas=[areas[pk] for pk in row["area_ids"]],
            owner=owners[row["owner_id"]],
            team=teams.get(row["team_id"]),
            start_date=dt.date.fromisoformat(row["start"]),
            due_date=dt.date.fromisoformat(row["due"]),
            success_measure=row["success_measure"],
            rag=row["rag"],
        )
        if row["status"] != Action.DeliveryStatus.NOT_STARTED or row["note"]:
            action_record_progress(
                action=action,
                by=by,
                expected_version=action.version,
                text=row["note"]
                or f"Status as recorded in the imported plan {plan_import.filename}.",
                delivery_status=row["status"],
                at=now,
            )
        created += 1
    plan_import.rows = rows
    plan_import.status = PlanImport.Status.IMPORTED
    plan_import.imported_at = now
    plan_import.created_count = created
    plan_import.skipped_count = skipped
    try:
        with transaction.atomic():
            plan_import.save()
    except IntegrityError as error:
        raise ValidationError(
            "This file was imported into this plan at the same moment."
        ) from error
    return plan_import
