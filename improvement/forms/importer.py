"""Forms of the Ofsted report import: the upload (file or pasted text) and the preview's check."""

from __future__ import annotations

import datetime as dt
import logging
from typing import Any

from crispy_forms_gds.layout import Field, Size
from django import forms
from django.conf import settings
from django.template.defaultfilters import filesizeformat
from django.utils import timezone

from improvement.forms.workflow import GovukDateField, _helper
from improvement.importer import ParsedReport, ReportError, parse_pdf, parse_report
from improvement.importer.service import bytes_sha256, text_sha256
from improvement.models import Authority, Inspection, Judgement

logger = logging.getLogger(__name__)

# A PDF's header may sit a little way into the file (pdf.py looks as far).
_PDF_MAGIC_WINDOW = 1024
# Pasted text longer than this is not a report (the longest reports are ~150,000 characters).
TEXT_MAX_CHARS = 1_000_000
NOT_READABLE = "The file could not be read as an Ofsted report."


def _as_text(data: bytes) -> str | None:
    """Decode bytes as text if they are text (UTF-8 or Windows-1252), else None."""
    for encoding in ("utf-8-sig", "cp1252"):
        try:
            text = data.decode(encoding)
        except UnicodeDecodeError:
            continue
        controls = sum(1 for ch in text if ord(ch) < 32 and ch not in "\n\r\t\f")
        if "\x00" in text or controls > max(8, len(text) // 100):
            return None
        return text
    return None


class ReportUploadForm(forms.Form):
    """A report as a file (PDF or text, judged by content) or as pasted text: one, not both."""

    file = forms.FileField(
        label="Upload the report",
        required=False,
        error_messages={"empty": "The selected file is empty."},
    )
    text = forms.CharField(
        label="Or paste the text of the report",
        required=False,
        strip=False,
        widget=forms.Textarea(attrs={"rows": 10, "spellcheck": "false"}),
        error_messages={
            "max_length": "The pasted text is too long to be an Ofsted report.",
        },
        max_length=TEXT_MAX_CHARS,
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.max_bytes: int = settings.REPORT_MAX_BYTES
        self.fields["file"].help_text = (
            "The PDF as published by Ofsted, or a text file of the report. "
            f"The file must be smaller than {filesizeformat(self.max_bytes)}."
        )
        self.fields[
            "text"
        ].help_text = (
            "Copy everything from the report, from its title to the end of the last paragraph."
        )
        self.report: ParsedReport | None = None
        self.sha256 = ""
        self.source = ""

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean()
        if self.errors:
            return cleaned
        upload = cleaned.get("file")
        text = cleaned.get("text") or ""
        if upload and text.strip():
            self.add_error("file", "Upload a file or paste the report text, not both.")
        elif upload:
            self._read_file(upload)
        elif text.strip():
            self._parse("text", text=text)
            self.sha256, self.source = text_sha256(text), "Pasted text"
        else:
            self.add_error("file", "Upload the report PDF or paste the report text.")
        return cleaned

    def _read_file(self, upload) -> None:
        if upload.size > self.max_bytes:
            self.add_error(
                "file",
                f"The selected file must be smaller than {filesizeformat(self.max_bytes)}.",
            )
            return
        data = upload.read()
        self.source = upload.name or "Uploaded file"
        if b"%PDF-" in data[:_PDF_MAGIC_WINDOW]:
            self._parse("file", data=data)
            self.sha256 = bytes_sha256(data)
            return
        text = _as_text(data)
        if text is None or not text.strip():
            self.add_error("file", "The selected file must be a PDF or a plain text file.")
            return
        self._parse("file", text=text)
        self.sha256 = text_sha256(text)

    def _parse(self, field: str, *, data: bytes | None = None, text: str | None = None) -> None:
        try:
            if data is not None:
                self.report = parse_pdf(data, max_bytes=self.max_bytes)
            else:
                self.report = parse_report(text or "")
        except ReportError as exc:
            self.add_error(field, exc.message)
        except Exception:
            # A parser defect on odd input must still give the person an answer, not a 500.
            logger.exception("Unexpected error parsing an uploaded report")
            self.add_error(field, NOT_READABLE)


def ofsted_kind_choices() -> list[tuple[str, str]]:
    # The empty choice is what a report of a kind the parser does not recognise starts with,
    # so that it cannot be imported until someone chooses its kind.
    return [("", "Choose the kind of inspection")] + [
        (value, label)
        for value, label in Inspection.Kind.choices
        if value in Inspection.OFSTED_KINDS
    ]


class ReportConfirmForm(forms.Form):
    """The two things a person may correct before import: the authority and the kind."""

    authority = forms.ModelChoiceField(
        label="Authority",
        queryset=Authority.objects.only("pk", "name").order_by("name"),
        empty_label="Choose the authority",
        error_messages={
            "required": "Choose the authority the report is about.",
            "invalid_choice": "Choose an authority from the list.",
        },
        help_text="Matched from the name in the report. Change it if it is wrong.",
    )
    kind = forms.ChoiceField(
        label="Kind of inspection",
        choices=ofsted_kind_choices,
        error_messages={
            "required": "Choose the kind of inspection.",
            "invalid_choice": "Choose a kind of inspection from the list.",
        },
        help_text="Reports do not say whether an ILACS inspection was standard or short: "
        "it is read from the length of the fieldwork.",
    )


# Corrections on the preview: everything the parser read can be corrected before import.


def _grade_choices(empty: str) -> list[tuple[str, str]]:
    # Ofsted's printed wording is the value: the import maps it to a grade (service.grade_value).
    return [("", empty)] + [(label, label) for _, label in Judgement.Grade.choices]


def _printed_grade(wording: str | None) -> str:
    """The model's wording for a grade as the parser printed it ("" if it is not one)."""
    printed = " ".join((wording or "").split()).lower()
    return next((label for _, label in Judgement.Grade.choices if label.lower() == printed), "")


class ReportDetailsForm(forms.Form):
    """Dates, lead inspectors and the overall judgement, as read, for correction."""

    start_date = GovukDateField(
        name="The fieldwork start date", label="Fieldwork started", required=False
    )
    end_date = GovukDateField(
        name="The fieldwork end date", label="Fieldwork ended", required=False
    )
    publication_date = GovukDateField(
        name="The publication date",
        label="Report published",
        required=False,
        help_text="The action-plan clock counts from this date. Reports often do not print it: "
        "take it from the report's page on the Ofsted website. For example, 3 12 2021",
    )
    lead_inspectors = forms.CharField(
        label="Lead inspectors",
        help_text="One name per line, without “His Majesty's Inspector”.",
        widget=forms.Textarea(attrs={"rows": 2, "spellcheck": "false"}),
        required=False,
        max_length=2_000,
    )
    overall = forms.ChoiceField(
        label="Overall effectiveness",
        choices=_grade_choices("No overall effectiveness judgement"),
        required=False,
        help_text="Ofsted gives none after April 2026, nor for visits and area SEND inspections.",
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.helper = _helper(
            Field("start_date", context={"legend_size": Size.for_legend(Size.SMALL)}),
            Field("end_date", context={"legend_size": Size.for_legend(Size.SMALL)}),
            Field("publication_date", context={"legend_size": Size.for_legend(Size.SMALL)}),
            Field.textarea("lead_inspectors", label_size=Size.SMALL),
            Field.select("overall", label_size=Size.SMALL),
        )

    @classmethod
    def initial_from(cls, report: dict[str, Any]) -> dict[str, Any]:
        def date_parts(value):
            try:
                day = dt.date.fromisoformat(value) if value else None
            except ValueError:
                day = None
            return [day.day, day.month, day.year] if day else ["", "", ""]

        is_send = report.get("kind") == Inspection.Kind.SEND_AREA
        return {
            "start_date": date_parts(report.get("start_date")),
            "end_date": date_parts(report.get("end_date")),
            "publication_date": date_parts(report.get("publication_date")),
            "lead_inspectors": "\n".join(report.get("lead_inspectors") or []),
            "overall": "" if is_send else _printed_grade(report.get("overall_effectiveness")),
        }

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean()
        start, end = cleaned.get("start_date"), cleaned.get("end_date")
        published = cleaned.get("publication_date")
        if start and end and end < start:
            self.add_error("end_date", "The fieldwork end date must be on or after its start")
        if start and published and published < start:
            self.add_error(
                "publication_date", "The publication date must be on or after the fieldwork start"
            )
        if published and published > timezone.localdate():
            self.add_error("publication_date", "The publication date must be today or in the past")
        if not self.errors and start is None and published is None:
            self.add_error("start_date", "Enter the fieldwork start date or the publication date")
        names = [
            " ".join(line.split()) for line in (cleaned.get("lead_inspectors") or "").split("\n")
        ]
        cleaned["lead_inspectors"] = [name for name in names if name]
        return cleaned


class JudgementCorrectionForm(forms.Form):
    area = forms.CharField(label="Judgement area", required=False, max_length=250)
    grade = forms.ChoiceField(
        label="Grade", choices=_grade_choices("Choose a grade"), required=False
    )

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean()
        area = " ".join((cleaned.get("area") or "").split())
        cleaned["area"] = area
        if cleaned.get("DELETE"):
            return cleaned
        if area and not cleaned.get("grade"):
            self.add_error("grade", "Choose the grade for this judgement")
        if cleaned.get("grade") and not area:
            self.add_error("area", "Enter the judgement area")
        return cleaned

    @property
    def is_kept(self) -> bool:
        data = getattr(self, "cleaned_data", {})
        return bool(data.get("area")) and not data.get("DELETE")


class AreaCorrectionForm(forms.Form):
    text = forms.CharField(
        label="What needs to improve",
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
        max_length=10_000,
    )
    framework_tag = forms.CharField(
        label="National Framework tag (optional)",
        required=False,
        max_length=120,
        help_text="For example, Outcome 4",
    )
    is_priority_action = forms.BooleanField(
        label="This is an area for priority action", required=False
    )
    responsible_body = forms.CharField(
        label="Responsible body (areas for priority action only)", required=False, max_length=200
    )

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean()
        cleaned["text"] = (cleaned.get("text") or "").strip()
        if cleaned.get("DELETE"):
            return cleaned
        if cleaned.get("responsible_body") and not cleaned.get("is_priority_action"):
            self.add_error(
                "responsible_body", "Only an area for priority action has a responsible body"
            )
        if not cleaned["text"] and (
            cleaned.get("framework_tag") or cleaned.get("responsible_body")
        ):
            self.add_error("text", "Enter what needs to improve, or remove this area")
        return cleaned

    @property
    def is_kept(self) -> bool:
        data = getattr(self, "cleaned_data", {})
        return bool(data.get("text")) and not data.get("DELETE")


JudgementFormSet = forms.formset_factory(
    JudgementCorrectionForm, extra=1, can_delete=True, max_num=20, validate_max=True
)
AreaFormSet = forms.formset_factory(
    AreaCorrectionForm, extra=1, can_delete=True, max_num=60, validate_max=True
)


def judgement_initial(report: dict[str, Any]) -> list[dict[str, str]]:
    return [
        {"area": j.get("area") or "", "grade": _printed_grade(j.get("grade"))}
        for j in report.get("judgements") or []
    ]


def area_initial(report: dict[str, Any]) -> list[dict[str, Any]]:
    from improvement.importer.service import framework_tag_value

    rows = [
        {
            "text": item.get("text") or "",
            "is_priority_action": True,
            "responsible_body": item.get("responsible_body") or "",
        }
        for item in report.get("priority_actions") or []
    ]
    rows += [
        {
            "text": item.get("text") or "",
            "framework_tag": framework_tag_value(item.get("framework_tag")),
        }
        for item in report.get("improvement_areas") or []
    ]
    return rows


def corrected_report(
    report: dict[str, Any], details: ReportDetailsForm, judgements, areas
) -> dict[str, Any]:
    """The parsed report with every correction applied, in the shape report_import reads."""
    data = details.cleaned_data
    corrected = dict(report)
    for key in ("start_date", "end_date", "publication_date"):
        corrected[key] = data[key].isoformat() if data.get(key) else None
    corrected["lead_inspectors"] = data["lead_inspectors"]
    if report.get("kind") != Inspection.Kind.SEND_AREA:
        corrected["overall_effectiveness"] = data.get("overall") or None
    corrected["judgements"] = [
        {"area": f.cleaned_data["area"], "grade": f.cleaned_data["grade"]}
        for f in judgements.forms
        if f.is_kept
    ]
    kept = [f.cleaned_data for f in areas.forms if f.is_kept]
    corrected["priority_actions"] = [
        {"text": a["text"], "responsible_body": a.get("responsible_body") or ""}
        for a in kept
        if a.get("is_priority_action")
    ]
    corrected["improvement_areas"] = [
        {"text": a["text"], "framework_tag": a.get("framework_tag") or ""}
        for a in kept
        if not a.get("is_priority_action")
    ]
    return corrected
