"""Ofsted report import for administrators: upload or paste, check the preview, confirm.

The parsed report is kept in the (database-backed) session between the preview and the
confirmation, keyed by the report's SHA-256, so the file is never uploaded twice and what is
imported is exactly what was previewed.
"""

from __future__ import annotations

import datetime as dt
import itertools
from typing import Any

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_http_methods

from improvement import scope
from improvement.forms.importer import (
    AreaFormSet,
    JudgementFormSet,
    ReportConfirmForm,
    ReportDetailsForm,
    ReportUploadForm,
    area_initial,
    corrected_report,
    judgement_initial,
)
from improvement.importer.service import (
    ReportAlreadyImported,
    find_existing,
    framework_tag_value,
    inspection_url,
    match_report_authority,
    report_import,
)
from improvement.importer.themes import THEMES, suggest_themes
from improvement.models import Authority, Inspection

PERM = "improvement.import_report"
SESSION_KEY = "report_imports"
# Reports previewed but not yet confirmed that the session keeps (oldest dropped first).
SESSION_KEEP = 3
_THEME_NAMES = dict(THEMES)


def _require_perm(request: HttpRequest) -> None:
    if not request.user.has_perm(PERM):
        raise PermissionDenied


def _pending(request: HttpRequest) -> dict[str, Any]:
    return dict(request.session.get(SESSION_KEY) or {})


def _keep(request: HttpRequest, sha256: str, payload: dict[str, Any]) -> None:
    pending = _pending(request)
    pending.pop(sha256, None)
    pending[sha256] = payload
    request.session[SESSION_KEY] = dict(list(pending.items())[-SESSION_KEEP:])


def _forget(request: HttpRequest, sha256: str) -> None:
    pending = _pending(request)
    if pending.pop(sha256, None) is not None:
        request.session[SESSION_KEY] = pending


def _already(request: HttpRequest, inspection: Inspection) -> HttpResponse:
    return render(
        request,
        "improvement/import_upload.html",
        {
            "form": ReportUploadForm(),
            "already": inspection,
            "already_url": inspection_url(inspection),
        },
    )


@require_http_methods(["GET", "POST"])
def report_import_upload(request: HttpRequest) -> HttpResponse:
    """Step 1: upload the report PDF or paste its text; a readable report goes to the preview."""
    _require_perm(request)
    form = ReportUploadForm(request.POST or None, request.FILES or None)
    if request.method == "POST" and form.is_valid():
        report = form.report.to_dict()
        authority = match_report_authority(report)
        existing = find_existing(
            source_sha256=form.sha256,
            authority=authority,
            kind=report["kind"],
            start_date=form.report.start_date,
        )
        if existing:
            return _already(request, existing[0])
        _keep(
            request,
            form.sha256,
            {
                "report": report,
                "source": form.source,
                "authority_id": authority.pk if authority else None,
            },
        )
        return redirect("improvement:report-import-preview", sha256=form.sha256)
    return render(request, "improvement/import_upload.html", {"form": form})


@require_http_methods(["GET", "POST"])
def report_import_preview(request: HttpRequest, sha256: str) -> HttpResponse:
    """Step 2: check what was read, correct the authority or kind, and confirm the import."""
    _require_perm(request)
    payload = _pending(request).get(sha256)
    if payload is None:
        messages.info(request, "Upload the report again: the preview has expired.")
        return redirect("improvement:report-import")
    report = payload["report"]
    # An administrator imports only for an authority within their reach, so the inspection
    # appears in the lists they see.
    reachable = scope.authorities_for(request.user).only("pk", "name")
    matched = payload.get("authority_id")
    if matched is not None and not reachable.filter(pk=matched).exists():
        matched = None
    form = ReportConfirmForm(
        request.POST or None,
        initial={"authority": matched, "kind": report["kind"]},
    )
    form.fields["authority"].queryset = reachable
    corrections = _Corrections(request, report)
    if request.method == "POST" and form.is_valid() and corrections.is_valid():
        authority: Authority = form.cleaned_data["authority"]
        try:
            inspection = report_import(
                report=corrections.report(),
                authority=authority,
                source_sha256=sha256,
                imported_by=request.user,
                kind=form.cleaned_data["kind"],
            )
        except ReportAlreadyImported as exc:
            _forget(request, sha256)
            return _already(request, exc.inspection)
        except ValidationError as exc:
            form.add_error(None, exc)
        else:
            _forget(request, sha256)
            messages.success(request, f"{inspection} imported.")
            return redirect(inspection_url(inspection))
    return render(
        request,
        "improvement/import_preview.html",
        {
            "form": form,
            "corrections": corrections,
            "has_errors": bool(form.errors) or corrections.has_errors,
            **_preview_context(report, payload.get("source", "")),
        },
    )


