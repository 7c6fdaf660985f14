"""Settings shared by every environment. Deployment-specific values come from
environment variables (see .env.example); per-environment files refine these."""

import os
import re
import secrets
from pathlib import Path

from django.core.exceptions import ImproperlyConfigured

from wagtail.embeds import oembed_providers

import dj_database_url
from csp.constants import NONE, SELF, UNSAFE_INLINE

BASE_DIR = Path(__file__).resolve().parent.parent.parent


def env_bool(name, default=False):
    value = os.environ.get(name)
    if value is None:
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def env_list(name, default=""):
    return [item.strip() for item in os.environ.get(name, default).split(",") if item.strip()]


def secret_key_from_file(path):
    """The key kept in `path`, made on first use: a random key readable by its owner
    only. Each clone then signs with its own key, where a constant in the repository
    would let anyone forge sessions and check-in codes on every demo left running.
    Written to a temporary file and linked into place, so a second process starting
    at the same moment reads the same key, never a half-written one."""
    path = Path(path)
    if not path.exists():
        temporary = path.with_name(f"{path.name}.{os.getpid()}.{secrets.token_hex(4)}")
        descriptor = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(descriptor, "w") as file:
            file.write(secrets.token_urlsafe(50) + "\n")
        try:
            os.link(temporary, path)
        except FileExistsError:
            pass
        finally:
            temporary.unlink()
    key = path.read_text().strip()
    if not key:
        raise ImproperlyConfigured(f"{path} is empty: delete it and a new key is made.")
    return key


# Required in production; development reads a per-clone key file (dev.py), tests
# make one per run (test.py). No key lives in the repository.
SECRET_KEY = os.environ.get("SECRET_KEY", "")
DEBUG = False
ALLOWED_HOSTS = env_list("ALLOWED_HOSTS")
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS")

INSTALLED_APPS = [
    "learning",
    "learning.briefings",
    "exams",
    "exams.observations",
    "content",
    "wagtail.contrib.forms",
    "wagtail.contrib.redirects",
    "wagtail.contrib.settings",
    "wagtail.embeds",
    "wagtail.sites",
    "learning.apps.UsersConfig",
    "wagtail.snippets",
    "wagtail.documents",
    "wagtail.images",
    "wagtail.search",
    "wagtail.admin",
    "wagtail",
    "modelcluster",
    "laces",
    "taggit",
    "django_filters",
    "django_tasks_db",
    "csp",
    "allauth",
    "allauth.account",
    "allauth.mfa",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    # Screen polls skip sessions, locale, auth and messages (content/middleware.py).
    "content.middleware.ScreenPollMiddleware",
    "learning.csp.ContentSecurityPolicyMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "allauth.account.middleware.AccountMiddleware",
    "learning.middleware.SessionTimeoutMiddleware",
    "learning.middleware.AccountPolicyMiddleware",
    "learning.middleware.AdminAccessMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "wagtail.contrib.redirects.middleware.RedirectMiddleware",
    # Performance: lecture pages routed in one query, the Wagtail Site from the cache.
    "learning.middleware.PageRouteMiddleware",
]

ROOT_URLCONF = "xuefa.urls"
WSGI_APPLICATION = "xuefa.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.debug",
                "django.template.context_processors.request",
                "django.template.context_processors.i18n",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ],
        },
    },
]

