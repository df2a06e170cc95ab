"""Spreadsheet import of an action plan: good, bad and repeated files, all or nothing."""

from __future__ import annotations

import csv
import datetime as dt
import io

import pytest
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from freezegun import freeze_time
from openpyxl import Workbook

from improvement import exports
from improvement.models import Action, PlanImport, ProgressNote
from improvement.services import plan_import as plan_import_services
from tests.factories import (
    TODAY,
    AuthorityFactory,
    ImprovementAreaFactory,
    InspectionFactory,
    LeaderFactory,
    OwnerFactory,
    TeamFactory,
    UserFactory,
)

pytestmark = pytest.mark.django_db

NOW = dt.datetime(2026, 12, 1, 10, 0, tzinfo=dt.UTC)
HEADINGS = exports.HEADINGS


@pytest.fixture
def plan(db):
    home = AuthorityFactory(name="Knowsley", ons_code="E08000011")
    inspection = InspectionFactory(authority=home, title="Knowsley ILACS")
    ImprovementAreaFactory(inspection=inspection, position=1, text="Help for care leavers.")
    ImprovementAreaFactory(
        inspection=inspection, position=2, text="Management oversight of child protection plans."
    )
    leader = LeaderFactory(username="leader", authority=home)
    OwnerFactory(username="sam", authority=home, email="Sam@Knowsley.example")
    TeamFactory(authority=home, name="Leaving care team")
    away = AuthorityFactory(name="Sefton", ons_code="E08000014")
    OwnerFactory(username="outsider", authority=away, email="out@sefton.example")
    return {"home": home, "inspection": inspection, "leader": leader, "away": away}


def row(**cells) -> dict:
    base = {
        "Reference": "1.1",
        "Improvement area": "1",
        "Action": "Audit pathway plans",
        "Owner email": "sam@knowsley.example",
        "Team or partner": "Leaving care team",
        "Start date": "01/09/2026",
        "Current due date": "31/03/2027",
        "Delivery status": "In progress",
        "Impact": "Not yet assessed",
        "RAG": "Amber",
        "Latest note": "Half the plans audited.",
        "Success measure": "Every care leaver has a current pathway plan.",
    }
    base.update(cells)
    return base


def csv_bytes(rows: list[dict]) -> bytes:
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=HEADINGS, extrasaction="ignore")
    writer.writeheader()
    writer.writerows(rows)
    return out.getvalue().encode("utf-8-sig")


def xlsx_bytes(rows: list[dict]) -> bytes:
    workbook = Workbook()
    sheet = workbook.active
    sheet.append(HEADINGS)
    for r in rows:
        sheet.append([r.get(h, "") for h in HEADINGS])
    out = io.BytesIO()
    workbook.save(out)
    return out.getvalue()


def preview(plan, data: bytes, name="plan.csv"):
    return plan_import_services.plan_import_preview(
        inspection=plan["inspection"], filename=name, data=data, by=plan["leader"], now=NOW
    )


def confirm(plan, plan_import):
    return plan_import_services.plan_import_confirm(
        plan_import=plan_import, by=plan["leader"], now=NOW
    )


GOOD = [
    row(),
    row(
        **{
            "Reference": "2.1",
            "Improvement area": "Management oversight of child protection plans.",
            "Action": "Supervision audit",
            "Team or partner": "",
            "Start date": "",
            "Delivery status": "Not started",
            "RAG": "Green",
            "Latest note": "",
        }
    ),
]


@pytest.mark.parametrize("build", [csv_bytes, xlsx_bytes], ids=["csv", "xlsx"])
def test_a_good_file_imports_every_action(plan, build):
    plan_import = preview(plan, build(GOOD))
    assert [r["errors"] for r in plan_import.rows] == [[], []]
    assert not Action.objects.exists()  # the preview writes nothing but its record
    done = confirm(plan, plan_import)
    assert done.status == PlanImport.Status.IMPORTED
    assert (done.created_count, done.skipped_count) == (2, 0)
    first, second = Action.objects.order_by("reference")
    assert first.title == "Audit pathway plans"
    assert first.owner.username == "sam"
    assert first.team.name == "Leaving care team"
    assert first.due_date == dt.date(2027, 3, 31)
    assert first.delivery_status == Action.DeliveryStatus.IN_PROGRESS
    assert first.rag == Action.Rag.AMBER
    assert ProgressNote.objects.get(action=first).text == "Half the plans audited."
    assert [a.position for a in second.improvement_areas.all()] == [2]
    assert second.start_date == second.due_date  # no start date: the due date stands in


def test_the_same_file_twice_creates_nothing_new(plan):
    data = csv_bytes(GOOD)
    confirm(plan, preview(plan, data))
    again = preview(plan, data)
    assert all(r["exists"] for r in again.rows)
    with pytest.raises(ValidationError, match="already imported"):
        confirm(plan, again)
    assert Action.objects.count() == 2


