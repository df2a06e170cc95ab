"""The admin's changelists at a million rows: no full count, no date-hierarchy scans, indexed
search. Mixed into a ModelAdmin first, e.g. `class ActionAdmin(ActionAdminPerformance, ...)`.

- The paginator counts at most 10,000 rows (improvement.paging) and the page says "more than
  10,000"; the second, unfiltered count Django makes for "(N total)" is off. The count has no
  ORDER BY: only the page needs the sort, and without it PostgreSQL stops after the first 10,001
  matching rows in whatever order is cheapest instead of walking the sort's index. A search counts
  at most 100 ("more than 100", as the action list does): its matches come from the GIN index or
  a scan that tests each row's words, and counting ten thousand of them costs more than the page.
- The date hierarchy is not drawn: its year links come from SELECT DISTINCT date_trunc(...) over
  the whole filtered table, and its bounds from MIN/MAX of it. Filters and search remain.
- Each row's checkbox and change link are written without a widget template render or a
  reverse() per row (the same markup).
- Notes, evidence and deadline changes store their action's authority (migrations 0015, 0016), so
  an authority's administrator's newest first is a range of that authority's own index, not
  every record in the country joined to its action (~800 ms for the largest authority's notes
  at a million actions).
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

import datetime
import html
from functools import cached_property
from urllib.parse import quote_plus

from django.contrib.admin import ShowFacets
from django.contrib.admin.helpers import ACTION_CHECKBOX_NAME
from django.contrib.admin.templatetags.admin_list import ResultList, _coerce_field_name
from django.contrib.admin.templatetags.admin_urls import add_preserved_filters
from django.contrib.admin.utils import (
    FieldIsAForeignKeyColumnName,
    _get_non_gfk_field,
    display_for_field,
    display_for_value,
    lookup_field,
    quote,
)
from django.contrib.admin.views.main import SEARCH_VAR, ChangeList
from django.core.exceptions import FieldDoesNotExist, ObjectDoesNotExist
from django.db import models
from django.db.models import Q
from django.urls import NoReverseMatch, reverse
from django.utils.safestring import mark_safe
from django.utils.translation import gettext

from improvement.models import User
from improvement.paging import COUNT_CAP, SEARCH_COUNT_CAP, CappedPaginator, count_label
from improvement.search import search_actions, search_notes, search_words, uses_search_vectors


class CappedCount(int):
    """A capped result count: compares as the number counted, prints as "more than 10,000"."""

    def __str__(self) -> str:
        return count_label(int(self), capped=True)


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

    def get_results(self, request):
        # The page's rows read only the columns the admin's `list_columns` names (those shown,
        # and those their __str__ reads), not every column of the row and of each related row.
        # Only the page: the bulk actions are given the changelist's full queryset.
        columns = getattr(self.model_admin, "list_columns", ())
        if not columns:
            return super().get_results(request)
        queryset = self.queryset
        self.queryset = queryset.only(*columns)
        try:
            return super().get_results(request)
        finally:
            self.queryset = queryset


class CappedCountAdmin:
    """For any changelist of a big table: capped count, no full count, no date hierarchy."""

    paginator = UnorderedCountPaginator
    # Django's changelist with its rows written by result_rows.
    change_list_template = "admin/improvement/quick_change_list.html"
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

    def get_changelist(self, request, **kwargs):
        return OneReverseChangeList

    def action_checkbox(self, obj):
        # The input Django's CheckboxInput renders, written directly: rendering the widget's
        # template once per row was a third of the changelist's time.
        # format_html's escaping, without its lazy-string wrappers: this runs once per row.
        label = gettext("Select this object for an action - {}").format(html.escape(str(obj)))
        value = html.escape(str(obj.pk))
        return mark_safe(  # noqa: S308 - the name is Django's constant, the values escaped
            f'<input type="checkbox" name="{ACTION_CHECKBOX_NAME}" value="{value}"'
            f' class="action-select" aria-label="{label}">'
        )

    def get_changelist_instance(self, request):
        changelist = super().get_changelist_instance(request)
        # Drawn from DISTINCT date_trunc over the whole table: left out at this scale.
        changelist.date_hierarchy = None
        if getattr(changelist.paginator, "is_capped", False):
            changelist.result_count = CappedCount(changelist.result_count)
        return changelist


def _named(term: str) -> list[int]:
    """The ids of the people whose username or surname is the term, through the user table's
    own indexes."""
    people = User.objects.filter(Q(username__iexact=term) | Q(last_name__iexact=term))
    return list(people.values_list("pk", flat=True))


class ActionAdminPerformance(CappedCountAdmin):
    """The action changelist: the above, and search through the GIN-indexed search vectors."""

    def get_search_results(self, request, queryset, search_term):
        term = search_term.strip()
        if not term or not uses_search_vectors():
            return super().get_search_results(request, queryset, search_term)
        # As for notes (below): the owners' ids first, so that both conditions are on the
        # action's own columns. As a subquery in the OR, PostgreSQL guessed half the actions
        # match and walked the due-date index through all of them for a word none has (2.2 s).
        by_text = search_actions(queryset, term)
        return (by_text | queryset.filter(owner_id__in=_named(term))), False


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
        by_text = search_notes(queryset, term)
        return (by_text | queryset.filter(author_id__in=_named(term))), False


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


# Rows of a changelist page, as Django's items_for_result writes them, in less time.


def _conditional_escape(value) -> str:
    # django.utils.html.conditional_escape without its lazy-string wrapper, called per cell.
    if hasattr(value, "__html__"):
        return value.__html__()
    return html.escape(str(value))


def _blank_to_empty(value):
    return "" if isinstance(value, str) and value.strip() == "" else value


def _field_cell(field, empty: str, avoid_link: bool):
    """The function giving a model field's cell content from its value (None if not a field's)."""
    if isinstance(field.remote_field, models.ManyToOneRel):
        # The related row's __str__ (select_related), as Django shows it.
        return lambda value: empty if value is None else value
    if field.flatchoices:
        try:
            labels = dict(field.flatchoices)
        except TypeError:
            labels = None
        if labels is not None:

            def label(value):
                try:
                    return labels.get(value, empty)
                except TypeError:
                    return display_for_field(value, field, empty, avoid_link=avoid_link)

            return label
    if type(field) in (models.CharField, models.TextField):
        return lambda value: empty if value in (None, "") else value
    # Dates, numbers, booleans...: Django's own display, once per distinct value on the page.
    seen: dict = {}

    def display(value):
        try:
            return seen[value]
        except KeyError:
            shown = seen[value] = display_for_field(value, field, empty, avoid_link=avoid_link)
            return shown
        except TypeError:
            return display_for_field(value, field, empty, avoid_link=avoid_link)

    return display


def result_rows(cl) -> list[ResultList] | None:
    """Each row of the page as one piece of markup: the cells Django's items_for_result gives.

    Django works out, for every cell, which kind of column it is in, its classes and empty value,
    and resolves and rewrites the change link's URL (a resolve() a row once filtered); the ten
    columns of fifty rows made this a third of the action changelist's time. Here each column is
    worked out once for the page, and the template writes each row once rather than each cell.
    Lists with editable columns, popups and other changelists keep Django's own rows (None).
    """
    if cl.formset or cl.is_popup or cl.to_field or not isinstance(cl, OneReverseChangeList):
        return None
    try:
        link_url = add_preserved_filters(
            {"preserved_filters": cl.preserved_filters, "opts": cl.opts}, cl._change_url
        )
    except NoReverseMatch:
        return None
    model_admin = cl.model_admin
    columns = []
    first = True  # the first linked column is the row's header, as in Django
    for index, name in enumerate(cl.list_display):
        columns.append(_column(cl, index, name, first))
        first = first and not columns[-1].link
    rows = []
    for result in cl.result_list:
        cells = []
        for column in columns:
            if column.field is None:
                shown, row_class = _other_cell(result, column, model_admin)
            else:
                try:
                    value = getattr(result, column.name)
                except ObjectDoesNotExist:
                    # As Django: the empty value, without the column's type class.
                    shown, row_class = column.empty, column.base_class
                else:
                    shown, row_class = column.cell(_blank_to_empty(value)), column.field_class
            shown = _conditional_escape(shown)
            if column.link:
                pk = str(quote(getattr(result, cl.pk_attname)))
                url = link_url.replace(OneReverseChangeList._MARK, pk, 1)
                shown = f'<a href="{html.escape(url)}">{shown}</a>'
            cells.append(f"<{column.tag}{row_class}>{shown}</{column.tag}>")
        # Every value was escaped above, as format_html would.
        rows.append(ResultList(None, [mark_safe("".join(cells))]))  # noqa: S308
    return rows


class _Column:
    tag = "td"

    def __init__(self, name, link: bool, empty: str, classes: list[str], field, cell):
        self.name, self.link, self.empty, self.field, self.cell = name, link, empty, field, cell
        self.classes = classes
        self.base_class = f' class="{classes[0]}"'
        self.field_class = f' class="{" ".join(classes)}"'


def _column(cl, index: int, name, first: bool) -> _Column:
    empty = cl.model_admin.get_empty_value_display()
    classes = [f"field-{_coerce_field_name(name, index)}"]
    links = cl.list_display_links
    link = links is not None and ((first and not links) or name in links)
    field = None
    if isinstance(name, str):
        try:
            field = _get_non_gfk_field(cl.lookup_opts, name)
        except (FieldDoesNotExist, FieldIsAForeignKeyColumnName):
            field = None
    if field is None or field.auto_created:
        column = _Column(name, link, empty, classes, None, _method_of(cl.model_admin, name, field))
    else:
        if isinstance(field, models.DateField | models.TimeField | models.ForeignKey):
            classes.append("nowrap")
        column = _Column(name, link, empty, classes, field, _field_cell(field, empty, link))
    if link:
        column.tag = "th" if first else "td"
    return column


def _method_of(model_admin, name, field):
    """The callable lookup_field would call with each row, if it is the same for every row."""
    if field is not None:
        return None
    if callable(name):
        return name
    if hasattr(model_admin, name) and name != "__str__":
        return getattr(model_admin, name)
    return None


def _other_cell(result, column: _Column, model_admin) -> tuple[str, str]:
    """A column that is not a model field (a method, property or callable), as Django shows it."""
    row_classes = column.classes
    try:
        if column.cell is not None:
            attr = column.cell
            value = attr(result)
        else:
            _field, attr, value = lookup_field(column.name, result, model_admin)
    except ObjectDoesNotExist:
        shown = column.empty
    else:
        empty = getattr(attr, "empty_value_display", column.empty)
        value = _blank_to_empty(value)
        if column.name == "action_checkbox":
            row_classes = ["action-checkbox"]
        boolean = getattr(attr, "boolean", False)
        if isinstance(attr, property) and hasattr(attr, "fget"):
            boolean = getattr(attr.fget, "boolean", False)
        shown = display_for_value(value, empty, boolean)
        if isinstance(value, datetime.date | datetime.time):
            row_classes = [*row_classes, "nowrap"]
    return shown, f' class="{" ".join(row_classes)}"'


# Filters of many choices (156 authorities): their links, as Django writes them, in less time.


class _QuickQueryStrings:
    """A changelist whose query string for one choice of `kwarg` is the marked one, filled in.

    Django builds each choice's link by copying, sorting and urlencoding all of the page's
    parameters; only the chosen value differs from one choice to the next, and it sorts by its
    key, so the link made once with a marker and the value put in its place is the same string.
    """

    _MARK = "QSMARK"  # letters only: urlencode leaves it as it is

    def __init__(self, changelist, kwarg: str, remove: list[str]):
        self._changelist, self._kwarg, self._remove = changelist, kwarg, remove
        marked = changelist.get_query_string({kwarg: self._MARK}, remove)
        # The marker must be found once, in the place of the value: else, Django's way.
        self._marked = marked if marked.count(self._MARK) == 1 else None

    def __getattr__(self, name):
        return getattr(self._changelist, name)

    def get_query_string(self, new_params=None, remove=None):
        if (
            self._marked is not None
            and remove == self._remove
            and new_params is not None
            and len(new_params) == 1
            and self._kwarg in new_params
            and new_params[self._kwarg] is not None
        ):
            return self._marked.replace(self._MARK, quote_plus(str(new_params[self._kwarg])))
        return self._changelist.get_query_string(new_params, remove)


class QuickChoicesFilter:
    """Mixed into a RelatedFieldListFilter first: its choices' links made from one marked link.

    (The project's admin/filter.html then writes them in one filter, admin_rows.filter_choice_items,
    rather than a template loop: the same markup.)
    """

    def choices(self, changelist):
        if changelist.add_facets:
            return super().choices(changelist)
        quick = _QuickQueryStrings(changelist, self.lookup_kwarg, [self.lookup_kwarg_isnull])
        return super().choices(quick)
