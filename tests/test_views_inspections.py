"""The inspection list and the inspection page, with the statutory action-plan clock."""

import datetime as dt

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from freezegun import freeze_time

from improvement import roles
from improvement.models import Finding, Inspection, Judgement
from improvement.views.inspections import ACTIONS_PER_AREA, AREAS_PER_PAGE
from tests.factories import (
    ActionFactory,
    AuthorityFactory,
    FindingFactory,
    ImprovementAreaFactory,
    InspectionFactory,
    JudgementFactory,
    LeaderFactory,
    OwnerFactory,
    ThemeFactory,
    UserFactory,
    bulk_actions,
)

pytestmark = pytest.mark.django_db

LIST_URL = reverse("improvement:inspection-list")


@pytest.fixture(autouse=True)
def _frozen_today():
    with freeze_time(dt.datetime(2026, 12, 1, 12, 0, tzinfo=dt.UTC)):
        yield


@pytest.fixture
def authority():
    return AuthorityFactory(name="Knowsley")


@pytest.fixture
def knowsley_2021(authority):
    """Knowsley's ILACS standard inspection, 11-22 October 2021, published 3 December 2021."""
    inspection = InspectionFactory(
        authority=authority,
        start_date=dt.date(2021, 10, 11),
        end_date=dt.date(2021, 10, 22),
        publication_date=dt.date(2021, 12, 3),
        lead_inspectors=["Paula Thomson-Jones"],
    )
    JudgementFactory(
        inspection=inspection,
        area="The impact of leaders on social work practice with children and families",
        grade=Judgement.Grade.REQUIRES_IMPROVEMENT_TO_BE_GOOD,
        position=1,
    )
    JudgementFactory(
        inspection=inspection,
        area="Overall effectiveness",
        grade=Judgement.Grade.REQUIRES_IMPROVEMENT_TO_BE_GOOD,
        is_overall=True,
        position=9,
    )
    return inspection


def detail_url(inspection) -> str:
    return reverse("improvement:inspection-detail", args=[inspection.pk])


def count_queries(client, url) -> int:
    with CaptureQueriesContext(connection) as queries:
        response = client.get(url)
    assert response.status_code == 200
    return len(queries)


# The list


def test_inspection_list_shows_inspections_in_scope_newest_first(client, authority, knowsley_2021):
    older = InspectionFactory(
        authority=authority,
        kind=Inspection.Kind.SIF,
        start_date=dt.date(2014, 4, 29),
        end_date=dt.date(2014, 5, 21),
        publication_date=dt.date(2014, 6, 30),
    )
    InspectionFactory(authority=AuthorityFactory(name="Elsewhere"), kind=Inspection.Kind.JTAI)
    client.force_login(OwnerFactory(authority=authority))
    page = client.get(LIST_URL).content.decode()
    assert "2 inspections" in page
    assert page.index(knowsley_2021.get_absolute_url()) < page.index(older.get_absolute_url())
    assert "Requires improvement to be good" in page
    assert "3 Dec 2021" in page
    assert "Joint targeted area inspection" not in page


def test_national_user_sees_every_authority_with_its_name(client, knowsley_2021):
    InspectionFactory(authority=AuthorityFactory(name="Elsewhere"))
    client.force_login(LeaderFactory())
    page = client.get(LIST_URL).content.decode()
    assert "Knowsley" in page
    assert "Elsewhere" in page


def test_inspection_list_flags_areas_with_no_action(client, authority, knowsley_2021):
    ImprovementAreaFactory(inspection=knowsley_2021, position=1)
    answered = ImprovementAreaFactory(inspection=knowsley_2021, position=2)
    ActionFactory(authority=authority, improvement_areas=[answered])
    client.force_login(LeaderFactory(authority=authority))
    page = client.get(LIST_URL).content.decode()
    assert "1 with no action" in page


def test_inspection_list_after_april_2026_says_no_overall_judgement(client, authority):
    InspectionFactory(
        authority=authority,
        start_date=dt.date(2026, 5, 11),
        end_date=dt.date(2026, 5, 22),
        publication_date=dt.date(2026, 7, 1),
    )
    client.force_login(LeaderFactory(authority=authority))
    assert "No overall effectiveness judgement" in client.get(LIST_URL).content.decode()


