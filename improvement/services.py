"""Every write to the improvement domain goes through these functions.

Views, forms, the admin, the importer and management commands call them; none writes models
directly. Each function validates (full_clean) and runs in one transaction, so bad input leaves
nothing half-written.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import UploadedFile
from django.db import transaction
from django.db.models import F
from django.utils import timezone

from improvement.models import (
    Action,
    Authority,
    DueDateChange,
    Evidence,
    Finding,
    ImprovementArea,
    Inspection,
    Judgement,
    Measure,
    MeasureValue,
    Milestone,
    ProgressNote,
    Team,
    Theme,
    User,
)
from improvement.uploads import inspect_upload


class ConcurrentEditError(Exception):
    """Someone else saved the action since this edit began; nothing was written."""

    def __init__(self, action: Action, expected_version: int):
        self.action = action
        self.expected_version = expected_version
        super().__init__(
            f"{action} was changed by someone else (version {action.version}, "
            f"not {expected_version}) while you were editing it."
        )


# Authorities, teams and themes


@transaction.atomic
def authority_upsert(
    *, ons_code: str, name: str, la_code: str = "", region: str = "", authority_type: str = ""
) -> tuple[Authority, bool]:
    authority = Authority.objects.filter(ons_code=ons_code).first()
    created = authority is None
    authority = authority or Authority(ons_code=ons_code)
    fields = {"name": name, "la_code": la_code, "region": region, "authority_type": authority_type}
    changed = created or any(getattr(authority, k) != v for k, v in fields.items())
    if changed:
        for key, value in fields.items():
            setattr(authority, key, value)
        authority.full_clean()
        authority.save()
    return authority, created


@transaction.atomic
def theme_upsert(*, slug: str, name: str, description: str = "") -> tuple[Theme, bool]:
    theme, created = Theme.objects.get_or_create(
        slug=slug, defaults={"name": name, "description": description}
    )
    if created:
        theme.full_clean()
    return theme, created


@transaction.atomic
def team_create(
    *, authority: Authority, name: str, kind: str = Team.Kind.COUNCIL, lead: User | None = None
) -> Team:
    team = Team(authority=authority, name=name, kind=kind, lead=lead)
    team.full_clean()
    team.save()
    return team


# Inspections and what they found


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
) -> ImprovementArea:
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
    )
    area._history_user = by
    area.full_clean()
    area.save()
    area.supporting_findings.set(findings)
    area.themes.set(themes)
    return area


# Actions


def _require_areas_of_one_authority(areas: Sequence[ImprovementArea]) -> Authority:
    if not areas:
        raise ValidationError({"improvement_areas": "Choose at least one improvement area."})
    authority_ids = {area.inspection.authority_id for area in areas}
    if len(authority_ids) != 1:
        raise ValidationError(
            {"improvement_areas": "An action answers improvement areas of one authority only."}
        )
    return areas[0].inspection.authority


@transaction.atomic
def action_create(
    *,
    title: str,
    improvement_areas: Sequence[ImprovementArea],
    owner: User,
    start_date: dt.date,
    due_date: dt.date,
    success_measure: str,
    description: str = "",
    reference: str = "",
    team: Team | None = None,
    priority: str = Action.Priority.MEDIUM,
    rag: str = Action.Rag.GREEN,
    themes: Iterable[Theme] = (),
    is_sample: bool = False,
    today: dt.date | None = None,
) -> Action:
    areas = list(improvement_areas)
    authority = _require_areas_of_one_authority(areas)
    if team is not None and team.authority_id != authority.pk:
        raise ValidationError({"team": "The team must belong to the same authority."})
    if today is not None and due_date < today:
        raise ValidationError({"due_date": "The due date must be today or in the future."})
    action = Action(
        authority=authority,
        reference=reference,
        title=title,
        description=description,
        owner=owner,
        team=team,
        start_date=start_date,
        original_due_date=due_date,
        due_date=due_date,
        priority=priority,
        rag=rag,
        success_measure=success_measure,
        is_sample=is_sample,
    )
    action.full_clean()
    action.save()
    action.improvement_areas.set(areas)
    action.themes.set(themes)
    return action


def _save_with_version_check(action: Action, *, expected_version: int, fields: list[str]) -> None:
    """Write only if nobody else has written since expected_version; bump the version."""
    updated = Action.objects.filter(pk=action.pk, version=expected_version).update(
        version=F("version") + 1, updated_at=timezone.now()
    )
    if not updated:
        raise ConcurrentEditError(Action.objects.get(pk=action.pk), expected_version)
    action.version = expected_version + 1
    action.full_clean()
    # save() rather than update() so that simple-history records the change.
    action.save(update_fields=[*fields, "version", "updated_at"])


@transaction.atomic
def action_update(*, action: Action, expected_version: int, by: User, **changes: Any) -> Action:
    """Change an action's plain fields (not status: that goes through a progress note)."""
    allowed = {
        "title",
        "description",
        "reference",
        "owner",
        "team",
        "priority",
        "success_measure",
        "start_date",
    }
    unknown = set(changes) - allowed
    if unknown:
        raise ValueError(f"action_update cannot change {', '.join(sorted(unknown))}")
    for key, value in changes.items():
        setattr(action, key, value)
    if action.team is not None and action.team.authority_id != action.authority_id:
        raise ValidationError({"team": "The team must belong to the same authority."})
    action._history_user = by
    _save_with_version_check(action, expected_version=expected_version, fields=list(changes))
    return action


