"""The board pack: its content, "changes since" the last frozen pack, freezing, the PDF, pages."""

from __future__ import annotations

import datetime as dt
import io
import types
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.db import DatabaseError, connection, transaction
from django.urls import reverse
from freezegun import freeze_time
from pypdf import PdfReader

from improvement import rulebook, services
from improvement.models import Action, BoardPack
from improvement.selectors import packs as pack_reads
from improvement.services import packs as pack_services
from tests.factories import (
    TODAY,
    ActionFactory,
    AuthorityFactory,
    ImprovementAreaFactory,
    InspectionFactory,
    LeaderFactory,
    MeasureFactory,
    MeasureValueFactory,
    OwnerFactory,
    UserFactory,
    bulk_actions,
)

pytestmark = pytest.mark.django_db
postgres_only = pytest.mark.skipif(
    "connection.vendor != 'postgresql'", reason="the partial index is PostgreSQL's"
)

NOW = dt.datetime(2026, 12, 1, 10, 0, tzinfo=dt.UTC)
BOARD = dt.date(2026, 12, 10)
NEXT_BOARD = dt.date(2027, 1, 14)


@pytest.fixture
def plan(db):
    home = AuthorityFactory(name="Knowsley", ons_code="E08000011")
    inspection = InspectionFactory(
        authority=home,
        title="Knowsley ILACS",
        start_date=dt.date(2026, 9, 7),
        end_date=dt.date(2026, 9, 18),
        publication_date=dt.date(2026, 10, 30),
    )
    area = ImprovementAreaFactory(
        inspection=inspection,
        position=1,
        text="Help for care leavers.",
        is_priority_action=True,
        responsible_body="Knowsley Council",
    )
    leader = LeaderFactory(username="leader", authority=home, first_name="Lee", last_name="Der")
    owner = OwnerFactory(username="sam", authority=home, first_name="Sam", last_name="Owner")
    overdue = ActionFactory(
        authority=home,
        owner=owner,
        reference="1.1",
        title="Overdue pathway audit",
        improvement_areas=[area],
        due_date=TODAY - dt.timedelta(days=5),
    )
    red = ActionFactory(
        authority=home,
        owner=owner,
        reference="1.2",
        title="Red recruitment drive",
        rag=Action.Rag.RED,
        improvement_areas=[area],
    )
    delivered = ActionFactory(
        authority=home,
        owner=owner,
        reference="1.3",
        title="Delivered leaving-care offer",
        delivery_status=Action.DeliveryStatus.DELIVERED,
        improvement_areas=[area],
    )
    measure = MeasureFactory(
        authority=home,
        name="Care leavers in touch",
        baseline_value=Decimal("70"),
        target_value=Decimal("90"),
    )
    MeasureValueFactory(measure=measure, recorded_on=TODAY - dt.timedelta(days=30), value=75)
    MeasureValueFactory(measure=measure, recorded_on=TODAY - dt.timedelta(days=1), value=81)
    away = AuthorityFactory(name="Sefton", ons_code="E08000014")
    stranger = LeaderFactory(username="stranger", authority=away)
    return types.SimpleNamespace(
        home=home,
        area=area,
        leader=leader,
        owner=owner,
        overdue=overdue,
        red=red,
        delivered=delivered,
        measure=measure,
        stranger=stranger,
    )


def moved(pk: int, name: str, was: str | None, now: str, trend: str) -> dict:
    """A "measure moved" change as the pack records it."""
    return {"id": pk, "name": name, "from": was, "to": now, "trend": trend}


def content_of(plan, board=BOARD, today=TODAY, now=NOW):
    return pack_reads.pack_content(authority=plan.home, board_date=board, today=today, now=now)


def test_content_summary_exceptions_areas_measures_and_clock(plan):
    content = content_of(plan)
    summary = content["summary"]
    assert summary["total"] == 3
    assert summary["overdue"] == 1
    assert summary["rag_red"] == 1
    assert summary["awaiting_sign_off"] == 1
    exceptions = content["exceptions"]
    assert exceptions["overdue"] == [plan.overdue.pk]
    assert exceptions["off_track"] == [plan.red.pk]
    assert exceptions["awaiting_sign_off"] == [plan.delivered.pk]
    [area] = content["areas"]
    assert area["position"] == 1 and area["is_priority_action"]
    assert set(area["actions"]) == {plan.overdue.pk, plan.red.pk, plan.delivered.pk}
    [measure] = content["measures"]
    assert measure["latest"] == "81" and measure["previous"] == "75"
    assert measure["trend"] == "improving" and measure["on_target"] is False
    clock = content["clock"]
    # 70 working days from 30 October 2026 (the draft: 20, as there is a priority action).
    assert [d["label"] for d in clock["deadlines"]] == ["Draft action plan", "Final action plan"]
    assert clock["deadlines"][0]["due"] == "2026-11-27"
    assert content["round"] is None
    assert content["changes"] == {"since": None}


