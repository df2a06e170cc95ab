"""Post-inspection action plans recorded as sent: the service, the page, and the clock stopping."""

import datetime as dt

import pytest
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from freezegun import freeze_time

from improvement import roles, services
from improvement.models import Inspection, Judgement, PlanSubmission
from tests.factories import (
    AuthorityFactory,
    ImprovementAreaFactory,
    InspectionFactory,
    JudgementFactory,
    LeaderFactory,
    OwnerFactory,
    UserFactory,
)

pytestmark = pytest.mark.django_db

TODAY = dt.date(2026, 12, 1)


@pytest.fixture(autouse=True)
def _frozen_today():
    with freeze_time(dt.datetime(2026, 12, 1, 12, 0, tzinfo=dt.UTC)):
        yield


@pytest.fixture
def authority():
    return AuthorityFactory(name="Knowsley")


@pytest.fixture
def inspection(authority):
    """Knowsley's ILACS standard inspection of October 2021, published 3 December 2021."""
    return InspectionFactory(
        authority=authority,
        start_date=dt.date(2021, 10, 11),
        end_date=dt.date(2021, 10, 22),
        publication_date=dt.date(2021, 12, 3),
    )


@pytest.fixture
def local_leader(authority):
    return LeaderFactory(authority=authority)


def _record(inspection, user, **kwargs):
    defaults = {"stage": "final", "submitted_on": dt.date(2022, 3, 10), "today": TODAY}
    return services.plan_submission_record(inspection=inspection, by=user, **{**defaults, **kwargs})


def test_recording_the_final_plan_stops_the_clock_and_keeps_history(inspection, local_leader):
    submission = _record(inspection, local_leader, url="https://example.org/plan.pdf")
    assert submission.submitted_by == local_leader
    corrected = _record(inspection, local_leader, submitted_on=dt.date(2022, 3, 11), note="Fixed")
    assert corrected.pk == submission.pk
    assert PlanSubmission.objects.count() == 1
    assert [h.submitted_on for h in corrected.history.order_by("history_date")] == [
        dt.date(2022, 3, 10),
        dt.date(2022, 3, 11),
    ]


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"submitted_on": dt.date(2027, 1, 1)}, "today or in the past"),
        ({"submitted_on": dt.date(2021, 10, 1)}, "on or after the inspection began"),
        ({"stage": "bogus"}, "not a valid choice"),
    ],
)
def test_bad_dates_and_stages_are_refused_with_nothing_written(
    inspection, local_leader, kwargs, message
):
    with pytest.raises(ValidationError) as caught:
        _record(inspection, local_leader, **kwargs)
    assert message in str(caught.value)
    assert not PlanSubmission.objects.exists()


def test_draft_and_final_must_be_in_order(inspection, local_leader):
    _record(inspection, local_leader, stage="draft", submitted_on=dt.date(2022, 1, 4))
    with pytest.raises(ValidationError, match="before the draft"):
        _record(inspection, local_leader, submitted_on=dt.date(2022, 1, 3))
    _record(inspection, local_leader, submitted_on=dt.date(2022, 3, 10))
    with pytest.raises(ValidationError, match="after the final plan"):
        _record(inspection, local_leader, stage="draft", submitted_on=dt.date(2022, 3, 11))


def test_a_file_is_checked_and_hashed_and_not_both_file_and_link(inspection, local_leader):
    pdf = SimpleUploadedFile("plan.pdf", b"%PDF-1.4\n%\xe2\xe3\n1 0 obj<<>>endobj\n%%EOF\n")
    submission = _record(inspection, local_leader, upload=pdf)
    assert len(submission.sha256) == 64 and submission.content_type == "application/pdf"
    with pytest.raises(ValidationError, match="not both"):
        _record(
            inspection,
            local_leader,
            upload=SimpleUploadedFile("plan.pdf", b"%PDF-1.4\n"),
            url="https://example.org/plan.pdf",
        )
    with pytest.raises(ValidationError):
        _record(inspection, local_leader, upload=SimpleUploadedFile("plan.pdf", b"MZ\x90\x00"))


def _page(client, inspection):
    return client.get(reverse("improvement:inspection-detail", args=[inspection.pk]))


def test_the_inspection_page_shows_the_clock_stopped(client, inspection, local_leader):
    client.force_login(local_leader)
    html = _page(client, inspection).content.decode()
    assert "Overdue by" in html
    assert "Record an action plan as sent" in html
    _record(inspection, local_leader)
    html = _page(client, inspection).content.decode()
    assert "Overdue by" not in html
    assert "Submitted on 10 March 2022 (66 working days after publication)" in html


def test_a_kind_that_needs_no_plan_shows_no_clock(client, authority, local_leader):
    visit = InspectionFactory(authority=authority, kind=Inspection.Kind.FOCUSED_VISIT)
    ImprovementAreaFactory(inspection=visit)
    client.force_login(local_leader)
    html = _page(client, visit).content.decode()
    assert "No action plan is due for this inspection, so no clock runs." in html
    assert "Action-plan deadlines" not in html
    assert "Record an action plan as sent" not in html


def test_monitoring_is_shown_as_what_comes_next_after_inadequate(client, authority, local_leader):
    inadequate = InspectionFactory(
        authority=authority,
        start_date=dt.date(2024, 11, 18),
        end_date=dt.date(2024, 11, 29),
        publication_date=dt.date(2025, 1, 20),
    )
    JudgementFactory(
        inspection=inadequate, area="Overall", grade=Judgement.Grade.INADEQUATE, is_overall=True
    )
    InspectionFactory(
        authority=authority,
        kind=Inspection.Kind.MONITORING_VISIT,
        start_date=dt.date(2025, 9, 1),
        end_date=dt.date(2025, 9, 2),
        publication_date=None,
    )
    client.force_login(local_leader)
    html = _page(client, inadequate).content.decode()
    assert "What comes next: monitoring" in html
    assert "Monitoring visit 1, September 2025" in html
    assert "Next monitoring visit expected around December 2025 (not yet recorded)" in html


