"""Owners' pages: my actions, the action list, the action's trail, the quick update, downloads."""

import datetime as dt

import pytest
from django.contrib.auth.models import Group
from django.core.files.base import ContentFile
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test import override_settings
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone
from freezegun import freeze_time

from improvement import roles, services
from improvement.models import Action, Evidence, ProgressNote
from tests.factories import (
    TODAY,
    ActionFactory,
    AuthorityFactory,
    DueDateChangeFactory,
    EvidenceFactory,
    FindingFactory,
    ImprovementAreaFactory,
    MeasureFactory,
    MeasureValueFactory,
    MilestoneFactory,
    OwnerFactory,
    ProgressNoteFactory,
    TeamFactory,
    UserFactory,
    bulk_actions,
)

pytestmark = pytest.mark.django_db

PDF = b"%PDF-1.4\n1 0 obj<</Type/Catalog>>endobj\ntrailer<</Root 1 0 R>>\n%%EOF\n"


@pytest.fixture
def authority():
    return AuthorityFactory(name="Northshire")


@pytest.fixture
def action(owner, authority):
    """An open action owned by `owner` (a national user, as the conftest fixtures are)."""
    return ActionFactory(owner=owner, authority=authority, title="Improve pathway plans")


@pytest.fixture
def outsider(authority):
    """An administrator of another authority: may see nothing of this one."""
    user = UserFactory(authority=AuthorityFactory(name="Elsewhere"))
    user.groups.add(Group.objects.get(name=roles.ADMINISTRATOR))
    return user


@pytest.fixture
def other_owner():
    return OwnerFactory(username="other-owner")


@pytest.fixture
def team_lead(action):
    lead = OwnerFactory(username="team-lead")
    action.team = TeamFactory(authority=action.authority, lead=lead)
    action.save()
    return lead


def update_url(action) -> str:
    return reverse("improvement:action-update", args=[action.pk])


def detail_url(action) -> str:
    return reverse("improvement:action-detail", args=[action.pk])


def post_update(client, action, **data):
    payload = {
        "version": action.version,
        "delivery_status": action.delivery_status,
        "rag": action.rag,
        "text": "",
        "milestones_initial": "",
    }
    payload.update(data)
    return client.post(update_url(action), payload)


# Login and permissions


@pytest.mark.parametrize(
    "name",
    ["improvement:my-actions", "improvement:action-list"],
)
def test_lists_require_login(client, name):
    """Anonymous users are sent to the login page."""
    response = client.get(reverse(name))
    assert response.status_code == 302
    assert response.url.startswith(reverse("login"))


@pytest.mark.parametrize("name", ["improvement:action-detail", "improvement:action-update"])
def test_action_pages_require_login(client, action, name):
    """Anonymous users are sent to the login page from an action's pages."""
    response = client.get(reverse(name, args=[action.pk]))
    assert response.status_code == 302
    assert response.url.startswith(reverse("login"))


def test_user_with_no_role_is_refused_the_lists(client):
    """Signed in with no role at all: the lists are forbidden."""
    client.force_login(UserFactory())
    assert client.get(reverse("improvement:my-actions")).status_code == 403
    assert client.get(reverse("improvement:action-list")).status_code == 403


def test_my_actions_lists_owned_and_led_open_actions_overdue_first(client, owner, team_lead):
    """My actions: what the user owns or their team owns, open only, overdue first."""
    with freeze_time(TODAY):
        led = ActionFactory(
            title="Led by my team",
            team=TeamFactory(lead=owner),
            due_date=TODAY + dt.timedelta(days=3),
        )
        ActionFactory(owner=owner, title="Late one", due_date=TODAY - dt.timedelta(days=2))
        soon = ActionFactory(owner=owner, title="Soon", due_date=TODAY + dt.timedelta(days=1))
        ActionFactory(title="Someone else's")
        ActionFactory(
            owner=owner,
            title="Closed one",
            delivery_status="delivered",
            impact_status="evidenced",
            rag="blue",
            signed_off_by=UserFactory(),
            signed_off_at=timezone.now(),
        )
        client.force_login(owner)
        response = client.get(reverse("improvement:my-actions"))

    assert response.status_code == 200
    titles = [a.title for a in response.context["actions"]]
    assert titles[:3] == ["Late one", "Soon", "Led by my team"]
    assert "Someone else's" not in titles
    assert "Closed one" not in titles
    assert response.context["actions"][0].states.overdue is True
    content = response.content.decode()
    assert "Overdue" in content
    assert update_url(soon) in content
    assert update_url(led) in content


