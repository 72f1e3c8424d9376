"""Settings for the test suite: the base settings with fast hashing and inline tasks."""

import os

from .base import *  # noqa: F403
from .base import VAR_DIR, database_config

DATABASES = {"default": database_config(os.environ.get("DATABASE_URL"), VAR_DIR / "test.sqlite3")}
# SQLite tests run in memory (one database per test process, shared with the live
# server thread); PostgreSQL gets its own test database.
if DATABASES["default"]["ENGINE"] != "django.db.backends.sqlite3":
    # Named after the configured database, so runs against different databases of the
    # same server (…/doorstep, …/doorstep_b) never share a test database.
    DATABASES["default"]["TEST"] = {"NAME": f"{DATABASES['default']['NAME']}_test"}
    DATABASES["default"]["CONN_MAX_AGE"] = 0

PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]  # speed only; tests
TASKS = {"default": {"BACKEND": "django_tasks.backends.immediate.ImmediateBackend"}}
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.InMemoryStorage"},
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}
WHITENOISE_AUTOREFRESH = True
# The test runner empties tables between transactional tests, which the audit log's
# append-only triggers forbid; test_audit.py installs and checks them on its own.
DOORSTEP_AUDIT_DB_TRIGGERS = False
