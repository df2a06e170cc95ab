"""Writes for evidence: files checked by content and hashed, and links."""

from __future__ import annotations

import hashlib

from django.core.files.uploadedfile import UploadedFile
from django.db import transaction

from improvement.models import (
    Action,
    Evidence,
    User,
)
from improvement.uploads import inspect_upload


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
        evidence.full_clean()
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
    evidence.full_clean()
    evidence.save()
    return evidence


@transaction.atomic
def evidence_retitle(*, evidence: Evidence, title: str, by: User) -> Evidence:
    """Evidence is kept as it was added; only its title can be corrected."""
    evidence.title = (title or "").strip()
    evidence._history_user = by
    evidence.full_clean()
    evidence.save(update_fields=["title", "updated_at"])
    return evidence