def test_my_actions_is_not_for_board_viewers(client, board_viewer, action):
    """A board viewer cannot own actions: the page is neither offered nor served."""
    client.force_login(board_viewer)
    response = client.get(reverse("improvement:my-actions"))
    assert response.status_code == 403
    html = client.get(reverse("improvement:action-list")).content.decode()
    assert reverse("improvement:my-actions") not in html


@pytest.mark.parametrize("role", ["owner", "leader", "board_viewer", "administrator"])
def test_action_list_shows_actions_to_every_role(client, request, action, role):
    """Every role may see the plan of their scope."""
    client.force_login(request.getfixturevalue(role))
    response = client.get(reverse("improvement:action-list"))
    assert response.status_code == 200
    assert action.title in response.content.decode()


def test_action_list_hides_other_authorities(client, action, outsider):
    """A user of another authority does not see this authority's actions, nor its options."""
    client.force_login(outsider)
    response = client.get(reverse("improvement:action-list"))
    content = response.content.decode()
    assert response.status_code == 200
    assert action.title not in content
    assert "Northshire" not in content
    assert response.context["page_obj"].paginator.count == 0


def test_action_list_filters_paginates_and_keeps_the_querystring(client, owner, authority):
    """Filters come from the URL; pagination and sort links keep them."""
    ActionFactory.create_batch(30, owner=owner, authority=authority, rag="red")
    ActionFactory(owner=owner, authority=authority, rag="green", title="Green one")
    client.force_login(owner)

    response = client.get(reverse("improvement:action-list"), {"rag": "red", "sort": "title"})

    assert response.context["page_obj"].paginator.count == 30
    assert len(response.context["actions"]) == 25
    content = response.content.decode()
    assert "30 actions match these filters" in content
    assert "?rag=red&amp;sort=title&amp;page=2" in content
    # The active column says how it is sorted, and its link reverses the order.
    assert 'aria-sort="ascending"' in content
    assert "?rag=red&amp;sort=-title" in content
    assert "Green one" not in content


def test_action_list_bad_filter_shows_error_summary(client, owner, action):
    """A bad value is shown in an error summary by its field; the page still works."""
    client.force_login(owner)
    response = client.get(reverse("improvement:action-list"), {"due_within": "soon"})
    content = response.content.decode()
    assert response.status_code == 200
    assert "There is a problem" in content
    assert 'href="#id_due_within"' in content
    assert 'value="soon"' in content
    assert content.count("<h1") == 1


def test_detail_for_owner_shows_update_and_deadline_controls(client, owner, action):
    """The owner sees the update controls and the milestone tick boxes."""
    MilestoneFactory(action=action, title="Audit done")
    client.force_login(owner)
    response = client.get(detail_url(action))
    content = response.content.decode()
    assert response.status_code == 200
    assert response.context["can_update"] is True
    assert update_url(action) in content
    assert 'name="milestones"' in content


def test_detail_for_another_owner_has_no_change_controls(client, other_owner, action):
    """Another owner may read the action but gets no controls."""
    MilestoneFactory(action=action)
    client.force_login(other_owner)
    response = client.get(detail_url(action))
    content = response.content.decode()
    assert response.status_code == 200
    assert response.context["can_update"] is False
    assert update_url(action) not in content
    assert 'name="milestones"' not in content


