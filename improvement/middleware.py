"""Refuse request bodies before anything reads them.

Django's upload handlers write a multipart body to memory or temporary files as soon as
request.POST or request.FILES is touched (CSRF checking touches it on every POST), and
DATA_UPLOAD_MAX_MEMORY_SIZE does not count files. So the size and the sender are checked here,
from the headers alone, before any view, CSRF check or upload handler runs.
"""

from __future__ import annotations

from django.conf import settings
from django.contrib.auth.views import redirect_to_login
from django.http import HttpRequest, HttpResponse

BODY_METHODS = {"POST", "PUT", "PATCH"}


def max_request_bytes() -> int:
    """The largest body accepted: the larger upload limit plus room for the form's other fields."""
    return (
        max(settings.EVIDENCE_MAX_BYTES, settings.REPORT_MAX_BYTES)
        + settings.REQUEST_BODY_MARGIN_BYTES
    )


def _too_large(limit: int) -> HttpResponse:
    megabytes = limit / (1024 * 1024)
    response = HttpResponse(
        f"The request is too large. Files can be up to {megabytes:.0f} MB.",
        status=413,
        content_type="text/plain; charset=utf-8",
    )
    # The unread body makes the connection unusable for a next request.
    response["Connection"] = "close"
    return response


class RequestBodyLimitMiddleware:
    """Place after AuthenticationMiddleware (it needs request.user) and before anything else."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if request.method in BODY_METHODS:
            refusal = self._refusal(request)
            if refusal is not None:
                return refusal
        return self.get_response(request)

    def _refusal(self, request: HttpRequest) -> HttpResponse | None:
        try:
            length = int(request.META.get("CONTENT_LENGTH") or 0)
        except ValueError:
            return HttpResponse("Bad Content-Length.", status=400, content_type="text/plain")
        limit = max_request_bytes()
        if length > limit:
            return _too_large(limit)
        if not request.user.is_authenticated and length > settings.ANONYMOUS_BODY_MAX_BYTES:
            # Nobody uploads before signing in (the sign-in form is a few hundred bytes): the
            # body is left unread and the answer is the login redirect any page would give.
            return redirect_to_login(request.get_full_path())
        return None
