"""Exports of the action list: filters, scope, formula-like cells, both formats read back."""

from __future__ import annotations

import csv
import datetime as dt
import io
from decimal import Decimal

import pytest
from django.urls import reverse
from freezegun import freeze_time
from openpyxl import load_workbook

from improvement import exports
from improvement.models import Action
from tests.factories import (
    TODAY,
    ActionFactory,
    AuthorityFactory,
    ImprovementAreaFactory,
    LeaderFactory,
    MeasureFactory,
    MeasureValueFactory,
    OwnerFactory,
    ProgressNoteFactory,
    TeamFactory,
    bulk_actions,
)

pytestmark = pytest.mark.django_db

CSV_URL = reverse("improvement:action-export-csv")
XLSX_URL = reverse("improvement:action-export-xlsx")


def read_csv(response) -> list[dict]:
    body = b"".join(response.streaming_content).decode("utf-8")
    assert body.startswith("\ufeff")
    return list(csv.DictReader(io.StringIO(body[1:], newline="")))


def read_xlsx(response) -> list[dict]:
    workbook = load_workbook(io.BytesIO(b"".join(response.streaming_content)))
    rows = list(workbook.worksheets[0].iter_rows(values_only=True))
    headings = rows[0]
    return [dict(zip(headings, row, strict=True)) for row in rows[1:]]


@pytest.fixture
def plan(db):
    home = AuthorityFactory(name="Knowsley", ons_code="E08000011")
    away = AuthorityFactory(name="Sefton", ons_code="E08000014")
    area = ImprovementAreaFactory(
        inspection__authority=home, position=3, text="Help for care leavers."
    )
    away_area = ImprovementAreaFactory(inspection__authority=away, position=1)
    leader = LeaderFactory(username="leader", authority=home)
    owner = OwnerFactory(
        username="sam", first_name="Sam", last_name="Owner", email="sam@knowsley.example"
    )
    team = TeamFactory(authority=home, name="Leaving care team")
    red = ActionFactory(
        authority=home,
        owner=owner,
        team=team,
        reference="1.1",
        title='=HYPERLINK("http://evil.example","Click")',
        rag=Action.Rag.RED,
        improvement_areas=[area],
        due_date=TODAY - dt.timedelta(days=3),
        start_date=TODAY - dt.timedelta(days=90),
    )
    green = ActionFactory(
        authority=home,
        owner=owner,
        reference="1.2",
        title="Pathway plans reviewed",
        success_measure="+20% of plans up to date",
        improvement_areas=[area],
    )
    ProgressNoteFactory(
        action=green,
        text="@SUM(1+1) audit done",
        created_at=dt.datetime(2026, 11, 20, tzinfo=dt.UTC),
    )
    measure = MeasureFactory(authority=home, name="Plans up to date", baseline_value=Decimal("50"))
    measure.actions.add(green)
    MeasureValueFactory(measure=measure, recorded_on=TODAY, value=Decimal("61.5"))
    ActionFactory(
        authority=away, title="Sefton-only action", improvement_areas=[away_area], reference="9"
    )
    return {"leader": leader, "red": red, "green": green, "home": home}


def test_neutralise_every_formula_trigger():
    for trigger in ("=", "+", "-", "@", "\t", "\r"):
        assert exports.neutralise(f"{trigger}1+2") == f"'{trigger}1+2"
    assert exports.neutralise("Plain words") == "Plain words"
    assert exports.neutralise("") == ""


