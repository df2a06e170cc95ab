"""Writes for actions: creation, plain changes, progress notes, milestones, bulk changes."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from typing import Any

from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import UploadedFile
from django.db import models, transaction
from django.db.models import F, Q
from django.utils import timezone

from improvement import notifications
from improvement.models import (
    Action,
    Authority,
    ImprovementArea,
    Milestone,
    ProgressNote,
    Team,
    Theme,
    User,
)
from improvement.services.evidence import evidence_add_file, evidence_add_link
from improvement.text import visible_text


class ConcurrentEditError(Exception):
    """Someone else saved the action since this edit began; nothing was written."""

    def __init__(self, action: Action, expected_version: int):
        self.action = action
        self.expected_version = expected_version
        super().__init__(
            f"{action} was changed by someone else (version {action.version}, "
            f"not {expected_version}) while you were editing it."
        )


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
    by: User | None = None,
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
    notifications.notify_assigned(action, by=by)
    return action


def _constraint_fields(constraint) -> set[str]:
    if isinstance(constraint, models.CheckConstraint):
        return set(Q(constraint.condition).referenced_base_fields)
    return set(getattr(constraint, "fields", ()))


def unchanged_fields(model: type[models.Model], changed: Iterable[str]) -> list[str]:
    """The fields a write of `changed` leaves as they are, for full_clean(exclude=...).

    The stored row already meets every rule on those (the database holds the same constraints),
    and each check constraint full_clean asks is a query of its own (three, in a transaction), so
    a write validates its changed fields and every constraint on them, with the fields those
    constraints compare them against; Model.clean() still runs whole.
    """
    keep = set(changed)
    for constraint in model._meta.constraints:
        refs = _constraint_fields(constraint)
        if refs & set(changed):
            keep |= refs
    return [field.name for field in model._meta.concrete_fields if field.name not in keep]


def full_clean_at_once(instance: models.Model, *, exclude: list[str]) -> None:
    """full_clean(exclude=...), with the check constraints asked in one query, not one each.

    Django asks each constraint on its own (a query between two savepoints inside a
    transaction). Together they pass when each does; when they do not, Django's own
    validation runs to name the rule that failed.
    """
    meta = instance._meta
    if any(not isinstance(c, models.CheckConstraint) for c in meta.constraints):
        instance.full_clean(exclude=exclude)
        return
    instance.full_clean(exclude=exclude, validate_constraints=False)
    kept = {field.name for field in meta.concrete_fields} - set(exclude)
    conditions = [c.condition for c in meta.constraints if _constraint_fields(c) <= kept]
    if not conditions:
        return
    against = instance._get_field_expression_map(meta=meta, exclude=exclude)
    if not Q(*conditions).check(against):
        instance.validate_constraints(exclude=exclude)


def save_with_version_check(action: Action, *, expected_version: int, fields: list[str]) -> None:
    """Write only if nobody else has written since expected_version; bump the version."""
    updated = Action.objects.filter(pk=action.pk, version=expected_version).update(
        version=F("version") + 1, updated_at=timezone.now()
    )
    if not updated:
        raise ConcurrentEditError(Action.objects.get(pk=action.pk), expected_version)
    action.version = expected_version + 1
    # The version is ours, one more than a stored one: only the caller's fields need checking.
    full_clean_at_once(action, exclude=unchanged_fields(Action, fields))
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
    if action.is_closed:
        # A closed action is the record of what was signed off: its dates and owner stay.
        raise ValidationError("This action is closed, so it can no longer change.")
    previous_owner_id = action.owner_id
    for key, value in changes.items():
        setattr(action, key, value)
    if action.team is not None and action.team.authority_id != action.authority_id:
        raise ValidationError({"team": "The team must belong to the same authority."})
    action._history_user = by
    save_with_version_check(action, expected_version=expected_version, fields=list(changes))
    if action.owner_id != previous_owner_id:
        notifications.notify_assigned(action, by=by)
    return action


# The stored authority is the action's (ProgressNote.save fills it), held so by the database.
NOTE_HELD_ROWS = ["action", "author", "authority"]


def _owner_side(action: Action) -> set[int]:
    """Who answers for the action: its owner and its team's lead."""
    people = {action.owner_id}
    if action.team_id is not None and action.team.lead_id is not None:
        people.add(action.team.lead_id)
    return people