@transaction.atomic
def action_record_progress(
    *,
    action: Action,
    author: User,
    expected_version: int,
    text: str,
    delivery_status: str | None = None,
    rag: str | None = None,
    is_sample: bool = False,
    at: dt.datetime | None = None,
) -> ProgressNote:
    """Add a progress note, changing delivery status and RAG with it if asked."""
    text = (text or "").strip()
    new_status = delivery_status if delivery_status not in (None, action.delivery_status) else None
    new_rag = rag if rag not in (None, action.rag) else None
    if action.is_closed and (new_status or new_rag):
        raise ValidationError("This action is closed; its status can no longer change.")
    if (new_status or new_rag) and not text:
        raise ValidationError(
            {"text": "Say what has changed: a note is needed to change the status or RAG rating."}
        )
    if not text:
        raise ValidationError({"text": "Enter a progress note."})
    if new_rag == Action.Rag.BLUE:
        raise ValidationError({"rag": "Blue is set only when a senior leader closes the action."})
    when = at or timezone.now()
    note = ProgressNote(
        action=action,
        author=author,
        text=text,
        created_at=when,
        delivery_status_before=action.delivery_status if new_status else "",
        delivery_status_after=new_status or "",
        rag_before=action.rag if new_rag else "",
        rag_after=new_rag or "",
        is_sample=is_sample,
    )
    note.full_clean()
    note.save()
    fields = ["last_note_at"]
    action.last_note_at = max(filter(None, [action.last_note_at, when]))
    if new_status:
        action.delivery_status = new_status
        fields.append("delivery_status")
    if new_rag:
        action.rag = new_rag
        fields.append("rag")
    action._history_user = author
    _save_with_version_check(action, expected_version=expected_version, fields=fields)
    return note


@transaction.atomic
def action_quick_update(
    *,
    action: Action,
    by: User,
    expected_version: int,
    text: str = "",
    delivery_status: str | None = None,
    rag: str | None = None,
    milestones_ticked: Iterable[Milestone] = (),
    milestones_unticked: Iterable[Milestone] = (),
    evidence_url: str = "",
    evidence_file: UploadedFile | None = None,
    evidence_title: str = "",
) -> None:
    """The owner's update in one submit: note, status, milestones and evidence, all or nothing.

    Evidence or milestone ticks alone need no note and do not bump the version, but they are
    refused like any other write if someone saved the action since expected_version.
    """
    text = (text or "").strip()
    changes_status = (delivery_status and delivery_status != action.delivery_status) or (
        rag and rag != action.rag
    )
    ticked, unticked = list(milestones_ticked), list(milestones_unticked)
    has_evidence = bool(evidence_url or evidence_file)
    if text or changes_status or not (has_evidence or ticked or unticked):
        # Asks for a note when nothing at all was given.
        action_record_progress(
            action=action,
            author=by,
            expected_version=expected_version,
            text=text,
            delivery_status=delivery_status,
            rag=rag,
        )
    elif not Action.objects.filter(pk=action.pk, version=expected_version).exists():
        raise ConcurrentEditError(Action.objects.get(pk=action.pk), expected_version)
    for milestone in sorted(ticked + unticked, key=lambda m: m.pk):
        milestone_set_complete(milestone=milestone, complete=milestone in ticked, by=by)
    if evidence_url:
        evidence_add_link(action=action, added_by=by, url=evidence_url, title=evidence_title)
    if evidence_file:
        # Last, because the file is stored before its row: nothing after it can fail.
        evidence_add_file(action=action, added_by=by, upload=evidence_file, title=evidence_title)


@transaction.atomic
def action_reassign_owner(*, action: Action, owner: User, by: User, note: str = "") -> Action:
    """Give the action a new owner (also the admin's bulk action); a note records why."""
    if owner.pk == action.owner_id:
        return action
    previous = action.owner
    action_update(action=action, expected_version=action.version, by=by, owner=owner)
    action_record_progress(
        action=action,
        author=by,
        expected_version=action.version,
        text=note or f"Owner changed from {previous} to {owner}.",
    )
    return action


