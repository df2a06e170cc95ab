"""The Django admin under the same rules as the pages, tried through the admin's own pages.

Each failure found when the admin was tried as a second authority's administrator would try
it has a test here: another authority's records, raising one's own access, stale edits,
cross-authority links, bulk actions over rows that must be refused, invalid forms, an action
with hundreds of notes, evidence behind a sign-off, and percentages over 100.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from django.contrib.admin.helpers import ACTION_CHECKBOX_NAME
from django.contrib.auth.models import Group
from django.core.exceptions import ValidationError
from django.db import IntegrityError, connection, transaction
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from improvement import roles, services
from improvement.demo import DEMO_USERS
from improvement.models import (
    Action,
    Evidence,
    Inspection,
    Measure,
    MeasureValue,
    ProgressNote,
    User,
)
from improvement.views.workflow import CONCURRENT_EDIT_MESSAGE
from tests.factories import (
    TODAY,
    ActionFactory,
    AuthorityFactory,
    FindingFactory,
    ImprovementAreaFactory,
    InspectionFactory,
    MeasureFactory,
    OwnerFactory,
    TeamFactory,
    UserFactory,
)

pytestmark = pytest.mark.django_db


def admin_url(model, view: str, *args) -> str:
    return reverse(f"admin:{model._meta.app_label}_{model._meta.model_name}_{view}", args=args)


class World:
    """Two authorities, each with a plan; an administrator of the first; a superuser."""

    def __init__(self):
        self.home = AuthorityFactory(name="Knowsley", ons_code="E08000011")
        self.away = AuthorityFactory(name="Sefton", ons_code="E08000014")
        administrators = Group.objects.get(name=roles.ADMINISTRATOR)
        self.admin = UserFactory(
            username="home_admin", authority=self.home, is_staff=True, first_name="Ros"
        )
        self.admin.groups.add(administrators)
        self.peer = UserFactory(username="home_admin_2", authority=self.home, is_staff=True)
        self.peer.groups.add(administrators)
        self.away_admin = UserFactory(username="away_admin", authority=self.away, is_staff=True)
        self.away_admin.groups.add(administrators)
        self.root = UserFactory(username="root", is_staff=True, is_superuser=True)
        self.owner = OwnerFactory(username="home_owner", authority=self.home)
        self.leader = UserFactory(
            username="home_leader", authority=self.home, role=roles.SENIOR_LEADER
        )
        self.away_owner = OwnerFactory(username="away_owner", authority=self.away)
        self.inspection = InspectionFactory(authority=self.home)
        self.area = ImprovementAreaFactory(inspection=self.inspection, position=1)
        self.away_area = ImprovementAreaFactory(
            inspection=InspectionFactory(authority=self.away), position=1
        )
        self.team = TeamFactory(authority=self.home, name="Care leavers team")
        self.away_team = TeamFactory(authority=self.away, name="Sefton team")
        self.action = ActionFactory(
            authority=self.home, owner=self.owner, team=self.team, improvement_areas=[self.area]
        )
        self.away_action = ActionFactory(
            authority=self.away,
            owner=self.away_owner,
            title="Sefton-only XYZZY",
            improvement_areas=[self.away_area],
        )

    def client(self, user) -> Client:
        client = Client()
        client.force_login(user, backend="improvement.backends.RoleLoadingBackend")
        return client


@pytest.fixture
def w(db):
    return World()


def action_post_data(action: Action, **changes) -> dict:
    data = {
        "reference": action.reference,
        "title": action.title,
        "description": action.description,
        "improvement_areas": [a.pk for a in action.improvement_areas.all()],
        "owner": action.owner_id,
        "team": action.team_id or "",
        "priority": action.priority,
        "start_date": action.start_date.isoformat(),
        "success_measure": action.success_measure,
        "expected_version": action.version,
        "milestones-TOTAL_FORMS": "0",
        "milestones-INITIAL_FORMS": "0",
        "milestones-MIN_NUM_FORMS": "0",
        "milestones-MAX_NUM_FORMS": "1000",
    }
    data.update(changes)
    return data


def errors_of(response) -> str:
    context = getattr(response, "context", None)
    if not context or "adminform" not in context:
        return f"status {response.status_code}"
    return str(context["adminform"].form.errors)


def close(action: Action, *, by: User, evidenced: bool = False) -> Action:
    action.refresh_from_db()
    if action.delivery_status != Action.DeliveryStatus.DELIVERED:
        services.action_record_progress(
            action=action,
            by=action.owner,
            expected_version=action.version,
            text="Delivered.",
            delivery_status=Action.DeliveryStatus.DELIVERED,
        )
    if evidenced and not action.evidence.exists():
        services.evidence_add_link(
            action=action, by=action.owner, url="https://example.org/a", title="Audit"
        )
    services.action_sign_off(
        action=action,
        by=by,
        expected_version=action.version,
        impact_evidenced=evidenced,
        note="Audit shows the difference.",
    )
    action.refresh_from_db()
    return action


# Another authority's records.


def test_other_authoritys_action_is_not_found_in_the_admin(w):
    """The pages answer 404 for another authority's action; so does every admin page of it."""
    client = w.client(w.admin)
    changelist = client.get(admin_url(Action, "changelist"))
    assert changelist.status_code == 200
    assert w.action.title in changelist.content.decode()
    assert w.away_action.title not in changelist.content.decode()
    for view in ("change", "history", "delete"):
        assert client.get(admin_url(Action, view, w.away_action.pk)).status_code == 404, view
    response = client.post(
        admin_url(Action, "change", w.away_action.pk),
        action_post_data(w.away_action, title="Overwritten by another authority"),
    )
    assert response.status_code == 404
    w.away_action.refresh_from_db()
    assert w.away_action.title == "Sefton-only XYZZY"
    assert client.get(
        reverse("improvement:action-detail", args=[w.away_action.pk])
    ).status_code == (404)


