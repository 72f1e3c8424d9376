"""Field encryption and keyed lookup hashes for personal data.

Values are sealed with AES-256-GCM. The ciphertext carries the id of the key that sealed
it (``v1:<key id>:<nonce>:<ciphertext>``), so keys can be rotated: the first key of
``DOORSTEP_FIELD_KEYS`` seals, every listed key opens, and ``manage.py
rotate_field_keys`` reseals old rows (docs/adr/0006-personal-data.md). Lookups use an
HMAC-SHA256 "blind index" under a separate key, so an exact number can be found without
storing it in the clear.

Keys come from the environment in production. On a development machine they are
generated once into ``var/`` (never committed), like the secret key.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import os
from functools import lru_cache

from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured

PREFIX = "v1"


def _decode_key(text: str) -> bytes:
    try:
        key = base64.urlsafe_b64decode(text.strip() + "=" * (-len(text.strip()) % 4))
    except (ValueError, TypeError) as exc:
        raise ImproperlyConfigured("field keys must be URL-safe base64") from exc
    if len(key) != 32:
        raise ImproperlyConfigured("field keys must be 32 bytes (AES-256)")
    return key


@lru_cache(maxsize=1)
def _keyring() -> tuple[str, dict[str, AESGCM]]:
    """(current key id, {key id: cipher}) from ``settings.DOORSTEP_FIELD_KEYS``, a string
    ``id1:key1,id2:key2`` whose first entry is the current key."""
    spec = settings.DOORSTEP_FIELD_KEYS
    entries = [item.split(":", 1) for item in spec.split(",") if item.strip()]
    if not entries or any(len(entry) != 2 for entry in entries):
        raise ImproperlyConfigured(
            "DOORSTEP_FIELD_KEYS must look like 'k1:<base64 key>[,k0:<old key>]'"
        )
    ciphers = {kid.strip(): AESGCM(_decode_key(key)) for kid, key in entries}
    return entries[0][0].strip(), ciphers


@lru_cache(maxsize=1)
def _hash_key() -> bytes:
    return _decode_key(settings.DOORSTEP_HASH_KEY)


def reset_key_cache() -> None:
    _keyring.cache_clear()
    _hash_key.cache_clear()


def current_key_id() -> str:
    return _keyring()[0]


def seal(plaintext: str) -> str:
    kid, ciphers = _keyring()
    nonce = os.urandom(12)
    ciphertext = ciphers[kid].encrypt(nonce, plaintext.encode("utf-8"), kid.encode())
    encode = base64.urlsafe_b64encode
    return f"{PREFIX}:{kid}:{encode(nonce).decode()}:{encode(ciphertext).decode()}"


def open_sealed(token: str) -> str:
    try:
        prefix, kid, nonce, ciphertext = token.split(":")
    except ValueError:
        raise ValueError("not a sealed value") from None
    if prefix != PREFIX:
        raise ValueError(f"unknown sealed-value version {prefix!r}")
    ciphers = _keyring()[1]
    if kid not in ciphers:
        raise ValueError(f"key {kid!r} is not in DOORSTEP_FIELD_KEYS")
    decode = base64.urlsafe_b64decode
    return ciphers[kid].decrypt(decode(nonce), decode(ciphertext), kid.encode()).decode("utf-8")


def sealed_key_id(token: str) -> str:
    return token.split(":")[1]


def blind_index(value: str) -> str:
    """A keyed hash for exact lookup; never reversible without the hash key."""
    return hmac.new(_hash_key(), value.encode("utf-8"), hashlib.sha256).hexdigest()


def new_key() -> str:
    return base64.urlsafe_b64encode(os.urandom(32)).decode().rstrip("=")
