"""The action search: stored search vectors through their GIN indexes on PostgreSQL.

Migration 0010_scale keeps, on each action, a generated `search_vector` (reference, title,
description) and a `notes_vector` of its progress notes (maintained by a trigger on notes), with
one GIN index over the two. A search is one condition on the action row, so PostgreSQL combines
that index with the scope's (authority) index, and the caller's filters and sort still apply.
Other databases (SQLite in development) match substrings instead; the same words find the same
actions there, only without stemming.
"""

from __future__ import annotations

from django.db import connection
from django.db.models import BooleanField, Exists, OuterRef, Q, QuerySet
from django.db.models.expressions import RawSQL

from improvement.models import Action, ProgressNote

SEARCH_CONFIG = "english"

# websearch_to_tsquery accepts anything a person types (quotes, "or", a minus) without a syntax
# error, so a search box never raises on odd input.
# The expression must be the indexed one, character for character in meaning.
_MATCHES = (
    '("improvement_action"."search_vector" || "improvement_action"."notes_vector") '
    "@@ websearch_to_tsquery(%s::regconfig, %s)"
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
        matches = RawSQL(_MATCHES, [SEARCH_CONFIG, text], output_field=BooleanField())  # noqa: S611
        return queryset.filter(matches)
    notes = ProgressNote.objects.filter(action=OuterRef("pk"), text__icontains=text)
    return queryset.filter(
        Q(title__icontains=text)
        | Q(description__icontains=text)
        | Q(reference__icontains=text)
        | Q(Exists(notes))
    )