def test_pack_prints_the_update_round_of_its_meeting(plan):
    assert pack_reads.round_coverage_for(plan.home, BOARD) is None
    services.board_meeting_create(
        authority=plan.home, meets_on=BOARD, by=plan.leader, today=BOARD - dt.timedelta(days=40)
    )
    plan.overdue.refresh_from_db()
    services.action_record_progress(
        action=plan.overdue, by=plan.owner, expected_version=plan.overdue.version, text="Update."
    )
    printed = pack_reads.round_coverage_for(plan.home, BOARD)
    open_actions = Action.objects.filter(rulebook.not_closed(), authority=plan.home).count()
    assert printed["owners asked"] == 1
    assert printed["owners who have updated every action"] == 0
    assert printed["actions updated"] == f"1 of {open_actions}"
    assert printed["still to update (actions outstanding)"] == f"Sam Owner ({open_actions - 1})"
    html = pack_services.pack_html(content_of(plan))
    assert "No update round recorded." not in html
    assert "Sam Owner (" in html


def test_html_says_no_update_round_and_shows_the_plan(plan):
    html = pack_services.pack_html(content_of(plan))
    assert "No update round recorded." in html
    assert "Overdue pathway audit" in html
    assert "Care leavers in touch" in html
    assert "This is the first frozen pack" in html


def test_freezing_stores_content_html_and_its_sha256_once(plan):
    pack = pack_services.board_pack_freeze(
        authority=plan.home, board_date=BOARD, by=plan.leader, now=NOW
    )
    pack.refresh_from_db()
    assert pack.sha256 == pack_services.sha256_of(pack.html)
    assert pack.content["summary"]["total"] == 3
    assert "Frozen on 1 December 2026" in pack.html
    with pytest.raises(ValidationError):
        pack_services.board_pack_freeze(
            authority=plan.home, board_date=BOARD, by=plan.leader, now=NOW
        )
    assert BoardPack.objects.count() == 1


def test_a_frozen_pack_never_changes_whatever_the_route(plan):
    pack = pack_services.board_pack_freeze(
        authority=plan.home, board_date=BOARD, by=plan.leader, now=NOW
    )
    with pytest.raises(ValueError, match="never changes"):
        pack.save()
    # The database refuses too, for a route that skips the model (a queryset update).
    with pytest.raises(DatabaseError), transaction.atomic():
        BoardPack.objects.filter(pk=pack.pk).update(html="rewritten")
    pack.refresh_from_db()
    assert pack.sha256 == pack_services.sha256_of(pack.html)


def test_changes_since_the_last_frozen_pack(plan):
    with freeze_time(NOW):
        pack_services.board_pack_freeze(
            authority=plan.home, board_date=BOARD, by=plan.leader, now=NOW
        )
    later = NOW + dt.timedelta(days=20)
    with freeze_time(later):
        new = ActionFactory(
            authority=plan.home,
            owner=plan.owner,
            reference="1.4",
            title="New mentoring scheme",
            improvement_areas=[plan.area],
        )
        services.action_sign_off(
            action=plan.delivered,
            by=plan.leader,
            expected_version=plan.delivered.version,
            impact_evidenced=False,
            note="Delivered; impact to be seen in the next survey.",
        )
        change = services.due_date_change_request(
            action=plan.red,
            by=plan.owner,
            new_date=plan.red.due_date + dt.timedelta(days=30),
            reason="Recruitment took longer.",
        )
        services.due_date_change_decide(change=change, by=plan.leader, approve=True)
        plan.overdue.refresh_from_db()
        services.action_record_progress(
            action=plan.overdue,
            by=plan.owner,
            expected_version=plan.overdue.version,
            text="Audit stalled: staff shortage.",
            rag=Action.Rag.AMBER,
        )
        services.measure_record_value(
            measure=plan.measure,
            recorded_on=later.date(),
            value=Decimal("84"),
            by=plan.leader,
        )
        content = content_of(plan, board=NEXT_BOARD, today=later.date(), now=later)
    changes = content["changes"]
    assert changes["since"] == BOARD.isoformat()
    assert changes["new"] == [new.pk]
    assert changes["closed"] == [plan.delivered.pk]
    assert changes["redated"] == [
        {
            "id": plan.red.pk,
            "from": plan.red.due_date.isoformat(),
            "to": (plan.red.due_date + dt.timedelta(days=30)).isoformat(),
        }
    ]
    assert changes["rag_moved"] == [{"id": plan.overdue.pk, "from": "green", "to": "amber"}]
    assert changes["measure_moved"] == [
        moved(plan.measure.pk, "Care leavers in touch", "81", "84", "improving")
    ]
    html = pack_services.pack_html(content)
    assert "Since the pack for the meeting on 10 December 2026: 5 changes." in html
    assert "Green to Amber" in html


