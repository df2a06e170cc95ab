"""Working days in England, and the statutory clock for the post-inspection action plan.

The council must send its final action plan within 70 working days of receiving the report, and a
draft within 20 working days where the report sets areas for priority action (DOMAIN.md section 3).
The report's publication date stands in for the day it was received.

"N working days after D" counts the first working day after D as day 1: weekends and England and
Wales bank holidays (including substitute days) are skipped.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from functools import lru_cache

import holidays
from django.utils.formats import date_format

# England and Wales share their bank holidays; the library files them under England ("ENG").
HOLIDAY_COUNTRY = "GB"
HOLIDAY_SUBDIVISION = "ENG"

FINAL_PLAN_WORKING_DAYS = 70
DRAFT_PLAN_WORKING_DAYS = 20


@lru_cache(maxsize=64)
def _bank_holidays(year: int) -> frozenset[dt.date]:
    return frozenset(
        holidays.country_holidays(HOLIDAY_COUNTRY, subdiv=HOLIDAY_SUBDIVISION, years=year)
    )


def is_bank_holiday(day: dt.date) -> bool:
    return day in _bank_holidays(day.year)


def is_working_day(day: dt.date) -> bool:
    return day.weekday() < 5 and not is_bank_holiday(day)


def add_working_days(start: dt.date, n: int) -> dt.date:
    """The date that is the nth working day after start (n=0 gives start itself)."""
    if n < 0:
        raise ValueError("n must not be negative")
    day = start
    counted = 0
    while counted < n:
        day += dt.timedelta(days=1)
        if is_working_day(day):
            counted += 1
    return day


def working_days_between(a: dt.date, b: dt.date) -> int:
    """Working days after a up to and including b; negative when b is before a."""
    if b < a:
        return -working_days_between(b, a)
    # Counted, not walked: the national overview asks this of every authority, some of whose
    # reports are ten years old. Weekdays by whole weeks, then the bank holidays in the range.
    full_weeks, extra = divmod((b - a).days, 7)
    start = a.weekday()
    count = full_weeks * 5 + sum(1 for i in range(1, extra + 1) if (start + i) % 7 < 5)
    for year in range(a.year, b.year + 1):
        count -= sum(1 for day in _bank_holidays(year) if a < day <= b and day.weekday() < 5)
    return count


def _plural(n: int) -> str:
    return f"{n:,} working day" if n == 1 else f"{n:,} working days"


@dataclass(frozen=True)
class PlanDeadline:
    """One deadline of the clock, measured from today."""

    label: str
    working_days: int
    due: dt.date
    today: dt.date
    # Working days from today to the due date: positive ahead, 0 on the day, negative after.
    remaining: int

    @property
    def is_overdue(self) -> bool:
        return self.today > self.due

    @property
    def is_due_today(self) -> bool:
        return self.today == self.due

    @property
    def overdue_by(self) -> int:
        return max(0, -self.remaining)

    @property
    def status(self) -> str:
        if self.is_due_today:
            return "due today"
        if self.is_overdue:
            if self.overdue_by == 0:
                # Today is a weekend or bank holiday straight after the due date.
                return f"overdue (was due {date_format(self.due, 'j F Y')})"
            return f"overdue by {_plural(self.overdue_by)}"
        return f"due in {_plural(self.remaining)}"


@dataclass(frozen=True)
class ActionPlanClock:
    """The statutory action-plan clock of one inspection on one day."""

    today: dt.date
    publication_date: dt.date | None
    has_priority_actions: bool
    final: PlanDeadline | None
    draft: PlanDeadline | None
    # Why there is no clock (no publication date, or the council's own review); empty otherwise.
    not_started_reason: str = ""

    @property
    def is_running(self) -> bool:
        return self.final is not None

    @property
    def deadlines(self) -> list[PlanDeadline]:
        return [d for d in (self.draft, self.final) if d is not None]


def _deadline(label: str, start: dt.date, n: int, today: dt.date) -> PlanDeadline:
    due = add_working_days(start, n)
    return PlanDeadline(
        label=label,
        working_days=n,
        due=due,
        today=today,
        remaining=working_days_between(today, due),
    )


def action_plan_clock(
    inspection, today: dt.date, *, has_priority_actions: bool | None = None
) -> ActionPlanClock:
    """The clock for an inspection; priority actions are read from its (prefetched) areas."""
    if has_priority_actions is None:
        has_priority_actions = any(
            area.is_priority_action for area in inspection.improvement_areas.all()
        )
    publication = inspection.publication_date
    reason = ""
    if not inspection.is_ofsted:
        reason = "There is no statutory action-plan clock for the council's own reviews."
    elif publication is None:
        reason = (
            "The clock cannot start: the report's publication date is not recorded. "
            "Add it to the inspection to see when the action plan is due."
        )
    if reason:
        return ActionPlanClock(
            today=today,
            publication_date=publication,
            has_priority_actions=has_priority_actions,
            final=None,
            draft=None,
            not_started_reason=reason,
        )
    draft = (
        _deadline("Draft action plan", publication, DRAFT_PLAN_WORKING_DAYS, today)
        if has_priority_actions
        else None
    )
    return ActionPlanClock(
        today=today,
        publication_date=publication,
        has_priority_actions=has_priority_actions,
        final=_deadline("Final action plan", publication, FINAL_PLAN_WORKING_DAYS, today),
        draft=draft,
    )
