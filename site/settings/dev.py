"""Local development: debug on, SQLite unless DATABASE_URL says otherwise.

Without SECRET_KEY in the environment, the key is this clone's own, kept in
`.secret_key` (git-ignored, made on first use, mode 0600; XUEFA_SECRET_KEY_FILE
points elsewhere), the file `make serve-prod` reads too."""

import os

from .base import *  # noqa: F403

DEBUG = True
SECRET_KEY_FILE = os.environ.get("XUEFA_SECRET_KEY_FILE") or BASE_DIR / ".secret_key"  # noqa: F405
SECRET_KEY = SECRET_KEY or secret_key_from_file(SECRET_KEY_FILE)  # noqa: F405
ALLOWED_HOSTS = ALLOWED_HOSTS or ["127.0.0.1", "localhost", "[::1]"]
