"""Security: sign-in lockout, security headers and CSP nonce, cookies, CSRF, production settings."""

from __future__ import annotations

import datetime as dt
import os
import re
import subprocess
import sys
from pathlib import Path
from unittest import mock

import pytest
from django.core.cache import cache
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client, override_settings
from django.urls import reverse
from django.utils import timezone
from freezegun import freeze_time

from tests.factories import OwnerFactory

pytestmark = pytest.mark.django_db

BASE_DIR = Path(__file__).resolve().parent.parent
LOCKED_OUT_STATUSES = (403, 429)
STRONG_KEY = "prod-like-9f8e7d6c5b4a3928171605f4e3d2c1b0a9f8e7d6c5b4a39281716abcdefXYZ"


@pytest.fixture(autouse=True)
def _fresh_axes():
    cache.clear()
    yield
    cache.clear()


@pytest.fixture
def person(db):
    return OwnerFactory(username="alex")


def sign_in(client: Client, password: str, username: str = "alex"):
    return client.post(reverse("login"), {"username": username, "password": password})


def is_locked_out(response) -> bool:
    return response.status_code in LOCKED_OUT_STATUSES and (
        "You cannot sign in at the moment" in response.content.decode()
    )


# Lockout (django-axes)


def test_five_failed_sign_ins_lock_the_username_out(client, person):
    """Five wrong passwords lock the account; the lockout page says so; the right one fails."""
    for _ in range(4):
        response = sign_in(client, "wrong")
        assert response.status_code == 200  # the form again, with its error
    response = sign_in(client, "wrong")
    assert is_locked_out(response), response.status_code
    assert "registration/locked_out.html" in [t.name for t in response.templates]

    response = sign_in(client, "password")
    assert is_locked_out(response)
    assert "_auth_user_id" not in client.session


def test_success_before_lockout_resets_the_counter(client, person):
    """Four failures, then success: the count starts again, so four more do not lock out."""
    for _ in range(4):
        sign_in(client, "wrong")
    response = sign_in(client, "password")
    assert response.status_code == 302
    client.logout()
    for _ in range(4):
        assert sign_in(client, "wrong").status_code == 200
    response = sign_in(client, "password")
    assert response.status_code == 302
    assert client.session["_auth_user_id"] == str(person.pk)


def test_lockout_is_per_username(client, person):
    OwnerFactory(username="sam")
    for _ in range(5):
        sign_in(client, "wrong")
    assert sign_in(client, "password", username="sam").status_code == 302


def sign_in_from(client: Client, address: str, username: str, password=None, **extra):
    return client.post(
        reverse("login"),
        {"username": username, "password": password or "wrong"},
        REMOTE_ADDR=address,
        **extra,
    )


def test_many_usernames_from_one_address_are_slowed(client, person):
    """Thirty usernames tried from one address: the address is limited, whatever the name."""
    answers = [sign_in_from(client, "203.0.113.9", f"guess{n}") for n in range(30)]
    locked = [is_locked_out(r) for r in answers]
    assert locked.index(True) == 19  # the 20th failure locks the address
    assert all(locked[19:])
    # Even the right password for a real person is refused from that address for now...
    assert is_locked_out(sign_in_from(client, "203.0.113.9", "alex", "password"))
    # ...but the person can still sign in from elsewhere: the name itself was not guessed.
    assert sign_in_from(client, "198.51.100.1", "alex", "password").status_code == 302


def test_one_username_from_many_addresses_is_locked(client, person):
    """Five failures for one name from five addresses lock the name, whatever the address."""
    for n in range(4):
        assert sign_in_from(client, f"198.51.100.{n + 10}", "alex").status_code == 200
    assert is_locked_out(sign_in_from(client, "198.51.100.20", "alex"))
    assert is_locked_out(sign_in_from(client, "198.51.100.30", "alex", "password"))


