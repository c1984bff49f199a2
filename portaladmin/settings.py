"""portaladmin settings: one module, driven by the environment (see .env.example).

With no environment at all it runs in development mode on embedded defaults:
SQLite and a filesystem Celery broker under var/, the sandbox portal on.
"""

from pathlib import Path

import environ
from django.core.exceptions import ImproperlyConfigured
from django.utils.csp import CSP


class _Env(environ.Env):
    """An empty variable (as in a copied .env.example) means "use the default", not "empty"."""

    def get_value(self, var, cast=None, default=environ.Env.NOTSET, parse_default=False):
        if self.ENVIRON.get(var) == "" and default is not environ.Env.NOTSET:
            return default
        return super().get_value(var, cast=cast, default=default, parse_default=parse_default)


BASE_DIR = Path(__file__).resolve().parent.parent
env = _Env()
if (BASE_DIR / ".env").exists():
    environ.Env.read_env(BASE_DIR / ".env", overwrite=False)
VAR_DIR = Path(env.str("PORTALADMIN_VAR_DIR", default=str(BASE_DIR / "var")))

# Whether a missing setting may fall back to development defaults (DEBUG on, the committed development keys).
# True for a source checkout (`make run`); the Docker image sets it to False, so a bare `docker run`, or a
# copied .env.example with an empty DEBUG, is production and refuses to start without real secrets.
DEV_DEFAULTS = env.bool("PORTALADMIN_DEV_DEFAULTS", default=True)
DEBUG = env.bool("DEBUG", default=DEV_DEFAULTS)

# Development-only values: used only with DEBUG on in a source checkout, refused everywhere else.
_DEV_SECRET = "dev-only-insecure-secret-key-do-not-use-in-production-0123456789"  # noqa: S105  # nosec B105
_USE_DEV_KEYS = DEBUG and DEV_DEFAULTS
SECRET_KEY = env.str("SECRET_KEY", default=_DEV_SECRET if _USE_DEV_KEYS else "")
# Fernet keys (comma separated, newest first) that encrypt portal API keys at rest.
# Deliberately separate from SECRET_KEY so rotating one does not lose the other.
_DEV_FERNET = "ZGV2LW9ubHktZmVybmV0LWtleS0wMTIzNDU2Nzg5YWI="
PORTALADMIN_KEY_ENCRYPTION_KEYS = env.list(
    "PORTALADMIN_KEY_ENCRYPTION_KEYS", default=[_DEV_FERNET] if _USE_DEV_KEYS else []
)
if not _USE_DEV_KEYS:
    _WHY = "DEBUG is off" if not DEBUG else "PORTALADMIN_DEV_DEFAULTS is off (as in the Docker image)"
    if not SECRET_KEY or SECRET_KEY == _DEV_SECRET:
        raise ImproperlyConfigured(f"SECRET_KEY must be set (not the development value) when {_WHY}.")
    if not PORTALADMIN_KEY_ENCRYPTION_KEYS or _DEV_FERNET in PORTALADMIN_KEY_ENCRYPTION_KEYS:
        raise ImproperlyConfigured(
            f"PORTALADMIN_KEY_ENCRYPTION_KEYS must be set (not the development value) when {_WHY}.")

ALLOWED_HOSTS = env.list("ALLOWED_HOSTS", default=["localhost", "127.0.0.1", "[::1]", "testserver"] if DEBUG else [])
CSRF_TRUSTED_ORIGINS = env.list("CSRF_TRUSTED_ORIGINS", default=[])

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "django_htmx",
    "axes",
    "portaladmin.core",
    "portaladmin.accounts",
    "portaladmin.portals",
    "portaladmin.audit",
    "portaladmin.sandbox",
    "portaladmin.jobs",
    "portaladmin.datasets",
    "portaladmin.people",
    "portaladmin.harvesters",
    "portaladmin.pages",
    "portaladmin.promote",
    "portaladmin.fleet",
    "portaladmin.notify",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "portaladmin.core.middleware.RequestIdMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.auth.middleware.LoginRequiredMiddleware",
    "portaladmin.accounts.middleware.TimeZoneMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django.middleware.csp.ContentSecurityPolicyMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    "portaladmin.core.middleware.VaryOnHtmxMiddleware",
    "portaladmin.core.middleware.HtmxLoginRedirectMiddleware",
    # Body size limits and upload access checks, before anything reads a body: every middleware's
    # process_view (CsrfViewMiddleware's reads request.POST) runs after all of these __call__s.
    "portaladmin.core.bodylimit.RequestBodyLimitMiddleware",
    "axes.middleware.AxesMiddleware",
    "portaladmin.core.middleware.RejectNulBytesMiddleware",
]

