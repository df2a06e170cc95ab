"""The action search: stored search vectors through their GIN indexes on PostgreSQL.

Migration 0010_scale keeps a generated `search_vector` column on actions (reference, title,
description) and on progress notes (text), each with a GIN index. A search asks both indexes for
matching ids (a UNION, so each side uses its own index) and filters the caller's queryset by them:
the caller's scope, filters and sort still apply. Other databases (SQLite in development) match
substrings instead; the same words find the same actions there, only without stemming.
"""

from __future__ import annotations

from django.db import connection
from django.db.models import Exists, OuterRef, Q, QuerySet
from django.db.models.expressions import RawSQL

from improvement.models import Action, ProgressNote

SEARCH_CONFIG = "english"

# websearch_to_tsquery accepts anything a person types (quotes, "or", a minus) without a syntax
# error, so a search box never raises on odd input.
_MATCHING_IDS = (
    "SELECT a.id FROM improvement_action a "
    "WHERE a.search_vector @@ websearch_to_tsquery(%s::regconfig, %s) "
    "UNION "
    "SELECT n.action_id FROM improvement_progressnote n "
    "WHERE n.search_vector @@ websearch_to_tsquery(%s::regconfig, %s)"
)


def uses_search_vectors() -> bool:
    return connection.vendor == "postgresql"


def search_actions(queryset: QuerySet[Action], text: str) -> QuerySet[Action]:
    """The actions of `queryset` whose reference, title, description or any note matches."""
    text = text.strip()
    if not text:
        return queryset
    if uses_search_vectors():
        # Fixed SQL; the typed words travel only as parameters.
        ids = RawSQL(_MATCHING_IDS, [SEARCH_CONFIG, text, SEARCH_CONFIG, text])  # noqa: S611
        return queryset.filter(pk__in=ids)
    notes = ProgressNote.objects.filter(action=OuterRef("pk"), text__icontains=text)
    return queryset.filter(
        Q(title__icontains=text)
        | Q(description__icontains=text)
        | Q(reference__icontains=text)
        | Q(Exists(notes))
    )
