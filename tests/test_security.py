"""Security: sign-in lockout, security headers and CSP nonce, cookies, CSRF, production settings."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
from django.core.cache import cache
from django.test import Client
from django.urls import reverse

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
    client.force_login(person, backend="django.contrib.auth.backends.ModelBackend")
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
        client.force_login(person, backend="django.contrib.auth.backends.ModelBackend")
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
