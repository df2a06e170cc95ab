"""Progress notes posted at once by many people over real HTTP are all kept on the first try.

Needs PostgreSQL: SQLite serialises writers by locking the whole file, so it cannot show what
concurrent clients against one action do (run with DATABASE_URL set to a PostgreSQL database).
"""

from __future__ import annotations

import re
import threading
from collections import defaultdict

import pytest
from django.db import connection
from django.urls import reverse

from improvement import roles
from improvement.models import ProgressNote
from tests.factories import ActionFactory, UserFactory
from tests.http_client import TOKEN, Browser

pytestmark = pytest.mark.skipif(
    connection.vendor != "postgresql", reason="concurrent writers need PostgreSQL"
)

CLIENTS = 16
NOTES = 500
VERSION = re.compile(r'name="version" value="(\d+)"')


@pytest.mark.django_db(transaction=True)
def test_500_notes_from_16_clients_are_all_kept_on_the_first_try_in_order(live_server):
    action = ActionFactory()
    people = [action.owner] + [
        UserFactory(authority=action.authority, role=roles.ADMINISTRATOR)
        for _ in range(CLIENTS - 1)
    ]
    path = reverse("improvement:action-update", kwargs={"pk": action.pk})
    forms = []
    for person in people:
        browser = Browser(live_server.url)
        browser.login(person.username)
        status, page = browser.request(path)
        assert status == 200, f"{person.username} cannot open the update page ({status})"
        forms.append((browser, TOKEN.search(page).group(1), VERSION.search(page).group(1)))

    sent: dict[int, list[str]] = defaultdict(list)
    answers: dict[int, list[int]] = defaultdict(list)
    start = threading.Barrier(CLIENTS)

    def post_notes(client: int) -> None:
        browser, token, version = forms[client]
        start.wait()
        for number in range(client, NOTES, CLIENTS):
            text = f"Client {client:02d} note {number:03d}"
            status, _ = browser.request(
                path,
                {
                    "csrfmiddlewaretoken": token,
                    # Every client posts with the version it opened the page at.
                    "version": version,
                    "delivery_status": action.delivery_status,
                    "rag": action.rag,
                    "text": text,
                    "milestones_initial": "",
                },
            )
            sent[client].append(text)
            answers[client].append(status)

    threads = [threading.Thread(target=post_notes, args=(n,)) for n in range(CLIENTS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    statuses = [status for client in answers.values() for status in client]
    kept_first_try = statuses.count(302)
    print(f"\nConcurrent notes: {kept_first_try} of {NOTES} kept on the first try")
    assert len(statuses) == NOTES
    assert kept_first_try == NOTES, sorted(set(statuses))

    timeline = list(
        ProgressNote.objects.filter(action=action)
        .order_by("created_at", "pk")
        .values_list("pk", "text")
    )
    assert len(timeline) == NOTES
    # Time order is commit order: the notes' times never disagree with their ids.
    assert [pk for pk, _ in timeline] == sorted(pk for pk, _ in timeline)
    # Each person's notes appear in the order they sent them.
    for client, texts in sent.items():
        assert [t for _, t in timeline if t.startswith(f"Client {client:02d} ")] == texts
    action.refresh_from_db()
    assert action.version == 1
    assert action.last_note_at == ProgressNote.objects.filter(action=action).first().created_at
