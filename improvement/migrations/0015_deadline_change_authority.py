"""A deadline change stores its action's authority, so that an authority's deadline register
reads its newest decisions from an index of its own instead of joining every change in the
country to its action (the largest authority's recent decisions at a million actions: ~84 ms
of hashing 100,000 actions and reading 200,000 changes, against well under a millisecond).

The column is filled from the actions, then held to them by the database: a composite foreign
key duedatechange(action_id, authority_id) -> action(id, authority_id) on PostgreSQL, and
triggers on SQLite (which cannot add a foreign key to an existing table), as 0006 does for an
action's team.
"""

import django.db.models.deletion
from django.db import migrations, models

BACKFILL = [
    "UPDATE improvement_duedatechange SET authority_id = (SELECT a.authority_id FROM "
    "improvement_action a WHERE a.id = improvement_duedatechange.action_id)",
    # History rows of a change keep the action they were written for.
    "UPDATE improvement_historicalduedatechange SET authority_id = (SELECT a.authority_id FROM "
    "improvement_action a WHERE a.id = improvement_historicalduedatechange.action_id)",
]

# On PostgreSQL only: what the composite key refers to. On SQLite a unique constraint would make
# Django rebuild the action table, dropping 0006's triggers on it, and the triggers need none.
POSTGRES_FORWARD = [
    "ALTER TABLE improvement_action ADD CONSTRAINT action_unique_id_authority "
    "UNIQUE (id, authority_id)",
    """
    ALTER TABLE improvement_duedatechange ADD CONSTRAINT due_date_change_authority_of_action
    FOREIGN KEY (action_id, authority_id) REFERENCES improvement_action (id, authority_id)
    """,
]
POSTGRES_BACKWARD = [
    "ALTER TABLE improvement_duedatechange "
    "DROP CONSTRAINT IF EXISTS due_date_change_authority_of_action",
    "ALTER TABLE improvement_action DROP CONSTRAINT IF EXISTS action_unique_id_authority",
]

_SQLITE_CHANGE = """
    CREATE TRIGGER due_date_change_authority_of_action_{event}
    BEFORE {event} ON improvement_duedatechange
    FOR EACH ROW WHEN (SELECT authority_id FROM improvement_action WHERE id = NEW.action_id)
        IS NOT NEW.authority_id
    BEGIN
        SELECT RAISE(ABORT, 'FOREIGN KEY constraint failed: due_date_change_authority_of_action');
    END
"""
# The foreign key's other side: an action with deadline changes keeps its authority.
_SQLITE_ACTION = """
    CREATE TRIGGER due_date_change_authority_of_action_moved
    BEFORE UPDATE OF authority_id ON improvement_action
    FOR EACH ROW WHEN EXISTS (
        SELECT 1 FROM improvement_duedatechange
        WHERE action_id = NEW.id AND authority_id IS NOT NEW.authority_id
    )
    BEGIN
        SELECT RAISE(ABORT, 'FOREIGN KEY constraint failed: due_date_change_authority_of_action');
    END
"""
SQLITE_FORWARD = [_SQLITE_CHANGE.format(event=event) for event in ("INSERT", "UPDATE")] + [
    _SQLITE_ACTION
]
SQLITE_BACKWARD = [
    f"DROP TRIGGER IF EXISTS due_date_change_authority_of_action_{suffix}"
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
        # The new column's foreign key is checked at commit by default; checked now, it leaves
        # no pending trigger events to stop the ALTER TABLE that follows in this transaction.
        schema_editor.execute("SET CONSTRAINTS ALL IMMEDIATE", params=None)
    for statement in BACKFILL:
        schema_editor.execute(statement, params=None)
    if postgres:
        schema_editor.execute("SET CONSTRAINTS ALL DEFERRED", params=None)


class Migration(migrations.Migration):
    dependencies = [
        ("improvement", "0014_child_table_indexes"),
    ]

    operations = [
        migrations.AddField(
            model_name="duedatechange",
            name="authority",
            field=models.ForeignKey(
                db_index=False,
                editable=False,
                null=True,
                on_delete=django.db.models.deletion.PROTECT,
                related_name="+",
                to="improvement.authority",
            ),
        ),
        migrations.AddField(
            model_name="historicalduedatechange",
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
            model_name="duedatechange",
            name="authority",
            field=models.ForeignKey(
                db_index=False,
                editable=False,
                on_delete=django.db.models.deletion.PROTECT,
                related_name="+",
                to="improvement.authority",
            ),
        ),
        migrations.AddIndex(
            model_name="duedatechange",
            index=models.Index(fields=["authority", "-created_at", "-id"], name="ddc_auth_created"),
        ),
        migrations.AddIndex(
            model_name="duedatechange",
            index=models.Index(
                condition=models.Q(("status", "pending"), _negated=True),
                fields=["authority", "-decided_at", "-id"],
                name="ddc_auth_decided",
            ),
        ),
        migrations.RunPython(
            _run({"postgresql": POSTGRES_FORWARD, "sqlite": SQLITE_FORWARD}),
            _run({"postgresql": POSTGRES_BACKWARD, "sqlite": SQLITE_BACKWARD}),
        ),
    ]