def test_inspection_list_is_paginated(client, authority):
    for i in range(30):
        InspectionFactory(authority=authority, start_date=dt.date(2020, 1, 1) + dt.timedelta(i))
    client.force_login(LeaderFactory(authority=authority))
    page = client.get(LIST_URL).content.decode()
    assert "30 inspections" in page
    assert 'aria-label="Pagination"' in page
    assert client.get(LIST_URL, {"page": 2}).status_code == 200


def test_inspection_list_needs_login_and_a_role(client, authority):
    assert client.get(LIST_URL).status_code == 302
    client.force_login(UserFactory(authority=authority))
    assert client.get(LIST_URL).status_code == 403


def test_inspection_list_query_count_does_not_grow(client, authority, knowsley_2021):
    """The same number of queries with 10 and 1,000 actions (and more inspections and areas)."""
    owner = OwnerFactory(authority=authority)
    client.force_login(LeaderFactory(authority=authority))

    def add(n_actions, n_inspections):
        for i in range(n_inspections):
            inspection = InspectionFactory(authority=authority)
            JudgementFactory(inspection=inspection, area="Overall effectiveness", is_overall=True)
            area = ImprovementAreaFactory(inspection=inspection, position=i + 1)
            ImprovementAreaFactory(inspection=inspection, position=i + 100)
        bulk_actions(n_actions, area=area, owner=owner)

    add(10, 2)
    client.get(LIST_URL)
    at_10 = count_queries(client, LIST_URL)
    add(990, 30)
    at_1000 = count_queries(client, LIST_URL)
    assert at_10 == at_1000


# One inspection


@pytest.mark.parametrize(
    ("who", "status"),
    [("owner", 200), ("leader", 200), ("board", 200), ("admin", 200), ("outsider", 404)],
)
def test_inspection_detail_permissions(client, authority, knowsley_2021, who, status):
    """Everyone with a role in the authority may read it; other authorities' users get 404."""
    users = {
        "owner": lambda: OwnerFactory(authority=authority),
        "leader": lambda: LeaderFactory(authority=authority),
        "board": lambda: UserFactory(authority=authority, role=roles.BOARD_VIEWER),
        "admin": lambda: UserFactory(authority=authority, role=roles.ADMINISTRATOR),
        "outsider": lambda: LeaderFactory(authority=AuthorityFactory(name="Elsewhere")),
    }
    client.force_login(users[who]())
    assert client.get(detail_url(knowsley_2021)).status_code == status


def test_inspection_detail_needs_login(client, knowsley_2021):
    assert client.get(detail_url(knowsley_2021)).status_code == 302


def test_inspection_detail_shows_judgements_areas_actions_and_findings(
    client, authority, knowsley_2021
):
    """From Ofsted's words to the actions answering them, and what has no action yet."""
    care_leavers = ThemeFactory(name="Care leavers")
    finding = FindingFactory(
        inspection=knowsley_2021,
        number=12,
        section="The experiences and progress of children in care and care leavers",
        text="Care leavers' pathway plans are not consistently <em>updated</em>.",
    )
    finding.themes.add(care_leavers)
    FindingFactory(inspection=knowsley_2021, number=3, section="Leadership", text="Leaders know.")
    answered = ImprovementAreaFactory(
        inspection=knowsley_2021,
        position=1,
        text="The quality and impact of pathway plans for care leavers.",
        framework_tag="Outcome 4",
    )
    answered.supporting_findings.add(finding)
    ImprovementAreaFactory(
        inspection=knowsley_2021, position=2, text="Management oversight of practice."
    )
    owner = OwnerFactory(authority=authority, first_name="Olive", last_name="Owner")
    action = ActionFactory(
        authority=authority, owner=owner, title="Pathway plan audit", improvement_areas=[answered]
    )
    client.force_login(LeaderFactory(authority=authority))
    page = client.get(detail_url(knowsley_2021)).content.decode()

    assert "Overall effectiveness" in page
    assert "Requires improvement to be good" in page
    assert "The impact of leaders on social work practice with children and families" in page
    assert "The quality and impact of pathway plans for care leavers." in page
    assert "Outcome 4" in page
    assert reverse("improvement:action-detail", args=[action.pk]) in page
    assert "Olive Owner" in page
    assert "30 Jan 2027" in page
    assert page.count("No action answers this yet") == 1
    assert "1 of 2 areas for improvement has no action answering it" in page
    # Findings in paragraph order, under their sections, verbatim and escaped.
    assert page.index("Leaders know.") < page.index("pathway plans are not consistently")
    assert "The experiences and progress of children in care and care leavers" in page
    assert "&lt;em&gt;updated&lt;/em&gt;" in page
    assert 'id="finding-12"' in page
    assert 'href="#finding-12"' in page
    assert "Care leavers" in page