def test_other_authoritys_records_of_every_kind_are_hidden(w):
    """Inspections, teams, users and measures of another authority: not listed, 404 to open."""
    client = w.client(w.admin)
    away_measure = MeasureFactory(authority=w.away)
    for obj in (w.away_area.inspection, w.away_team, w.away_owner, away_measure, w.away_area):
        model = type(obj)
        listing = client.get(admin_url(model, "changelist"))
        assert listing.status_code == 200
        assert admin_url(model, "change", obj.pk) not in listing.content.decode(), model
        assert client.get(admin_url(model, "change", obj.pk)).status_code == 404, model


def _filter_choices(response, title: str) -> list[str] | None:
    """The choices a changelist filter offers (None when the admin does not show it)."""
    changelist = response.context["cl"]
    spec = next((s for s in changelist.filter_specs if s.title == title), None)
    return None if spec is None else [choice["display"] for choice in spec.choices(changelist)]


def test_action_filters_offer_authorities_and_teams_in_reach(w):
    """The authority and team filters read those tables within the user's reach: an authority's
    administrator gets their own teams (no authority filter: there is one); a national user
    gets every authority, and the teams of the one chosen."""
    AuthorityFactory(name="Wirral")  # no actions yet: still an authority to choose
    TeamFactory(authority=w.home, name="Front door")  # no actions yet either
    url = admin_url(Action, "changelist")
    home = w.client(w.admin)

    listing = home.get(url)
    assert _filter_choices(listing, "authority") is None
    teams = _filter_choices(listing, "team")
    assert {"Care leavers team", "Front door"} <= set(teams)
    assert "Sefton team" not in teams
    # Another authority's ids in the address change neither the choices nor the rows.
    for query in ({"authority__id__exact": w.away.pk}, {"team__id__exact": w.away_team.pk}):
        probed = home.get(url, query)
        assert "Sefton team" not in (_filter_choices(probed, "team") or [])
        assert w.away_action.title not in probed.content.decode()

    national = w.client(w.root)
    listing = national.get(url)
    assert {"Knowsley", "Sefton", "Wirral"} <= set(_filter_choices(listing, "authority"))
    assert _filter_choices(listing, "team") is None  # until an authority is chosen
    away = _filter_choices(national.get(url, {"authority__id__exact": w.away.pk}), "team")
    assert "Sefton team" in away
    assert "Care leavers team" not in away
    from_link = _filter_choices(national.get(url, {"team__id__exact": w.team.pk}), "team")
    assert {"Care leavers team", "Front door"} <= set(from_link)
    assert "Sefton team" not in from_link


