"""Working days in England and the statutory action-plan clock, against real dates."""

import datetime as dt
from types import SimpleNamespace

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from improvement.clock import (
    action_plan_clock,
    add_working_days,
    is_bank_holiday,
    is_working_day,
    working_days_between,
)
from improvement.models import Inspection

KNOWSLEY_PUBLISHED = dt.date(2021, 12, 3)  # a Friday


def _inspection(publication_date, *, priority=False, kind=Inspection.Kind.ILACS_STANDARD):
    """An unsaved stand-in with the attributes the clock reads (no database needed)."""
    areas = [SimpleNamespace(is_priority_action=priority)]
    return SimpleNamespace(
        kind=kind,
        publication_date=publication_date,
        is_ofsted=kind in Inspection.OFSTED_KINDS,
        improvement_areas=SimpleNamespace(all=lambda: areas),
    )


def test_christmas_2021_substitute_days_and_new_year_2022_are_bank_holidays():
    """Christmas and Boxing Day 2021 fell at a weekend, so 27 and 28 December were the holidays."""
    for day in (dt.date(2021, 12, 27), dt.date(2021, 12, 28), dt.date(2022, 1, 3)):
        assert is_bank_holiday(day)
        assert not is_working_day(day)
    assert is_working_day(dt.date(2021, 12, 29))
    assert not is_working_day(dt.date(2021, 12, 25))  # a Saturday


def test_one_working_day_after_a_friday_is_the_monday():
    """The first working day after the start counts as day 1."""
    assert add_working_days(dt.date(2021, 12, 3), 1) == dt.date(2021, 12, 6)
    assert add_working_days(dt.date(2021, 12, 3), 0) == dt.date(2021, 12, 3)


def test_knowsley_2021_final_plan_due_16_march_2022():
    """Knowsley's report was published on Friday 3 December 2021; 70 working days on is 16 March.

    Counting by hand, with day 1 the first working day after publication:
    - 6-10 Dec: days 1-5; 13-17 Dec: 6-10; 20-24 Dec: 11-15;
    - 27 and 28 Dec are the substitute bank holidays for Christmas and Boxing Day (both at a
      weekend), so 29, 30, 31 Dec are days 16-18;
    - 3 Jan 2022 is the substitute for New Year's Day (a Saturday), so 4-7 Jan are days 19-22;
    - then nine full weeks, 10 Jan to 11 Mar: days 23-67 (no bank holidays);
    - 14, 15, 16 Mar: days 68, 69, 70. So the final plan is due on Wednesday 16 March 2022.
    Without the three bank holidays it would have been Friday 11 March.
    """
    assert add_working_days(KNOWSLEY_PUBLISHED, 70) == dt.date(2022, 3, 16)


def test_knowsley_2021_draft_plan_would_be_due_5_january_2022():
    """20 working days: 15 by Christmas Eve, 29-31 Dec make 18, then 4 and 5 Jan make 20."""
    assert add_working_days(KNOWSLEY_PUBLISHED, 20) == dt.date(2022, 1, 5)


def test_working_days_between_counts_after_the_first_date_up_to_the_second():
    """Between is signed: the same day is 0, going back gives the negative count."""
    assert working_days_between(KNOWSLEY_PUBLISHED, dt.date(2022, 3, 16)) == 70
    assert working_days_between(dt.date(2022, 3, 16), dt.date(2022, 3, 16)) == 0
    assert working_days_between(dt.date(2022, 3, 17), dt.date(2022, 3, 16)) == -1
    # Friday to Monday over the 2022 Platinum Jubilee (2 and 3 June were bank holidays).
    assert working_days_between(dt.date(2022, 6, 1), dt.date(2022, 6, 6)) == 1


def test_add_working_days_refuses_a_negative_count():
    with pytest.raises(ValueError, match="negative"):
        add_working_days(KNOWSLEY_PUBLISHED, -1)


dates = st.dates(min_value=dt.date(2014, 1, 1), max_value=dt.date(2030, 12, 31))


@settings(max_examples=200, deadline=None)
@given(start=dates, n=st.integers(min_value=1, max_value=400))
def test_adding_working_days_never_lands_on_a_weekend_or_bank_holiday(start, n):
    """Whatever the start, the nth working day after it is a working day."""
    end = add_working_days(start, n)
    assert end.weekday() < 5
    assert not is_bank_holiday(end)
    assert end > start


@settings(max_examples=200, deadline=None)
@given(start=dates, n=st.integers(min_value=0, max_value=400))
def test_working_days_between_inverts_add_working_days(start, n):
    """Counting the working days to the nth working day after d gives n back."""
    assert working_days_between(start, add_working_days(start, n)) == n


