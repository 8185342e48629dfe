"""DeepSeek Studio settings: one module, configured by the environment (and an optional .env).

Every variable read here is listed in docs/configuration.md and in .env.example.
Embedded defaults (SQLite, local-memory cache, the offline simulator) need no configuration;
DATABASE_URL, REDIS_URL and DEEPSEEK_API_KEY switch to the production parts.
"""

import os
from pathlib import Path

import environ
from django.core.exceptions import ImproperlyConfigured
from django.utils.csp import CSP
from django.utils.translation import gettext_lazy as _
from redis.backoff import ExponentialBackoff
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import TimeoutError as RedisTimeoutError
from redis.retry import Retry

BASE_DIR = Path(__file__).resolve().parent.parent

env = environ.Env()
environ.Env.read_env(BASE_DIR / ".env", overwrite=False)

# --- Core -------------------------------------------------------------------------------
DEBUG = env.bool("DEBUG", default=False)
# Without SECRET_KEY only a DEBUG run may start, with a throwaway development key.
SECRET_KEY = env.str("SECRET_KEY", default="") or (
    "django-insecure-development-only-key-do-not-use-in-production" if DEBUG else ""
)
if not SECRET_KEY:
    raise ImproperlyConfigured("Set SECRET_KEY (or DEBUG=true for local development).")
ALLOWED_HOSTS = env.list("ALLOWED_HOSTS", default=["127.0.0.1", "localhost", "[::1]"])
CSRF_TRUSTED_ORIGINS = env.list("CSRF_TRUSTED_ORIGINS", default=[])

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.contrib.postgres",  # full-text search types (knowledge); inert on SQLite
    "servestatic",  # its configuration checks
    "django_htmx",
    "django_tasks_db",  # background work: the ORM-backed django.tasks backend
    "crispy_forms",
    "crispy_tailwind",
    "studio",
    "studio.workspaces",
    "prompts",
    "prompts.knowledge",
    "drafts",
    "prompts.experiments",
    "studio.campaigns",
    "studio.api",
    "studio.audit",
    "studio.assistant",
    "theme",
]

# --- Framework tuning (studio/tuning.py) ---------------------------------------------------
# STUDIO_FRAMEWORK_TUNING (default on) turns on every tuning that leans on Django's or
# asgiref's internals, all in studio/tuning.py: Django's own middleware declared sync-only (one
# thread switch per request instead of one per hook) and SSE streams that give their request's
# thread back. Off: Django's own classes and behaviour, e.g. to rule the tuning out after an
# upgrade (tests/studio/test_tuning.py and `manage.py check` say when an assumption broke).
STUDIO_FRAMEWORK_TUNING = env.bool("STUDIO_FRAMEWORK_TUNING", default=True)


def _tuned(path: str) -> str:
    """Django's middleware at ``path``, or its sync-only form in studio.tuning when tuned."""
    return f"studio.tuning.{path.rpartition('.')[2]}" if STUDIO_FRAMEWORK_TUNING else path


MIDDLEWARE = [
    "studio.observability.RequestLogMiddleware",  # request id + one log line per request
    "django.middleware.security.SecurityMiddleware",
    "servestatic.middleware.ServeStaticMiddleware",  # async only
    # From here to CSP one synchronous chain when tuned, entered with one thread switch per
    # request; CSRF and X-Frame-Options keep their own classes (check --deploy looks for them)
    # and follow the chain's mode.
    _tuned("django.contrib.sessions.middleware.SessionMiddleware"),
    _tuned("django.middleware.locale.LocaleMiddleware"),
    _tuned("django.middleware.common.CommonMiddleware"),
    "django.middleware.csrf.CsrfViewMiddleware",
    _tuned("django.contrib.auth.middleware.AuthenticationMiddleware"),
    _tuned("studio.middleware.PrivatePagesMiddleware"),  # Cache-Control: private, no-store
    # A role check coming (studio.workspaces.access): the user and the membership, one query.
    "studio.workspaces.access.MembershipWithUserMiddleware",
    _tuned("django.contrib.auth.middleware.LoginRequiredMiddleware"),
    _tuned("django.contrib.messages.middleware.MessageMiddleware"),
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    _tuned("django.middleware.csp.ContentSecurityPolicyMiddleware"),
    "django_htmx.middleware.HtmxMiddleware",
    "studio.guardrails.page_rate_limits.RateLimitMiddleware",
    # A view's Redis error that nothing degraded: 503 with Retry-After, not a 500.
    "studio.middleware.SharedCacheDownMiddleware",
    # An async view's role check, in the process_view hooks' one trip (access.role_required).
    "studio.workspaces.access.RoleCheckMiddleware",
    # An async view's first read (an SSE stream's), in the same trip (studio.middleware).
    "studio.middleware.FirstReadMiddleware",
]