def test_pdf_is_a_valid_pdf_holding_the_figures(plan):
    content = content_of(plan)
    pdf = pack_services.pack_pdf(pack_services.pack_html(content))
    assert pdf.startswith(b"%PDF-")
    reader = PdfReader(io.BytesIO(pdf))
    text = " ".join(page.extract_text() for page in reader.pages)
    assert "Knowsley" in text
    assert "Improvement board pack: 10 December 2026" in text
    assert "Overdue pathway audit" in text
    assert "Overdue: 1" in text
    assert "Care leavers in touch" in text
    assert "No update round recorded." in text
    # The font of the static files (Pack Sans) was embedded, not a system fallback.
    fonts = {
        str(font.get("/BaseFont"))
        for page in reader.pages
        for font in (page["/Resources"].get("/Font") or {}).values()
        for font in [font.get_object()]
    }
    assert any("Pack-Sans" in name for name in fonts), fonts


def test_the_pdf_fetches_nothing_that_is_not_a_local_static_file(plan):
    with pytest.raises(pack_services.RefusedFetch):
        pack_services._static_path("https://evil.example/steal.css")
    with pytest.raises(pack_services.RefusedFetch):
        pack_services._static_path(pack_services.PACK_ORIGIN + "/media/evidence/secret.pdf")
    with pytest.raises(pack_services.RefusedFetch):
        pack_services._static_path(pack_services.PACK_ORIGIN + "/static/../tracker/settings.py")
    assert pack_services._static_path(pack_services.PACK_ORIGIN + "/static/css/pack.css").is_file()
    html = '<html><body><img src="http://127.0.0.1:9/x.png"><p>Hello</p></body></html>'
    from weasyprint.urls import FatalURLFetchingError

    with pytest.raises(FatalURLFetchingError) as refused:
        pack_services.pack_pdf(html)
    assert isinstance(refused.value.__cause__, pack_services.RefusedFetch)


# Pages


def url(name, *args):
    return reverse(f"improvement:{name}", args=args)


@freeze_time(NOW)
def test_leader_freezes_a_pack_from_the_draft_page(client, plan):
    client.force_login(plan.leader)
    page = client.get(url("pack-draft", plan.home.pk), {"board_date": "10/12/2026"})
    assert page.status_code == 200
    assert "Freeze the pack for 10 December 2026" in page.content.decode()
    response = client.post(url("pack-draft", plan.home.pk), {"board_date": "10/12/2026"})
    pack = BoardPack.objects.get()
    assert response.status_code == 302 and response["Location"] == pack.get_absolute_url()
    detail = client.get(pack.get_absolute_url()).content.decode()
    assert pack.sha256 in detail
    listing = client.get(url("pack-list")).content.decode()
    assert url("pack-pdf", pack.pk) in listing
    html = client.get(url("pack-html", pack.pk))
    assert pack_services.sha256_of(html.content.decode()) == pack.sha256
    pdf = client.get(url("pack-pdf", pack.pk))
    assert pdf["Content-Type"] == "application/pdf"
    assert b"".join(pdf.streaming_content).startswith(b"%PDF-")


@freeze_time(NOW)
def test_board_viewer_reads_but_cannot_freeze_and_strangers_see_nothing(client, plan):
    pack = pack_services.board_pack_freeze(
        authority=plan.home, board_date=BOARD, by=plan.leader, now=NOW
    )
    board = UserFactory(username="board", authority=plan.home, role="Board viewer")
    client.force_login(board)
    page = client.get(url("pack-draft", plan.home.pk), {"board_date": "14/01/2027"})
    assert page.status_code == 200
    assert "Freeze the pack" not in page.content.decode()
    post = client.post(url("pack-draft", plan.home.pk), {"board_date": "14/01/2027"})
    assert post.status_code == 403
    assert client.get(pack.get_absolute_url()).status_code == 200
    client.force_login(plan.stranger)
    assert client.get(pack.get_absolute_url()).status_code == 404
    assert client.get(url("pack-pdf", pack.pk)).status_code == 404
    assert client.get(url("pack-draft", plan.home.pk)).status_code == 404
    listing = client.get(url("pack-list")).content.decode()
    assert pack.get_absolute_url() not in listing
    assert url("pack-draft", plan.home.pk) not in listing


@freeze_time(NOW)
def test_a_bad_board_date_is_a_clear_error(client, plan):
    client.force_login(plan.leader)
    page = client.post(url("pack-draft", plan.home.pk), {"board_date": "31/02/2027"})
    assert page.status_code == 200
    assert "Enter the date of the board meeting as a date" in page.content.decode()
    assert not BoardPack.objects.exists()