@freeze_time(TODAY)
def test_csv_has_the_columns_scope_and_neutralised_cells(client, plan):
    client.force_login(plan["leader"])
    response = client.get(CSV_URL)
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/csv")
    assert "attachment" in response["Content-Disposition"]
    rows = read_csv(response)
    assert [r["Reference"] for r in rows] == ["1.1", "1.2"]  # due date order, Sefton not there
    assert list(rows[0]) == exports.HEADINGS
    red, green = rows
    assert red["Action"] == '\'=HYPERLINK("http://evil.example","Click")'
    assert red["Improvement area"] == "3. Help for care leavers."
    assert red["Owner"] == "Sam Owner"
    assert red["Owner email"] == "sam@knowsley.example"
    assert red["Team or partner"] == "Leaving care team"
    assert red["RAG"] == "Red"
    assert red["Current due date"] == (TODAY - dt.timedelta(days=3)).isoformat()
    assert red["Delivery status"] == "Not started"
    assert green["Latest note"] == "'@SUM(1+1) audit done"
    assert green["Latest note date"] == "2026-11-20"
    assert green["Success measure"] == "'+20% of plans up to date"
    assert green["Latest measure value"] == "Plans up to date: 61.5 (01/12/2026)"


@freeze_time(TODAY)
def test_export_honours_the_list_filters(client, plan):
    client.force_login(plan["leader"])
    rows = read_csv(client.get(CSV_URL, {"overdue": "1"}))
    assert [r["Reference"] for r in rows] == ["1.1"]
    rows = read_csv(client.get(CSV_URL, {"rag": "green"}))
    assert [r["Reference"] for r in rows] == ["1.2"]
    rows = read_csv(client.get(CSV_URL, {"sort": "-due_date"}))
    assert [r["Reference"] for r in rows] == ["1.2", "1.1"]


@freeze_time(TODAY)
def test_xlsx_reads_back_with_dates_and_text_not_formulas(client, plan):
    client.force_login(plan["leader"])
    response = client.get(XLSX_URL)
    assert response.status_code == 200
    assert response["Content-Type"].startswith("application/vnd.openxmlformats")
    rows = read_xlsx(response)
    assert [r["Reference"] for r in rows] == ["1.1", "1.2"]
    assert rows[0]["Action"].startswith("'=HYPERLINK")
    assert rows[0]["Current due date"].date() == TODAY - dt.timedelta(days=3)
    assert rows[1]["Latest note"] == "'@SUM(1+1) audit done"
    # No cell of the workbook is a formula.
    workbook = load_workbook(io.BytesIO(b"".join(client.get(XLSX_URL).streaming_content)))
    types = {cell.data_type for row in workbook.worksheets[0].iter_rows() for cell in row}
    assert "f" not in types


def test_export_needs_a_role_and_a_login(client, plan):
    assert client.get(CSV_URL).status_code == 302
    from tests.factories import UserFactory

    client.force_login(UserFactory(username="nobody", authority=plan["home"]))
    assert client.get(CSV_URL).status_code == 403
    assert client.get(XLSX_URL).status_code == 403