ROOT_URLCONF = "studio.urls"
ASGI_APPLICATION = "studio.asgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.template.context_processors.i18n",
                "django.template.context_processors.csp",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "studio.context_processors.studio",
            ],
            # {{ moment|when }}: every date and time shown, in one localized format.
            "builtins": ["studio.templatetags.dates"],
        },
    },
]

# --- Data: SQLite and local memory by default; DATABASE_URL / REDIS_URL for production ---
DATABASES = {"default": env.db("DATABASE_URL", default=f"sqlite:///{BASE_DIR / 'db.sqlite3'}")}
DATABASES["default"].setdefault("CONN_MAX_AGE", env.int("CONN_MAX_AGE", default=0))
# A persistent connection (CONN_MAX_AGE > 0) is tested before a request reuses it: one the
# database dropped meanwhile (a restart, a failover) is replaced, not handed to the view.
DATABASES["default"]["CONN_HEALTH_CHECKS"] = True
if DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql":
    from studio.database_pool import check_connection

    # Under ASGI every concurrent request runs in its own thread with its own connection;
    # a pool keeps hundreds of open streams and requests within PostgreSQL's max_connections.
    DATABASES["default"]["CONN_MAX_AGE"] = 0  # pooling replaces persistent connections
    DATABASES["default"].setdefault("OPTIONS", {})["pool"] = {
        "min_size": 1,
        "max_size": env.int("DATABASE_POOL_MAX_SIZE", default=20),
        # Seconds a request waits for a free connection; past it the request is answered 503
        # "busy" with Retry-After (studio.busy), not a 500.
        "timeout": env.float("DATABASE_POOL_TIMEOUT", default=30.0),
        # Each connection is tested as it leaves the pool (one round trip): those the
        # database dropped while they sat idle are discarded, never given to a request; and
        # when one was dropped, every idle one is tested at once (studio/database_pool.py).
        "check": check_connection,
    }
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # WAL + a busy timeout let the streaming runner write while pages read. In WAL mode,
    # synchronous=NORMAL syncs at checkpoints rather than every commit: still consistent after
    # a crash (the last commits may roll back on power loss), and a commit no longer holds the
    # write lock for an fsync — the lock every Generate and every runner save waits on.
    DATABASES["default"].setdefault("OPTIONS", {}).update(
        {
            "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
            "transaction_mode": "IMMEDIATE",
            "timeout": 20,
        }
    )
    if STUDIO_FRAMEWORK_TUNING:  # a connection outlives its request's thread (studio/sqlite)
        DATABASES["default"]["ENGINE"] = "studio.sqlite"
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