@transaction.atomic
def action_record_progress(
    *,
    action: Action,
    by: User,
    expected_version: int,
    text: str,
    delivery_status: str | None = None,
    rag: str | None = None,
    is_sample: bool = False,
    at: dt.datetime | None = None,
) -> ProgressNote:
    """Add a progress note, changing delivery status and RAG with it if asked.

    A note alone is appended whatever the version: it changes nothing another person could
    overwrite. The version check guards only a change of the action's own status or RAG.
    """
    text = visible_text(text)
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
    if not (new_status or new_rag):
        return _append_note(action=action, by=by, text=text, at=at, is_sample=is_sample)
    when = at or timezone.now()
    note = ProgressNote(
        action=action,
        author=by,
        text=text,
        created_at=when,
        delivery_status_before=action.delivery_status if new_status else "",
        delivery_status_after=new_status or "",
        rag_before=action.rag if new_rag else "",
        rag_after=new_rag or "",
        is_sample=is_sample,
    )
    # The action and the author are rows this write already holds: no query to find them again.
    full_clean_at_once(note, exclude=NOTE_HELD_ROWS)
    note.save()
    fields = ["last_note_at"]
    action.last_note_at = max(filter(None, [action.last_note_at, when]))
    if action.sent_back_at is not None and by.pk in _owner_side(action):
        # The owner (or their team lead) has acted on the send-back.
        action.sent_back_at = None
        fields.append("sent_back_at")
    if new_status:
        action.delivery_status = new_status
        fields.append("delivery_status")
    if new_rag:
        action.rag = new_rag
        fields.append("rag")
    action._history_user = by
    save_with_version_check(action, expected_version=expected_version, fields=fields)
    if new_status == Action.DeliveryStatus.DELIVERED:
        notifications.notify_awaits_sign_off(action, by=by)
    return note


def _append_note(
    *, action: Action, by: User, text: str, at: dt.datetime | None, is_sample: bool
) -> ProgressNote:
    """Append a plain note: lock the action's row, add the note, touch last_note_at.

    The row lock makes concurrent notes on one action queue rather than conflict, and orders
    them: each note's time is taken once the lock is held, so time order is commit order.
    The version is not bumped, so nobody's open edit of the action is made stale by a note.
    """
    locked = (
        Action.objects.select_for_update(of=("self",))
        .select_related("team")
        .only("pk", "owner", "team", "team__lead", "last_note_at", "sent_back_at")
        .get(pk=action.pk)
    )
    when = at or timezone.now()
    note = ProgressNote(action=action, author=by, text=text, created_at=when, is_sample=is_sample)
    full_clean_at_once(note, exclude=NOTE_HELD_ROWS)
    note.save()
    changes: dict[str, Any] = {}
    if locked.last_note_at is None or locked.last_note_at < when:
        changes["last_note_at"] = when
    if locked.sent_back_at is not None and by.pk in _owner_side(locked):
        # The owner (or their team lead) has acted on the send-back.
        changes["sent_back_at"] = None
    if changes:
        # One UPDATE, no version bump and no history row: a note is its own record. updated_at
        # moves, so that the dashboard's cached figures (stale) are recounted.
        changes["updated_at"] = timezone.now()
        Action.objects.filter(pk=action.pk).update(**changes)
        for field, value in changes.items():
            setattr(action, field, value)
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

    Only a change of status or RAG is checked against expected_version: notes, evidence and
    milestone ticks are appended or applied as the user's own ticks, so they overwrite nothing
    and need no lock, and do not bump the version.
    """
    text = visible_text(text)
    changes_status = (delivery_status and delivery_status != action.delivery_status) or (
        rag and rag != action.rag
    )
    ticked, unticked = list(milestones_ticked), list(milestones_unticked)
    has_evidence = bool(evidence_url or evidence_file)
    if text or changes_status or not (has_evidence or ticked or unticked):
        # Asks for a note when nothing at all was given.
        action_record_progress(
            action=action,
            by=by,
            expected_version=expected_version,
            text=text,
            delivery_status=delivery_status,
            rag=rag,
        )
    for milestone in sorted(ticked + unticked, key=lambda m: m.pk):
        milestone_set_complete(milestone=milestone, complete=milestone in ticked, by=by)
    if evidence_url:
        evidence_add_link(action=action, by=by, url=evidence_url, title=evidence_title)
    if evidence_file:
        # Last, because the file is stored before its row: nothing after it can fail.
        evidence_add_file(action=action, by=by, upload=evidence_file, title=evidence_title)


@transaction.atomic
def action_reassign_owner(*, action: Action, owner: User, by: User, note: str = "") -> Action:
    """Give the action a new owner (also the admin's bulk action); a note records why."""
    if owner.pk == action.owner_id:
        return action
    previous = action.owner
    action_update(action=action, expected_version=action.version, by=by, owner=owner)
    action_record_progress(
        action=action,
        by=by,
        expected_version=action.version,
        text=note or f"Owner changed from {previous} to {owner}.",
    )
    return action


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
    full_clean_at_once(milestone, exclude=unchanged_fields(Milestone, ["completed_on"]))
    milestone.save(update_fields=["completed_on", "updated_at"])
    return milestone