@settings(max_examples=100, deadline=None)
@given(a=dates, b=dates)
def test_working_days_between_is_antisymmetric(a, b):
    assert working_days_between(a, b) == -working_days_between(b, a)


def test_clock_without_priority_actions_has_only_the_final_plan():
    """No areas for priority action: only the 70-day final plan is due."""
    clock = action_plan_clock(_inspection(KNOWSLEY_PUBLISHED), dt.date(2022, 3, 1))
    assert clock.is_running
    assert clock.draft is None
    assert clock.final.due == dt.date(2022, 3, 16)
    # 2-4 Mar, 7-11 Mar, 14-16 Mar.
    assert clock.final.remaining == 11
    assert clock.final.status == "due in 11 working days"
    assert clock.deadlines == [clock.final]


def test_clock_with_priority_actions_adds_the_20_day_draft():
    clock = action_plan_clock(_inspection(KNOWSLEY_PUBLISHED, priority=True), dt.date(2022, 1, 4))
    assert clock.draft.due == dt.date(2022, 1, 5)
    assert clock.draft.status == "due in 1 working day"
    assert [d.label for d in clock.deadlines] == ["Draft action plan", "Final action plan"]


def test_clock_status_on_the_day_and_after():
    """On the due date it is due today; after, overdue by the working days since."""
    inspection = _inspection(KNOWSLEY_PUBLISHED)
    on_the_day = action_plan_clock(inspection, dt.date(2022, 3, 16)).final
    assert on_the_day.is_due_today
    assert on_the_day.status == "due today"
    late = action_plan_clock(inspection, dt.date(2022, 3, 21)).final
    assert late.is_overdue
    assert late.overdue_by == 3  # 17, 18 and 21 March
    assert late.status == "overdue by 3 working days"


def test_clock_overdue_on_the_weekend_straight_after_the_due_date():
    """Saturday after a Friday deadline is past it, though no working day has gone by."""
    # Published Tuesday 28 September 2021: 70 working days on, past the four Christmas and New
    # Year bank holidays, is Friday 7 January 2022.
    inspection = _inspection(dt.date(2021, 9, 28))
    due = action_plan_clock(inspection, dt.date(2021, 9, 28)).final.due
    assert due == dt.date(2022, 1, 7)
    saturday = action_plan_clock(inspection, dt.date(2022, 1, 8)).final
    assert saturday.is_overdue
    assert saturday.status == "overdue (was due 7 January 2022)"


def test_clock_cannot_start_without_a_publication_date():
    clock = action_plan_clock(_inspection(None, priority=True), dt.date(2022, 1, 4))
    assert not clock.is_running
    assert clock.deadlines == []
    assert "publication date is not recorded" in clock.not_started_reason


def test_no_statutory_clock_for_the_councils_own_review():
    inspection = _inspection(KNOWSLEY_PUBLISHED, kind=Inspection.Kind.PEER_REVIEW)
    clock = action_plan_clock(inspection, dt.date(2022, 1, 4))
    assert not clock.is_running
    assert "council's own reviews" in clock.not_started_reason


def test_priority_actions_can_be_given_by_the_caller():
    """A caller that already knows skips reading the areas."""
    inspection = _inspection(KNOWSLEY_PUBLISHED, priority=False)
    clock = action_plan_clock(inspection, dt.date(2022, 1, 4), has_priority_actions=True)
    assert clock.draft is not None


# The clock as an inspection's life: which kinds need a plan, submission stops it, what is next.


def _sent(stage, day):
    return SimpleNamespace(stage=stage, submitted_on=day)


def test_plan_requirement_by_kind():
    """Full inspections always need a plan; letters only with priority actions; never for MVs."""
    from improvement.clock import plan_requirement

    K = Inspection.Kind

    def needs(kind, priority=False, areas=False):
        r = plan_requirement(kind, has_priority_actions=priority, has_improvement_areas=areas)
        return r.needs_plan, r.needs_draft

    for kind in (K.ILACS_STANDARD, K.ILACS_SHORT, K.SIF, K.SIF_REINSPECTION):
        assert needs(kind) == (True, False)
        assert needs(kind, priority=True) == (True, True)
    for kind in (K.FOCUSED_VISIT, K.JTAI):
        assert needs(kind, areas=True) == (False, False)
        assert needs(kind, priority=True, areas=True) == (True, True)
    assert needs(K.SEND_AREA) == (False, False)
    assert needs(K.SEND_AREA, areas=True) == (True, False)
    for kind in (K.MONITORING_VISIT, K.SAFEGUARDING_LAC, K.SELF_EVALUATION, K.PEER_REVIEW):
        assert needs(kind, priority=True, areas=True) == (False, False)