REDIS_URL = env.str("REDIS_URL", default="")
# Redis outages (studio/streams/relay.py): every client has explicit timeouts and retries a
# command that cannot connect or times out REDIS_RETRIES more times, waiting longer each time
# (exponential backoff up to REDIS_BACKOFF_CAP seconds, also the longest a heartbeat, the Stop
# listener, the relay mirror or a watcher waits between attempts while Redis is away). A
# command may take REDIS_SOCKET_TIMEOUT seconds beyond its own blocking wait (the relay's
# XREAD blocks GENERATION_SSE_HEARTBEAT seconds), a connection REDIS_CONNECT_TIMEOUT; an idle
# pooled connection is checked after REDIS_HEALTH_CHECK_INTERVAL seconds before reuse.
REDIS_SOCKET_TIMEOUT = env.float("REDIS_SOCKET_TIMEOUT", default=5.0)
REDIS_CONNECT_TIMEOUT = env.float("REDIS_CONNECT_TIMEOUT", default=2.0)
REDIS_HEALTH_CHECK_INTERVAL = env.float("REDIS_HEALTH_CHECK_INTERVAL", default=15.0)
REDIS_RETRIES = env.int("REDIS_RETRIES", default=2)
REDIS_BACKOFF_CAP = env.float("REDIS_BACKOFF_CAP", default=1.0)
# Connections each pool of a worker process may open (redis-py's own default is 100): one per
# command in flight (the relayed watchers of a worker share one blocking XREAD, decision 57);
# past the limit, commands fail as if Redis were away (the mirror's XADD among them).
REDIS_MAX_CONNECTIONS = env.int("REDIS_MAX_CONNECTIONS", default=1000)
if REDIS_URL:
    CACHES = {
        "default": {
            "BACKEND": "studio.cache_pool.RedisCache",
            "LOCATION": REDIS_URL,
            # The cache never blocks on purpose: a command answers within REDIS_SOCKET_TIMEOUT.
            "OPTIONS": {
                # One client and pool per process, not per request (studio/cache_pool.py).
                "pool_class": "studio.cache_pool.SharedConnectionPool",
                "socket_timeout": REDIS_SOCKET_TIMEOUT,
                "socket_connect_timeout": REDIS_CONNECT_TIMEOUT,
                "health_check_interval": REDIS_HEALTH_CHECK_INTERVAL,
                "retry": Retry(ExponentialBackoff(cap=REDIS_BACKOFF_CAP, base=0.05), REDIS_RETRIES),
                "retry_on_error": [RedisConnectionError, RedisTimeoutError],
                "max_connections": REDIS_MAX_CONNECTIONS,
            },
        }
    }
else:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}

# --- Auth -------------------------------------------------------------------------------
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "home"
LOGOUT_REDIRECT_URL = "login"
# Password checks count per username as well as per address (studio/accounts.py): after
# LOGIN_FAILURE_LIMIT failures within LOGIN_FAILURE_WINDOW seconds, that username's password
# logins are refused until the window ends (0: no per-account throttle).
AUTHENTICATION_BACKENDS = ["studio.accounts.ThrottledModelBackend"]
LOGIN_FAILURE_LIMIT = env.int("LOGIN_FAILURE_LIMIT", default=10)
LOGIN_FAILURE_WINDOW = env.int("LOGIN_FAILURE_WINDOW", default=900)
# "Forgot password?": reset emails per address (existing account or not) within the window
# (seconds); over it no more are sent and the page reads the same (studio/accounts.py). The
# per-IP page limit counts the form's posts too (RATELIMIT_ROUTES' password_reset default).
PASSWORD_RESET_LIMIT = env.int("PASSWORD_RESET_LIMIT", default=3)
PASSWORD_RESET_WINDOW = env.int("PASSWORD_RESET_WINDOW", default=3600)
# Days a workspace invitation (and the link emailed with it) can be accepted.
INVITATION_MAX_AGE_DAYS = env.int("INVITATION_MAX_AGE_DAYS", default=7)
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
]

# --- Email: invitations and password resets -----------------------------------------------
# DEBUG prints every email on the console (links included); production sends through SMTP.
# Django 6.1's MAILERS (the EMAIL_* settings are deprecated); the variables keep their names.
_MAIL = "console" if DEBUG else "smtp"
_MAIL_BACKEND = env.str("EMAIL_BACKEND", default=f"django.core.mail.backends.{_MAIL}.EmailBackend")
_SMTP = {
    "host": env.str("EMAIL_HOST", default="localhost"),
    "port": env.int("EMAIL_PORT", default=25),
    "username": env.str("EMAIL_HOST_USER", default=""),
    "password": env.str("EMAIL_HOST_PASSWORD", default=""),
    "use_tls": env.bool("EMAIL_USE_TLS", default=False),
}
MAILERS = {
    "default": {
        "BACKEND": _MAIL_BACKEND,
        "OPTIONS": _SMTP if _MAIL_BACKEND.endswith(".smtp.EmailBackend") else {},
    }
}
DEFAULT_FROM_EMAIL = env.str("DEFAULT_FROM_EMAIL", default="DeepSeek Studio <studio@localhost>")

