"""The action search: stored search vectors through their GIN indexes on PostgreSQL.

Migration 0010_scale keeps, on each action, a `notes_vector` of its progress notes (maintained
by a trigger on notes); migration 0017 a generated `words_vector` of the action's own words
(reference, title, description) and that vector together, with a GIN index. A search is one
condition on the action row, so PostgreSQL combines that index with the scope's (authority) index,
or checks the stored vector of each row it walks in the list's order; the caller's filters and
sort still apply.
Other databases (SQLite in development) match substrings instead; the same words find the same
actions there, only without stemming.

The admin's changelists of the big child tables search the same way: a progress note's own
generated `search_vector`, and the words of a milestone's title, a piece of evidence's title and
link, or a deadline change's reason, each through a GIN index on the very expression written here.
"""

from __future__ import annotations

from django.db import connection
from django.db.models import BooleanField, Exists, OuterRef, Q, QuerySet
from django.db.models.expressions import RawSQL

from improvement.models import Action, ProgressNote

SEARCH_CONFIG = "english"

# websearch_to_tsquery accepts anything a person types (quotes, "or", a minus) without a syntax
# error, so a search box never raises on odd input.
# The column must be the indexed one (migration 0017), so that PostgreSQL can use that index.
_MATCHES = '"improvement_action"."words_vector" @@ websearch_to_tsquery(%s::regconfig, %s)'


# A note's own words: its generated `search_vector` (migration 0010) and that column's GIN index.
_NOTE_MATCHES = (
    '"improvement_progressnote"."search_vector" @@ websearch_to_tsquery(%s::regconfig, %s)'
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


def search_notes(queryset: QuerySet[ProgressNote], text: str) -> QuerySet[ProgressNote]:
    """The progress notes of `queryset` whose own text matches (the action search's words)."""
    text = text.strip()
    if not text:
        return queryset
    if uses_search_vectors():
        matches = RawSQL(_NOTE_MATCHES, [SEARCH_CONFIG, text], output_field=BooleanField())  # noqa: S611
        return queryset.filter(matches)
    return queryset.filter(text__icontains=text)


def _words_of(model, fields: tuple[str, ...]) -> str:
    """The indexed expression of `fields`' words: to_tsvector over the columns joined by spaces.

    The config is written into the SQL (not a parameter) so the expression reads the same as the
    GIN index's and PostgreSQL can use that index.
    """
    table = model._meta.db_table
    columns = " || ' ' || ".join(f'"{table}"."{model._meta.get_field(f).column}"' for f in fields)
    return f"to_tsvector('{SEARCH_CONFIG}'::regconfig, {columns})"


def search_words(queryset: QuerySet, fields: tuple[str, ...], text: str) -> QuerySet:
    """The rows of `queryset` whose `fields`, read together as words, match `text`.

    On PostgreSQL through a GIN index on the same to_tsvector expression; elsewhere any field
    containing the text.
    """
    text = text.strip()
    if not text:
        return queryset
    if uses_search_vectors():
        sql = f"{_words_of(queryset.model, fields)} @@ websearch_to_tsquery(%s::regconfig, %s)"
        matches = RawSQL(sql, [SEARCH_CONFIG, text], output_field=BooleanField())  # noqa: S611
        return queryset.filter(matches)
    condition = Q()
    for field in fields:
        condition |= Q(**{f"{field}__icontains": text})
    return queryset.filter(condition)
