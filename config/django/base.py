"""Settings shared by every environment.

Production differs from development by environment variables only (see
docs/deployment.md); there is no per-environment fork of this file beyond the small
``test`` and ``production`` modules that set defaults for those contexts.
"""

from __future__ import annotations

import os
import secrets
from datetime import timedelta
from pathlib import Path
from typing import Any

import dj_database_url
from django.utils.translation import gettext_lazy as _

BASE_DIR = Path(__file__).resolve().parent.parent.parent
VAR_DIR = Path(os.environ.get("DOORSTEP_VAR_DIR", BASE_DIR / "var"))


def env_bool(name: str, default: bool = False) -> bool:
    value = os.environ.get(name)
    if value is None or value == "":
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def env_list(name: str, default: str = "") -> list[str]:
    return [item.strip() for item in os.environ.get(name, default).split(",") if item.strip()]


def local_secret(name: str) -> str:
    """A per-checkout secret kept in ``var/`` so that a development machine needs no set-up.

    Production never reaches this: ``config.django.production`` requires the environment.
    """
    VAR_DIR.mkdir(parents=True, exist_ok=True)
    path = VAR_DIR / name
    if not path.exists():
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as handle:
            handle.write(secrets.token_urlsafe(48))
    return path.read_text().strip()


DEBUG = env_bool("DJANGO_DEBUG", False)
SECRET_KEY = os.environ.get("DJANGO_SECRET_KEY") or local_secret("secret-key")
ALLOWED_HOSTS = env_list("DJANGO_ALLOWED_HOSTS", "127.0.0.1,localhost,[::1]")
CSRF_TRUSTED_ORIGINS = env_list("DJANGO_CSRF_TRUSTED_ORIGINS")

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "rest_framework",
    "rest_framework.authtoken",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "django_filters",
    "django_htmx",
    "django_tasks",
    "django_tasks_db",
    "axes",
    "csp",
    "doorstep.core",
    "doorstep.orgs",
    "doorstep.accounts",
    "doorstep.people",
    "doorstep.grids",
    "doorstep.sites",
    "doorstep.appeals",
    "doorstep.points",
    "doorstep.volunteers",
    "doorstep.canteen",
    "doorstep.open311",
    "doorstep.dashboards",
    "doorstep.web",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "doorstep.web.middleware.PreferencesMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    # After the locale, so that its refusal speaks the request's language.
    "doorstep.core.middleware.RefuseNulCharactersMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "doorstep.accounts.middleware.SessionPolicyMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    "csp.middleware.CSPMiddleware",
    # Last, so that it sees the outcome of every authentication attempt.
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "config.urls"
WSGI_APPLICATION = "config.wsgi.application"

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
                "django.template.context_processors.i18n",
                "doorstep.web.context_processors.shell",
            ],
        },
    },
]

# --- Database -------------------------------------------------------------------------
# DATABASE_URL unset: SQLite in var/ with WAL, and IMMEDIATE transactions so that
# concurrent writers queue on the busy timeout instead of failing on lock upgrade.
SQLITE_OPTIONS = {
    "transaction_mode": "IMMEDIATE",
    "timeout": 20,
    "init_command": (
        "PRAGMA journal_mode=WAL;"
        "PRAGMA synchronous=NORMAL;"
        "PRAGMA foreign_keys=ON;"
        "PRAGMA busy_timeout=20000;"
    ),
}


def database_config(url: str | None, sqlite_path: Path) -> dict[str, Any]:
    if url:
        config: dict[str, Any] = dict(
            dj_database_url.parse(url, conn_max_age=60, conn_health_checks=True)
        )
        if config["ENGINE"] == "django.db.backends.sqlite3":
            config["OPTIONS"] = dict(SQLITE_OPTIONS)
        return config
    return {
        "ENGINE": "django.db.backends.sqlite3",
        "NAME": sqlite_path,
        "OPTIONS": dict(SQLITE_OPTIONS),
    }


DATABASES = {
    "default": database_config(os.environ.get("DATABASE_URL"), VAR_DIR / "doorstep.sqlite3")
}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"


