"""Writes for inspections and what they found: judgements, paragraphs, improvement areas."""

from __future__ import annotations

import datetime as dt
import hashlib
from collections.abc import Iterable, Sequence

from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import UploadedFile
from django.db import transaction
from django.utils import timezone
from django.utils.formats import date_format

from improvement.models import (
    Authority,
    Finding,
    ImprovementArea,
    Inspection,
    Judgement,
    PlanSubmission,
    Theme,
    User,
)
from improvement.services.records import plan_figures_changed
from improvement.uploads import inspect_upload


@transaction.atomic
def inspection_create(
    *,
    authority: Authority,
    kind: str,
    start_date: dt.date | None = None,
    end_date: dt.date | None = None,
    publication_date: dt.date | None = None,
    lead_inspectors: Sequence[str] = (),
    title: str = "",
    report_url: str = "",
    summary: str = "",
    outcome: str = "",
    source_sha256: str = "",
    by: User | None = None,
    fieldwork_ranges: Sequence[Sequence[str]] = (),
) -> Inspection:
    inspection = Inspection(
        authority=authority,
        kind=kind,
        start_date=start_date,
        end_date=end_date,
        publication_date=publication_date,
        lead_inspectors=list(lead_inspectors),
        title=title,
        report_url=report_url,
        summary=summary,
        outcome=outcome,
        source_sha256=source_sha256,
        fieldwork_ranges=[[str(start), str(end)] for start, end in fieldwork_ranges],
    )
    inspection._history_user = by
    inspection.full_clean()
    inspection.save()
    return inspection


@transaction.atomic
def judgement_add(
    *,
    inspection: Inspection,
    area: str,
    grade: str,
    is_overall: bool = False,
    position: int | None = None,
    by: User | None = None,
) -> Judgement:
    if position is None:
        position = inspection.judgements.count()
    judgement = Judgement(
        inspection=inspection, area=area, grade=grade, is_overall=is_overall, position=position
    )
    judgement._history_user = by
    judgement.full_clean()
    judgement.save()
    return judgement


@transaction.atomic
def finding_add(
    *,
    inspection: Inspection,
    number: int,
    text: str,
    section: str = "",
    themes: Iterable[Theme] = (),
    by: User | None = None,
) -> Finding:
    finding = Finding(inspection=inspection, number=number, section=section, text=text)
    finding._history_user = by
    finding.full_clean()
    finding.save()
    finding.themes.set(themes)
    return finding


@transaction.atomic
def improvement_area_add(
    *,
    inspection: Inspection,
    text: str,
    position: int | None = None,
    framework_tag: str = "",
    is_priority_action: bool = False,
    responsible_body: str = "",
    supporting_findings: Iterable[Finding] = (),
    themes: Iterable[Theme] = (),
    by: User | None = None,
    responsible_bodies: Sequence[str] = (),
) -> ImprovementArea:
    if responsible_bodies and not is_priority_action:
        raise ValidationError(
            {"responsible_bodies": "Only an area for priority action has responsible bodies."}
        )
    if position is None:
        position = inspection.improvement_areas.count() + 1
    findings = list(supporting_findings)
    if any(f.inspection_id != inspection.pk for f in findings):
        raise ValidationError(
            {"supporting_findings": "Supporting findings must come from the same inspection."}
        )
    area = ImprovementArea(
        inspection=inspection,
        position=position,
        text=text,
        framework_tag=framework_tag,
        is_priority_action=is_priority_action,
        responsible_body=responsible_body,
        responsible_bodies=[str(body) for body in responsible_bodies],
    )
    area._history_user = by
    area.full_clean()
    area.save()
    area.supporting_findings.set(findings)
    area.themes.set(themes)
    return area