def test_choices_offer_only_the_administrators_authority(w):
    """Owner, team and area choices in the action form are the administrator's authority's."""
    client = w.client(w.admin)
    response = client.get(admin_url(Action, "change", w.action.pk))
    form = response.context["adminform"].form
    assert set(form.fields["team"].queryset) == {w.team}
    assert w.away_owner not in form.fields["owner"].queryset
    assert w.owner in form.fields["owner"].queryset
    assert set(form.fields["improvement_areas"].queryset) == {w.area}
    autocomplete = client.get(
        reverse("admin:autocomplete"),
        {"app_label": "improvement", "model_name": "action", "field_name": "team", "term": ""},
    )
    assert autocomplete.status_code == 200
    assert "Sefton team" not in autocomplete.content.decode()
    assert "Care leavers team" in autocomplete.content.decode()


# Users: no escalation, no reach outside one's authority.


def test_administrator_cannot_make_themselves_superuser_through_the_admin(w):
    """The superuser box is not on the form, and a forged field changes nothing."""
    client = w.client(w.admin)
    page = client.get(admin_url(User, "change", w.admin.pk))
    assert page.status_code == 200
    assert 'name="is_superuser"' not in page.content.decode()
    assert 'name="is_staff"' not in page.content.decode()
    assert 'name="groups"' not in page.content.decode()
    response = client.post(
        admin_url(User, "change", w.admin.pk),
        {
            "username": w.admin.username,
            "first_name": "Ros",
            "last_name": w.admin.last_name,
            "email": w.admin.email,
            "job_title": "Programme manager",
            "is_superuser": "on",
            "is_staff": "on",
            "groups": [g.pk for g in Group.objects.all()],
            "reach": User.Reach.NATIONAL,
            "authority": w.away.pk,
            "date_joined_0": "2026-01-01",
            "date_joined_1": "09:00:00",
        },
    )
    assert response.status_code == 302, errors_of(response)
    w.admin.refresh_from_db()
    assert not w.admin.is_superuser
    assert w.admin.reach == User.Reach.AUTHORITY
    assert w.admin.authority == w.home
    assert w.admin.job_title == "Programme manager"
    assert set(w.admin.groups.values_list("name", flat=True)) == {roles.ADMINISTRATOR}


def test_users_service_refuses_every_escalation(w):
    """Whatever the route, the users service refuses grants beyond the administrator's own."""
    cases = [
        dict(user=w.admin, is_superuser=True),
        dict(user=w.admin, reach=User.Reach.NATIONAL),
        dict(user=w.owner, is_staff=True),
        dict(user=w.owner, is_superuser=True),
        dict(user=w.owner, authority=w.away),
        dict(user=w.owner, reach=User.Reach.REGION, region="North West"),
        dict(user=w.away_owner, first_name="Renamed"),
        dict(user=w.root, first_name="Renamed"),
        dict(user=w.admin, groups=[]),
    ]
    custom = Group.objects.create(name="Everything")
    cases.append(dict(user=w.owner, groups=[custom]))
    for case in cases:
        user = case.pop("user")
        was_superuser = user.is_superuser
        with pytest.raises(ValidationError, match=r".") as refused:
            services.user_update(user=user, by=w.admin, **case)
        assert refused.value.messages, case
        user.refresh_from_db()
        assert user.is_superuser == was_superuser
    with pytest.raises(ValidationError):
        services.user_create(by=w.admin, username="new_admin", authority=w.home, is_staff=True)
    with pytest.raises(ValidationError):
        services.user_create(by=w.admin, username="away_new", authority=w.away)
    assert not User.objects.filter(username__in=["new_admin", "away_new"]).exists()
    # Within their grant it works: a new owner of their authority, then made a senior leader.
    made = services.user_create(
        by=w.admin,
        username="new_owner",
        authority=w.home,
        groups=[Group.objects.get(name=roles.ACTION_OWNER)],
    )
    services.user_set_roles(
        user=made, by=w.admin, groups=[Group.objects.get(name=roles.SENIOR_LEADER)]
    )
    assert set(made.groups.values_list("name", flat=True)) == {roles.SENIOR_LEADER}