class _Corrections:
    """The preview's correction forms: details, judgements and improvement areas.

    A POST without them (an older client, or a script posting only the authority and kind)
    imports the report as read.
    """

    def __init__(self, request: HttpRequest, report: dict[str, Any]):
        self.source = report
        posted = request.method == "POST" and "judgements-TOTAL_FORMS" in request.POST
        data = request.POST if posted else None
        self.posted = posted
        self.details = ReportDetailsForm(
            data, prefix="details", initial=ReportDetailsForm.initial_from(report)
        )
        self.judgements = JudgementFormSet(
            data, prefix="judgements", initial=judgement_initial(report)
        )
        self.areas = AreaFormSet(data, prefix="areas", initial=area_initial(report))

    def is_valid(self) -> bool:
        if not self.posted:
            return True
        # Evaluate all three so every error is shown at once.
        results = [self.details.is_valid(), self.judgements.is_valid(), self.areas.is_valid()]
        return all(results)

    @property
    def has_errors(self) -> bool:
        return self.posted and bool(
            self.details.errors
            or any(self.judgements.errors)
            or self.judgements.non_form_errors()
            or any(self.areas.errors)
            or self.areas.non_form_errors()
        )

    def report(self) -> dict[str, Any]:
        if not self.posted:
            return self.source
        return corrected_report(self.source, self.details, self.judgements, self.areas)


DATE_KEYS = ("start_date", "end_date", "publication_date")


def _date_or_none(value: str | None) -> dt.date | None:
    try:
        return dt.date.fromisoformat(value) if value else None
    except ValueError:
        return None


def _preview_context(report: dict[str, Any], source: str) -> dict[str, Any]:
    """Everything the preview shows, computed from the parsed report alone (no queries)."""
    sections = []
    for section, paragraphs in itertools.groupby(
        report["paragraphs"], key=lambda p: p.get("section") or ""
    ):
        items = [
            {
                "number": p["number"],
                "text": p["text"],
                "themes": [_THEME_NAMES[s] for s in suggest_themes(p["text"]) if s in _THEME_NAMES],
            }
            for p in paragraphs
        ]
        sections.append({"title": section or "Without a section heading", "paragraphs": items})
    is_send = report["kind"] == Inspection.Kind.SEND_AREA
    dates = {key: _date_or_none(report.get(key)) for key in DATE_KEYS}
    return {
        "report": report,
        "dates": dates,
        "source": source,
        "is_send": is_send,
        "outcome": report["overall_effectiveness"] if is_send else None,
        "overall": None if is_send else report["overall_effectiveness"],
        "judgement_head": ["Judgement area", "Grade (Ofsted's wording)"],
        "judgement_rows": [(j["area"], j["grade"]) for j in report["judgements"]],
        "improvement_areas": [
            {
                "text": a["text"],
                "tag": framework_tag_value(a.get("framework_tag")),
                "printed_tag": a.get("framework_tag") or "",
            }
            for a in report["improvement_areas"]
        ],
        "sections": sections,
        "themes": [_THEME_NAMES[s] for s in report.get("themes") or [] if s in _THEME_NAMES],
        "upload_url": reverse("improvement:report-import"),
    }
