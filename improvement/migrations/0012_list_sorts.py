"""Indexes for the action list's column sorts and team filter at a million actions (read from
their query plans).

Sorting the largest authority's 100,000 actions by title took 0.4-0.9 s, by owner 0.8 s: each
sorted every action to show 25. Counting a team's actions joined two bitmaps of 16,000 and
100,000 rows (60-130 ms). PostgreSQL only, like 0010 and 0011: each statement with its
reverse, names starting "scale_".
"""

from django.db import migrations

POSTGRES: list[tuple[str, str]] = [
    # By title, within one authority (a leader) and across all (a national user).
    (
        "CREATE INDEX scale_action_auth_title ON improvement_action (authority_id, title, id)",
        "DROP INDEX IF EXISTS scale_action_auth_title",
    ),
    (
        "CREATE INDEX scale_action_title ON improvement_action (title, id)",
        "DROP INDEX IF EXISTS scale_action_title",
    ),
    # By owner: people in name order, each one's actions in order of id from this index, so
    # the page is read by walking the names (an incremental sort) and stops at its last row.
    (
        "CREATE INDEX scale_user_sort_name ON improvement_user "
        "(last_name, first_name, username, id)",
        "DROP INDEX IF EXISTS scale_user_sort_name",
    ),
    # The team filter, counted and read in due-date order (with the authority the list always
    # carries: a team's actions are all its authority's, which the planner cannot know).
    (
        "CREATE INDEX scale_action_auth_team_due ON improvement_action "
        "(authority_id, team_id, due_date, id)",
        "DROP INDEX IF EXISTS scale_action_auth_team_due",
    ),
    # Replaces 0011's (authority_id, owner_id), which the owner filter's distinct-owner probes
    # read just as well from this one.
    (
        "CREATE INDEX scale_action_auth_owner_id ON improvement_action "
        "(authority_id, owner_id, id)",
        "DROP INDEX IF EXISTS scale_action_auth_owner_id",
    ),
    (
        "DROP INDEX IF EXISTS scale_action_auth_owner",
        "CREATE INDEX scale_action_auth_owner ON improvement_action (authority_id, owner_id)",
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
    dependencies = [("improvement", "0011_scale_pages")]

    operations = [migrations.RunPython(forwards, backwards, elidable=False)]
