"""Paging that never counts a million rows: the count stops at a cap ("more than 10,000").

Django's Paginator counts the whole filtered queryset on every page. This one counts at most
`cap` rows (or up to the page asked for, so that any page deep in the list still opens), as
`SELECT COUNT(*) FROM (... LIMIT n)`, which an index scan answers without reading the rest; and
it reads a page as its ids first, then those rows (see `page`). A search passes a lower cap:
each match it counts is a row read and checked against the words.
"""

from __future__ import annotations

import contextlib
from functools import cached_property

from django.core.paginator import InvalidPage, Paginator
from django.db.models import QuerySet
from django.utils.formats import number_format

COUNT_CAP = 10_000

# A search counts its matches only this far ("more than 100", four pages of the action list: a
# person narrows the words rather than reading further): every match is a row checked against
# the words, where a plain list counts from an index alone. In the largest authority at a
# million actions a common word matches one action in ten, so each match is ten rows read.
SEARCH_COUNT_CAP = 100


def count_label(count: int, *, capped: bool) -> str:
    """A count as a page says it: "1,234", or "more than 10,000" when counting stopped there."""
    number = number_format(count, force_grouping=True)
    return f"more than {number}" if capped else number


class CappedPaginator(Paginator):
    def __init__(
        self,
        object_list,
        per_page,
        *,
        cap: int | None = None,
        ids_first: bool = True,
        count_in_order: bool = True,
        **kwargs,
    ):
        super().__init__(object_list, per_page, **kwargs)
        self.cap = COUNT_CAP if cap is None else cap
        self.ids_first = ids_first
        # Whether the count keeps the list's order. Unordered, PostgreSQL may count from any
        # index that holds the filtered columns and stop at the cap, where the order makes it
        # sort every match first. In order is better only when each row's check is dear and
        # the sort's index reads rows already in order (a search): it stops at the cap.
        self.count_in_order = count_in_order
        self._wanted_page = 1

    def get_page(self, number):
        try:
            self._wanted_page = max(1, int(number))
        except (TypeError, ValueError):
            self._wanted_page = 1
        return super().get_page(number)

    def page(self, number):
        with contextlib.suppress(TypeError, ValueError):
            self._wanted_page = max(self._wanted_page, int(number))
        if not self.ids_first or not isinstance(self.object_list, QuerySet):
            return super().page(number)
        number = self.validate_number(number)
        bottom = (number - 1) * self.per_page
        top = bottom + self.per_page
        if top + self.orphans >= self.count:
            top = self.count
        # A deferred join: the page's ids first, read from the sort's index alone (an index-only
        # scan skips the offset's rows without fetching them), then only those rows in full.
        # Done on every page, so a page costs the same queries wherever it is in the list.
        ids = list(self.object_list.values_list("pk", flat=True)[bottom:top])
        rows = self.object_list.filter(pk__in=ids)
        return self._get_page(rows, number, self)

    @cached_property
    def _counted(self) -> tuple[int, bool]:
        # Count one row past the limit to know whether there are more.
        limit = max(self.cap, self._wanted_page * self.per_page)
        if hasattr(self.object_list, "count_up_to"):
            # A sequence that knows how to count itself cheaply (selectors.actions.OwnerActionList).
            seen = self.object_list.count_up_to(limit + 1)
            return min(seen, limit), seen > limit
        if not hasattr(self.object_list, "query"):
            total = len(self.object_list)
            return min(total, limit), total > limit
        rows = self.object_list if self.count_in_order else self.object_list.order_by()
        # Only the ids in the counted subquery: the annotations a list carries (the rulebook's
        # states) would be compiled into it and computed for every row counted.
        seen = rows.values("pk")[: limit + 1].count()
        return min(seen, limit), seen > limit

    @cached_property
    def count(self) -> int:
        return self._counted[0]

    @property
    def is_capped(self) -> bool:
        """True when there are more rows than were counted."""
        return self._counted[1]

    @cached_property
    def num_pages(self) -> int:
        pages = super().num_pages
        # One page more than counted when capped, so that "Next" still leads on.
        return pages + 1 if self.is_capped else pages

    @property
    def count_label(self) -> str:
        """The count as a page says it: "1,234", or "more than 10,000"."""
        return count_label(self.count, capped=self.is_capped)


__all__ = ["COUNT_CAP", "CappedPaginator", "InvalidPage"]
