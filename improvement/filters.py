"""The action list's filters: every query parameter that the dashboard and other pages link to.

Parameters: status, rag, impact, owner, team, authority, inspection, area, theme, overdue=1,
due_within=N, stale=1, slipped=1, awaiting_sign_off=1, q, sort. Any value in the user's scope is
accepted (a link from the dashboard may name any of them); the options each select offers are
fewer (`ActionFilter.offer_choices`): one authority's owners, teams and inspections, one
inspection's improvement areas, so that no select lists thousands of options. Each list costs one
query however many options it has.
"""

from __future__ import annotations

import datetime as dt
from html import escape

import django_filters
from django import forms
from django.db.models import Case, Exists, F, OuterRef, Q, QuerySet, Value, When
from django.db.models.expressions import RawSQL
from django.forms.utils import flatatt
from django.utils import timezone
from django.utils.safestring import mark_safe

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


# The distinct owners of one authority's (or team's) actions, one probe of the (authority, owner)
# or (team, owner) index per owner (a "skip scan"), instead of reading every one of its actions
# or every user; it stops at the LIMIT. Standard SQL, so SQLite runs it too.
_OWNER_IDS = """
    WITH RECURSIVE owner_ids(id) AS (
        SELECT MIN(owner_id) FROM {table} WHERE {column} = %s
        UNION ALL
        SELECT (SELECT MIN(owner_id) FROM {table} WHERE {column} = %s AND owner_id > owner_ids.id)
        FROM owner_ids WHERE owner_ids.id IS NOT NULL
    )
    SELECT id FROM owner_ids WHERE id IS NOT NULL LIMIT %s
"""
# More names than anyone reads down a select: past this, owners are offered one team at a time.
OWNER_OPTIONS_MAX = 300
TEAM_FIRST = (
    f"More than {OWNER_OPTIONS_MAX} people own actions here: choose a team first, "
    "then apply the filters"
)


# A team is as far as the choice narrows: one with more owners than that offers none.
TEAM_TOO_MANY = (
    f"More than {OWNER_OPTIONS_MAX} people own this team's actions, too many to list: "
    "narrow the list with the other filters"
)


def _owner_options(*, authority_id: int, team_id: int | None) -> list[tuple[int, str]] | None:
    """(id, name) of the people who own any of one authority's actions, by surname; or of one
    team's actions when a team is chosen. None when there are more than OWNER_OPTIONS_MAX.

    Read as values, not model instances: a large authority has thousands of owners.
    """
    column, value = ("team_id", team_id) if team_id else ("authority_id", authority_id)
    limit = OWNER_OPTIONS_MAX + 1
    owner_ids = RawSQL(  # noqa: S611 - fixed SQL, the values travel as parameters
        _OWNER_IDS.format(table=Action._meta.db_table, column=column),
        [value, value, limit],
    )
    rows = list(
        User.objects.filter(pk__in=owner_ids)
        .order_by("last_name", "first_name", "username")
        .values_list("pk", "first_name", "last_name", "username")
    )
    if len(rows) >= limit:
        return None
    return [(pk, User.name_from(first, last, username)) for pk, first, last, username in rows]


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
    # With its inspection, so that a chosen area also tells which inspection's areas to offer.
    areas = ImprovementArea.objects.select_related("inspection").order_by(
        "inspection_id", "position"
    )
    return scope.restrict(areas, _user(request))


def _themes(request) -> QuerySet[Theme]:
    return Theme.objects.order_by("name")


class OptionSelect(forms.Select):
    """A select over ready (value, label) pairs, drawn without a template per option.

    The same markup as Django's Select; a few thousand owners cost milliseconds, not a second.
    """

    def render(self, name, value, attrs=None, renderer=None):
        chosen = set(self.format_value(value))
        # The standard library's escape: Django's, lazy-aware, costs several times as much.
        options = "".join(
            f'<option value="{escape(str(option))}"{" selected" if str(option) in chosen else ""}>'
            f"{escape(str(label))}</option>"
            for option, label in self.choices
        )
        attributes = flatatt({**self.build_attrs(self.attrs, attrs), "name": name})
        return mark_safe(f"<select{attributes}>{options}</select>")  # noqa: S308 - escaped above


class PlainInput(forms.TextInput):
    """A text input drawn without Django's widget templates, as OptionSelect draws a select."""

    def render(self, name, value, attrs=None, renderer=None):
        value = self.format_value(value)
        attributes = {"type": self.input_type, "name": name}
        if value is not None:
            attributes["value"] = value
        attributes.update(self.build_attrs(self.attrs, attrs))
        return mark_safe(f"<input{flatatt(attributes)}>")  # noqa: S308 - flatatt escapes