def test_the_form_records_a_plan_and_returns_to_the_clock(client, inspection, local_leader):
    client.force_login(local_leader)
    url = reverse("improvement:plan-submission", args=[inspection.pk])
    assert client.get(url).status_code == 200
    response = client.post(
        url,
        {
            "stage": "final",
            "submitted_on_0": "10",
            "submitted_on_1": "3",
            "submitted_on_2": "2022",
            "url": "https://example.org/knowsley-plan",
            "note": "Approved by cabinet",
        },
    )
    assert response.status_code == 302
    assert response["Location"].endswith("#clock")
    submission = PlanSubmission.objects.get()
    assert submission.url == "https://example.org/knowsley-plan"
    assert submission.note == "Approved by cabinet"


def test_the_form_shows_errors_and_writes_nothing(client, inspection, local_leader):
    client.force_login(local_leader)
    url = reverse("improvement:plan-submission", args=[inspection.pk])
    response = client.post(
        url,
        {"stage": "final", "submitted_on_0": "1", "submitted_on_1": "1", "submitted_on_2": "2030"},
    )
    assert response.status_code == 200
    assert "The date the plan was sent must be today or in the past." in response.content.decode()
    response = client.post(url, {"stage": "", "submitted_on_0": ""})
    html = response.content.decode()
    assert "Select whether the draft or the final plan was sent" in html
    assert "Enter the date the plan was sent" in html
    assert not PlanSubmission.objects.exists()


def test_only_leaders_and_administrators_of_the_authority_record_plans(
    client, authority, inspection
):
    url = reverse("improvement:plan-submission", args=[inspection.pk])
    owner = OwnerFactory(authority=authority)
    board = UserFactory(authority=authority, role=roles.BOARD_VIEWER)
    for user in (owner, board):
        client.force_login(user)
        assert client.get(url).status_code == 403
        assert "Record an action plan as sent" not in _page(client, inspection).content.decode()
    elsewhere = LeaderFactory(authority=AuthorityFactory(name="Devon", region="South West"))
    client.force_login(elsewhere)
    assert client.get(url).status_code == 404


def test_the_document_downloads_only_for_those_who_see_the_inspection(
    client, authority, inspection, local_leader
):
    pdf = SimpleUploadedFile("plan.pdf", b"%PDF-1.4\n%\xe2\xe3\n1 0 obj<<>>endobj\n%%EOF\n")
    submission = _record(inspection, local_leader, upload=pdf)
    url = reverse("improvement:plan-download", args=[submission.pk])
    client.force_login(OwnerFactory(authority=authority))
    response = client.get(url)
    assert response.status_code == 200
    assert b"".join(response.streaming_content).startswith(b"%PDF")
    client.force_login(LeaderFactory(authority=AuthorityFactory(name="Devon")))
    assert client.get(url).status_code == 404


@pytest.mark.parametrize("size", [1, 8])
def test_the_form_page_runs_a_fixed_number_of_queries(client, authority, local_leader, size):
    inspection = InspectionFactory(authority=authority)
    for position in range(1, size + 1):
        ImprovementAreaFactory(inspection=inspection, position=position)
    _record(inspection, local_leader, stage="final", submitted_on=inspection.publication_date)
    client.force_login(local_leader)
    url = reverse("improvement:plan-submission", args=[inspection.pk])
    client.get(url)
    with CaptureQueriesContext(connection) as queries:
        assert client.get(url).status_code == 200
    assert len(queries) == 5, [q["sql"] for q in queries.captured_queries]


def test_demo_dashboard_shows_no_false_overdue_plan(client):
    """Knowsley's plans were sent: no plan clock on the dashboard reads overdue."""
    from improvement.demo import load_demo
    from improvement.models import Authority, User

    load_demo(anchor=TODAY)
    load_demo(anchor=TODAY)  # idempotent: still one record per plan
    assert PlanSubmission.objects.count() == 5
    knowsley = Authority.objects.get(ons_code="E08000011")
    client.force_login(User.objects.get(username="leader"))
    response = client.get(reverse("improvement:dashboard-authority", args=[knowsley.pk]))
    clock = response.context["clock"]
    assert response.context["clock_inspection"].start_date == dt.date(2024, 11, 18)
    assert clock.is_stopped and not clock.is_overdue
    assert response.context["unsent_plans"] == []
    html = response.content.decode()
    assert "Submitted on 25 April 2025 (67 working days after publication)" in html
    assert "What comes next: monitoring" in html
    section = html[html.index('id="clock"') : html.index('id="exceptions"')]
    assert "Overdue" not in section and "overdue" not in section
    # Gaps in the plan cover every inspection whose plan is live, and say the rule.
    gaps = {(g.inspection.kind, g.inspection.start_date): g for g in response.context["plan_gaps"]}
    assert len(gaps[("send_area", dt.date(2022, 3, 14))].areas_without_action) == 3
    assert len(gaps[("focused_visit", dt.date(2022, 10, 1))].areas_without_action) == 3
    assert gaps[("ilacs_standard", dt.date(2024, 11, 18))].no_areas_recorded
    assert ("sif", dt.date(2014, 4, 29)) not in gaps
    assert "An inspection&#x27;s plan is live from the full inspection before the latest" in html
    assert "Judged below good, but no improvement areas are recorded" in html
