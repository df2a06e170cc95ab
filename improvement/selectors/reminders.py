"""What each person will be sent: owners' daily reminders and senior leaders' weekly digest.

The reminder run (management command send_reminders) and the "Your emails" page both read
these, so what a person previews is what they will be sent; only the digest's counts may be
shown from a few minutes earlier (see DIGEST_COUNTS_KEY), and the page then says so. Every
action state is the rulebook's own definition.
"""

from __future__ import annotations

import datetime as dt
import itertools
from collections.abc import Iterator
from dataclasses import dataclass, field
from urllib.parse import quote

from django.core.cache import cache as shared_cache
from django.db.models import (
    BooleanField,
    Case,
    Count,
    Exists,
    ExpressionWrapper,
    Max,
    OuterRef,
    Q,
    QuerySet,
    Subquery,
    Value,
    When,
)
from django.urls import reverse

from improvement import roles, rulebook, scope
from improvement.models import (
    Action,
    BoardMeeting,
    DueDateChange,
    EmailPreference,
    SentNotification,
    User,
)
from improvement.selectors.dashboard import LARGE_PLAN_ACTIONS, figures_cache_seconds
from improvement.selectors.rounds import current_rounds

# Owners' sections, most urgent first: an action is listed once, under the first that applies.
OVERDUE = "overdue"
ROUND = "round"
DUE_SOON = "due_soon"
NO_UPDATE = "no_update"
OWNER_SECTIONS = (OVERDUE, ROUND, DUE_SOON, NO_UPDATE)
OWNER_SECTION_TITLES = {
    OVERDUE: "Overdue",
    ROUND: "Update asked for the improvement board",
    DUE_SOON: f"Due within {rulebook.DUE_REMINDER_DAYS} days",
    NO_UPDATE: f"No update for {rulebook.STALE_AFTER_DAYS} days",
}
# The preference that switches each section off; overdue reminders cannot be switched off.
OWNER_SECTION_PREFERENCE = {ROUND: "round_requests", DUE_SOON: "due_soon", NO_UPDATE: "no_update"}

WEEKDAYS = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")

# How many actions a digest lists per section; the counts are always complete.
DIGEST_LIST_LIMIT = 10


def _flag(condition: Q) -> ExpressionWrapper:
    return ExpressionWrapper(
        Case(When(condition, then=Value(True)), default=Value(False)), output_field=BooleanField()
    )


def preference_of(user: User) -> EmailPreference:
    """The user's preferences (unsaved defaults when they have never changed them)."""
    try:
        return user.email_preference
    except EmailPreference.DoesNotExist:
        return EmailPreference(user=user)


def wants(user: User, preference: str) -> bool:
    return bool(getattr(preference_of(user), preference))


def week_start(day: dt.date) -> dt.date:
    return day - dt.timedelta(days=day.weekday())


def _sent(kind: str, day: dt.date):
    return Exists(SentNotification.objects.filter(recipient=OuterRef("pk"), kind=kind, day=day))


@dataclass
class ReminderItem:
    action: Action
    # Every section that applies, the first being where the action is listed.
    reasons: list[str]
    meeting: BoardMeeting | None = None

    @property
    def also(self) -> list[str]:
        return [OWNER_SECTION_TITLES[r] for r in self.reasons[1:]]


@dataclass
class OwnerReminder:
    owner: User
    sections: dict[str, list[ReminderItem]] = field(default_factory=dict)

    @property
    def items(self) -> list[ReminderItem]:
        return [item for key in OWNER_SECTIONS for item in self.sections.get(key, [])]

    @property
    def section_list(self) -> list[tuple[str, str, list[ReminderItem]]]:
        return [
            (key, OWNER_SECTION_TITLES[key], self.sections[key])
            for key in OWNER_SECTIONS
            if self.sections.get(key)
        ]


def _round_condition(rounds: dict[int, BoardMeeting]) -> Q:
    """Open actions of an authority with a running round, not yet updated in it (the rulebook's
    updated_in_round, which the round's coverage counts too)."""
    condition = Q(pk__in=[])
    for authority_id, meeting in rounds.items():
        condition |= Q(authority_id=authority_id) & ~Q(rulebook.updated_in_round(meeting))
    return condition & rulebook.not_closed()


