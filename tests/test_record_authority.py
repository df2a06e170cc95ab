"""Progress notes, evidence and deadline changes store their action's authority (migrations 0015
and 0016) so that an authority's records are read from an index of their own: whatever route
writes one, the stored authority is the action's, and the database refuses any other."""

import pytest
from django.db import IntegrityError, transaction
from django.utils import timezone

from improvement import services
from improvement.models import Action, Evidence, ProgressNote
from tests.factories import ActionFactory, AuthorityFactory

pytestmark = pytest.mark.django_db


def test_the_services_store_the_actions_authority():
    action = ActionFactory()
    services.action_quick_update(
        action=action,
        by=action.owner,
        expected_version=action.version,
        text="Audit of 40 plans completed.",
        evidence_url="https://example.org/audit",
        evidence_title="Audit summary",
    )
    assert set(ProgressNote.objects.values_list("authority", flat=True)) == {action.authority_id}
    assert set(Evidence.objects.values_list("authority", flat=True)) == {action.authority_id}


def test_bulk_created_records_take_their_actions_authority():
    """With the action given, or only its id (then read in one query for all of them)."""
    given, by_id = ActionFactory(), ActionFactory()
    now = timezone.now()
    ProgressNote.objects.bulk_create(
        [
            ProgressNote(action=given, author=given.owner, created_at=now, text="Given."),
            ProgressNote(action_id=by_id.pk, author=by_id.owner, created_at=now, text="By id."),
        ]
    )
    Evidence.objects.bulk_create(
        [
            Evidence(action=given, title="Given", url="https://example.org/", added_by=given.owner),
            Evidence(
                action_id=by_id.pk, title="By id", url="https://example.org/", added_by=by_id.owner
            ),
        ]
    )
    for model in (ProgressNote, Evidence):
        stored = dict(model.objects.values_list("action", "authority"))
        assert stored == {given.pk: given.authority_id, by_id.pk: by_id.authority_id}


def _note(action, **fields):
    return ProgressNote(
        action=action, author=action.owner, created_at=timezone.now(), text="Note.", **fields
    )


def _evidence(action, **fields):
    return Evidence(
        action=action, title="Link", url="https://example.org/", added_by=action.owner, **fields
    )


@pytest.mark.parametrize("build", [_note, _evidence], ids=["note", "evidence"])
def test_the_database_refuses_another_authority(build):
    action, stranger = ActionFactory(), AuthorityFactory()
    record = build(action)
    record.save()
    model = type(record)
    with pytest.raises(IntegrityError), transaction.atomic():
        model.objects.filter(pk=record.pk).update(authority=stranger)
    with pytest.raises(IntegrityError), transaction.atomic():
        build(action, authority=stranger).save()
    # Nor may the action move away from its records (it has no team to refuse it first).
    assert action.team_id is None
    with pytest.raises(IntegrityError), transaction.atomic():
        Action.objects.filter(pk=action.pk).update(authority=stranger)
    assert model.objects.get(pk=record.pk).authority_id == action.authority_id