def test_administrator_adds_a_user_of_their_own_authority_only(w):
    client = w.client(w.admin)
    page = client.get(admin_url(User, "add"))
    assert page.status_code == 200
    form = page.context["adminform"].form
    assert set(form.fields["authority"].queryset) == {w.home}
    assert set(form.fields["groups"].queryset.values_list("name", flat=True)) == set(
        roles.ALL_ROLES
    )
    base = {
        "username": "new_person",
        "usable_password": "false",
        "first_name": "New",
        "last_name": "Person",
        "email": "new@knowsley.example",
        "job_title": "Team manager",
        "reach": User.Reach.AUTHORITY,
        "region": "",
        "groups": [Group.objects.get(name=roles.ACTION_OWNER).pk],
    }
    refused = client.post(admin_url(User, "add"), {**base, "authority": w.away.pk})
    assert refused.status_code == 200
    assert "authority" in refused.context["adminform"].form.errors
    assert not User.objects.filter(username="new_person").exists()
    national = client.post(
        admin_url(User, "add"), {**base, "authority": w.home.pk, "reach": User.Reach.NATIONAL}
    )
    assert national.status_code == 200
    assert "wider reach" in national.content.decode()
    assert not User.objects.filter(username="new_person").exists()
    made = client.post(admin_url(User, "add"), {**base, "authority": w.home.pk})
    assert made.status_code == 302, errors_of(made)
    person = User.objects.get(username="new_person")
    assert person.authority == w.home
    assert not person.is_staff and not person.is_superuser


def test_administrator_cannot_open_or_reset_password_of_other_authoritys_users(w):
    client = w.client(w.admin)
    assert client.get(admin_url(User, "change", w.away_owner.pk)).status_code == 404
    assert client.get(admin_url(User, "change", w.root.pk)).status_code == 404
    url = reverse("admin:auth_user_password_change", args=[w.away_owner.pk])
    response = client.post(
        url, {"password1": "Long-enough-pass-1", "password2": "Long-enough-pass-1"}
    )
    assert response.status_code == 404
    w.away_owner.refresh_from_db()
    assert not w.away_owner.check_password("Long-enough-pass-1")


def test_password_reset_of_own_authoritys_user_goes_through_the_service(w):
    client = w.client(w.admin)
    url = reverse("admin:auth_user_password_change", args=[w.owner.pk])
    response = client.post(
        url,
        {
            "password1": "Long-enough-pass-1",
            "password2": "Long-enough-pass-1",
            "set_usable_password": "true",
            "usable_password": "true",
        },
    )
    assert response.status_code == 302
    w.owner.refresh_from_db()
    assert w.owner.check_password("Long-enough-pass-1")


def test_demo_administrator_is_not_a_superuser():
    """Platform administration is not handed to council users, even in the demo."""
    assert not any(user.is_superuser for user in DEMO_USERS)
    admin_spec = next(user for user in DEMO_USERS if user.role == roles.ADMINISTRATOR)
    assert admin_spec.is_staff


# Stale edits: the same answer as the pages.


def test_twenty_stale_admin_edits_overwrite_nothing(w, record_property):
    """Administrator A opens the form; B saves; A's save is refused with the pages' message."""
    first, second = w.client(w.admin), w.client(w.peer)
    overwrote = 0
    for i in range(20):
        opened = first.get(admin_url(Action, "change", w.action.pk))
        form_data = action_post_data(w.action)
        form_data["expected_version"] = opened.context["adminform"].form.initial["expected_version"]
        w.action.refresh_from_db()
        saved = second.post(
            admin_url(Action, "change", w.action.pk),
            action_post_data(w.action, title=f"B's title {i}"),
        )
        assert saved.status_code == 302, errors_of(saved)
        stale = first.post(
            admin_url(Action, "change", w.action.pk), {**form_data, "title": f"A's title {i}"}
        )
        w.action.refresh_from_db()
        if w.action.title != f"B's title {i}":
            overwrote += 1
        else:
            assert stale.status_code == 200
            assert CONCURRENT_EDIT_MESSAGE in stale.content.decode()
    print(f"\nstale admin edits: {overwrote} of 20 overwrote")
    record_property("stale_admin_edits_overwrote", overwrote)
    assert overwrote == 0


