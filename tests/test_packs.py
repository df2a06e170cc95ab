"""The board pack: its content, "changes since" the last frozen pack, freezing, the PDF, pages."""

from __future__ import annotations

import datetime as dt
import io
import types
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.db import DatabaseError, transaction
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
        {"id": plan.measure.pk, "from": "81", "to": "84", "trend": "improving"}
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


@freeze_time(NOW)
@pytest.mark.parametrize("size", [10, 60])
def test_draft_page_queries_do_not_grow_with_the_plan(
    client, plan, size, django_assert_num_queries
):
    bulk_actions(size, area=plan.area, owner=plan.owner)
    client.force_login(plan.leader)
    with django_assert_num_queries(18):
        page = client.get(url("pack-draft", plan.home.pk), {"board_date": "10/12/2026"})
    assert page.status_code == 200


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
