"""Import an Ofsted report (the published PDF, or its text) as a draft inspection.

    python manage.py import_ofsted_report PATH [--authority ONS_CODE] [--dry-run] [--json]

With --json, stdout carries exactly one JSON object (the parsed report plus an "import" key
saying what happened) and every message goes to stderr, so the output can be piped.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError, CommandParser

from improvement.importer import ReportError, parse_pdf, parse_report
from improvement.importer.service import (
    ReportAlreadyImported,
    bytes_sha256,
    find_existing,
    match_report_authority,
    report_import,
    text_sha256,
)
from improvement.models import Authority


class Command(BaseCommand):
    help = "Import an Ofsted children's services report (.pdf or .txt) as an inspection."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("path", help="The report: a .pdf as published, or a .txt of its text.")
        parser.add_argument(
            "--authority",
            metavar="ONS_CODE",
            help="The authority's ONS code (e.g. E08000011); overrides the name in the report.",
        )
        parser.add_argument(
            "--dry-run", action="store_true", help="Parse and check only; write nothing."
        )
        parser.add_argument(
            "--json",
            action="store_true",
            help="Print the parsed report as one JSON object on stdout (messages go to stderr).",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        as_json: bool = options["json"]
        say = self.stderr.write if as_json else self.stdout.write
        path = Path(options["path"])
        report, sha256 = self._parse(path)
        data = report.to_dict()
        for warning in data["warnings"]:
            self.stderr.write(f"Warning: {warning}")

        authority = self._authority(options.get("authority"), data)
        outcome: dict[str, Any] = {
            "authority_ons_code": authority.ons_code,
            "authority_name": authority.name,
            "source_sha256": sha256,
        }
        existing = find_existing(
            source_sha256=sha256,
            authority=authority,
            kind=data["kind"],
            start_date=report.start_date,
        )
        if existing:
            inspection = existing[0]
            outcome.update(status="already_imported", inspection_id=inspection.pk)
            say(f"This report is already in the tracker: {inspection} (id {inspection.pk}).")
        elif options["dry_run"]:
            outcome.update(status="dry_run", inspection_id=None)
            say(f"Dry run: nothing written. {self._summary(data, authority)}")
        else:
            try:
                inspection = report_import(
                    report=report, authority=authority, source_sha256=sha256, imported_by=None
                )
            except ReportAlreadyImported as exc:
                outcome.update(status="already_imported", inspection_id=exc.inspection.pk)
                say(str(exc))
            except ValidationError as exc:
                raise CommandError(
                    "The report could not be imported: " + "; ".join(exc.messages)
                ) from exc
            else:
                outcome.update(status="created", inspection_id=inspection.pk)
                say(f"Imported {inspection} (id {inspection.pk}). {self._summary(data, authority)}")

        if as_json:
            self.stdout.write(json.dumps({**data, "import": outcome}, ensure_ascii=False))

    def _parse(self, path: Path):
        suffix = path.suffix.lower()
        if suffix not in (".pdf", ".txt"):
            raise CommandError(f"{path} is not a .pdf or .txt file.")
        if not path.is_file():
            raise CommandError(f"{path} does not exist or is not a file.")
        max_bytes = settings.REPORT_MAX_BYTES
        if path.stat().st_size > max_bytes:
            raise CommandError(
                f"{path} is too large ({path.stat().st_size:,} bytes; the limit is {max_bytes:,})."
            )
        try:
            if suffix == ".pdf":
                data = path.read_bytes()
                return parse_pdf(data, max_bytes=max_bytes), bytes_sha256(data)
            try:
                text = path.read_text(encoding="utf-8-sig")
            except UnicodeDecodeError as exc:
                raise CommandError(f"{path} is not UTF-8 text.") from exc
            return parse_report(text), text_sha256(text)
        except ReportError as exc:
            raise CommandError(exc.message) from exc

    def _authority(self, ons_code: str | None, data: dict[str, Any]) -> Authority:
        if ons_code:
            authority = Authority.objects.filter(ons_code=ons_code.strip().upper()).first()
            if authority is None:
                raise CommandError(
                    f"No authority has the ONS code {ons_code}. Load them with "
                    "`python manage.py load_reference_data`."
                )
            return authority
        authority = match_report_authority(data)
        if authority is None:
            hint = (
                " No authorities are loaded: run `python manage.py load_reference_data` first."
                if not Authority.objects.exists()
                else ""
            )
            raise CommandError(
                f"The report's authority ({data.get('authority') or 'not found'}) matches no "
                f"authority in the tracker. Pass --authority ONS_CODE (e.g. E08000011).{hint}"
            )
        return authority

    @staticmethod
    def _summary(data: dict[str, Any], authority: Authority) -> str:
        overall = 1 if data["overall_effectiveness"] and data["kind"] != "send_area" else 0
        return (
            f"{authority.name}, {data['kind']}, from {data['start_date']}: "
            f"{len(data['judgements']) + overall} judgement(s), "
            f"{len(data['paragraphs'])} finding(s), "
            f"{len(data['improvement_areas'])} improvement area(s), "
            f"{len(data['priority_actions'])} area(s) for priority action."
        )
