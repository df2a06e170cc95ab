"""Settings for the improvement tracker, driven by the environment.

Development defaults (DEBUG on, a SQLite file) apply only when DEBUG is on; with DEBUG off the
process refuses to start without a real SECRET_KEY and ALLOWED_HOSTS.
"""

from pathlib import Path

import environ
from csp.constants import NONCE, NONE, SELF
from django.core.exceptions import ImproperlyConfigured

BASE_DIR = Path(__file__).resolve().parent.parent

env = environ.Env()
if env.bool("DJANGO_READ_DOT_ENV_FILE", default=False):
    environ.Env.read_env(BASE_DIR / ".env")

DEBUG = env.bool("DEBUG", default=False)
# Django's technical 404/500 pages instead of the service's own under DEBUG (tracker/middleware.py).
SHOW_DEBUG_ERRORS = env.bool("SHOW_DEBUG_ERRORS", default=False)
INSECURE_DEV_KEY = "django-insecure-development-key-never-use-in-production"
SECRET_KEY = env("SECRET_KEY", default=INSECURE_DEV_KEY if DEBUG else "")
if not SECRET_KEY or (not DEBUG and SECRET_KEY == INSECURE_DEV_KEY):
    raise ImproperlyConfigured("Set SECRET_KEY (or DEBUG=1 for local development).")
# Django's own deploy check asks for 50 characters; a shorter key is refused at start-up.
MIN_SECRET_KEY_LENGTH = 50
if not DEBUG and len(SECRET_KEY) < MIN_SECRET_KEY_LENGTH:
    raise ImproperlyConfigured(
        f"SECRET_KEY must be at least {MIN_SECRET_KEY_LENGTH} characters long when DEBUG is off "
        "(generate one with: python -c 'import secrets; print(secrets.token_urlsafe(64))')."
    )
# A production process never falls back to a SQLite file next to the code.
if not DEBUG and not env("DATABASE_URL", default=""):
    raise ImproperlyConfigured(
        "Set DATABASE_URL when DEBUG is off, e.g. postgres://user:password@host:5432/tracker."
    )
ALLOWED_HOSTS = env.list("ALLOWED_HOSTS", default=["127.0.0.1", "localhost"] if DEBUG else [])
if not DEBUG and not ALLOWED_HOSTS:
    raise ImproperlyConfigured("Set ALLOWED_HOSTS when DEBUG is off.")
CSRF_TRUSTED_ORIGINS = env.list("CSRF_TRUSTED_ORIGINS", default=[])

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django.contrib.postgres",
    "django.contrib.humanize",
    "django_filters",
    "simple_history",
    "rules.apps.AutodiscoverRulesConfig",
    "crispy_forms",
    "crispy_forms_gds",
    "axes",
    "improvement",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    # Before any view, CSRF check (process_view) or upload handler reads the body.
    "improvement.middleware.RequestBodyLimitMiddleware",
    "django.contrib.auth.middleware.LoginRequiredMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "csp.middleware.CSPMiddleware",
    "simple_history.middleware.HistoryRequestMiddleware",
    # Inside the CSP and security-header middleware, so the pages it renders get their headers.
    "tracker.middleware.ServiceErrorPagesMiddleware",
    # Axes must come last so it sees the outcome of authentication.
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "tracker.urls"
WSGI_APPLICATION = "tracker.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "improvement.context_processors.site",
            ],
        },
    },
]

DATABASES = {
    "default": env.db("DATABASE_URL", default=f"sqlite:///{BASE_DIR / 'db.sqlite3'}"),
}
if DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql":
    DATABASES["default"].setdefault("CONN_MAX_AGE", env.int("CONN_MAX_AGE", default=60))
    DATABASES["default"]["CONN_HEALTH_CHECKS"] = True
    # PostgreSQL's JIT compiles the big aggregates (national figures, headline counts) for longer
    # than they take to run: 0.4-1 s lost per request at a million actions. Off per connection.
    DATABASES["default"].setdefault("OPTIONS", {}).setdefault(
        "options", env("PG_OPTIONS", default="-c jit=off")
    )
# Parallel test runs on one PostgreSQL server each need their own test database.
if env("TEST_DATABASE_NAME", default=""):
    DATABASES["default"]["TEST"] = {"NAME": env("TEST_DATABASE_NAME")}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_USER_MODEL = "improvement.User"
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "rules.permissions.ObjectPermissionBackend",
    "improvement.backends.RoleLoadingBackend",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "improvement:home"
LOGOUT_REDIRECT_URL = "login"