def test_forwarded_for_is_ignored_unless_the_proxies_are_named(client, person):
    """Without TRUSTED_PROXY_COUNT/TRUSTED_PROXIES, a client cannot pick its own address."""
    for n in range(20):
        sign_in_from(client, "192.0.2.1", f"guess{n}", HTTP_X_FORWARDED_FOR=f"10.1.0.{n}")
    assert is_locked_out(
        sign_in_from(client, "192.0.2.1", "alex", "password", HTTP_X_FORWARDED_FOR="10.9.9.9")
    )


@pytest.mark.parametrize(
    "proxy_settings", [{"TRUSTED_PROXY_COUNT": 1}, {"TRUSTED_PROXIES": ["192.0.2.0/24"]}]
)
def test_behind_named_proxies_each_client_has_its_own_address(client, person, proxy_settings):
    """Behind the load balancer every connection comes from it: the header tells clients apart."""
    with override_settings(**proxy_settings):
        for n in range(20):
            sign_in_from(client, "192.0.2.1", f"guess{n}", HTTP_X_FORWARDED_FOR="10.1.0.66")
        # The guesser's address is locked...
        assert is_locked_out(
            sign_in_from(client, "192.0.2.1", "alex", "password", HTTP_X_FORWARDED_FOR="10.1.0.66")
        )
        # ...another client behind the same proxy is not.
        response = sign_in_from(
            client, "192.0.2.1", "alex", "password", HTTP_X_FORWARDED_FOR="10.1.0.77"
        )
        assert response.status_code == 302


@pytest.mark.parametrize(
    ("remote", "forwarded", "proxy_settings", "expected"),
    [
        ("192.0.2.1", "10.0.0.1", {}, "192.0.2.1"),
        ("192.0.2.1", "6.6.6.6, 10.0.0.1", {"TRUSTED_PROXY_COUNT": 1}, "10.0.0.1"),
        ("192.0.2.1", "6.6.6.6, 10.0.0.1, 192.0.2.9", {"TRUSTED_PROXY_COUNT": 2}, "10.0.0.1"),
        ("192.0.2.1", "", {"TRUSTED_PROXY_COUNT": 1}, "192.0.2.1"),
        ("192.0.2.1", "not-an-address", {"TRUSTED_PROXY_COUNT": 1}, "192.0.2.1"),
        ("192.0.2.1", "6.6.6.6, 10.0.0.1", {"TRUSTED_PROXIES": ["192.0.2.0/24"]}, "10.0.0.1"),
        ("203.0.113.5", "10.0.0.1", {"TRUSTED_PROXIES": ["192.0.2.0/24"]}, "203.0.113.5"),
    ],
)
def test_client_address(rf, remote, forwarded, proxy_settings, expected):
    from improvement.login_limits import client_ip

    request = rf.get("/", REMOTE_ADDR=remote, HTTP_X_FORWARDED_FOR=forwarded)
    with override_settings(**proxy_settings):
        assert client_ip(request) == expected


def test_cool_off_is_short_and_grows(client, person):
    """A first lock-out lasts a minute; the next one two; a named person is not kept out long."""
    start = timezone.now()
    with freeze_time(start) as clock:
        for _ in range(5):
            sign_in_from(client, "198.51.100.1", "alex")
        assert is_locked_out(sign_in_from(client, "198.51.100.1", "alex", "password"))
        clock.tick(dt.timedelta(seconds=61))
        for _ in range(5):
            sign_in_from(client, "198.51.100.1", "alex")
        clock.tick(dt.timedelta(seconds=61))
        assert is_locked_out(sign_in_from(client, "198.51.100.1", "alex", "password"))
        clock.tick(dt.timedelta(seconds=60))
        assert sign_in_from(client, "198.51.100.1", "alex", "password").status_code == 302


