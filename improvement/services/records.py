"""Writes for correcting reference and report records (the admin's data entry).

Records without a workflow of their own (teams, inspections, judgements, findings, improvement
areas, milestones, measures and their values, evidence titles) are saved and deleted here: the
writer must reach the record's authority (before and after the change), every link must stay
within one authority, the model's validation runs, and a protected delete becomes a message.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from django.core.cache import cache as shared_cache
from django.core.exceptions import ValidationError
from django.db import models, transaction
from django.db.models import ProtectedError, RestrictedError
from django.utils import timezone

from improvement import scope
from improvement.models import (
    Action,
    Authority,
    DueDateChange,
    Evidence,
    ImprovementArea,
    Milestone,
    ProgressNote,
    Theme,
    User,
)
from improvement.selectors.dashboard import figures_cache_key, figures_cache_seconds
from improvement.selectors.reminders import DIGEST_CHANGED_KEY
from improvement.services.bulk import each_or_none
from improvement.services.evidence import evidence_remove

# Written only through their own services (actions, workflow, users) or never (notes).
OWN_SERVICES = (Action, DueDateChange, ProgressNote, User)


def _authority_id(obj) -> int | None:
    authority = scope.authority_of(obj)
    return authority.pk if isinstance(authority, Authority) else authority


def _refuse_unreachable(by: User, obj) -> None:
    if type(obj) in scope.AUTHORITY_PATHS and not scope.can_reach(by, obj):
        raise ValidationError("You may change only the records of your own authority.")
    if type(obj) not in scope.AUTHORITY_PATHS and not by.is_superuser:
        # Shared across authorities (themes): only the platform's administrators change them.
        raise ValidationError("Only a platform administrator can change shared records.")


def _refuse_cross_authority_links(obj, m2m: Mapping[str, Iterable]) -> None:
    """Every record this one points at belongs to the same authority (users may have none)."""
    own = _authority_id(obj)
    if own is None:
        return
    errors: dict[str, str] = {}
    for field in obj._meta.concrete_fields:
        if not isinstance(field, models.ForeignKey):
            continue
        target = getattr(obj, field.name, None)
        if target is None or type(target) not in scope.AUTHORITY_PATHS:
            continue
        theirs = _authority_id(target)
        if theirs == own or (isinstance(target, User) and theirs is None):
            continue
        errors[field.name] = f"The {field.verbose_name} must belong to the same authority."
    for name, values in m2m.items():
        for target in values:
            if type(target) in scope.AUTHORITY_PATHS and _authority_id(target) != own:
                label = name.replace("_", " ")
                errors[name] = f"Every one of the {label} must belong to the same authority."
                break
    if errors:
        raise ValidationError(errors)


def _refuse_closed_action(obj) -> None:
    if isinstance(obj, Milestone) and obj.action_id and obj.action.is_closed:
        raise ValidationError("The action is closed; its milestones can no longer change.")


@transaction.atomic
def record_save(*, obj: models.Model, by: User, m2m: Mapping[str, Iterable] | None = None):
    """Validate and save one record (and replace the many-to-many links given)."""
    if isinstance(obj, OWN_SERVICES):
        raise ValueError(f"{type(obj).__name__} is written through its own services")
    m2m = {name: list(values) for name, values in (m2m or {}).items()}
    if obj.pk is not None:
        stored = type(obj)._default_manager.filter(pk=obj.pk).first()
        if stored is not None:
            # Moving a record out of an authority needs reach over where it was, too.
            _refuse_unreachable(by, stored)
            _refuse_closed_action(stored)
    _refuse_unreachable(by, obj)
    _refuse_closed_action(obj)
    _refuse_cross_authority_links(obj, m2m)
    obj._history_user = by
    obj.full_clean()
    obj.save()
    for name, values in m2m.items():
        getattr(obj, name).set(values)
    plan_figures_changed(obj)
    return obj


def plan_figures_changed(obj: models.Model) -> None:
    """The dashboard's cached figures of obj's authority are dropped once this change commits,
    so its next visit counts them again: links and deletions move no action's `updated_at`,
    which the cached figures watch (selectors.dashboard). Likewise the weekly digest's counts
    (selectors.reminders), through one mark for every reach."""
    authority = scope.authority_of(obj)
    authority_id = getattr(authority, "pk", authority)
    if authority_id is None:
        return
    key = figures_cache_key(authority_id, timezone.localdate())
    found = shared_cache.get_many([key, DIGEST_CHANGED_KEY])
    # Nothing counted, nothing to drop: no callback queued (a demo or an import loads quietly).
    if key in found:
        transaction.on_commit(lambda: shared_cache.delete(key))
    # The weekly digest's counts are kept per reach (a region, the nation), so the change is
    # marked for all of them: a small plan's counts counted before it are counted again.
    if DIGEST_CHANGED_KEY in found:
        transaction.on_commit(
            lambda: shared_cache.set(DIGEST_CHANGED_KEY, timezone.now(), figures_cache_seconds())
        )


@transaction.atomic
def record_delete(*, obj: models.Model, by: User) -> None:
    """Delete one record, or say why not (reach, a rule, or records that depend on it)."""
    if isinstance(obj, ProgressNote):
        raise ValidationError("Progress notes are kept: they cannot be deleted.")
    if isinstance(obj, OWN_SERVICES):
        raise ValidationError(f"A {obj._meta.verbose_name} cannot be deleted here.")
    _refuse_unreachable(by, obj)
    _refuse_closed_action(obj)
    if isinstance(obj, Evidence):
        evidence_remove(evidence=obj, by=by)
        return
    obj._history_user = by
    plan_figures_changed(obj)
    try:
        with transaction.atomic():
            obj.delete()
    except ProtectedError as exc:
        _refuse_dependants(obj, exc.protected_objects, exc)
    except RestrictedError as exc:
        _refuse_dependants(obj, exc.restricted_objects, exc)


def _refuse_dependants(obj, dependants, exc: Exception) -> None:
    kinds = sorted({str(o._meta.verbose_name_plural) for o in dependants})
    raise ValidationError(f"“{obj}” cannot be deleted: {', '.join(kinds)} depend on it.") from exc


def records_delete(*, objs: Iterable[models.Model], by: User) -> int:
    """Delete every record or none; raises BulkRefused naming each refused one and why."""
    return len(each_or_none(list(objs), lambda obj: record_delete(obj=obj, by=by)))


@transaction.atomic
def action_set_links(
    *,
    action: Action,
    by: User,
    improvement_areas: Iterable[ImprovementArea],
    themes: Iterable[Theme] = (),
) -> Action:
    """Replace the improvement areas (of the action's own authority) and themes it answers."""
    if not scope.can_reach(by, action):
        raise ValidationError("You may change only the records of your own authority.")
    areas = list(improvement_areas)
    if not areas:
        raise ValidationError({"improvement_areas": "Choose at least one improvement area."})
    if any(_authority_id(area) != action.authority_id for area in areas):
        raise ValidationError(
            {"improvement_areas": "An action answers improvement areas of its own authority only."}
        )
    themes = list(themes)
    if action.is_closed and (
        set(areas) != set(action.improvement_areas.all()) or set(themes) != set(action.themes.all())
    ):
        raise ValidationError("This action is closed, so it can no longer change.")
    action.improvement_areas.set(areas)
    action.themes.set(themes)
    plan_figures_changed(action)
    return action