# Database: PostgreSQL in production through DATABASE_URL; SQLite in the project
# folder when it is unset, so a fresh clone needs no set-up.
DATABASES = {
    "default": dj_database_url.config(
        default=f"sqlite:///{BASE_DIR / 'db.sqlite3'}",
        conn_max_age=int(os.environ.get("CONN_MAX_AGE", "60")),
        conn_health_checks=True,
    )
}
if DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql":
    # Parameters bound by the server and statements prepared once a connection has
    # run them a few times (psycopg's prepare_threshold): PostgreSQL then plans the
    # hot queries (session, user, lecture page, heartbeat, answer save) once per
    # connection instead of on every request; planning a four-table join costs ten
    # times more than running it. Behind a transaction-pooling PgBouncer older than
    # 1.21, set DATABASE_PREPARE_THRESHOLD=0 (no prepared statements).
    DATABASES["default"].setdefault("OPTIONS", {}).update(
        {
            "server_side_binding": True,
            # An unreachable server fails a connection in seconds (libpq waits
            # forever by default), so requests answer 503 instead of hanging.
            "connect_timeout": int(os.environ.get("DATABASE_CONNECT_TIMEOUT", "5")),
            "prepare_threshold": int(os.environ.get("DATABASE_PREPARE_THRESHOLD", "5")) or None,
        }
    )
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    DATABASES["default"]["CONN_MAX_AGE"] = 0
    DATABASES["default"]["OPTIONS"] = {
        "timeout": 20,
        "transaction_mode": "IMMEDIATE",
        "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
    }
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# Cache: Redis when REDIS_URL is set, local memory otherwise. Redis is a cache,
# not a dependency: when it is down the site keeps working without it
# (xuefa.cache.FailSafeRedisCache: misses, dropped writes, short timeouts), and
# sessions live in the database (one primary-key read per request, plain SQL: see
# site/sessions.py), so an outage signs nobody out and no stale session comes back
# from the cache afterwards.
REDIS_URL = os.environ.get("REDIS_URL", "")
if REDIS_URL:
    CACHES = {
        "default": {
            "BACKEND": "xuefa.cache.FailSafeRedisCache",  # see site/cache.py
            "LOCATION": REDIS_URL,
            "KEY_PREFIX": "xuefa",
            "OPTIONS": {"socket_connect_timeout": 0.5, "socket_timeout": 1},
        }
    }
else:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
SESSION_ENGINE = "learning.fast.sessions"
# The fast paths (learning/fast): shortcuts past plain Django and Wagtail on the hot
# requests, each proven equal to the plain path by running the suite both ways.
# XUEFA_FAST_PATHS=false turns every one of them off.
XUEFA_FAST_PATHS = env_bool("XUEFA_FAST_PATHS", True)