def test_detail_for_team_lead_and_admin_has_controls(client, team_lead, administrator, action):
    """The team's lead and an administrator may update."""
    for user in (team_lead, administrator):
        client.force_login(user)
        assert client.get(detail_url(action)).context["can_update"] is True


def test_detail_for_leader_offers_sign_off_of_delivered_action(client, leader, action):
    """A senior leader gets the sign-off controls only once the action is delivered."""
    client.force_login(leader)
    response = client.get(detail_url(action))
    assert response.context["can_update"] is False
    assert response.context["can_sign_off"] is False

    Action.objects.filter(pk=action.pk).update(delivery_status="delivered")
    assert client.get(detail_url(action)).context["can_sign_off"] is True


def test_detail_for_board_viewer_is_read_only(client, board_viewer, action):
    """A board viewer reads the trail and sees no controls."""
    client.force_login(board_viewer)
    response = client.get(detail_url(action))
    assert response.status_code == 200
    assert response.context["can_update"] is False
    assert response.context["can_sign_off"] is False


def test_detail_is_404_for_another_authority(client, outsider, action):
    """Another authority's user cannot learn that the action exists."""
    client.force_login(outsider)
    assert client.get(detail_url(action)).status_code == 404
    assert client.get(update_url(action)).status_code == 404
    assert post_update(client, action, text="x").status_code == 404


def test_detail_shows_the_whole_trail(client, owner, action):
    """Report paragraph, area, milestones, notes, evidence, measures, slippage and history."""
    area = action.improvement_areas.get()
    finding = FindingFactory(inspection=area.inspection, number=17, text="Plans are not updated.")
    area.supporting_findings.add(finding)
    MilestoneFactory(action=action, title="Audit of plans")
    services.action_record_progress(
        action=action,
        by=owner,
        expected_version=action.version,
        text="Started the audit.",
        delivery_status="in_progress",
    )
    EvidenceFactory(action=action, title="Audit summary", added_by=owner)
    measure = MeasureFactory(authority=action.authority, name="Care leavers in suitable homes")
    measure.actions.add(action)
    MeasureValueFactory(measure=measure, value=93, recorded_by=owner)
    DueDateChangeFactory(action=action, reason="Staff shortage")
    client.force_login(owner)

    content = client.get(detail_url(action)).content.decode()

    for text in [
        "Paragraph 17",
        "Plans are not updated.",
        area.text,
        "Audit of plans",
        "Started the audit.",
        "Not started to In progress",
        "Audit summary",
        "Care leavers in suitable homes",
        "On target",
        "Staff shortage",
        "Awaiting decision",
        "Delivery status: Not started to In progress",
    ]:
        assert text in content, text


def test_markup_in_notes_is_shown_as_text(client, owner, action):
    """A note's markup is escaped, never run."""
    ProgressNoteFactory(action=action, text="<script>alert('x')</script><b>bold</b>")
    client.force_login(owner)
    content = client.get(detail_url(action)).content.decode()
    assert "<script>alert" not in content
    assert "&lt;script&gt;alert(&#x27;x&#x27;)&lt;/script&gt;&lt;b&gt;bold&lt;/b&gt;" in content


@pytest.mark.parametrize(
    ("role", "status"),
    [
        ("owner", 200),
        ("team_lead", 200),
        ("administrator", 200),
        ("other_owner", 403),
        ("leader", 403),
        ("board_viewer", 403),
    ],
)
def test_update_page_permissions(client, request, action, role, status):
    """Owner, team lead and administrator may update; other roles get 403 on GET and POST."""
    user = request.getfixturevalue(role)
    client.force_login(user)
    assert client.get(update_url(action)).status_code == status
    response = post_update(client, action, text="Forged?", delivery_status="in_progress")
    assert response.status_code == (302 if status == 200 else 403)


