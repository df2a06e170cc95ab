"""Indexes and stored search vectors for a national tracker (about a million actions).

PostgreSQL only: partial and expression indexes serve each rulebook state and each list's sort,
and stored tsvector columns with a GIN index serve the text search (improvement/search.py).
SQLite (development) keeps the plain indexes the models declare and searches by substring.
The generated columns are not model fields: the database keeps them current on every write,
whichever route writes, and the ORM never reads or writes them except through search.py.
"""

from django.db import migrations

# Each statement with its reverse. Names start "scale_" so that they are easy to find.
POSTGRES = [
    # Search. Each action's own words (reference, title, description) are a generated column;
    # its notes' words are kept beside them by a trigger on notes (append-only, so an insert
    # appends; an edit or delete recomputes). One GIN index over both serves the search, and
    # combines with the authority's index (BitmapAnd) for a scoped search.
    (
        "ALTER TABLE improvement_action ADD COLUMN search_vector tsvector GENERATED ALWAYS AS "
        "(to_tsvector('english'::regconfig, coalesce(reference, '') || ' ' || coalesce(title, '')"
        " || ' ' || coalesce(description, ''))) STORED",
        "ALTER TABLE improvement_action DROP COLUMN IF EXISTS search_vector",
    ),
    (
        "ALTER TABLE improvement_action ADD COLUMN notes_vector tsvector NOT NULL "
        "DEFAULT ''::tsvector",
        "ALTER TABLE improvement_action DROP COLUMN IF EXISTS notes_vector",
    ),
    (
        "ALTER TABLE improvement_progressnote ADD COLUMN search_vector tsvector GENERATED ALWAYS "
        "AS (to_tsvector('english'::regconfig, coalesce(text, ''))) STORED",
        "ALTER TABLE improvement_progressnote DROP COLUMN IF EXISTS search_vector",
    ),
    (
        """
        CREATE FUNCTION scale_action_notes_vector() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
          IF TG_OP = 'INSERT' THEN
            UPDATE improvement_action SET notes_vector = notes_vector || NEW.search_vector
            WHERE id = NEW.action_id;
            RETURN NEW;
          END IF;
          UPDATE improvement_action a SET notes_vector = coalesce(
            (SELECT to_tsvector('english'::regconfig, string_agg(n.text, ' '))
             FROM improvement_progressnote n WHERE n.action_id = a.id), ''::tsvector)
          WHERE a.id = OLD.action_id
             OR (TG_OP = 'UPDATE' AND a.id = NEW.action_id);
          RETURN NULL;
        END $$
        """,
        "DROP FUNCTION IF EXISTS scale_action_notes_vector() CASCADE",
    ),
    (
        "CREATE TRIGGER scale_note_inserted AFTER INSERT ON improvement_progressnote "
        "FOR EACH ROW EXECUTE FUNCTION scale_action_notes_vector()",
        "DROP TRIGGER IF EXISTS scale_note_inserted ON improvement_progressnote",
    ),
    (
        "CREATE TRIGGER scale_note_changed AFTER UPDATE OF text, action_id OR DELETE "
        "ON improvement_progressnote FOR EACH ROW EXECUTE FUNCTION scale_action_notes_vector()",
        "DROP TRIGGER IF EXISTS scale_note_changed ON improvement_progressnote",
    ),
    (
        "CREATE INDEX scale_action_search ON improvement_action "
        "USING gin ((search_vector || notes_vector))",
        "DROP INDEX IF EXISTS scale_action_search",
    ),
    # The dashboard's headline counts and the national figures read only these columns: an
    # index-only scan of the authority's entries instead of its (wide) rows.
    (
        "CREATE INDEX scale_action_auth_states ON improvement_action (authority_id) INCLUDE "
        "(impact_status, delivery_status, rag, due_date, due_date_change_count, last_note_at, "
        "created_at)",
        "DROP INDEX IF EXISTS scale_action_auth_states",
    ),
    # The default list order (due date, id), whole reach and per authority.
    (
        "CREATE INDEX scale_action_due ON improvement_action (due_date, id)",
        "DROP INDEX IF EXISTS scale_action_due",
    ),
    (
        "CREATE INDEX scale_action_auth_due_id ON improvement_action (authority_id, due_date, id)",
        "DROP INDEX IF EXISTS scale_action_auth_due_id",
    ),
    # Overdue and due soon: only actions still to deliver, in due-date order.
    (
        "CREATE INDEX scale_action_undelivered_due ON improvement_action "
        "(authority_id, due_date, id) WHERE delivery_status <> 'delivered'",
        "DROP INDEX IF EXISTS scale_action_undelivered_due",
    ),
    # Stale: open actions by last update (rulebook.last_update), oldest first.
    (
        "CREATE INDEX scale_action_open_last_update ON improvement_action "
        "(authority_id, (COALESCE(last_note_at, created_at)), id) "
        "WHERE impact_status = 'not_assessed'",
        "DROP INDEX IF EXISTS scale_action_open_last_update",
    ),
    (
        "CREATE INDEX scale_action_last_update ON improvement_action "
        "((COALESCE(last_note_at, created_at)), id)",
        "DROP INDEX IF EXISTS scale_action_last_update",
    ),
    # Slipped and awaiting sign-off are small slices of the plan.
    (
        "CREATE INDEX scale_action_slipped ON improvement_action (authority_id, due_date, id) "
        "WHERE due_date_change_count >= 2",
        "DROP INDEX IF EXISTS scale_action_slipped",
    ),
    (
        "CREATE INDEX scale_action_awaiting ON improvement_action (authority_id, due_date, id) "
        "WHERE delivery_status = 'delivered' AND impact_status = 'not_assessed'",
        "DROP INDEX IF EXISTS scale_action_awaiting",
    ),
    # My actions: an owner's (or a led team's) open actions in due-date order.
    (
        "CREATE INDEX scale_action_owner_open ON improvement_action (owner_id, due_date, id) "
        "WHERE impact_status = 'not_assessed'",
        "DROP INDEX IF EXISTS scale_action_owner_open",
    ),
    (
        "CREATE INDEX scale_action_team_open ON improvement_action (team_id, due_date, id) "
        "WHERE impact_status = 'not_assessed'",
        "DROP INDEX IF EXISTS scale_action_team_open",
    ),
    # The admin changelist's default order (newest first) without sorting the table.
    (
        "CREATE INDEX scale_action_created ON improvement_action (created_at DESC, id DESC)",
        "DROP INDEX IF EXISTS scale_action_created",
    ),
    # The theme filter's and "themes that recur"'s EXISTS, from the theme side.
    (
        "CREATE INDEX scale_action_themes_theme ON improvement_action_themes (theme_id, action_id)",
        "DROP INDEX IF EXISTS scale_action_themes_theme",
    ),
    (
        "CREATE INDEX scale_area_themes_theme ON improvement_improvementarea_themes "
        "(theme_id, improvementarea_id)",
        "DROP INDEX IF EXISTS scale_area_themes_theme",
    ),
    (
        "CREATE INDEX scale_action_areas_area ON improvement_action_improvement_areas "
        "(improvementarea_id, action_id)",
        "DROP INDEX IF EXISTS scale_action_areas_area",
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
    dependencies = [("improvement", "0009_board_packs")]

    operations = [migrations.RunPython(forwards, backwards, elidable=False)]