# --- Internationalisation: English and Simplified Chinese --------------------------------
LANGUAGE_CODE = "en"
LANGUAGES = [("en", _("English")), ("zh-hans", _("Simplified Chinese"))]
LOCALE_PATHS = [BASE_DIR / "locale"]
TIME_ZONE = env.str("TIME_ZONE", default="UTC")
USE_I18N = True
USE_TZ = True

# --- Static files: the committed Tailwind build, served by ServeStatic (async) ------------
STATIC_URL = "static/"
# STATIC_MANIFEST=true (the Docker image) serves hashed, compressed files from collectstatic;
# otherwise ServeStatic finds the files in the apps directly (development, tests).
STATIC_MANIFEST = env.bool("STATIC_MANIFEST", default=False)
if STATIC_MANIFEST:
    STATIC_ROOT = BASE_DIR / "staticfiles"
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": "servestatic.storage.CompressedManifestStaticFilesStorage"
        if STATIC_MANIFEST
        else "django.contrib.staticfiles.storage.StaticFilesStorage"
    },
}
SERVESTATIC_USE_FINDERS = not STATIC_MANIFEST

CRISPY_ALLOWED_TEMPLATE_PACKS = "tailwind"
CRISPY_TEMPLATE_PACK = "tailwind"

# --- Request and upload sizes --------------------------------------------------------------
# Form and JSON bodies (files excluded): Django's default, stated. A prompt is at most
# PROMPT_MAX_CHARS (100,000) characters, 400 KB even in 4-byte UTF-8.
DATA_UPLOAD_MAX_MEMORY_SIZE = 2_621_440
# Uploads up to this size stay in memory; the upload forms refuse anything larger anyway
# (template imports 2 MB, batch CSVs 1 MB), by its size, before reading it.
FILE_UPLOAD_MAX_MEMORY_SIZE = 2_621_440
# --- Knowledge (prompts/knowledge/) ---------------------------------------------------------
# The largest document accepted (upload, paste or fetch), in bytes; a PDF's most pages; the
# most a DOCX (a zip) may unpack to, checked before it is opened (zip bombs); the most
# characters of one passage; whether "Fetch a URL" may reach the network (off: a clear error),
# and how long a fetch may take. A document over KNOWLEDGE_BACKGROUND_BYTES (or a PDF of more
# than KNOWLEDGE_BACKGROUND_PAGES pages) is read by the background worker, its page showing
# the progress; one that has made no progress for KNOWLEDGE_INGEST_STALL_SECONDS is failed
# by the sweep (its worker stopped).
KNOWLEDGE_MAX_BYTES = env.int("KNOWLEDGE_MAX_BYTES", default=10 * 1024 * 1024)
KNOWLEDGE_BACKGROUND_BYTES = env.int("KNOWLEDGE_BACKGROUND_BYTES", default=512 * 1024)
KNOWLEDGE_BACKGROUND_PAGES = env.int("KNOWLEDGE_BACKGROUND_PAGES", default=20)
KNOWLEDGE_INGEST_STALL_SECONDS = env.int("KNOWLEDGE_INGEST_STALL_SECONDS", default=300)
KNOWLEDGE_MAX_PAGES = env.int("KNOWLEDGE_MAX_PAGES", default=300)
KNOWLEDGE_MAX_UNPACKED_BYTES = env.int("KNOWLEDGE_MAX_UNPACKED_BYTES", default=50 * 1024 * 1024)
KNOWLEDGE_PASSAGE_CHARS = env.int("KNOWLEDGE_PASSAGE_CHARS", default=1000)
KNOWLEDGE_FETCH_ALLOWED = env.bool("KNOWLEDGE_FETCH_ALLOWED", default=False)
KNOWLEDGE_FETCH_TIMEOUT = env.float("KNOWLEDGE_FETCH_TIMEOUT", default=10.0)

