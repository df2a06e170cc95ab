"""The Knowsley demo: records in knowsley.json, written through the services by this loader.

The inspection history and the October 2021 report are public record (the report is Crown
copyright, reused under the Open Government Licence v3.0); the 2021 report is read from
improvement/data/knowsley-ilacs-2021.txt by the report importer, as an administrator's upload
would be. The plan, its people, notes, evidence and measure values are SAMPLE DATA, flagged
is_sample. Plan days are offsets from the day the demo is loaded, so that overdue, due-soon and
stale actions are always there to see. Loading is idempotent: a second run changes nothing.

Other parts of the tracker add their own demo records with one line:
`extra_loaders.append(my_loader)`, where my_loader(context: DemoContext) writes through the
services and is idempotent itself.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from collections.abc import Callable
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Any

from django.contrib.auth.models import Group
from django.db import transaction
from django.utils import timezone

from improvement import services
from improvement.importer.parser import parse_report
from improvement.importer.service import ReportAlreadyImported, report_import
from improvement.models import Action, Authority, Inspection, Team, Theme, User
from improvement.reference import load_authorities, load_themes

DATA_FILE = Path(__file__).resolve().parent / "knowsley.json"
REPORTS_DIR = Path(__file__).resolve().parent.parent / "data"
DATA: dict[str, Any] = json.loads(DATA_FILE.read_text(encoding="utf-8"))
KNOWSLEY_ONS_CODE = DATA["authority_ons_code"]


@dataclass(frozen=True)
class DemoUser:
    username: str
    password: str
    first_name: str
    last_name: str
    job_title: str
    role: str
    is_staff: bool = False
    is_superuser: bool = False


DEMO_USERS = tuple(DemoUser(**spec) for spec in DATA["users"])


@dataclass
class DemoContext:
    """What an extra loader gets: the demo authority, its people and themes, the anchor day."""

    authority: Authority
    users: dict[str, User]
    themes: dict[str, Theme]
    anchor: dt.date
    log: Callable[[str], None] = field(default=lambda _: None)

    def day(self, offset: int) -> dt.date:
        return self.anchor + dt.timedelta(days=offset)

    def at(self, offset: int) -> dt.datetime:
        return timezone.make_aware(dt.datetime.combine(self.day(offset), dt.time(10, 30)))


# Called in order after the Knowsley records, inside the same transaction.
extra_loaders: list[Callable[[DemoContext], None]] = []


@dataclass
class DemoSummary:
    authorities_created: int
    actions_created: int
    users: tuple[DemoUser, ...]


def _date(value: str | None) -> dt.date | None:
    return dt.date.fromisoformat(value) if value else None


def _users(authority: Authority) -> dict[str, User]:
    # The demo loader may write users directly (the guard test allows it): account creation
    # has no service here, and these accounts exist only in a DEBUG demo.
    users = {}
    for spec in DEMO_USERS:
        user = User.objects.filter(username=spec.username).first()
        if user is None:
            user = User(
                username=spec.username,
                first_name=spec.first_name,
                last_name=spec.last_name,
                job_title=spec.job_title,
                email=f"{spec.username}@knowsley.example",
                is_staff=spec.is_staff,
                is_superuser=spec.is_superuser,
                authority=authority,
            )
            user.set_password(spec.password)
            user.full_clean()
            user.save()
            user.groups.add(Group.objects.get(name=spec.role))
        users[spec.username] = user
    return users


def _load_history(authority: Authority, themes: dict[str, Theme]) -> None:
    for entry in DATA["history"]:
        start, published = _date(entry["start_date"]), _date(entry["publication_date"])
        if Inspection.objects.filter(
            authority=authority, kind=entry["kind"], start_date=start, publication_date=published
        ).exists():
            continue
        inspection = services.inspection_create(
            authority=authority,
            kind=entry["kind"],
            start_date=start,
            end_date=_date(entry["end_date"]),
            publication_date=published,
            lead_inspectors=entry["lead_inspectors"],
            title=entry["title"],
            outcome=entry["outcome"],
        )
        for position, judgement in enumerate(entry["judgements"]):
            services.judgement_add(
                inspection=inspection,
                area=judgement["area"] or "Overall effectiveness",
                grade=judgement["grade"],
                is_overall=judgement["area"] is None,
                position=position,
            )
        for area in entry.get("improvement_areas", []):
            services.improvement_area_add(
                inspection=inspection, text=area["text"], themes=[themes[s] for s in area["themes"]]
            )


def _load_report(authority: Authority, spec: dict[str, Any]) -> Inspection:
    """The 2021 report through the importer, then what the demo's author read from it."""
    raw = (REPORTS_DIR / spec["file"]).read_bytes()
    report = parse_report(raw.decode("utf-8")).to_dict()
    report["publication_date"] = spec["publication_date"]
    try:
        inspection = report_import(
            report=report,
            authority=authority,
            source_sha256=hashlib.sha256(raw).hexdigest(),
            imported_by=None,
        )
    except ReportAlreadyImported as exc:
        return exc.inspection
    services.inspection_describe(
        inspection=inspection,
        title=spec["title"],
        report_url=spec["report_url"],
        summary=spec["summary"],
    )
    findings = {f.number: f for f in inspection.findings.all()}
    areas = inspection.improvement_areas.order_by("position")
    for area, numbers in zip(areas, spec["supporting_findings"], strict=False):
        services.improvement_area_set_findings(
            area=area, findings=[findings[n] for n in numbers if n in findings]
        )
    return inspection