def test_forged_post_writes_nothing(client, other_owner, action):
    """A 403 POST leaves the action and its notes untouched."""
    client.force_login(other_owner)
    post_update(client, action, text="Forged", delivery_status="delivered")
    action.refresh_from_db()
    assert action.delivery_status == "not_started"
    assert not ProgressNote.objects.exists()


# The quick update


def test_quick_update_happy_path(client, owner, action):
    """A note with a status and RAG change, a milestone tick and a file: all saved."""
    milestone = MilestoneFactory(action=action)
    client.force_login(owner)
    response = client.post(
        update_url(action),
        {
            "version": action.version,
            "delivery_status": "in_progress",
            "rag": "amber",
            "text": "Recruited two managers.",
            "milestones": [milestone.pk],
            "milestones_initial": "",
            "evidence_file": SimpleUploadedFile("plan.pdf", PDF),
            "evidence_title": "Recruitment plan",
        },
    )

    assert response.status_code == 302
    assert response.url == detail_url(action)
    action.refresh_from_db()
    assert (action.delivery_status, action.rag, action.version) == ("in_progress", "amber", 2)
    note = ProgressNote.objects.get()
    assert (note.delivery_status_before, note.delivery_status_after) == (
        "not_started",
        "in_progress",
    )
    milestone.refresh_from_db()
    assert milestone.is_complete
    evidence = Evidence.objects.get()
    assert (evidence.title, evidence.content_type) == ("Recruitment plan", "application/pdf")
    page = client.get(response.url).content.decode()
    assert "Your update has been saved" in page
    assert "Recruited two managers." in page


def test_milestone_ticks_alone_need_no_note(client, owner, action):
    """Ticking a milestone (as from the detail page) saves without a progress note."""
    done, todo = MilestoneFactory(action=action), MilestoneFactory(action=action)
    client.force_login(owner)
    response = client.post(
        update_url(action),
        {"version": action.version, "milestones": [done.pk], "milestones_initial": ""},
    )
    assert response.status_code == 302
    done.refresh_from_db()
    todo.refresh_from_db()
    assert done.is_complete
    assert not todo.is_complete
    assert not ProgressNote.objects.exists()


def test_a_link_is_saved_as_evidence(client, owner, action):
    """A link with a title becomes link evidence."""
    client.force_login(owner)
    response = post_update(
        client, action, evidence_url="https://example.org/report", evidence_title="Audit report"
    )
    assert response.status_code == 302
    assert Evidence.objects.get().url == "https://example.org/report"


def test_a_link_needs_a_title(client, owner, action):
    """A link without a title is refused by the field."""
    client.force_login(owner)
    response = post_update(client, action, evidence_url="https://example.org/report")
    assert response.status_code == 200
    assert "Enter a title for the link." in response.content.decode()
    assert not Evidence.objects.exists()


def test_note_required_when_status_changes(client, owner, action):
    """Changing the status without a note is refused by the note field; nothing is written."""
    client.force_login(owner)
    response = post_update(client, action, delivery_status="in_progress")

    content = response.content.decode()
    assert response.status_code == 200
    assert "a note is needed to change the status or RAG rating" in content
    assert 'href="#id_text"' in content
    assert (
        'id="id_delivery_status_2" name="delivery_status" type="radio" value="in_progress" checked'
        in content
    )
    action.refresh_from_db()
    assert action.delivery_status == "not_started"


def test_empty_update_asks_for_a_note(client, owner, action):
    """Submitting nothing at all asks for a progress note."""
    client.force_login(owner)
    response = post_update(client, action)
    assert "Enter a progress note." in response.content.decode()