def test_a_re_export_of_the_plan_creates_nothing_new(plan, client):
    confirm(plan, preview(plan, csv_bytes(GOOD)))
    client.force_login(plan["leader"])
    with freeze_time(TODAY):
        exported = b"".join(client.get(reverse("improvement:action-export-csv")).streaming_content)
    again = preview(plan, exported, name="export.csv")
    assert [r["errors"] for r in again.rows] == [[], []]
    assert all(r["exists"] for r in again.rows)
    done = confirm(plan, again)
    assert (done.created_count, done.skipped_count) == (0, 2)
    assert Action.objects.count() == 2


def test_row_errors_are_listed_and_nothing_is_imported(plan):
    bad = [
        row(),
        row(**{"Reference": "9", "Improvement area": "7", "Owner email": "out@sefton.example"}),
        row(**{"Reference": "10", "Current due date": "soon", "RAG": "Purple"}),
        row(**{"Reference": "11", "Action": "", "Team or partner": "Nobody's team"}),
        row(**{"Reference": "12", "Impact": "Impact evidenced", "RAG": "Blue (closed)"}),
    ]
    plan_import = preview(plan, csv_bytes(bad))
    errors = {r["row"]: " ".join(r["errors"]) for r in plan_import.rows}
    assert errors[2] == ""
    assert "No improvement area of this inspection matches" in errors[3]
    assert "Nobody who works on this plan has the email out@sefton.example" in errors[3]
    assert "current due date as a date" in errors[4] and "RAG “Purple”" in errors[4]
    assert "Enter the action." in errors[5] and "no team or partner called" in errors[5]
    assert "A closed action is not imported" in errors[6]
    with pytest.raises(ValidationError, match="4 rows have errors; nothing was imported"):
        confirm(plan, plan_import)
    assert not Action.objects.exists()


def test_formula_cells_are_read_as_text(plan):
    workbook = Workbook()
    sheet = workbook.active
    sheet.append(HEADINGS)
    values = row(**{"Action": '=HYPERLINK("http://evil.example")'})
    sheet.append([values.get(h, "") for h in HEADINGS])
    out = io.BytesIO()
    workbook.save(out)
    plan_import = preview(plan, out.getvalue(), name="plan.xlsx")
    assert plan_import.rows[0]["title"] == '=HYPERLINK("http://evil.example")'
    # Our own export's apostrophe is taken off again.
    plan_import = preview(plan, csv_bytes([row(**{"Action": "'=1+1"})]))
    assert plan_import.rows[0]["title"] == "=1+1"


def test_unreadable_files_are_refused_clearly(plan):
    with pytest.raises(plan_import_services.PlanFileError, match="missing: Improvement area"):
        preview(plan, b"Title,Owner\nx,y\n")
    with pytest.raises(plan_import_services.PlanFileError, match="not a readable XLSX"):
        preview(plan, b"PK\x03\x04 broken zip", name="plan.xlsx")
    with pytest.raises(plan_import_services.PlanFileError, match="empty"):
        preview(plan, b"")
    assert not PlanImport.objects.exists()


def test_upload_preview_and_confirm_pages(client, plan):
    client.force_login(plan["leader"])
    upload = SimpleUploadedFile("plan.csv", csv_bytes(GOOD), content_type="text/csv")
    response = client.post(
        reverse("improvement:plan-import"), {"inspection": plan["inspection"].pk, "file": upload}
    )
    plan_import = PlanImport.objects.get()
    assert response.status_code == 302
    page = client.get(response["Location"]).content.decode()
    assert "2 new actions will be created" in page
    done = client.post(response["Location"])
    assert done.status_code == 302
    assert Action.objects.count() == 2
    plan_import.refresh_from_db()
    assert plan_import.status == PlanImport.Status.IMPORTED


def test_only_leaders_in_scope_import(client, plan):
    owner = OwnerFactory(username="plain_owner", authority=plan["home"])
    client.force_login(owner)
    assert client.get(reverse("improvement:plan-import")).status_code == 403
    plan_import = preview(plan, csv_bytes(GOOD))
    assert (
        client.post(reverse("improvement:plan-import-preview", args=[plan_import.pk])).status_code
        == 403
    )
    stranger = LeaderFactory(username="stranger", authority=plan["away"])
    client.force_login(stranger)
    assert (
        client.get(reverse("improvement:plan-import-preview", args=[plan_import.pk])).status_code
        == 404
    )
    # The inspection list offers only the leader's own authority's inspections.
    page = client.get(reverse("improvement:plan-import")).content.decode()
    assert "Knowsley ILACS" not in page
    nobody = UserFactory(username="nobody", authority=plan["home"])
    client.force_login(nobody)
    assert client.get(reverse("improvement:plan-import")).status_code == 403
    assert not Action.objects.exists()


@pytest.mark.parametrize("size", [5, 50])
def test_preview_queries_do_not_grow_with_the_file(plan, size, django_assert_num_queries):
    rows = [row(**{"Reference": f"R{i}", "Action": f"Action {i}"}) for i in range(size)]
    with django_assert_num_queries(7):
        preview(plan, csv_bytes(rows))