def owner_reminders(
    *,
    today: dt.date,
    now: dt.datetime,
    owner_ids=None,
    exclude_sent: bool = True,
) -> Iterator[OwnerReminder]:
    """Each owner's daily reminder (owners with nothing to hear of are not yielded).

    Two queries whatever the number of owners: the running rounds, then the actions, streamed
    in owner order. Owners already sent today's reminder are skipped when `exclude_sent`.
    """
    rounds = current_rounds(today=today)
    conditions = {
        OVERDUE: rulebook.overdue(today=today) & rulebook.not_closed(),
        ROUND: _round_condition(rounds),
        DUE_SOON: rulebook.due_soon(today=today, days=rulebook.DUE_REMINDER_DAYS),
        NO_UPDATE: rulebook.stale(now=now),
    }
    any_condition = Q(pk__in=[])
    for condition in conditions.values():
        any_condition |= condition
    owners = User.objects.filter(is_active=True).exclude(email="")
    if exclude_sent:
        owners = owners.exclude(_sent(SentNotification.Kind.OWNER_DAILY, today))
    actions = (
        Action.objects.filter(any_condition, owner__in=owners)
        .annotate(**{f"reminder_{key}": _flag(cond) for key, cond in conditions.items()})
        .select_related("owner__email_preference", "authority")
        .order_by("owner_id", "due_date", "pk")
    )
    if owner_ids is not None:
        actions = actions.filter(owner_id__in=owner_ids)
    for _, group in itertools.groupby(actions.iterator(chunk_size=2000), key=lambda a: a.owner_id):
        reminder = None
        for action in group:
            if reminder is None:
                reminder = OwnerReminder(owner=action.owner)
                preference = preference_of(action.owner)
            reasons = [
                key
                for key in OWNER_SECTIONS
                if getattr(action, f"reminder_{key}")
                and getattr(preference, OWNER_SECTION_PREFERENCE.get(key, ""), True)
            ]
            if reasons:
                item = ReminderItem(
                    action=action, reasons=reasons, meeting=rounds.get(action.authority_id)
                )
                reminder.sections.setdefault(reasons[0], []).append(item)
        if reminder is not None and reminder.sections:
            yield reminder


# Senior leaders' weekly exception digest.

DIGEST_SECTIONS = (
    ("overdue", "Overdue", "overdue=1"),
    ("off_track", "Off track (red)", "rag=red"),
    ("slipped", f"Slipped (re-dated {rulebook.SLIPPED_AFTER_CHANGES} times or more)", "slipped=1"),
    ("stale", f"No update for {rulebook.STALE_AFTER_DAYS} days", "stale=1"),
    ("awaiting_sign_off", "Delivered, awaiting sign-off", "awaiting_sign_off=1"),
)


@dataclass
class DigestSection:
    key: str
    title: str
    count: int
    items: list
    # Path of the full list in the tracker (the action list filtered, or the register).
    path: str


@dataclass
class LeaderDigest:
    leader: User
    week_of: dt.date
    sections: list[DigestSection]
    # When the counts were counted, if the preview reused an earlier count; None when counted
    # for this digest. behind_changes: actions in reach have changed since (a large plan).
    counted_at: dt.datetime | None = None
    behind_changes: bool = False

    @property
    def total(self) -> int:
        return sum(section.count for section in self.sections)


# The digest's counts read every action in the leader's reach (a hundred thousand rows for the
# largest authority at a million actions), so the "Your emails" preview keeps them in the shared
# cache under the dashboard's rule: reused for DASHBOARD_FIGURES_CACHE_SECONDS at most, and only
# while no action in reach has changed since (its latest `updated_at`), except in a reach of
# LARGE_PLAN_ACTIONS or more, which is recounted on the timer alone. The page says when reused
# counts were counted, and whether changes since are not in them. The reminder run always counts
# afresh, and so renews them.
DIGEST_COUNTS_KEY = "digest-counts:v2"


# When a change that moves no `updated_at` (a deleted action, say) was last committed anywhere:
# counts of a small plan counted before it are counted again (services.plan_figures_changed).
DIGEST_CHANGED_KEY = f"{DIGEST_COUNTS_KEY}:changed"
_NOTHING_CHANGED = dt.datetime.min.replace(tzinfo=dt.UTC)


def digest_counts_key(reach: str | None, where, today: dt.date) -> str:
    """The cache key of one reach's digest counts: `where` is the authority's id for an
    authority's reach, the region for a regional one, "" for the national one."""
    return f"{DIGEST_COUNTS_KEY}:{reach}:{quote(str(where), safe='')}:{today.isoformat()}"


@dataclass
class DigestCounts:
    counts: dict[str, int]
    # When counted, if reused from the cache; None when counted for this digest.
    counted_at: dt.datetime | None = None
    behind_changes: bool = False


def _digest_conditions(*, today: dt.date, now: dt.datetime) -> dict[str, Q]:
    return {
        "overdue": rulebook.overdue(today=today) & rulebook.not_closed(),
        "off_track": rulebook.off_track(),
        "slipped": rulebook.slipped() & rulebook.not_closed(),
        "stale": rulebook.stale(now=now),
        "awaiting_sign_off": rulebook.awaiting_sign_off(),
    }


def latest_change_in_reach(user: User) -> dt.datetime | None:
    """The latest `updated_at` of the actions the user reaches: one probe of the (authority,
    updated_at) index per authority in reach, not a sort of all their actions."""
    latest = (
        Action.objects.filter(authority=OuterRef("pk"))
        .order_by("-updated_at")
        .values("updated_at")[:1]
    )
    return scope.authorities_for(user).order_by().aggregate(latest=Max(Subquery(latest)))["latest"]