AUTH_USER_MODEL = "learning.User"
AUTHENTICATION_BACKENDS = [
    # Django's and allauth's, loading the signed-in user in one plain SELECT.
    "learning.fast.auth.ModelBackend",
    "learning.fast.auth.AuthenticationBackend",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {
        "NAME": "learning.accounts.MinimumLengthValidator",
        "OPTIONS": {"min_length": 10},
    },
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

# --- Security: Chinese commercial cryptography for GB/T 39786 (密评) ----------------
# Off by default. XUEFA_SM_CRYPTO=true makes PBKDF2-HMAC-SM3 the password hasher
# (other hashes are replaced at each user's next sign-in) and seals officials'
# mobile numbers with SM4-GCM (learning/personal_data.py), found again by an
# HMAC-SM3 digest. Keys: XUEFA_SM4_KEY "id:key" (32 hex digits or base64), older
# keys that still open values in XUEFA_SM4_OLD_KEYS (comma-separated, until
# `manage.py rotate_sm4_key` has run), and XUEFA_SM3_DIGEST_KEY. Values stored
# before the switch are sealed by `manage.py encrypt_personal_data`. See
# docs/security.md.
XUEFA_SM_CRYPTO = env_bool("XUEFA_SM_CRYPTO", False)
XUEFA_SM4_KEY = os.environ.get("XUEFA_SM4_KEY", "")
XUEFA_SM4_OLD_KEYS = env_list("XUEFA_SM4_OLD_KEYS")
XUEFA_SM3_DIGEST_KEY = os.environ.get("XUEFA_SM3_DIGEST_KEY", "")

_sm3_hasher = "learning.hashers.PBKDF2SM3PasswordHasher"
# Argon2id first (learning.hashers.Argon2idPasswordHasher, about 40 ms per sign-in):
# Django re-hashes a PBKDF2 hash, or an Argon2 hash with other parameters, with it at
# its owner's next sign-in. The roster's one-time passwords keep their own hasher.
PASSWORD_HASHERS = [
    "learning.hashers.Argon2idPasswordHasher",
    "django.contrib.auth.hashers.PBKDF2PasswordHasher",
    "django.contrib.auth.hashers.PBKDF2SHA1PasswordHasher",
    "django.contrib.auth.hashers.BCryptSHA256PasswordHasher",
    "django.contrib.auth.hashers.ScryptPasswordHasher",
    "learning.hashers.InitialPasswordHasher",
    "learning.hashers.InitialSM3PasswordHasher",
    # Last while the switch is off, so SM3 hashes still verify (and are replaced).
    _sm3_hasher,
]
if XUEFA_SM_CRYPTO:
    # The first hasher hashes new passwords; Django re-hashes others at sign-in.
    PASSWORD_HASHERS.remove(_sm3_hasher)
    PASSWORD_HASHERS.insert(0, _sm3_hasher)

LOGIN_URL = "account_login"
LOGIN_REDIRECT_URL = "home"
LOGOUT_REDIRECT_URL = "account_login"

# django-allauth: accounts come from HR's roster, so signup is closed.
ACCOUNT_ADAPTER = "learning.accounts.AccountAdapter"
ACCOUNT_LOGIN_METHODS = {"username", "email"}
ACCOUNT_SIGNUP_FIELDS = ["username*", "email", "password1*"]
ACCOUNT_EMAIL_VERIFICATION = "none"
ACCOUNT_UNIQUE_EMAIL = True
ACCOUNT_LOGOUT_ON_GET = False
ACCOUNT_SESSION_REMEMBER = False
ACCOUNT_PASSWORD_INPUT_RENDER_VALUE = False
ACCOUNT_LOGIN_BY_CODE_ENABLED = False


def per_address_rate(name, default):
    """An allauth rate per client address from the environment ("10/m", "600/5m"), or
    none for "off". An office whose officials all reach the site through one NAT
    address shares these counters (README, "Offices behind one address")."""
    value = os.environ.get(name, default).strip()
    if value.lower() in {"", "off", "0"}:
        return []
    if not re.fullmatch(r"[1-9]\d*/(\d+(\.\d+)?)?[smhd]", value):
        raise ImproperlyConfigured(
            f"{name}={value!r}: give sign-ins per period, like 30/m or 600/5m, or off."
        )
    return [f"{value}/ip"]


# Failed sign-ins: 10 a minute per client address, and 5 in 5 minutes per account,
# whichever identifier names it (learning/lockout.py). Sign-ins of any outcome: 30 a
# minute per address.
ACCOUNT_RATE_LIMITS = {
    "login_failed": ",".join(
        [*per_address_rate("XUEFA_LOGIN_FAILURES_PER_ADDRESS", "10/m"), "5/300s/key"]
    ),
    "login": ",".join(per_address_rate("XUEFA_LOGINS_PER_ADDRESS", "30/m")) or False,
    "reset_password": "20/m/ip,5/m/key",
    "change_password": "5/m/user",
}
MFA_SUPPORTED_TYPES = ["totp", "recovery_codes"]
MFA_TOTP_ISSUER = "Xuefa"
# When on, organizers, HR and superusers must set up TOTP before using the site.
XUEFA_MFA_REQUIRED_FOR_STAFF = env_bool("XUEFA_MFA_REQUIRED_FOR_STAFF", False)

# Sessions end after XUEFA_SESSION_IDLE_SECONDS without a request and, however
# active, XUEFA_SESSION_ABSOLUTE_SECONDS after sign-in (等保 level 3 / OWASP ASVS
# V3.3: 30 minutes idle, 12 hours absolute); the cookie also ends with the browser.
XUEFA_SESSION_IDLE_SECONDS = int(os.environ.get("XUEFA_SESSION_IDLE_SECONDS", str(30 * 60)))
XUEFA_SESSION_ABSOLUTE_SECONDS = int(
    os.environ.get("XUEFA_SESSION_ABSOLUTE_SECONDS", str(12 * 60 * 60))
)
SESSION_COOKIE_AGE = XUEFA_SESSION_ABSOLUTE_SECONDS
# The last-activity time is written at most this often (a session write per request
# would cost every exam autosave a database write).
XUEFA_SESSION_TOUCH_SECONDS = int(os.environ.get("XUEFA_SESSION_TOUCH_SECONDS", "300"))
SESSION_EXPIRE_AT_BROWSER_CLOSE = True
SESSION_COOKIE_HTTPONLY = True
CSRF_COOKIE_HTTPONLY = False

# Internationalisation: Simplified Chinese by default, English available.
LANGUAGE_CODE = "zh-hans"
LANGUAGES = [("zh-hans", "简体中文"), ("en", "English")]
# The first path holds the project's catalogue (`make messages` writes it); the second
# the Chinese of strings Wagtail ships untranslated, which makemessages leaves alone.
LOCALE_PATHS = [BASE_DIR / "locale", BASE_DIR / "locale" / "wagtail"]
TIME_ZONE = "Asia/Shanghai"
USE_I18N = True
USE_TZ = True
WAGTAIL_I18N_ENABLED = False
WAGTAILADMIN_PERMITTED_LANGUAGES = LANGUAGES

# Static and media files. Uploads are private (learning/media.py): MEDIA_URL is not a
# public folder but one checked view that serves image renditions alone; documents go
# through /documents/<id>/<file> (WAGTAILDOCS_SERVE_METHOD below), screens' media
# through their token. The proxy must pass /media/ to the app, never serve MEDIA_ROOT.
STATIC_URL = "/static/"
STATIC_ROOT = BASE_DIR / "static_collected"
STATICFILES_DIRS = [BASE_DIR / "static"]
MEDIA_URL = "/media/"
MEDIA_ROOT = Path(os.environ.get("MEDIA_ROOT", BASE_DIR / "media"))
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}
DATA_UPLOAD_MAX_NUMBER_FIELDS = 10_000
FILE_UPLOAD_MAX_MEMORY_SIZE = 5 * 1024 * 1024
# Largest roster or question-bank file accepted for import. Files over
# XUEFA_IMPORT_INLINE_BYTES are previewed and imported by a background task (in
# production, by the worker) instead of in the request; initial passwords of an import
# can be downloaded for XUEFA_IMPORT_SEALED_HOURS.
XUEFA_MAX_IMPORT_BYTES = 5 * 1024 * 1024
XUEFA_IMPORT_INLINE_BYTES = int(os.environ.get("XUEFA_IMPORT_INLINE_BYTES", "200000"))
XUEFA_IMPORT_SEALED_HOURS = int(os.environ.get("XUEFA_IMPORT_SEALED_HOURS", "24"))
# Publicity screens: how often players poll for playlist changes, how often the
# last-seen times polls leave in the cache are written to the database in one batch,
# and after how long without a poll the admin marks a screen offline (all in
# seconds); how many days the play log keeps each play.
XUEFA_SCREEN_POLL_SECONDS = int(os.environ.get("XUEFA_SCREEN_POLL_SECONDS", "30"))
XUEFA_SCREEN_SEEN_INTERVAL = int(os.environ.get("XUEFA_SCREEN_SEEN_INTERVAL", "60"))
XUEFA_SCREEN_OFFLINE_AFTER = int(os.environ.get("XUEFA_SCREEN_OFFLINE_AFTER", "300"))
XUEFA_SCREEN_PLAY_LOG_DAYS = int(os.environ.get("XUEFA_SCREEN_PLAY_LOG_DAYS", "180"))
# Play reports (content/plays.py): a screen reports plays only of items its playlists
# hold, or held until a report found them gone less than XUEFA_SCREEN_PLAY_GRACE_HOURS
# ago; a play lasts at most its slot plus XUEFA_SCREEN_PLAY_MARGIN_SECONDS (a video
# without a set duration XUEFA_SCREEN_VIDEO_MAX_SECONDS); a screen earns
# XUEFA_SCREEN_PLAYS_PER_MINUTE plays a minute (one per 3 s, the shortest slot).
XUEFA_SCREEN_PLAY_GRACE_HOURS = int(os.environ.get("XUEFA_SCREEN_PLAY_GRACE_HOURS", "24"))
XUEFA_SCREEN_PLAY_MARGIN_SECONDS = int(os.environ.get("XUEFA_SCREEN_PLAY_MARGIN_SECONDS", "5"))
XUEFA_SCREEN_VIDEO_MAX_SECONDS = int(os.environ.get("XUEFA_SCREEN_VIDEO_MAX_SECONDS", "3600"))
XUEFA_SCREEN_PLAYS_PER_MINUTE = int(os.environ.get("XUEFA_SCREEN_PLAYS_PER_MINUTE", "20"))
# Exams (exams app): seconds after an attempt's deadline during which answer saves
# already in flight are still accepted; and whether a multiple-choice answer that picks
# only some correct options (and no wrong one) earns part of the points.
XUEFA_EXAM_GRACE_SECONDS = int(os.environ.get("XUEFA_EXAM_GRACE_SECONDS", "30"))
XUEFA_EXAM_PARTIAL_CREDIT = env_bool("XUEFA_EXAM_PARTIAL_CREDIT", False)
# Learning (learning app): a lecture page sends a study heartbeat every
# XUEFA_HEARTBEAT_SECONDS while visible; one heartbeat credits at most that plus
# XUEFA_HEARTBEAT_MARGIN_SECONDS (network delay). Lecture listings show
# XUEFA_LECTURES_PER_PAGE lectures per page.
XUEFA_HEARTBEAT_SECONDS = int(os.environ.get("XUEFA_HEARTBEAT_SECONDS", "30"))
XUEFA_HEARTBEAT_MARGIN_SECONDS = int(os.environ.get("XUEFA_HEARTBEAT_MARGIN_SECONDS", "5"))
XUEFA_LECTURES_PER_PAGE = 20