def test_inspection_detail_shows_the_statutory_clock(client, authority, knowsley_2021):
    """Knowsley 2021: the final plan fell due on 16 March 2022, so it is long overdue now."""
    ImprovementAreaFactory(inspection=knowsley_2021, position=1)
    client.force_login(LeaderFactory(authority=authority))
    page = client.get(detail_url(knowsley_2021)).content.decode()
    assert "Statutory action-plan clock" in page
    assert "Final action plan" in page
    assert "Wednesday 16 March 2022" in page
    assert "Overdue by" in page
    assert "Draft action plan" not in page


def test_priority_actions_add_a_draft_plan_deadline(client, authority):
    visit = InspectionFactory(
        authority=authority,
        kind=Inspection.Kind.FOCUSED_VISIT,
        start_date=dt.date(2026, 11, 2),
        end_date=dt.date(2026, 11, 3),
        publication_date=dt.date(2026, 11, 20),
        outcome="Leaders have not acted on the findings of the last visit.",
    )
    ImprovementAreaFactory(
        inspection=visit,
        position=1,
        is_priority_action=True,
        responsible_body="Knowsley local authority",
    )
    client.force_login(LeaderFactory(authority=authority))
    page = client.get(detail_url(visit)).content.decode()
    assert "Area for priority action" in page
    assert "Responsible body: Knowsley local authority" in page
    assert "Leaders have not acted on the findings of the last visit." in page
    # 20 working days after Friday 20 November 2026 is Friday 18 December 2026.
    assert "Friday 18 December 2026" in page
    assert "Due in 13 working days" in page


def test_inspection_after_april_2026_says_there_is_no_overall_judgement(client, authority):
    inspection = InspectionFactory(
        authority=authority,
        start_date=dt.date(2026, 5, 11),
        end_date=dt.date(2026, 5, 22),
        publication_date=dt.date(2026, 7, 1),
    )
    JudgementFactory(
        inspection=inspection,
        area="The experiences and progress of care leavers",
        grade=Judgement.Grade.GOOD,
    )
    client.force_login(LeaderFactory(authority=authority))
    page = client.get(detail_url(inspection)).content.decode()
    assert "No overall effectiveness judgement" in page
    assert "The experiences and progress of care leavers" in page


def test_clock_says_it_cannot_start_without_a_publication_date(client, authority):
    inspection = InspectionFactory(authority=authority, publication_date=None)
    client.force_login(LeaderFactory(authority=authority))
    page = client.get(detail_url(inspection)).content.decode()
    assert "The clock cannot start" in page


def test_inspection_detail_query_count_does_not_grow(client, authority, knowsley_2021):
    """The same queries with 10 or 1,000 actions, and with more areas, findings and themes."""
    owner = OwnerFactory(authority=authority)
    theme = ThemeFactory()
    client.force_login(LeaderFactory(authority=authority))
    url = detail_url(knowsley_2021)

    def add(n_actions, n_areas, n_findings, start):
        areas = [
            ImprovementAreaFactory(inspection=knowsley_2021, position=start + i)
            for i in range(n_areas)
        ]
        findings = Finding.objects.bulk_create(
            Finding(
                inspection=knowsley_2021, number=start + i, section=f"Section {i // 5}", text="x"
            )
            for i in range(n_findings)
        )
        Finding.themes.through.objects.bulk_create(
            Finding.themes.through(finding_id=f.pk, theme_id=theme.pk) for f in findings
        )
        areas[0].supporting_findings.add(*findings[:5])
        areas[0].themes.add(theme)
        per_area = n_actions // n_areas
        for area in areas:
            bulk_actions(per_area, area=area, owner=owner)

    add(10, 2, 5, 1)
    client.get(url)
    at_10 = count_queries(client, url)
    # Enough areas to page them, and actions per area past what an area shows.
    add(990, AREAS_PER_PAGE + 10, 200, 100)
    at_1000 = count_queries(client, url)
    assert at_10 == at_1000


