"""Evidence on S3-compatible object storage (FILE_STORAGE=s3), against moto's S3 server.

The server runs in this process (moto's server mode on a free local port), so django-storages
and boto3 make real HTTP requests, signed as they would be to any S3-compatible service.
"""

from __future__ import annotations

import socket

import boto3
import pytest
from django.core.exceptions import ImproperlyConfigured
from django.core.files.storage import storages
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from improvement import services
from tests.factories import ActionFactory

pytestmark = pytest.mark.django_db
BUCKET = "tracker-evidence"
PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture
def s3_server(monkeypatch):
    from moto.server import ThreadedMotoServer

    port = _free_port()
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port)
    server.start()
    endpoint = f"http://127.0.0.1:{port}"
    for name, value in {
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_DEFAULT_REGION": "eu-west-2",
    }.items():
        monkeypatch.setenv(name, value)
    client = boto3.client("s3", endpoint_url=endpoint, region_name="eu-west-2")
    client.create_bucket(
        Bucket=BUCKET, CreateBucketConfiguration={"LocationConstraint": "eu-west-2"}
    )
    yield endpoint, client
    server.stop()


def _storage_setting(monkeypatch, **environment) -> dict:
    from tracker import settings as project_settings

    for name in ("FILE_STORAGE", "AWS_STORAGE_BUCKET_NAME", "AWS_S3_ENDPOINT_URL"):
        monkeypatch.delenv(name, raising=False)
    for name, value in environment.items():
        monkeypatch.setenv(name, value)
    return project_settings.file_storage()


def test_local_files_are_the_default(monkeypatch):
    setting = _storage_setting(monkeypatch)
    assert setting == {"BACKEND": "django.core.files.storage.FileSystemStorage"}


def test_s3_needs_a_bucket_and_unknown_kinds_are_refused(monkeypatch):
    with pytest.raises(ImproperlyConfigured, match="AWS_STORAGE_BUCKET_NAME"):
        _storage_setting(monkeypatch, FILE_STORAGE="s3")
    with pytest.raises(ImproperlyConfigured, match="'local' or 's3'"):
        _storage_setting(monkeypatch, FILE_STORAGE="ftp")


def test_evidence_is_stored_in_the_bucket_and_downloaded_through_the_app(
    s3_server, monkeypatch, settings, client
):
    """Upload through the service, the object lands in the bucket (private), and the download
    view streams it back to someone who may see the action."""
    endpoint, s3 = s3_server
    default = _storage_setting(
        monkeypatch,
        FILE_STORAGE="s3",
        AWS_STORAGE_BUCKET_NAME=BUCKET,
        AWS_S3_ENDPOINT_URL=endpoint,
    )
    assert default["BACKEND"] == "storages.backends.s3.S3Storage"
    settings.STORAGES = {**settings.STORAGES, "default": default}
    storages._storages = {}  # Django caches the storage objects; take the new setting.
    try:
        action = ActionFactory()
        evidence = services.evidence_add_file(
            action=action,
            by=action.owner,
            upload=SimpleUploadedFile("audit.pdf", PDF, content_type="application/pdf"),
            title="Audit",
        )
        listed = s3.list_objects_v2(Bucket=BUCKET)["Contents"]
        assert [item["Key"] for item in listed] == [evidence.file.name]
        assert s3.get_object(Bucket=BUCKET, Key=evidence.file.name)["Body"].read() == PDF
        grants = s3.get_object_acl(Bucket=BUCKET, Key=evidence.file.name)["Grants"]
        assert all("AllUsers" not in str(grant.get("Grantee")) for grant in grants)

        client.force_login(action.owner)
        response = client.get(reverse("improvement:evidence-download", args=[evidence.pk]))
        assert response.status_code == 200
        assert b"".join(response.streaming_content) == PDF
    finally:
        storages._storages = {}