def _digest_counts(
    leader: User,
    actions: QuerySet[Action],
    conditions: dict[str, Q],
    *,
    today: dt.date,
    now: dt.datetime,
    reuse: bool,
) -> DigestCounts:
    seconds = figures_cache_seconds()
    reach = scope.reach_of(leader)
    where = {scope.Reach.AUTHORITY: leader.authority_id, scope.Reach.REGION: leader.region}
    key = digest_counts_key(reach, where.get(reach, ""), today)
    changed = latest_change_in_reach(leader) if seconds else None
    if reuse and seconds:
        found = shared_cache.get_many([key, DIGEST_CHANGED_KEY])
        if key in found:
            counted_at, counted_change, counts = found[key]
            fresh = now - counted_at < dt.timedelta(seconds=seconds)
            large = counts["total"] >= LARGE_PLAN_ACTIONS
            marked = found.get(DIGEST_CHANGED_KEY)
            unchanged = counted_change == changed and (marked is None or marked < counted_at)
            if fresh and (unchanged or large):
                return DigestCounts(counts, counted_at, behind_changes=counted_change != changed)
    # COUNT(1), not COUNT(id): every column the conditions read is in the covering index on the
    # authority (scale_action_auth_states) but the id is not, and counting ids sent PostgreSQL to
    # the rows themselves (the largest authority's figures 360-560 -> 25-55 ms at 1M actions).
    counts = actions.order_by().aggregate(
        total=Count(Value(1)),
        **{name: Count(Value(1), filter=condition) for name, condition in conditions.items()},
    )
    if seconds:
        shared_cache.set(key, (now, changed, counts), seconds)
        # While the mark is there, the services know some counts are kept and mark changes:
        # it lasts as long as the newest counts.
        if not shared_cache.add(DIGEST_CHANGED_KEY, _NOTHING_CHANGED, seconds):
            shared_cache.touch(DIGEST_CHANGED_KEY, seconds)
    return DigestCounts(counts)


def _digest_sections(
    leader: User, *, today: dt.date, now: dt.datetime, with_items: bool, reuse_counts: bool
) -> tuple[list[DigestSection], DigestCounts]:
    conditions = _digest_conditions(today=today, now=now)
    actions = scope.restrict(Action.objects.all(), leader)
    counted = _digest_counts(leader, actions, conditions, today=today, now=now, reuse=reuse_counts)
    counts = counted.counts
    sections = []
    for key, title, query in DIGEST_SECTIONS:
        items = []
        if with_items and counts[key]:
            items = list(
                actions.filter(conditions[key])
                .select_related("owner", "authority")
                .order_by("due_date", "pk")[:DIGEST_LIST_LIMIT]
            )
        path = f"{reverse('improvement:action-list')}?{query}"
        sections.append(DigestSection(key, title, counts[key], items, path))
    pending = scope.restrict(
        DueDateChange.objects.filter(status=DueDateChange.Status.PENDING), leader
    ).select_related("action__owner", "action__authority", "requested_by")
    if with_items:
        pending_items = list(pending.order_by("created_at", "pk")[:DIGEST_LIST_LIMIT])
        pending_count = (
            len(pending_items) if len(pending_items) < DIGEST_LIST_LIMIT else pending.count()
        )
    else:
        pending_items, pending_count = [], pending.count()
    sections.append(
        DigestSection(
            "awaiting_decision",
            "Deadline changes awaiting a decision",
            pending_count,
            pending_items,
            reverse("improvement:deadline-list"),
        )
    )
    return sections, counted


def senior_leaders():
    return (
        User.objects.filter(is_active=True, groups__name=roles.SENIOR_LEADER)
        .exclude(email="")
        .select_related("email_preference")
        .order_by("pk")
        .distinct()
    )


def leader_digests(
    *,
    today: dt.date,
    now: dt.datetime,
    leader_ids=None,
    exclude_sent: bool = True,
    respect_preferences: bool = True,
    with_items: bool = True,
    reuse_counts: bool = False,
) -> Iterator[LeaderDigest]:
    """Each senior leader's digest for the week of `today`; leaders of one scope share the reads.
    `with_items=False`: the counts only, without each section's first actions (the preview page
    shows the counts). `reuse_counts`: the counts may come from the cache (see DIGEST_COUNTS_KEY);
    the digest's `counted_at` then says when they were counted."""
    week_of = week_start(today)
    leaders = senior_leaders()
    if leader_ids is not None:
        leaders = leaders.filter(pk__in=leader_ids)
    if exclude_sent:
        leaders = leaders.exclude(_sent(SentNotification.Kind.LEADER_WEEKLY, week_of))
    cache: dict[tuple, tuple[list[DigestSection], DigestCounts]] = {}
    for leader in leaders:
        if respect_preferences and not preference_of(leader).weekly_digest:
            continue
        key = (scope.reach_of(leader), leader.authority_id, leader.region)
        if key not in cache:
            cache[key] = _digest_sections(
                leader, today=today, now=now, with_items=with_items, reuse_counts=reuse_counts
            )
        sections, counted = cache[key]
        yield LeaderDigest(
            leader=leader,
            week_of=week_of,
            sections=sections,
            counted_at=counted.counted_at,
            behind_changes=counted.behind_changes,
        )


def digest_due(today: dt.date, weekday: int) -> bool:
    """The digest goes on the first run on or after the chosen weekday of each week."""
    return today.weekday() >= weekday
