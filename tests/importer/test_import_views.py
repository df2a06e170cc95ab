"""The import pages: upload or paste, preview, confirm; administrators only; never a 500."""

from __future__ import annotations

import datetime as dt
import io

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pypdf import PdfWriter

from improvement.importer.service import report_import, text_sha256
from improvement.models import (
    Action,
    Authority,
    Finding,
    ImprovementArea,
    Inspection,
    Judgement,
)
from improvement.views.importer import SESSION_KEY
from tests.factories import ImprovementAreaFactory, InspectionFactory, bulk_actions
from tests.importer.import_support import load_authority_list, parsed, sample_path

UPLOAD = reverse("improvement:report-import")


def preview_url(sha256: str) -> str:
    return reverse("improvement:report-import-preview", kwargs={"sha256": sha256})


@pytest.fixture
def authorities(db):
    load_authority_list()


@pytest.fixture
def admin_client(client, administrator):
    client.force_login(administrator)
    return client


def counts() -> tuple[int, ...]:
    return tuple(
        model.objects.count() for model in (Inspection, Judgement, Finding, ImprovementArea)
    )


def knowsley_file(name: str = "knowsley.txt") -> SimpleUploadedFile:
    return SimpleUploadedFile(name, sample_path("knowsley.txt").read_bytes())


def make_pdf(lines: list[str]) -> bytes:
    """A small valid PDF whose only page prints the given lines as text."""

    def esc(text: str) -> str:
        return text.replace("\\", "\\\\").replace("(", "\\(").replace(")", "\\)")

    ops = ["BT", "/F1 11 Tf", "14 TL", "72 770 Td", *(f"({esc(line)}) Tj T*" for line in lines)]
    stream = "\n".join([*ops, "ET"]).encode("latin-1")
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Contents 4 0 R "
        b"/Resources << /Font << /F1 5 0 R >> >> >>",
        b"<< /Length %d >>\nstream\n" % len(stream) + stream + b"\nendstream",
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
    ]
    out = io.BytesIO()
    out.write(b"%PDF-1.4\n")
    offsets = []
    for number, body in enumerate(objects, 1):
        offsets.append(out.tell())
        out.write(b"%d 0 obj\n" % number + body + b"\nendobj\n")
    xref = out.tell()
    out.write(b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1))
    for offset in offsets:
        out.write(b"%010d 00000 n \n" % offset)
    out.write(b"trailer\n<< /Size %d /Root 1 0 R >>\n" % (len(objects) + 1))
    out.write(b"startxref\n%d\n%%%%EOF\n" % xref)
    return out.getvalue()


def blank_pdf(*, password: str | None = None) -> bytes:
    writer = PdfWriter()
    writer.add_blank_page(width=595, height=842)
    if password:
        writer.encrypt(user_password=password, owner_password="owner", algorithm="RC4-128")
    buffer = io.BytesIO()
    writer.write(buffer)
    return buffer.getvalue()


def upload(client, *, file=None, text: str = ""):
    data = {"text": text}
    if file is not None:
        data["file"] = file
    return client.post(UPLOAD, data)


# Permissions


def test_administrator_sees_the_upload_page(admin_client):
    """The page has one h1, a file input and a textarea, each labelled."""
    response = admin_client.get(UPLOAD)
    assert response.status_code == 200
    html = response.content.decode()
    assert html.count("<h1") == 1
    assert 'for="id_file"' in html and 'for="id_text"' in html


@pytest.mark.parametrize("who", ["leader", "owner", "board_viewer"])
def test_other_roles_are_forbidden(client, request, who, authorities):
    """Leaders, owners and the board get 403 on the upload and preview, GET and POST."""
    client.force_login(request.getfixturevalue(who))
    assert client.get(UPLOAD).status_code == 403
    assert upload(client, file=knowsley_file()).status_code == 403
    assert client.get(preview_url("a" * 64)).status_code == 403
    assert client.post(preview_url("a" * 64), {"kind": "sif"}).status_code == 403
    assert counts() == (0, 0, 0, 0)


def test_anonymous_is_sent_to_login(client, db):
    response = client.get(UPLOAD)
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("login"))


# The journey


