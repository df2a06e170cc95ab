"""Measure values recorded from the pages: by a linked action's owner or a leader, with bounds."""

import datetime as dt
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from freezegun import freeze_time

from improvement import roles, services
from improvement.models import Measure, MeasureValue
from tests.factories import (
    ActionFactory,
    AuthorityFactory,
    ImprovementAreaFactory,
    InspectionFactory,
    LeaderFactory,
    MeasureFactory,
    MeasureValueFactory,
    OwnerFactory,
    UserFactory,
)

pytestmark = pytest.mark.django_db

TODAY = dt.date(2026, 12, 1)


@pytest.fixture(autouse=True)
def _frozen():
    with freeze_time(dt.datetime(2026, 12, 1, 12, 0, tzinfo=dt.UTC)):
        yield


@pytest.fixture
def authority():
    return AuthorityFactory(name="Knowsley")


@pytest.fixture
def owner(authority):
    return OwnerFactory(authority=authority)


@pytest.fixture
def measure(authority, owner):
    area = ImprovementAreaFactory(inspection=InspectionFactory(authority=authority))
    action = ActionFactory(authority=authority, owner=owner, improvement_areas=[area])
    measure = MeasureFactory(authority=authority, name="Care leavers in suitable accommodation")
    measure.actions.add(action)
    return measure


def _url(measure):
    return reverse("improvement:measure-detail", args=[measure.pk])


def _post(client, measure, value="85.5", day=("1", "11", "2026"), note="From the LAC return"):
    return client.post(
        _url(measure),
        {
            "value": value,
            "recorded_on_0": day[0],
            "recorded_on_1": day[1],
            "recorded_on_2": day[2],
            "note": note,
        },
    )


def test_the_owner_of_a_linked_action_records_a_value(client, measure, owner):
    client.force_login(owner)
    response = _post(client, measure)
    assert response.status_code == 302
    value = MeasureValue.objects.get()
    assert (value.value, value.recorded_on, value.recorded_by) == (
        Decimal("85.5"),
        dt.date(2026, 11, 1),
        owner,
    )
    assert value.history.count() == 1
    html = client.get(_url(measure)).content.decode()
    assert "85.5%" in html and "From the LAC return" in html
    assert "Baseline" in html and "78%" in html and "92%" in html
    assert "Improving, not yet on target" in html


@pytest.mark.parametrize(
    ("value", "day", "message"),
    [
        ("101", ("1", "11", "2026"), "A percentage must be between 0 and 100."),
        ("-1", ("1", "11", "2026"), "A percentage must be between 0 and 100."),
        ("abc", ("1", "11", "2026"), "The value must be a number"),
        ("80", ("1", "1", "2027"), "must be today or in the past"),
        ("80", ("1", "1", "2020"), "on or after the baseline date"),
        ("80", ("31", "2", "2026"), "must be a real date"),
        ("", ("", "", ""), "Enter the value"),
    ],
)
def test_bad_values_get_a_clear_message_and_nothing_is_written(
    client, measure, owner, value, day, message
):
    client.force_login(owner)
    response = _post(client, measure, value=value, day=day)
    assert response.status_code == 200
    assert message in response.content.decode()
    assert not MeasureValue.objects.exists()


def test_a_second_value_for_the_same_date_is_refused(client, measure, owner):
    client.force_login(owner)
    _post(client, measure)
    response = _post(client, measure, value="86")
    assert "A value for 1 November 2026 is already recorded." in response.content.decode()
    assert MeasureValue.objects.count() == 1


def test_counts_cannot_be_negative(authority, owner):
    measure = MeasureFactory(
        authority=authority,
        unit=Measure.Unit.COUNT,
        direction=Measure.Direction.LOWER_IS_BETTER,
        baseline_value=Decimal("40"),
        target_value=Decimal("10"),
    )
    with pytest.raises(ValidationError, match="cannot be negative"):
        services.measure_record_value(
            measure=measure, recorded_on=TODAY, value=Decimal("-3"), by=owner
        )


def test_who_may_record(client, authority, measure):
    leader = LeaderFactory(authority=authority)
    other_owner = OwnerFactory(authority=authority)
    board = UserFactory(authority=authority, role=roles.BOARD_VIEWER)
    stranger = LeaderFactory(authority=AuthorityFactory(name="Devon"))
    client.force_login(leader)
    assert "Record a value" in client.get(_url(measure)).content.decode()
    assert _post(client, measure).status_code == 302
    for user in (other_owner, board):
        client.force_login(user)
        page = client.get(_url(measure))
        assert page.status_code == 200 and "Record a value" not in page.content.decode()
        assert _post(client, measure, day=("2", "11", "2026")).status_code == 403
    client.force_login(stranger)
    assert client.get(_url(measure)).status_code == 404
    assert MeasureValue.objects.count() == 1


@pytest.mark.parametrize("size", [1, 10])
def test_the_measure_page_runs_a_fixed_number_of_queries(client, measure, owner, size):
    for _ in range(size):
        MeasureValueFactory(measure=measure, recorded_by=owner)
    client.force_login(owner)
    client.get(_url(measure))
    with CaptureQueriesContext(connection) as queries:
        assert client.get(_url(measure)).status_code == 200
    assert len(queries) == 6, [q["sql"] for q in queries.captured_queries]
