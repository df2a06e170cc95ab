"""The Knowsley demo's post-inspection action plans, recorded as sent.

Knowsley answered each full inspection (and the 2022 area SEND inspection, with a written
statement of action) with a plan, and is delivering them; without these records the statutory
clock would show every plan as overdue by hundreds of working days. The submission dates are
SAMPLE DATA (within each deadline, as the council's published plans suggest, but the exact days are
not public record), flagged is_sample. Idempotent: a plan already recorded is left alone.
"""

from __future__ import annotations

import datetime as dt

from improvement import services
from improvement.models import Authority, Inspection, PlanSubmission, User

# (kind, fieldwork start, stage, sent on, note)
KNOWSLEY_PLANS = [
    (
        Inspection.Kind.SIF,
        dt.date(2014, 4, 29),
        PlanSubmission.Stage.FINAL,
        dt.date(2014, 10, 3),
        "Sample record: improvement plan sent under the 2014 improvement notice.",
    ),
    (
        Inspection.Kind.SIF_REINSPECTION,
        dt.date(2017, 3, 13),
        PlanSubmission.Stage.FINAL,
        dt.date(2017, 9, 15),
        "Sample record: post-inspection action plan.",
    ),
    (
        Inspection.Kind.ILACS_STANDARD,
        dt.date(2021, 10, 11),
        PlanSubmission.Stage.FINAL,
        dt.date(2022, 3, 10),
        "Sample record: the 2021 ILACS action plan, approved by cabinet before sending.",
    ),
    (
        Inspection.Kind.SEND_AREA,
        dt.date(2022, 3, 14),
        PlanSubmission.Stage.FINAL,
        dt.date(2022, 8, 26),
        "Sample record: written statement of action, with the integrated care board.",
    ),
    (
        Inspection.Kind.ILACS_STANDARD,
        dt.date(2024, 11, 18),
        PlanSubmission.Stage.FINAL,
        dt.date(2025, 4, 25),
        "Sample record: the 2025 improvement plan answering the November 2024 inspection.",
    ),
]


def load_plan_submissions(*, authority: Authority, recorded_by: User) -> int:
    """Record Knowsley's plans as sent; returns how many were new."""
    created = 0
    for kind, start, stage, sent_on, note in KNOWSLEY_PLANS:
        inspection = Inspection.objects.filter(
            authority=authority, kind=kind, start_date=start
        ).first()
        if inspection is None or inspection.plan_submissions.filter(stage=stage).exists():
            continue
        services.plan_submission_record(
            inspection=inspection,
            stage=stage,
            submitted_on=sent_on,
            by=recorded_by,
            note=note,
            is_sample=True,
        )
        created += 1
    return created


def load_demo_plans(ctx) -> None:
    """The demo loader's hook: Knowsley's plans, recorded as sent by the demo administrator."""
    load_plan_submissions(authority=ctx.authority, recorded_by=ctx.users["admin"])
