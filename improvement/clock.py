"""Working days in England, and the statutory clock as an inspection's life.

Which inspections need a plan (plan_requirement), when it is due, when it was sent, and what comes
next. The council must send its final action plan within 70 working days of receiving the report,
and a draft within 20 working days where the report sets areas for priority action (DOMAIN.md
sections 1 and 3). The report's publication date stands in for the day it was received. Recording
the plan as submitted stops the clock.

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


# Remembered: the national overview asks for two deadlines of every authority on every visit,
# and the answer for a date never changes (bank holidays are fixed by the library's version).
@lru_cache(maxsize=4096)
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


def _long_date(day: dt.date) -> str:
    return date_format(day, "j F Y")


# Which kinds of inspection need a plan (DOMAIN.md section 1 and 3).
PLAN_ALWAYS = "always"  # full inspections: a plan follows whatever the grade
PLAN_IF_PRIORITY = "if_priority"  # letters: only where areas for priority action are set
PLAN_IF_AREAS = "if_areas"  # area SEND: a written statement or priority action plan
PLAN_NEVER = "never"

PLAN_RULES: dict[str, tuple[str, str]] = {
    "ilacs_standard": (
        PLAN_ALWAYS,
        "A full inspection is answered by a post-inspection action plan, due 70 working days "
        "after the report, whatever the judgements.",
    ),
    "ilacs_short": (
        PLAN_ALWAYS,
        "A full inspection is answered by a post-inspection action plan, due 70 working days "
        "after the report, whatever the judgements.",
    ),
    "sif": (
        PLAN_ALWAYS,
        "A full inspection is answered by a post-inspection action plan, due 70 working days "
        "after the report, whatever the judgements.",
    ),
    "sif_reinspection": (
        PLAN_ALWAYS,
        "A re-inspection is answered by a post-inspection action plan, due 70 working days "
        "after the report.",
    ),
    "focused_visit": (
        PLAN_IF_PRIORITY,
        "A focused visit needs a plan only where its letter sets areas for priority action: a "
        "draft within 20 working days and the final plan within 70.",
    ),
    "jtai": (
        PLAN_IF_PRIORITY,
        "A joint targeted area inspection needs a plan where it sets areas for priority action: "
        "a draft within 20 working days and the final plan within 70.",
    ),
    "send_area": (
        PLAN_IF_AREAS,
        "An area SEND inspection needs a plan where it finds significant weaknesses (a written "
        "statement of action, 2016 framework) or sets areas for priority action (a priority "
        "action plan, 2023 framework); they are recorded here as its improvement areas.",
    ),
    "monitoring_visit": (
        PLAN_NEVER,
        "A monitoring visit sets no new plan: its findings are folded into the plan answering "
        "the inspection that judged the authority inadequate.",
    ),
    "safeguarding_lac": (
        PLAN_NEVER,
        "The tracker runs no clock for inspections under the frameworks before November 2013.",
    ),
}
OWN_REVIEW_RULE = (
    PLAN_NEVER,
    "There is no statutory action-plan clock for the council's own reviews.",
)


@dataclass(frozen=True)
class PlanRequirement:
    """Whether an inspection needs a plan, whether a draft comes first, and the rule in words."""

    needs_plan: bool
    needs_draft: bool
    rule: str


def plan_requirement(
    kind: str, *, has_priority_actions: bool, has_improvement_areas: bool
) -> PlanRequirement:
    when, rule = PLAN_RULES.get(kind, OWN_REVIEW_RULE)
    if when == PLAN_ALWAYS:
        needs = True
    elif when == PLAN_IF_PRIORITY:
        needs = has_priority_actions
    elif when == PLAN_IF_AREAS:
        needs = has_improvement_areas or has_priority_actions
    else:
        needs = False
    return PlanRequirement(needs_plan=needs, needs_draft=needs and has_priority_actions, rule=rule)


@dataclass(frozen=True)
class PlanDeadline:
    """One deadline of the clock, measured from today, stopped when the plan was sent."""

    label: str
    working_days: int
    due: dt.date
    today: dt.date
    # Working days from today to the due date: positive ahead, 0 on the day, negative after.
    remaining: int
    publication_date: dt.date | None = None
    submitted_on: dt.date | None = None
    # A draft needs no separate sending once the final plan has gone.
    superseded: bool = False

    @property
    def is_submitted(self) -> bool:
        return self.submitted_on is not None

    @property
    def is_stopped(self) -> bool:
        return self.is_submitted or self.superseded

    @property
    def is_overdue(self) -> bool:
        return not self.is_stopped and self.today > self.due

    @property
    def is_due_today(self) -> bool:
        return not self.is_stopped and self.today == self.due

    @property
    def overdue_by(self) -> int:
        return 0 if self.is_stopped else max(0, -self.remaining)

    @property
    def submitted_after(self) -> int | None:
        """Working days from publication to sending."""
        if self.submitted_on is None or self.publication_date is None:
            return None
        return working_days_between(self.publication_date, self.submitted_on)

    @property
    def submitted_late_by(self) -> int:
        if self.submitted_on is None or self.submitted_on <= self.due:
            return 0
        return working_days_between(self.due, self.submitted_on)

    @property
    def status(self) -> str:
        if self.submitted_on is not None:
            text = f"submitted on {_long_date(self.submitted_on)}"
            after = self.submitted_after
            if after is not None:
                text += f" ({_plural(after)} after publication"
                if self.submitted_late_by:
                    text += f", {_plural(self.submitted_late_by)} after the deadline"
                text += ")"
            return text
        if self.superseded:
            return "not recorded, but the final plan has been sent"
        if self.is_due_today:
            return "due today"
        if self.is_overdue:
            if self.overdue_by == 0:
                # Today is a weekend or bank holiday straight after the due date.
                return f"overdue (was due {_long_date(self.due)})"
            return f"overdue by {_plural(self.overdue_by)}"
        return f"due in {_plural(self.remaining)}"


@dataclass(frozen=True)
class SubmittedPlan:
    """A plan recorded as sent where no deadline can be counted (no publication date)."""

    label: str
    submitted_on: dt.date

    @property
    def status(self) -> str:
        return f"submitted on {_long_date(self.submitted_on)}"


@dataclass(frozen=True)
class ActionPlanClock:
    """The statutory action-plan clock of one inspection on one day."""

    today: dt.date
    publication_date: dt.date | None
    has_priority_actions: bool
    requirement: PlanRequirement
    final: PlanDeadline | None
    draft: PlanDeadline | None
    # Why there is no clock (no plan needed, or no publication date); empty otherwise.
    not_started_reason: str = ""
    # Plans recorded as sent when the clock cannot be counted.
    uncounted_submissions: tuple[SubmittedPlan, ...] = ()

    @property
    def needs_plan(self) -> bool:
        return self.requirement.needs_plan

    @property
    def is_running(self) -> bool:
        return self.final is not None

    @property
    def is_stopped(self) -> bool:
        """The final plan is recorded as sent: nothing is due any more."""
        if self.final is not None:
            return self.final.is_submitted
        return any(s.label == FINAL_LABEL for s in self.uncounted_submissions)

    @property
    def is_overdue(self) -> bool:
        return any(d.is_overdue for d in self.deadlines)

    @property
    def deadlines(self) -> list[PlanDeadline]:
        return [d for d in (self.draft, self.final) if d is not None]


DRAFT_LABEL = "Draft action plan"
FINAL_LABEL = "Final action plan"


def _deadline(
    label: str,
    start: dt.date,
    n: int,
    today: dt.date,
    *,
    submitted_on: dt.date | None = None,
    superseded: bool = False,
) -> PlanDeadline:
    due = add_working_days(start, n)
    return PlanDeadline(
        label=label,
        working_days=n,
        due=due,
        today=today,
        remaining=working_days_between(today, due),
        publication_date=start,
        submitted_on=submitted_on,
        superseded=superseded,
    )


def _flag(inspection, annotation: str, compute) -> bool:
    value = getattr(inspection, annotation, None)
    return bool(compute() if value is None else value)


def action_plan_clock(
    inspection,
    today: dt.date,
    *,
    has_priority_actions: bool | None = None,
    has_improvement_areas: bool | None = None,
    submissions=None,
) -> ActionPlanClock:
    """The clock for an inspection.

    Priority actions and areas are read from annotations (has_priority_action_area,
    has_improvement_area) or else from its (prefetched) areas; submissions from its prefetched
    plan_submissions.
    """
    if has_priority_actions is None:
        has_priority_actions = _flag(
            inspection,
            "has_priority_action_area",
            lambda: any(a.is_priority_action for a in inspection.improvement_areas.all()),
        )
    if has_improvement_areas is None:
        has_improvement_areas = _flag(
            inspection,
            "has_improvement_area",
            lambda: bool(list(inspection.improvement_areas.all())),
        )
    if submissions is None:
        related = getattr(inspection, "plan_submissions", None)
        submissions = list(related.all()) if related is not None else []
    sent = {s.stage: s.submitted_on for s in submissions}
    kind = inspection.kind
    requirement = plan_requirement(
        kind,
        has_priority_actions=has_priority_actions,
        has_improvement_areas=has_improvement_areas,
    )
    publication = inspection.publication_date

    def stopped(reason: str) -> ActionPlanClock:
        uncounted = tuple(
            SubmittedPlan(label=label, submitted_on=sent[stage])
            for stage, label in (("draft", DRAFT_LABEL), ("final", FINAL_LABEL))
            if stage in sent
        )
        return ActionPlanClock(
            today=today,
            publication_date=publication,
            has_priority_actions=has_priority_actions,
            requirement=requirement,
            final=None,
            draft=None,
            not_started_reason=reason,
            uncounted_submissions=uncounted,
        )

    if not requirement.needs_plan:
        return stopped(requirement.rule if kind in PLAN_RULES else OWN_REVIEW_RULE[1])
    if publication is None:
        return stopped(
            "The clock cannot start: the report's publication date is not recorded. "
            "Add it to the inspection to see when the action plan is due."
        )
    final = _deadline(
        FINAL_LABEL,
        publication,
        FINAL_PLAN_WORKING_DAYS,
        today,
        submitted_on=sent.get("final"),
    )
    draft = (
        _deadline(
            DRAFT_LABEL,
            publication,
            DRAFT_PLAN_WORKING_DAYS,
            today,
            submitted_on=sent.get("draft"),
            superseded="draft" not in sent and "final" in sent,
        )
        if requirement.needs_draft
        else None
    )
    return ActionPlanClock(
        today=today,
        publication_date=publication,
        has_priority_actions=has_priority_actions,
        requirement=requirement,
        final=final,
        draft=draft,
    )


# What comes next after an inadequate judgement (DOMAIN.md section 1): quarterly monitoring
# visits, the first within about 4 weeks of the action-plan deadline, then re-inspection.
MONITORING_INTERVAL_DAYS = 91
FIRST_MONITORING_AFTER_PLAN_DAYS = 28


@dataclass(frozen=True)
class MonitoringCycle:
    """The monitoring that follows an inadequate judgement, as far as it has gone."""

    judged_on: dt.date
    visits: tuple  # the monitoring visits recorded since, oldest first
    next_visit_around: dt.date | None
    today: dt.date

    @property
    def next_visit_month(self) -> str:
        return date_format(self.next_visit_around, "F Y") if self.next_visit_around else ""

    @property
    def next_visit_is_past(self) -> bool:
        return self.next_visit_around is not None and self.next_visit_around < self.today


def is_inadequate(judgements) -> bool:
    """Judged inadequate overall; after April 2026 (no overall judgement), on any judgement."""
    judgements = list(judgements)
    overall = [j for j in judgements if j.is_overall]
    if overall:
        return overall[0].grade == "inadequate"
    return any(j.grade == "inadequate" for j in judgements)


def monitoring_cycle(
    inspection, later_inspections, *, clock: ActionPlanClock, today: dt.date
) -> MonitoringCycle | None:
    """The monitoring cycle after an inadequate full inspection; None for any other inspection.

    `later_inspections` are the authority's inspections after this one, oldest first: the cycle
    runs until the next full inspection.
    """
    if getattr(inspection, "kind", "") not in ("ilacs_standard", "ilacs_short", "sif"):
        return None
    if not is_inadequate(inspection.judgements.all()):
        return None
    visits = []
    for later in later_inspections:
        if later.kind == "monitoring_visit":
            visits.append(later)
        elif later.kind in ("ilacs_standard", "ilacs_short", "sif", "sif_reinspection"):
            return None  # re-inspected: the cycle is over
    if visits:
        last = visits[-1].start_date or visits[-1].publication_date
        next_visit = last + dt.timedelta(days=MONITORING_INTERVAL_DAYS)
    elif clock.final is not None:
        next_visit = clock.final.due + dt.timedelta(days=FIRST_MONITORING_AFTER_PLAN_DAYS)
    else:
        next_visit = None
    judged_on = inspection.publication_date or inspection.end_date or inspection.start_date
    return MonitoringCycle(
        judged_on=judged_on, visits=tuple(visits), next_visit_around=next_visit, today=today
    )
