"""Settings for the scale benchmark: the real settings (DEBUG off) plus a floor view, a plain
admin anchor and a response header with the number of queries each request made."""

import os

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
# The workers share one cache, as several app servers do through Redis in the README's
# deployment, so figures counted by one worker serve the others (BENCH_REDIS_URL="" for each
# worker's own memory). Keys are prefixed by the database, so sizes never read each other's.
if os.environ.get("BENCH_REDIS_URL", "redis://127.0.0.1:6379/0"):
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": os.environ.get("BENCH_REDIS_URL", "redis://127.0.0.1:6379/0"),
            "KEY_PREFIX": f"bench:{DATABASES['default']['NAME']}",  # noqa: F405
        }
    }
