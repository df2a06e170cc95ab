"""The permission walk: every page of the tracker, for every role, answers as rules.py says.

Every URL pattern in the "improvement" namespace must have an entry in REGISTRY below: how to
build its kwargs from one small fixture world, and what each role gets for GET and for POST.
A page added to improvement/urls.py without an entry fails `test_every_page_is_in_the_walk`,
so nobody can add a page that escapes this check.

Outcomes:
- LOGIN: anonymous users are redirected to the login page.
- NOT_FOUND: the user may not see the object (or the page), so its existence is not revealed.
- FORBIDDEN: the user may see it but not do this (a forged POST, or GET of a change page).
- READ_ONLY: 200, and none of the page's change controls (their URLs, or a field name where
  the form posts to its own page) appear in the HTML.
- OK: GET 200 (and, where the entry lists controls, they do appear); POST 200 with errors, or
  a redirect that is not to the login page.
- REDIRECT: 302 somewhere other than the login page (e.g. the home page sends users on).
- NOT_ALLOWED: 405, the page does not take this method.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from types import SimpleNamespace

import pytest
from django.contrib.auth.models import Group
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import transaction
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver, reverse
from django.utils import timezone

from improvement import roles, services
from improvement.models import Action, BoardMeeting
from improvement.services.packs import board_pack_freeze
from improvement.services.plan_import import plan_import_preview
from tests.factories import (
    TODAY,
    ActionFactory,
    AuthorityFactory,
    FindingFactory,
    ImprovementAreaFactory,
    InspectionFactory,
    JudgementFactory,
    MeasureFactory,
    TeamFactory,
    UserFactory,
)

NAMESPACE = "improvement"

# Outcomes
LOGIN = "login"
NOT_FOUND = "404"
FORBIDDEN = "403"
READ_ONLY = "read-only"
OK = "ok"
REDIRECT = "redirect"
NOT_ALLOWED = "405"

# Roles, each seen from the point of view of the world's objects (see `world` below).
ANON = "anonymous"
OWNER = "owner"  # owns the action under test
OTHER_OWNER = "other-owner"  # an action owner of the same authority who does not own it
TEAM_LEAD = "team-lead"  # action owner who leads the action's team
LEADER = "leader"  # senior leader of the authority
BOARD = "board"  # board viewer of the authority
ADMIN = "admin"  # Administrator group (staff, not superuser)
STRANGER = "stranger"  # senior leader of ANOTHER authority
NO_ROLE = "no-role"  # logged in, in no group
ROLES = (ANON, OWNER, OTHER_OWNER, TEAM_LEAD, LEADER, BOARD, ADMIN, STRANGER, NO_ROLE)
METHODS = ("GET", "POST")


def expect(default: str, **overrides: str) -> dict[str, str]:
    """Outcome per role: `default` for every role, anonymous -> LOGIN, then the overrides."""
    table = dict.fromkeys(ROLES, default)
    table[ANON] = LOGIN
    names = {
        "owner": OWNER,
        "other_owner": OTHER_OWNER,
        "team_lead": TEAM_LEAD,
        "leader": LEADER,
        "board": BOARD,
        "admin": ADMIN,
        "stranger": STRANGER,
        "no_role": NO_ROLE,
        "anon": ANON,
    }
    for key, outcome in overrides.items():
        table[names[key]] = outcome
    return table


@dataclass(frozen=True)
class Page:
    """How to reach one URL name and what each role gets there."""

    kwargs: Callable[[SimpleNamespace], dict]
    get: dict[str, str]
    post: dict[str, str]
    # Change controls (URLs) that READ_ONLY users must not be shown and OK users must be (GET).
    controls: Callable[[SimpleNamespace], list[str]] = field(default=lambda w: [])
    post_data: Callable[[SimpleNamespace], dict] = field(default=lambda w: {})


def no_kwargs(w):
    return {}


def pk_of(attribute: str) -> Callable[[SimpleNamespace], dict]:
    return lambda w: {"pk": getattr(w, attribute).pk}


def _url(name: str, **kwargs) -> str:
    return reverse(f"{NAMESPACE}:{name}", kwargs=kwargs)


def url_of(name: str, attribute: str) -> Callable[[SimpleNamespace], list[str]]:
    return lambda w: [_url(name, pk=getattr(w, attribute).pk)]


# Outcome tables derived from rules.py, for objects of authority A ("home").
# see_*: every role of A sees; users of another authority and users with no role get 404.
SEE = expect(READ_ONLY, stranger=NOT_FOUND, no_role=NOT_FOUND)
# Pages for anyone with a role (see_plan, see_dashboard, see_deadline_register).
ANY_ROLE = expect(READ_ONLY, no_role=FORBIDDEN)
# update_action on `mine`: its owner, the lead of its team, administrators.
UPDATE_MINE = expect(
    FORBIDDEN, owner=OK, team_lead=OK, admin=OK, stranger=NOT_FOUND, no_role=NOT_FOUND
)
# update_action on `theirs` (other owner's, no team).
UPDATE_THEIRS = expect(FORBIDDEN, other_owner=OK, admin=OK, stranger=NOT_FOUND, no_role=NOT_FOUND)
# decide_deadline / sign_off_action on something the owner asked for or owns.
LEADER_OR_ADMIN = expect(FORBIDDEN, leader=OK, admin=OK, stranger=NOT_FOUND, no_role=NOT_FOUND)
# ... and on something the leader asked for or owns: nobody decides their own.
ADMIN_ONLY = expect(FORBIDDEN, admin=OK, stranger=NOT_FOUND, no_role=NOT_FOUND)
# ... and on something an administrator asked for or owns.
LEADER_ONLY = expect(FORBIDDEN, leader=OK, stranger=NOT_FOUND, no_role=NOT_FOUND)
# Queues for those who sign off, read-only for the board.
SIGN_OFF_QUEUE = expect(FORBIDDEN, leader=OK, admin=OK, board=READ_ONLY, stranger=READ_ONLY)
GET_ONLY = expect(NOT_ALLOWED)
CLOSED = expect(FORBIDDEN, stranger=NOT_FOUND, no_role=NOT_FOUND)

# Keys are URL names; "name#variant" walks the same URL on another object of the world.
REGISTRY: dict[str, Page] = {
    "home": Page(kwargs=no_kwargs, get=expect(REDIRECT), post=expect(REDIRECT)),
    # National users (admin) choose an authority; the others are sent to their own dashboard.
    "dashboard": Page(
        kwargs=no_kwargs,
        get=expect(REDIRECT, no_role=FORBIDDEN),
        post=GET_ONLY,
    ),
    # The national overview: only for users who reach many authorities (admin here).
    "national": Page(kwargs=no_kwargs, get=expect(FORBIDDEN, admin=READ_ONLY), post=GET_ONLY),
    "dashboard-authority": Page(kwargs=pk_of("home"), get=SEE, post=GET_ONLY),
    "dashboard-authority#away": Page(
        kwargs=pk_of("away"),
        get=expect(NOT_FOUND, stranger=READ_ONLY, admin=READ_ONLY),
        post=GET_ONLY,
    ),
    # My actions lists only what the user owns or whose team they lead, with "Update" links.
    "my-actions": Page(
        kwargs=no_kwargs,
        get=expect(READ_ONLY, owner=OK, team_lead=OK, no_role=FORBIDDEN, board=FORBIDDEN),
        post=GET_ONLY,
        controls=url_of("action-update", "mine"),
    ),
    "action-list": Page(kwargs=no_kwargs, get=ANY_ROLE, post=GET_ONLY),
    "action-detail": Page(
        kwargs=pk_of("mine"),
        get=expect(
            READ_ONLY, owner=OK, team_lead=OK, admin=OK, stranger=NOT_FOUND, no_role=NOT_FOUND
        ),
        post=GET_ONLY,
        controls=lambda w: [
            _url("action-update", pk=w.mine.pk),
            _url("deadline-request", pk=w.mine.pk),
        ],
    ),
    "action-detail#theirs": Page(
        kwargs=pk_of("theirs"),
        get=expect(READ_ONLY, other_owner=OK, admin=OK, stranger=NOT_FOUND, no_role=NOT_FOUND),
        post=GET_ONLY,
        controls=url_of("action-update", "theirs"),
    ),
    "action-detail#delivered": Page(
        kwargs=pk_of("delivered"),
        get=expect(READ_ONLY, leader=OK, admin=OK, stranger=NOT_FOUND, no_role=NOT_FOUND),
        post=GET_ONLY,
        controls=lambda w: [
            _url("action-sign-off", pk=w.delivered.pk),
            _url("action-send-back", pk=w.delivered.pk),
        ],
    ),
    "action-detail#leaders-own": Page(
        kwargs=pk_of("leaders_own"),
        get=expect(READ_ONLY, admin=OK, stranger=NOT_FOUND, no_role=NOT_FOUND),
        post=GET_ONLY,
        controls=url_of("action-sign-off", "leaders_own"),
    ),
    "action-update": Page(kwargs=pk_of("mine"), get=UPDATE_MINE, post=UPDATE_MINE),
    "action-update#theirs": Page(kwargs=pk_of("theirs"), get=UPDATE_THEIRS, post=UPDATE_THEIRS),
    # Nobody updates a closed action; its deadline page says so without a form.
    "action-update#closed": Page(kwargs=pk_of("closed"), get=CLOSED, post=CLOSED),
    "deadline-request#closed": Page(
        kwargs=pk_of("closed"),
        get=SEE,
        post=CLOSED,
        controls=lambda w: ['name="reason"'],
        post_data=lambda w: {"new_date": "2027-06-01", "reason": "Forged."},
    ),
    "evidence-download": Page(kwargs=pk_of("evidence"), get=SEE, post=GET_ONLY),
    "deadline-request": Page(kwargs=pk_of("mine"), get=UPDATE_MINE, post=UPDATE_MINE),
    "deadline-request#theirs": Page(
        kwargs=pk_of("theirs"),
        get=UPDATE_THEIRS,
        post=UPDATE_THEIRS,
        post_data=lambda w: {"new_date": "", "reason": ""},
    ),
    # The register: every role sees it (owners what involves them); leaders get "Decide" links.
    "deadline-list": Page(
        kwargs=no_kwargs,
        get=expect(READ_ONLY, leader=OK, admin=OK, no_role=FORBIDDEN),
        post=GET_ONLY,
        controls=url_of("deadline-decide", "change"),
    ),
    "deadline-decide": Page(kwargs=pk_of("change"), get=LEADER_OR_ADMIN, post=LEADER_OR_ADMIN),
    "deadline-decide#leaders-own": Page(
        kwargs=pk_of("leaders_change"), get=ADMIN_ONLY, post=ADMIN_ONLY
    ),
    "deadline-decide#admins-own": Page(
        kwargs=pk_of("admins_change"), get=LEADER_ONLY, post=LEADER_ONLY
    ),
    "sign-off-list": Page(
        kwargs=no_kwargs,
        get=SIGN_OFF_QUEUE,
        post=GET_ONLY,
        controls=url_of("action-sign-off", "delivered"),
    ),
    "action-sign-off": Page(kwargs=pk_of("delivered"), get=LEADER_OR_ADMIN, post=LEADER_OR_ADMIN),
    "action-sign-off#leaders-own": Page(
        kwargs=pk_of("leaders_own"), get=ADMIN_ONLY, post=ADMIN_ONLY
    ),
    "action-sign-off#admins-own": Page(
        kwargs=pk_of("admins_own"), get=LEADER_ONLY, post=LEADER_ONLY
    ),
    "action-send-back": Page(kwargs=pk_of("delivered"), get=LEADER_OR_ADMIN, post=LEADER_OR_ADMIN),
    "action-send-back#leaders-own": Page(
        kwargs=pk_of("leaders_own"), get=ADMIN_ONLY, post=ADMIN_ONLY
    ),
    "inspection-list": Page(kwargs=no_kwargs, get=ANY_ROLE, post=GET_ONLY),
    "inspection-detail": Page(kwargs=pk_of("inspection"), get=SEE, post=GET_ONLY),
    "inspection-detail#away": Page(
        kwargs=pk_of("away_inspection"),
        get=expect(NOT_FOUND, stranger=READ_ONLY, admin=READ_ONLY),
        post=GET_ONLY,
    ),
    # The Ofsted report importer is for administrators only (import_report).
    "report-import": Page(
        kwargs=no_kwargs, get=expect(FORBIDDEN, admin=OK), post=expect(FORBIDDEN, admin=OK)
    ),
    # Nothing previewed under this hash in the session: administrators are sent to upload.
    "report-import-preview": Page(
        kwargs=lambda w: {"sha256": "0" * 64},
        get=expect(FORBIDDEN, admin=REDIRECT),
        post=expect(FORBIDDEN, admin=REDIRECT),
    ),
    # The post-inspection plan as sent: recorded by leaders and administrators of the authority.
    "plan-submission": Page(kwargs=pk_of("inspection"), get=LEADER_OR_ADMIN, post=LEADER_OR_ADMIN),
    "plan-download": Page(kwargs=pk_of("plan"), get=SEE, post=GET_ONLY),
    # A measure's values: recorded by the owner of an action it tracks, or a leader.
    "measure-detail": Page(
        kwargs=pk_of("measure"),
        get=expect(READ_ONLY, owner=OK, leader=OK, admin=OK, stranger=NOT_FOUND, no_role=NOT_FOUND),
        post=expect(
            FORBIDDEN, owner=OK, leader=OK, admin=OK, stranger=NOT_FOUND, no_role=NOT_FOUND
        ),
        controls=lambda w: ['name="recorded_on_0"'],
    ),
    # Exports, board packs and plan import (views/packs.py).
    "action-export-csv": Page(kwargs=no_kwargs, get=ANY_ROLE, post=GET_ONLY),
    "action-export-xlsx": Page(kwargs=no_kwargs, get=ANY_ROLE, post=GET_ONLY),
    "pack-list": Page(kwargs=no_kwargs, get=ANY_ROLE, post=GET_ONLY),
    # Everyone who sees the authority reads its draft pack; leaders and administrators freeze it.
    "pack-draft": Page(
        kwargs=pk_of("home"),
        get=expect(READ_ONLY, leader=OK, admin=OK, stranger=NOT_FOUND, no_role=NOT_FOUND),
        post=LEADER_OR_ADMIN,
        controls=lambda w: ["Freeze the pack for"],
    ),
    "pack-draft-pdf": Page(kwargs=pk_of("home"), get=SEE, post=GET_ONLY),
    "pack-detail": Page(kwargs=pk_of("pack"), get=SEE, post=GET_ONLY),
    "pack-pdf": Page(kwargs=pk_of("pack"), get=SEE, post=GET_ONLY),
    "pack-html": Page(kwargs=pk_of("pack"), get=SEE, post=GET_ONLY),
    # Any leader may start an import (of their own authorities' plans); owners and the board not.
    "plan-import": Page(
        kwargs=no_kwargs,
        get=expect(FORBIDDEN, leader=OK, admin=OK, stranger=OK),
        post=expect(FORBIDDEN, leader=OK, admin=OK, stranger=OK),
    ),
    "plan-import-preview": Page(
        kwargs=pk_of("plan_import"), get=LEADER_OR_ADMIN, post=LEADER_OR_ADMIN
    ),
    # The board's calendar (views/rounds.py): everyone in scope sees it; leaders and
    # administrators set and move meeting dates (manage_board_meetings).
    "board-meetings": Page(
        kwargs=pk_of("home"),
        get=expect(READ_ONLY, leader=OK, admin=OK, stranger=NOT_FOUND, no_role=NOT_FOUND),
        post=LEADER_OR_ADMIN,
        controls=lambda w: ['name="meets_on_0"'],
    ),
    "board-meetings#away": Page(
        kwargs=pk_of("away"),
        get=expect(NOT_FOUND, stranger=OK, admin=OK),
        post=expect(NOT_FOUND, stranger=OK, admin=OK),
        controls=lambda w: ['name="meets_on_0"'],
    ),
    "board-meeting": Page(
        kwargs=pk_of("meeting"),
        get=expect(READ_ONLY, leader=OK, admin=OK, stranger=NOT_FOUND, no_role=NOT_FOUND),
        post=LEADER_OR_ADMIN,
        controls=lambda w: ['name="meets_on_0"'],
    ),
    # Each person's own emails: anyone with a role.
    "your-emails": Page(
        kwargs=no_kwargs,
        get=expect(OK, no_role=FORBIDDEN),
        post=expect(OK, no_role=FORBIDDEN),
        controls=lambda w: ['name="due_soon"'],
    ),
}


def url_name(key: str) -> str:
    return key.split("#", 1)[0]


# The URL names the project routes, read from the resolver.


def routed_names() -> dict[str, str]:
    """Every URL pattern under the improvement namespace: name -> route (unnamed ones too)."""
    found: dict[str, str] = {}

    def walk(patterns, namespaces: tuple[str, ...], prefix: str) -> None:
        for pattern in patterns:
            route = prefix + str(pattern.pattern)
            if isinstance(pattern, URLResolver):
                inner = (*namespaces, pattern.namespace) if pattern.namespace else namespaces
                walk(pattern.url_patterns, inner, route)
            elif isinstance(pattern, URLPattern) and NAMESPACE in namespaces:
                found[pattern.name or f"<unnamed {route}>"] = route

    walk(get_resolver().url_patterns, (), "/")
    return found


def test_every_page_is_in_the_walk():
    """A page routed under improvement: without a REGISTRY entry fails the suite."""
    missing = sorted(set(routed_names()) - {url_name(key) for key in REGISTRY})
    assert not missing, "\n".join(f"add {name} to the permission walk" for name in missing)


def test_registry_describes_every_role_and_method():
    for name, page in REGISTRY.items():
        for method, table in (("GET", page.get), ("POST", page.post)):
            assert set(table) == set(ROLES), f"{name} {method} must give an outcome per role"


# The world: two authorities, one plan each, users in every role.


@pytest.fixture(scope="module")
def world(django_db_setup, django_db_blocker):
    """Built once for the module inside a transaction that is rolled back at the end.

    Each test runs in its own nested transaction (pytest-django's `db`), so what a POST writes
    is undone before the next case, as with Django's TestCase.setUpTestData.
    """
    with django_db_blocker.unblock():
        outer = transaction.atomic()
        outer.__enter__()
        try:
            yield build_world()
        finally:
            transaction.set_rollback(True)
            outer.__exit__(None, None, None)


def build_world() -> SimpleNamespace:
    home = AuthorityFactory(name="Knowsley", ons_code="E08000011")
    away = AuthorityFactory(name="Sefton", ons_code="E08000014")

    def role_user(username, group=None, authority=home, **extra):
        user = UserFactory(username=username, authority=authority, **extra)
        if group:
            user.groups.add(Group.objects.get_or_create(name=group)[0])
        return user

    owner = role_user("owner", roles.ACTION_OWNER)
    other_owner = role_user("other_owner", roles.ACTION_OWNER)
    team_lead = role_user("team_lead", roles.ACTION_OWNER)
    leader = role_user("leader", roles.SENIOR_LEADER)
    board = role_user("board", roles.BOARD_VIEWER)
    admin = role_user("admin", roles.ADMINISTRATOR, authority=None, is_staff=True)
    stranger = role_user("stranger", roles.SENIOR_LEADER, authority=away)
    no_role = role_user("no_role")
    away_owner = role_user("away_owner", roles.ACTION_OWNER, authority=away)

    inspection = InspectionFactory(authority=home, title="Knowsley ILACS 2021")
    JudgementFactory(inspection=inspection)
    finding = FindingFactory(inspection=inspection, number=12)
    area = ImprovementAreaFactory(inspection=inspection, position=1)
    area.supporting_findings.add(finding)
    away_inspection = InspectionFactory(authority=away, title="Sefton ILACS 2022")
    away_area = ImprovementAreaFactory(inspection=away_inspection, position=1)

    team = TeamFactory(authority=home, name="Care leavers team", lead=team_lead)
    mine = ActionFactory(
        authority=home,
        owner=owner,
        team=team,
        title="Secret-free pathway plans",
        improvement_areas=[area],
    )
    theirs = ActionFactory(
        authority=home, owner=other_owner, title="Other owner's action", improvement_areas=[area]
    )
    delivered = ActionFactory(
        authority=home,
        owner=owner,
        team=team,
        title="Delivered awaiting sign-off",
        improvement_areas=[area],
        delivery_status=Action.DeliveryStatus.DELIVERED,
    )
    # A delivered action the leader owns, with a deadline change the leader asked for.
    leaders_own = ActionFactory(
        authority=home,
        owner=leader,
        title="Leader's own action",
        improvement_areas=[area],
        delivery_status=Action.DeliveryStatus.DELIVERED,
    )
    leaders_change = services.due_date_change_request(
        action=leaders_own,
        by=leader,
        new_date=leaders_own.due_date + dt.timedelta(days=14),
        reason="Waiting for the audit report.",
        today=TODAY,
    )
    # An administrator's own delivered action and deadline request: not theirs to decide.
    admins_own = ActionFactory(
        authority=home,
        owner=admin,
        title="Administrator's own action",
        improvement_areas=[area],
        delivery_status=Action.DeliveryStatus.DELIVERED,
    )
    admins_change = services.due_date_change_request(
        action=admins_own,
        by=admin,
        new_date=admins_own.due_date + dt.timedelta(days=7),
        reason="Board meeting moved.",
        today=TODAY,
    )
    closed = ActionFactory(
        authority=home,
        owner=owner,
        team=team,
        title="Closed action",
        improvement_areas=[area],
        delivery_status=Action.DeliveryStatus.DELIVERED,
    )
    services.action_sign_off(
        action=closed, by=leader, expected_version=1, impact_evidenced=False, note="Done."
    )
    away_action = ActionFactory(
        authority=away,
        owner=away_owner,
        title="Sefton-only action XYZZY",
        improvement_areas=[away_area],
    )
    change = services.due_date_change_request(
        action=mine,
        by=owner,
        new_date=mine.due_date + dt.timedelta(days=30),
        reason="Recruitment took longer than planned.",
        today=TODAY,
    )
    evidence = services.evidence_add_file(
        action=mine,
        by=owner,
        upload=SimpleUploadedFile("audit.txt", b"Audit of 40 pathway plans.\n"),
        title="Audit summary",
    )
    today = timezone.localdate()
    meeting = BoardMeeting.objects.create(
        authority=home,
        meets_on=today + dt.timedelta(days=60),
        updates_due_on=today + dt.timedelta(days=45),
        round_opens_on=today,
    )
    pack = board_pack_freeze(
        authority=home,
        board_date=TODAY + dt.timedelta(days=10),
        by=leader,
        now=dt.datetime(2026, 12, 1, 9, 0, tzinfo=dt.UTC),
    )
    plan_import = plan_import_preview(
        inspection=inspection,
        filename="plan.csv",
        data=(
            "Improvement area,Action,Owner email,Current due date,Success measure\n"
            f"1,Imported action,{owner.email},31/03/2027,Children say it helps.\n"
        ).encode(),
        by=leader,
        now=dt.datetime(2026, 12, 1, 9, 0, tzinfo=dt.UTC),
    )
    plan = services.plan_submission_record(
        inspection=inspection,
        stage="final",
        submitted_on=inspection.publication_date,
        by=leader,
        upload=SimpleUploadedFile("plan.txt", b"Our post-inspection action plan.\n"),
        today=TODAY,
    )
    measure = MeasureFactory(authority=home, name="Care leavers in suitable accommodation")
    measure.actions.add(mine)
    admin_extras = build_admin_extras(
        home=home,
        away=away,
        inspection=inspection,
        away_inspection=away_inspection,
        mine=mine,
        away_action=away_action,
        away_owner=away_owner,
    )
    # The walk's measure is the one the page registry uses (it tracks `mine`).
    admin_extras["measure"] = measure
    return SimpleNamespace(
        **admin_extras,
        pack=pack,
        plan_import=plan_import,
        plan=plan,
        meeting=meeting,
        home=home,
        away=away,
        inspection=inspection,
        away_inspection=away_inspection,
        area=area,
        team=team,
        mine=mine,
        theirs=theirs,
        delivered=delivered,
        leaders_own=leaders_own,
        closed=closed,
        admins_own=admins_own,
        admins_change=admins_change,
        leaders_change=leaders_change,
        away_action=away_action,
        change=change,
        evidence=evidence,
        users={
            OWNER: owner,
            OTHER_OWNER: other_owner,
            TEAM_LEAD: team_lead,
            LEADER: leader,
            BOARD: board,
            ADMIN: admin,
            STRANGER: stranger,
            NO_ROLE: no_role,
            HOME_ADMIN: admin_extras["home_admin"],
            SUPERUSER: admin_extras["root"],
        },
    )


# The walk itself.

CASES = [
    pytest.param(key, role, method, id=f"{key}-{role}-{method}")
    for key in REGISTRY
    for role in ROLES
    for method in METHODS
]


HOME_ROLES = (OWNER, OTHER_OWNER, TEAM_LEAD, LEADER, BOARD, NO_ROLE)


def hidden_from(world, role: str) -> list[str]:
    """What must never appear on any page for this role: the other authority's records."""
    if role == STRANGER:
        return [
            world.mine.title,
            _url("action-detail", pk=world.mine.pk),
            _url("inspection-detail", pk=world.inspection.pk),
        ]
    if role in HOME_ROLES:
        return [
            world.away_action.title,
            _url("action-detail", pk=world.away_action.pk),
            _url("inspection-detail", pk=world.away_inspection.pk),
        ]
    return []


def check(response, outcome: str, *, method: str, controls: list[str], hidden: list[str]):
    login_url = reverse("login")
    status = response.status_code
    location = response.get("Location", "")
    if status != 200:
        html = ""
    elif response.streaming:
        html = b"".join(response.streaming_content).decode(errors="replace")
    else:
        html = response.content.decode()
    where = f"got {status} {location}".strip()
    if outcome == LOGIN:
        assert status == 302, where
        assert location.startswith(login_url), where
    elif outcome == NOT_FOUND:
        assert status == 404, where
    elif outcome == FORBIDDEN:
        assert status == 403, where
    elif outcome == NOT_ALLOWED:
        assert status == 405, where
    elif outcome == REDIRECT:
        assert status == 302, where
        assert not location.startswith(login_url), where
    elif outcome == READ_ONLY:
        assert status == 200, where
        for url in controls:
            assert url not in html, f"change control {url} shown to a user who may not change"
    elif outcome == OK:
        if method == "GET":
            assert status == 200, where
            for url in controls:
                assert url in html, f"change control {url} missing for a user who may change"
        else:
            assert status in (200, 302), where
            assert not location.startswith(login_url), where
    else:  # pragma: no cover - a typo in the registry
        raise AssertionError(f"unknown outcome {outcome}")
    for text in hidden:
        # A URL counts only as a whole link target (so /actions/1/ does not match /actions/12/).
        pattern = re.escape(text) + (r"[\"#?]" if text.startswith("/") else "")
        assert not re.search(pattern, html), f"{text!r} of another authority shown"


_walked: list[str] = []


@pytest.mark.parametrize(("key", "role", "method"), CASES)
def test_permission_walk(db, world, key, role, method):
    """Each (page, role, method) answers as REGISTRY says."""
    name = url_name(key)
    if name not in routed_names():
        pytest.fail(f"{name} is in the permission walk but not routed: remove it from REGISTRY")
    page = REGISTRY[key]
    client = Client()
    if role != ANON:
        client.force_login(world.users[role], backend="improvement.backends.RoleLoadingBackend")
    url = _url(name, **page.kwargs(world))
    if method == "GET":
        response = client.get(url)
        outcome = page.get[role]
    else:
        response = client.post(url, page.post_data(world))
        outcome = page.post[role]
    check(
        response,
        outcome,
        method=method,
        controls=page.controls(world),
        hidden=hidden_from(world, role),
    )
    _walked.append(f"{key} {role} {method}")


def test_zz_walk_summary(db, world, record_property):
    """Prints how many (URL, role, method) cases the walk has, and how many passed in this run.

    It asks for `db` so that pytest-django orders it with the walk: the module's open transaction
    must end before the browser tests, whose live server cannot see uncommitted rows.
    """
    routed = routed_names()
    covered = sorted({url_name(key) for key in REGISTRY} & set(routed))
    print(
        f"\npermission walk: {len(CASES)} (URL, role, method) cases over {len(REGISTRY)} entries "
        f"covering {len(covered)} of {len(routed)} routed URL names; "
        f"{len(_walked)} passed before this summary ran"
    )
    record_property("permission_walk_cases", len(CASES))


# The admin walk: every URL of the Django admin, for every role, on a record of the user's own
# authority and of another, GET and POST. The URLs are enumerated from admin.site, so a model
# registered (or a view added) without an entry in ADMIN_MODELS / ADMIN_SITE_PAGES fails
# `test_every_admin_url_is_in_the_walk`.

HOME_ADMIN = "home-admin"  # Administrator group, staff, of the home authority only
SUPERUSER = "superuser"  # the platform's administrator
ADMIN_ROLES = (*ROLES, HOME_ADMIN, SUPERUSER)
STAFF_ROLES = (ADMIN, HOME_ADMIN, SUPERUSER)
ADMIN_LOGIN = "admin-login"  # redirected to the admin's login page


@dataclass(frozen=True)
class AdminModel:
    """What the admin of one model allows, and the world's record of each authority."""

    own: str | None  # attribute of the world: a home record (None: the model has no rows here)
    other: str | None = None  # ... and the away authority's record, for scoped models
    platform_only: bool = False  # only superusers see it at all
    platform_writes: bool = False  # others may view; only superusers add, change, delete
    add: bool = True
    change: bool = True
    delete: bool = True
    superuser_delete_only: bool = False
    history_form: bool = True  # simple-history's per-version page (view only)


ADMIN_MODELS: dict[str, AdminModel] = {
    "auth.Group": AdminModel("group", platform_only=True, history_form=False),
    "axes.AccessAttempt": AdminModel(
        "access_attempt", platform_only=True, add=False, history_form=False
    ),
    "axes.AccessLog": AdminModel("access_log", platform_only=True, add=False, history_form=False),
    "axes.AccessFailureLog": AdminModel(
        "access_failure_log", platform_only=True, add=False, history_form=False
    ),
    "improvement.User": AdminModel(
        "owner_user", "away_owner", superuser_delete_only=True, history_form=False
    ),
    "improvement.Authority": AdminModel("home", "away", platform_writes=True, history_form=False),
    "improvement.Theme": AdminModel("theme", platform_writes=True, history_form=False),
    "improvement.Team": AdminModel("team", "away_team"),
    "improvement.Inspection": AdminModel("inspection", "away_inspection"),
    "improvement.Judgement": AdminModel("judgement", "away_judgement"),
    "improvement.Finding": AdminModel("finding", "away_finding"),
    "improvement.ImprovementArea": AdminModel("area", "away_area"),
    "improvement.Action": AdminModel("mine", "away_action", delete=False),
    "improvement.Milestone": AdminModel("milestone", "away_milestone"),
    "improvement.ProgressNote": AdminModel(
        "note", "away_note", add=False, change=False, delete=False, history_form=False
    ),
    "improvement.Evidence": AdminModel("evidence", "away_evidence"),
    "improvement.DueDateChange": AdminModel(
        "change", "away_change", add=False, change=False, delete=False
    ),
    "improvement.Measure": AdminModel("measure", "away_measure"),
    "improvement.MeasureValue": AdminModel("measure_value", "away_measure_value"),
    "improvement.PlanSubmission": AdminModel(
        "plan", "away_plan", add=False, change=False, delete=False
    ),
}


def build_admin_extras(
    *, home, away, inspection, away_inspection, mine, away_action, away_owner
) -> dict:
    """Records of both authorities for every admin model, and the two admin-only roles."""
    from axes.models import AccessAttempt, AccessFailureLog, AccessLog

    from tests.factories import (
        MeasureFactory,
        MeasureValueFactory,
        MilestoneFactory,
        ProgressNoteFactory,
        ThemeFactory,
    )

    home_admin = UserFactory(username="home_admin", authority=home, is_staff=True)
    home_admin.groups.add(Group.objects.get_or_create(name=roles.ADMINISTRATOR)[0])
    root = UserFactory(username="root", is_staff=True, is_superuser=True)
    axes = {"user_agent": "pytest", "ip_address": "127.0.0.1", "username": "someone"}
    axes.update(http_accept="*/*", path_info="/login/")
    measure = MeasureFactory(authority=home)
    away_measure = MeasureFactory(authority=away)
    return {
        "home_admin": home_admin,
        "root": root,
        "owner_user": UserFactory(username="home_person", authority=home),
        "away_owner": away_owner,
        "group": Group.objects.get(name=roles.BOARD_VIEWER),
        "access_attempt": AccessAttempt.objects.create(
            get_data="", post_data="", failures_since_start=1, **axes
        ),
        "access_log": AccessLog.objects.create(**axes),
        "access_failure_log": AccessFailureLog.objects.create(locked_out=False, **axes),
        "theme": ThemeFactory(slug="care-leavers", name="Care leavers"),
        "away_team": TeamFactory(authority=away, name="Sefton team"),
        "judgement": inspection.judgements.first(),
        "away_judgement": JudgementFactory(inspection=away_inspection),
        "finding": inspection.findings.first(),
        "away_finding": FindingFactory(inspection=away_inspection, number=3),
        "away_area": away_inspection.improvement_areas.first(),
        "milestone": MilestoneFactory(action=mine),
        "away_milestone": MilestoneFactory(action=away_action),
        "note": ProgressNoteFactory(action=mine),
        "away_note": ProgressNoteFactory(action=away_action),
        "away_evidence": services.evidence_add_link(
            action=away_action, by=away_owner, url="https://example.org/s", title="Sefton"
        ),
        "away_change": services.due_date_change_request(
            action=away_action,
            by=away_owner,
            new_date=away_action.due_date + dt.timedelta(days=20),
            reason="Sefton's reason.",
            today=TODAY,
        ),
        "measure": measure,
        "away_measure": away_measure,
        "measure_value": MeasureValueFactory(measure=measure, recorded_by=home_admin),
        "away_measure_value": MeasureValueFactory(measure=away_measure, recorded_by=away_owner),
        "away_plan": services.plan_submission_record(
            inspection=away_inspection,
            stage="final",
            submitted_on=away_inspection.publication_date or TODAY,
            by=away_owner,
            url="https://example.org/sefton-plan",
            today=TODAY,
        ),
    }


def admin_outcome(spec: AdminModel, view: str, variant: str, role: str, method: str) -> str:
    """What `role` gets from one admin view, from the rules the admin is meant to follow."""
    if role not in STAFF_ROLES:
        return ADMIN_LOGIN
    if view == "redirect":
        # The old "<id>/" address sends every staff user to "<id>/change/", which decides.
        return REDIRECT
    superuser = role == SUPERUSER
    if spec.platform_only and not superuser:
        return FORBIDDEN
    if variant == "other" and role == HOME_ADMIN:
        return NOT_FOUND  # another authority's record: not there, as on the pages
    writes = superuser or not spec.platform_writes
    if view == "changelist":
        return OK
    if view == "add":
        return OK if spec.add and writes else FORBIDDEN
    if view in ("change", "password"):
        if method == "GET":
            return OK
        return OK if spec.change and writes else FORBIDDEN
    if view == "delete":
        allowed = spec.delete and writes and (superuser or not spec.superuser_delete_only)
        return OK if allowed else FORBIDDEN
    if view == "history":
        return OK
    if view == "simple_history":
        return OK if method == "GET" else FORBIDDEN
    raise AssertionError(f"no rule for admin view {view}")  # pragma: no cover


@dataclass(frozen=True)
class AdminCase:
    key: str  # url name (or model label + view for unnamed ones) and variant
    url: Callable[[SimpleNamespace], str]
    outcomes: dict[tuple[str, str], str]  # (role, method) -> outcome
    post_data: Callable[[SimpleNamespace], dict] = field(default=lambda w: {})


def _model_cases(label: str, spec: AdminModel) -> list[AdminCase]:
    from django.apps import apps

    model = apps.get_model(label)
    prefix = f"admin:{model._meta.app_label}_{model._meta.model_name}"
    cases = []

    def table(view, variant):
        return {
            (role, method): admin_outcome(spec, view, variant, role, method)
            for role in ADMIN_ROLES
            for method in METHODS
        }

    cases.append(
        AdminCase(
            f"{prefix}_changelist",
            lambda w: reverse(f"{prefix}_changelist"),
            table("changelist", "own"),
        )
    )
    cases.append(
        AdminCase(f"{prefix}_add", lambda w: reverse(f"{prefix}_add"), table("add", "own"))
    )
    variants = [("own", spec.own)] + ([("other", spec.other)] if spec.other else [])
    for variant, attribute in variants:

        def obj_pk(w, attribute=attribute):
            return getattr(w, attribute).pk

        for view in ("change", "delete", "history"):
            cases.append(
                AdminCase(
                    f"{prefix}_{view}#{variant}",
                    lambda w, view=view, obj_pk=obj_pk: reverse(
                        f"{prefix}_{view}", args=[obj_pk(w)]
                    ),
                    table(view, variant),
                    post_data=(lambda w: {"post": "yes"}) if view == "delete" else (lambda w: {}),
                )
            )
        cases.append(
            AdminCase(
                f"{label}:redirect#{variant}",
                lambda w, obj_pk=obj_pk: reverse(f"{prefix}_changelist") + f"{obj_pk(w)}/",
                table("redirect", variant),
            )
        )
        if spec.history_form:

            def history_url(w, obj_pk=obj_pk, attribute=attribute):
                record = getattr(w, attribute).history.order_by("history_id").first()
                return reverse(f"{prefix}_simple_history", args=[obj_pk(w), record.history_id])

            cases.append(
                AdminCase(
                    f"{prefix}_simple_history#{variant}",
                    history_url,
                    table("simple_history", variant),
                )
            )
        if label == "improvement.User":
            cases.append(
                AdminCase(
                    f"admin:auth_user_password_change#{variant}",
                    lambda w, obj_pk=obj_pk: reverse(
                        "admin:auth_user_password_change", args=[obj_pk(w)]
                    ),
                    table("password", variant),
                )
            )
    return cases


def _site_table(staff: str, others: str = ADMIN_LOGIN, *, post: str | None = None) -> dict:
    return {
        (role, method): (
            (post if method == "POST" and post else staff) if role in STAFF_ROLES else others
        )
        for role in ADMIN_ROLES
        for method in METHODS
    }


# Bulk actions: POSTs to a changelist selecting a record of one authority.
BULK_ACTIONS: list[tuple[str, str, str, Callable[[SimpleNamespace], dict]]] = [
    (
        "improvement.Action",
        "reassign_owner",
        "mine",
        lambda w: {"apply": "Reassign owner", "owner": w.users[OWNER].pk, "note": "Walk."},
    ),
    (
        "improvement.Action",
        "change_status_with_note",
        "mine",
        lambda w: {"apply": "Go", "delivery_status": "in_progress", "note": "Walk."},
    ),
    ("improvement.DueDateChange", "approve", "change", lambda w: {}),
    ("improvement.DueDateChange", "refuse", "change", lambda w: {}),
    ("improvement.Milestone", "delete_selected", "milestone", lambda w: {"post": "yes"}),
]


def _bulk_cases() -> list[AdminCase]:
    from django.apps import apps

    cases = []
    for label, action, own, data in BULK_ACTIONS:
        model = apps.get_model(label)
        url = reverse(f"admin:{model._meta.app_label}_{model._meta.model_name}_changelist")
        for variant, attribute in (("own", own), ("other", ADMIN_MODELS[label].other)):
            cases.append(
                AdminCase(
                    f"bulk:{label}:{action}#{variant}",
                    lambda w, url=url: url,
                    # Another authority's rows are simply not selectable: nothing changes.
                    _site_table(OK),
                    post_data=lambda w, action=action, attribute=attribute, data=data: {
                        "action": action,
                        "_selected_action": [getattr(w, attribute).pk],
                        **data(w),
                    },
                )
            )
    return cases


def _view_on_site_url(w) -> str:
    from django.contrib.contenttypes.models import ContentType

    content_type = ContentType.objects.get_for_model(Action)
    return reverse("admin:view_on_site", args=[content_type.pk, w.mine.pk])


ADMIN_SITE_PAGES: dict[str, AdminCase] = {
    case.key: case
    for case in [
        AdminCase("admin:index", lambda w: reverse("admin:index"), _site_table(OK)),
        # The admin's login page answers everyone (a signed-in non-staff user is told so).
        AdminCase("admin:login", lambda w: reverse("admin:login"), _site_table(OK, OK)),
        # Signing out is a POST; staff asking with GET are told so, others sent on.
        AdminCase(
            "admin:logout",
            lambda w: reverse("admin:logout"),
            {
                (role, method): (
                    ADMIN_LOGIN
                    if role == ANON
                    else OK
                    if method == "POST"
                    else NOT_ALLOWED
                    if role in STAFF_ROLES
                    else REDIRECT
                )
                for role in ADMIN_ROLES
                for method in METHODS
            },
        ),
        AdminCase(
            "admin:password_change", lambda w: reverse("admin:password_change"), _site_table(OK)
        ),
        AdminCase(
            "admin:password_change_done",
            lambda w: reverse("admin:password_change_done"),
            _site_table(OK, post=NOT_ALLOWED),
        ),
        AdminCase(
            "admin:autocomplete",
            lambda w: (
                reverse("admin:autocomplete")
                + "?app_label=improvement&model_name=action&field_name=team"
            ),
            _site_table(OK, post=NOT_ALLOWED),
        ),
        AdminCase(
            "admin:jsi18n", lambda w: reverse("admin:jsi18n"), _site_table(OK, post=NOT_ALLOWED)
        ),
        # The object's own page then applies the pages' rules (404 for another authority).
        AdminCase("admin:view_on_site", _view_on_site_url, _site_table(REDIRECT)),
        AdminCase(
            "admin:app_list#improvement",
            lambda w: reverse("admin:app_list", args=["improvement"]),
            _site_table(OK),
        ),
        AdminCase(
            "admin:app_list#auth",
            lambda w: reverse("admin:app_list", args=["auth"]),
            {
                **_site_table(NOT_FOUND),
                **{(SUPERUSER, m): OK for m in METHODS},
            },
        ),
        AdminCase(
            "admin:<catch-all>",
            lambda w: reverse("admin:index") + "no-such-page/",
            _site_table(NOT_FOUND),
        ),
    ]
}


def admin_walk() -> list[AdminCase]:
    cases = list(ADMIN_SITE_PAGES.values())
    for label, spec in ADMIN_MODELS.items():
        cases.extend(_model_cases(label, spec))
    cases.extend(_bulk_cases())
    return cases


ADMIN_CASES = admin_walk()


def routed_admin_names() -> set[str]:
    """Every admin URL, named as ADMIN_MODELS / ADMIN_SITE_PAGES name it."""
    from django.contrib import admin

    names = set()
    for pattern in admin.site.get_urls():
        if isinstance(pattern, URLResolver):
            continue
        names.add(f"admin:{pattern.name}" if pattern.name else "admin:<catch-all>")
    for model, model_admin in admin.site._registry.items():
        for pattern in model_admin.get_urls():
            names.add(f"admin:{pattern.name}" if pattern.name else f"{model._meta.label}:redirect")
    return names


def test_every_admin_url_is_in_the_walk():
    """A model registered in the admin, or an admin view added, without an entry here fails."""
    walked = {case.key.split("#", 1)[0] for case in ADMIN_CASES}
    missing = sorted(routed_admin_names() - walked)
    assert not missing, "\n".join(f"add {name} to the admin walk" for name in missing)
    from django.contrib import admin

    registered = {m._meta.label for m in admin.site._registry}
    assert registered == set(ADMIN_MODELS), "ADMIN_MODELS must list every registered model"


def _away_fingerprint(w) -> tuple:
    action = Action.objects.get(pk=w.away_action.pk)
    return (
        action.version,
        action.owner_id,
        action.delivery_status,
        type(w.away_milestone).objects.filter(pk=w.away_milestone.pk).exists(),
        type(w.away_evidence).objects.filter(pk=w.away_evidence.pk).exists(),
        type(w.away_change).objects.get(pk=w.away_change.pk).status,
    )


def check_admin(response, outcome: str, hidden: list[str]) -> None:
    status = response.status_code
    location = response.get("Location", "")
    where = f"got {status} {location}".strip()
    admin_login = reverse("admin:login")
    if outcome == ADMIN_LOGIN:
        # Anonymous users meet the site's sign-in; signed-in non-staff the admin's.
        assert status == 302, where
        assert location.startswith((admin_login, reverse("login"))), where
    elif outcome == NOT_FOUND:
        assert status == 404, where
    elif outcome == FORBIDDEN:
        assert status == 403, where
    elif outcome == NOT_ALLOWED:
        assert status == 405, where
    elif outcome == REDIRECT:
        assert status in (301, 302) and not location.startswith(admin_login), where
    elif outcome == OK:
        assert status in (200, 302), where
        assert not location.startswith(admin_login), where
    else:  # pragma: no cover
        raise AssertionError(outcome)
    html = response.content.decode(errors="replace") if status == 200 else ""
    for text in hidden:
        assert text not in html, f"{text!r} of another authority shown"


_admin_walked: list[str] = []


@pytest.mark.parametrize("case", ADMIN_CASES, ids=lambda c: c.key)
def test_admin_walk(db, world, case):
    """Each admin URL answers every role, GET and POST, as the admin's rules say."""
    failures = []
    for role in ADMIN_ROLES:
        for method in METHODS:
            outcome = case.outcomes[(role, method)]
            client = Client()
            if role != ANON:
                client.force_login(
                    world.users[role], backend="improvement.backends.RoleLoadingBackend"
                )
            before = _away_fingerprint(world)
            sid = transaction.savepoint()
            try:
                url = case.url(world)
                if method == "GET":
                    response = client.get(url)
                else:
                    response = client.post(url, case.post_data(world))
                hidden = [world.away_action.title] if role == HOME_ADMIN else []
                check_admin(response, outcome, hidden)
                if role == HOME_ADMIN:
                    assert _away_fingerprint(world) == before, "another authority's rows changed"
                _admin_walked.append(f"{case.key} {role} {method}")
            except AssertionError as exc:
                failures.append(f"{role} {method}: expected {outcome}: {exc}")
            finally:
                transaction.savepoint_rollback(sid)
    assert not failures, "\n".join(failures)


def test_zz_admin_walk_summary(db, world, record_property):
    """Prints the admin walk's size: URLs x roles x methods, own and other authority."""
    urls = {case.key.split("#", 1)[0] for case in ADMIN_CASES}
    own_other = sum(1 for case in ADMIN_CASES if "#other" in case.key)
    total = len(ADMIN_CASES) * len(ADMIN_ROLES) * len(METHODS)
    print(
        f"\nadmin walk: {len(ADMIN_CASES)} URL cases ({len(urls)} admin URL names, "
        f"{own_other} of them on another authority's record) x {len(ADMIN_ROLES)} roles x "
        f"{len(METHODS)} methods = {total} requests; {len(_admin_walked)} passed in this run"
    )
    record_property("admin_walk_requests", total)
