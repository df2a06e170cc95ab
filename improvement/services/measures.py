"""Writes for measures of children's outcomes and their dated values."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from decimal import Decimal

from django.core.exceptions import ValidationError
from django.db import transaction

from improvement.models import (
    Action,
    Authority,
    Measure,
    MeasureValue,
    User,
)


@transaction.atomic
def measure_create(
    *,
    authority: Authority,
    name: str,
    direction: str,
    baseline_value: Decimal,
    baseline_date: dt.date,
    target_value: Decimal,
    target_date: dt.date,
    unit: str = Measure.Unit.PERCENT,
    description: str = "",
    actions: Iterable[Action] = (),
) -> Measure:
    actions = list(actions)
    if any(a.authority_id != authority.pk for a in actions):
        raise ValidationError({"actions": "Linked actions must belong to the same authority."})
    measure = Measure(
        authority=authority,
        name=name,
        direction=direction,
        unit=unit,
        baseline_value=baseline_value,
        baseline_date=baseline_date,
        target_value=target_value,
        target_date=target_date,
        description=description,
    )
    measure.full_clean()
    measure.save()
    measure.actions.set(actions)
    return measure


@transaction.atomic
def measure_record_value(
    *,
    measure: Measure,
    recorded_on: dt.date,
    value: Decimal,
    by: User,
    note: str = "",
    is_sample: bool = False,
) -> MeasureValue:
    if measure.unit == Measure.Unit.PERCENT and not (0 <= value <= 100):
        raise ValidationError({"value": "A percentage must be between 0 and 100."})
    measure_value = MeasureValue(
        measure=measure,
        recorded_on=recorded_on,
        value=value,
        note=note,
        recorded_by=by,
        is_sample=is_sample,
    )
    measure_value._history_user = by
    measure_value.full_clean()
    measure_value.save()
    return measure_value