def test_upload_preview_confirm_creates_the_inspection(admin_client, authorities):
    """A text file goes to the preview (nothing written yet); confirming imports it."""
    response = upload(admin_client, file=knowsley_file())
    sha = text_sha256(sample_path("knowsley.txt").read_text(encoding="utf-8"))
    assert response.status_code == 302
    assert response["Location"] == preview_url(sha)
    assert counts() == (0, 0, 0, 0)

    response = admin_client.get(preview_url(sha))
    assert response.status_code == 200
    html = response.content.decode()
    knowsley = Authority.objects.get(ons_code="E08000011")
    assert f'<option value="{knowsley.pk}" selected>Knowsley</option>' in html
    assert "The experiences and progress of children who need help and protection" in html
    assert "Requires improvement to be good" in html
    assert "Paula Thomson-Jones" in html
    assert "Findings: 41 numbered paragraphs" in html

    report = parsed("knowsley.txt")
    response = admin_client.post(
        preview_url(sha), {"authority": knowsley.pk, "kind": "ilacs_standard"}
    )
    inspection = Inspection.objects.get()
    assert response.status_code == 302
    assert response["Location"] == reverse(
        "improvement:inspection-detail", kwargs={"pk": inspection.pk}
    )
    assert inspection.source_sha256 == sha
    assert inspection.findings.count() == len(report["paragraphs"])
    assert inspection.judgements.count() == len(report["judgements"]) + 1
    assert SESSION_KEY not in admin_client.session or sha not in admin_client.session[SESSION_KEY]


def test_pasted_text_goes_to_the_preview(admin_client, authorities):
    text = sample_path("knowsley.txt").read_text(encoding="utf-8")
    response = upload(admin_client, text=text)
    assert response.status_code == 302
    assert response["Location"] == preview_url(text_sha256(text))


def test_pdf_preview_shows_national_framework_tags(admin_client, authorities):
    """Dorset 2025: the improvement area shows its tag, as stored ("Outcome 4")."""
    data = sample_path("dorset-ilacs-short-2025.pdf").read_bytes()
    response = upload(admin_client, file=SimpleUploadedFile("dorset.pdf", data))
    assert response.status_code == 302
    html = admin_client.get(response["Location"]).content.decode()
    assert "National Framework tag" in html
    assert "Outcome 4" in html
    assert "Outstanding" in html


def test_correcting_the_authority_in_the_preview(admin_client, authorities):
    """The authority chosen in the preview is the one the inspection belongs to."""
    response = upload(admin_client, file=knowsley_file())
    liverpool = Authority.objects.get(name="Liverpool")
    admin_client.post(response["Location"], {"authority": liverpool.pk, "kind": "ilacs_standard"})
    assert Inspection.objects.get().authority == liverpool


def test_correcting_the_kind_in_the_preview(admin_client, authorities):
    response = upload(admin_client, file=knowsley_file())
    knowsley = Authority.objects.get(ons_code="E08000011")
    admin_client.post(response["Location"], {"authority": knowsley.pk, "kind": "ilacs_short"})
    assert Inspection.objects.get().kind == "ilacs_short"


def test_unmatched_authority_must_be_chosen(admin_client, authorities):
    """With no authority matched and none chosen: an error, and nothing written."""
    text = sample_path("knowsley.txt").read_text(encoding="utf-8").replace("Knowsley", "Atlantis")
    response = upload(admin_client, text=text)
    page = admin_client.get(response["Location"]).content.decode()
    assert '<option value="" selected>Choose the authority</option>' in page
    response = admin_client.post(response["Location"], {"authority": "", "kind": "ilacs_standard"})
    assert response.status_code == 200
    html = response.content.decode()
    assert "govuk-error-summary" in html
    assert html.count("Choose the authority the report is about.") == 2
    assert counts() == (0, 0, 0, 0)


def test_same_report_again_says_it_is_already_there(admin_client, authorities):
    """Uploading an imported report again: a clear message with a link, nothing created."""
    response = upload(admin_client, file=knowsley_file())
    knowsley = Authority.objects.get(ons_code="E08000011")
    admin_client.post(response["Location"], {"authority": knowsley.pk, "kind": "ilacs_standard"})
    inspection = Inspection.objects.get()
    before = counts()

    response = upload(admin_client, file=knowsley_file("again.txt"))
    assert response.status_code == 200
    html = response.content.decode()
    assert "This report is already in the tracker" in html
    assert reverse("improvement:inspection-detail", kwargs={"pk": inspection.pk}) in html
    assert counts() == before


