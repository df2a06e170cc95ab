"""The board pack: rendering it (HTML and PDF) and freezing it, the one write of a frozen pack.

A frozen pack stores its content (JSON), the HTML it rendered to and that HTML's SHA-256; it is
never written again (the model refuses, and so does a database trigger), so a later pack can
compare against exactly what the board was shown. The PDF is rendered by WeasyPrint from local
static files only: its URL fetcher refuses anything that is not one of our static files.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import mimetypes
from pathlib import Path

from django.conf import settings
from django.contrib.staticfiles import finders
from django.core.cache import cache
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.template.loader import render_to_string

from improvement.models import Authority, BoardPack, User
from improvement.selectors import packs as pack_reads

# WeasyPrint resolves the pack's relative links against this made-up origin; the fetcher serves
# only static files under it, so nothing in a pack can make the server reach the network.
PACK_ORIGIN = "https://pack.invalid"


class RefusedFetch(ValueError):
    """A board pack asked for something that is not a local static file."""


def _static_path(url: str) -> Path:
    prefix = PACK_ORIGIN + settings.STATIC_URL
    if not url.startswith(prefix):
        raise RefusedFetch(f"A board pack fetches only local static files, not {url}")
    relative = url[len(prefix) :].split("?", 1)[0].split("#", 1)[0]
    if ".." in Path(relative).parts:
        raise RefusedFetch(f"Refused a path outside the static files: {url}")
    found = finders.find(relative)
    if not found and settings.STATIC_ROOT:
        candidate = Path(settings.STATIC_ROOT) / relative
        found = str(candidate) if candidate.is_file() else None
    if not found:
        raise RefusedFetch(f"No such static file: {relative}")
    return Path(found)


def _fetcher():
    from weasyprint.urls import URLFetcher, URLFetcherResponse

    class LocalStaticFetcher(URLFetcher):
        def __init__(self):
            # fail_on_errors: a refused or missing file stops the render rather than leaving a
            # PDF silently without its fonts or styles.
            super().__init__(fail_on_errors=True)

        def fetch(self, url, headers=None):
            path = _static_path(url)
            content_type = mimetypes.guess_type(path.name)[0] or "application/octet-stream"
            return URLFetcherResponse(
                url, body=path.read_bytes(), headers={"Content-Type": content_type}
            )

    return LocalStaticFetcher()


def pack_html(content: dict, *, frozen: BoardPack | None = None) -> str:
    """The pack as a whole HTML document (what is frozen, and what the PDF is made from)."""
    return render_to_string(
        "packs/pack_document.html",
        {
            "pack": pack_reads.pack_view(content),
            "frozen": frozen,
            "static_origin": PACK_ORIGIN,
            # A document read away from the site: no links into it.
            "document": True,
        },
    )


def pack_pdf(html: str) -> bytes:
    """The PDF of a pack's HTML, with fonts and styles from the static files only."""
    from weasyprint import HTML

    return HTML(string=html, base_url=PACK_ORIGIN + "/", url_fetcher=_fetcher()).write_pdf()


def cached_pack_pdf(html: str) -> bytes:
    """The PDF of a pack's HTML, rendered once per cache: the same HTML (a frozen pack, or a
    draft whose plan has not changed) gives the same PDF, and a large plan's takes a while."""
    return cache.get_or_set(f"board-pack-pdf:{sha256_of(html)}", lambda: pack_pdf(html), 86400)


def frozen_pack_pdf(pack: BoardPack) -> bytes:
    """The PDF of exactly the HTML that was frozen."""
    return cached_pack_pdf(pack.html)


def sha256_of(html: str) -> str:
    return hashlib.sha256(html.encode()).hexdigest()


@transaction.atomic
def board_pack_freeze(
    *, authority: Authority, board_date: dt.date, by: User, now: dt.datetime
) -> BoardPack:
    """Store the pack as it is now for this meeting; one frozen pack per meeting."""
    if BoardPack.objects.filter(authority=authority, board_date=board_date).exists():
        raise ValidationError(
            {"board_date": f"The pack for the meeting on {board_date:%d %B %Y} is already frozen."}
        )
    today = now.date()
    content = pack_reads.pack_content(
        authority=authority, board_date=board_date, today=today, now=now, freezing=True
    )
    pack = BoardPack(
        authority=authority,
        board_date=board_date,
        frozen_at=now,
        frozen_by=by,
        content=content,
    )
    pack.html = pack_html(content, frozen=pack)
    pack.sha256 = sha256_of(pack.html)
    try:
        # A savepoint, so that a meeting frozen at the same moment by someone else leaves this
        # transaction usable for the clear message below.
        with transaction.atomic():
            pack.save()
    except IntegrityError as error:
        raise ValidationError(
            {"board_date": f"The pack for the meeting on {board_date:%d %B %Y} is already frozen."}
        ) from error
    return pack
