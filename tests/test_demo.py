"""The Knowsley demo loads the real history, the 2021 report in full and a sample plan, once."""

import datetime as dt

import pytest
from django.core.management import CommandError, call_command
from django.test import override_settings

from improvement import rulebook
from improvement.demo import DEMO_USERS, load_demo
from improvement.models import (
    Action,
    Authority,
    DueDateChange,
    Evidence,
    Finding,
    ImprovementArea,
    Inspection,
    Judgement,
    Measure,
    MeasureValue,
    ProgressNote,
    Theme,
    User,
)
from improvement.selectors.inspections import authority_inspections

pytestmark = pytest.mark.django_db

ANCHOR = dt.date(2026, 12, 1)
MODELS = (
    Authority,
    Inspection,
    Judgement,
    Finding,
    ImprovementArea,
    Action,
    ProgressNote,
    Evidence,
    DueDateChange,
    Measure,
    MeasureValue,
    User,
)


def counts() -> dict[str, int]:
    return {model.__name__: model.objects.count() for model in MODELS}


def test_demo_loads_knowsley_history_and_the_2021_report_in_full():
    load_demo(anchor=ANCHOR)
    knowsley = Authority.objects.get(ons_code="E08000011")
    assert Authority.objects.count() >= 150
    kinds = [i.kind for i in authority_inspections(authority=knowsley)]
    assert kinds[0] == "safeguarding_lac" and kinds.count("ilacs_standard") == 2
    assert {"sif", "sif_reinspection", "send_area", "monitoring_visit"} <= set(kinds)
    report = knowsley.inspections.get(start_date=dt.date(2021, 10, 11))
    assert report.kind == "ilacs_standard" and report.end_date == dt.date(2021, 10, 22)
    assert report.lead_inspectors == ["Paula Thomson-Jones"]
    assert report.judgements.count() == 4
    assert report.judgements.get(is_overall=True).grade == "requires_improvement_to_be_good"
    assert report.improvement_areas.count() == 5
    assert report.findings.count() == 41
    assert list(report.findings.values_list("number", flat=True)) == list(range(1, 42))
    first = report.findings.get(number=1)
    assert first.section == (
        "The experiences and progress of children who need help and protection"
    )
    assert first.text.startswith("Children who need support are identified")
    assert report.findings.get(number=41).section.startswith("The impact of leaders")
    sif = knowsley.inspections.get(kind="sif")
    assert sif.judgements.get(is_overall=True).grade == "inadequate"
    assert sif.lead_inspectors == ["Robert Hackeson"]


def test_demo_plan_has_the_situations_a_leader_must_see():
    load_demo(anchor=ANCHOR)
    actions = Action.objects.filter(authority__ons_code="E08000011")
    assert actions.count() >= 12 and all(a.is_sample for a in actions)
    areas = ImprovementArea.objects.filter(inspection__start_date=dt.date(2021, 10, 11))
    assert all(area.actions.exists() for area in areas)
    assert actions.values("owner").distinct().count() >= 3
    assert actions.values("team").distinct().count() >= 4
    assert actions.filter(rulebook.overdue(today=ANCHOR)).exists()
    assert actions.filter(rulebook.slipped()).exists()
    assert actions.filter(delivery_status="delivered", impact_status="not_assessed").exists()
    assert actions.filter(impact_status="evidenced").exists()
    assert ProgressNote.objects.filter(action__in=actions).count() >= 15
    assert Evidence.objects.filter(action__in=actions).exists()
    assert MeasureValue.objects.filter(measure__authority__ons_code="E08000011").count() >= 16
    slipped = actions.get(reference="1.1")
    assert slipped.due_date_change_count == 2 and slipped.original_due_date < slipped.due_date
    # A leader has a deadline change to decide, asked by the action's owner.
    pending = DueDateChange.objects.get(action__in=actions, status=DueDateChange.Status.PENDING)
    assert pending.action.reference == "2.2"
    assert pending.requested_by == pending.action.owner
    assert pending.old_date == pending.action.due_date
    assert pending.new_date == pending.action.due_date + dt.timedelta(days=45)