# Personal data: AES-256-GCM keys for ID and phone numbers (first one seals, all open)
# and the HMAC key of their lookup hashes. Production sets both in the environment;
# a development checkout generates its own in var/ (docs/adr/0006-personal-data.md).
def _local_key(name: str) -> str:
    raw = local_secret(name)  # urlsafe text of 48 random bytes; use 32 of them
    import base64
    import hashlib

    return base64.urlsafe_b64encode(hashlib.sha256(raw.encode()).digest()).decode().rstrip("=")


DOORSTEP_FIELD_KEYS = os.environ.get("DOORSTEP_FIELD_KEYS") or f"dev:{_local_key('field-key')}"
DOORSTEP_HASH_KEY = os.environ.get("DOORSTEP_HASH_KEY") or _local_key("hash-key")

# Region codes of counties created after the GB/T 2260 list that Doorstep ships, which
# resident ID numbers may start with (comma-separated, e.g. "510599,620499").
DOORSTEP_EXTRA_REGION_CODES = env_list("DOORSTEP_EXTRA_REGION_CODES")
# Searches for a resident one counter user may make in ten minutes (a lunch rush at a
# canteen is a few dozen); scanned points codes do not count. Every search is audited.
DOORSTEP_COUNTER_SEARCH_LIMIT = int(os.environ.get("DOORSTEP_COUNTER_SEARCH_LIMIT", "60"))

# Database triggers that refuse UPDATE/DELETE on the audit log (accounts migration 0002).
DOORSTEP_AUDIT_DB_TRIGGERS = True

# --- Cache ------------------------------------------------------------------------------
if os.environ.get("REDIS_URL"):
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": os.environ["REDIS_URL"],
        }
    }
else:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}

# --- Background tasks -----------------------------------------------------------------
TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend"}}

# --- Authentication ------------------------------------------------------------------
AUTH_USER_MODEL = "accounts.User"
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]
LOGIN_URL = "accounts:login"
LOGIN_REDIRECT_URL = "web:after-login"
LOGOUT_REDIRECT_URL = "web:home"

# Password profile: "mlps" (GB/T 22239 level 3: length >= 8, three of four character
# classes, expiry after 90 days) or "asvs" (OWASP ASVS: length >= 12, no composition
# rules, no forced expiry). See docs/adr/0005-login-hardening.md.
PASSWORD_PROFILE = os.environ.get("DOORSTEP_PASSWORD_PROFILE", "mlps")
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
    {"NAME": "doorstep.accounts.passwords.ProfileValidator"},
]

# Lock a username for 15 minutes after 5 failures within 15 minutes, whatever the IP.
AXES_FAILURE_LIMIT = 5
AXES_COOLOFF_TIME = timedelta(minutes=15)
AXES_USE_ATTEMPT_EXPIRATION = True
AXES_LOCKOUT_PARAMETERS = ["username"]
AXES_RESET_ON_SUCCESS = True
AXES_LOCKOUT_CALLABLE = "doorstep.accounts.views.lockout_response"
AXES_CLIENT_IP_CALLABLE = "doorstep.core.net.client_ip_for_axes"
AXES_VERBOSE = False
AXES_SENSITIVE_PARAMETERS = ["password"]
# Locking by IP as well would lock out a whole township office behind one NAT address
# after five typos; request rates per IP are limited by the API throttles and the
# reverse proxy instead (docs/adr/0005-login-hardening.md).
SILENCED_SYSTEM_CHECKS = ["axes.W006"]

# Staff sessions end after 30 idle minutes; residents keep theirs for two weeks.
STAFF_IDLE_TIMEOUT = timedelta(minutes=int(os.environ.get("DOORSTEP_STAFF_IDLE_MINUTES", "30")))
SESSION_COOKIE_AGE = int(timedelta(days=14).total_seconds())
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
CSRF_COOKIE_HTTPONLY = True

# Number of reverse proxies in front of the app whose X-Forwarded-For entries are trusted.
TRUSTED_PROXY_COUNT = int(os.environ.get("DOORSTEP_TRUSTED_PROXY_COUNT", "0"))

