"""Builds a national dataset on PostgreSQL by COPY: every English authority, uneven in size.

Shape (per the scale issue): the authorities of local-authorities.csv, the largest holding 10% of
the actions and the rest following a long tail; several inspections each, with judgements,
numbered findings and improvement areas; 3 to 15 actions per improvement area; per action about
ten rows of trail (about 5 progress notes, 2 milestones, 1 evidence link, measure values through
the authority's measures) and deadline changes on a tenth. Dates run relative to today.

Rows stream from one pass of Python into one COPY per table, each on its own connection, with
foreign-key triggers off (session_replication_role) and secondary indexes dropped during the load
and rebuilt after; then ANALYZE. Used by benchmarks/bench_scale.py.
"""

from __future__ import annotations

import datetime as dt
import io
import random
import time
from zoneinfo import ZoneInfo

import psycopg

# Words that titles, descriptions and notes are made from: "plan" in about one title in ten.
VERBS = ["Improve", "Strengthen", "Embed", "Review", "Audit", "Train staff on", "Redesign"]
OBJECTS = [
    "supervision of",
    "management oversight of",
    "the quality of",
    "multi-agency work on",
    "recording of",
    "timeliness of",
]
TOPICS = [
    "child protection plans",
    "care leavers' pathway plans",
    "return home interviews",
    "strategy discussions",
    "assessments of need",
    "placement sufficiency",
    "life story work",
    "private fostering arrangements",
    "contextual safeguarding",
    "early help assessments",
    "disabled children's reviews",
    "missing from education checks",
    "court work under pre-proceedings",
    "sibling assessments",
    "foster carer recruitment",
    "personal advisers' caseloads",
    "health assessments of children in care",
    "education outcomes of children in care",
    "quality assurance of audits",
    "practice standards",
]
NOTE_WORDS = [
    "Audit sample completed; findings shared with team managers.",
    "Training delivered to two teams, attendance recorded.",
    "Dip sample shows supervision now monthly in most cases.",
    "Partner agencies agreed the revised threshold document.",
    "Performance report to the improvement board this month.",
    "Practice week held; feedback from families collected.",
    "Recruitment campaign launched for experienced social workers.",
    "Case tracking meeting now weekly with the service manager.",
    "Revised template live in the case recording system.",
    "Escalation protocol reviewed with the safeguarding partnership.",
]
THEMES_PER_AREA = 2
INSPECTION_KINDS = ["ilacs_standard", "focused_visit", "monitoring_visit", "ilacs_short", "jtai"]
GRADES = ["outstanding", "good", "requires_improvement_to_be_good", "inadequate"]

BIG_TABLES = [
    "improvement_action",
    "improvement_progressnote",
    "improvement_milestone",
    "improvement_evidence",
    "improvement_duedatechange",
    "improvement_measurevalue",
    "improvement_measure",
    "improvement_action_improvement_areas",
    "improvement_action_themes",
    "improvement_measure_actions",
    "improvement_improvementarea",
    "improvement_improvementarea_themes",
    "improvement_improvementarea_supporting_findings",
    "improvement_finding",
    "improvement_finding_themes",
    "improvement_judgement",
    "improvement_inspection",
    "improvement_team",
    "improvement_user",
    "improvement_user_groups",
]

COLUMNS = {
    "improvement_user": "id password is_superuser username first_name last_name email is_staff "
    "is_active date_joined job_title authority_id reach region",
    "improvement_user_groups": "id user_id group_id",
    "improvement_team": "id created_at updated_at name kind authority_id lead_id",
    "improvement_inspection": "id created_at updated_at kind title start_date end_date "
    "publication_date lead_inspectors report_url summary outcome source_sha256 authority_id "
    "fieldwork_ranges",
    "improvement_judgement": "id created_at updated_at area grade is_overall position "
    "inspection_id",
    "improvement_finding": "id created_at updated_at number section text inspection_id",
    "improvement_finding_themes": "id finding_id theme_id",
    "improvement_improvementarea": "id created_at updated_at position text framework_tag "
    "is_priority_action responsible_body inspection_id responsible_bodies",
    "improvement_improvementarea_themes": "id improvementarea_id theme_id",
    "improvement_improvementarea_supporting_findings": "id improvementarea_id finding_id",
    "improvement_action": "id created_at updated_at reference title description start_date "
    "original_due_date due_date delivery_status impact_status rag priority success_measure "
    "signed_off_at closure_note is_sample last_note_at due_date_change_count version owner_id "
    "signed_off_by_id authority_id team_id sent_back_at",
    "improvement_action_improvement_areas": "id action_id improvementarea_id",
    "improvement_action_themes": "id action_id theme_id",
    "improvement_progressnote": "id created_at text delivery_status_before "
    "delivery_status_after rag_before rag_after is_sample action_id authority_id author_id",
    "improvement_milestone": "id created_at updated_at title due_date completed_on position "
    "action_id",
    "improvement_evidence": "id created_at updated_at title file url size content_type sha256 "
    "is_sample action_id authority_id added_by_id",
    "improvement_duedatechange": "id created_at updated_at old_date new_date reason status "
    "decided_at decision_note action_id authority_id decided_by_id requested_by_id",
    "improvement_measure": "id created_at updated_at name description unit direction "
    "baseline_value baseline_date target_value target_date authority_id",
    "improvement_measure_actions": "id measure_id action_id",
    "improvement_measurevalue": "id created_at updated_at recorded_on value note is_sample "
    "measure_id recorded_by_id",
}