def test_the_cool_off_never_passes_its_cap(rf, person):
    from axes.models import AccessFailureLog

    from improvement.login_limits import cool_off

    AccessFailureLog.objects.bulk_create(
        AccessFailureLog(username="alex", ip_address="198.51.100.1", attempt_time=timezone.now())
        for _ in range(200)
    )
    request = rf.post("/login/", {"username": "alex"}, REMOTE_ADDR="198.51.100.1")
    request.axes_ip_address = "198.51.100.1"
    assert cool_off(request) == dt.timedelta(minutes=15)
    request = rf.post("/login/", {"username": "sam"}, REMOTE_ADDR="198.51.100.2")
    request.axes_ip_address = "198.51.100.2"
    assert cool_off(request) == dt.timedelta(minutes=1)


def test_management_commands_print_no_axes_banner():
    result = subprocess.run(
        [sys.executable, "manage.py", "check"],
        cwd=BASE_DIR,
        capture_output=True,
        text=True,
        # The real settings, whose logging prints INFO to the console as a deployment would.
        env={**os.environ, "DJANGO_SETTINGS_MODULE": "tracker.settings", "DEBUG": "1"},
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assert "AXES" not in result.stdout + result.stderr


# Request body limit (improvement.middleware)


@pytest.fixture
def parse_spy():
    """Fails the test if any multipart parsing (and so any upload handler) runs."""
    from django.http.multipartparser import MultiPartParser

    with mock.patch.object(MultiPartParser, "parse", side_effect=AssertionError("body read")):
        yield


def upload_body(size: int) -> dict:
    return {"evidence_file": SimpleUploadedFile("big.pdf", b"%PDF-" + b"0" * size)}


def test_an_anonymous_upload_is_refused_before_its_body_is_read(client, parse_spy):
    url = reverse("improvement:report-import")
    response = client.post(url, upload_body(100 * 1024))
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("login"))


@override_settings(EVIDENCE_MAX_BYTES=2000, REPORT_MAX_BYTES=3000, REQUEST_BODY_MARGIN_BYTES=1000)
def test_a_body_over_the_limit_is_refused_by_its_length_alone(client, person, parse_spy):
    from tests.factories import ActionFactory

    action = ActionFactory(owner=person)
    client.force_login(person, backend="improvement.backends.RoleLoadingBackend")
    url = reverse("improvement:action-update", args=[action.pk])
    response = client.post(url, upload_body(5000))
    assert response.status_code == 413
    assert "too large" in response.content.decode()
    assert not action.evidence.exists()


@override_settings(ANONYMOUS_BODY_MAX_BYTES=1000)
def test_a_large_anonymous_form_is_refused_unread(client, parse_spy):
    response = client.post(
        reverse("login"), "a=" + "x" * 2000, content_type="application/x-www-form-urlencoded"
    )
    assert response.status_code == 302 and "/login/" in response["Location"]


@override_settings(EVIDENCE_MAX_BYTES=2000, REPORT_MAX_BYTES=3000, REQUEST_BODY_MARGIN_BYTES=1000)
def test_a_body_within_the_limit_goes_through(client, person):
    """The limit is the larger upload size plus a margin: a body just under it is read."""
    from improvement.middleware import max_request_bytes
    from tests.factories import ActionFactory

    assert max_request_bytes() == 4000
    action = ActionFactory(owner=person)
    client.force_login(person, backend="improvement.backends.RoleLoadingBackend")
    url = reverse("improvement:action-update", args=[action.pk])
    response = client.post(url, {**upload_body(3000), "version": 1, "text": "Uploaded"})
    assert response.status_code in (200, 302)  # the form's own answer, not the limit's


def test_a_bad_content_length_is_refused(client):
    response = client.post(reverse("login"), {"username": "x"}, CONTENT_LENGTH="lots")
    assert response.status_code == 400


# Headers


def _csp(response) -> str:
    return response.get("Content-Security-Policy", "")


def _directive(policy: str, name: str) -> str:
    for part in policy.split(";"):
        if part.strip().startswith(name + " "):
            return part.strip()
    return ""


@pytest.fixture
def signed_in(client, person):
    client.force_login(person, backend="improvement.backends.RoleLoadingBackend")
    return client


