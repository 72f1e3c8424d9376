"""Production: everything comes from the environment; nothing is generated locally.

Required: DJANGO_SECRET_KEY, DJANGO_ALLOWED_HOSTS, DATABASE_URL. TLS terminates at the
reverse proxy, which must set X-Forwarded-Proto (see docs/deployment.md).
"""

import os

from django.core.exceptions import ImproperlyConfigured

from .base import *  # noqa: F403

for required in (
    "DJANGO_SECRET_KEY",
    "DJANGO_ALLOWED_HOSTS",
    "DOORSTEP_FIELD_KEYS",
    "DOORSTEP_HASH_KEY",
):
    if not os.environ.get(required):
        raise ImproperlyConfigured(f"{required} must be set in production")

DEBUG = False
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
SECURE_SSL_REDIRECT = env_bool("DJANGO_SECURE_SSL_REDIRECT", True)  # noqa: F405
SECURE_HSTS_SECONDS = int(os.environ.get("DJANGO_HSTS_SECONDS", "31536000"))
SECURE_HSTS_INCLUDE_SUBDOMAINS = True
SECURE_HSTS_PRELOAD = env_bool("DJANGO_HSTS_PRELOAD", False)  # noqa: F405
SESSION_COOKIE_SECURE = True
CSRF_COOKIE_SECURE = True
# security.W021 (HSTS preload): preloading commits a domain for every browser and is
# not available to intranet domains; a deployment that wants it sets
# DJANGO_HSTS_PRELOAD=true at its TLS proxy's domain (docs/deployment.md).
SILENCED_SYSTEM_CHECKS = [
    *SILENCED_SYSTEM_CHECKS,  # noqa: F405
    "security.W021",
    *env_list("DJANGO_SILENCED_SYSTEM_CHECKS"),  # noqa: F405
]
