"""The import preview corrects everything it read before confirming, within the user's reach."""

from __future__ import annotations

import datetime as dt

import pytest
from django.contrib.auth.models import Group
from django.urls import reverse

from improvement import roles
from improvement.importer.service import text_sha256
from improvement.models import Authority, Inspection
from tests.factories import UserFactory
from tests.importer.import_support import load_authority_list, sample_path

UPLOAD = reverse("improvement:report-import")
SHA = text_sha256(sample_path("knowsley.txt").read_text(encoding="utf-8"))
PREVIEW = reverse("improvement:report-import-preview", kwargs={"sha256": SHA})


@pytest.fixture
def authorities(db):
    load_authority_list()


@pytest.fixture
def admin_client(client, administrator, authorities):
    client.force_login(administrator)
    return client


def _upload(client):
    from django.core.files.uploadedfile import SimpleUploadedFile

    file = SimpleUploadedFile("knowsley.txt", sample_path("knowsley.txt").read_bytes())
    assert client.post(UPLOAD, {"file": file, "text": ""})["Location"] == PREVIEW


def _post_data(context, authority) -> dict[str, str]:
    """What the browser would post back untouched: every correction as read."""
    corrections = context["corrections"]
    data = {"authority": str(authority.pk), "kind": "ilacs_standard"}
    details = corrections.details
    for name in details.fields:
        value = details.initial.get(name, "")
        if isinstance(value, list):
            for i, part in enumerate(value):
                data[f"details-{name}_{i}"] = str(part)
        else:
            data[f"details-{name}"] = value
    for formset in (corrections.judgements, corrections.areas):
        management = formset.management_form
        for name in ("TOTAL_FORMS", "INITIAL_FORMS", "MIN_NUM_FORMS", "MAX_NUM_FORMS"):
            data[f"{formset.prefix}-{name}"] = str(management.initial[name])
        for form in formset.forms:
            for name in form.fields:
                value = form.initial.get(name, "")
                if name in ("DELETE", "is_priority_action"):
                    if value:
                        data[f"{form.prefix}-{name}"] = "on"
                else:
                    data[f"{form.prefix}-{name}"] = value or ""
    return data


def test_the_preview_offers_every_reading_for_correction(admin_client):
    _upload(admin_client)
    html = admin_client.get(PREVIEW).content.decode()
    assert "Correct what was read" in html
    assert 'name="details-publication_date_0"' in html
    assert 'name="judgements-0-area"' in html and 'name="judgements-0-DELETE"' in html
    assert 'name="areas-0-text"' in html and "Add an improvement area" in html
    assert "Paula Thomson-Jones" in html


def test_every_correction_is_what_gets_imported(admin_client):
    _upload(admin_client)
    response = admin_client.get(PREVIEW)
    knowsley = Authority.objects.get(ons_code="E08000011")
    data = _post_data(response.context, knowsley)
    assert data["judgements-TOTAL_FORMS"] == "4"  # three read, one blank to add
    data.update(
        {
            "details-publication_date_0": "3",
            "details-publication_date_1": "12",
            "details-publication_date_2": "2021",
            "details-lead_inspectors": "Paula Thomson-Jones\n  Second   Inspector ",
            "details-overall": "Inadequate",
            "judgements-0-grade": "Good",
            "judgements-1-DELETE": "on",
            "judgements-3-area": "A judgement the parser missed",
            "judgements-3-grade": "Outstanding",
            "areas-0-text": "Corrected wording of the first area.",
            "areas-0-framework_tag": "Outcome 4",
            "areas-1-DELETE": "on",
        }
    )
    last = int(data["areas-TOTAL_FORMS"]) - 1
    data.update(
        {
            f"areas-{last}-text": "A priority action added by hand.",
            f"areas-{last}-is_priority_action": "on",
            f"areas-{last}-responsible_body": "Knowsley Council",
        }
    )
    response = admin_client.post(PREVIEW, data)
    inspection = Inspection.objects.get()
    assert response["Location"] == inspection.get_absolute_url()
    assert inspection.publication_date == dt.date(2021, 12, 3)
    assert inspection.lead_inspectors == ["Paula Thomson-Jones", "Second Inspector"]
    judgements = {j.area: j.grade for j in inspection.judgements.all()}
    assert judgements["Overall effectiveness"] == "inadequate"
    assert judgements["A judgement the parser missed"] == "outstanding"
    assert len(judgements) == 4  # 3 read - 1 removed + 1 added + overall
    first = next(iter(judgements))
    assert judgements[first] == "good"
    areas = list(inspection.improvement_areas.order_by("position"))
    assert areas[0].is_priority_action and areas[0].responsible_body == "Knowsley Council"
    assert areas[1].text == "Corrected wording of the first area."
    assert areas[1].framework_tag == "Outcome 4"
    assert len(areas) == 5  # 5 read - 1 removed + 1 added
    # The clock starts: the publication date was asked for and given.
    page = admin_client.get(inspection.get_absolute_url()).content.decode()
    assert "16 March 2022" in page


def test_bad_corrections_are_shown_and_nothing_is_written(admin_client):
    _upload(admin_client)
    knowsley = Authority.objects.get(ons_code="E08000011")
    data = _post_data(admin_client.get(PREVIEW).context, knowsley)
    data.update(
        {
            "details-end_date_0": "1",
            "details-end_date_1": "1",
            "details-end_date_2": "2020",
            "judgements-3-area": "Area without a grade",
            "areas-0-responsible_body": "Someone",
        }
    )
    response = admin_client.post(PREVIEW, data)
    assert response.status_code == 200
    html = response.content.decode()
    assert "<title>Error:" in html
    assert "The fieldwork end date must be on or after its start" in html
    assert "Choose the grade for this judgement" in html
    assert "Only an area for priority action has a responsible body" in html
    assert not Inspection.objects.exists()


def test_an_administrator_imports_only_within_their_reach(client, authorities):
    knowsley = Authority.objects.get(ons_code="E08000011")
    devon = Authority.objects.get(name="Devon")
    local_admin = UserFactory(authority=knowsley)
    local_admin.groups.add(Group.objects.get(name=roles.ADMINISTRATOR))
    client.force_login(local_admin)
    _upload(client)
    response = client.get(PREVIEW)
    choices = list(response.context["form"].fields["authority"].queryset)
    assert choices == [knowsley]
    response = client.post(PREVIEW, {"authority": devon.pk, "kind": "ilacs_standard"})
    assert response.status_code == 200
    assert "Choose an authority from the list." in response.content.decode()
    assert not Inspection.objects.exists()
    response = client.post(PREVIEW, {"authority": knowsley.pk, "kind": "ilacs_standard"})
    inspection = Inspection.objects.get()
    assert inspection.authority == knowsley
    # The result appears where they look for it: its page and their inspections list.
    assert client.get(response["Location"]).status_code == 200
    listed = client.get(reverse("improvement:inspection-list")).content.decode()
    assert inspection.get_absolute_url() in listed


def test_a_report_about_an_authority_out_of_reach_is_not_preselected(client, authorities):
    devon = Authority.objects.get(name="Devon")
    devon_admin = UserFactory(authority=devon)
    devon_admin.groups.add(Group.objects.get(name=roles.ADMINISTRATOR))
    client.force_login(devon_admin)
    _upload(client)
    form = client.get(PREVIEW).context["form"]
    assert form.initial["authority"] is None