def draft_queries(client, plan, board_date="10/12/2026") -> int:
    """The queries of the draft page, its figures not yet cached (the most it asks)."""
    from django.core.cache import cache
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    cache.clear()
    client.force_login(plan.leader)
    with CaptureQueriesContext(connection) as queries:
        page = client.get(url("pack-draft", plan.home.pk), {"board_date": board_date})
    assert page.status_code == 200
    return len(queries)


@freeze_time(NOW)
def test_draft_page_queries_do_not_grow_with_the_plan(client, plan):
    def grow(size):
        bulk_actions(size, area=plan.area, owner=plan.owner, due_date=TODAY - dt.timedelta(days=3))
        ImprovementAreaFactory(inspection=plan.area.inspection, position=size)
        MeasureValueFactory(measure=MeasureFactory(authority=plan.home), recorded_on=TODAY)
        return draft_queries(client, plan)

    assert grow(10) == grow(60)


@freeze_time(NOW)
def test_draft_page_queries_do_not_grow_with_the_changes_since_the_last_pack(client, plan):
    pack_services.board_pack_freeze(
        authority=plan.home, board_date=BOARD, by=plan.leader, now=NOW - dt.timedelta(days=1)
    )

    def grow(size):
        bulk_actions(size, area=plan.area, owner=plan.owner)
        return draft_queries(client, plan, board_date="14/01/2027")

    assert grow(10) == grow(60)


def test_a_frozen_packs_pdf_is_rendered_once(plan, monkeypatch):
    from django.core.cache import cache

    cache.clear()
    pack = pack_services.board_pack_freeze(
        authority=plan.home, board_date=BOARD, by=plan.leader, now=NOW
    )
    rendered = []
    real = pack_services.pack_pdf
    monkeypatch.setattr(pack_services, "pack_pdf", lambda html: rendered.append(html) or real(html))
    first = pack_services.frozen_pack_pdf(pack)
    second = pack_services.frozen_pack_pdf(pack)
    assert first == second and first.startswith(b"%PDF-")
    assert rendered == [pack.html]


# A large plan: every action counted, each list capped with how many more there are


def overdue_bulk(plan, n):
    return bulk_actions(
        n,
        area=plan.area,
        owner=plan.owner,
        due_date=lambda i: TODAY - dt.timedelta(days=10 + i),
        start_date=TODAY - dt.timedelta(days=400),
    )


def test_exception_lists_are_capped_and_say_how_many_more(plan):
    extra = pack_reads.PACK_LIST_LENGTH + 5
    overdue_bulk(plan, extra)
    content = content_of(plan)
    assert content["exception_counts"]["overdue"] == extra + 1
    assert content["summary"]["overdue"] == extra + 1
    # The most overdue first, as the action list filtered to them shows them.
    most_overdue = Action.objects.filter(authority=plan.home, due_date__lt=TODAY).order_by(
        "due_date", "pk"
    )
    expected = list(most_overdue.values_list("pk", flat=True)[: pack_reads.PACK_LIST_LENGTH])
    assert content["exceptions"]["overdue"] == expected
    # Only the actions the pack lists are in it, not the whole plan.
    listed = {a["id"] for a in content["actions"]}
    assert set(expected) <= listed
    assert len(listed) < Action.objects.filter(authority=plan.home).count()
    [group] = [
        g for g in pack_reads.pack_view(content)["exception_groups"] if g["state"] == "overdue"
    ]
    assert group["count"] == extra + 1 and group["more"] == 6
    assert group["list_url"] == f"{url('action-list')}?authority={plan.home.pk}&overdue=1"
    # The document (frozen HTML, PDF) says how many more, without links into the site.
    html = pack_services.pack_html(content)
    assert "And 6 more." in html
    assert "see all" not in html


@freeze_time(NOW)
def test_the_draft_page_links_each_capped_list_to_the_action_list(client, plan):
    overdue_bulk(plan, pack_reads.PACK_LIST_LENGTH + 1)
    client.force_login(plan.leader)
    page = client.get(url("pack-draft", plan.home.pk), {"board_date": "10/12/2026"})
    html = page.content.decode()
    overdue = f"{url('action-list')}?authority={plan.home.pk}&amp;overdue=1"
    assert f'And 2 more: <a class="govuk-link" href="{overdue}">' in html
    area = f"{url('action-list')}?authority={plan.home.pk}&amp;area={plan.area.pk}"
    assert f'<a class="govuk-link" href="{area}">see all' in html


