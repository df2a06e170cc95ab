"""Settings for the scale benchmark: the real settings (DEBUG off) plus a floor view, a plain
admin anchor and a response header with the number of queries each request made."""

from tracker.settings import *  # noqa: F403

ROOT_URLCONF = "bench_urls"
MIDDLEWARE = ["bench_urls.QueryCountMiddleware", *MIDDLEWARE]  # noqa: F405
# No collectstatic output in the benchmark: serve static files from the finders.
STORAGES = {
    **STORAGES,  # noqa: F405
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}
WHITENOISE_USE_FINDERS = True
AXES_ENABLED = False