# Any body over this is refused (413) by studio.body_limit before Django spools it to disk:
# the largest legitimate one is a 2 MB import with its form fields. The knowledge pages take
# a document of KNOWLEDGE_MAX_BYTES with its form fields: they alone have the larger cap.
REQUEST_BODY_MAX_SIZE = 4 * 1024 * 1024
KNOWLEDGE_BODY_MAX_SIZE = KNOWLEDGE_MAX_BYTES + 512 * 1024

# --- Security ----------------------------------------------------------------------------
# Model output is untrusted: scripts only from us (with a nonce), no inline styles.
SECURE_CSP = {
    "default-src": [CSP.SELF],
    "script-src": [CSP.SELF, CSP.NONCE],
    "style-src": [CSP.SELF],
    "img-src": [CSP.SELF, "data:"],
    "connect-src": [CSP.SELF],
    "frame-ancestors": [CSP.NONE],
    "form-action": [CSP.SELF],
    "base-uri": [CSP.SELF],
}
# Read from the cache, written through to the database (studio/sessions.py).
SESSION_ENGINE = "studio.sessions"
SESSION_COOKIE_HTTPONLY = True
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
# Behind TLS (production) these are on; DEBUG runs on plain http://127.0.0.1.
SECURE_SSL_REDIRECT = env.bool("SECURE_SSL_REDIRECT", default=not DEBUG)
SESSION_COOKIE_SECURE = env.bool("SECURE_COOKIES", default=not DEBUG)
CSRF_COOKIE_SECURE = SESSION_COOKIE_SECURE
SECURE_HSTS_SECONDS = env.int("SECURE_HSTS_SECONDS", default=0 if DEBUG else 31536000)
SECURE_HSTS_INCLUDE_SUBDOMAINS = not DEBUG
SECURE_HSTS_PRELOAD = not DEBUG
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
SECURE_REDIRECT_EXEMPT = [r"^healthz$", r"^healthz/(live|ready)$", r"^metrics$"]

# --- DeepSeek ----------------------------------------------------------------------------
# Without an API key the studio talks to the offline simulator (studio/deepseek/simulator/),
# which `make run` starts beside it, and says so in a banner on every page.
DEEPSEEK_API_KEY = env.str("DEEPSEEK_API_KEY", default="")
DEEPSEEK_OFFLINE = not DEEPSEEK_API_KEY
DEEPSEEK_SIMULATOR_URL = env.str("DEEPSEEK_SIMULATOR_URL", default="http://127.0.0.1:8001")
DEEPSEEK_BASE_URL = (
    DEEPSEEK_SIMULATOR_URL
    if DEEPSEEK_OFFLINE
    else env.str("DEEPSEEK_BASE_URL", default="https://api.deepseek.com")
)
if DEEPSEEK_OFFLINE:
    DEEPSEEK_API_KEY = "sk-offline-simulator"