def test_areas_show_their_figures_and_first_actions_newest_inspection_first(plan):
    overdue_bulk(plan, pack_reads.AREA_ACTIONS_SHOWN)
    newer = InspectionFactory(
        authority=plan.home, title="Knowsley focused visit", start_date=dt.date(2026, 11, 2)
    )
    newer_areas = [
        ImprovementAreaFactory(inspection=newer, position=n, text=f"Area {n}")
        for n in range(1, pack_reads.PACK_AREAS_SHOWN + 2)
    ]
    content = content_of(plan)
    assert content["areas_count"] == len(newer_areas) + 1
    shown = content["areas"]
    assert [a["id"] for a in shown] == [a.pk for a in newer_areas[: pack_reads.PACK_AREAS_SHOWN]]
    # An area no action answers says so: a gap the board should see.
    assert shown[0]["count"] == 0 and shown[0]["actions"] == []
    view = pack_reads.pack_view(content)
    assert view["areas_more"] == 2
    html = pack_services.pack_html(content)
    assert "No action answers this area yet." in html
    assert f"{pack_reads.PACK_AREAS_SHOWN} areas of the latest inspections, of 32" in html


def test_a_plan_with_more_areas_than_are_counted_says_more_than(plan, monkeypatch):
    monkeypatch.setattr(pack_reads, "PACK_AREAS_SHOWN", 2)
    monkeypatch.setattr(pack_reads, "PACK_AREAS_COUNTED", 4)
    for n in range(2, 6):  # with the plan's own area, five
        ImprovementAreaFactory(inspection=plan.area.inspection, position=n, text=f"Area {n}")
    content = content_of(plan)
    assert content["areas_count"] == 4 and content["areas_count_capped"] is True
    assert len(content["areas"]) == 2
    html = pack_services.pack_html(content)
    assert "The 2 areas of the latest inspections, of more than 4: the others are not" in html
    # One fewer area is counted exactly.
    plan.area.inspection.improvement_areas.order_by("-position").first().delete()
    content = content_of(plan)
    assert content["areas_count"] == 4 and content["areas_count_capped"] is False
    html = pack_services.pack_html(content)
    assert "The 2 areas of the latest inspections, of 4: 2 more are not listed here." in html


def test_an_areas_figures_count_all_its_actions_and_list_the_first(plan):
    overdue_bulk(plan, pack_reads.AREA_ACTIONS_SHOWN)
    [area] = content_of(plan)["areas"]
    total = pack_reads.AREA_ACTIONS_SHOWN + 3
    assert area["count"] == total and area["open"] == total
    assert area["red"] == 1 and area["overdue"] == pack_reads.AREA_ACTIONS_SHOWN + 1
    first = Action.objects.filter(improvement_areas=plan.area).order_by("due_date", "pk")
    assert area["actions"] == list(
        first.values_list("pk", flat=True)[: pack_reads.AREA_ACTIONS_SHOWN]
    )
    html = pack_services.pack_html(content_of(plan))
    assert (
        f"{total} actions: {total} open, 1 red, {pack_reads.AREA_ACTIONS_SHOWN + 1} overdue."
        in html
    )
    assert "And 3 more, by due date." in html


def test_changes_since_count_every_change_and_list_the_first(plan):
    with freeze_time(NOW):
        frozen = pack_services.board_pack_freeze(
            authority=plan.home, board_date=BOARD, by=plan.leader, now=NOW
        )
    # The next pack compares against one line per action, not a copy of each row.
    lines = frozen.content["snapshot"].splitlines()
    assert sorted(int(line.split()[0]) for line in lines) == sorted(
        [plan.overdue.pk, plan.red.pk, plan.delivered.pk]
    )
    later = NOW + dt.timedelta(days=20)
    with freeze_time(later):
        new = bulk_actions(pack_reads.PACK_LIST_LENGTH + 3, area=plan.area, owner=plan.owner)
        content = content_of(plan, board=NEXT_BOARD, today=later.date(), now=later)
    changes = content["changes"]
    assert changes["counts"]["new"] == pack_reads.PACK_LIST_LENGTH + 3
    assert len(changes["new"]) == pack_reads.PACK_LIST_LENGTH
    assert set(changes["new"]) <= {a.pk for a in new}
    html = pack_services.pack_html(content)
    assert f"{pack_reads.PACK_LIST_LENGTH + 3} changes." in html
    assert "there are also 3 more new actions." in html


def frozen_earlier(plan, content: dict) -> BoardPack:
    """A pack frozen for BOARD by an earlier version, holding `content` as that version wrote it
    (saved as it stands, not through the freezing service)."""
    return BoardPack.objects.create(
        authority=plan.home,
        board_date=BOARD,
        frozen_at=NOW,
        frozen_by=plan.leader,
        content=content,
        html="<p>Frozen earlier.</p>",
        sha256="0" * 64,
    )


