"""More PostgreSQL indexes for the pages at a million actions (after reading their query plans).

PostgreSQL only, like 0010_scale: each statement with its reverse, names starting "scale_".
"""

from django.db import migrations, models

# The dashboard.
DASHBOARD = [
    # The headline counts read only these columns, id included (COUNT over the covering index).
    (
        "CREATE INDEX scale_action_auth_counts ON improvement_action (authority_id) INCLUDE "
        "(id, impact_status, delivery_status, rag, due_date_change_count)",
        "DROP INDEX IF EXISTS scale_action_auth_counts",
    ),
    # Deadline requests awaiting a decision: a handful among every request ever made.
    (
        "CREATE INDEX scale_duedatechange_pending ON improvement_duedatechange (action_id) "
        "WHERE status = 'pending'",
        "DROP INDEX IF EXISTS scale_duedatechange_pending",
    ),
]

# The action list and My actions.
LISTS: list[tuple[str, str]] = [
    # The owner filter's options: one authority's distinct owners, one index probe each.
    (
        "CREATE INDEX scale_action_auth_owner ON improvement_action (authority_id, owner_id)",
        "DROP INDEX IF EXISTS scale_action_auth_owner",
    ),
    # The same for one team's owners, offered when an authority has too many to list.
    (
        "CREATE INDEX scale_action_team_owner ON improvement_action (team_id, owner_id)",
        "DROP INDEX IF EXISTS scale_action_team_owner",
    ),
    # My actions, owned part: each due-date range read index only (scope and overdue included).
    (
        "CREATE INDEX scale_action_owner_open_cover ON improvement_action (owner_id, due_date, id) "
        "INCLUDE (authority_id, delivery_status) WHERE impact_status = 'not_assessed'",
        "DROP INDEX IF EXISTS scale_action_owner_open_cover",
    ),
    # My actions, led teams' part: the same, with the owner to leave out the user's own.
    (
        "CREATE INDEX scale_action_team_open_cover ON improvement_action (team_id, due_date, id) "
        "INCLUDE (owner_id, delivery_status) WHERE impact_status = 'not_assessed'",
        "DROP INDEX IF EXISTS scale_action_team_open_cover",
    ),
]

# The admin changelist and the national overview.
ADMIN_AND_NATIONAL: list[tuple[str, str]] = [
    # The admin search's owner match (username__iexact / last_name__iexact is UPPER(x) = UPPER(y)).
    (
        "CREATE INDEX scale_user_username_upper ON improvement_user (UPPER(username::text))",
        "DROP INDEX IF EXISTS scale_user_username_upper",
    ),
    (
        "CREATE INDEX scale_user_last_name_upper ON improvement_user (UPPER(last_name::text))",
        "DROP INDEX IF EXISTS scale_user_last_name_upper",
    ),
    # The national overview's "has priority actions" test per inspection: a few areas in 100,000.
    (
        "CREATE INDEX scale_area_priority ON improvement_improvementarea (inspection_id) "
        "WHERE is_priority_action",
        "DROP INDEX IF EXISTS scale_area_priority",
    ),
    # The national overview's newest (published) inspection per authority: one probe each.
    (
        "CREATE INDEX scale_inspection_auth_newest ON improvement_inspection "
        "(authority_id, COALESCE(start_date, publication_date) DESC, id DESC)",
        "DROP INDEX IF EXISTS scale_inspection_auth_newest",
    ),
]

POSTGRES = [*DASHBOARD, *LISTS, *ADMIN_AND_NATIONAL]


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
    dependencies = [("improvement", "0010_scale")]

    operations = [
        migrations.AddIndex(
            model_name="action",
            index=models.Index(fields=["authority", "-updated_at"], name="action_auth_updated"),
        ),
        migrations.RunPython(forwards, backwards, elidable=False),
    ]