def test_a_focused_visit_without_priority_actions_shows_no_clock():
    inspection = _inspection(KNOWSLEY_PUBLISHED, kind=Inspection.Kind.FOCUSED_VISIT)
    clock = action_plan_clock(inspection, dt.date(2026, 1, 5), submissions=[])
    assert not clock.needs_plan
    assert not clock.is_running
    assert clock.deadlines == []
    assert "only where its letter sets areas for priority action" in clock.not_started_reason


def test_a_submitted_final_plan_stops_the_clock():
    """Knowsley 2021: published Friday 3 December 2021, final plan due 16 March 2022."""
    inspection = _inspection(KNOWSLEY_PUBLISHED)
    clock = action_plan_clock(
        inspection, dt.date(2026, 12, 3), submissions=[_sent("final", dt.date(2022, 3, 10))]
    )
    assert clock.is_stopped
    assert not clock.is_overdue
    assert not clock.final.is_overdue
    assert clock.final.overdue_by == 0
    # 6-10 Dec (5), 13-17 (5), 20-24 (5), 29-31 (3), Jan (20), Feb (20), 1-10 Mar (8) = 66.
    assert clock.final.submitted_after == 66
    assert clock.final.status == "submitted on 10 March 2022 (66 working days after publication)"


def test_a_late_plan_says_how_late_and_an_unsent_draft_is_superseded():
    inspection = _inspection(KNOWSLEY_PUBLISHED, priority=True)
    clock = action_plan_clock(
        inspection, dt.date(2026, 12, 3), submissions=[_sent("final", dt.date(2022, 3, 18))]
    )
    assert clock.final.status == (
        "submitted on 18 March 2022 (72 working days after publication, "
        "2 working days after the deadline)"
    )
    assert clock.draft.superseded
    assert not clock.draft.is_overdue
    assert not clock.is_overdue


def test_an_unsent_plan_is_still_overdue():
    inspection = _inspection(KNOWSLEY_PUBLISHED, priority=True)
    clock = action_plan_clock(
        inspection, dt.date(2022, 3, 21), submissions=[_sent("draft", dt.date(2022, 1, 4))]
    )
    assert clock.draft.is_submitted
    assert not clock.draft.is_overdue
    assert clock.final.is_overdue
    assert clock.is_overdue
    assert not clock.is_stopped


def test_a_submission_without_a_publication_date_still_stops_the_clock():
    inspection = _inspection(None)
    clock = action_plan_clock(
        inspection, dt.date(2026, 12, 3), submissions=[_sent("final", dt.date(2022, 6, 1))]
    )
    assert not clock.is_running
    assert clock.is_stopped
    assert [s.status for s in clock.uncounted_submissions] == ["submitted on 1 June 2022"]


def _judged(grade, *, overall=True):
    return SimpleNamespace(is_overall=overall, grade=grade)


def _full(kind, published, judgements):
    return SimpleNamespace(
        kind=kind,
        publication_date=published,
        start_date=published,
        end_date=published,
        judgements=SimpleNamespace(all=lambda: judgements),
        improvement_areas=SimpleNamespace(all=lambda: []),
    )


def test_monitoring_follows_an_inadequate_judgement_until_re_inspection():
    from improvement.clock import monitoring_cycle

    K = Inspection.Kind
    inadequate = _full(K.ILACS_STANDARD, dt.date(2025, 1, 20), [_judged("inadequate")])
    clock = action_plan_clock(inadequate, dt.date(2025, 2, 1), submissions=[])
    first = monitoring_cycle(inadequate, [], clock=clock, today=dt.date(2025, 2, 1))
    # Four weeks after the plan deadline (30 April 2025).
    assert clock.final.due == dt.date(2025, 4, 30)
    assert first.next_visit_around == dt.date(2025, 5, 28)
    visit = SimpleNamespace(
        kind=K.MONITORING_VISIT, start_date=dt.date(2025, 9, 1), publication_date=None
    )
    later = monitoring_cycle(inadequate, [visit], clock=clock, today=dt.date(2025, 10, 1))
    assert later.visits == (visit,)
    assert later.next_visit_around == dt.date(2025, 12, 1)
    reinspected = _full(K.ILACS_STANDARD, dt.date(2027, 1, 1), [_judged("good")])
    assert monitoring_cycle(inadequate, [visit, reinspected], clock=clock, today=None) is None
    good = _full(K.ILACS_STANDARD, dt.date(2025, 1, 20), [_judged("good")])
    assert monitoring_cycle(good, [], clock=clock, today=dt.date(2025, 2, 1)) is None
    # After April 2026 there is no overall judgement: any inadequate judgement starts monitoring.
    no_overall = _full(
        K.ILACS_STANDARD,
        dt.date(2026, 6, 1),
        [_judged("good", overall=False), _judged("inadequate", overall=False)],
    )
    assert monitoring_cycle(no_overall, [], clock=clock, today=dt.date(2026, 7, 1)) is not None