def test_a_pack_frozen_before_lists_were_capped_still_shows_and_compares(plan):
    """Packs frozen earlier hold every action in full and no snapshot: they still render
    (capped alike) and the next pack still compares against them."""
    overdue_bulk(plan, pack_reads.PACK_LIST_LENGTH + 2)
    content = content_of(plan)
    every = Action.objects.filter(authority=plan.home).values_list("pk", flat=True)
    content["actions"] = pack_reads._action_rows(set(every), today=TODAY, now=NOW)
    content["exceptions"] = {
        state: [a["id"] for a in content["actions"] if state in a["states"]]
        for state, _ in pack_reads.EXCEPTIONS
    }
    for key in ("exception_counts", "areas_count", "snapshot"):
        content.pop(key, None)
    for area in content["areas"]:
        area["actions"] = list(every)
        for key in ("count", "open", "red", "overdue"):
            area.pop(key)
    old = frozen_earlier(plan, content)
    view = pack_reads.pack_view(old.content)
    [overdue] = [g for g in view["exception_groups"] if g["state"] == "overdue"]
    assert overdue["count"] == pack_reads.PACK_LIST_LENGTH + 3
    assert len(overdue["rows"]) == pack_reads.PACK_LIST_LENGTH
    [area] = view["areas"]
    assert area["count"] == len(every) and len(area["rows"]) == pack_reads.AREA_ACTIONS_SHOWN
    html = pack_services.pack_html(old.content)
    assert "And 3 more." in html and "And 10 more, by due date." in html
    later = NOW + dt.timedelta(days=20)
    with freeze_time(later):
        plan.red.refresh_from_db()
        services.action_record_progress(
            action=plan.red,
            by=plan.owner,
            expected_version=plan.red.version,
            text="Recruited.",
            rag=Action.Rag.GREEN,
        )
        changes = content_of(plan, board=NEXT_BOARD, today=later.date(), now=later)["changes"]
    assert changes["since"] == BOARD.isoformat()
    assert changes["new"] == [] and changes["redated"] == []
    assert changes["rag_moved"] == [{"id": plan.red.pk, "from": "red", "to": "green"}]


def more_measures(plan) -> dict[str, object]:
    """Beside the plan's "Care leavers in touch" (improving, short of target): one past its target,
    one worse than its baseline and one with no value yet (higher is better, 70 to 90)."""
    made = {}
    for name, latest in (("Target met", 95), ("Worse than baseline", 60), ("No value yet", None)):
        made[name] = MeasureFactory(
            authority=plan.home,
            name=name,
            baseline_value=Decimal("70"),
            target_value=Decimal("90"),
        )
        if latest is not None:
            MeasureValueFactory(
                measure=made[name], recorded_on=TODAY - dt.timedelta(days=2), value=latest
            )
    return made


def test_a_plan_with_many_measures_lists_those_furthest_from_target(plan, monkeypatch):
    from improvement.selectors import dashboard as dashboard_reads

    more_measures(plan)
    monkeypatch.setattr(pack_reads, "PACK_MEASURES_SHOWN", 2)
    content = content_of(plan)
    assert content["measures_count"] == 4
    names = [m["name"] for m in content["measures"]]
    assert names == ["Worse than baseline", "Care leavers in touch"]
    # The dashboard's rule, not one of the pack's own.
    on_dashboard, total = dashboard_reads.dashboard_measures_needing_attention(
        authority=plan.home, limit=2
    )
    assert [p.measure.name for p in on_dashboard] == names and total == 4
    view = pack_reads.pack_view(content)
    assert view["measures_more"] == 2
    html = pack_services.pack_html(content)
    assert "The 2 of 4 measures furthest from target are shown" in html
    assert "Target met" not in html and "See all" not in html
    # Every measure fits: all of them, by name.
    monkeypatch.setattr(pack_reads, "PACK_MEASURES_SHOWN", 4)
    content = content_of(plan)
    every = sorted([*names, "No value yet", "Target met"])
    assert [m["name"] for m in content["measures"]] == every
    assert "measures furthest from target" not in pack_services.pack_html(content)


@freeze_time(NOW)
def test_the_draft_page_links_a_capped_measures_table_to_the_dashboard(client, plan, monkeypatch):
    more_measures(plan)
    monkeypatch.setattr(pack_reads, "PACK_MEASURES_SHOWN", 2)
    client.force_login(plan.leader)
    page = client.get(url("pack-draft", plan.home.pk), {"board_date": "10/12/2026"})
    href = f"{url('dashboard-authority', plan.home.pk)}?measures=all#outcomes"
    assert f'<a class="govuk-link" href="{href}">See all 4 measures on the dashboard</a>' in (
        page.content.decode()
    )