def test_stale_edit_racing_past_the_form_check_is_shown_on_the_form(w, monkeypatch):
    """If someone saves between the form's check and the write, the service's refusal shows."""
    client = w.client(w.admin)
    data = action_post_data(w.action, title="Mine")
    original = services.action_update

    def racing(**kwargs):
        action = Action.objects.get(pk=kwargs["action"].pk)
        original(action=action, expected_version=action.version, by=w.peer, title="Theirs")
        return original(**kwargs)

    monkeypatch.setattr(services, "action_update", racing)
    response = client.post(admin_url(Action, "change", w.action.pk), data)
    assert response.status_code == 200
    assert CONCURRENT_EDIT_MESSAGE in response.content.decode()
    w.action.refresh_from_db()
    assert w.action.title != "Mine"


# Cross-authority links.


@pytest.mark.parametrize(
    "change",
    ["team", "owner", "improvement_areas"],
)
def test_cross_authority_links_are_refused_on_the_form(w, change):
    """Even a national administrator cannot link a Knowsley action to Sefton's records."""
    client = w.client(w.root)
    value = {
        "team": w.away_team.pk,
        "owner": w.away_owner.pk,
        "improvement_areas": [w.away_area.pk],
    }[change]
    response = client.post(
        admin_url(Action, "change", w.action.pk), action_post_data(w.action, **{change: value})
    )
    assert response.status_code == 200, "refused on the form, not a 500 or a save"
    assert (
        change in response.context["adminform"].form.errors
        or response.context["adminform"].form.non_field_errors()
    )
    w.action.refresh_from_db()
    assert w.action.team == w.team
    assert w.action.owner == w.owner
    assert list(w.action.improvement_areas.all()) == [w.area]


def test_database_refuses_an_action_with_another_authoritys_team(w):
    """Whatever the route (even a raw update), the database holds the team's authority."""
    with pytest.raises(IntegrityError), transaction.atomic():
        Action.objects.filter(pk=w.action.pk).update(team=w.away_team)
    w.action.refresh_from_db()
    assert w.action.team == w.team


def test_records_service_refuses_cross_authority_links(w):
    measure = MeasureFactory(authority=w.home)
    with pytest.raises(ValidationError):
        services.record_save(obj=measure, by=w.root, m2m={"actions": [w.away_action]})
    with pytest.raises(ValidationError):
        services.record_save(obj=w.away_team, by=w.admin)
    w.team.lead = w.away_owner
    with pytest.raises(ValidationError):
        services.record_save(obj=w.team, by=w.admin)


# Bulk actions: all or nothing, refusals named.


def _bulk(client, name: str, actions, **data):
    return client.post(
        admin_url(Action, "changelist"),
        {"action": name, ACTION_CHECKBOX_NAME: [a.pk for a in actions], **data},
        follow=True,
    )


def test_bulk_reassign_over_open_and_closed_saves_nothing_and_says_why(w):
    closed = close(
        ActionFactory(authority=w.home, owner=w.owner, improvement_areas=[w.area]), by=w.leader
    )
    new_owner = OwnerFactory(username="new_owner", authority=w.home)
    response = _bulk(
        w.client(w.admin),
        "reassign_owner",
        [w.action, closed],
        apply="Reassign owner",
        owner=new_owner.pk,
        note="New service manager.",
    )
    assert response.status_code == 200
    text = response.content.decode()
    assert "Nothing was reassigned" in text
    assert str(closed) in text and "closed" in text
    for action in (w.action, closed):
        action.refresh_from_db()
        assert action.owner == w.owner
    assert not ProgressNote.objects.filter(text="New service manager.").exists()


def test_bulk_status_change_with_a_concurrent_edit_saves_nothing(w):
    """The confirmation page carries the versions shown; a row changed since is refused."""
    other = ActionFactory(authority=w.home, owner=w.owner, improvement_areas=[w.area])
    client = w.client(w.admin)
    confirm = _bulk(client, "change_status_with_note", [w.action, other])
    assert f'name="version-{w.action.pk}"' in confirm.content.decode()
    services.action_record_progress(
        # A note alone changes nothing to overwrite (it never conflicts); a RAG change does.
        action=other,
        by=w.owner,
        expected_version=other.version,
        text="Meanwhile.",
        rag=Action.Rag.AMBER,
    )
    response = _bulk(
        client,
        "change_status_with_note",
        [w.action, other],
        apply="Change delivery status",
        delivery_status=Action.DeliveryStatus.IN_PROGRESS,
        note="Started everywhere.",
        **{f"version-{w.action.pk}": 1, f"version-{other.pk}": 1},
    )
    assert response.status_code == 200
    assert "Nothing was changed" in response.content.decode()
    assert "someone else changed it" in response.content.decode()
    for action in (w.action, other):
        action.refresh_from_db()
        assert action.delivery_status == Action.DeliveryStatus.NOT_STARTED
    assert not ProgressNote.objects.filter(text="Started everywhere.").exists()


