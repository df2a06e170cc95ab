"""The app's URLs plus the benchmark's floor and plain-admin anchor."""

from django.contrib import admin
from django.db import connection
from django.http import HttpResponse
from django.urls import include, path

from improvement.models import Action


class QueryCountMiddleware:
    """Counts every query of the request (middleware, session, user, view) in a header."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        count = 0

        def counter(execute, sql, params, many, context):
            nonlocal count
            count += 1
            return execute(sql, params, many, context)

        with connection.execute_wrapper(counter):
            response = self.get_response(request)
            if hasattr(response, "render") and not response.is_rendered:
                response.render()
        response["X-Bench-Queries"] = str(count)
        if response.streaming:
            # Its queries go on after these headers: counted by benchmarks/export_memory.py.
            response["X-Bench-Streamed"] = "1"
        return response


def floor(request):
    """A trivial view behind the same middleware (session, user, CSRF, CSP...)."""
    return HttpResponse(f"ok {request.user.pk}")


# The anchor: Django's own admin changelist of the same table, with nothing tuned.
anchor = admin.AdminSite(name="bench_admin")
anchor.register(Action)

urlpatterns = [
    path("bench/floor/", floor),
    path("bench-admin/", anchor.urls),
    path("", include("tracker.urls")),
]