def _load_action(spec: dict[str, Any], areas, teams, ctx: DemoContext) -> None:
    users, day = ctx.users, ctx.day
    # The due date is the one first agreed; approved slips then move it on.
    first_due = spec["slips"][0]["due"] - 30 if spec["slips"] else spec["due"]
    first_due = max(first_due, spec["start"] + 30)
    owner = users[spec["owner"]]
    action = services.action_create(
        reference=spec["reference"],
        title=spec["title"],
        improvement_areas=[areas[spec["area"]]],
        owner=owner,
        team=teams[spec["team"]],
        start_date=day(spec["start"]),
        due_date=day(first_due),
        success_measure=spec["success"],
        description="Sample action written for the demo.",
        priority=spec["priority"],
        # The rating the notes end on, or the one set when the action was agreed.
        rag=Action.Rag.GREEN if any(note["rag"] for note in spec["notes"]) else spec["rag"],
        themes=[ctx.themes[s] for s in spec["themes"]],
        is_sample=True,
    )
    for milestone in spec["milestones"]:
        services.milestone_add(
            action=action,
            title=milestone["title"],
            due_date=day(milestone["due"]),
            completed_on=day(milestone["due"]) if milestone["done"] else None,
        )
    for slip in spec["slips"]:
        change = services.due_date_change_request(
            action=action,
            by=owner,
            new_date=day(slip["due"]),
            reason=slip["reason"],
            today=day(slip["asked"]),
        )
        services.due_date_change_decide(change=change, by=users["leader"], approve=True)
        action.refresh_from_db()
    if pending := spec["pending_slip"]:
        services.due_date_change_request(
            action=action,
            by=owner,
            new_date=action.due_date + dt.timedelta(days=pending["days_more"]),
            reason=pending["reason"],
            today=day(pending["asked"]),
        )
    for note in spec["notes"]:
        services.action_record_progress(
            action=action,
            by=owner,
            expected_version=action.version,
            text=note["text"],
            delivery_status=note["status"],
            rag=note["rag"],
            is_sample=True,
            at=ctx.at(note["day"]),
        )
    for link in spec["links"]:
        services.evidence_add_link(
            action=action, by=owner, url=link["url"], title=link["title"], is_sample=True
        )
    if spec["close"]:
        evidenced = spec["close"] == "evidenced"
        services.action_sign_off(
            action=action,
            by=users["leader"],
            expected_version=action.version,
            impact_evidenced=evidenced,
            note="Sample sign-off: board minutes show the change in practice."
            if evidenced
            else "Sample sign-off: panel in place, but too early to evidence a difference for "
            "young people; tracked through measure 'preparation for adulthood' instead.",
        )


def _load_plan(inspection: Inspection, ctx: DemoContext) -> int:
    authority = ctx.authority
    teams = {}
    for team in DATA["teams"]:
        existing = Team.objects.filter(authority=authority, name=team["name"]).first()
        lead = ctx.users.get(team["lead"]) if team["lead"] else None
        teams[team["name"]] = existing or services.team_create(
            authority=authority, name=team["name"], kind=team["kind"], lead=lead
        )
    areas = {area.position: area for area in inspection.improvement_areas.all()}
    created = 0
    for spec in DATA["actions"]:
        if not Action.objects.filter(authority=authority, reference=spec["reference"]).exists():
            _load_action(spec, areas, teams, ctx)
            created += 1
    for spec in DATA["measures"]:
        if authority.measures.filter(name=spec["name"]).exists():
            continue
        measure = services.measure_create(
            authority=authority,
            name=spec["name"],
            unit=spec["unit"],
            direction=spec["direction"],
            baseline_value=Decimal(spec["baseline"]),
            baseline_date=ctx.day(-240),
            target_value=Decimal(spec["target"]),
            target_date=ctx.day(180),
            actions=Action.objects.filter(authority=authority, reference__in=spec["actions"]),
        )
        for index, value in enumerate(spec["values"]):
            services.measure_record_value(
                measure=measure,
                recorded_on=ctx.day(-180 + index * 45),
                value=Decimal(value),
                by=ctx.users["admin"],
                is_sample=True,
                note="Sample value.",
            )
    return created


@transaction.atomic
def load_demo(
    *, anchor: dt.date | None = None, log: Callable[[str], None] = lambda _: None
) -> DemoSummary:
    anchor = anchor or timezone.localdate()
    authorities_created = load_authorities()
    log(f"Authorities: {Authority.objects.count()} ({authorities_created} new)")
    themes = load_themes()
    knowsley = Authority.objects.get(ons_code=KNOWSLEY_ONS_CODE)
    ctx = DemoContext(knowsley, _users(knowsley), themes, anchor, log)
    _load_history(knowsley, themes)
    inspection = _load_report(knowsley, DATA["report_2021"])
    log(f"Knowsley inspections: {knowsley.inspections.count()}")
    created = _load_plan(inspection, ctx)
    log(f"Sample actions: {knowsley.actions.count()} ({created} new)")
    for loader in extra_loaders:
        loader(ctx)
    return DemoSummary(authorities_created, created, DEMO_USERS)


# The demo's own extra records, after the hook exists (they import nothing from this module).
from improvement.demo.board import load_demo_board  # noqa: E402
from improvement.demo.plans import load_demo_plans  # noqa: E402

extra_loaders += [load_demo_plans, load_demo_board]