def test_evidence_with_the_wrong_content_writes_nothing(client, owner, action):
    """A .pdf that is really text is refused by the file field, and the note is not saved."""
    client.force_login(owner)
    response = post_update(
        client,
        action,
        text="Here is the audit.",
        delivery_status="in_progress",
        evidence_file=SimpleUploadedFile("audit.pdf", b"just some text, not a PDF\n" * 10),
    )

    content = response.content.decode()
    assert response.status_code == 200
    assert "The file&#x27;s name does not match its contents" in content
    assert 'href="#id_evidence_file"' in content
    assert "Here is the audit." in content  # what was typed is kept
    assert ProgressNote.objects.count() == 0
    action.refresh_from_db()
    assert (action.delivery_status, action.version) == ("not_started", 1)
    assert not Evidence.objects.exists()


@override_settings(EVIDENCE_MAX_BYTES=100)
def test_evidence_too_large_writes_nothing(client, owner, action):
    """A file over the limit is refused; note and milestone ticks are rolled back too."""
    milestone = MilestoneFactory(action=action)
    client.force_login(owner)
    response = post_update(
        client,
        action,
        text="Audit attached.",
        milestones=[milestone.pk],
        evidence_file=SimpleUploadedFile("audit.pdf", PDF * 5),
    )

    assert "The selected file must be smaller than 100" in response.content.decode()
    assert ProgressNote.objects.count() == 0
    milestone.refresh_from_db()
    assert not milestone.is_complete


def test_concurrent_edit_is_refused_with_what_changed_and_input_kept(
    client, owner, administrator, action
):
    """Two updates from the same version: the second sees the conflict, keeps its text, saves
    nothing, and goes through when submitted again."""
    version = action.version
    client.force_login(administrator)
    first = post_update(
        client,
        action,
        version=version,
        text="Admin: moved to in progress.",
        delivery_status="in_progress",
        rag="amber",
    )
    assert first.status_code == 302

    client.force_login(owner)
    second = post_update(
        client, action, version=version, text="Owner: <b>my</b> careful note.", rag="red"
    )

    content = second.content.decode()
    assert second.status_code == 200
    assert "Someone else updated this action while you were editing" in content
    assert "Admin: moved to in progress." in content  # the newer note is listed
    assert "The action is now in progress, rated amber." in content
    assert "Owner: &lt;b&gt;my&lt;/b&gt; careful note.</textarea>" in content
    assert 'name="version" value="2"' in content
    assert ProgressNote.objects.count() == 1
    action.refresh_from_db()
    assert (action.rag, action.version) == ("amber", 2)

    form = second.context["form"]
    third = client.post(update_url(action), form.data)
    assert third.status_code == 302
    action.refresh_from_db()
    assert (action.rag, action.version) == ("red", 3)
    assert ProgressNote.objects.count() == 2


def test_conflict_merges_milestone_ticks(client, owner, administrator, action):
    """After a conflict, the form shows others' ticks plus the user's own."""
    first, second = MilestoneFactory(action=action), MilestoneFactory(action=action)
    version = action.version
    client.force_login(administrator)
    post_update(
        client, action, version=version, text="Done one.", rag="amber", milestones=[first.pk]
    )
    client.force_login(owner)
    response = post_update(
        client, action, version=version, text="Done two.", rag="red", milestones=[second.pk]
    )
    form = response.context["form"]
    assert sorted(map(int, form.data.getlist("milestones"))) == sorted([first.pk, second.pk])


def test_notes_and_ticks_from_the_same_version_are_both_kept(client, owner, administrator, action):
    """A note with milestone ticks changes nothing anyone could overwrite: no conflict."""
    first, second = MilestoneFactory(action=action), MilestoneFactory(action=action)
    version = action.version
    client.force_login(administrator)
    assert (
        post_update(
            client, action, version=version, text="Done one.", milestones=[first.pk]
        ).status_code
        == 302
    )
    client.force_login(owner)
    assert (
        post_update(
            client, action, version=version, text="Done two.", milestones=[second.pk]
        ).status_code
        == 302
    )
    first.refresh_from_db()
    second.refresh_from_db()
    assert first.is_complete and second.is_complete
    assert list(action.notes.values_list("text", flat=True)) == ["Done two.", "Done one."]


