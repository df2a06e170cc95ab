"""The action list's filters: every query parameter that the dashboard and other pages link to.

Parameters: status, rag, impact, owner, team, authority, inspection, area, theme, overdue=1,
due_within=N, stale=1, slipped=1, awaiting_sign_off=1, q, sort. Option lists are limited to the
user's scope and each costs one query however many options it has.
"""

from __future__ import annotations

import datetime as dt

import django_filters
from django import forms
from django.db.models import Case, Exists, F, OuterRef, Q, QuerySet, Value, When
from django.utils import timezone

from improvement import rulebook, scope
from improvement.models import (
    Action,
    Authority,
    ImprovementArea,
    Inspection,
    Team,
    Theme,
    User,
)
from improvement.search import search_actions

SORT_CHOICES = [
    ("due_date", "Due date (soonest first)"),
    ("-due_date", "Due date (latest first)"),
    ("title", "Title (A to Z)"),
    ("-title", "Title (Z to A)"),
    ("rag", "RAG (red first)"),
    ("-rag", "RAG (green first)"),
    ("status", "Status (not started first)"),
    ("-status", "Status (delivered first)"),
    ("owner", "Owner (A to Z)"),
    ("-owner", "Owner (Z to A)"),
    ("updated", "Last updated (oldest first)"),
    ("-updated", "Last updated (newest first)"),
]
DEFAULT_SORT = "due_date"

# Meaningful orders rather than alphabetical ones: red before amber, not started before delivered.
_RAG_RANK = Case(
    *(When(rag=value, then=Value(rank)) for rank, value in enumerate(["red", "amber", "green"])),
    default=Value(3),
)
_STATUS_RANK = Case(
    *(
        When(delivery_status=value, then=Value(rank))
        for rank, value in enumerate(Action.DeliveryStatus.values)
    ),
    default=Value(3),
)
_SORT_KEYS = {
    "due_date": ["due_date"],
    "title": ["title"],
    "rag": [_RAG_RANK],
    "status": [_STATUS_RANK],
    "owner": ["owner__last_name", "owner__first_name", "owner__username"],
    "updated": [rulebook.last_update()],
}


class FlagWidget(forms.CheckboxInput):
    """A checkbox that is on only for "1" (or "true"/"on"), unlike Django's, where "0" is on."""

    def __init__(self, attrs=None):
        super().__init__(attrs, check_test=bool)

    def value_from_datadict(self, data, files, name) -> bool:
        return str(data.get(name, "")).strip().lower() in {"1", "true", "on"}

    def format_value(self, value):
        return "1"


class FlagField(forms.BooleanField):
    widget = FlagWidget

    def to_python(self, value):
        # None, not False, when off: django-filter skips a method filter only for empty values.
        return True if super().to_python(value) else None


class FlagFilter(django_filters.Filter):
    """A yes-only filter written as name=1 in the URL; anything else means "not applied"."""

    field_class = FlagField


def _user(request):
    return getattr(request, "user", None)


def _owners(request) -> QuerySet[User]:
    actions = scope.restrict(Action.objects.filter(owner=OuterRef("pk")), _user(request))
    return User.objects.filter(Exists(actions)).order_by("last_name", "first_name", "username")


def _teams(request) -> QuerySet[Team]:
    return scope.restrict(Team.objects.order_by("name", "pk"), _user(request))


def _authorities(request) -> QuerySet[Authority]:
    return scope.authorities_for(_user(request))


def _inspections(request) -> QuerySet[Inspection]:
    # str(inspection) names its authority, so select it rather than ask once per option.
    inspections = Inspection.objects.select_related("authority").order_by(
        "authority__name", "-start_date", "-publication_date", "-pk"
    )
    return scope.restrict(inspections, _user(request))


def _areas(request) -> QuerySet[ImprovementArea]:
    areas = ImprovementArea.objects.order_by("inspection_id", "position")
    return scope.restrict(areas, _user(request))


def _themes(request) -> QuerySet[Theme]:
    return Theme.objects.order_by("name")