# Model names are configuration: DeepSeek retired deepseek-chat/deepseek-reasoner in 2026.
DEEPSEEK_MODEL = env.str("DEEPSEEK_MODEL", default="deepseek-flash")
DEEPSEEK_MAX_TOKENS = env.int("DEEPSEEK_MAX_TOKENS", default=2048)
DEEPSEEK_TEMPERATURE = env.float("DEEPSEEK_TEMPERATURE", default=1.0)
DEEPSEEK_CONNECT_TIMEOUT = env.float("DEEPSEEK_CONNECT_TIMEOUT", default=10.0)
DEEPSEEK_FIRST_TOKEN_TIMEOUT = env.float("DEEPSEEK_FIRST_TOKEN_TIMEOUT", default=120.0)
DEEPSEEK_IDLE_TIMEOUT = env.float("DEEPSEEK_IDLE_TIMEOUT", default=60.0)
DEEPSEEK_TOTAL_TIMEOUT = env.float("DEEPSEEK_TOTAL_TIMEOUT", default=600.0)
DEEPSEEK_MAX_CONNECTIONS = env.int("DEEPSEEK_MAX_CONNECTIONS", default=200)
# Routing: copy/chat/technical/translate tasks use DEEPSEEK_MODEL with thinking off; the
# "reasoning" task (and templates that ask for thinking) use this model with thinking on.
DEEPSEEK_REASONING_MODEL = env.str("DEEPSEEK_REASONING_MODEL", default="deepseek-v4-pro")
DEEPSEEK_REASONING_EFFORT = env.str("DEEPSEEK_REASONING_EFFORT", default="high")
# Pre-flight estimate: prompts (plus max_tokens) over this many tokens are refused unsent.
DEEPSEEK_CONTEXT_TOKENS = env.int("DEEPSEEK_CONTEXT_TOKENS", default=1_000_000)
# USD per 1M tokens, merged over studio.deepseek.pricing.DEFAULT_PRICES, e.g.
# {"deepseek-flash": ["0.006", "0.30", "1.20"]} (cache hit, cache miss, output; peak prices,
# off-peak is half) or {"m": {"peak": [...], "off_peak": [...]}}.
DEEPSEEK_PRICES = env.json("DEEPSEEK_PRICES", default={})
# Resilience: retries before the first token only; a breaker shared through the cache.
DEEPSEEK_RETRY_ATTEMPTS = env.int("DEEPSEEK_RETRY_ATTEMPTS", default=3)
DEEPSEEK_RETRY_BUDGET = env.float("DEEPSEEK_RETRY_BUDGET", default=30.0)
DEEPSEEK_BREAKER_THRESHOLD = env.int("DEEPSEEK_BREAKER_THRESHOLD", default=5)
DEEPSEEK_BREAKER_COOLDOWN = env.float("DEEPSEEK_BREAKER_COOLDOWN", default=30.0)

# --- Generation runner -------------------------------------------------------------------
# Partial text is saved at most this often while streaming (not once per token).
GENERATION_PERSIST_INTERVAL = env.float("GENERATION_PERSIST_INTERVAL", default=0.5)
GENERATION_PERSIST_BYTES = env.int("GENERATION_PERSIST_BYTES", default=2048)
# SSE pacing (studio.streams.events.Pacing): while a process is quiet each token is sent as it
# arrives; as more streams open, deltas are batched so that the process sends about
# GENERATION_SSE_RATE batches a second in all, each stream at least one per
# GENERATION_SSE_BATCH seconds. A stream relayed through Redis to another worker goes one
# entry per GENERATION_SSE_BATCH at any load (an entry costs ten local frames).
GENERATION_SSE_BATCH = env.float("GENERATION_SSE_BATCH", default=0.05)
GENERATION_SSE_RATE = env.float("GENERATION_SSE_RATE", default=10000)
GENERATION_SSE_HEARTBEAT = env.float("GENERATION_SSE_HEARTBEAT", default=15.0)
# With Redis: seconds between the Redis mirror's entries of a generation that no watcher in
# another worker follows (a copy for a crash and for late watchers, like the saved text);
# one that is followed there gets a batch every GENERATION_SSE_BATCH (studio.streams.relay).
GENERATION_MIRROR_INTERVAL = env.float("GENERATION_MIRROR_INTERVAL", default=0.5)
# Seconds between sweeps for generations whose runner is gone (a crash): they end as
# interrupted, their text kept (drafts/sweeper.py, run by the serving process). 0: no sweeps.
GENERATION_SWEEP_INTERVAL = env.float("GENERATION_SWEEP_INTERVAL", default=10.0)
# Seconds a running generation's heartbeat lives in the shared cache (renewed every third of
# it): how long a crashed worker's generation still looks alive. The sweeper settles it after
# about twice this (it must be seen without a heartbeat that long: a Redis blip is no crash).
GENERATION_HEARTBEAT_TTL = env.float("GENERATION_HEARTBEAT_TTL", default=15.0)
# Generations one worker process runs at once (studio.streams.admission); more wait in
# order, shown as "Queued (n ahead)", rather than slowing every stream. 0: no limit.
# docs/decisions/generation-admission.md says why 100.
GENERATION_MAX_RUNNING = env.int("GENERATION_MAX_RUNNING", default=100)
# A Generate's request to DeepSeek leaves before its rows are stored, not after their commit
# (drafts.generate._asked_early; docs/decisions/0027-the-request-leaves-before-the-rows-commit.md).
GENERATION_EARLY_REQUEST = env.bool("GENERATION_EARLY_REQUEST", default=True)
# Seconds a web worker takes at most to stop on SIGTERM (studio/asgi.py): from the signal on
# it answers new requests 503 with Retry-After, ends its running generations as interrupted
# (text kept) and lets in-flight responses finish, then exits; what is still running then is
# cut off. Keep it under the platform's stop timeout: Docker's default is 10 s (the compose
# file's stop_grace_period says so); `manage.py serve` stops its children within it too.
SHUTDOWN_TIMEOUT = env.float("SHUTDOWN_TIMEOUT", default=8.0)