def _cell(value) -> str:
    if value is None:
        return r"\N"
    if value is True:
        return "t"
    if value is False:
        return "f"
    return str(value)


class Loader:
    """One COPY per table, each on its own connection, fed in chunks as rows are made."""

    FLUSH_AT = 1 << 20

    def __init__(self, dsn: str):
        self.dsn = dsn
        self.connections: dict[str, psycopg.Connection] = {}
        self.copies = {}
        self.buffers: dict[str, io.StringIO] = {}
        self.ids: dict[str, int] = {}
        self.counts: dict[str, int] = {}
        self._contexts = []

    def next_id(self, table: str) -> int:
        self.ids[table] = self.ids.get(table, 0) + 1
        return self.ids[table]

    def row(self, table: str, *values) -> int:
        """Append one row (id first, assigned here) and return its id."""
        pk = self.next_id(table)
        buffer = self.buffers.get(table)
        if buffer is None:
            buffer = self.buffers[table] = io.StringIO()
        buffer.write(str(pk))
        for value in values:
            buffer.write("\t")
            buffer.write(_cell(value))
        buffer.write("\n")
        self.counts[table] = self.counts.get(table, 0) + 1
        if buffer.tell() >= self.FLUSH_AT:
            self._flush(table)
        return pk

    def _copy(self, table: str):
        if table not in self.copies:
            connection = psycopg.connect(self.dsn, autocommit=False)
            connection.execute("SET session_replication_role = replica")
            cursor = connection.cursor()
            columns = ", ".join(f'"{c}"' for c in COLUMNS[table].split())
            context = cursor.copy(f"COPY {table} ({columns}) FROM STDIN")
            self.connections[table] = connection
            self.copies[table] = context.__enter__()
            self._contexts.append((table, context))
        return self.copies[table]

    def _flush(self, table: str) -> None:
        buffer = self.buffers[table]
        data = buffer.getvalue()
        if data:
            self._copy(table).write(data)
        self.buffers[table] = io.StringIO()

    def finish(self) -> None:
        for table in list(self.buffers):
            self._flush(table)
        for table, context in self._contexts:
            context.__exit__(None, None, None)
            self.connections[table].commit()
            self.connections[table].close()


def _weights(count: int, rng: random.Random) -> list[float]:
    """The largest authority 10%, the rest a long tail (lognormal), summing to 1."""
    rest = sorted((rng.lognormvariate(0, 0.8) for _ in range(count - 1)), reverse=True)
    total = sum(rest)
    return [0.10] + [0.90 * w / total for w in rest]


def _secondary_indexes(connection) -> list[tuple[str, str]]:
    rows = connection.execute(
        """
        SELECT i.indexname, i.indexdef FROM pg_indexes i
        WHERE i.schemaname = 'public' AND i.tablename = ANY(%s)
          AND NOT EXISTS (SELECT 1 FROM pg_constraint c WHERE c.conname = i.indexname)
        """,
        [BIG_TABLES],
    ).fetchall()
    return [(name, definition) for name, definition in rows]