EMAIL_BACKEND = os.environ.get("EMAIL_BACKEND", "django.core.mail.backends.console.EmailBackend")
DEFAULT_FROM_EMAIL = os.environ.get("DEFAULT_FROM_EMAIL", "xuefa@localhost")

# Background work (exports, large imports, reminders, expired attempts, screens'
# housekeeping) runs on the tasks framework (django-tasks, Wagtail's dependency). Here
# with the immediate backend: a task runs at once in the process that enqueues it, so
# `make run` needs no worker. Production stores tasks in the database (django-tasks-db)
# for the worker `manage.py db_worker` (settings/production.py).
TASKS = {"default": {"BACKEND": "django_tasks.backends.immediate.ImmediateBackend"}}

# Report exports (exams/reports/exports.py) and import jobs (learning/import_jobs.py).
# Finished files are kept XUEFA_EXPORT_KEEP_DAYS days; a job without progress for
# XUEFA_EXPORT_STALE_MINUTES is marked failed (both by `manage.py purge_export_jobs`);
# one study-record PDF holds at most XUEFA_EXPORT_MAX_RECORDS officials.
XUEFA_EXPORT_KEEP_DAYS = int(os.environ.get("XUEFA_EXPORT_KEEP_DAYS", "7"))
XUEFA_EXPORT_STALE_MINUTES = int(os.environ.get("XUEFA_EXPORT_STALE_MINUTES", "30"))
XUEFA_EXPORT_MAX_RECORDS = int(os.environ.get("XUEFA_EXPORT_MAX_RECORDS", "5000"))