DEMO_PASSWORD = env.str("DEMO_PASSWORD", default="deepseek-demo")

# --- Editor ----------------------------------------------------------------------------------
# Autosave keeps a working copy, not a version: an editing session becomes one version on Save,
# on leaving the editor, or after this many seconds without typing (drafts.actions).
EDITOR_SESSION_IDLE = env.float("EDITOR_SESSION_IDLE", default=300.0)

# --- Page polling (htmx) -----------------------------------------------------------------
# A recovering generation's notice asks again after this many seconds (the sweeper settles it);
# a running batch's progress is asked for every this many seconds. studio.context_processors.
RECOVERING_POLL_SECONDS = env.float("RECOVERING_POLL_SECONDS", default=5.0)
BATCH_POLL_SECONDS = env.float("BATCH_POLL_SECONDS", default=2.0)

# --- Background work (django.tasks) ------------------------------------------------------
# django-tasks-db keeps the queue in the database (SQLite or PostgreSQL): `manage.py db_worker`
# runs it (started by `manage.py serve`, and the `worker` service in docker-compose.yml).
# Tests may pick django.tasks.backends.immediate.ImmediateBackend.
TASKS_BACKEND = env.str("TASKS_BACKEND", default="django_tasks_db.DatabaseBackend")
TASKS = {"default": {"BACKEND": TASKS_BACKEND}}
# A batch still "running" with no progress for this many seconds is stale (its worker died):
# its page offers "Resume", which re-queues only the rows not done.
BATCH_STALE_AFTER = env.int("BATCH_STALE_AFTER", default=600)

