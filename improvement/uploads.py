"""Checks on uploaded evidence files: size, and type judged by content rather than by name."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import PurePath

import magic
from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import UploadedFile
from django.http import FileResponse, Http404
from django.template.defaultfilters import filesizeformat
from django.utils.text import get_valid_filename

# Content type (as libmagic reads the bytes) -> file endings that may carry it.
ALLOWED_TYPES: dict[str, tuple[str, ...]] = {
    "application/pdf": (".pdf",),
    "image/png": (".png",),
    "image/jpeg": (".jpg", ".jpeg"),
    "text/plain": (".txt", ".csv", ".md"),
    "text/csv": (".csv",),
    "application/vnd.openxmlformats-officedocument.wordprocessingml.document": (".docx",),
    "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet": (".xlsx",),
    "application/vnd.openxmlformats-officedocument.presentationml.presentation": (".pptx",),
    "application/vnd.oasis.opendocument.text": (".odt",),
    "application/vnd.oasis.opendocument.spreadsheet": (".ods",),
}
ALLOWED_DESCRIPTION = "PDF, Word, Excel, PowerPoint, OpenDocument, PNG, JPEG, CSV or plain text"


@dataclass(frozen=True)
class CheckedUpload:
    content_type: str
    size: int
    safe_name: str


def inspect_upload(upload: UploadedFile, *, max_bytes: int | None = None) -> CheckedUpload:
    """Refuse files that are empty, too large, or whose bytes are not an allowed type."""
    max_bytes = max_bytes or settings.EVIDENCE_MAX_BYTES
    size = upload.size or 0
    if size == 0:
        raise ValidationError({"file": "The selected file is empty."})
    if size > max_bytes:
        raise ValidationError(
            {"file": f"The selected file must be smaller than {filesizeformat(max_bytes)}."}
        )
    upload.seek(0)
    head = upload.read(8192)
    upload.seek(0)
    content_type = magic.from_buffer(head, mime=True)
    name = PurePath(upload.name or "evidence").name
    suffix = PurePath(name).suffix.lower()
    allowed_suffixes = ALLOWED_TYPES.get(content_type)
    if allowed_suffixes is None:
        raise ValidationError({"file": f"The selected file must be a {ALLOWED_DESCRIPTION} file."})
    if suffix not in allowed_suffixes:
        raise ValidationError(
            {
                "file": "The file's name does not match its contents. "
                f"Its contents are {content_type}; rename it to end {allowed_suffixes[0]}."
            }
        )
    safe_name = get_valid_filename(name)[:150] or f"evidence{allowed_suffixes[0]}"
    return CheckedUpload(content_type=content_type, size=size, safe_name=safe_name)


def stored_file_download(stored, content_type: str):
    """A stored upload (evidence, a plan document) as a private download; 404 if it is gone.

    The caller has already checked who may see it.
    """
    try:
        handle = stored.open("rb")
    except (FileNotFoundError, OSError) as exc:
        raise Http404 from exc
    response = FileResponse(
        handle, as_attachment=True, filename=PurePath(stored.name).name, content_type=content_type
    )
    # Served as sent, never sniffed into something the browser would run; never cached.
    response["X-Content-Type-Options"] = "nosniff"
    response["Cache-Control"] = "private, no-store"
    return response
