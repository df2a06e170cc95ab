"""`manage.py import_ofsted_report`: parse, match the authority, import once, all or nothing."""

from __future__ import annotations

import json
from io import StringIO

import pytest
from django.core.management import CommandError, call_command

from improvement import services
from improvement.models import Finding, ImprovementArea, Inspection, Judgement
from tests.importer.import_support import load_authority_list, parsed, sample_path

REQUIRED_KEYS = {
    "authority",
    "kind",
    "start_date",
    "end_date",
    "publication_date",
    "lead_inspectors",
    "judgements",
    "overall_effectiveness",
    "improvement_areas",
    "priority_actions",
    "paragraphs",
    "warnings",
}


@pytest.fixture
def authorities(db):
    load_authority_list()


def run(*args: str) -> tuple[str, str]:
    out, err = StringIO(), StringIO()
    call_command("import_ofsted_report", *args, stdout=out, stderr=err)
    return out.getvalue(), err.getvalue()


def run_json(*args: str) -> dict:
    """Run with --json: stdout must hold exactly one JSON object and nothing else."""
    out, _ = run(*args, "--json")
    return json.loads(out)


def counts() -> tuple[int, ...]:
    return tuple(
        model.objects.count() for model in (Inspection, Judgement, Finding, ImprovementArea)
    )


def test_json_on_knowsley_text_imports_and_prints_one_object(authorities):
    """The seed text imports as Knowsley's 2021 ILACS; the JSON has the issue's keys."""
    result = run_json(str(sample_path("knowsley.txt")))
    assert set(result) >= REQUIRED_KEYS
    assert result["authority"] == "Knowsley"
    assert result["kind"] == "ilacs_standard"
    assert result["start_date"] == "2021-10-11"
    assert result["import"]["status"] == "created"
    assert result["import"]["authority_ons_code"] == "E08000011"
    inspection = Inspection.objects.get(pk=result["import"]["inspection_id"])
    assert inspection.judgements.filter(is_overall=False).count() == len(result["judgements"])
    assert inspection.judgements.get(is_overall=True).grade == "requires_improvement_to_be_good"
    assert inspection.findings.count() == len(result["paragraphs"]) == 41
    assert inspection.improvement_areas.count() == len(result["improvement_areas"])


def test_json_on_dorset_short_pdf(authorities):
    """Dorset 2025: five judgement rows (four plus overall) and a National Framework tag."""
    result = run_json(str(sample_path("dorset-ilacs-short-2025.pdf")))
    assert result["kind"] == "ilacs_short"
    assert result["overall_effectiveness"] == "Outstanding"
    inspection = Inspection.objects.get(pk=result["import"]["inspection_id"])
    assert inspection.authority.name == "Dorset"
    assert inspection.judgements.count() == len(result["judgements"]) + 1 == 5
    assert inspection.findings.count() == len(result["paragraphs"])
    assert [a.framework_tag for a in inspection.improvement_areas.all()] == ["Outcome 4"]


def test_json_on_portsmouth_2026_has_no_overall(authorities):
    """Portsmouth, after April 2026: overall effectiveness is null and no overall is created."""
    result = run_json(str(sample_path("portsmouth-ilacs-short-2026.pdf")))
    assert result["overall_effectiveness"] is None
    inspection = Inspection.objects.get(pk=result["import"]["inspection_id"])
    assert not inspection.judgements.filter(is_overall=True).exists()
    assert inspection.judgements.count() == len(result["judgements"])
    assert inspection.findings.count() == len(result["paragraphs"])


def test_json_on_send_pdf_puts_the_outcome_on_the_inspection(authorities):
    """Area SEND: no judgements; the outcome sentence is the inspection's outcome."""
    result = run_json(str(sample_path("dorset-send-area-2024.pdf")))
    inspection = Inspection.objects.get(pk=result["import"]["inspection_id"])
    assert inspection.kind == "send_area"
    assert inspection.outcome == result["overall_effectiveness"]
    assert not inspection.judgements.exists()
    assert inspection.improvement_areas.filter(is_priority_action=True).count() == len(
        result["priority_actions"]
    )