# Wagtail.
WAGTAIL_SITE_NAME = "学法 Xuefa"
WAGTAILADMIN_BASE_URL = os.environ.get("WAGTAILADMIN_BASE_URL", "http://127.0.0.1:8000")

LOGIN_URL = "account_login"
WAGTAIL_PASSWORD_MANAGEMENT_ENABLED = False
WAGTAIL_PASSWORD_RESET_ENABLED = False
WAGTAIL_ENABLE_UPDATE_CHECK = False
# No third-party avatar requests from the admin (privacy; keeps img-src to our origin).
WAGTAIL_GRAVATAR_PROVIDER_URL = None
WAGTAILSEARCH_BACKENDS = {"default": {"BACKEND": "wagtail.search.backends.database"}}
WAGTAILDOCS_EXTENSIONS = ["pdf", "pptx", "ppt", "docx", "doc", "xlsx", "txt", "zip", "mp4"]
WAGTAILDOCS_MAX_UPLOAD_SIZE = 200 * 1024 * 1024
# Every download passes Wagtail's serve view and its before_serve_document hooks
# (learning/media.py decides who may have the file): never a redirect to the storage.
WAGTAILDOCS_SERVE_METHOD = "serve_view"
# Lecture videos and slides uploaded as documents open in the browser (a <video>
# plays an MP4 inline) instead of downloading; other types download as attachments.
WAGTAILDOCS_INLINE_CONTENT_TYPES = ["application/pdf", "text/plain", "video/mp4", "video/webm"]
WAGTAILIMAGES_MAX_UPLOAD_SIZE = 20 * 1024 * 1024
WAGTAILIMAGES_MAX_IMAGE_PIXELS = 64_000_000

# --- Security: audit log retention ----------------------------------------------
# purge_audit_log deletes Wagtail's log entries and attendance changes older than
# this many days (run it daily from cron); it refuses anything under 180 days
# (等保 level 3: audit records kept at least six months).
XUEFA_AUDIT_RETENTION_DAYS = int(os.environ.get("XUEFA_AUDIT_RETENTION_DAYS", "365"))

