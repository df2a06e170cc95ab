"""Finer statistics on the search vector, so that a rare word is known to be rare.

PostgreSQL only. With the default statistics target the planner keeps the 1,000 commonest words
of `words_vector` and guesses every other word matches half a percent of the actions (5,000 at a
million). A national search for a word no action has then walked the whole due-date index hoping
to fill a page: 1.9 s. Keeping ten times as many words puts the others' guess near zero, so
PostgreSQL asks the GIN index instead (0.3 ms), while a common word still walks the list's order
and stops at a page. ANALYZE samples more rows of the table to keep them.
"""

from django.db import migrations


def _statistics(target: int):
    def run(apps, schema_editor):
        if schema_editor.connection.vendor != "postgresql":
            return
        schema_editor.execute(
            f"ALTER TABLE improvement_action ALTER COLUMN words_vector SET STATISTICS {target}",
            params=None,
        )
        schema_editor.execute("ANALYZE improvement_action", params=None)

    return run


class Migration(migrations.Migration):
    dependencies = [("improvement", "0017_action_words_vector")]

    operations = [migrations.RunPython(_statistics(1000), _statistics(-1), elidable=False)]