@pytest.mark.parametrize(
    "path",
    ["/login/", "/", "/no-such-page/", "/admin/", "/admin/login/", "/my-actions/", "/logout/"],
)
@pytest.mark.parametrize("signed_in_first", [False, True], ids=["anonymous", "signed-in"])
def test_every_response_has_the_security_headers(client, person, path, signed_in_first):
    """CSP (script-src 'self' + nonce, no unsafe-inline), frame, sniffing and referrer headers.

    Pages built on base.html carry the nonce for its one inline script; the Django admin has
    no inline script, so its policy has no nonce at all, which is stricter still.
    """
    if signed_in_first:
        client.force_login(person, backend="improvement.backends.RoleLoadingBackend")
    response = client.get(path)
    policy = _csp(response)
    assert policy, f"{path} has no Content-Security-Policy"
    script = _directive(policy, "script-src")
    assert "'self'" in script
    assert "'unsafe-inline'" not in policy
    assert "'unsafe-eval'" not in policy
    assert "'unsafe-inline'" not in _directive(policy, "style-src")
    assert "frame-ancestors 'none'" in policy
    if response.status_code in (200, 404) and "base.html" in [t.name for t in response.templates]:
        assert re.search(r"'nonce-[A-Za-z0-9+/=_-]+'", script), script
    assert response["X-Frame-Options"] == "DENY"
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["Referrer-Policy"] == "same-origin"


def test_static_files_are_not_sniffed(client):
    response = client.get("/static/css/app.css")
    assert response["X-Content-Type-Options"] == "nosniff"


def test_anonymous_responses_have_the_headers_too(client):
    response = client.get("/my-actions/")
    assert response.status_code == 302
    assert "script-src 'self'" in _csp(response)
    assert response["X-Frame-Options"] == "DENY"


def test_nonce_in_the_header_is_the_one_on_the_inline_script(client):
    response = client.get(reverse("login"))
    header_nonce = re.search(r"'nonce-([^']+)'", _csp(response)).group(1)
    html = response.content.decode()
    inline = re.findall(r"<script(?![^>]*\bsrc=)([^>]*)>", html)
    assert inline, "base.html has its js-enabled inline script"
    for attributes in inline:
        assert f'nonce="{header_nonce}"' in attributes
    assert "style=" not in html
    other = client.get(reverse("login"))
    assert re.search(r"'nonce-([^']+)'", _csp(other)).group(1) != header_nonce


# Cookies and CSRF


def test_session_and_csrf_cookies_are_http_only_and_same_site(client, person):
    client.get(reverse("login"))
    csrf = client.cookies["csrftoken"]
    assert csrf["httponly"]
    assert csrf["samesite"] == "Lax"
    response = sign_in(client, "password")
    assert response.status_code == 302
    session = client.cookies["sessionid"]
    assert session["httponly"]
    assert session["samesite"] == "Lax"


def test_post_to_login_without_csrf_token_is_refused(person):
    client = Client(enforce_csrf_checks=True)
    response = client.post(reverse("login"), {"username": "alex", "password": "password"})
    assert response.status_code == 403
    assert "_auth_user_id" not in client.session


def test_post_with_csrf_token_is_accepted(person):
    client = Client(enforce_csrf_checks=True)
    client.get(reverse("login"))
    token = client.cookies["csrftoken"].value
    response = client.post(
        reverse("login"),
        {"username": "alex", "password": "password", "csrfmiddlewaretoken": token},
    )
    assert response.status_code == 302


# Production settings, checked in a fresh process with a production-like environment.