def test_bulk_decisions_are_all_or_nothing(w):
    asked = services.due_date_change_request(
        action=w.action,
        by=w.owner,
        new_date=w.action.due_date + dt.timedelta(days=30),
        reason="Recruitment.",
        today=TODAY,
    )
    own_action = ActionFactory(authority=w.home, owner=w.admin, improvement_areas=[w.area])
    own = services.due_date_change_request(
        action=own_action,
        by=w.admin,
        new_date=own_action.due_date + dt.timedelta(days=30),
        reason="Mine.",
        today=TODAY,
    )
    response = w.client(w.admin).post(
        admin_url(type(asked), "changelist"),
        {"action": "approve", ACTION_CHECKBOX_NAME: [asked.pk, own.pk]},
        follow=True,
    )
    assert "Nothing was decided" in response.content.decode()
    asked.refresh_from_db()
    assert asked.status == "pending"


# Invalid forms show their errors.


def test_invalid_admin_forms_show_errors_not_500(w):
    client = w.client(w.admin)
    add = client.post(
        admin_url(Action, "add"),
        {
            **action_post_data(w.action, title="Backwards dates"),
            "start_date": (TODAY + dt.timedelta(days=30)).isoformat(),
            "due_date": TODAY.isoformat(),
        },
    )
    assert add.status_code == 200
    assert "due date must be on or after the start date" in add.content.decode()
    assert not Action.objects.filter(title="Backwards dates").exists()
    away_team = client.post(
        admin_url(Action, "change", w.action.pk), action_post_data(w.action, team=w.away_team.pk)
    )
    assert away_team.status_code == 200
    assert "team" in away_team.context["adminform"].form.errors


def test_closed_action_is_view_only_in_the_admin(w):
    """A closed action's dates, owner and signatory do not move, in the admin too."""
    closed = close(w.action, by=w.leader)
    client = w.client(w.admin)
    page = client.get(admin_url(Action, "change", closed.pk))
    assert page.status_code == 200
    assert 'name="start_date"' not in page.content.decode()
    response = client.post(
        admin_url(Action, "change", closed.pk),
        action_post_data(closed, start_date="2020-01-01", owner=w.leader.pk),
    )
    assert response.status_code == 403
    closed.refresh_from_db()
    assert closed.owner == w.owner
    with pytest.raises(ValidationError):
        services.action_update(
            action=closed, expected_version=closed.version, by=w.admin, start_date=TODAY
        )


# Notes: a read-only list that posts nothing.


def test_action_with_535_notes_opens_and_saves(w):
    ProgressNote.objects.bulk_create(
        ProgressNote(
            action=w.action,
            author=w.owner,
            created_at=timezone.now() - dt.timedelta(minutes=i),
            text=f"Note number {i}",
        )
        for i in range(535)
    )
    client = w.client(w.admin)
    page = client.get(admin_url(Action, "change", w.action.pk))
    assert page.status_code == 200
    html = page.content.decode()
    assert "Note number 534" in html
    assert 'name="notes-' not in html
    response = client.post(
        admin_url(Action, "change", w.action.pk), action_post_data(w.action, title="Still saves")
    )
    assert response.status_code == 302, errors_of(response)
    w.action.refresh_from_db()
    assert w.action.title == "Still saves"
    assert w.action.notes.count() == 535


# Rules every route meets.


def test_evidence_of_an_impact_evidenced_action_cannot_be_removed(w):
    closed = close(w.action, by=w.leader, evidenced=True)
    evidence = closed.evidence.get()
    client = w.client(w.admin)
    response = client.post(admin_url(Evidence, "delete", evidence.pk), {"post": "yes"}, follow=True)
    assert response.status_code == 200
    assert "cannot be removed" in response.content.decode()
    bulk = client.post(
        admin_url(Evidence, "changelist"),
        {"action": "delete_selected", ACTION_CHECKBOX_NAME: [evidence.pk], "post": "yes"},
        follow=True,
    )
    assert bulk.status_code == 200
    assert "Nothing was deleted" in bulk.content.decode()
    assert Evidence.objects.filter(pk=evidence.pk).exists()
    with pytest.raises(ValidationError):
        services.evidence_remove(evidence=evidence, by=w.root)
    if connection.vendor == "postgresql":
        with pytest.raises(IntegrityError), transaction.atomic():
            Evidence.objects.filter(pk=evidence.pk).delete()
    assert Evidence.objects.filter(pk=evidence.pk).exists()