ROOT_URLCONF = "portaladmin.urls"
WSGI_APPLICATION = "portaladmin.wsgi.application"

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
                "django.template.context_processors.csp",
                "portaladmin.portals.context_processors.connections",
                "portaladmin.accounts.context_processors.sso",
            ],
            "builtins": ["portaladmin.core.templatetags.humantime"],
        },
    },
]

DATABASES = {
    "default": env.db("DATABASE_URL", default=f"sqlite:///{VAR_DIR / 'portaladmin.sqlite3'}"),
}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # WAL + a busy timeout let the web server, worker and beat share one SQLite file.
    DATABASES["default"].setdefault("OPTIONS", {}).update(
        {"timeout": 20, "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
         "transaction_mode": "IMMEDIATE"}
    )
else:
    DATABASES["default"]["CONN_MAX_AGE"] = env.int("DATABASE_CONN_MAX_AGE", default=60)
    DATABASES["default"]["CONN_HEALTH_CHECKS"] = True

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

REDIS_URL = env.str("REDIS_URL", default="")
if REDIS_URL:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": REDIS_URL}}
else:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.filebased.FileBasedCache",
                          "LOCATION": str(VAR_DIR / "cache")}}

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "home"
LOGOUT_REDIRECT_URL = "login"

# Reverse proxies in front of the web service (each appends to X-Forwarded-For); 0 = use REMOTE_ADDR.
PORTALADMIN_TRUSTED_PROXIES = env.int("PORTALADMIN_TRUSTED_PROXIES", default=0)

# Login throttling: a finite lock-out per user name + client IP (README: "Log-in throttling"), so an attacker
# who locks himself out does not lock the real user out. The client IP is the same one the audit trail records.
AXES_FAILURE_LIMIT = env.int("AXES_FAILURE_LIMIT", default=5)
AXES_COOLOFF_TIME = env.float("AXES_COOLOFF_MINUTES", default=15) / 60  # hours
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_CLIENT_IP_CALLABLE = "portaladmin.core.clientip.client_ip"
AXES_LOCKOUT_TEMPLATE = "accounts/locked_out.html"
AXES_RESET_ON_SUCCESS = True
AXES_VERBOSE = False

# Password reset by e-mail: requests per hour per address asked for and per client address.
PASSWORD_RESET_PER_EMAIL_PER_HOUR = env.int("PASSWORD_RESET_PER_EMAIL_PER_HOUR", default=3)
PASSWORD_RESET_PER_IP_PER_HOUR = env.int("PASSWORD_RESET_PER_IP_PER_HOUR", default=10)
PASSWORD_RESET_TIMEOUT = env.int("PASSWORD_RESET_TIMEOUT_MINUTES", default=60) * 60  # link lifetime

# Optional single sign-on with OpenID Connect (mozilla-django-oidc); see portaladmin/accounts/oidc.py.
OIDC_ENABLED = env.bool("OIDC_ENABLED", default=False)
OIDC_PROVIDER_NAME = env.str("OIDC_PROVIDER_NAME", default="single sign-on")
OIDC_RP_SIGN_ALGO = env.str("OIDC_RP_SIGN_ALGO", default="RS256")
OIDC_RP_SCOPES = env.str("OIDC_RP_SCOPES", default="openid email profile")
OIDC_USE_PKCE = True
OIDC_TIMEOUT = env.float("OIDC_TIMEOUT", default=10.0)
OIDC_CREATE_USER = True
if OIDC_ENABLED:
    # Required when enabled: a missing one stops start-up with ImproperlyConfigured.
    OIDC_OP_ISSUER = env.str("OIDC_OP_ISSUER")
    OIDC_RP_CLIENT_ID = env.str("OIDC_RP_CLIENT_ID")
    OIDC_RP_CLIENT_SECRET = env.str("OIDC_RP_CLIENT_SECRET")
    OIDC_OP_AUTHORIZATION_ENDPOINT = env.str("OIDC_OP_AUTHORIZATION_ENDPOINT")
    OIDC_OP_TOKEN_ENDPOINT = env.str("OIDC_OP_TOKEN_ENDPOINT")
    OIDC_OP_USER_ENDPOINT = env.str("OIDC_OP_USER_ENDPOINT")
    OIDC_OP_JWKS_ENDPOINT = env.str("OIDC_OP_JWKS_ENDPOINT")
    AUTHENTICATION_BACKENDS.append("portaladmin.accounts.oidc.OidcBackend")

