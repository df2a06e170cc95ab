"""A progress note and an evidence record store their action's authority, as a deadline change
does since 0015: an authority's administrator's newest notes (5 an action, 5,000,000 at a million
actions) were found by joining every note of the authority to its action and sorting them all,
~800 ms for the largest authority; read from an index of the authority's own they are a range.

Filled from the actions, then held to them by the database: a composite foreign key to the
action's (id, authority_id) key (0015) on PostgreSQL, triggers on SQLite.
"""

import django.db.models.deletion
from django.db import migrations, models

TABLES = ("progressnote", "evidence")

BACKFILL = [
    f"UPDATE improvement_{table} SET authority_id = (SELECT a.authority_id FROM "
    f"improvement_action a WHERE a.id = improvement_{table}.action_id)"
    # History rows of evidence keep the action they were written for.
    for table in (*TABLES, "historicalevidence")
]
POSTGRES_FORWARD = [
    f"ALTER TABLE improvement_{table} ADD CONSTRAINT {table}_authority_of_action "
    f"FOREIGN KEY (action_id, authority_id) REFERENCES improvement_action (id, authority_id)"
    for table in TABLES
]
POSTGRES_BACKWARD = [
    f"ALTER TABLE improvement_{table} DROP CONSTRAINT IF EXISTS {table}_authority_of_action"
    for table in TABLES
]

_SQLITE_ROW = """
    CREATE TRIGGER {table}_authority_of_action_{event}
    BEFORE {event} ON improvement_{table}
    FOR EACH ROW WHEN (SELECT authority_id FROM improvement_action WHERE id = NEW.action_id)
        IS NOT NEW.authority_id
    BEGIN
        SELECT RAISE(ABORT, 'FOREIGN KEY constraint failed: {table}_authority_of_action');
    END
"""
# The foreign key's other side: an action with notes or evidence keeps its authority.
_SQLITE_ACTION = """
    CREATE TRIGGER {table}_authority_of_action_moved
    BEFORE UPDATE OF authority_id ON improvement_action
    FOR EACH ROW WHEN EXISTS (
        SELECT 1 FROM improvement_{table}
        WHERE action_id = NEW.id AND authority_id IS NOT NEW.authority_id
    )
    BEGIN
        SELECT RAISE(ABORT, 'FOREIGN KEY constraint failed: {table}_authority_of_action');
    END
"""
SQLITE_FORWARD = [
    statement
    for table in TABLES
    for statement in (
        _SQLITE_ROW.format(table=table, event="INSERT"),
        _SQLITE_ROW.format(table=table, event="UPDATE"),
        _SQLITE_ACTION.format(table=table),
    )
]
SQLITE_BACKWARD = [
    f"DROP TRIGGER IF EXISTS {table}_authority_of_action_{suffix}"
    for table in TABLES
    for suffix in ("INSERT", "UPDATE", "moved")
]


def _run(statements_by_vendor):
    def run(apps, schema_editor):
        for statement in statements_by_vendor.get(schema_editor.connection.vendor, ()):
            schema_editor.execute(statement, params=None)

    return run


def _backfill(apps, schema_editor):
    postgres = schema_editor.connection.vendor == "postgresql"
    if postgres:
        # The new columns' foreign keys are checked at commit by default; checked now, they
        # leave no pending trigger events to stop the ALTER TABLE that follows.
        schema_editor.execute("SET CONSTRAINTS ALL IMMEDIATE", params=None)
    for statement in BACKFILL:
        schema_editor.execute(statement, params=None)
    if postgres:
        schema_editor.execute("SET CONSTRAINTS ALL DEFERRED", params=None)


def _authority(*, null: bool):
    return models.ForeignKey(
        db_index=False,
        editable=False,
        null=null,
        on_delete=django.db.models.deletion.PROTECT,
        related_name="+",
        to="improvement.authority",
    )


class Migration(migrations.Migration):
    dependencies = [
        ("improvement", "0015_deadline_change_authority"),
    ]

    operations = [
        migrations.AddField(
            model_name="progressnote", name="authority", field=_authority(null=True)
        ),
        migrations.AddField(model_name="evidence", name="authority", field=_authority(null=True)),
        migrations.AddField(
            model_name="historicalevidence",
            name="authority",
            field=models.ForeignKey(
                blank=True,
                db_constraint=False,
                editable=False,
                null=True,
                on_delete=django.db.models.deletion.DO_NOTHING,
                related_name="+",
                to="improvement.authority",
            ),
        ),
        migrations.RunPython(_backfill, migrations.RunPython.noop),
        migrations.AlterField(
            model_name="progressnote", name="authority", field=_authority(null=False)
        ),
        migrations.AlterField(
            model_name="evidence", name="authority", field=_authority(null=False)
        ),
        migrations.AddIndex(
            model_name="progressnote",
            index=models.Index(
                fields=["authority", "-created_at", "-id"], name="note_auth_created"
            ),
        ),
        migrations.AddIndex(
            model_name="evidence",
            index=models.Index(
                fields=["authority", "-created_at", "-id"], name="evidence_auth_created"
            ),
        ),
        migrations.RunPython(
            _run({"postgresql": POSTGRES_FORWARD, "sqlite": SQLITE_FORWARD}),
            _run({"postgresql": POSTGRES_BACKWARD, "sqlite": SQLITE_BACKWARD}),
        ),
    ]
