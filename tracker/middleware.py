"""The service's own error pages under DEBUG, as in production.

With DEBUG on (the demo, `make run`), Django answers a 404, a 400 and a 500 with its technical
pages, which list every URL pattern or show a traceback and settings to whoever follows an old
link. ServiceErrorPagesMiddleware swaps those for the pages production shows (400.html,
404.html, 500.html through the URLconf's error handlers). Django has already logged the error,
with its traceback, by the time the response comes back here. A 403 needs nothing: Django
renders 403.html whatever DEBUG says.

SHOW_DEBUG_ERRORS=1 in the environment brings Django's technical pages back for developers.
With DEBUG off the middleware does nothing: Django renders the same pages itself.
"""

from __future__ import annotations

from collections.abc import Callable

from django.conf import settings
from django.core.exceptions import BadRequest
from django.http import Http404, HttpRequest, HttpResponse
from django.urls import get_resolver, get_urlconf

SERVICE_PAGES = {400: BadRequest, 404: Http404, 500: None}


class ServiceErrorPagesMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        if (
            not settings.DEBUG
            or getattr(settings, "SHOW_DEBUG_ERRORS", False)
            or response.status_code not in SERVICE_PAGES
        ):
            return response
        page = self.service_page(request, response.status_code)
        # Django logs an error response once, marking it (django.utils.log.log_response): a 500
        # was logged with its traceback as the exception was caught, a 404 is logged on the way
        # out. The replacement carries the mark over, so each is logged once, as without it.
        page._has_been_logged = getattr(response, "_has_been_logged", False)
        return page

    @staticmethod
    def service_page(request: HttpRequest, status_code: int) -> HttpResponse:
        """The response production gives: the URLconf's handler for this status."""
        handler = get_resolver(get_urlconf()).resolve_error_handler(status_code)
        exception = SERVICE_PAGES[status_code]
        response = handler(request) if exception is None else handler(request, exception())
        if not getattr(response, "is_rendered", True):
            response = response.render()
        return response