# What str(inspection) reads: the options are labelled from these columns alone.
INSPECTION_LABEL_FIELDS = ("kind", "start_date", "publication_date", "authority__name")

AUTHORITY_FIRST = "Choose an authority first, then apply the filters"
INSPECTION_FIRST = "Choose an inspection first, then apply the filters"


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
    def form(self):
        if not hasattr(self, "_form"):
            form = super().form
            # Every control drawn without a template per option or per input: the choice
            # filters' selects here, the owner, team and other lists in offer_choices.
            for name in ("status", "rag", "impact", "sort"):
                field = form.fields[name]
                field.widget = OptionSelect(attrs=field.widget.attrs, choices=field.choices)
            for name in ("q", "due_within"):
                form.fields[name].widget = PlainInput(attrs=form.fields[name].widget.attrs)
        return self._form

    def selects(self, names: tuple[str, ...]) -> list:
        """The bound select fields among `names` that this user is offered: the authority only
        to those who reach many (a leader's own is the only one there is)."""
        reaches_many = scope.reaches_many(_user(self.request))
        return [self.form[name] for name in names if name != "authority" or reaches_many]

    @property
    def sort_value(self) -> str:
        """The sort in force: the valid one asked for, else the default."""
        if self.is_bound:
            self.form.is_valid()
        return getattr(self.form, "cleaned_data", {}).get("sort") or DEFAULT_SORT

    @property
    def is_search(self) -> bool:
        """True when words are searched for (a search's count is capped lower)."""
        if self.is_bound:
            self.form.is_valid()
        return bool((getattr(self.form, "cleaned_data", {}).get("q") or "").strip())

    def offer_choices(self) -> None:
        """Narrow what the owner, team, inspection and area selects offer; one query per list.

        Owners, teams and inspections are those of one authority: the chosen one (or the
        chosen inspection's or area's), or the user's own when they reach only one; a user who
        reaches many is asked to choose an authority first. Areas are the chosen inspection's.
        The value chosen, in scope, is always offered, so a linked filter shows as selected.
        """
        form = self.form
        if self.is_bound:
            form.is_valid()
        chosen = getattr(form, "cleaned_data", {})
        user = _user(self.request)
        area, inspection = chosen.get("area"), chosen.get("inspection")
        inspection_id = inspection.pk if inspection else (area.inspection_id if area else None)
        if chosen.get("authority"):
            authority_id = chosen["authority"].pk
        elif inspection or area:
            authority_id = (inspection or area.inspection).authority_id
        elif scope.reach_of(user) == User.Reach.AUTHORITY:
            authority_id = user.authority_id
        else:
            authority_id = None

        def offer(name: str, options: list[tuple] | None, hint: str) -> None:
            field = form.fields[name]
            options = list(options or [])
            key = field.to_field_name or "pk"
            selected = chosen.get(name)
            if selected is not None and getattr(selected, key) not in {o for o, _ in options}:
                options.insert(0, (getattr(selected, key), str(selected)))
            # The bound field copied the help text when validation made it.
            field.help_text = form[name].help_text = hint
            field.widget = OptionSelect(
                attrs=field.widget.attrs, choices=[("", field.empty_label), *options]
            )

        def labelled(queryset, key="pk") -> list[tuple]:
            return [(getattr(option, key), str(option)) for option in queryset]

        if authority_id is None:
            for name in ("owner", "team", "inspection"):
                offer(name, None, AUTHORITY_FIRST)
        else:
            team = chosen.get("team")
            owners = _owner_options(authority_id=authority_id, team_id=team.pk if team else None)
            too_many = TEAM_TOO_MANY if team else TEAM_FIRST
            offer("owner", owners, "" if owners is not None else too_many)
            teams = _teams(self.request).filter(authority_id=authority_id).only("name")
            offer("team", labelled(teams), "")
            inspections = (
                _inspections(self.request)
                .filter(authority_id=authority_id)
                .only(*INSPECTION_LABEL_FIELDS)
            )
            offer("inspection", labelled(inspections), "")
        if inspection_id is None:
            offer("area", None, INSPECTION_FIRST)
        else:
            areas = _areas(self.request).filter(inspection_id=inspection_id).only("text")
            offer("area", labelled(areas.select_related(None)), "")
        if scope.reaches_many(user):
            # Offered only to those who choose among authorities (see ActionFilter.selects).
            offer("authority", labelled(form.fields["authority"].queryset.only("name")), "")
        offer("theme", labelled(form.fields["theme"].queryset.only("slug", "name"), "slug"), "")

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