# --- Security: Content Security Policy (django-csp; learning/csp.py) ---------------
# Enforced in every environment. Scripts and styles come from our own origin only:
# no inline code on the public site. Video embeds may frame only the providers in
# XUEFA_CSP_FRAME_SOURCES (the same ones WAGTAILEMBEDS_FINDERS allows, plus any the
# deployment adds); <video> may play from XUEFA_CSP_MEDIA_SOURCES (the
# organisation's own video server). XUEFA_CSP_REPORT_ONLY=true sends the policy as
# Content-Security-Policy-Report-Only instead, for a trial run of a new deployment;
# XUEFA_CSP_REPORT_URI receives violation reports.
XUEFA_EMBED_PROVIDER_FRAMES = [
    "https://www.youtube.com",
    "https://www.youtube-nocookie.com",
    "https://player.vimeo.com",
]
XUEFA_CSP_FRAME_SOURCES = XUEFA_EMBED_PROVIDER_FRAMES + env_list("XUEFA_CSP_FRAME_SOURCES")
XUEFA_CSP_MEDIA_SOURCES = env_list("XUEFA_CSP_MEDIA_SOURCES")
XUEFA_CSP_REPORT_ONLY = env_bool("XUEFA_CSP_REPORT_ONLY", False)
XUEFA_CSP_REPORT_URI = os.environ.get("XUEFA_CSP_REPORT_URI", "")
# Wagtail 8's admin renders inline scripts (InlinePanel, date pickers) and style
# attributes and frames its own previews: only there are these relaxed.
XUEFA_CSP_ADMIN_PREFIX = "/admin/"


def content_security_policy(media_origins=()):
    """The CSP directives; media_origins adds where uploaded media are served from
    when that is not this origin (object storage)."""
    media = [SELF, *media_origins, *XUEFA_CSP_MEDIA_SOURCES]
    directives = {
        "default-src": [SELF],
        "script-src": [SELF],
        "style-src": [SELF],
        "img-src": [*media, "data:", "blob:"],
        # The screen player fetches videos and plays them from blob: URLs.
        "media-src": [*media, "blob:"],
        "connect-src": media,
        "font-src": [SELF],
        "frame-src": XUEFA_CSP_FRAME_SOURCES or [NONE],
        "worker-src": [SELF],
        "manifest-src": [SELF],
        "object-src": [NONE],
        "base-uri": [SELF],
        "form-action": [SELF],
        "frame-ancestors": [NONE],
    }
    if XUEFA_CSP_REPORT_URI:
        directives["report-uri"] = XUEFA_CSP_REPORT_URI
    admin_replace = {
        "script-src": [SELF, UNSAFE_INLINE],
        "style-src": [SELF, UNSAFE_INLINE],
        "frame-src": [SELF, *XUEFA_CSP_FRAME_SOURCES],
        "frame-ancestors": [SELF],
    }
    policy = {"DIRECTIVES": directives}
    if XUEFA_CSP_REPORT_ONLY:
        return {}, policy, admin_replace
    return policy, {}, admin_replace


CONTENT_SECURITY_POLICY, CONTENT_SECURITY_POLICY_REPORT_ONLY, XUEFA_CSP_ADMIN_REPLACE = (
    content_security_policy()
)
# Only video providers are embedded, so frame-src stays short.
WAGTAILEMBEDS_FINDERS = [
    {
        "class": "wagtail.embeds.finders.oembed",
        "providers": [oembed_providers.youtube, oembed_providers.vimeo],
    }
]

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "filters": {
        # A 503 answered while the database is unreachable: one line, no traceback.
        "database_outage": {"()": "learning.outage.DatabaseOutageFilter"},
    },
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": os.environ.get("LOG_LEVEL", "INFO")},
    "loggers": {
        "django.request": {"level": "ERROR", "filters": ["database_outage"]},
        # The immediate task backend logs every task it runs; keep the console readable.
        "django_tasks": {"level": "WARNING"},
    },
}

