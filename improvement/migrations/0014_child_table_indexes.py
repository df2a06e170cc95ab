"""Indexes for the admin's changelists of the big child tables and for the board pack, at a
million actions (read from their query plans).

- Progress notes (5 per action), evidence, milestones and deadline changes are listed newest
  first and filtered by their status columns; without an index on that order each page sorted
  the whole table (notes 8.6 s at a million actions). Searches use their words through GIN
  indexes on the same expressions improvement.search writes (notes: the stored vector of 0010),
  instead of ILIKE through a join to the action (notes 28.7 s, evidence 17 s).
- The board pack counts an authority's sent-back actions (a partial index: 350-420 ms -> under
  1 ms) and reads the actions written since the last frozen pack from a covering index on
  (authority, updated_at) (100,000 actions: 7 s cold -> 30 ms).

PostgreSQL only, like 0010-0013: each statement with its reverse, names starting "scale_".
"""

from django.db import migrations

WORDS = "to_tsvector('english'::regconfig, {})"

POSTGRES: list[tuple[str, str]] = [
    (
        "CREATE INDEX scale_note_created ON improvement_progressnote (created_at DESC, id DESC)",
        "DROP INDEX IF EXISTS scale_note_created",
    ),
    (
        "CREATE INDEX scale_note_search ON improvement_progressnote USING gin (search_vector)",
        "DROP INDEX IF EXISTS scale_note_search",
    ),
    (
        "CREATE INDEX scale_note_rag_created ON improvement_progressnote "
        "(rag_after, created_at DESC, id DESC) WHERE rag_after <> ''",
        "DROP INDEX IF EXISTS scale_note_rag_created",
    ),
    (
        "CREATE INDEX scale_note_status_created ON improvement_progressnote "
        "(delivery_status_after, created_at DESC, id DESC) WHERE delivery_status_after <> ''",
        "DROP INDEX IF EXISTS scale_note_status_created",
    ),
    (
        "CREATE INDEX scale_note_sample_created ON improvement_progressnote "
        "(is_sample, created_at DESC, id DESC)",
        "DROP INDEX IF EXISTS scale_note_sample_created",
    ),
    (
        "CREATE INDEX scale_evidence_created ON improvement_evidence (created_at DESC, id DESC)",
        "DROP INDEX IF EXISTS scale_evidence_created",
    ),
    (
        "CREATE INDEX scale_evidence_words ON improvement_evidence USING gin "
        "(" + WORDS.format("title || ' ' || url") + ")",
        "DROP INDEX IF EXISTS scale_evidence_words",
    ),
    (
        "CREATE INDEX scale_evidence_sha256 ON improvement_evidence (sha256) WHERE sha256 <> ''",
        "DROP INDEX IF EXISTS scale_evidence_sha256",
    ),
    (
        "CREATE INDEX scale_evidence_type_created ON improvement_evidence "
        "(content_type, created_at DESC, id DESC) WHERE content_type <> ''",
        "DROP INDEX IF EXISTS scale_evidence_type_created",
    ),
    (
        "CREATE INDEX scale_evidence_sample_created ON improvement_evidence "
        "(is_sample, created_at DESC, id DESC)",
        "DROP INDEX IF EXISTS scale_evidence_sample_created",
    ),
    (
        "CREATE INDEX scale_milestone_title_words ON improvement_milestone USING gin "
        f"({WORDS.format('title')})",
        "DROP INDEX IF EXISTS scale_milestone_title_words",
    ),
    (
        "CREATE INDEX scale_duedatechange_created ON improvement_duedatechange "
        "(created_at DESC, id DESC)",
        "DROP INDEX IF EXISTS scale_duedatechange_created",
    ),
    (
        "CREATE INDEX scale_duedatechange_status_created ON improvement_duedatechange "
        "(status, created_at DESC, id DESC)",
        "DROP INDEX IF EXISTS scale_duedatechange_status_created",
    ),
    (
        "CREATE INDEX scale_duedatechange_reason_words ON improvement_duedatechange USING gin "
        f"({WORDS.format('reason')})",
        "DROP INDEX IF EXISTS scale_duedatechange_reason_words",
    ),
    (
        "CREATE INDEX scale_action_sent_back ON improvement_action (authority_id, due_date, id) "
        "WHERE sent_back_at IS NOT NULL AND impact_status = 'not_assessed'",
        "DROP INDEX IF EXISTS scale_action_sent_back",
    ),
    (
        "CREATE INDEX scale_action_auth_updated_cover ON improvement_action "
        "(authority_id, updated_at) INCLUDE (id, due_date, rag, impact_status)",
        "DROP INDEX IF EXISTS scale_action_auth_updated_cover",
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
    dependencies = [("improvement", "0013_rank_sorts")]

    operations = [migrations.RunPython(forwards, backwards, elidable=False)]