# --- Platform: API keys, rate limits, budgets, validation, response cache, audit, metrics --
# django-ratelimit counters live in the default cache (Redis when REDIS_URL is set: shared by
# every instance), one per scope (user, key, api_ip, ip: studio/guardrails/rate_limits.py).
# RATELIMIT_RATE applies to every unsafe page request and every API call, per scope;
# RATELIMIT_SCOPE_RATES sets one scope everywhere ("user=300/m,api_ip=1000/m");
# RATELIMIT_ROUTES sets a route by URL name, or one scope on it
# ("drafts:generate=20/m,api_ai:generate|user=50/m"; "off" exempts). The most specific wins.
# Failed API authentications count per IP on "api_ai:auth".
RATELIMIT_ENABLE = env.bool("RATELIMIT_ENABLE", default=True)
RATELIMIT_RATE = env.str("RATELIMIT_RATE", default="100/m")
RATELIMIT_SCOPE_RATES = env.dict("RATELIMIT_SCOPE_RATES", default={"api_ip": "1000/m"})
# Password reset requests are counted tighter than other anonymous posts (per address).
RATELIMIT_ROUTES = {"password_reset": "10/h"} | env.dict("RATELIMIT_ROUTES", default={})
RATELIMIT_USE_CACHE = "default"
# Unreachable counters fail open (studio.degraded; docs/operations.md "When Redis is down"):
# django-ratelimit's own answer for a count it could not read, and ours for a cache error.
RATELIMIT_FAIL_OPEN = True
# Tokens one user may spend per day (midnight to midnight in TIME_ZONE); 0: no budget.
AI_DAILY_TOKEN_BUDGET = env.int("AI_DAILY_TOKEN_BUDGET", default=1_000_000)
# Prompts over this many characters are refused before they are sent; 0: no cap.
PROMPT_MAX_CHARS = env.int("PROMPT_MAX_CHARS", default=100_000)
# {"what people call it": "regular expression"}; the error names what was found.
_BLOCKED_PATTERNS = {
    "an API secret key (sk-…)": r"\bsk-[A-Za-z0-9_\-]{16,}",
    "an AWS access key": r"\b(?:AKIA|ASIA)[0-9A-Z]{16}\b",
    "a private key": r"-----BEGIN [A-Z ]*PRIVATE KEY-----",
    "a <script> tag": r"<\s*script\b",
}
PROMPT_BLOCKED_PATTERNS = env.json("PROMPT_BLOCKED_PATTERNS", default=_BLOCKED_PATTERNS)
# Seconds an identical deterministic answer is reused (temperature 0 or X-Studio-Cache:
# reuse); 0 turns the response cache off.
AI_CACHE_TTL = env.int("AI_CACHE_TTL", default=3600)
AUDIT_RETENTION_DAYS = env.int("AUDIT_RETENTION_DAYS", default=90)
# The assistant panel: messages of each user's conversation about a draft kept and sent.
ASSISTANT_CONTEXT_MESSAGES = env.int("ASSISTANT_CONTEXT_MESSAGES", default=10)
# /metrics answers only "Authorization: Bearer <METRICS_TOKEN>"; unset, it is not served.
METRICS_TOKEN = env.str("METRICS_TOKEN", default="")
# Several worker processes (uvicorn --workers): a directory where each process writes its
# metrics for /metrics to sum (prometheus_client's multiprocess mode; the Docker image sets
# it and its entry command empties it). prometheus_client reads the environment itself, as
# soon as it is imported, so this must be in the environment (or .env), not set later; a set
# but empty value would turn the mode on with no directory, so it is removed.
PROMETHEUS_MULTIPROC_DIR = env.str("PROMETHEUS_MULTIPROC_DIR", default="")
if not PROMETHEUS_MULTIPROC_DIR:
    os.environ.pop("PROMETHEUS_MULTIPROC_DIR", None)

# One JSON object per line (python-json-logger) in production, readable text when DEBUG;
# every line carries the request id (studio/observability.py).
LOG_FORMAT = env.str("LOG_FORMAT", default="") or ("text" if DEBUG else "json")
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "filters": {
        "request_id": {"()": "studio.observability.RequestIdFilter"},
        "quiet_refusal": {"()": "studio.observability.QuietRefusal"},
    },
    "formatters": {
        "json": {
            "()": "pythonjsonlogger.json.JsonFormatter",
            "fmt": "%(asctime)s %(levelname)s %(name)s %(message)s %(request_id)s",
            "rename_fields": {"asctime": "time", "levelname": "level", "name": "logger"},
            "json_ensure_ascii": False,
        },
        "text": {"format": "%(asctime)s %(levelname)s %(name)s [%(request_id)s] %(message)s"},
    },
    "handlers": {
        "console": {
            "class": "logging.StreamHandler",
            "formatter": "text" if LOG_FORMAT == "text" else "json",
            "filters": ["request_id"],
        }
    },
    "root": {"handlers": ["console"], "level": env.str("LOG_LEVEL", default="INFO")},
    # A request for a host not in ALLOWED_HOSTS is the client's mistake (or a scanner's), not
    # ours: a WARNING line, no traceback (Django logs it as an ERROR with one).
    "loggers": {"django.security.DisallowedHost": {"filters": ["quiet_refusal"]}},
}