def test_evidence_of_an_open_action_can_be_removed(w):
    evidence = services.evidence_add_link(
        action=w.action, by=w.owner, url="https://example.org/x", title="Draft"
    )
    response = w.client(w.admin).post(admin_url(Evidence, "delete", evidence.pk), {"post": "yes"})
    assert response.status_code == 302
    assert not Evidence.objects.filter(pk=evidence.pk).exists()


def test_percentage_of_150_is_refused_in_the_admin_and_the_database(w):
    measure = MeasureFactory(authority=w.home, unit=Measure.Unit.PERCENT)
    client = w.client(w.admin)
    response = client.post(
        admin_url(MeasureValue, "add"),
        {
            "measure": measure.pk,
            "recorded_on": TODAY.isoformat(),
            "value": "150",
            "note": "",
            "recorded_by": w.admin.pk,
            "is_sample": "",
        },
    )
    assert response.status_code == 200
    assert "between 0 and 100" in response.content.decode()
    assert not MeasureValue.objects.exists()
    with pytest.raises(IntegrityError), transaction.atomic():
        MeasureValue.objects.create(
            measure=measure, recorded_on=TODAY, value=Decimal(150), recorded_by=w.admin
        )
    counted = MeasureFactory(authority=w.home, unit=Measure.Unit.COUNT, name="Visits")
    MeasureValue.objects.create(
        measure=counted, recorded_on=TODAY, value=Decimal(150), recorded_by=w.admin
    )


def test_history_can_be_viewed_but_not_reverted(w):
    client = w.client(w.admin)
    record = w.action.history.first()
    url = reverse("admin:improvement_action_simple_history", args=[w.action.pk, record.pk])
    assert client.get(url).status_code == 200
    assert client.post(url, action_post_data(w.action, title="Reverted")).status_code == 403
    away = w.away_action.history.first()
    away_url = reverse("admin:improvement_action_simple_history", args=[w.away_action.pk, away.pk])
    assert client.get(away_url).status_code == 404


# Keying.


def test_lead_inspectors_are_keyed_one_per_line(w):
    client = w.client(w.admin)
    page = client.get(admin_url(Inspection, "change", w.inspection.pk))
    assert "Paula Thomson-Jones</textarea>" in page.content.decode()
    data = {
        "authority": w.home.pk,
        "kind": w.inspection.kind,
        "title": "ILACS",
        "start_date": w.inspection.start_date.isoformat(),
        "end_date": w.inspection.end_date.isoformat(),
        "publication_date": w.inspection.publication_date.isoformat(),
        "lead_inspectors": "Paula Thomson-Jones\r\n\r\n  Andy Whippey  \r\n",
        "report_url": "",
        "summary": "",
        "outcome": "",
        "source_sha256": "",
    }
    for prefix in ("judgements", "improvement_areas", "findings"):
        data.update(
            {
                f"{prefix}-TOTAL_FORMS": "0",
                f"{prefix}-INITIAL_FORMS": "0",
                f"{prefix}-MIN_NUM_FORMS": "0",
                f"{prefix}-MAX_NUM_FORMS": "1000",
            }
        )
    response = client.post(admin_url(Inspection, "change", w.inspection.pk), data)
    assert response.status_code == 302, errors_of(response)
    w.inspection.refresh_from_db()
    assert w.inspection.lead_inspectors == ["Paula Thomson-Jones", "Andy Whippey"]


def test_paragraph_choices_show_inspection_number_and_opening_words(w):
    FindingFactory(inspection=w.inspection, number=7, text="Leaders do not know what works.")
    page = w.client(w.admin).get(admin_url(type(w.area), "change", w.area.pk))
    html = page.content.decode()
    assert "paragraph 7: Leaders do not know what works." in html
    assert (
        "js/admin_numbering.js"
        in w.client(w.admin).get(admin_url(Inspection, "change", w.inspection.pk)).content.decode()
    )