class ActionFilter(django_filters.FilterSet):
    """Filters for the action list; the queryset handed in is already limited to the user."""

    q = django_filters.CharFilter(
        label="Search",
        method="filter_text",
        max_length=200,
        help_text="Words in the title, description, reference or progress notes",
    )
    status = django_filters.ChoiceFilter(
        label="Delivery status",
        field_name="delivery_status",
        choices=Action.DeliveryStatus.choices,
        empty_label="Any status",
    )
    rag = django_filters.ChoiceFilter(
        label="RAG rating", choices=Action.Rag.choices, empty_label="Any RAG rating"
    )
    impact = django_filters.ChoiceFilter(
        label="Impact",
        field_name="impact_status",
        choices=Action.ImpactStatus.choices,
        empty_label="Any impact status",
    )
    owner = django_filters.ModelChoiceFilter(
        label="Owner", queryset=_owners, empty_label="Any owner"
    )
    team = django_filters.ModelChoiceFilter(
        label="Team or partner agency", queryset=_teams, empty_label="Any team"
    )
    authority = django_filters.ModelChoiceFilter(
        label="Authority", queryset=_authorities, empty_label="Any authority"
    )
    inspection = django_filters.ModelChoiceFilter(
        label="Inspection",
        queryset=_inspections,
        method="filter_inspection",
        empty_label="Any inspection",
    )
    area = django_filters.ModelChoiceFilter(
        label="Improvement area",
        queryset=_areas,
        field_name="improvement_areas",
        empty_label="Any improvement area",
    )
    theme = django_filters.ModelChoiceFilter(
        label="Theme",
        queryset=_themes,
        to_field_name="slug",
        method="filter_theme",
        empty_label="Any theme",
    )
    overdue = FlagFilter(label="Overdue", method="filter_overdue")
    due_within = django_filters.NumberFilter(
        label="Due within (days)",
        method="filter_due_within",
        min_value=0,
        max_value=3650,
        decimal_places=0,
    )
    stale = FlagFilter(
        label=f"No update for {rulebook.STALE_AFTER_DAYS} days", method="filter_stale"
    )
    slipped = FlagFilter(label="Re-dated twice or more", method="filter_slipped")
    awaiting_sign_off = FlagFilter(
        label="Delivered, awaiting sign-off", method="filter_awaiting_sign_off"
    )
    sort = django_filters.ChoiceFilter(
        label="Sort by", choices=SORT_CHOICES, method="filter_sort", empty_label=None
    )

    class Meta:
        model = Action
        fields: list[str] = []

    def __init__(
        self, *args, today: dt.date | None = None, now: dt.datetime | None = None, **kwargs
    ):
        super().__init__(*args, **kwargs)
        self.today = today or timezone.localdate()
        self.now = now or timezone.now()

    @property
    def sort_value(self) -> str:
        """The sort in force: the valid one asked for, else the default."""
        if self.is_bound:
            self.form.is_valid()
        return getattr(self.form, "cleaned_data", {}).get("sort") or DEFAULT_SORT

    def filter_queryset(self, queryset: QuerySet[Action]) -> QuerySet[Action]:
        queryset = super().filter_queryset(queryset)
        key = self.sort_value
        descending = key.startswith("-")
        expressions = _SORT_KEYS[key.lstrip("-")]
        ordering = []
        for expression in expressions:
            expression = F(expression) if isinstance(expression, str) else expression
            ordering.append(expression.desc() if descending else expression.asc())
        return queryset.order_by(*ordering, "-pk" if descending else "pk")

    def filter_sort(self, queryset, name, value):
        # Applied in filter_queryset, after every other filter.
        return queryset

    def filter_text(self, queryset: QuerySet[Action], name: str, value: str) -> QuerySet[Action]:
        return search_actions(queryset, value)

    def filter_inspection(self, queryset, name, value):
        # EXISTS, not a join: an action answering two areas of one inspection stays one row.
        links = Action.improvement_areas.through.objects.filter(
            action_id=OuterRef("pk"), improvementarea__inspection=value
        )
        return queryset.filter(Exists(links))

    def filter_theme(self, queryset, name, value):
        # Tagged on the action itself, or on an improvement area it answers.
        on_action = Action.themes.through.objects.filter(action_id=OuterRef("pk"), theme=value)
        on_area = Action.improvement_areas.through.objects.filter(
            action_id=OuterRef("pk"), improvementarea__themes=value
        )
        return queryset.filter(Q(Exists(on_action)) | Q(Exists(on_area)))

    def filter_overdue(self, queryset, name, value):
        return queryset.filter(rulebook.overdue(today=self.today))

    def filter_due_within(self, queryset, name, value):
        if value is None:
            return queryset
        return queryset.filter(rulebook.due_soon(today=self.today, days=int(value)))

    def filter_stale(self, queryset, name, value):
        return queryset.filter(rulebook.stale(now=self.now))

    def filter_slipped(self, queryset, name, value):
        return queryset.filter(rulebook.slipped())

    def filter_awaiting_sign_off(self, queryset, name, value):
        return queryset.filter(rulebook.awaiting_sign_off())
