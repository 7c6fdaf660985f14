"""Production: PostgreSQL, optional Redis, whitenoise, secure cookies.

Refuses to start without SECRET_KEY, DATABASE_URL and ALLOWED_HOSTS; it never
invents a secret."""

import os
from urllib.parse import urlsplit

from django.core.exceptions import ImproperlyConfigured

from .base import *  # noqa: F403

for _required in ("SECRET_KEY", "DATABASE_URL", "ALLOWED_HOSTS"):
    if not os.environ.get(_required, "").strip():
        raise ImproperlyConfigured(
            f"The {_required} environment variable is required in production."
        )

DEBUG = False
STORAGES["staticfiles"] = {  # noqa: F405
    "BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"
}
SESSION_COOKIE_SECURE = env_bool("SECURE_COOKIES", True)  # noqa: F405
CSRF_COOKIE_SECURE = env_bool("SECURE_COOKIES", True)  # noqa: F405
SECURE_SSL_REDIRECT = env_bool("SECURE_SSL_REDIRECT", True)  # noqa: F405
# Set when a TLS-terminating proxy forwards X-Forwarded-Proto.
if env_bool("TRUST_X_FORWARDED_PROTO", True):  # noqa: F405
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
# The proxies in front that append to X-Forwarded-For (nginx: one). allauth reads the
# client's address from the last hop they added, for the per-address sign-in limit
# and the check-in address; 0 when the app faces clients directly.
ALLAUTH_TRUSTED_PROXY_COUNT = int(os.environ.get("XUEFA_TRUSTED_PROXY_COUNT", "1"))
SECURE_HSTS_SECONDS = int(os.environ.get("SECURE_HSTS_SECONDS", "31536000"))
SECURE_HSTS_INCLUDE_SUBDOMAINS = True
SECURE_HSTS_PRELOAD = env_bool("SECURE_HSTS_PRELOAD", True)  # noqa: F405
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
MIDDLEWARE.insert(  # noqa: F405
    MIDDLEWARE.index("django.middleware.security.SecurityMiddleware") + 1,  # noqa: F405
    "whitenoise.middleware.WhiteNoiseMiddleware",
)

# --- Security / deployment: uploaded media on S3-compatible object storage -------
# When MEDIA_S3_BUCKET is set, uploads (images, documents, reflections) go to the
# bucket through django-storages, so every app process sees the same files; else
# they stay in MEDIA_ROOT on a shared volume. Credentials come from the usual AWS_*
# variables (or the instance role); MEDIA_S3_ENDPOINT_URL points at MinIO or a
# Chinese cloud's S3-compatible service; MEDIA_S3_CUSTOM_DOMAIN serves files through
# a CDN (MEDIA_S3_ORIGIN overrides the origin the CSP allows for media). Files'
# URLs are the app's own (xuefa.storage.AppServedS3Storage): the app checks who asks
# and reads the file from the private bucket, as it does from MEDIA_ROOT.
MEDIA_S3_BUCKET = os.environ.get("MEDIA_S3_BUCKET", "")
if MEDIA_S3_BUCKET:
    _s3_options = {
        "bucket_name": MEDIA_S3_BUCKET,
        "region_name": os.environ.get("MEDIA_S3_REGION") or None,
        "endpoint_url": os.environ.get("MEDIA_S3_ENDPOINT_URL") or None,
        "custom_domain": os.environ.get("MEDIA_S3_CUSTOM_DOMAIN") or None,
        "location": os.environ.get("MEDIA_S3_PREFIX", "media"),
        "file_overwrite": False,
        "default_acl": None,
        "querystring_auth": not env_bool("MEDIA_S3_PUBLIC", False),
        "querystring_expire": int(os.environ.get("MEDIA_S3_URL_SECONDS", "3600")),
    }
    STORAGES["default"] = {
        "BACKEND": "xuefa.storage.AppServedS3Storage",
        "OPTIONS": _s3_options,
    }
    # Media are then fetched from the bucket's (or CDN's) origin: the CSP allows it.
    if os.environ.get("MEDIA_S3_ORIGIN"):
        _media_origins = env_list("MEDIA_S3_ORIGIN")
    elif _s3_options["custom_domain"]:
        _media_origins = [f"https://{_s3_options['custom_domain']}"]
    elif _s3_options["endpoint_url"]:
        _parts = urlsplit(_s3_options["endpoint_url"])
        # Path-style (endpoint/bucket/key) or virtual-hosted (bucket.endpoint/key).
        _media_origins = [
            f"{_parts.scheme}://{_parts.netloc}",
            f"{_parts.scheme}://*.{_parts.netloc}",
        ]
    else:
        _media_origins = ["https://*.amazonaws.com"]
    CONTENT_SECURITY_POLICY, CONTENT_SECURITY_POLICY_REPORT_ONLY, XUEFA_CSP_ADMIN_REPLACE = (
        content_security_policy(_media_origins)
    )

# Background tasks (exports, large imports, reminders...) are stored in the database
# (django-tasks-db) and run by the worker `manage.py db_worker`, a service of its own
# on one or more machines, never inside web requests.
TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend"}}

# --- Database behind PgBouncer in transaction mode (docs/deploy.md) --------------
# Set DATABASE_DISABLE_SERVER_SIDE_CURSORS=true there: a queryset's iterator() outside
# a transaction opens a WITH HOLD cursor on one server connection, and the pooler may
# send its next FETCH to another ("cursor ... does not exist"). Off by default (a
# direct connection). Prepared statements: DATABASE_PREPARE_THRESHOLD (base.py).
if env_bool("DATABASE_DISABLE_SERVER_SIDE_CURSORS", False):  # noqa: F405
    DATABASES["default"]["DISABLE_SERVER_SIDE_CURSORS"] = True  # noqa: F405