LANGUAGE_CODE = "en-us"
TIME_ZONE = env.str("TIME_ZONE", default="UTC")
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = VAR_DIR / "staticfiles"
STATIC_ROOT.mkdir(parents=True, exist_ok=True)  # whitenoise warns about a missing root
STATICFILES_DIRS = [BASE_DIR / "static"]
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage", "OPTIONS": {"location": VAR_DIR / "media"}},
    "staticfiles": {
        "BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"
        if DEBUG else "whitenoise.storage.CompressedManifestStaticFilesStorage"
    },
}
FILE_UPLOAD_TEMP_DIR = None
# Uploads bigger than this go to a temporary file, so they stream to the portal from disk.
FILE_UPLOAD_MAX_MEMORY_SIZE = 2 * 1024 * 1024
PORTALADMIN_MAX_UPLOAD_BYTES = env.int("PORTALADMIN_MAX_UPLOAD_MB", default=200) * 1024 * 1024
PORTALADMIN_MAX_IMAGE_BYTES = env.int("PORTALADMIN_MAX_IMAGE_MB", default=5) * 1024 * 1024  # image assets
DATA_UPLOAD_MAX_NUMBER_FIELDS = 20000
# Form posts without files (e.g. code editor pages: up to 1 MB of HTML + CSS per language).
DATA_UPLOAD_MAX_MEMORY_SIZE = 12 * 1024 * 1024

# --- Security -------------------------------------------------------------------------------
SECURE_CSP = {
    "default-src": [CSP.SELF],
    "script-src": [CSP.SELF, CSP.NONCE],
    "style-src": [CSP.SELF, CSP.NONCE],
    "img-src": [CSP.SELF, "data:"],
    "connect-src": [CSP.SELF],
    "font-src": [CSP.SELF],
    "object-src": [CSP.NONE],
    "base-uri": [CSP.SELF],
    "form-action": [CSP.SELF],
    "frame-ancestors": [CSP.NONE],
}
SESSION_COOKIE_HTTPONLY = True
CSRF_COOKIE_HTTPONLY = False  # htmx reads the token from the page, not the cookie; harmless either way
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
if not DEBUG:
    SESSION_COOKIE_SECURE = True
    CSRF_COOKIE_SECURE = True
    SECURE_SSL_REDIRECT = env.bool("SECURE_SSL_REDIRECT", default=True)
    SECURE_HSTS_SECONDS = env.int("SECURE_HSTS_SECONDS", default=31536000)
    SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    SECURE_HSTS_PRELOAD = True
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    SECURE_REDIRECT_EXEMPT = [r"^healthz/$", r"^readyz/$"]

# --- Portals --------------------------------------------------------------------------------
PORTALS_CONNECT_TIMEOUT = env.float("PORTALS_CONNECT_TIMEOUT", default=5.0)
PORTALS_READ_TIMEOUT = env.float("PORTALS_READ_TIMEOUT", default=30.0)
# Keys older than this (days, from the portal's creation date or when stored here) are flagged.
PORTALS_KEY_MAX_AGE_DAYS = env.int("PORTALS_KEY_MAX_AGE_DAYS", default=365)
PORTALS_HEALTH_CHECK_MINUTES = env.int("PORTALS_HEALTH_CHECK_MINUTES", default=60)  # periodic connection test
PORTALS_MAX_RETRIES = env.int("PORTALS_MAX_RETRIES", default=3)
PORTALS_RETRY_AFTER_CAP = env.float("PORTALS_RETRY_AFTER_CAP", default=10.0)
# Plain http and private addresses are for the local sandbox only.
PORTALS_ALLOW_HTTP = env.bool("PORTALS_ALLOW_HTTP", default=DEBUG)
PORTALS_ALLOW_PRIVATE_NETWORKS = env.bool("PORTALS_ALLOW_PRIVATE_NETWORKS", default=DEBUG)
PORTALS_USER_AGENT = "portaladmin/0.1 (+https://github.com/portaladmin)"

SANDBOX_ENABLED = env.bool("SANDBOX_ENABLED", default=DEBUG)
# Where this app can reach itself; make run seeds sandbox connections under this URL.
PORTALADMIN_SELF_URL = env.str("PORTALADMIN_SELF_URL", default="http://127.0.0.1:8000")

