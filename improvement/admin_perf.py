"""The admin's changelists at a million rows: no full count, no date-hierarchy scans, indexed
search. Mixed into a ModelAdmin first, e.g. `class ActionAdmin(ActionAdminPerformance, ...)`.

- The paginator counts at most 10,000 rows (improvement.paging) and the page says "more than
  10,000"; the second, unfiltered count Django makes for "(N total)" is off. The count has no
  ORDER BY: only the page needs the sort, and without it PostgreSQL stops after the first 10,001
  matching rows in whatever order is cheapest instead of walking the sort's index. A search counts
  at most 500 ("more than 500", as the action list does): its matches come from the GIN index or
  a scan that tests each row's words, and counting ten thousand of them costs more than the page.
- The date hierarchy is not drawn: its year links come from SELECT DISTINCT date_trunc(...) over
  the whole filtered table, and its bounds from MIN/MAX of it. Filters and search remain.
- Each row's checkbox and change link are written without a widget template render or a
  reverse() per row (the same markup).
- A sort whose index covers the whole table (notes, evidence, deadline changes newest first) is
  read from that index only for a national user. For anyone narrower the rows in reach are
  gathered through their actions and sorted: walking the table's index for an authority whose
  records are all old reads most of the table before it fills a page (134 s for the largest
  authority's evidence at a million actions, against 0.2 s gathered and sorted).
- Searching progress notes uses each note's stored search vector and its GIN index, plus an
  author's exact username or surname, rather than ILIKE '%term%' over five million notes joined
  to their actions and authors.
- Searching milestones, evidence and deadline changes matches the words of their own text through
  a GIN index on those words (improvement.search.search_words), and exact values (a file's hash)
  through a b-tree, instead of ILIKE '%term%' over every row joined to its action.
- Searching actions uses the stored search vectors and their GIN indexes on PostgreSQL
  (improvement.search), plus an owner's exact username or surname, rather than five ILIKE
  '%term%' scans through a join.
"""

from __future__ import annotations

from functools import cached_property

from django.contrib.admin import ShowFacets
from django.contrib.admin.helpers import ACTION_CHECKBOX_NAME
from django.contrib.admin.utils import quote
from django.contrib.admin.views.main import SEARCH_VAR, ChangeList
from django.db import connection
from django.db.models import DateTimeField, F, Func, Q
from django.db.models.expressions import OrderBy
from django.urls import reverse
from django.utils.html import format_html
from django.utils.translation import gettext

from improvement import scope
from improvement.models import User
from improvement.paging import COUNT_CAP, CappedPaginator
from improvement.search import search_actions, search_notes, search_words, uses_search_vectors


class CappedCount(int):
    """A capped result count: compares as the number counted, prints as "more than 10,000"."""

    def __str__(self) -> str:
        return f"more than {int(self):,}"


# A search's count stops here (see the module's docstring).
SEARCH_COUNT_CAP = 500


class UnorderedCountPaginator(CappedPaginator):
    """CappedPaginator whose count leaves out the sort (the page keeps it)."""

    @cached_property
    def _counted(self) -> tuple[int, bool]:
        if not hasattr(self.object_list, "query"):
            return super()._counted
        # Count one row past the limit to know whether there are more, as CappedPaginator does.
        limit = max(self.cap, self._wanted_page * self.per_page)
        seen = self.object_list.order_by()[: limit + 1].count()
        return min(seen, limit), seen > limit


class OneReverseChangeList(ChangeList):
    """Each row links to its change page through one reverse() for the whole page."""

    _MARK = "PKMARK"  # letters only: the admin's quote() leaves it as it is

    @cached_property
    def _change_url(self) -> str:
        opts = self.opts
        return reverse(
            f"admin:{opts.app_label}_{opts.model_name}_change",
            args=(self._MARK,),
            current_app=self.model_admin.admin_site.name,
        )

    def url_for_result(self, result) -> str:
        return self._change_url.replace(self._MARK, str(quote(getattr(result, self.pk_attname))))


class InReachSortChangeList(OneReverseChangeList):
    """Sorts by `whole_table_sorts` through their index for national users only (see above)."""

    def get_queryset(self, request, exclude_parameters=None):
        queryset = super().get_queryset(request, exclude_parameters)
        fields = getattr(self.model_admin, "whole_table_sorts", ())
        if not fields or connection.vendor != "postgresql":
            return queryset
        if scope.reach_of(request.user) == scope.Reach.NATIONAL:
            return queryset
        authority = f"{scope.AUTHORITY_PATHS[self.model]}_id"
        return queryset.order_by(
            *(_sorted_after_scope(o, fields, authority) for o in queryset.query.order_by)
        )