# --- Internationalization ------------------------------------------------------------
LANGUAGE_CODE = "zh-hans"
# ISO first for date inputs in Chinese (config/formats/zh_Hans/formats.py).
FORMAT_MODULE_PATH = ["config.formats"]
LANGUAGES = [("zh-hans", "简体中文"), ("en", "English")]
LOCALE_PATHS = [BASE_DIR / "locale"]
LANGUAGE_COOKIE_NAME = "doorstep_language"
LANGUAGE_COOKIE_AGE = int(timedelta(days=365).total_seconds())
TIME_ZONE = "Asia/Shanghai"
USE_I18N = True
USE_TZ = True

# --- Static files ----------------------------------------------------------------------
STATIC_URL = "/static/"
STATICFILES_DIRS = [BASE_DIR / "static"]
STATIC_ROOT = VAR_DIR / "staticfiles"
MEDIA_URL = "/media/"
MEDIA_ROOT = VAR_DIR / "media"
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"},
}

# --- Security headers ------------------------------------------------------------------
X_FRAME_OPTIONS = "DENY"
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
SECURE_CROSS_ORIGIN_OPENER_POLICY = "same-origin"
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": ["'self'"],
        "script-src": ["'self'"],
        "style-src": ["'self'"],
        "img-src": ["'self'", "data:", *env_list("DOORSTEP_MAP_TILE_ORIGINS")],
        "connect-src": ["'self'"],
        "frame-ancestors": ["'none'"],
        "form-action": ["'self'"],
        "base-uri": ["'self'"],
        "object-src": ["'none'"],
    }
}

# --- REST API --------------------------------------------------------------------------
REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        # Token first, so that an anonymous request is told 401 with WWW-Authenticate.
        "rest_framework.authentication.TokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_PAGINATION_CLASS": "doorstep.core.api.Pagination",
    "PAGE_SIZE": 50,
    "DEFAULT_FILTER_BACKENDS": ["django_filters.rest_framework.DjangoFilterBackend"],
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "EXCEPTION_HANDLER": "doorstep.core.api.exception_handler",
    "DEFAULT_THROTTLE_RATES": {"anon": "120/minute", "user": "600/minute"},
}
SPECTACULAR_SETTINGS = {
    "TITLE": "Doorstep API",
    "DESCRIPTION": (
        "The REST API of Doorstep (家门口). Every list and detail is limited to what the "
        "authenticated user's roles may see; a row outside that scope answers 404."
    ),
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "COMPONENT_SPLIT_REQUEST": True,
    "ENUM_NAME_OVERRIDES": {
        "UnitKindEnum": "doorstep.orgs.choices.UnitKind",
        "PartyOrgKindEnum": "doorstep.orgs.choices.PartyOrgKind",
        "DepartmentKindEnum": "doorstep.orgs.choices.DepartmentKind",
        "RoleEnum": "doorstep.accounts.roles.Role",
        "AuditActionEnum": "doorstep.accounts.models.AuditAction",
        "AuditOutcomeEnum": "doorstep.accounts.models.AuditOutcome",
        "LeftReasonEnum": "doorstep.people.choices.LeftReason",
    },
}

# --- Logging: no personal data, no secrets ----------------------------------------------
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "filters": {"redact": {"()": "doorstep.core.logging.RedactFilter"}},
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"}},
    "handlers": {
        "console": {"class": "logging.StreamHandler", "formatter": "plain", "filters": ["redact"]}
    },
    "root": {"handlers": ["console"], "level": os.environ.get("DOORSTEP_LOG_LEVEL", "INFO")},
    "loggers": {"axes": {"level": "WARNING"}},
}

DOORSTEP = {
    # Shown in page titles and on the public board.
    "JURISDICTION_NAME": os.environ.get("DOORSTEP_JURISDICTION_NAME", _("家门口示范辖区")),
    "MAP_TILE_URL": os.environ.get("DOORSTEP_MAP_TILE_URL", ""),
}