# --- Jobs and Celery ------------------------------------------------------------------------
_BROKER_DIR = VAR_DIR / "broker"
CELERY_BROKER_URL = env.str("CELERY_BROKER_URL", default=REDIS_URL or "filesystem://")
if CELERY_BROKER_URL.startswith("filesystem://"):
    CELERY_BROKER_TRANSPORT = "portaladmin.core.fsbroker:Transport"  # kombu's, with atomic message files
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        "data_folder_in": str(_BROKER_DIR / "queue"),
        "data_folder_out": str(_BROKER_DIR / "queue"),
        "processed_folder": str(_BROKER_DIR / "processed"),
        "control_folder": str(_BROKER_DIR / "control"),
        "store_processed": False,
        # The transport polls its folder; at its default (1 s) a 2-process worker takes about one task per second,
        # so a big publish under `make run` crawled. A folder listing every 0.1 s costs next to nothing.
        "polling_interval": env.float("CELERY_FILESYSTEM_POLLING_INTERVAL", default=0.1),
    }
else:
    # Must exceed the hard time limit plus the largest countdown (tests assert it).
    CELERY_BROKER_TRANSPORT_OPTIONS = {"visibility_timeout": env.int("CELERY_VISIBILITY_TIMEOUT", default=3600)}
CELERY_TASK_IGNORE_RESULT = True
CELERY_RESULT_BACKEND = None
CELERY_TASK_SERIALIZER = "json"
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_TASK_SOFT_TIME_LIMIT = env.int("CELERY_TASK_SOFT_TIME_LIMIT", default=240)
CELERY_TASK_TIME_LIMIT = env.int("CELERY_TASK_TIME_LIMIT", default=300)
CELERY_TASK_ALWAYS_EAGER = False
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
CELERY_WORKER_HIJACK_ROOT_LOGGER = False
CELERY_BEAT_SCHEDULE_FILENAME = str(VAR_DIR / "celerybeat-schedule")
# Periodic tasks; each app adds its entries in portaladmin/celery.py.
CELERY_BEAT_SCHEDULE: dict = {}

JOBS_POLL_INTERVAL = env.float("JOBS_POLL_INTERVAL", default=2.0)  # beat tick of the status poller, seconds
JOBS_PORTAL_REQUEST_BUDGET = env.int("JOBS_PORTAL_REQUEST_BUDGET", default=20)  # status calls per portal per tick
JOBS_MAX_ATTEMPTS = env.int("JOBS_MAX_ATTEMPTS", default=5)
JOBS_LEASE_SECONDS = env.int("JOBS_LEASE_SECONDS", default=120)
JOBS_POLL_BACKOFF_CAP = env.float("JOBS_POLL_BACKOFF_CAP", default=60.0)
JOBS_ITEM_DEADLINE_HOURS = env.float("JOBS_ITEM_DEADLINE_HOURS", default=12.0)
# 429/5xx/timeouts/connection errors retry with backoff for this long without spending JOBS_MAX_ATTEMPTS.
JOBS_TRANSIENT_RETRY_SECONDS = env.float("JOBS_TRANSIENT_RETRY_SECONDS", default=1800.0)
# How long a portal may keep showing the state it had before an order before the item fails saying so.
JOBS_STALE_READ_SECONDS = env.float("JOBS_STALE_READ_SECONDS", default=900.0)
# How far a portal's clock may be from ours when its answers carry no Date header, and an extra margin for
# comparing its timestamps (network jitter).
JOBS_PORTAL_CLOCK_SKEW = env.float("JOBS_PORTAL_CLOCK_SKEW", default=300.0)
JOBS_PORTAL_TIME_MARGIN = env.float("JOBS_PORTAL_TIME_MARGIN", default=1.0)
JOBS_NOTIFY_ON_FAILURE = env.bool("JOBS_NOTIFY_ON_FAILURE", default=True)
CATALOGUE_SYNC_MINUTES = env.int("CATALOGUE_SYNC_MINUTES", default=15)
# The background status scan: status reads per portal per poll tick, taken only from what the job poller leaves
# of the portal's request budget (8 per 2 s tick: 3,000 datasets known in 12.5 min), and how often every
# dataset is re-checked at the latest.
STATUS_SCAN_BUDGET = env.int("STATUS_SCAN_BUDGET", default=8)
STATUS_SCAN_RECHECK_HOURS = env.float("STATUS_SCAN_RECHECK_HOURS", default=3.0)
INVITE_CHUNK_SIZE = env.int("INVITE_CHUNK_SIZE", default=100)
WATCHDOG_BUSY_MINUTES = env.int("WATCHDOG_BUSY_MINUTES", default=60)
# Notifications: beat tick sending due webhook retries and digests (s); attempts before a delivery gives up;
# webhook timeout (s). Webhook URLs pass the same private-network guard as portals (PORTALS_ALLOW_PRIVATE_NETWORKS).
NOTIFY_TICK_SECONDS = env.float("NOTIFY_TICK_SECONDS", default=30.0)
NOTIFY_MAX_ATTEMPTS = env.int("NOTIFY_MAX_ATTEMPTS", default=5)
NOTIFY_WEBHOOK_TIMEOUT = env.float("NOTIFY_WEBHOOK_TIMEOUT", default=10.0)
# Datasets entering error are told together when the scan pass ends, or after this long at most.
NOTIFY_DATASET_HOLD_SECONDS = env.float("NOTIFY_DATASET_HOLD_SECONDS", default=300.0)
# A dataset that became late (its late_at passed) is told once; one whose late_at is older than this was late
# before anyone watched (first start, a catalogue just synced) and is not news.
NOTIFY_LATE_LOOKBACK_HOURS = env.float("NOTIFY_LATE_LOOKBACK_HOURS", default=48.0)