def _run(args: list[str], **env_overrides: str) -> subprocess.CompletedProcess:
    env = {
        k: v
        for k, v in os.environ.items()
        if k
        not in {
            "DJANGO_SETTINGS_MODULE",
            "SECRET_KEY",
            "DEBUG",
            "ALLOWED_HOSTS",
            # Set for the browser tests; a production process never has it.
            "DJANGO_ALLOW_ASYNC_UNSAFE",
        }
        and not k.startswith(("SECURE_", "TEST_DATABASE"))
    }
    env.update(
        {
            "DJANGO_SETTINGS_MODULE": "tracker.settings",
            "DATABASE_URL": "sqlite:////tmp/tracker-security-check.sqlite3",
            **env_overrides,
        }
    )
    return subprocess.run(  # noqa: S603 - fixed arguments, our own interpreter
        [sys.executable, *args],
        cwd=BASE_DIR,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


PRODUCTION = {"DEBUG": "0", "SECRET_KEY": STRONG_KEY, "ALLOWED_HOSTS": "tracker.example.org"}


def test_production_settings_make_cookies_secure():
    script = (
        "import django; django.setup(); from django.conf import settings as s; "
        "print(s.SESSION_COOKIE_SECURE, s.CSRF_COOKIE_SECURE, s.SESSION_COOKIE_HTTPONLY, "
        "s.CSRF_COOKIE_HTTPONLY, s.SESSION_COOKIE_SAMESITE, s.SECURE_SSL_REDIRECT, "
        "s.SECURE_HSTS_SECONDS > 0, s.DEBUG)"
    )
    result = _run(["-c", script], **PRODUCTION)
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["True", "True", "True", "True", "Lax", "True", "True", "False"]


def test_refuses_to_start_without_a_secret_key_when_debug_is_off():
    result = _run(["manage.py", "check"], DEBUG="0", ALLOWED_HOSTS="tracker.example.org")
    assert result.returncode != 0
    assert "Set SECRET_KEY" in result.stderr


def test_the_wsgi_application_refuses_to_start_without_a_secret_key():
    """The settings themselves refuse, whatever the entry point (gunicorn loads tracker.wsgi)."""
    result = _run(["-c", "import tracker.wsgi"], DEBUG="0", ALLOWED_HOSTS="tracker.example.org")
    assert result.returncode != 0
    assert "ImproperlyConfigured: Set SECRET_KEY" in result.stderr


def test_refuses_to_start_without_allowed_hosts_when_debug_is_off():
    result = _run(["manage.py", "check"], DEBUG="0", SECRET_KEY=STRONG_KEY)
    assert result.returncode != 0
    assert "Set ALLOWED_HOSTS" in result.stderr


def test_refuses_to_start_with_a_short_secret_key_when_debug_is_off():
    result = _run(["manage.py", "check"], **{**PRODUCTION, "SECRET_KEY": "x" * 49})
    assert result.returncode != 0
    assert "SECRET_KEY must be at least 50 characters" in result.stderr
    assert _run(["manage.py", "check"], **{**PRODUCTION, "SECRET_KEY": "x" * 50}).returncode == 0


def test_refuses_to_start_without_a_database_url_when_debug_is_off():
    result = _run(["manage.py", "check"], **{**PRODUCTION, "DATABASE_URL": ""})
    assert result.returncode != 0
    assert "Set DATABASE_URL" in result.stderr


def test_load_demo_refuses_with_debug_off():
    result = _run(["manage.py", "load_demo"], **PRODUCTION)
    assert result.returncode != 0
    assert "DEBUG" in result.stderr and "demo" in result.stderr.lower()


def test_deploy_check_passes_with_production_settings():
    """`manage.py check --deploy` reports nothing, not even a warning."""
    result = _run(["manage.py", "check", "--deploy", "--fail-level", "WARNING"], **PRODUCTION)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "no issues" in result.stdout


@pytest.mark.django_db
def test_failed_sign_in_says_what_to_do_in_govuk_wording(client):
    response = client.post(reverse("login"), {"username": "nobody", "password": "wrong"})
    assert "Enter a correct username and password." in response.content.decode()
    response = client.post(reverse("login"), {"username": "", "password": ""})
    assert "Enter your username" in response.content.decode()