def test_a_measure_the_pack_does_not_list_is_still_compared_with_the_next(plan, monkeypatch):
    made = more_measures(plan)
    monkeypatch.setattr(pack_reads, "PACK_MEASURES_SHOWN", 1)
    with freeze_time(NOW):
        frozen = pack_services.board_pack_freeze(
            authority=plan.home, board_date=BOARD, by=plan.leader, now=NOW
        )
    assert [m["name"] for m in frozen.content["measures"]] == ["Worse than baseline"]
    # Every measure's latest value, one line each, for the next pack to compare with.
    assert sorted(frozen.content["measure_snapshot"].splitlines()) == sorted(
        [
            f"{plan.measure.pk} 81",
            f"{made['Target met'].pk} 95",
            f"{made['Worse than baseline'].pk} 60",
            f"{made['No value yet'].pk} ",
        ]
    )
    later = NOW + dt.timedelta(days=20)
    with freeze_time(later):
        for measure, value in ((made["Target met"], "91"), (made["No value yet"], "72")):
            services.measure_record_value(
                measure=measure, recorded_on=later.date(), value=Decimal(value), by=plan.leader
            )
        content = content_of(plan, board=NEXT_BOARD, today=later.date(), now=later)
    changes = content["changes"]
    assert changes["measure_moved"] == [
        moved(made["No value yet"].pk, "No value yet", None, "72", "none"),
        moved(made["Target met"].pk, "Target met", "95", "91", "worsening"),
    ]
    html = pack_services.pack_html(content)
    assert 'Measure moved</td><td class="govuk-table__cell">Target met</td>' in html


def test_a_pack_frozen_before_measures_were_capped_still_names_and_compares(plan):
    """Packs frozen earlier hold every measure in full, no measure snapshot, and moved measures
    without their names."""
    more_measures(plan)
    content = content_of(plan)
    content.pop("measures_count")
    content["changes"] = {
        "since": "2026-11-01",
        **{kind: [] for kind in ("new", "closed", "redated", "rag_moved")},
        "measure_moved": [{"id": plan.measure.pk, "from": "75", "to": "81", "trend": "improving"}],
    }
    old = frozen_earlier(plan, content)
    view = pack_reads.pack_view(old.content)
    [named] = view["changes"]["measure_moved"]
    assert named["name"] == "Care leavers in touch"
    assert view["measures_count"] == 4 and view["measures_more"] == 0
    later = NOW + dt.timedelta(days=20)
    with freeze_time(later):
        services.measure_record_value(
            measure=plan.measure, recorded_on=later.date(), value=Decimal("84"), by=plan.leader
        )
        changes = content_of(plan, board=NEXT_BOARD, today=later.date(), now=later)["changes"]
    assert changes["measure_moved"] == [
        moved(plan.measure.pk, "Care leavers in touch", "81", "84", "improving")
    ]


def test_the_draft_counts_from_the_dashboards_figures_and_a_frozen_pack_live(plan, monkeypatch):
    from improvement.selectors import dashboard as dashboard_reads

    # A large plan's figures are counted again on a timer only (the dashboard's rule).
    monkeypatch.setattr(dashboard_reads, "LARGE_PLAN_ACTIONS", 1)
    counted_at = NOW - dt.timedelta(minutes=2)
    content_of(plan, now=counted_at)
    ActionFactory(authority=plan.home, owner=plan.owner, improvement_areas=[plan.area])
    draft = content_of(plan)
    assert draft["summary"]["total"] == 3
    assert draft["summary"]["counted_at"] == counted_at.isoformat()
    html = pack_services.pack_html(draft)
    assert "The figures were counted at 09:58 on 1 December 2026: changes made since" in html
    frozen = pack_services.board_pack_freeze(
        authority=plan.home, board_date=BOARD, by=plan.leader, now=NOW
    )
    assert frozen.content["summary"]["total"] == 4
    assert frozen.content["summary"]["counted_at"] == NOW.isoformat()


def test_the_packs_rows_escape_what_people_typed(plan):
    """The action and measure rows are written in Python (pack_tags), not by the template's
    autoescaping: every typed value is escaped there too."""
    typed = """<script>alert("x")</script> & 'co'"""
    escaped = "&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt; &amp; &#x27;co&#x27;"
    Action.objects.filter(pk=plan.overdue.pk).update(title=typed, reference="<b>1.1</b>")
    plan.owner.first_name = typed
    plan.owner.save()
    plan.measure.name = typed
    plan.measure.save()
    html = pack_services.pack_html(content_of(plan))
    assert "<script>" not in html and "<b>" not in html
    # In the overdue exception's row and in its area's.
    row = (
        f'<td class="govuk-table__cell">&lt;b&gt;1.1&lt;/b&gt; {escaped}</td>'
        f'<td class="govuk-table__cell">{escaped} Owner</td>'
    )
    assert html.count(row) == 2
    assert f'<td class="govuk-table__cell">{escaped} <span class="pack-secondary">' in html


