"""Forms of the Ofsted report import: the upload (file or pasted text) and the preview's check."""

from __future__ import annotations

import logging
from typing import Any

from django import forms
from django.conf import settings
from django.template.defaultfilters import filesizeformat

from improvement.importer import ParsedReport, ReportError, parse_pdf, parse_report
from improvement.importer.service import bytes_sha256, text_sha256
from improvement.models import Authority, Inspection

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