def build(dsn: str, actions: int, *, seed: int = 15, log=print) -> dict[str, int]:
    """Fill an empty, migrated database (with authorities, themes and role groups loaded)."""
    rng = random.Random(seed)
    started = time.monotonic()
    now = dt.datetime.now(dt.UTC)
    today = now.astimezone(ZoneInfo("Europe/London")).date()
    with psycopg.connect(dsn, autocommit=True) as connection:
        authorities = connection.execute(
            "SELECT id, region FROM improvement_authority ORDER BY name"
        ).fetchall()
        themes = [r[0] for r in connection.execute("SELECT id FROM improvement_theme")]
        groups = dict(connection.execute("SELECT name, id FROM auth_group").fetchall())
        indexes = _secondary_indexes(connection)
        for name, _ in indexes:
            connection.execute(f'DROP INDEX IF EXISTS "{name}"')
    from django.contrib.auth.hashers import make_password

    password = make_password("bench-password")
    loader = Loader(dsn)
    stamp = now.isoformat()
    user = "improvement_user"

    def add_user(
        username, *, authority_id, reach="authority", region="", role=None, staff=False, root=False
    ):
        pk = loader.row(
            user,
            password,
            root,
            username,
            username.split("-")[0].title(),
            f"User {loader.ids.get(user, 0) + 1}",
            f"{username}@bench.example",
            staff,
            True,
            stamp,
            "",
            authority_id,
            reach,
            region,
        )
        if role:
            loader.row("improvement_user_groups", pk, groups[role])
        return pk

    add_user("bench-admin", authority_id=None, reach="national", staff=True, root=True)
    add_user("bench-national", authority_id=None, reach="national", role="Senior leader")
    add_user(
        "bench-regional",
        authority_id=None,
        reach="region",
        region="North West",
        role="Senior leader",
    )
    shares = _weights(len(authorities), rng)
    day = dt.timedelta(days=1)
    statuses = ("not_started", "in_progress", "delivered")
    for (authority_id, _region), share in zip(authorities, shares, strict=True):
        n_actions = max(3, round(actions * share))
        leader = add_user(f"leader-{authority_id}", authority_id=authority_id, role="Senior leader")
        # The authority's own administrator (not a superuser): the admin's lists narrowed to one
        # authority.
        add_user(
            f"admin-{authority_id}", authority_id=authority_id, role="Administrator", staff=True
        )
        n_owners = max(2, n_actions // 40)
        owners = [
            add_user(f"owner-{authority_id}-{k}", authority_id=authority_id, role="Action owner")
            for k in range(n_owners)
        ]
        teams = [
            loader.row(
                "improvement_team", stamp, stamp, f"Team {k}", "council", authority_id, owners[k]
            )
            for k in range(min(5, n_owners))
        ]
        measures = []
        for k in range(max(3, n_actions // 200)):
            measure = loader.row(
                "improvement_measure",
                stamp,
                stamp,
                f"Measure {k}",
                "",
                "percent",
                "up",
                "40.00",
                (today - 700 * day).isoformat(),
                "80.00",
                (today + 300 * day).isoformat(),
                authority_id,
            )
            measures.append(measure)
            for month in range(12):
                loader.row(
                    "improvement_measurevalue",
                    stamp,
                    stamp,
                    (today - (30 * month + 1) * day).isoformat(),
                    f"{40 + rng.random() * 40:.2f}",
                    "",
                    False,
                    measure,
                    leader,
                )
        # Improvement areas enough for 3-15 actions each, over several inspections.
        n_areas = max(1, n_actions // 9)
        n_inspections = max(3, min(40, n_areas // 25))
        areas: list[int] = []
        for k in range(n_inspections):
            start = today - (3650 - k * (3300 // n_inspections)) * day
            kind = INSPECTION_KINDS[k % len(INSPECTION_KINDS)]
            inspection = loader.row(
                "improvement_inspection",
                stamp,
                stamp,
                kind,
                "",
                start.isoformat(),
                (start + 10 * day).isoformat(),
                (start + 40 * day).isoformat(),
                "[]",
                "",
                "",
                "",
                "",
                authority_id,
                "[]",
            )
            if kind in ("ilacs_standard", "ilacs_short"):
                loader.row(
                    "improvement_judgement",
                    stamp,
                    stamp,
                    "Overall effectiveness",
                    rng.choice(GRADES),
                    True,
                    0,
                    inspection,
                )
                for position, area_name in enumerate(("Help and protection", "In care"), 1):
                    loader.row(
                        "improvement_judgement",
                        stamp,
                        stamp,
                        area_name,
                        rng.choice(GRADES),
                        False,
                        position,
                        inspection,
                    )
            findings = []
            for number in range(1, 21):
                finding = loader.row(
                    "improvement_finding",
                    stamp,
                    stamp,
                    number,
                    "Findings",
                    f"Paragraph {number}: {rng.choice(TOPICS)} are not consistently effective.",
                    inspection,
                )
                findings.append(finding)
                loader.row("improvement_finding_themes", finding, rng.choice(themes))
            per_inspection = n_areas // n_inspections + (k < n_areas % n_inspections)
            for position in range(1, per_inspection + 1):
                area = loader.row(
                    "improvement_improvementarea",
                    stamp,
                    stamp,
                    position,
                    f"The {rng.choice(OBJECTS)} {rng.choice(TOPICS)}.",
                    "",
                    False,
                    "",
                    inspection,
                    "[]",
                )
                areas.append(area)
                for theme in rng.sample(themes, THEMES_PER_AREA):
                    loader.row("improvement_improvementarea_themes", area, theme)
                loader.row(
                    "improvement_improvementarea_supporting_findings",
                    area,
                    findings[position % 20],
                )
        for n in range(n_actions):
            area = areas[n % len(areas)]
            owner = rng.choice(owners)
            created = now - dt.timedelta(days=rng.randint(1, 730), seconds=rng.randint(0, 86399))
            start_date = created.date()
            original_due = start_date + rng.randint(30, 365) * day
            changes = rng.choice((1, 2, 3)) if rng.random() < 0.1 else 0
            due = original_due + 30 * changes * day
            status = statuses[min(2, int(rng.random() * 3.4))]
            impact, rag, signed_by, signed_at = (
                "not_assessed",
                rng.choice(("red", "amber", "green")),
                None,
                None,
            )
            if status == "delivered" and rng.random() < 0.6:
                impact = "evidenced" if rng.random() < 0.7 else "closed_without_impact"
                rag, signed_by, signed_at = "blue", leader, stamp
            n_notes = rng.randint(0, 10)
            note_times = sorted(created + (now - created) * rng.random() for _ in range(n_notes))
            topic = rng.choice(TOPICS)
            title = f"{rng.choice(VERBS)} {rng.choice(OBJECTS)} {topic}"
            action = loader.row(
                "improvement_action",
                created.isoformat(),
                stamp,
                f"{n // 9 + 1}.{n % 9 + 1}",
                title[:250],
                f"So that {topic} meet the practice standard across every team.",
                start_date.isoformat(),
                original_due.isoformat(),
                due.isoformat(),
                status,
                impact,
                rag,
                rng.choice(("high", "medium", "low")),
                "Audits show the standard met in 80% of cases.",
                signed_at,
                "",
                True,
                note_times[-1].isoformat() if note_times else None,
                changes,
                1,
                owner,
                signed_by,
                authority_id,
                rng.choice(teams) if rng.random() < 0.8 else None,
                None,
            )
            loader.row("improvement_action_improvement_areas", action, area)
            if rng.random() < 0.3:
                loader.row("improvement_action_themes", action, rng.choice(themes))
            if rng.random() < 0.5:
                loader.row("improvement_measure_actions", rng.choice(measures), action)
            for when in note_times:
                loader.row(
                    "improvement_progressnote",
                    when.isoformat(),
                    rng.choice(NOTE_WORDS),
                    "",
                    "",
                    "",
                    "",
                    True,
                    action,
                    authority_id,
                    owner,
                )
            for position in range(2):
                milestone_due = start_date + (position + 1) * 20 * day
                loader.row(
                    "improvement_milestone",
                    stamp,
                    stamp,
                    f"Milestone {position + 1}",
                    milestone_due.isoformat(),
                    milestone_due.isoformat() if milestone_due < today else None,
                    position,
                    action,
                )
            loader.row(
                "improvement_evidence",
                stamp,
                stamp,
                "Audit summary",
                "",
                f"https://intranet.example/audit/{action}",
                None,
                "",
                "",
                True,
                action,
                authority_id,
                owner,
            )
            old = original_due
            for _ in range(changes):
                loader.row(
                    "improvement_duedatechange",
                    stamp,
                    stamp,
                    old.isoformat(),
                    (old + 30 * day).isoformat(),
                    "Waiting for partner agencies to agree the protocol.",
                    "approved",
                    stamp,
                    "",
                    action,
                    authority_id,
                    leader,
                    owner,
                )
                old += 30 * day
    generated = time.monotonic() - started
    loader.finish()
    loaded = time.monotonic() - started
    log(f"  rows generated and copied in {loaded:.0f}s (generation {generated:.0f}s)")
    with psycopg.connect(dsn, autocommit=True) as connection:
        # The notes trigger was off during the load: fill each action's notes vector at once.
        connection.execute(
            "UPDATE improvement_action a SET notes_vector = s.v FROM ("
            "SELECT action_id, to_tsvector('english'::regconfig, string_agg(text, ' ')) AS v "
            "FROM improvement_progressnote GROUP BY action_id) s WHERE a.id = s.action_id"
        )
        log(f"  notes vectors filled: {time.monotonic() - started:.0f}s")
        connection.execute("SET maintenance_work_mem = '512MB'")
        for _, definition in indexes:
            connection.execute(definition)
        for table in BIG_TABLES:
            connection.execute(
                f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "
                f"(SELECT COALESCE(MAX(id), 1) FROM {table}))"
            )
        connection.execute("VACUUM ANALYZE")
    log(f"  indexes rebuilt and analysed: {time.monotonic() - started:.0f}s in all")
    return loader.counts
