"""rulebook.states_of_loaded evaluates the rulebook's own conditions on an action as read: it must
give with_states' answers, from the database, at every threshold's edge."""

import datetime as dt
import itertools

import pytest
from django.db.models import Q
from django.utils import timezone

from improvement import rulebook
from improvement.models import Action
from tests.factories import TODAY, ActionFactory, LeaderFactory

pytestmark = pytest.mark.django_db

NOW = timezone.make_aware(dt.datetime.combine(TODAY, dt.time(10, 30)))
CUTOFF = NOW - dt.timedelta(days=rulebook.STALE_AFTER_DAYS)
SECOND = dt.timedelta(seconds=1)


def _days(n: int) -> dt.date:
    return TODAY + dt.timedelta(days=n)


def test_states_of_loaded_match_the_database_at_every_edge():
    action = ActionFactory()
    leader = LeaderFactory(authority=action.authority)
    cases = itertools.product(
        # due: overdue by a day, today, due soon's last day and the day after
        (_days(-1), TODAY, _days(rulebook.DUE_SOON_DAYS), _days(rulebook.DUE_SOON_DAYS + 1)),
        list(Action.DeliveryStatus),
        (Action.ImpactStatus.NOT_ASSESSED, *Action.CLOSED_IMPACT),
        # last note: never (then creation counts), just before, at and just after the cutoff
        (None, CUTOFF - SECOND, CUTOFF, CUTOFF + SECOND),
        (CUTOFF - SECOND, CUTOFF + SECOND),  # created
        (rulebook.SLIPPED_AFTER_CHANGES - 1, rulebook.SLIPPED_AFTER_CHANGES),
        (None, NOW),  # sent back
    )
    checked = 0
    for due, delivery, impact, noted, created, changes, sent_back in cases:
        closed = impact != Action.ImpactStatus.NOT_ASSESSED
        if closed and delivery != Action.DeliveryStatus.DELIVERED:
            continue  # the database holds that only a delivered action is signed off
        Action.objects.filter(pk=action.pk).update(
            rag=Action.Rag.BLUE if closed else Action.Rag.GREEN,
            signed_off_by=leader if closed else None,
            signed_off_at=NOW if closed else None,
            due_date=due,
            delivery_status=delivery,
            impact_status=impact,
            last_note_at=noted,
            created_at=created,
            due_date_change_count=changes,
            sent_back_at=sent_back,
        )
        read = rulebook.with_states(Action.objects.filter(pk=action.pk), today=TODAY, now=NOW).get()
        expected = rulebook.states_from_annotations(read)
        assert rulebook.states_of_loaded(read, today=TODAY, now=NOW) == expected, (
            due,
            delivery,
            impact,
            noted,
            created,
            changes,
            sent_back,
        )
        checked += 1
    assert checked == 4 * (len(Action.DeliveryStatus) + 2) * 4 * 2 * 2 * 2


def test_holds_follows_sql_on_null_and_refuses_what_it_cannot_evaluate():
    action = ActionFactory.build(sent_back_at=None, last_note_at=None)
    # A field lookup on NULL is false, and so its negation is true (Django adds IS NOT NULL).
    assert rulebook.holds(Q(sent_back_at__lt=NOW), action) is False
    assert rulebook.holds(~Q(sent_back_at__lt=NOW), action) is True
    assert rulebook.holds(Q(sent_back_at__isnull=True), action) is True
    with pytest.raises(rulebook.NotEvaluable):
        rulebook.holds(Q(team__name="Social care"), action)
    with pytest.raises(rulebook.NotEvaluable):
        rulebook.holds(Q(title__icontains="plan"), action)
    with pytest.raises(rulebook.NotEvaluable):  # text orders by the database's collation
        rulebook.holds(Q(title__lt="B"), action)
