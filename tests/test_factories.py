"""Every factory builds a valid object; the bulk builder links actions to areas in two queries."""

import datetime as dt

import factory
import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from improvement.models import Action
from tests import factories
from tests.factories import TODAY, ImprovementAreaFactory, OwnerFactory, bulk_actions

pytestmark = pytest.mark.django_db

ALL_FACTORIES = [
    value
    for value in vars(factories).values()
    if isinstance(value, type)
    and issubclass(value, factory.django.DjangoModelFactory)
    and value is not factory.django.DjangoModelFactory
]


@pytest.mark.parametrize("model_factory", ALL_FACTORIES, ids=lambda f: f.__name__)
def test_every_factory_builds_a_valid_object(model_factory):
    """A factory that builds an invalid object would make every test using it lie."""
    obj = model_factory()
    obj.full_clean()


def test_bulk_actions_defaults_link_every_action_to_its_area_in_two_queries():
    """Authority from the area, unique titles and references, due dates after the start."""
    area = ImprovementAreaFactory()
    owner = OwnerFactory()
    with CaptureQueriesContext(connection) as queries:
        rows = bulk_actions(3, area=area, owner=owner)
    rows += bulk_actions(2, area=area, owner=owner)

    assert len(queries) == 2
    actions = Action.objects.filter(pk__in=[a.pk for a in rows])
    assert {a.authority_id for a in actions} == {area.inspection.authority_id}
    assert len({a.title for a in actions}) == len({a.reference for a in actions}) == 5
    assert all(a.original_due_date == a.due_date > a.start_date for a in actions)
    assert list(area.actions.order_by("pk")) == list(actions.order_by("pk"))


def test_bulk_actions_fields_override_per_row_and_areas_take_turns():
    """A callable field is called with the row's index; several areas are answered in turn."""
    first, second = ImprovementAreaFactory(), ImprovementAreaFactory()
    second.inspection = first.inspection
    second.save()
    rows = bulk_actions(
        4,
        area=[first, second],
        owner=OwnerFactory(),
        rag="red",
        due_date=lambda i: TODAY + dt.timedelta(days=i),
    )

    assert [a.rag for a in rows] == ["red"] * 4
    assert [a.due_date for a in rows] == [TODAY + dt.timedelta(days=i) for i in range(4)]
    assert [a.original_due_date for a in rows] == [a.due_date for a in rows]
    assert list(first.actions.order_by("pk")) == [rows[0], rows[2]]
    assert list(second.actions.order_by("pk")) == [rows[1], rows[3]]
