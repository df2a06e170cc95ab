"""The row tags drawn in Python (improvement/templatetags/action_tags.py): the same words and
markup the pages showed through template includes, and days in the project's time zone."""

import datetime as dt
from types import SimpleNamespace

import pytest
from django.template import engines
from django.utils import timezone

from improvement.rulebook import STATE_NAMES, ActionStates
from improvement.templatetags.action_tags import action_state_tags, day, last_update, status_tag

STATES = dict.fromkeys(STATE_NAMES, False)


def _action(**fields):
    defaults = {
        "delivery_status": "in_progress",
        "impact_status": "not_assessed",
        "rag": "amber",
        "due_date_change_count": 0,
        "last_note_at": None,
    }
    return SimpleNamespace(**{**defaults, **fields})


def test_status_tag_colours_and_words():
    assert status_tag("delivered") == (
        '<strong class="govuk-tag govuk-tag--turquoise">Delivered</strong>'
    )
    assert status_tag("amber", "Amber") == (
        '<strong class="govuk-tag govuk-tag--orange">Amber</strong>'
    )
    # An unknown value is shown as it is, grey; nothing at all says so.
    assert status_tag("odd") == '<strong class="govuk-tag govuk-tag--grey">odd</strong>'
    assert status_tag("") == '<strong class="govuk-tag govuk-tag--grey">Not set</strong>'
    assert "&lt;b&gt;" in status_tag("red", "<b>")


def test_state_tags_name_every_exception_and_the_closing():
    states = ActionStates(**{**STATES, "overdue": True, "slipped": True, "stale": True})
    html = action_state_tags(_action(due_date_change_count=3), states)
    assert html.startswith('<span class="app-tags">')
    assert '<strong class="govuk-tag govuk-tag--light-blue">In progress</strong>' in html
    assert '<strong class="govuk-tag govuk-tag--orange">Amber</strong>' in html
    assert '<strong class="govuk-tag govuk-tag--red">Overdue</strong>' in html
    assert "Re-dated 3 times" in html
    assert f"No update for {ActionStates.stale_after_days} days" in html
    assert "Sent back" not in html and "Awaiting sign-off" not in html

    closed = ActionStates(**{**STATES, "closed": True})
    html = action_state_tags(_action(impact_status="evidenced"), closed, rag=False)
    assert '<strong class="govuk-tag govuk-tag--green">Impact evidenced</strong>' in html
    assert "Amber" not in html


def test_day_is_the_project_time_zones_day():
    # 23:30 UTC on 30 June is 00:30 on 1 July in London (BST).
    late = dt.datetime(2026, 6, 30, 23, 30, tzinfo=dt.UTC)
    assert day(late) == "1 Jul 2026"
    assert day(late, "j F Y") == "1 July 2026"
    assert day(dt.date(2026, 12, 3)) == "3 Dec 2026"
    assert day(None) == ""


def test_day_matches_djangos_date_filter():
    template = engines["django"].from_string(
        '{% load action_tags %}{{ value|date:"j M Y" }}|{{ value|day }}'
    )
    for value in (dt.date(2027, 1, 9), timezone.now()):
        django_day, ours = template.render({"value": value}).split("|")
        assert django_day == ours


@pytest.mark.parametrize(
    ("last_note_at", "long", "expected"),
    [
        (None, False, "No progress note yet"),
        (dt.datetime(2026, 3, 5, 12, tzinfo=dt.UTC), False, "5 Mar 2026"),
        (dt.datetime(2026, 3, 5, 12, tzinfo=dt.UTC), True, "5 March 2026"),
    ],
)
def test_last_update(last_note_at, long, expected):
    assert last_update(_action(last_note_at=last_note_at), long=long) == expected