@freeze_time(TODAY)
@pytest.mark.parametrize("size", [5, 40])
def test_export_queries_per_chunk_are_fixed(
    client, plan, size, django_assert_num_queries, monkeypatch
):
    area = ImprovementAreaFactory(inspection__authority=plan["home"], position=9)
    bulk_actions(size, area=area, owner=plan["leader"])
    client.force_login(plan["leader"])
    # Chunks of 10: session, and the user with their roles, for the request; 1 query for the
    # ordered ids, then 4 per chunk (rows, owners, areas, measures); the filter's option lists
    # are never rendered.
    chunks = -(-(size + 2) // 10)
    monkeypatch.setattr(exports, "CHUNK_SIZE", 10)
    with django_assert_num_queries(2 + 1 + 4 * chunks):
        rows = read_csv(client.get(CSV_URL))
    assert len(rows) == size + 2


@freeze_time(TODAY)
def test_chunks_keep_the_list_order_and_each_rows_own_cells(client, plan, monkeypatch):
    """Rows are read by id a chunk at a time: the sort still holds across chunks, and each row
    keeps its own owner, areas and measures."""
    area = ImprovementAreaFactory(inspection__authority=plan["home"], position=7, text="Voice.")
    other = OwnerFactory(username="kim", first_name="Kim", last_name="Other")
    bulk_actions(
        12,
        area=area,
        owner=other,
        due_date=lambda i: TODAY + dt.timedelta(days=(i * 7) % 12),
    )
    monkeypatch.setattr(exports, "CHUNK_SIZE", 5)
    client.force_login(plan["leader"])
    for sort in ("-due_date", "title", "owner"):
        rows = read_csv(client.get(CSV_URL, {"sort": sort}))
        listed = list(
            exports.Action.objects.filter(authority=plan["home"])
            .order_by(
                *{
                    "-due_date": ["-due_date", "-pk"],
                    "title": ["title", "pk"],
                    "owner": ["owner__last_name", "owner__first_name", "owner__username", "pk"],
                }[sort]
            )
            .values_list("reference", flat=True)
        )
        assert [r["Reference"] for r in rows] == listed
    by_reference = {r["Reference"]: r for r in rows}
    assert by_reference["1.2"]["Owner"] == "Sam Owner"
    assert by_reference["1.2"]["Latest measure value"] == "Plans up to date: 61.5 (01/12/2026)"
    bulk = [r for r in rows if r["Reference"].startswith("B.")]
    assert {r["Owner"] for r in bulk} == {"Kim Other"}
    assert {r["Improvement area"] for r in bulk} == {"7. Voice."}
    assert {r["Latest measure value"] for r in bulk} == {""}


def test_an_action_gone_between_the_ids_and_its_chunk_is_left_out(plan, monkeypatch):
    ids = exports._ordered_ids(Action.objects.filter(authority=plan["home"]).order_by("pk"))
    Action.objects.filter(pk=plan["red"].pk).delete()
    monkeypatch.setattr(exports, "_ordered_ids", lambda queryset: ids)
    rows = list(exports.export_rows(Action.objects.none()))
    assert [row[1] for row in rows] == ["1.2"]


def test_csv_goes_out_in_blocks_with_the_same_bytes():
    rows = [["Knowsley", f"1.{n}", "", f"Action {n}", *[""] * 13] for n in range(300)]
    one_a_row = list(exports.csv_stream(rows, block_size=1))
    blocks = list(exports.csv_stream(rows, block_size=4096))
    assert b"".join(blocks) == b"".join(one_a_row)
    assert len(one_a_row) == 2 + 300  # the byte-order mark, the headings, then each row
    assert 2 < len(blocks) < 20
    assert all(len(block) >= 4096 for block in blocks[2:-1])


def test_the_latest_note_is_dated_in_the_councils_time_zone(plan):
    # 23:30 UTC on 1 June is 00:30 on 2 June in London (summer time).
    ProgressNoteFactory(
        action=plan["red"],
        text="Late night",
        created_at=dt.datetime(2026, 6, 1, 23, 30, tzinfo=dt.UTC),
    )
    rows = {row[1]: row for row in exports.export_rows(Action.objects.filter(pk=plan["red"].pk))}
    assert dt.date(2026, 6, 2) in rows["1.1"]
    assert dt.date(2026, 6, 1) not in rows["1.1"]


@freeze_time(TODAY)
def test_xlsx_offers_csv_for_a_list_longer_than_it_holds(client, plan, monkeypatch):
    """Past XLSX_MAX_ROWS no workbook is written (it would outlast the web worker): a page says
    why and links to the same list as CSV and back to the list, with the same filters."""
    monkeypatch.setattr(exports, "XLSX_MAX_ROWS", 1)
    client.force_login(plan["leader"])
    response = client.get(XLSX_URL, {"rag": ""})
    assert response.status_code == 200
    assert not response.streaming
    page = response.content.decode()
    assert "This list is too long for an Excel download" in page
    assert "holds up to 1 actions" in page
    assert f'href="{CSV_URL}?rag="' in page
    assert f'href="{reverse("improvement:action-list")}?rag="' in page
    # One action fits: the workbook as usual.
    rows = read_xlsx(client.get(XLSX_URL, {"overdue": "1"}))
    assert [r["Reference"] for r in rows] == ["1.1"]


def test_the_list_says_how_many_actions_an_excel_download_holds(client, plan):
    client.force_login(plan["leader"])
    page = client.get(reverse("improvement:action-list")).content.decode()
    assert f"Excel (XLSX)</a> (up to {exports.XLSX_MAX_ROWS:,} actions)" in page
