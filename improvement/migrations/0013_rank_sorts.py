"""Indexes for the action list sorted by RAG and by status at a million actions (read from their
query plans).

These two sorts order by a rank (red before amber, not started before delivered:
improvement.filters._RAG_RANK and _STATUS_RANK), an expression no index served, so every page
sorted all the actions in reach to show 25: 15-35 ms for the largest authority's 100,000, 100-150
ms for a national user's million. An index on the same expression, with the column it ranks
included so that reading the ids needs no table row, gives the page in under a millisecond in
either direction. The expressions must stay as the ORM writes them (tested in
tests/test_lists_at_scale.py). PostgreSQL only, like 0010-0012: each statement with its reverse,
names starting "scale_".
"""

from django.db import migrations

RAG_RANK = (
    "(CASE WHEN rag = 'red' THEN 0 WHEN rag = 'amber' THEN 1 WHEN rag = 'green' THEN 2 ELSE 3 END)"
)
STATUS_RANK = (
    "(CASE WHEN delivery_status = 'not_started' THEN 0 WHEN delivery_status = 'in_progress' "
    "THEN 1 WHEN delivery_status = 'delivered' THEN 2 ELSE 3 END)"
)

POSTGRES: list[tuple[str, str]] = [
    # Within one authority (a leader's list) and across all of them (a national user's).
    (
        f"CREATE INDEX scale_action_auth_rag_rank ON improvement_action "
        f"(authority_id, {RAG_RANK}, id) INCLUDE (rag)",
        "DROP INDEX IF EXISTS scale_action_auth_rag_rank",
    ),
    (
        f"CREATE INDEX scale_action_rag_rank ON improvement_action ({RAG_RANK}, id) INCLUDE (rag)",
        "DROP INDEX IF EXISTS scale_action_rag_rank",
    ),
    (
        f"CREATE INDEX scale_action_auth_status_rank ON improvement_action "
        f"(authority_id, {STATUS_RANK}, id) INCLUDE (delivery_status)",
        "DROP INDEX IF EXISTS scale_action_auth_status_rank",
    ),
    (
        f"CREATE INDEX scale_action_status_rank ON improvement_action "
        f"({STATUS_RANK}, id) INCLUDE (delivery_status)",
        "DROP INDEX IF EXISTS scale_action_status_rank",
    ),
]


def forwards(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    for sql, _ in POSTGRES:
        schema_editor.execute(sql)


def backwards(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    for _, sql in reversed(POSTGRES):
        schema_editor.execute(sql)


class Migration(migrations.Migration):
    dependencies = [("improvement", "0012_list_sorts")]

    operations = [migrations.RunPython(forwards, backwards, elidable=False)]