def test_a_zero_width_note_cannot_change_the_rag_through_the_page(client, owner, action):
    client.force_login(owner)
    response = post_update(client, action, version=action.version, text="\u200b", rag="red")
    assert response.status_code == 200
    assert "a note is needed to change the status or RAG rating" in response.content.decode()
    action.refresh_from_db()
    assert action.rag == "green" and not action.notes.exists()


# Evidence download


def file_evidence(action, user):
    evidence = Evidence(
        action=action,
        title="Plan",
        size=len(PDF),
        content_type="application/pdf",
        sha256="a" * 64,
        added_by=user,
    )
    evidence.file.save("plan.pdf", ContentFile(PDF), save=False)
    evidence.save()
    return evidence


def test_evidence_download_is_an_attachment_with_its_type(client, board_viewer, owner, action):
    """Anyone who may see the action gets the file as a download, with nosniff."""
    evidence = file_evidence(action, owner)
    client.force_login(board_viewer)
    response = client.get(reverse("improvement:evidence-download", args=[evidence.pk]))
    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"
    assert response["Content-Disposition"].startswith("attachment")
    assert response["X-Content-Type-Options"] == "nosniff"
    assert b"".join(response.streaming_content) == PDF


def test_evidence_download_is_404_for_others_and_for_links(client, outsider, owner, action):
    """Another authority's user gets 404, as does a link (which has no file)."""
    evidence = file_evidence(action, owner)
    link = EvidenceFactory(action=action)
    client.force_login(outsider)
    assert (
        client.get(reverse("improvement:evidence-download", args=[evidence.pk])).status_code == 404
    )
    client.force_login(owner)
    assert client.get(reverse("improvement:evidence-download", args=[link.pk])).status_code == 404
    client.logout()
    response = client.get(reverse("improvement:evidence-download", args=[evidence.pk]))
    assert response.status_code == 302


# Query counts: the same at 10 and at 1,000 actions


def count_queries(client, url, params=None) -> int:
    with CaptureQueriesContext(connection) as queries:
        response = client.get(url, params or {})
    assert response.status_code == 200
    return len(queries)


@pytest.mark.parametrize(
    ("name", "params"),
    [
        ("improvement:my-actions", {}),
        ("improvement:action-list", {}),
        (
            "improvement:action-list",
            {"rag": "red", "overdue": "1", "q": "Bulk", "owner": "OWNER", "sort": "-owner"},
        ),
    ],
)
def test_list_query_counts_do_not_grow_with_data(client, owner, authority, name, params):
    """10 or 1,000 actions: the same number of queries, with or without filters."""
    area = ImprovementAreaFactory(inspection__authority=authority)
    params = {k: (owner.pk if v == "OWNER" else v) for k, v in params.items()}
    client.force_login(owner)
    url = reverse(name)
    spread = {
        "start_date": TODAY - dt.timedelta(days=30),
        "due_date": lambda i: TODAY + dt.timedelta(days=i % 90 - 30),
        "rag": lambda i: ("red", "amber", "green")[i % 3],
    }
    with freeze_time(TODAY):
        bulk_actions(10, area=area, owner=owner, **spread)
        small = count_queries(client, url, params)
        bulk_actions(990, area=area, owner=owner, **spread)
        large = count_queries(client, url, params)
    assert small == large


def test_detail_query_count_does_not_grow_with_its_trail(client, owner, action):
    """2 or 50 notes (with evidence, history and milestones alike): the same number of queries."""
    client.force_login(owner)

    def grow(n: int) -> None:
        for i in range(n):
            services.action_record_progress(
                action=action,
                by=owner,
                expected_version=action.version,
                text=f"Note {i}",
                rag=("amber", "green")[i % 2],
            )
            EvidenceFactory(action=action, added_by=owner)
            MilestoneFactory(action=action)

    grow(2)
    small = count_queries(client, detail_url(action))
    grow(48)
    large = count_queries(client, detail_url(action))
    assert small == large