def test_dry_run_writes_nothing(authorities):
    """--dry-run parses and reports, and the database is unchanged."""
    before = counts()
    result = run_json(str(sample_path("knowsley.txt")), "--dry-run")
    assert result["import"]["status"] == "dry_run"
    assert counts() == before == (0, 0, 0, 0)
    out, _ = run(str(sample_path("knowsley.txt")), "--dry-run")
    assert "Dry run: nothing written" in out
    assert counts() == before


def test_importing_twice_creates_one_inspection(authorities):
    """The second run says the report is already there and changes nothing."""
    run(str(sample_path("knowsley.txt")))
    before = counts()
    out, _ = run(str(sample_path("knowsley.txt")))
    assert "already in the tracker" in out
    assert counts() == before
    assert Inspection.objects.count() == 1
    result = run_json(str(sample_path("knowsley.txt")))
    assert result["import"]["status"] == "already_imported"


def test_failure_midway_leaves_nothing(authorities, monkeypatch):
    """A failure on the third finding rolls back the whole import."""
    real = services.finding_add
    calls = {"n": 0}

    def flaky(**kwargs):
        calls["n"] += 1
        if calls["n"] == 3:
            raise RuntimeError("database went away")
        return real(**kwargs)

    monkeypatch.setattr(services, "finding_add", flaky)
    with pytest.raises(RuntimeError):
        run(str(sample_path("knowsley.txt")))
    assert counts() == (0, 0, 0, 0)


def test_authority_option_overrides_the_report(authorities):
    """--authority takes an ONS code and wins over the name printed in the report."""
    result = run_json(str(sample_path("knowsley.txt")), "--authority", "E08000012")
    assert result["import"]["authority_name"] == "Liverpool"
    assert Inspection.objects.get().authority.ons_code == "E08000012"


def test_unknown_ons_code_is_an_error(authorities):
    with pytest.raises(CommandError, match="No authority has the ONS code E99999999"):
        run(str(sample_path("knowsley.txt")), "--authority", "E99999999")


def test_unmatched_authority_asks_for_the_option(db, tmp_path):
    """A report naming no known authority is refused with a pointer to --authority."""
    text = parsed_text_with_authority(tmp_path, "Atlantis")
    with pytest.raises(CommandError, match="--authority"):
        run(str(text))
    assert counts() == (0, 0, 0, 0)


def parsed_text_with_authority(tmp_path, name: str):
    source = sample_path("knowsley.txt").read_text(encoding="utf-8")
    path = tmp_path / "report.txt"
    path.write_text(source.replace("Knowsley", name), encoding="utf-8")
    return path


def test_json_stdout_carries_nothing_but_the_object(authorities, tmp_path):
    """Messages (the import summary, parser warnings) go to stderr when --json is given."""
    out, err = run(str(sample_path("knowsley.txt")), "--json")
    assert out.strip().startswith("{") and out.strip().endswith("}")
    json.loads(out)
    assert "Imported" in err


@pytest.mark.parametrize(
    ("name", "content", "message"),
    [
        ("report.docx", b"PK\x03\x04", "not a .pdf or .txt file"),
        ("report.pdf", b"MZ\x90\x00 a program", "not a PDF"),
        ("report.txt", b"Minutes of the parish council meeting.\n", "does not look like"),
        ("report.txt", b"\xff\xfe\x00\x00binary", "not UTF-8 text"),
    ],
)
def test_unreadable_input_is_a_clear_error(db, tmp_path, name, content, message):
    """The wrong kind of file is a CommandError (non-zero exit) with a readable reason."""
    path = tmp_path / name
    path.write_bytes(content)
    with pytest.raises(CommandError, match=message):
        run(str(path))


def test_missing_file_is_a_clear_error(db, tmp_path):
    with pytest.raises(CommandError, match="does not exist"):
        run(str(tmp_path / "nowhere.pdf"))


def test_parsed_counts_match_for_the_seed(authorities):
    """What the command creates equals what the parser read, item for item."""
    report = parsed("knowsley.txt")
    result = run_json(str(sample_path("knowsley.txt")))
    inspection = Inspection.objects.get(pk=result["import"]["inspection_id"])
    assert list(inspection.findings.values_list("number", flat=True)) == [
        p["number"] for p in report["paragraphs"]
    ]