# --- Accounts: sign-in with DingTalk, Feishu or WeChat (learning/social.py) --------
# Off by default. XUEFA_SOCIAL_PROVIDERS=dingtalk,feishu,weixin offers those buttons
# on the sign-in page; each needs XUEFA_SOCIAL_<PROVIDER>_CLIENT_ID and
# XUEFA_SOCIAL_<PROVIDER>_SECRET (the app's credentials, read here, never from the
# database). A sign-in through them never makes an account: it is linked to the roster
# official with the same mobile number or staff number, or refused. allauth's
# socialaccount and the three providers are installed either way, so the database
# schema does not change with the switch; their URLs and buttons exist only when on.
XUEFA_SOCIAL_PROVIDER_CHOICES = ("dingtalk", "feishu", "weixin")
XUEFA_SOCIAL_PROVIDERS = env_list("XUEFA_SOCIAL_PROVIDERS")
for _provider in XUEFA_SOCIAL_PROVIDERS:
    if _provider not in XUEFA_SOCIAL_PROVIDER_CHOICES:
        raise ImproperlyConfigured(
            f"XUEFA_SOCIAL_PROVIDERS: {_provider!r} is not one of "
            f"{', '.join(XUEFA_SOCIAL_PROVIDER_CHOICES)}."
        )
INSTALLED_APPS += [
    "allauth.socialaccount",
    *(f"allauth.socialaccount.providers.{p}" for p in XUEFA_SOCIAL_PROVIDER_CHOICES),
]


def social_provider_settings(providers):
    """SOCIALACCOUNT_PROVIDERS for the enabled providers, credentials from the
    environment; a provider without them refuses to start the site."""
    configured = {}
    for provider in providers:
        prefix = f"XUEFA_SOCIAL_{provider.upper()}_"
        app = {key: os.environ.get(prefix + key.upper(), "") for key in ("client_id", "secret")}
        if not all(app.values()):
            raise ImproperlyConfigured(
                f"{provider} sign-in needs {prefix}CLIENT_ID and {prefix}SECRET."
            )
        configured[provider] = {"APP": app}
        authorize_url = os.environ.get(prefix + "AUTHORIZE_URL", "")
        if authorize_url:
            configured[provider]["AUTHORIZE_URL"] = authorize_url
    return configured


SOCIALACCOUNT_PROVIDERS = social_provider_settings(XUEFA_SOCIAL_PROVIDERS)
SOCIALACCOUNT_ADAPTER = "learning.social.SocialAccountAdapter"
SOCIALACCOUNT_AUTO_SIGNUP = False
SOCIALACCOUNT_EMAIL_AUTHENTICATION = False
SOCIALACCOUNT_QUERY_EMAIL = False
SOCIALACCOUNT_STORE_TOKENS = False
SOCIALACCOUNT_LOGIN_ON_GET = False