@transaction.atomic
def inspection_describe(
    *,
    inspection: Inspection,
    by: User | None = None,
    title: str | None = None,
    publication_date: dt.date | None = None,
    report_url: str | None = None,
    summary: str | None = None,
) -> Inspection:
    """Correct what an imported report could not say about itself: title, link, summary."""
    changes = {
        "title": title,
        "publication_date": publication_date,
        "report_url": report_url,
        "summary": summary,
    }
    changes = {field: value for field, value in changes.items() if value is not None}
    for field, value in changes.items():
        setattr(inspection, field, value)
    inspection._history_user = by
    inspection.full_clean()
    inspection.save(update_fields=[*changes, "updated_at"])
    return inspection


@transaction.atomic
def improvement_area_set_findings(
    *, area: ImprovementArea, findings: Iterable[Finding], by: User | None = None
) -> ImprovementArea:
    """Link the report's paragraphs that support an improvement area (same inspection only)."""
    findings = list(findings)
    if any(f.inspection_id != area.inspection_id for f in findings):
        raise ValidationError(
            {"supporting_findings": "Supporting findings must come from the same inspection."}
        )
    area.supporting_findings.set(findings)
    plan_figures_changed(area)
    return area


@transaction.atomic
def plan_submission_record(
    *,
    inspection: Inspection,
    stage: str,
    submitted_on: dt.date,
    by: User,
    url: str = "",
    upload: UploadedFile | None = None,
    note: str = "",
    is_sample: bool = False,
    today: dt.date | None = None,
) -> PlanSubmission:
    """Record that the draft or final plan was sent; a second record of a stage corrects it.

    The clock stops at the final plan. A plan cannot be sent before the inspection began, in the
    future, or (for the final plan) before the draft.
    """
    today = today or timezone.localdate()
    if upload is not None and url:
        raise ValidationError({"url": "Give a link or upload the document, not both."})
    errors = {}
    began = inspection.start_date or inspection.publication_date
    if submitted_on > today:
        errors["submitted_on"] = "The date the plan was sent must be today or in the past."
    elif began and submitted_on < began:
        errors["submitted_on"] = (
            f"The date the plan was sent must be on or after the inspection began "
            f"({date_format(began, 'j F Y')})."
        )
    others = {
        s.stage: s for s in PlanSubmission.objects.select_for_update().filter(inspection=inspection)
    }
    draft, final = others.get(PlanSubmission.Stage.DRAFT), others.get(PlanSubmission.Stage.FINAL)
    if stage == PlanSubmission.Stage.FINAL and draft and submitted_on < draft.submitted_on:
        errors["submitted_on"] = (
            "The final plan cannot be sent before the draft "
            f"({date_format(draft.submitted_on, 'j F Y')})."
        )
    if stage == PlanSubmission.Stage.DRAFT and final and submitted_on > final.submitted_on:
        errors["submitted_on"] = (
            "The draft cannot be sent after the final plan "
            f"({date_format(final.submitted_on, 'j F Y')})."
        )
    if errors:
        raise ValidationError(errors)
    submission = others.get(stage) or PlanSubmission(inspection=inspection, stage=stage)
    old_file = submission.file.name if submission.file else ""
    submission.submitted_on = submitted_on
    submission.submitted_by = by
    submission.note = note
    submission.is_sample = is_sample
    submission.url = url
    if upload is not None:
        checked = inspect_upload(upload)
        digest = hashlib.sha256()
        for chunk in upload.chunks():
            digest.update(chunk)
        upload.seek(0)
        submission.sha256 = digest.hexdigest()
        submission.size = checked.size
        submission.content_type = checked.content_type
        submission.file.save(checked.safe_name, upload, save=False)
    elif url:
        # A link replaces an earlier file; the stored file stays for the history.
        submission.file = ""
        submission.sha256 = ""
        submission.size = None
        submission.content_type = ""
    submission._history_user = by
    try:
        submission.full_clean()
        submission.save()
    except Exception:
        if upload is not None and submission.file and submission.file.name != old_file:
            submission.file.delete(save=False)
        raise
    return submission