# --- Mail (Django 6.1 MAILERS) -----------------------------------------------------------------
# EMAIL_URL like smtp+tls://user:password@smtp.example.org:587 sends real mail. Without it, mail
# (job failure notices) is printed to the console in development and sent to localhost:25 in production.
EMAIL_URL = env.str("EMAIL_URL", default="" if DEBUG else "smtp://localhost:25")
if EMAIL_URL:
    _mail = environ.Env.email_url_config(EMAIL_URL)
    MAILERS = {"default": {"BACKEND": "django.core.mail.backends.smtp.EmailBackend", "OPTIONS": {
        "host": _mail["EMAIL_HOST"], "port": _mail["EMAIL_PORT"], "username": _mail["EMAIL_HOST_USER"],
        "password": _mail["EMAIL_HOST_PASSWORD"], "use_tls": _mail.get("EMAIL_USE_TLS", False),
        "use_ssl": _mail.get("EMAIL_USE_SSL", False), "timeout": 10}}}
else:
    MAILERS = {"default": {"BACKEND": "django.core.mail.backends.console.EmailBackend"}}
DEFAULT_FROM_EMAIL = env.str("DEFAULT_FROM_EMAIL", default="portaladmin@localhost")
SERVER_EMAIL = DEFAULT_FROM_EMAIL

# --- Logging --------------------------------------------------------------------------------
LOG_LEVEL = env.str("LOG_LEVEL", default="INFO")
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "filters": {
        "redact": {"()": "portaladmin.core.logging.RedactSecretsFilter"},
        "context": {"()": "portaladmin.core.logging.ContextFilter"},
        "client_error_one_line": {"()": "portaladmin.core.logging.ClientErrorOneLineFilter"},
        "require_debug_false": {"()": "django.utils.log.RequireDebugFalse"},
    },
    "formatters": {
        "json": {"()": "portaladmin.core.logging.JsonFormatter"},
        "plain": {"format": "%(asctime)s %(levelname)s %(name)s [req=%(request_id)s job=%(job_id)s] %(message)s"},
    },
    "handlers": {
        "console": {
            "class": "logging.StreamHandler",
            "filters": ["context", "redact"],
            "formatter": env.str("LOG_FORMAT", default="plain" if DEBUG else "json"),
        },
        "mail_admins": {"class": "django.utils.log.AdminEmailHandler", "level": "ERROR",
                        "filters": ["require_debug_false"]},
    },
    "root": {"handlers": ["console"], "level": LOG_LEVEL},
    "loggers": {
        # Django's default config gives "django" its own console handler (DEBUG only, no redaction) that ALSO
        # propagates to ours: every django.request record was printed twice under `make run`. Only ours prints
        # (it redacts); Django's mail to ADMINS on errors is kept as it was.
        "django": {"handlers": ["mail_admins"], "level": "INFO", "propagate": True},
        # A 403/400 is one line with its reason, not a traceback (core.logging.ClientErrorOneLineFilter).
        "django.request": {"filters": ["client_error_one_line"]},
        "django.db.backends": {"level": "INFO"},
        "urllib3": {"level": "WARNING"},
        "axes": {"level": "WARNING"},
        # Routine task traffic (a poll tick every 2 s, a sweep every 5 s: "received", "succeeded", "Sending due
        # task") would bury everything else in the console; failures still log at WARNING/ERROR.
        "celery.worker.strategy": {"level": env.str("LOG_LEVEL_CELERY_TASKS", default="WARNING")},
        "celery.app.trace": {"level": env.str("LOG_LEVEL_CELERY_TASKS", default="WARNING")},
        "celery.beat": {"level": env.str("LOG_LEVEL_CELERY_TASKS", default="WARNING")},
    },
}