# --- Notices: e-mail, SMS, WeCom, DingTalk (learning/notices, README "Notices") -----------
# Channels every notice may use, in order: email, sms, wecom (work notifications),
# wecom_robot and dingtalk_robot (group robots; by default only notices meant for the
# whole group, see learning.notices.services.DEFAULT_CHANNEL_KINDS).
XUEFA_NOTICE_CHANNELS = env_list("XUEFA_NOTICE_CHANNELS", "email")
XUEFA_NOTICE_TIMEOUT = float(os.environ.get("XUEFA_NOTICE_TIMEOUT", "5"))  # seconds, at most 5
# Notices to at most this many people are sent right after the commit; more go to a task.
XUEFA_NOTICE_INLINE_MAX = int(os.environ.get("XUEFA_NOTICE_INLINE_MAX", "3"))
# SMS: XUEFA_SMS_BACKEND is http (a generic gateway), aliyun or tencent.
XUEFA_SMS_BACKEND = os.environ.get("XUEFA_SMS_BACKEND", "http")
XUEFA_SMS_SIGNATURE = os.environ.get("XUEFA_SMS_SIGNATURE", "")
XUEFA_SMS_BODY_CHARS = int(os.environ.get("XUEFA_SMS_BODY_CHARS", "200"))
XUEFA_SMS_TEMPLATE_CHARS = int(os.environ.get("XUEFA_SMS_TEMPLATE_CHARS", "35"))
XUEFA_SMS_HTTP_URL = os.environ.get("XUEFA_SMS_HTTP_URL", "")
XUEFA_SMS_HTTP_METHOD = os.environ.get("XUEFA_SMS_HTTP_METHOD", "POST")
XUEFA_SMS_HTTP_FORMAT = os.environ.get("XUEFA_SMS_HTTP_FORMAT", "json")  # json or form
XUEFA_SMS_HTTP_AUTH_HEADER = os.environ.get("XUEFA_SMS_HTTP_AUTH_HEADER", "")
XUEFA_SMS_HTTP_BODY = os.environ.get(
    "XUEFA_SMS_HTTP_BODY", '{"mobile": "{mobile}", "text": "{text}"}'
)
XUEFA_SMS_HTTP_ID_FIELD = os.environ.get("XUEFA_SMS_HTTP_ID_FIELD", "")
XUEFA_SMS_ALIYUN_ACCESS_KEY_ID = os.environ.get("XUEFA_SMS_ALIYUN_ACCESS_KEY_ID", "")
XUEFA_SMS_ALIYUN_ACCESS_KEY_SECRET = os.environ.get("XUEFA_SMS_ALIYUN_ACCESS_KEY_SECRET", "")
XUEFA_SMS_ALIYUN_TEMPLATE = os.environ.get("XUEFA_SMS_ALIYUN_TEMPLATE", "")
XUEFA_SMS_ALIYUN_REGION = os.environ.get("XUEFA_SMS_ALIYUN_REGION", "cn-hangzhou")
XUEFA_SMS_ALIYUN_ENDPOINT = os.environ.get(
    "XUEFA_SMS_ALIYUN_ENDPOINT", "https://dysmsapi.aliyuncs.com/"
)
XUEFA_SMS_TENCENT_SECRET_ID = os.environ.get("XUEFA_SMS_TENCENT_SECRET_ID", "")
XUEFA_SMS_TENCENT_SECRET_KEY = os.environ.get("XUEFA_SMS_TENCENT_SECRET_KEY", "")
XUEFA_SMS_TENCENT_SDK_APP_ID = os.environ.get("XUEFA_SMS_TENCENT_SDK_APP_ID", "")
XUEFA_SMS_TENCENT_TEMPLATE = os.environ.get("XUEFA_SMS_TENCENT_TEMPLATE", "")
XUEFA_SMS_TENCENT_REGION = os.environ.get("XUEFA_SMS_TENCENT_REGION", "ap-guangzhou")
XUEFA_SMS_TENCENT_ENDPOINT = os.environ.get(
    "XUEFA_SMS_TENCENT_ENDPOINT", "https://sms.tencentcloudapi.com/"
)
# WeCom work notifications: the self-built app's corp id, secret and agent id; a person's
# WeCom user id is their staff_number or username.
XUEFA_WECOM_CORP_ID = os.environ.get("XUEFA_WECOM_CORP_ID", "")
XUEFA_WECOM_SECRET = os.environ.get("XUEFA_WECOM_SECRET", "")
XUEFA_WECOM_AGENT_ID = os.environ.get("XUEFA_WECOM_AGENT_ID", "")
XUEFA_WECOM_USER_ID = os.environ.get("XUEFA_WECOM_USER_ID", "staff_number")
XUEFA_WECOM_API_BASE = os.environ.get("XUEFA_WECOM_API_BASE", "https://qyapi.weixin.qq.com")
# Group robots: the webhook URLs (with their key / access_token) and DingTalk's signing secret.
XUEFA_WECOM_ROBOT_URL = os.environ.get("XUEFA_WECOM_ROBOT_URL", "")
XUEFA_DINGTALK_ROBOT_URL = os.environ.get("XUEFA_DINGTALK_ROBOT_URL", "")
XUEFA_DINGTALK_ROBOT_SECRET = os.environ.get("XUEFA_DINGTALK_ROBOT_SECRET", "")

# ---- Design system and shell (issue 20) ----
# The lecture index (学法课堂) is a Wagtail page at a stable address; the header links
# to it from here (learning/templatetags/navigation.py) without a page-tree query.
XUEFA_LECTURE_HALL_URL = os.environ.get("XUEFA_LECTURE_HALL_URL", "/lectures/")

# --- Screens: offline alerts and the data screen (content app, issue #21) ---------------
# Organizers are notified once when a screen has not polled for this many minutes (a
# screen may set its own); the data screen's figures are recomputed this often.
XUEFA_SCREEN_OFFLINE_ALERT_MINUTES = int(os.environ.get("XUEFA_SCREEN_OFFLINE_ALERT_MINUTES", "15"))
XUEFA_DATA_SCREEN_SECONDS = int(os.environ.get("XUEFA_DATA_SCREEN_SECONDS", "300"))