# Failed sign-ins (improvement/login_limits.py): limited per username whatever the address, and
# per address whatever the username, each with its own limit; a short cool-off that doubles with
# each lock-out in a day (1 minute up to 15 by default).
LOGIN_FAILURES_PER_USERNAME = env.int("LOGIN_FAILURES_PER_USERNAME", default=5)
LOGIN_FAILURES_PER_ADDRESS = env.int("LOGIN_FAILURES_PER_ADDRESS", default=20)
LOGIN_COOL_OFF_SECONDS = env.int("LOGIN_COOL_OFF_SECONDS", default=60)
LOGIN_COOL_OFF_MAX_SECONDS = env.int("LOGIN_COOL_OFF_MAX_SECONDS", default=15 * 60)
# The client's address is read from X-Forwarded-For only when the proxies in front of the service
# are named: TRUSTED_PROXY_COUNT (how many proxies append to the header, e.g. 1 for one load
# balancer) or TRUSTED_PROXIES (their addresses or networks). With neither, REMOTE_ADDR is used:
# behind an unnamed proxy every client then shares the proxy's address and its limit.
TRUSTED_PROXY_COUNT = env.int("TRUSTED_PROXY_COUNT", default=0)
TRUSTED_PROXIES = env.list("TRUSTED_PROXIES", default=[])
AXES_FAILURE_LIMIT = "improvement.login_limits.failure_limit"
AXES_COOLOFF_TIME = "improvement.login_limits.cool_off"
AXES_CLIENT_IP_CALLABLE = "improvement.login_limits.client_ip"
AXES_LOCKOUT_PARAMETERS = ["username", "ip_address"]
# Each attempt expires by its own cool-off, so one client's short window never clears another's.
AXES_USE_ATTEMPT_EXPIRATION = True
# The failure log is the memory that makes a repeated lock-out longer.
AXES_ENABLE_ACCESS_FAILURE_LOG = True
# Tries during a lock-out are refused without extending it: the named person waits minutes.
AXES_RESET_COOL_OFF_ON_FAILURE_DURING_LOCKOUT = False
AXES_RESET_ON_SUCCESS = True
AXES_LOCKOUT_TEMPLATE = "registration/locked_out.html"
# No banner on every management command.
AXES_VERBOSE = False

LANGUAGE_CODE = "en-gb"
TIME_ZONE = "Europe/London"
USE_I18N = True
USE_TZ = True

STATIC_URL = "/static/"
STATIC_ROOT = BASE_DIR / "staticfiles"
STATICFILES_DIRS = [BASE_DIR / "static"]
MEDIA_URL = "/media/"
MEDIA_ROOT = env.path("MEDIA_ROOT", default=BASE_DIR / "media")


def file_storage() -> dict:
    """Where evidence files live: local files (the default), or S3-compatible object storage
    shared by several app servers (FILE_STORAGE=s3; see README "Running on several servers").
    Credentials come from the usual AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY variables."""
    kind = env("FILE_STORAGE", default="local")
    if kind == "local":
        return {"BACKEND": "django.core.files.storage.FileSystemStorage"}
    if kind == "s3":
        bucket = env("AWS_STORAGE_BUCKET_NAME", default="")
        if not bucket:
            raise ImproperlyConfigured("FILE_STORAGE=s3 needs AWS_STORAGE_BUCKET_NAME.")
        return {
            "BACKEND": "storages.backends.s3.S3Storage",
            "OPTIONS": {
                "bucket_name": bucket,
                "endpoint_url": env("AWS_S3_ENDPOINT_URL", default=None),
                "region_name": env("AWS_S3_REGION_NAME", default=None),
                "location": env("AWS_S3_LOCATION", default=""),
                # Evidence is private: no public ACL, downloads go through the app's permission
                # check (views.actions.evidence_download), and no name is ever overwritten.
                "default_acl": None,
                "querystring_auth": True,
                "file_overwrite": False,
            },
        }
    raise ImproperlyConfigured("FILE_STORAGE must be 'local' or 's3'.")


STORAGES = {
    "default": file_storage(),
    "staticfiles": {
        "BACKEND": (
            "django.contrib.staticfiles.storage.StaticFilesStorage"
            if DEBUG
            else "whitenoise.storage.CompressedManifestStaticFilesStorage"
        )
    },
}

# Uploads: evidence files and Ofsted report PDFs.
EVIDENCE_MAX_BYTES = env.int("EVIDENCE_MAX_BYTES", default=10 * 1024 * 1024)
REPORT_MAX_BYTES = env.int("REPORT_MAX_BYTES", default=20 * 1024 * 1024)
DATA_UPLOAD_MAX_MEMORY_SIZE = 2_621_440
# improvement.middleware refuses, from Content-Length alone, bodies over the larger upload limit
# plus this margin (the form's other fields and multipart framing), and any body over
# ANONYMOUS_BODY_MAX_BYTES from someone not signed in. Set the proxy's own limit (e.g. nginx
# client_max_body_size) to the same total; see the README.
REQUEST_BODY_MARGIN_BYTES = env.int("REQUEST_BODY_MARGIN_BYTES", default=1024 * 1024)
ANONYMOUS_BODY_MAX_BYTES = env.int("ANONYMOUS_BODY_MAX_BYTES", default=64 * 1024)
FILE_UPLOAD_MAX_MEMORY_SIZE = 2_621_440

