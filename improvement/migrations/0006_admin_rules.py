"""Rules every route meets, held by the database where it can hold them.

- An action's team belongs to the action's authority: a composite foreign key
  action(team_id, authority_id) -> team(id, authority_id) on PostgreSQL, a trigger on SQLite
  (which cannot add a foreign key to an existing table).
- A percentage measure's values stay within 0 to 100 (a CHECK cannot look at the measure's
  unit, so a trigger does).
- Evidence of an action signed off as impact evidenced cannot be deleted (PostgreSQL only:
  SQLite empties tables with DELETE when tests flush, which a delete trigger would refuse).
"""

from django.db import migrations, models

POSTGRES_FORWARD = [
    """
    ALTER TABLE improvement_action ADD CONSTRAINT action_team_same_authority
    FOREIGN KEY (team_id, authority_id) REFERENCES improvement_team (id, authority_id)
    """,
    """
    CREATE FUNCTION improvement_measure_value_in_bounds() RETURNS trigger AS $$
    BEGIN
        IF (NEW.value < 0 OR NEW.value > 100)
           AND (SELECT unit FROM improvement_measure WHERE id = NEW.measure_id) = 'percent' THEN
            RAISE EXCEPTION 'measure_value_percent_in_range: % is not a percentage', NEW.value
                USING ERRCODE = 'check_violation';
        END IF;
        RETURN NEW;
    END
    $$ LANGUAGE plpgsql
    """,
    """
    CREATE TRIGGER measure_value_percent_in_range
    BEFORE INSERT OR UPDATE ON improvement_measurevalue
    FOR EACH ROW EXECUTE FUNCTION improvement_measure_value_in_bounds()
    """,
    """
    CREATE FUNCTION improvement_evidence_kept() RETURNS trigger AS $$
    BEGIN
        IF (SELECT impact_status FROM improvement_action WHERE id = OLD.action_id)
           = 'evidenced' THEN
            RAISE EXCEPTION 'evidence_kept_after_sign_off: action % is impact evidenced',
                OLD.action_id USING ERRCODE = 'restrict_violation';
        END IF;
        RETURN OLD;
    END
    $$ LANGUAGE plpgsql
    """,
    """
    CREATE TRIGGER evidence_kept_after_sign_off
    BEFORE DELETE ON improvement_evidence
    FOR EACH ROW EXECUTE FUNCTION improvement_evidence_kept()
    """,
]
POSTGRES_BACKWARD = [
    "DROP TRIGGER IF EXISTS evidence_kept_after_sign_off ON improvement_evidence",
    "DROP FUNCTION IF EXISTS improvement_evidence_kept()",
    "DROP TRIGGER IF EXISTS measure_value_percent_in_range ON improvement_measurevalue",
    "DROP FUNCTION IF EXISTS improvement_measure_value_in_bounds()",
    "ALTER TABLE improvement_action DROP CONSTRAINT IF EXISTS action_team_same_authority",
]

_SQLITE_PERCENT = """
    CREATE TRIGGER measure_value_percent_in_range_{event}
    BEFORE {event} ON improvement_measurevalue
    FOR EACH ROW WHEN (NEW.value < 0 OR NEW.value > 100)
        AND (SELECT unit FROM improvement_measure WHERE id = NEW.measure_id) = 'percent'
    BEGIN SELECT RAISE(ABORT, 'CHECK constraint failed: measure_value_percent_in_range'); END
"""
_SQLITE_TEAM = """
    CREATE TRIGGER action_team_same_authority_{event}
    BEFORE {event} ON improvement_action
    FOR EACH ROW WHEN NEW.team_id IS NOT NULL
        AND (SELECT authority_id FROM improvement_team WHERE id = NEW.team_id)
            IS NOT NEW.authority_id
    BEGIN SELECT RAISE(ABORT, 'FOREIGN KEY constraint failed: action_team_same_authority'); END
"""
SQLITE_FORWARD = [
    template.format(event=event)
    for template in (_SQLITE_PERCENT, _SQLITE_TEAM)
    for event in ("INSERT", "UPDATE")
]
SQLITE_BACKWARD = [
    f"DROP TRIGGER IF EXISTS {name}_{event}"
    for name in ("measure_value_percent_in_range", "action_team_same_authority")
    for event in ("INSERT", "UPDATE")
]


def _run(statements_by_vendor):
    def run(apps, schema_editor):
        for statement in statements_by_vendor.get(schema_editor.connection.vendor, ()):
            # No parameters: the PL/pgSQL bodies use % in RAISE formats.
            schema_editor.execute(statement, params=None)

    return run


class Migration(migrations.Migration):
    dependencies = [
        ("improvement", "0005_importer_readings"),
    ]

    operations = [
        migrations.AddConstraint(
            model_name="team",
            constraint=models.UniqueConstraint(
                fields=("id", "authority"), name="team_unique_id_authority"
            ),
        ),
        migrations.RunPython(
            _run({"postgresql": POSTGRES_FORWARD, "sqlite": SQLITE_FORWARD}),
            _run({"postgresql": POSTGRES_BACKWARD, "sqlite": SQLITE_BACKWARD}),
        ),
    ]