def test_an_area_shows_its_soonest_actions_and_links_to_the_rest(client, authority, knowsley_2021):
    """Past ACTIONS_PER_AREA the page shows the soonest due and sends the rest to the list."""
    area = ImprovementAreaFactory(inspection=knowsley_2021, position=1)
    few = ImprovementAreaFactory(inspection=knowsley_2021, position=2)
    owner = OwnerFactory(authority=authority)
    many = bulk_actions(
        ACTIONS_PER_AREA + 3,
        area=area,
        owner=owner,
        due_date=lambda i: dt.date(2027, 1, 1) + dt.timedelta(days=i),
    )
    bulk_actions(2, area=few, owner=owner)
    client.force_login(LeaderFactory(authority=authority))

    response = client.get(detail_url(knowsley_2021))
    page = response.content.decode()

    shown = {a.pk: a for a in response.context["areas"]}
    assert [a.pk for a in shown[area.pk].first_actions] == [a.pk for a in many[:ACTIONS_PER_AREA]]
    for later in many[ACTIONS_PER_AREA:]:
        assert reverse("improvement:action-detail", args=[later.pk]) not in page
    link = f"{reverse('improvement:action-list')}?area={area.pk}"
    assert f'href="{link}"' in page
    assert f"See all {ACTIONS_PER_AREA + 3} actions answering area 1</a> (3 more" in page
    assert f"?area={few.pk}" not in page
    assert len(shown[few.pk].first_actions) == 2


def test_areas_past_a_page_are_paged_and_the_warning_counts_them_all(
    client, authority, knowsley_2021
):
    """An inspection with more areas than a page shows them a page at a time, in report order;
    the warning about unanswered areas counts every area, not only the page's."""
    areas = [
        ImprovementAreaFactory(inspection=knowsley_2021, position=i, text=f"Area text {i}.")
        for i in range(1, AREAS_PER_PAGE + 3)
    ]
    owner = OwnerFactory(authority=authority)
    bulk_actions(1, area=areas[0], owner=owner)
    client.force_login(LeaderFactory(authority=authority))

    first = client.get(detail_url(knowsley_2021)).content.decode()
    second = client.get(detail_url(knowsley_2021) + "?page=2").content.decode()

    total = AREAS_PER_PAGE + 2
    assert f'id="area-{areas[AREAS_PER_PAGE - 1].pk}"' in first
    assert f'id="area-{areas[AREAS_PER_PAGE].pk}"' not in first
    assert f'id="area-{areas[AREAS_PER_PAGE].pk}"' in second
    assert f"Areas 1 to {AREAS_PER_PAGE} of {total}" in first
    assert f"{total - 1} of {total} areas for improvement have no action" in first
    assert f"{total - 1} of {total} areas for improvement have no action" in second
    assert 'rel="next"' in first


def test_a_link_to_an_area_opens_the_page_that_holds_it(client, authority, knowsley_2021):
    """An area's own address (used by the dashboard's gaps and elsewhere) opens the page of areas
    it is on, even past the first; an area of another inspection opens the first page."""
    # Created in reverse report order, so that ids alone would put them the other way round.
    areas = [
        ImprovementAreaFactory(inspection=knowsley_2021, position=i, text=f"Area text {i}.")
        for i in reversed(range(1, AREAS_PER_PAGE + 6))
    ]
    first, last = areas[-1], areas[0]
    client.force_login(LeaderFactory(authority=authority))

    assert last.get_absolute_url() == f"{detail_url(knowsley_2021)}?area={last.pk}#area-{last.pk}"
    assert f'id="area-{last.pk}"' in client.get(last.get_absolute_url()).content.decode()
    assert f'id="area-{first.pk}"' in client.get(first.get_absolute_url()).content.decode()
    elsewhere = ImprovementAreaFactory(position=1)
    page = client.get(f"{detail_url(knowsley_2021)}?area={elsewhere.pk}")
    assert page.status_code == 200
    assert f'id="area-{first.pk}"' in page.content.decode()
