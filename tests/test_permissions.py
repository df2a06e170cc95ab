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

from improvement import roles, services
from improvement.models import Action
from tests.factories import (
    TODAY,
    ActionFactory,
    AuthorityFactory,
    FindingFactory,
    ImprovementAreaFactory,
    InspectionFactory,
    JudgementFactory,
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
        get=expect(READ_ONLY, owner=OK, team_lead=OK, no_role=FORBIDDEN),
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
        requested_by=leader,
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
        requested_by=admin,
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
        requested_by=owner,
        new_date=mine.due_date + dt.timedelta(days=30),
        reason="Recruitment took longer than planned.",
        today=TODAY,
    )
    evidence = services.evidence_add_file(
        action=mine,
        added_by=owner,
        upload=SimpleUploadedFile("audit.txt", b"Audit of 40 pathway plans.\n"),
        title="Audit summary",
    )
    return SimpleNamespace(
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
        client.force_login(world.users[role], backend="django.contrib.auth.backends.ModelBackend")
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
