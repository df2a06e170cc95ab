"""The scale benchmark's dataset builder writes every column the models now require.

It loads by COPY with its own column lists, so a new non-null column (as the importer's
fieldwork_ranges was) breaks `make bench-scale` without breaking any page: build a small
dataset into the test database and read it back through the app's own selectors.
"""

from __future__ import annotations

import sys
from pathlib import Path

import pytest
from django.core.management import call_command
from django.db import connection
from django.db.models import Count
from django.utils import timezone

from improvement import rulebook
from improvement.models import Action, Authority, Inspection, ProgressNote
from improvement.search import search_actions
from improvement.selectors import dashboard as dashboard_reads

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(
        "connection.vendor != 'postgresql'", reason="the builder loads by PostgreSQL's COPY"
    ),
]

BENCHMARKS = Path(__file__).resolve().parents[1] / "benchmarks"


def _dsn() -> str:
    params = connection.get_connection_params()
    parts = [f"dbname={connection.settings_dict['NAME']}"]
    for key in ("host", "port", "user", "password"):
        if params.get(key):
            parts.append(f"{key}={params[key]}")
    return " ".join(parts)


def test_builder_fills_a_database_the_pages_can_read():
    sys.path.insert(0, str(BENCHMARKS))
    try:
        import scale_data
    finally:
        sys.path.remove(str(BENCHMARKS))
    call_command("load_reference_data", verbosity=0)

    counts = scale_data.build(_dsn(), 400, log=lambda *args: None)

    assert counts["improvement_action"] == Action.objects.count() >= 400
    assert ProgressNote.objects.count() == counts["improvement_progressnote"]
    assert Inspection.objects.filter(fieldwork_ranges=[]).exists()
    largest = (
        Authority.objects.filter(actions__isnull=False)
        .annotate(n=Count("actions"))
        .order_by("-n")
        .first()
    )
    now = timezone.now()
    figures = dashboard_reads.dashboard_action_counts(
        authority=largest, today=timezone.localdate(now), now=now
    )
    assert figures["total"] == largest.n
    assert figures["open"] == largest.actions.filter(rulebook.not_closed()).count()
    # The notes' words were filled in after the load, so a note's word finds its action.
    note = ProgressNote.objects.order_by("pk").first()
    word = max(note.text.split(), key=len).strip(".,:")
    assert search_actions(Action.objects.all(), word).filter(pk=note.action_id).exists()
