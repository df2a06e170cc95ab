"""One stored vector of all an action's words: its own and its notes'.

PostgreSQL only. Migration 0010 searched `search_vector || notes_vector`, two stored columns
joined for every row the search checks: a scoped search walks the authority's actions in the
list's order until the page and the capped count are found (2,600 rows for "plan" in the largest
authority at a million actions), and joining the two vectors was most of that work. A generated
column holds the joined vector instead (recomputed whenever the row or its notes' vector
changes), with the GIN index on it; `search_vector` goes, since nothing else reads it.

Adding a stored generated column rewrites the table: about a minute at a million actions.
"""

from django.db import migrations

_OWN_WORDS = (
    "to_tsvector('english'::regconfig, coalesce(reference, '') || ' ' || coalesce(title, '')"
    " || ' ' || coalesce(description, ''))"
)

FORWARD = [
    "DROP INDEX IF EXISTS scale_action_search",
    "ALTER TABLE improvement_action DROP COLUMN search_vector",
    f"ALTER TABLE improvement_action ADD COLUMN words_vector tsvector GENERATED ALWAYS AS "
    f"({_OWN_WORDS} || notes_vector) STORED",
    "CREATE INDEX scale_action_words ON improvement_action USING gin (words_vector)",
]

BACKWARD = [
    "DROP INDEX IF EXISTS scale_action_words",
    "ALTER TABLE improvement_action DROP COLUMN words_vector",
    f"ALTER TABLE improvement_action ADD COLUMN search_vector tsvector GENERATED ALWAYS AS "
    f"({_OWN_WORDS}) STORED",
    "CREATE INDEX scale_action_search ON improvement_action "
    "USING gin ((search_vector || notes_vector))",
]


def _run(statements):
    def run(apps, schema_editor):
        if schema_editor.connection.vendor != "postgresql":
            return
        for statement in statements:
            schema_editor.execute(statement, params=None)

    return run


class Migration(migrations.Migration):
    dependencies = [("improvement", "0016_note_evidence_authority")]

    operations = [migrations.RunPython(_run(FORWARD), _run(BACKWARD), elidable=False)]