def test_a_sent_back_action_is_an_exception(plan):
    sent_back = ActionFactory(
        authority=plan.home,
        owner=plan.owner,
        improvement_areas=[plan.area],
        sent_back_at=NOW - dt.timedelta(days=1),
    )
    content = content_of(plan)
    assert content["exception_counts"]["sent_back"] == 1
    assert content["exceptions"]["sent_back"] == [sent_back.pk]
    assert content["exceptions"]["off_track"] == [plan.red.pk]
    assert content["exception_counts"]["off_track"] == 1


@postgres_only
def test_the_sent_back_actions_are_read_on_their_partial_index(plan):
    # Needs the index scale_action_sent_back (to be added by migration).
    bulk_actions(300, area=plan.area, owner=plan.owner)
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE improvement_action")
        cursor.execute("SET LOCAL enable_seqscan = off")
    sent_back = pack_reads.exception_querysets(plan.home, today=TODAY, now=NOW)["sent_back"]
    assert "scale_action_sent_back" in sent_back.values("pk")[:10].explain()
    assert "scale_action_sent_back" in sent_back.order_by().explain()


@postgres_only
def test_the_actions_written_since_the_last_pack_are_read_on_a_covering_index(plan):
    # Needs the index scale_action_auth_updated_cover (to be added by migration).
    bulk_actions(300, area=plan.area, owner=plan.owner)
    since = dt.datetime.now(dt.UTC)
    bulk_actions(3, area=plan.area, owner=plan.owner)
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE improvement_action")
        cursor.execute("SET LOCAL enable_seqscan = off")
    written = pack_reads.actions_written_since(plan.home, since)
    assert len(written) == 3
    assert "scale_action_auth_updated_cover" in written.explain()


def test_the_snapshot_finds_the_actions_written_since_however_many_they_are():
    # Ids of every width, in order, with gaps, and every RAG, as a frozen pack keeps them; and a
    # run of consecutive ids on lines of the longest kind, where an action is looked for no
    # further than its line could be (a line of 6 digits, a date, "amber" and a flag).
    rags = list(Action.Rag.values)
    dense = range(200000, 200100)
    pks = [2, 7, 31, 98, *range(1000, 3000, 3), 45678, 123456, *dense]

    def rag(pk):
        return "amber" if pk in dense else rags[pk % len(rags)]

    snapshot = "\n".join(f"{pk} 2027-01-{pk % 28 + 1:02d} {rag(pk)} {pk % 2}" for pk in pks)
    recorded = {pk: (f"2027-01-{pk % 28 + 1:02d}", rag(pk), pk % 2 == 1) for pk in pks}
    # Ids the snapshot lacks (new since) before, between and after its own, alone and among many.
    absent = [1, 3, 99, 1001, 2999, 3000, 45677, 45679, 123455, 199999, 200100, 999999]
    for asked in (
        [2],
        [200099],
        [dense[0], dense[-1]],
        absent,
        [1, 2, 1003, 1004, 123456, 999999],
        pks,
        [*pks, *absent],
        pks[::7] + absent[::2],
    ):
        found = pack_reads._recorded(snapshot, None, asked)
        assert {pk: found.get(pk) for pk in asked} == {pk: recorded.get(pk) for pk in asked}
    assert pack_reads._recorded("", None, [1, 2]) == {}


def test_the_draft_asks_as_many_queries_whether_or_not_anything_changed(client, plan):
    # Frozen after every write so far: nothing is new since.
    frozen_at = dt.datetime.now(dt.UTC) + dt.timedelta(days=1)
    pack_services.board_pack_freeze(
        authority=plan.home, board_date=BOARD, by=plan.leader, now=frozen_at
    )
    with freeze_time(frozen_at + dt.timedelta(hours=1)):
        unchanged = draft_queries(client, plan, board_date="14/01/2027")
        content = content_of(plan, board=NEXT_BOARD, now=frozen_at + dt.timedelta(hours=1))
    assert content["changes"]["counts"]["new"] == 0
    with freeze_time(frozen_at + dt.timedelta(hours=2)):
        new = ActionFactory(authority=plan.home, owner=plan.owner, improvement_areas=[plan.area])
        changed = draft_queries(client, plan, board_date="14/01/2027")
        content = content_of(plan, board=NEXT_BOARD, now=frozen_at + dt.timedelta(hours=2))
    assert content["changes"]["new"] == [new.pk]
    assert unchanged == changed


def test_frozen_pack_pages_queries_do_not_grow_and_link_nowhere(client, plan):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    client.force_login(plan.leader)

    def grow(size, board):
        overdue_bulk(plan, size)
        pack = pack_services.board_pack_freeze(
            authority=plan.home, board_date=board, by=plan.leader, now=NOW
        )
        with CaptureQueriesContext(connection) as queries:
            page = client.get(pack.get_absolute_url())
        html = page.content.decode()
        assert "And " in html and "see all" not in html
        return len(queries)

    assert grow(pack_reads.PACK_LIST_LENGTH + 1, BOARD) == grow(60, NEXT_BOARD)