@transaction.atomic
def action_sign_off(
    *, action: Action, by: User, expected_version: int, impact_evidenced: bool, note: str
) -> Action:
    """A senior leader closes a delivered action: impact evidenced, or why not."""
    note = (note or "").strip()
    if action.delivery_status != Action.DeliveryStatus.DELIVERED:
        raise ValidationError("Only a delivered action can be signed off.")
    if action.is_closed:
        raise ValidationError("This action is already closed.")
    if action.owner_id == by.pk:
        raise ValidationError("Someone other than the action's owner must sign it off.")
    if not note:
        raise ValidationError(
            {
                "note": "Record what shows the difference for children, or why "
                "the action is closed without it."
            }
        )
    if impact_evidenced and not action.evidence.exists():
        raise ValidationError("Add evidence of impact before recording it as evidenced.")
    previous_rag = action.rag
    action.impact_status = (
        Action.ImpactStatus.EVIDENCED
        if impact_evidenced
        else Action.ImpactStatus.CLOSED_WITHOUT_IMPACT
    )
    action.rag = Action.Rag.BLUE
    action.signed_off_by = by
    action.signed_off_at = timezone.now()
    action.closure_note = note
    action.last_note_at = action.signed_off_at
    action._history_user = by
    _save_with_version_check(
        action,
        expected_version=expected_version,
        fields=[
            "impact_status",
            "rag",
            "signed_off_by",
            "signed_off_at",
            "closure_note",
            "last_note_at",
        ],
    )
    ProgressNote.objects.create(
        action=action,
        author=by,
        created_at=action.signed_off_at,
        text=f"Closed: {action.get_impact_status_display()}. {note}",
        rag_before=previous_rag,
        rag_after=Action.Rag.BLUE,
    )
    return action


@transaction.atomic
def action_send_back(*, action: Action, by: User, expected_version: int, reason: str) -> Action:
    """A senior leader returns a delivered action to the owner: not yet done."""
    reason = (reason or "").strip()
    if action.delivery_status != Action.DeliveryStatus.DELIVERED or action.is_closed:
        raise ValidationError("Only a delivered action awaiting sign-off can be sent back.")
    if not reason:
        raise ValidationError({"reason": "Say why the action is sent back."})
    action_record_progress(
        action=action,
        author=by,
        expected_version=expected_version,
        text=f"Sent back: {reason}",
        delivery_status=Action.DeliveryStatus.IN_PROGRESS,
    )
    return action


# Milestones


@transaction.atomic
def milestone_add(
    *, action: Action, title: str, due_date: dt.date, completed_on: dt.date | None = None
) -> Milestone:
    milestone = Milestone(
        action=action,
        title=title,
        due_date=due_date,
        completed_on=completed_on,
        position=action.milestones.count(),
    )
    milestone.full_clean()
    milestone.save()
    return milestone


@transaction.atomic
def milestone_set_complete(
    *, milestone: Milestone, complete: bool, by: User, today: dt.date | None = None
) -> Milestone:
    completed_on = (today or timezone.localdate()) if complete else None
    if (milestone.completed_on is None) == (completed_on is None):
        return milestone
    milestone.completed_on = completed_on
    milestone._history_user = by
    milestone.full_clean()
    milestone.save(update_fields=["completed_on", "updated_at"])
    return milestone


# Evidence


@transaction.atomic
def evidence_add_file(
    *,
    action: Action,
    added_by: User,
    upload: UploadedFile,
    title: str = "",
    is_sample: bool = False,
) -> Evidence:
    checked = inspect_upload(upload)
    digest = hashlib.sha256()
    for chunk in upload.chunks():
        digest.update(chunk)
    upload.seek(0)
    evidence = Evidence(
        action=action,
        title=(title or "").strip() or upload.name,
        size=checked.size,
        content_type=checked.content_type,
        sha256=digest.hexdigest(),
        added_by=added_by,
        is_sample=is_sample,
    )
    evidence._history_user = added_by
    evidence.file.save(checked.safe_name, upload, save=False)
    try:
        evidence.full_clean()
        evidence.save()
    except Exception:
        # The file is stored before the row; do not leave an orphan when the row fails.
        evidence.file.delete(save=False)
        raise
    return evidence


@transaction.atomic
def evidence_add_link(
    *, action: Action, added_by: User, url: str, title: str, is_sample: bool = False
) -> Evidence:
    evidence = Evidence(
        action=action,
        title=(title or "").strip(),
        url=url,
        added_by=added_by,
        is_sample=is_sample,
    )
    evidence._history_user = added_by
    evidence.full_clean()
    evidence.save()
    return evidence


# Deadlines: the slippage register


