"""The Knowsley demo: real inspection history, the October 2021 report in full, a sample plan.

The inspection history and the 2021 report are public record (the report is Crown copyright,
reused under the Open Government Licence v3.0). The improvement plan, its people, notes,
evidence and measure values are SAMPLE DATA made up for the demo and flagged is_sample. Plan
dates are set relative to the day the demo is first loaded, so that overdue, due-soon and stale
actions are always there to see. Loading is idempotent: a second run changes nothing.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path

from django.contrib.auth.models import Group
from django.db import transaction
from django.utils import timezone

from improvement import roles, services
from improvement.importer.parser import parse_report
from improvement.importer.themes import suggest_themes
from improvement.models import Action, Authority, Inspection, Judgement, Team, Theme, User
from improvement.reference import load_authorities, load_themes

DATA_DIR = Path(__file__).resolve().parent / "data"
KNOWSLEY_ONS_CODE = "E08000011"
REPORT_2021 = DATA_DIR / "knowsley-ilacs-2021.txt"
REPORT_2021_URL = "https://files.ofsted.gov.uk/v1/file/50173304"


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


DEMO_USERS = (
    DemoUser(
        "admin",
        "demo-admin-2021",
        "Ros",
        "Ashworth",
        "Improvement programme manager",
        roles.ADMINISTRATOR,
        is_staff=True,
        is_superuser=True,
    ),
    DemoUser(
        "owner",
        "demo-owner-2021",
        "Priya",
        "Shah",
        "Head of service, help and protection",
        roles.ACTION_OWNER,
    ),
    DemoUser(
        "owner2",
        "demo-owner2-2021",
        "Daniel",
        "Hughes",
        "Team manager, leaving care",
        roles.ACTION_OWNER,
    ),
    DemoUser(
        "partner",
        "demo-partner-2021",
        "Karen",
        "Doyle",
        "Housing options manager (partner agency)",
        roles.ACTION_OWNER,
    ),
    DemoUser(
        "leader",
        "demo-leader-2021",
        "Alison",
        "Clarke",
        "Director of children's services",
        roles.SENIOR_LEADER,
    ),
    DemoUser(
        "board", "demo-board-2021", "Jo", "Bennett", "Improvement board member", roles.BOARD_VIEWER
    ),
)


def _users(authority: Authority) -> dict[str, User]:
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


# (kind, start, end, published, lead inspectors, title, outcome, judgements as (area, grade))
# Judgements with area None are the overall judgement.
HISTORY = [
    (
        Inspection.Kind.SAFEGUARDING_LAC,
        None,
        None,
        dt.date(2010, 3, 1),
        [],
        "Inspection of safeguarding and looked after children services",
        "Published March 2010 (day of publication not held).",
        [
            ("Overall effectiveness of safeguarding services", "good"),
            ("Overall effectiveness of services for looked after children", "good"),
        ],
    ),
    (
        Inspection.Kind.SIF,
        dt.date(2014, 4, 29),
        dt.date(2014, 5, 21),
        dt.date(2014, 6, 30),
        ["Robert Hackeson"],
        "Inspection of services for children in need of help and protection, children looked "
        "after and care leavers and Review of the effectiveness of the local safeguarding "
        "children board",
        "",
        [
            ("Children who need help and protection", "inadequate"),
            ("Children looked after and achieving permanence", "requires_improvement"),
            ("Adoption performance", "inadequate"),
            ("Experiences and progress of care leavers", "requires_improvement"),
            ("Leadership, management and governance", "inadequate"),
            ("The effectiveness of the Local Safeguarding Children Board", "inadequate"),
            (None, "inadequate"),
        ],
    ),
    (
        Inspection.Kind.SIF_REINSPECTION,
        dt.date(2017, 3, 13),
        dt.date(2017, 3, 24),
        dt.date(2017, 6, 13),
        ["Shirley Bailey"],
        "Re-inspection of services for children in need of help and protection, children looked "
        "after and care leavers",
        "",
        [
            ("Children who need help and protection", "requires_improvement"),
            ("Children looked after and achieving permanence", "requires_improvement"),
            ("Adoption performance", "good"),
            ("Experiences and progress of care leavers", "good"),
            ("Leadership, management and governance", "good"),
            (None, "requires_improvement_to_be_good"),
        ],
    ),
    (
        Inspection.Kind.FOCUSED_VISIT,
        dt.date(2018, 10, 1),
        None,
        None,
        [],
        "Focused visit: the front door",
        "Progress since the re-inspection sustained and built on. Fieldwork in October 2018 "
        "(exact dates not held in the demo data).",
        [],
    ),
    (
        Inspection.Kind.FOCUSED_VISIT,
        dt.date(2020, 1, 1),
        None,
        None,
        [],
        "Focused visit: children in need and subject to a child protection plan, private fostering",
        "The pace of improvement has been slow. Fieldwork in January 2020 (exact dates not held).",
        [],
    ),
    (
        Inspection.Kind.SEND_AREA,
        dt.date(2022, 3, 14),
        dt.date(2022, 3, 18),
        None,
        [],
        "Joint local area SEND inspection (2016 framework)",
        "Written statement of action required.",
        [],
    ),
    (
        Inspection.Kind.FOCUSED_VISIT,
        dt.date(2022, 10, 1),
        None,
        None,
        [],
        "Focused visit: children in need and child protection",
        "Quality of practice variable; a more effective response to children experiencing "
        "domestic abuse and to disabled children. Fieldwork in October 2022 "
        "(exact dates not held).",
        [],
    ),
    (
        Inspection.Kind.FOCUSED_VISIT,
        dt.date(2024, 1, 31),
        dt.date(2024, 2, 1),
        None,
        [],
        "Focused visit: care leavers and care-experienced young people",
        "Progress made, but delivery of support varies.",
        [],
    ),
    (
        Inspection.Kind.ILACS_STANDARD,
        dt.date(2024, 11, 18),
        dt.date(2024, 11, 29),
        dt.date(2025, 1, 20),
        ["Rebekah Tucker"],
        "Inspection of Knowsley local authority children's services",
        "",
        [
            (
                "The impact of leaders on social work practice with children and families",
                "inadequate",
            ),
            ("The experiences and progress of children who need help and protection", "inadequate"),
            ("The experiences and progress of children in care", "requires_improvement_to_be_good"),
            ("The experiences and progress of care leavers", "inadequate"),
            (None, "inadequate"),
        ],
    ),
    (
        Inspection.Kind.MONITORING_VISIT,
        dt.date(2025, 9, 1),
        None,
        None,
        [],
        "Monitoring visit 1: early help, assessments of children in need, referrals, section 47 "
        "enquiries and out of hours",
        "Letter not yet published when the demo data was written.",
        [],
    ),
]

# The significant weaknesses of the 2022 area SEND inspection, as summarised by the council.
SEND_2022_AREAS = [
    (
        "The lack of a universal 0 to 25 public health offer, leading to poor identification of "
        "needs in children with SEND in the earliest years.",
        ["send"],
    ),
    ("Waiting times for neurodevelopmental assessment.", ["send"]),
    (
        "Preparation for adulthood for young people with SEND.",
        ["send", "transition-to-adult-services"],
    ),
]
# What the October 2022 focused visit found still needed to improve (sample wording).
FV_2022_AREAS = [
    (
        "Sample: the rigour and impact of management oversight, so that it considers the whole "
        "story for the child and drives improvement.",
        ["management-oversight"],
    ),
    (
        "Sample: carrying learning from audit into practice in a timely way.",
        ["audit-and-quality-assurance"],
    ),
    (
        "Sample: records of work and visits that are clear and up to date.",
        ["assessment-and-planning"],
    ),
]


def _load_history(authority: Authority, themes: dict[str, Theme]) -> None:
    for kind, start, end, published, leads, title, outcome, judgements in HISTORY:
        exists = Inspection.objects.filter(
            authority=authority, kind=kind, start_date=start, publication_date=published
        ).exists()
        if exists:
            continue
        inspection = services.inspection_create(
            authority=authority,
            kind=kind,
            start_date=start,
            end_date=end,
            publication_date=published,
            lead_inspectors=leads,
            title=title,
            outcome=outcome,
        )
        for position, (area, grade) in enumerate(judgements):
            services.judgement_add(
                inspection=inspection,
                area=area or "Overall effectiveness",
                grade=grade,
                is_overall=area is None,
                position=position,
            )
        extra = {
            (Inspection.Kind.SEND_AREA, dt.date(2022, 3, 14)): SEND_2022_AREAS,
            (Inspection.Kind.FOCUSED_VISIT, dt.date(2022, 10, 1)): FV_2022_AREAS,
        }.get((kind, start), [])
        for text, slugs in extra:
            services.improvement_area_add(
                inspection=inspection, text=text, themes=[themes[s] for s in slugs]
            )


def _load_report_2021(authority: Authority, themes: dict[str, Theme]) -> Inspection:
    existing = Inspection.objects.filter(
        authority=authority, kind=Inspection.Kind.ILACS_STANDARD, start_date=dt.date(2021, 10, 11)
    ).first()
    if existing:
        return existing
    report = parse_report(REPORT_2021.read_text(encoding="utf-8")).to_dict()
    inspection = services.inspection_create(
        authority=authority,
        kind=report["kind"],
        start_date=dt.date.fromisoformat(report["start_date"]),
        end_date=dt.date.fromisoformat(report["end_date"]),
        publication_date=dt.date(2021, 12, 3),
        lead_inspectors=report["lead_inspectors"],
        title="Inspection of Knowsley Council local authority children's services",
        report_url=REPORT_2021_URL,
        summary="Crown copyright 2021, reused under the Open Government Licence v3.0.",
    )
    for position, judgement in enumerate(report["judgements"]):
        services.judgement_add(
            inspection=inspection,
            area=judgement["area"],
            grade=_grade_value(judgement["grade"]),
            position=position,
        )
    if report["overall_effectiveness"]:
        services.judgement_add(
            inspection=inspection,
            area="Overall effectiveness",
            grade=_grade_value(report["overall_effectiveness"]),
            is_overall=True,
            position=len(report["judgements"]),
        )
    findings = {}
    for paragraph in report["paragraphs"]:
        findings[paragraph["number"]] = services.finding_add(
            inspection=inspection,
            number=paragraph["number"],
            section=paragraph["section"],
            text=paragraph["text"],
            themes=[themes[s] for s in suggest_themes(paragraph["text"]) if s in themes],
        )
    # Which paragraphs support each improvement area: read from the report by the demo's author.
    supporting = [[17, 18, 19, 20, 21, 36], [4, 5, 6, 7, 8, 10, 38], [13], [12], [11]]
    for position, area in enumerate(report["improvement_areas"], start=1):
        numbers = supporting[position - 1] if position <= len(supporting) else []
        services.improvement_area_add(
            inspection=inspection,
            position=position,
            text=area["text"],
            framework_tag=area.get("framework_tag") or "",
            supporting_findings=[findings[n] for n in numbers if n in findings],
            themes=[themes[s] for s in suggest_themes(area["text"]) if s in themes],
        )
    return inspection


def _grade_value(wording: str) -> str:
    for value, label in Judgement.Grade.choices:
        if label.lower() == wording.strip().lower():
            return value
    raise ValueError(f"Unknown grade wording: {wording!r}")


@dataclass(frozen=True)
class SampleAction:
    reference: str
    area: int
    title: str
    owner: str
    team: str
    start: int  # days from the anchor day
    due: int
    status: str
    rag: str
    success: str
    themes: tuple[str, ...] = ()
    notes: tuple[tuple[int, str, str | None, str | None], ...] = ()  # (day, text, status, rag)
    slips: tuple[tuple[int, int, str], ...] = ()  # (day asked, new due day, reason)
    # A request still awaiting a leader's decision: (day asked, days added to the due date, reason).
    pending_slip: tuple[int, int, str] | None = None
    milestones: tuple[tuple[str, int, bool], ...] = ()
    links: tuple[tuple[str, str], ...] = ()
    close: str | None = None  # "evidenced" or "without"
    priority: str = Action.Priority.MEDIUM


TEAMS = [
    ("Leaving care service", Team.Kind.COUNCIL, "owner2"),
    ("Help and protection", Team.Kind.COUNCIL, "owner"),
    ("Quality assurance and practice improvement", Team.Kind.COUNCIL, None),
    ("Early help and front door", Team.Kind.COUNCIL, None),
    ("Housing options", Team.Kind.PARTNER, "partner"),
    ("Adult social care transitions", Team.Kind.PARTNER, None),
    ("Merseyside Police public protection unit", Team.Kind.PARTNER, None),
]

ACTIONS = [
    SampleAction(
        "1.1",
        1,
        "Every care leaver has a current, co-produced pathway plan",
        "owner2",
        "Leaving care service",
        -240,
        -20,
        Action.DeliveryStatus.IN_PROGRESS,
        Action.Rag.RED,
        "90% of care leavers have a pathway plan reviewed in the last 6 months and audited as "
        "good; care leavers tell us their plan reflects what matters to them.",
        ("care-leavers",),
        notes=(
            (
                -200,
                "Pathway plan template rewritten with the Children in Care Council.",
                Action.DeliveryStatus.IN_PROGRESS,
                None,
            ),
            (
                -120,
                "Audit of 40 plans: 18 good. Agency personal advisers leaving; slower than "
                "planned.",
                None,
                Action.Rag.AMBER,
            ),
            (
                -45,
                "Two PA vacancies still open; 64% of plans in date. Asked for more time.",
                None,
                Action.Rag.RED,
            ),
        ),
        slips=(
            (-100, -60, "Recruitment of two personal advisers took longer than planned."),
            (-50, -20, "Interim PAs started late; audit rerun moved to next quarter."),
        ),
        milestones=(
            ("Template co-produced with care leavers", -190, True),
            ("All PAs trained on the new template", -130, True),
            ("Re-audit of 40 pathway plans", 10, False),
        ),
        links=(
            (
                "Pathway plan audit summary (sample link)",
                "https://www.knowsley.gov.uk/sample/pathway-plan-audit",
            ),
        ),
        priority=Action.Priority.HIGH,
    ),
    SampleAction(
        "1.2",
        1,
        "Secure suitable accommodation for every care leaver",
        "partner",
        "Housing options",
        -220,
        45,
        Action.DeliveryStatus.IN_PROGRESS,
        Action.Rag.AMBER,
        "No care leaver placed in bed and breakfast; 92% in suitable accommodation.",
        ("care-leavers", "homeless-16-17"),
        notes=(
            (
                -180,
                "Joint housing protocol signed by the council and registered providers.",
                Action.DeliveryStatus.IN_PROGRESS,
                Action.Rag.GREEN,
            ),
            (
                -40,
                "Six new supported-lodgings places; two young people still in B&B this month.",
                None,
                Action.Rag.AMBER,
            ),
        ),
        milestones=(
            ("Joint housing protocol signed", -170, True),
            ("Supported lodgings scheme expanded to 12 places", 30, False),
        ),
    ),
    SampleAction(
        "1.3",
        1,
        "Corporate parenting board scrutinises care leavers' outcomes each quarter",
        "owner2",
        "Leaving care service",
        -230,
        -100,
        Action.DeliveryStatus.DELIVERED,
        Action.Rag.GREEN,
        "Board minutes show challenge on care leavers' education, employment and housing, and "
        "the actions it set are followed up.",
        ("corporate-parenting", "care-leavers"),
        notes=(
            (
                -150,
                "New scorecard in use; board challenged EET figures.",
                Action.DeliveryStatus.DELIVERED,
                None,
            ),
        ),
        links=(
            (
                "Corporate parenting board minutes (sample link)",
                "https://www.knowsley.gov.uk/sample/cpb-minutes",
            ),
        ),
        close="evidenced",
    ),
    SampleAction(
        "1.4",
        1,
        "Care leavers in education, employment or training: personal offer",
        "owner2",
        "Leaving care service",
        -160,
        20,
        Action.DeliveryStatus.DELIVERED,
        Action.Rag.GREEN,
        "60% of 19-21 year old care leavers in education, employment or training.",
        ("care-leavers",),
        notes=(
            (
                -120,
                "Apprenticeship ring-fence agreed with the council's HR service.",
                Action.DeliveryStatus.IN_PROGRESS,
                None,
            ),
            (
                -30,
                "Local offer published and every care leaver written to.",
                Action.DeliveryStatus.DELIVERED,
                None,
            ),
        ),
    ),
    SampleAction(
        "2.1",
        2,
        "Domestic abuse practice standard and training for all social workers",
        "owner",
        "Help and protection",
        -210,
        -10,
        Action.DeliveryStatus.DELIVERED,
        Action.Rag.GREEN,
        "Audits show safety plans address the perpetrator's behaviour, not only the mother's "
        "actions, in 80% of domestic abuse cases.",
        ("domestic-abuse", "assessment-and-planning"),
        notes=(
            (
                -190,
                "Safe and Together training commissioned.",
                Action.DeliveryStatus.IN_PROGRESS,
                None,
            ),
            (
                -20,
                "All 96 social workers trained; practice standard published.",
                Action.DeliveryStatus.DELIVERED,
                None,
            ),
        ),
        milestones=(
            ("Training commissioned", -180, True),
            ("All social workers trained", -25, True),
        ),
        links=(
            (
                "Domestic abuse practice standard (sample link)",
                "https://www.knowsley.gov.uk/sample/da-practice-standard",
            ),
        ),
    ),
    SampleAction(
        "2.2",
        2,
        "Outcome-focused child in need and child protection plans",
        "owner",
        "Help and protection",
        -200,
        60,
        Action.DeliveryStatus.IN_PROGRESS,
        Action.Rag.AMBER,
        "70% of plans audited as outcome-focused (baseline 38%).",
        ("assessment-and-planning",),
        notes=(
            (
                -150,
                "New plan template live in the case recording system.",
                Action.DeliveryStatus.IN_PROGRESS,
                Action.Rag.GREEN,
            ),
            (
                -50,
                "Dip sample: 49% outcome-focused; coaching sessions for managers planned.",
                None,
                Action.Rag.AMBER,
            ),
        ),
        pending_slip=(-5, 45, "Coaching for managers moved to January after staff sickness"),
    ),
    SampleAction(
        "2.3",
        2,
        "Management oversight that tests whether children's lives are improving",
        "owner",
        "Quality assurance and practice improvement",
        -200,
        14,
        Action.DeliveryStatus.IN_PROGRESS,
        Action.Rag.AMBER,
        "Supervision records show reflection on progress against the plan for 75% of children "
        "audited; not just visits and meetings held.",
        ("management-oversight",),
        priority=Action.Priority.HIGH,
        notes=((-170, "Supervision policy revised.", Action.DeliveryStatus.IN_PROGRESS, None),),
    ),
    SampleAction(
        "2.4",
        2,
        "Joint response to domestic abuse notifications with the police",
        "owner",
        "Merseyside Police public protection unit",
        -180,
        -35,
        Action.DeliveryStatus.NOT_STARTED,
        Action.Rag.RED,
        "Domestic abuse notifications screened jointly within 24 hours.",
        ("domestic-abuse", "partnership-working"),
    ),
    SampleAction(
        "2.5",
        2,
        "Learning from audit carried into practice within a month",
        "leader",
        "Quality assurance and practice improvement",
        -190,
        90,
        Action.DeliveryStatus.IN_PROGRESS,
        Action.Rag.GREEN,
        "Each audit's actions tracked to completion; re-audit shows improvement in 3 months.",
        ("audit-and-quality-assurance",),
        notes=(
            (
                -40,
                "Monthly practice learning bulletin started.",
                Action.DeliveryStatus.IN_PROGRESS,
                None,
            ),
        ),
    ),
    SampleAction(
        "3.1",
        3,
        "Joint assessment protocol for 16 and 17 year olds who present as homeless",
        "partner",
        "Housing options",
        -200,
        -5,
        Action.DeliveryStatus.IN_PROGRESS,
        Action.Rag.AMBER,
        "Every 16-17 year old who presents as homeless has a joint assessment within 10 working "
        "days and is told of their right to become looked after.",
        ("homeless-16-17",),
        notes=(
            (-160, "Draft protocol shared with housing.", Action.DeliveryStatus.IN_PROGRESS, None),
        ),
        slips=((-30, -5, "Housing legal review of the protocol took longer than expected."),),
    ),
    SampleAction(
        "4.1",
        4,
        "Raise awareness of private fostering and assess every notification on time",
        "owner",
        "Early help and front door",
        -190,
        30,
        Action.DeliveryStatus.IN_PROGRESS,
        Action.Rag.GREEN,
        "All private fostering notifications assessed within 42 days; notifications rise from "
        "schools and GPs.",
        ("private-fostering",),
        notes=(
            (
                -100,
                "Awareness campaign with schools and GP practices.",
                Action.DeliveryStatus.IN_PROGRESS,
                None,
            ),
            (-8, "Three new notifications this quarter, all assessed in time.", None, None),
        ),
    ),
    SampleAction(
        "5.1",
        5,
        "Transition planning from age 14 for disabled children",
        "owner",
        "Adult social care transitions",
        -180,
        120,
        Action.DeliveryStatus.NOT_STARTED,
        Action.Rag.AMBER,
        "Every disabled child likely to need adult services has a transition plan by 16.",
        ("transition-to-adult-services", "send"),
    ),
    SampleAction(
        "5.2",
        5,
        "Joint transitions panel with adult social care",
        "owner2",
        "Adult social care transitions",
        -170,
        -50,
        Action.DeliveryStatus.DELIVERED,
        Action.Rag.GREEN,
        "Panel reviews every young person from 17 and a half; no gap in support at 18.",
        ("transition-to-adult-services",),
        notes=(
            (
                -60,
                "Panel meets monthly; terms of reference agreed.",
                Action.DeliveryStatus.DELIVERED,
                None,
            ),
        ),
        close="without",
    ),
]

MEASURES = [
    (
        "Care leavers in suitable accommodation",
        "percent",
        "up",
        "78",
        "92",
        ["1.2"],
        ["80", "83", "85", "84"],
    ),
    (
        "Care leavers aged 19-21 in education, employment or training",
        "percent",
        "up",
        "45",
        "60",
        ["1.4"],
        ["46", "49", "52", "55"],
    ),
    (
        "Child protection plans audited as outcome-focused",
        "percent",
        "up",
        "38",
        "70",
        ["2.2", "2.3"],
        ["41", "44", "47", "49"],
    ),
    (
        "Re-referrals within 12 months",
        "percent",
        "down",
        "24",
        "18",
        ["2.1", "2.4"],
        ["24", "23", "22", "22"],
    ),
    (
        "Days from homeless presentation to joint assessment (median)",
        "days",
        "down",
        "21",
        "10",
        ["3.1"],
        ["19", "17", "15", "14"],
    ),
]


def _load_plan(
    authority: Authority,
    inspection: Inspection,
    users: dict[str, User],
    themes: dict[str, Theme],
    anchor: dt.date,
) -> int:
    teams = {}
    for name, kind, lead in TEAMS:
        team = Team.objects.filter(authority=authority, name=name).first()
        teams[name] = team or services.team_create(
            authority=authority, name=name, kind=kind, lead=users.get(lead) if lead else None
        )
    areas = {area.position: area for area in inspection.improvement_areas.all()}
    created = 0
    for spec in ACTIONS:
        if Action.objects.filter(authority=authority, reference=spec.reference).exists():
            continue
        created += 1
        _load_action(spec, areas, teams, users, themes, anchor)
    _load_measures(authority, users, anchor)
    return created


def _day(anchor: dt.date, offset: int) -> dt.date:
    return anchor + dt.timedelta(days=offset)


def _at(anchor: dt.date, offset: int) -> dt.datetime:
    return timezone.make_aware(dt.datetime.combine(_day(anchor, offset), dt.time(10, 30)))


def _load_action(spec: SampleAction, areas, teams, users, themes, anchor: dt.date) -> None:
    # The due date is the one first agreed; approved slips then move it on.
    first_due = spec.slips[0][1] - 30 if spec.slips else spec.due
    first_due = max(first_due, spec.start + 30)
    action = services.action_create(
        reference=spec.reference,
        title=spec.title,
        improvement_areas=[areas[spec.area]],
        owner=users[spec.owner],
        team=teams[spec.team],
        start_date=_day(anchor, spec.start),
        due_date=_day(anchor, first_due),
        success_measure=spec.success,
        description="Sample action written for the demo.",
        priority=spec.priority,
        # The rating the notes end on, or the one set when the action was agreed.
        rag=Action.Rag.GREEN if any(note[3] for note in spec.notes) else spec.rag,
        themes=[themes[s] for s in spec.themes],
        is_sample=True,
    )
    for title, due, done in spec.milestones:
        services.milestone_add(
            action=action,
            title=title,
            due_date=_day(anchor, due),
            completed_on=_day(anchor, due) if done else None,
        )
    for asked, new_due, reason in spec.slips:
        change = services.due_date_change_request(
            action=action,
            requested_by=users[spec.owner],
            new_date=_day(anchor, new_due),
            reason=reason,
            today=_day(anchor, asked),
        )
        services.due_date_change_decide(change=change, decided_by=users["leader"], approve=True)
        action.refresh_from_db()
    if spec.pending_slip:
        asked, days_more, reason = spec.pending_slip
        services.due_date_change_request(
            action=action,
            requested_by=users[spec.owner],
            new_date=action.due_date + dt.timedelta(days=days_more),
            reason=reason,
            today=_day(anchor, asked),
        )
    for day, text, status, rag in spec.notes:
        services.action_record_progress(
            action=action,
            author=users[spec.owner],
            expected_version=action.version,
            text=text,
            delivery_status=status,
            rag=rag,
            is_sample=True,
            at=_at(anchor, day),
        )
    for title, url in spec.links:
        services.evidence_add_link(
            action=action, added_by=users[spec.owner], url=url, title=title, is_sample=True
        )
    if spec.close:
        services.action_sign_off(
            action=action,
            by=users["leader"],
            expected_version=action.version,
            impact_evidenced=spec.close == "evidenced",
            note="Sample sign-off: board minutes show the change in practice."
            if spec.close == "evidenced"
            else "Sample sign-off: panel in place, but too early to evidence a difference for "
            "young people; tracked through measure 'preparation for adulthood' instead.",
        )


def _load_measures(authority: Authority, users: dict[str, User], anchor: dt.date) -> None:
    for name, unit, direction, baseline, target, refs, values in MEASURES:
        if authority.measures.filter(name=name).exists():
            continue
        measure = services.measure_create(
            authority=authority,
            name=name,
            unit=unit,
            direction=direction,
            baseline_value=Decimal(baseline),
            baseline_date=_day(anchor, -240),
            target_value=Decimal(target),
            target_date=_day(anchor, 180),
            actions=Action.objects.filter(authority=authority, reference__in=refs),
        )
        for index, value in enumerate(values):
            services.measure_record_value(
                measure=measure,
                recorded_on=_day(anchor, -180 + index * 45),
                value=Decimal(value),
                recorded_by=users["admin"],
                is_sample=True,
                note="Sample value.",
            )


@dataclass
class DemoSummary:
    authorities_created: int
    actions_created: int
    users: tuple[DemoUser, ...]


@transaction.atomic
def load_demo(
    *, anchor: dt.date | None = None, log: Callable[[str], None] = lambda _: None
) -> DemoSummary:
    anchor = anchor or timezone.localdate()
    authorities_created = load_authorities()
    log(f"Authorities: {Authority.objects.count()} ({authorities_created} new)")
    themes = load_themes()
    knowsley = Authority.objects.get(ons_code=KNOWSLEY_ONS_CODE)
    users = _users(knowsley)
    _load_history(knowsley, themes)
    inspection = _load_report_2021(knowsley, themes)
    log(f"Knowsley inspections: {knowsley.inspections.count()}")
    created = _load_plan(knowsley, inspection, users, themes, anchor)
    log(f"Sample actions: {knowsley.actions.count()} ({created} new)")
    _load_board_meeting(knowsley, users, anchor)
    return DemoSummary(authorities_created, created, DEMO_USERS)


def _load_board_meeting(authority: Authority, users: dict[str, User], anchor: dt.date) -> None:
    """The next improvement board, four weeks on, so that an update round is running."""
    if authority.board_meetings.exists():
        return
    services.board_meeting_create(
        authority=authority,
        meets_on=anchor + dt.timedelta(days=28),
        by=users["leader"],
        today=anchor,
    )
