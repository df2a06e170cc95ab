"""The service's own 400, 403, 404 and 500 pages, with DEBUG on (the demo) as with it off.

Django shows its technical pages under DEBUG: every URL pattern to whoever follows an old link,
a traceback and the settings on an error. tracker.middleware.ServiceErrorPagesMiddleware puts
the production pages there instead, unless SHOW_DEBUG_ERRORS asks for the technical ones.
"""

import logging

import pytest
from django.contrib.auth.decorators import login_not_required
from django.core.exceptions import BadRequest, PermissionDenied, SuspiciousOperation
from django.http import Http404
from django.test import Client, override_settings
from django.urls import path

from tracker.urls import urlpatterns as tracker_urlpatterns

PRODUCTION_404 = "Page not found"
PRODUCTION_500 = "Sorry, there is a problem with the service"
PRODUCTION_400 = "Sorry, there is a problem with your request"
PRODUCTION_403 = "You do not have permission to do this"
TECHNICAL_MARKERS = ("URLconf", "Django tried these URL patterns", "Traceback", "SECRET_KEY")


@login_not_required
def explode(request):
    raise RuntimeError("the database went away: secret connection string")


@login_not_required
def missing(request):
    raise Http404("No Action matches the given query.")


@login_not_required
def suspicious(request):
    raise SuspiciousOperation("Forged header")


@login_not_required
def bad_request(request):
    raise BadRequest("Malformed")


@login_not_required
def forbidden(request):
    raise PermissionDenied


urlpatterns = [
    path("test-errors/explode/", explode),
    path("test-errors/missing/", missing),
    path("test-errors/suspicious/", suspicious),
    path("test-errors/bad-request/", bad_request),
    path("test-errors/forbidden/", forbidden),
    *tracker_urlpatterns,
]

pytestmark = [pytest.mark.django_db, pytest.mark.urls("tests.test_error_pages")]


@pytest.fixture
def browser_client():
    """A client that gets the error page back instead of the test re-raising the exception."""
    return Client(raise_request_exception=False, headers={"accept": "text/html"})


def assert_service_page(response, status: int, heading: str) -> None:
    html = response.content.decode()
    assert response.status_code == status
    assert f'<h1 class="govuk-heading-l">{heading}</h1>' in html
    for marker in TECHNICAL_MARKERS:
        assert marker not in html, f"{marker!r} shown on the {status} page"


@override_settings(DEBUG=True)
def test_old_link_shows_the_service_404_without_url_patterns(browser_client, owner):
    """A leader following an old link under DEBUG sees "Page not found", not the URLconf."""
    browser_client.force_login(owner)
    response = browser_client.get("/actions/no-longer-here/")

    assert_service_page(response, 404, PRODUCTION_404)
    # The page is the signed-in layout, with the security headers. (django-csp leaves 404 and
    # 500 responses without a policy under DEBUG, by design; production pages carry one.)
    assert "Sign out" in response.content.decode()
    assert response["X-Frame-Options"] == "DENY"
    assert response["X-Content-Type-Options"] == "nosniff"


@override_settings(DEBUG=True)
def test_object_not_found_under_debug_shows_the_service_404(browser_client, owner):
    browser_client.force_login(owner)

    assert_service_page(browser_client.get("/actions/999999/"), 404, PRODUCTION_404)
    assert_service_page(browser_client.get("/test-errors/missing/"), 404, PRODUCTION_404)


@override_settings(DEBUG=True)
def test_anonymous_old_link_shows_the_service_404(browser_client):
    assert_service_page(browser_client.get("/no-such-page/"), 404, PRODUCTION_404)


@override_settings(DEBUG=True)
def test_error_under_debug_shows_the_service_500_and_logs_the_traceback_once(
    browser_client, caplog
):
    with caplog.at_level(logging.ERROR, logger="django.request"):
        response = browser_client.get("/test-errors/explode/")

    assert_service_page(response, 500, PRODUCTION_500)
    assert "secret connection string" not in response.content.decode()
    records = [r for r in caplog.records if r.name == "django.request"]
    assert len(records) == 1
    assert records[0].exc_info and records[0].exc_info[0] is RuntimeError


@override_settings(DEBUG=True)
def test_404_is_logged_once_under_debug(browser_client, caplog):
    with caplog.at_level(logging.WARNING, logger="django.request"):
        browser_client.get("/no-such-page/")

    messages = [r.getMessage() for r in caplog.records if r.name == "django.request"]
    assert messages == ["Not Found: /no-such-page/"]


@override_settings(DEBUG=True)
@pytest.mark.parametrize("url", ["/test-errors/suspicious/", "/test-errors/bad-request/"])
def test_bad_request_under_debug_shows_the_service_400(browser_client, url):
    assert_service_page(browser_client.get(url), 400, PRODUCTION_400)


@override_settings(DEBUG=True)
def test_permission_denied_under_debug_shows_the_service_403(browser_client):
    assert_service_page(browser_client.get("/test-errors/forbidden/"), 403, PRODUCTION_403)


@override_settings(DEBUG=True, SHOW_DEBUG_ERRORS=True)
def test_show_debug_errors_brings_back_the_technical_pages(browser_client):
    """Developers who set SHOW_DEBUG_ERRORS get Django's pages: URL patterns, traceback."""
    not_found = browser_client.get("/no-such-page/")
    assert not_found.status_code == 404
    assert "Django tried these URL patterns" in not_found.content.decode()

    error = browser_client.get("/test-errors/explode/")
    assert error.status_code == 500
    assert "secret connection string" in error.content.decode()


@override_settings(DEBUG=False)
@pytest.mark.parametrize(
    ("url", "status", "heading"),
    [
        ("/no-such-page/", 404, PRODUCTION_404),
        ("/test-errors/explode/", 500, PRODUCTION_500),
        ("/test-errors/bad-request/", 400, PRODUCTION_400),
        ("/test-errors/forbidden/", 403, PRODUCTION_403),
    ],
)
def test_production_shows_the_same_pages(browser_client, url, status, heading):
    assert_service_page(browser_client.get(url), status, heading)


def test_favicon_redirects_to_the_static_icon_for_anyone(client):
    """The admin names no icon, so browsers ask for /favicon.ico: it must not be a 404."""
    response = client.get("/favicon.ico")

    assert response.status_code == 302
    assert response["Location"] == "/static/favicon.ico"
    icon = client.get(response["Location"])
    assert icon.status_code == 200
    body = b"".join(icon.streaming_content) if icon.streaming else icon.content
    # An ICO directory: reserved 0, type 1 (icon), then the number of images.
    assert body[:4] == b"\x00\x00\x01\x00"
    assert int.from_bytes(body[4:6], "little") == 3