def test_confirming_a_report_imported_meanwhile_says_it_is_already_there(
    admin_client, authorities, administrator
):
    """Two previews of one report: the second confirmation finds the first and writes nothing."""
    response = upload(admin_client, file=knowsley_file())
    sha = text_sha256(sample_path("knowsley.txt").read_text(encoding="utf-8"))
    knowsley = Authority.objects.get(ons_code="E08000011")
    report_import(
        report=parsed("knowsley.txt"),
        authority=knowsley,
        source_sha256=sha,
        imported_by=administrator,
    )
    before = counts()
    response = admin_client.post(
        response["Location"], {"authority": knowsley.pk, "kind": "ilacs_standard"}
    )
    assert response.status_code == 200
    assert "This report is already in the tracker" in response.content.decode()
    assert counts() == before


def test_expired_preview_goes_back_to_upload(admin_client, db):
    response = admin_client.get(preview_url("f" * 64))
    assert response.status_code == 302
    assert response["Location"] == UPLOAD


# Bad input: a message by the field and in the summary, nothing written, never a 500


def _assert_refused(response, message: str) -> None:
    assert response.status_code == 200
    html = response.content.decode()
    assert "govuk-error-summary" in html
    assert "There is a problem" in html
    assert message in html
    assert html.count(message) >= 2, "the message shows in the summary and by the field"
    assert counts() == (0, 0, 0, 0)


BAD_FILES = [
    pytest.param(
        "parish.pdf",
        lambda: make_pdf(["Minutes of the parish council meeting", "held on 3 May 2024."]),
        "does not look like an Ofsted children",
        id="pdf-not-a-report",
    ),
    pytest.param(
        "locked.pdf", lambda: blank_pdf(password="secret"), "password protected", id="encrypted"
    ),
    pytest.param("scan.pdf", lambda: blank_pdf(), "contains no readable text", id="image-only-pdf"),
    pytest.param(
        "truncated.pdf",
        lambda: sample_path("dorset-ilacs-short-2025.pdf").read_bytes()[:40_000],
        "damaged or incomplete",
        id="truncated",
    ),
    pytest.param(
        "picture.pdf",
        lambda: b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + bytes(range(256)),
        "must be a PDF or a plain text file",
        id="png-renamed",
    ),
    pytest.param(
        "setup.pdf",
        lambda: b"MZ\x90\x00\x03\x00\x00\x00\x04\x00\x00\x00\xff\xff" + bytes(200),
        "must be a PDF or a plain text file",
        id="exe-renamed",
    ),
    pytest.param("empty.pdf", lambda: b"", "The selected file is empty", id="empty-file"),
]


@pytest.mark.parametrize(("name", "content", "message"), BAD_FILES)
def test_bad_files_are_refused_clearly(admin_client, authorities, name, content, message):
    response = upload(admin_client, file=SimpleUploadedFile(name, content()))
    _assert_refused(response, message)
    assert not admin_client.session.get(SESSION_KEY)


def test_oversized_file_is_refused(admin_client, authorities, settings):
    settings.REPORT_MAX_BYTES = 10_000
    data = sample_path("knowsley.txt").read_bytes()
    response = upload(admin_client, file=SimpleUploadedFile("big.txt", data))
    _assert_refused(response, "The selected file must be smaller than 9.8\xa0KB")


def test_empty_submission_is_refused(admin_client, db):
    _assert_refused(upload(admin_client), "Upload the report PDF or paste the report text.")


def test_file_and_text_together_are_refused(admin_client, authorities):
    """Both a file and pasted text: refused, and the pasted text is kept in the textarea."""
    response = upload(admin_client, file=knowsley_file(), text="Some <b>pasted</b> text")
    _assert_refused(response, "Upload a file or paste the report text, not both.")
    assert "Some &lt;b&gt;pasted&lt;/b&gt; text" in response.content.decode()


def test_pasted_text_that_is_not_a_report(admin_client, db):
    response = upload(admin_client, text="Dear colleague, the meeting is on Tuesday.")
    _assert_refused(response, "does not look like an Ofsted children")