def _sorted_after_scope(ordering, fields: tuple[str, ...], authority: str):
    """The same order, with a key that reads the row's authority (times a zero interval).

    No index holds that key and no stream of the table alone can give it, so PostgreSQL first
    gathers the rows in reach (through the authority's actions) and then sorts them. Sorted by the
    bare column it may instead walk, or sort, the whole table and join each row to its action
    hoping to meet the authority's rows soon: a guess that fails for an authority whose records
    are all old (134 s for the largest authority's evidence at a million actions).
    """
    if not isinstance(ordering, str) or ordering.lstrip("-") not in fields:
        return ordering
    name = ordering.lstrip("-")
    key = Func(
        F(name),
        F(authority),
        arg_joiner=" + interval '0' * ",
        template="(%(expressions)s)",
        output_field=DateTimeField(),
    )
    return OrderBy(key, descending=ordering.startswith("-"))


class CappedCountAdmin:
    """For any changelist of a big table: capped count, no full count, no date hierarchy."""

    paginator = UnorderedCountPaginator
    show_full_result_count = False
    # Facets would count every filter choice over the whole table, on each page.
    show_facets = ShowFacets.NEVER

    def get_paginator(self, request, queryset, per_page, orphans=0, allow_empty_first_page=True):
        searched = bool(request.GET.get(SEARCH_VAR, "").strip())
        paginator = UnorderedCountPaginator(
            queryset,
            per_page,
            cap=min(COUNT_CAP, SEARCH_COUNT_CAP) if searched else COUNT_CAP,
            # The admin reads a single page without the paginator, so reading ids first would
            # make one page and two pages cost different numbers of queries.
            ids_first=False,
            orphans=orphans,
            allow_empty_first_page=allow_empty_first_page,
        )
        # The admin asks for a page by number without get_page(): count far enough to reach it.
        try:
            paginator._wanted_page = int(request.GET.get("p", 1))
        except ValueError:
            paginator._wanted_page = 1
        return paginator

    # Date-time columns whose sort an index serves over the whole table (InReachSortChangeList).
    whole_table_sorts: tuple[str, ...] = ()

    def get_changelist(self, request, **kwargs):
        return InReachSortChangeList

    def action_checkbox(self, obj):
        # The input Django's CheckboxInput renders, written directly: rendering the widget's
        # template once per row was a third of the changelist's time.
        label = format_html(gettext("Select this object for an action - {}"), str(obj))
        return format_html(
            '<input type="checkbox" name="{}" value="{}" class="action-select" aria-label="{}">',
            ACTION_CHECKBOX_NAME,
            obj.pk,
            label,
        )

    def get_changelist_instance(self, request):
        changelist = super().get_changelist_instance(request)
        # Drawn from DISTINCT date_trunc over the whole table: left out at this scale.
        changelist.date_hierarchy = None
        if getattr(changelist.paginator, "is_capped", False):
            changelist.result_count = CappedCount(changelist.result_count)
        return changelist


class ActionAdminPerformance(CappedCountAdmin):
    """The action changelist: the above, and search through the GIN-indexed search vectors."""

    def get_search_results(self, request, queryset, search_term):
        term = search_term.strip()
        if not term or not uses_search_vectors():
            return super().get_search_results(request, queryset, search_term)
        # Exact owner names use the user table's own indexes; the text uses the GIN indexes.
        owners = User.objects.filter(Q(username__iexact=term) | Q(last_name__iexact=term))
        by_text = search_actions(queryset, term)
        return (by_text | queryset.filter(owner__in=owners.values("pk"))), False


class ProgressNoteAdminPerformance(CappedCountAdmin):
    """The progress-note changelist: the above, and search through each note's stored vector."""

    def get_search_results(self, request, queryset, search_term):
        term = search_term.strip()
        if not term or not uses_search_vectors():
            return super().get_search_results(request, queryset, search_term)
        # The authors' ids are read first so that both conditions are on the note's own columns:
        # PostgreSQL then ORs the GIN index with the author index for a rare word, or walks the
        # newest-first index and stops at a page for a common one. A subquery in the OR would
        # make it test every note against a hashed list instead.
        authors = User.objects.filter(Q(username__iexact=term) | Q(last_name__iexact=term))
        author_ids = list(authors.values_list("pk", flat=True))
        by_text = search_notes(queryset, term)
        return (by_text | queryset.filter(author_id__in=author_ids)), False


class WordSearchAdmin(CappedCountAdmin):
    """A changelist searching its rows' own words through a GIN index, or exact values.

    `word_search_fields` are read together as words (their expression index is in the
    migrations); `exact_search_fields` must equal the term. Elsewhere than PostgreSQL the
    admin's own search_fields apply.
    """

    word_search_fields: tuple[str, ...] = ()
    exact_search_fields: tuple[str, ...] = ()

    def get_search_results(self, request, queryset, search_term):
        term = search_term.strip()
        if not term or not uses_search_vectors():
            return super().get_search_results(request, queryset, search_term)
        found = search_words(queryset, self.word_search_fields, term)
        for field in self.exact_search_fields:
            found = found | queryset.filter(**{field: term})
        return found, False
