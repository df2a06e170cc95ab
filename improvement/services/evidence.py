"""Writes for evidence: files checked by content and hashed, and links."""

from __future__ import annotations

import hashlib

from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import UploadedFile
from django.db import transaction

from improvement.models import (
    Action,
    Evidence,
    User,
)
from improvement.uploads import inspect_upload

# The stored authority is the action's (Evidence.save fills it), held so by the database
# (migration 0016): validating it would be one more query a write.
HELD_BY_THE_DATABASE = ["authority"]


@transaction.atomic
def evidence_add_file(
    *,
    action: Action,
    by: User,
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
        added_by=by,
        is_sample=is_sample,
    )
    evidence._history_user = by
    evidence.file.save(checked.safe_name, upload, save=False)
    try:
        evidence.full_clean(exclude=HELD_BY_THE_DATABASE)
        evidence.save()
    except Exception:
        # The file is stored before the row; do not leave an orphan when the row fails.
        evidence.file.delete(save=False)
        raise
    return evidence


@transaction.atomic
def evidence_add_link(
    *, action: Action, by: User, url: str, title: str, is_sample: bool = False
) -> Evidence:
    evidence = Evidence(
        action=action,
        title=(title or "").strip(),
        url=url,
        added_by=by,
        is_sample=is_sample,
    )
    evidence._history_user = by
    evidence.full_clean(exclude=HELD_BY_THE_DATABASE)
    evidence.save()
    return evidence


@transaction.atomic
def evidence_retitle(*, evidence: Evidence, title: str, by: User) -> Evidence:
    """Evidence is kept as it was added; only its title can be corrected."""
    evidence.title = (title or "").strip()
    evidence._history_user = by
    evidence.full_clean(exclude=HELD_BY_THE_DATABASE)
    evidence.save(update_fields=["title", "updated_at"])
    return evidence


@transaction.atomic
def evidence_remove(*, evidence: Evidence, by: User) -> None:
    """Remove a piece of evidence, unless its action's impact was signed off on it.

    The stored file stays: the history row of the evidence still points at it.
    """
    action = Action.objects.select_for_update().get(pk=evidence.action_id)
    if action.impact_status == Action.ImpactStatus.EVIDENCED:
        raise ValidationError(
            f"“{action}” was signed off as impact evidenced, so its evidence cannot be removed."
        )
    evidence._history_user = by
    evidence.delete()