CRISPY_ALLOWED_TEMPLATE_PACKS = ["gds"]
CRISPY_TEMPLATE_PACK = "gds"

COUNCIL_NAME = env("COUNCIL_NAME", default="Knowsley Council")
SERVICE_NAME = "Improvement tracker"

EMAIL_BACKEND = env(
    "EMAIL_BACKEND",
    default="django.core.mail.backends.console.EmailBackend"
    if DEBUG
    else "django.core.mail.backends.smtp.EmailBackend",
)
EMAIL_HOST = env("EMAIL_HOST", default="localhost")
EMAIL_PORT = env.int("EMAIL_PORT", default=25)
EMAIL_HOST_USER = env("EMAIL_HOST_USER", default="")
EMAIL_HOST_PASSWORD = env("EMAIL_HOST_PASSWORD", default="")
EMAIL_USE_TLS = env.bool("EMAIL_USE_TLS", default=False)
DEFAULT_FROM_EMAIL = env("DEFAULT_FROM_EMAIL", default="improvement-tracker@localhost")
# Links in emails are absolute: the address people use to reach the tracker.
SITE_URL = env("SITE_URL", default="http://127.0.0.1:8000" if DEBUG else "")
EMAIL_TIMEOUT = env.int("EMAIL_TIMEOUT", default=30)
# The weekly exception digest goes on the first reminder run on or after this day (0 = Monday).
DIGEST_WEEKDAY = env.int("DIGEST_WEEKDAY", default=0)
# GOV.UK Notify, for councils that use it: EMAIL_BACKEND=improvement.mail.NotifyEmailBackend.
GOVUK_NOTIFY_API_KEY = env("GOVUK_NOTIFY_API_KEY", default="")
GOVUK_NOTIFY_TEMPLATE_ID = env("GOVUK_NOTIFY_TEMPLATE_ID", default="")
GOVUK_NOTIFY_BASE_URL = env(
    "GOVUK_NOTIFY_BASE_URL", default="https://api.notifications.service.gov.uk"
)

CACHES = {
    "default": (
        {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": env("REDIS_URL")}
        if env("REDIS_URL", default="")
        else {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}
    )
}
# Several app servers share sessions through the database (or the Redis cache, by setting
# SESSION_ENGINE=django.contrib.sessions.backends.cache with REDIS_URL); none is kept in a process.
SESSION_ENGINE = env("SESSION_ENGINE", default="django.contrib.sessions.backends.db")
# How long the national overview's action figures are cached (seconds; 0 counts every time).
NATIONAL_OVERVIEW_CACHE_SECONDS = env.int("NATIONAL_OVERVIEW_CACHE_SECONDS", default=300)
# How long an authority dashboard's counts may be reused (seconds; 0 counts every time). They are
# recounted sooner whenever one of its actions changes, unless the plan is very large
# (improvement.selectors.dashboard.LARGE_PLAN_ACTIONS), when the page says when they were counted.
DASHBOARD_FIGURES_CACHE_SECONDS = env.int("DASHBOARD_FIGURES_CACHE_SECONDS", default=300)

# Security headers. HTTPS settings are on whenever DEBUG is off, behind a TLS-terminating proxy.
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
SECURE_CROSS_ORIGIN_OPENER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
SESSION_COOKIE_AGE = env.int("SESSION_COOKIE_AGE", default=8 * 60 * 60)
CSRF_COOKIE_HTTPONLY = True
SECURE_HTTPS = env.bool("SECURE_HTTPS", default=not DEBUG)
SESSION_COOKIE_SECURE = SECURE_HTTPS
CSRF_COOKIE_SECURE = SECURE_HTTPS
SECURE_SSL_REDIRECT = env.bool("SECURE_SSL_REDIRECT", default=SECURE_HTTPS)
SECURE_HSTS_SECONDS = env.int("SECURE_HSTS_SECONDS", default=31536000 if SECURE_HTTPS else 0)
SECURE_HSTS_INCLUDE_SUBDOMAINS = SECURE_HTTPS
SECURE_HSTS_PRELOAD = env.bool("SECURE_HSTS_PRELOAD", default=False)
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
# HSTS preload commits the council's whole domain, not just this service: the council decides.
SILENCED_SYSTEM_CHECKS = [] if SECURE_HSTS_PRELOAD else ["security.W021"]

CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": [SELF],
        "script-src": [SELF, NONCE],
        "style-src": [SELF],
        "img-src": [SELF, "data:"],
        "font-src": [SELF],
        "connect-src": [SELF],
        "object-src": [NONE],
        "base-uri": [SELF],
        "form-action": [SELF],
        "frame-ancestors": [NONE],
    }
}

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": env("LOG_LEVEL", default="INFO")},
}