def test_unexpected_parser_error_is_a_message_not_a_500(admin_client, db, monkeypatch):
    """A parser defect on odd input still gives the person an answer."""

    def broken(text, **kwargs):
        raise IndexError("parser bug")

    monkeypatch.setattr("improvement.forms.importer.parse_report", broken)
    response = upload(admin_client, text="Inspection of Somewhere children's services")
    _assert_refused(response, "The file could not be read as an Ofsted report.")


@settings(
    max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    payload=st.one_of(
        st.binary(max_size=2048).map(lambda b: ("file", b)),
        st.binary(max_size=2048).map(lambda b: ("file", b"%PDF-1.4\n" + b)),
        st.text(max_size=2048).map(lambda t: ("text", t)),
        st.lists(
            st.sampled_from(
                [
                    "Inspection of Knowsley local authority children's services",
                    "Inspection dates: 11 to 22 October 2021",
                    "Lead inspector: Paula Thomson-Jones, Her Majesty's Inspector",
                    "Judgement Grade",
                    "Overall effectiveness Inadequate",
                    "What needs to improve?",
                    "1. Children are safe.",
                    "",
                ]
            ),
            max_size=30,
        ).map(lambda lines: ("text", "\n".join(lines))),
    )
)
def test_random_input_never_errors_or_writes(admin_client, authorities, payload):
    """Random bytes or text: the form with errors or a preview, never a 500, never a row."""
    kind, value = payload
    if kind == "file":
        response = upload(admin_client, file=SimpleUploadedFile("random.pdf", value))
    else:
        response = upload(admin_client, text=value)
    assert response.status_code in (200, 302)
    if response.status_code == 302:
        assert response["Location"].startswith(UPLOAD)
        assert admin_client.get(response["Location"]).status_code == 200
    assert Inspection.objects.count() == 0


# Query counts


def _synthetic_report(paragraphs: int) -> dict:
    report = parsed("knowsley.txt")
    report["paragraphs"] = [
        {"number": n, "section": f"Section {n // 10}", "text": f"Care leavers paragraph {n}."}
        for n in range(1, paragraphs + 1)
    ]
    return report


def _preview_queries(client, paragraphs: int) -> int:
    session = client.session
    session[SESSION_KEY] = {
        "b" * 64: {"report": _synthetic_report(paragraphs), "source": "test", "authority_id": None}
    }
    session.save()
    with CaptureQueriesContext(connection) as ctx:
        response = client.get(preview_url("b" * 64))
    assert response.status_code == 200
    assert f"Care leavers paragraph {paragraphs}." in response.content.decode()
    return len(ctx.captured_queries)


def test_preview_query_count_does_not_grow_with_the_report(admin_client, authorities):
    """The preview reads the session and the authority list: no query per paragraph."""
    small = _preview_queries(admin_client, 3)
    large = _preview_queries(admin_client, 300)
    assert small == large


def test_upload_page_query_count_is_fixed(admin_client, authorities, administrator):
    """The upload page does not depend on how many inspections exist."""
    with CaptureQueriesContext(connection) as before:
        admin_client.get(UPLOAD)
    report_import(
        report=parsed("knowsley.txt"),
        authority=Authority.objects.get(ons_code="E08000011"),
        source_sha256="c" * 64,
        imported_by=administrator,
    )
    with CaptureQueriesContext(connection) as after:
        admin_client.get(UPLOAD)
    assert len(before.captured_queries) == len(after.captured_queries)


def _inspection_with_actions(authority: Authority, owner, size: int, year: int) -> None:
    inspection = InspectionFactory(
        authority=authority, kind=Inspection.Kind.PEER_REVIEW, start_date=dt.date(year, 1, 7)
    )
    area = ImprovementAreaFactory(inspection=inspection, position=1)
    bulk_actions(size, area=area, owner=owner)


