"""The search through stored vectors (PostgreSQL) or substrings (SQLite), capped paging, and the
admin changelist tuned for a million actions."""

from __future__ import annotations

import pytest
from django.db import connection
from django.urls import reverse

from improvement.admin import ActionAdmin
from improvement.admin_perf import CappedCount
from improvement.models import Action, ProgressNote
from improvement.paging import CappedPaginator
from improvement.search import search_actions, uses_search_vectors
from tests.factories import (
    ActionFactory,
    AuthorityFactory,
    ImprovementAreaFactory,
    ProgressNoteFactory,
    bulk_actions,
)

pytestmark = pytest.mark.django_db
postgres_only = pytest.mark.skipif(
    "connection.vendor != 'postgresql'", reason="stored search vectors are PostgreSQL's"
)


def _found(text, queryset=None):
    queryset = Action.objects.all() if queryset is None else queryset
    return set(search_actions(queryset, text).values_list("pk", flat=True))


def test_search_finds_title_description_reference_and_notes():
    by_title = ActionFactory(title="Audit supervision records")
    by_description = ActionFactory(description="Return home interviews within 72 hours")
    # The factory numbers references "a.b" with b from 1 to 10, so it never makes this one.
    by_reference = ActionFactory(reference="7.93", title="Something else")
    by_note = ActionFactory(title="Another thing")
    ProgressNoteFactory(action=by_note, text="Fostering panel reviewed the sufficiency plan")
    ActionFactory(title="Unrelated")

    assert _found("supervision") == {by_title.pk}
    assert _found("interviews") == {by_description.pk}
    assert _found("7.93") == {by_reference.pk}
    assert _found("fostering") == {by_note.pk}
    assert _found("   ") == set(Action.objects.values_list("pk", flat=True))


def test_search_keeps_the_callers_scope_and_filters():
    here, there = AuthorityFactory(), AuthorityFactory()
    mine = ActionFactory(authority=here, title="Care leavers pathway")
    ActionFactory(authority=there, title="Care leavers pathway")
    assert _found("pathway", Action.objects.filter(authority=here)) == {mine.pk}


def test_odd_input_never_raises():
    ActionFactory(title="Plain")
    for text in ('"unbalanced', "or", "-", "a & b | !c", "'; DROP TABLE x; --", "(plan"):
        assert isinstance(_found(text), set)


@postgres_only
def test_vectors_stem_and_follow_notes_as_they_change():
    """Stemming ("plans" finds "planning"), and the notes vector follows inserts, edits, deletes."""
    assert uses_search_vectors()
    action = ActionFactory(title="Improve planning meetings")
    assert _found("plans") == {action.pk}
    other = ActionFactory(title="Other")
    note = ProgressNoteFactory(action=other, text="Dip sample of chronologies")
    assert _found("chronology") == {other.pk}
    ProgressNote.objects.filter(pk=note.pk).update(text="Dip sample of genograms")
    assert _found("chronology") == set()
    assert _found("genogram") == {other.pk}
    ProgressNote.objects.filter(pk=note.pk).delete()
    assert _found("genogram") == set()


@postgres_only
def test_scoped_search_uses_the_gin_index():
    """The plan reads the GIN index over the stored vectors, never to_tsvector per row."""
    authority = AuthorityFactory()
    area = ImprovementAreaFactory(inspection__authority=authority)
    owner = ActionFactory(authority=authority).owner
    bulk_actions(300, area=area, owner=owner)
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE improvement_action")
        cursor.execute("SET LOCAL enable_seqscan = off")
    # Unordered: with 300 rows the planner would rather walk the due-date index for the sort.
    queryset = search_actions(Action.objects.order_by(), "supervision")
    plan = queryset.explain()
    assert "scale_action_words" in plan
    assert "to_tsvector" not in plan


@postgres_only
def test_the_search_vector_keeps_enough_words_to_know_a_rare_one():
    """Migration 0018: ten times the default statistics on words_vector, without which a word
    no action has was guessed at 5,000 matches in a million and the search walked them all."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT attstattarget FROM pg_attribute WHERE attrelid = "
            "'improvement_action'::regclass AND attname = 'words_vector'"
        )
        assert cursor.fetchone() == (1000,)


def test_capped_paginator_counts_to_the_cap_and_reaches_deep_pages(owner):
    area = ImprovementAreaFactory()
    bulk_actions(60, area=area, owner=owner)
    queryset = Action.objects.order_by("pk")

    paginator = CappedPaginator(queryset, 5, cap=20)
    page = paginator.get_page(1)
    assert (paginator.count, paginator.is_capped, paginator.count_label) == (
        20,
        True,
        "more than 20",
    )
    assert page.has_next()

    deep = CappedPaginator(queryset, 5, cap=20)
    page = deep.get_page(10)
    assert page.number == 10
    assert [a.pk for a in page] == list(queryset.values_list("pk", flat=True)[45:50])

    whole = CappedPaginator(queryset, 5, cap=100)
    whole.get_page(1)
    assert (whole.count, whole.is_capped, whole.count_label, whole.num_pages) == (
        60,
        False,
        "60",
        12,
    )


def test_action_list_says_more_than_the_cap(client, leader, owner, monkeypatch):
    monkeypatch.setattr("improvement.views.actions.LIST_COUNT_CAP", 10)
    bulk_actions(30, area=ImprovementAreaFactory(), owner=owner)
    client.force_login(leader)
    html = client.get(reverse("improvement:action-list")).content.decode()
    # Counted to the cap, or at least to the end of the page shown (25 a page).
    assert "more than 25 actions" in html


def test_admin_changelist_is_capped_has_no_date_hierarchy_and_searches(
    admin_client, owner, monkeypatch
):
    monkeypatch.setattr("improvement.admin_perf.COUNT_CAP", 10)
    monkeypatch.setattr(ActionAdmin, "list_per_page", 5)
    area = ImprovementAreaFactory()
    bulk_actions(30, area=area, owner=owner)
    target = ActionFactory(title="Strengthen supervision", authority=area.inspection.authority)
    url = reverse("admin:improvement_action_changelist")

    response = admin_client.get(url)
    assert response.status_code == 200
    changelist = response.context["cl"]
    assert isinstance(changelist.result_count, CappedCount)
    assert str(changelist.result_count) == "more than 10"
    assert changelist.date_hierarchy is None
    assert not changelist.show_full_result_count

    searched = admin_client.get(url, {"q": "supervision"}).context["cl"]
    assert [a.pk for a in searched.result_list] == [target.pk]
    by_owner = admin_client.get(url, {"q": owner.username}).context["cl"]
    assert by_owner.result_count == 10  # capped: the owner has 30


def test_admin_changelist_deep_page(admin_client, owner, monkeypatch):
    monkeypatch.setattr("improvement.admin_perf.COUNT_CAP", 10)
    monkeypatch.setattr(ActionAdmin, "list_per_page", 5)
    bulk_actions(30, area=ImprovementAreaFactory(), owner=owner)
    url = reverse("admin:improvement_action_changelist")
    response = admin_client.get(url, {"p": "2"})
    assert response.status_code == 200
    assert response.context["cl"].page_num == 2