def test_demo_users_one_per_role_and_their_passwords_work(client):
    load_demo(anchor=ANCHOR)
    roles = {spec.role for spec in DEMO_USERS}
    assert roles == {"Administrator", "Action owner", "Senior leader", "Board viewer"}
    for spec in DEMO_USERS:
        user = User.objects.get(username=spec.username)
        assert user.check_password(spec.password)
        assert user.groups.filter(name=spec.role).exists()


def test_loading_twice_changes_nothing():
    load_demo(anchor=ANCHOR)
    before = counts()
    load_demo(anchor=ANCHOR + dt.timedelta(days=3))
    assert counts() == before


@override_settings(DEBUG=True)
def test_load_demo_command_prints_the_logins(capsys):
    call_command("load_demo")
    out = capsys.readouterr().out
    for spec in DEMO_USERS:
        assert spec.username in out and spec.password in out


def test_load_demo_command_refuses_with_debug_off():
    with pytest.raises(CommandError, match="DEBUG off"):
        call_command("load_demo")
    assert not User.objects.filter(username__in=[u.username for u in DEMO_USERS]).exists()


def test_reference_data_command_loads_authorities_and_themes_once(capsys):
    call_command("load_reference_data")
    first = capsys.readouterr().out
    call_command("load_reference_data")
    second = capsys.readouterr().out
    assert Authority.objects.filter(ons_code="E08000011", name="Knowsley").exists()
    assert Theme.objects.filter(slug="care-leavers").exists()
    assert "(0 new); themes" in second and "(0 new)" in second.split("themes")[1]
    assert first != second


def test_each_sample_action_ends_on_the_rating_its_story_gives():
    load_demo(anchor=ANCHOR)
    ratings = dict(Action.objects.values_list("reference", "rag"))
    assert ratings["1.1"] == "red"  # rated down by its notes
    assert ratings["2.4"] == "red"  # overdue and not started: never green
    assert ratings["1.3"] == "blue"  # closed by a senior leader


def test_the_2021_report_comes_through_the_importer_with_the_authors_reading():
    load_demo(anchor=ANCHOR)
    report = Inspection.objects.get(start_date=dt.date(2021, 10, 11))
    # The importer's fingerprint of the bundled file: importing it again is refused.
    assert len(report.source_sha256) == 64
    assert report.report_url.startswith("https://files.ofsted.gov.uk/")
    assert report.publication_date == dt.date(2021, 12, 3)
    first = report.improvement_areas.get(position=1)
    assert sorted(first.supporting_findings.values_list("number", flat=True)) == [
        17,
        18,
        19,
        20,
        21,
        36,
    ]


def test_extra_loaders_run_with_the_demo_context(monkeypatch):
    from improvement import demo

    seen = []
    monkeypatch.setattr(demo, "extra_loaders", [seen.append])
    load_demo(anchor=ANCHOR)
    (ctx,) = seen
    assert ctx.authority.ons_code == "E08000011" and ctx.anchor == ANCHOR
    assert set(ctx.users) == {spec.username for spec in DEMO_USERS}
    assert ctx.day(-1) == ANCHOR - dt.timedelta(days=1)


def test_demo_users_keep_their_roles_and_passwords():
    load_demo(anchor=ANCHOR)
    expected = {
        "admin": ("demo-admin-2021", "Administrator"),
        "owner": ("demo-owner-2021", "Action owner"),
        "owner2": ("demo-owner2-2021", "Action owner"),
        "partner": ("demo-partner-2021", "Action owner"),
        "leader": ("demo-leader-2021", "Senior leader"),
        "board": ("demo-board-2021", "Board viewer"),
    }
    for username, (password, role) in expected.items():
        user = User.objects.get(username=username)
        assert user.check_password(password)
        assert list(user.groups.values_list("name", flat=True)) == [role]