def test_import_pages_run_the_same_queries_for_10_and_1000_actions(
    admin_client, authorities, owner
):
    """Upload page, upload POST and preview: the same number of queries at 10 and 1,000 actions."""
    knowsley = Authority.objects.get(ons_code="E08000011")
    text = sample_path("knowsley.txt").read_text(encoding="utf-8")

    def measure() -> tuple[int, int, int]:
        with CaptureQueriesContext(connection) as page:
            assert admin_client.get(UPLOAD).status_code == 200
        with CaptureQueriesContext(connection) as post:
            response = upload(admin_client, text=text)
        assert response.status_code == 302
        with CaptureQueriesContext(connection) as preview:
            assert admin_client.get(response["Location"]).status_code == 200
        return len(page), len(post), len(preview)

    _inspection_with_actions(knowsley, owner, 10, 2019)
    small = measure()
    _inspection_with_actions(knowsley, owner, 990, 2020)
    large = measure()
    assert Action.objects.count() == 1000
    assert small == large, f"queries (upload, post, preview): {small} at 10, {large} at 1,000"


def _store(client, sha: str, report: dict, authority_id: int | None = None) -> str:
    session = client.session
    session[SESSION_KEY] = {
        sha: {"report": report, "source": "test.pdf", "authority_id": authority_id}
    }
    session.save()
    return preview_url(sha)


def test_preview_shows_parser_warnings_prominently(admin_client, authorities):
    """Each warning is a GOV.UK warning text, so what needs checking stands out."""
    report = parsed("knowsley.txt")
    report["warnings"] = ["No overall effectiveness judgement was found.", "Paragraph 7 <missing>"]
    html = admin_client.get(_store(admin_client, "d" * 64, report)).content.decode()
    assert html.count('class="govuk-warning-text"') == 2
    assert "No overall effectiveness judgement was found." in html
    assert "Paragraph 7 &lt;missing&gt;" in html


def test_send_preview_and_import_keep_responsible_bodies(admin_client, authorities):
    """Area SEND: the outcome, and priority actions with their responsible body, end to end."""
    report = parsed("dorset-send-area-2024.pdf")
    report["priority_actions"] = [
        {"text": "Reduce waits for neurodevelopmental assessment.", "responsible_body": "NHS ICB"}
    ]
    dorset = Authority.objects.get(name="Dorset")
    url = _store(admin_client, "e" * 64, report, dorset.pk)
    html = admin_client.get(url).content.decode()
    assert "Inspection outcome" in html
    assert "typically lead to positive experiences" in html
    assert "Responsible body" in html and "NHS ICB" in html

    response = admin_client.post(url, {"authority": dorset.pk, "kind": "send_area"})
    assert response.status_code == 302
    inspection = Inspection.objects.get()
    assert inspection.outcome == report["overall_effectiveness"]
    assert not inspection.judgements.exists()
    priority = inspection.improvement_areas.get(is_priority_action=True)
    assert (priority.responsible_body, priority.text) == (
        "NHS ICB",
        "Reduce waits for neurodevelopmental assessment.",
    )


def test_report_the_models_refuse_is_an_error_not_a_500(admin_client, authorities):
    """Data the models refuse (here: no dates at all) is shown as an error; nothing is written."""
    report = parsed("knowsley.txt")
    report.update(start_date=None, end_date=None, publication_date=None)
    knowsley = Authority.objects.get(ons_code="E08000011")
    url = _store(admin_client, "f" * 64, report, knowsley.pk)
    response = admin_client.post(url, {"authority": knowsley.pk, "kind": "ilacs_standard"})
    assert response.status_code == 200
    assert "dates could not be read" in response.content.decode()
    assert counts() == (0, 0, 0, 0)


def test_a_report_of_unknown_kind_is_imported_only_once_a_kind_is_chosen(admin_client, authorities):
    """The preview says why, offers no kind, refuses the import without one, then imports."""
    text = (
        "Something new about Knowsley\n"
        "Inspection dates: 4 to 8 March 2024\n"
        "Lead inspector: Jane Smith, His Majesty’s Inspector\n"
        "1. Children are safe.\n"
    )
    response = upload(admin_client, text=text)
    page = admin_client.get(response["Location"]).content.decode()
    assert "The kind of report could not be recognised from its wording" in page
    assert '<option value="" selected>Choose the kind of inspection</option>' in page
    knowsley = Authority.objects.get(ons_code="E08000011")
    refused = admin_client.post(response["Location"], {"authority": knowsley.pk, "kind": ""})
    assert refused.status_code == 200
    assert "Choose the kind of inspection." in refused.content.decode()
    assert counts() == (0, 0, 0, 0)
    admin_client.post(response["Location"], {"authority": knowsley.pk, "kind": "jtai"})
    assert Inspection.objects.get().kind == "jtai"