@transaction.atomic
def due_date_change_request(
    *,
    action: Action,
    requested_by: User,
    new_date: dt.date,
    reason: str,
    today: dt.date | None = None,
) -> DueDateChange:
    today = today or timezone.localdate()
    if action.is_closed:
        raise ValidationError("This action is closed; its deadline can no longer change.")
    if new_date < today:
        raise ValidationError({"new_date": "The new date must be today or in the future."})
    if new_date < action.start_date:
        raise ValidationError({"new_date": "The new date must be after the action's start date."})
    if new_date == action.due_date:
        raise ValidationError({"new_date": "The new date is the same as the current due date."})
    if action.due_date_changes.filter(status=DueDateChange.Status.PENDING).exists():
        raise ValidationError("A deadline change for this action is already awaiting a decision.")
    change = DueDateChange(
        action=action,
        old_date=action.due_date,
        new_date=new_date,
        reason=(reason or "").strip(),
        requested_by=requested_by,
    )
    change._history_user = requested_by
    change.full_clean()
    change.save()
    return change


@transaction.atomic
def due_date_change_decide(
    *, change: DueDateChange, decided_by: User, approve: bool, note: str = ""
) -> DueDateChange:
    change = DueDateChange.objects.select_for_update().select_related("action").get(pk=change.pk)
    if change.status != DueDateChange.Status.PENDING:
        raise ValidationError("This request has already been decided.")
    if change.requested_by_id == decided_by.pk:
        raise ValidationError("Someone else must decide a deadline change you asked for.")
    if not approve and not (note or "").strip():
        raise ValidationError({"decision_note": "Say why the request is refused."})
    change.status = DueDateChange.Status.APPROVED if approve else DueDateChange.Status.REFUSED
    change.decided_by = decided_by
    change.decided_at = timezone.now()
    change.decision_note = (note or "").strip()
    change._history_user = decided_by
    change.full_clean()
    change.save()
    if approve:
        action = change.action
        if action.due_date != change.old_date:
            raise ValidationError("The due date has changed since this request was made.")
        action.due_date = change.new_date
        action.due_date_change_count += 1
        action._history_user = decided_by
        _save_with_version_check(
            action,
            expected_version=action.version,
            fields=["due_date", "due_date_change_count"],
        )
    return change


# Measures of children's outcomes


@transaction.atomic
def measure_create(
    *,
    authority: Authority,
    name: str,
    direction: str,
    baseline_value: Decimal,
    baseline_date: dt.date,
    target_value: Decimal,
    target_date: dt.date,
    unit: str = Measure.Unit.PERCENT,
    description: str = "",
    actions: Iterable[Action] = (),
) -> Measure:
    actions = list(actions)
    if any(a.authority_id != authority.pk for a in actions):
        raise ValidationError({"actions": "Linked actions must belong to the same authority."})
    measure = Measure(
        authority=authority,
        name=name,
        direction=direction,
        unit=unit,
        baseline_value=baseline_value,
        baseline_date=baseline_date,
        target_value=target_value,
        target_date=target_date,
        description=description,
    )
    measure.full_clean()
    measure.save()
    measure.actions.set(actions)
    return measure


@transaction.atomic
def measure_record_value(
    *,
    measure: Measure,
    recorded_on: dt.date,
    value: Decimal,
    recorded_by: User,
    note: str = "",
    is_sample: bool = False,
) -> MeasureValue:
    if measure.unit == Measure.Unit.PERCENT and not (0 <= value <= 100):
        raise ValidationError({"value": "A percentage must be between 0 and 100."})
    measure_value = MeasureValue(
        measure=measure,
        recorded_on=recorded_on,
        value=value,
        note=note,
        recorded_by=recorded_by,
        is_sample=is_sample,
    )
    measure_value._history_user = recorded_by
    measure_value.full_clean()
    measure_value.save()
    return measure_value


@dataclass(frozen=True)
class BulkResult:
    changed: int
    skipped: list[str]


def actions_bulk_reassign(
    *, actions: Iterable[Action], owner: User, by: User, note: str = ""
) -> BulkResult:
    changed = 0
    for action in actions:
        if action.owner_id != owner.pk:
            action_reassign_owner(action=action, owner=owner, by=by, note=note)
            changed += 1
    return BulkResult(changed=changed, skipped=[])


def actions_bulk_set_status(
    *, actions: Iterable[Action], delivery_status: str, by: User, note: str
) -> BulkResult:
    """Change many actions' delivery status, each with the same note; closed ones are skipped."""
    changed, skipped = 0, []
    for action in actions:
        if action.is_closed:
            skipped.append(str(action))
            continue
        if action.delivery_status == delivery_status:
            continue
        action_record_progress(
            action=action,
            author=by,
            expected_version=action.version,
            text=note,
            delivery_status=delivery_status,
        )
        changed += 1
    return BulkResult(changed=changed, skipped=skipped)
