"""Encryption at rest of data-source connection strings (they carry the source's password).

`cryptography`'s Fernet (AES-128-CBC with HMAC-SHA256, authenticated) under a `MultiFernet` built
from DATA_SOURCE_ENCRYPTION_KEYS: the first key encrypts, every key decrypts, so keys rotate
without downtime: put the new key first, run `manage.py rotate_data_source_keys` (which re-encrypts
every DSN with it, `MultiFernet.rotate`), then drop the old key. Without the variable the key is
derived from SECRET_KEY, which is fine for development only: changing SECRET_KEY would then make
every stored DSN unreadable.
"""

from __future__ import annotations

import base64
import functools
import hashlib

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from django.conf import settings

__all__ = ["InvalidToken", "dsn_decrypt", "dsn_encrypt", "dsn_rotate", "keys_reset"]


@functools.cache
def _fernet() -> MultiFernet:
    keys = list(settings.DATA_SOURCE_ENCRYPTION_KEYS)
    if not keys:
        # A fixed label keeps this derived key apart from every other use of SECRET_KEY.
        digest = hashlib.sha256(b"verisyntra.data-source-dsn:" + settings.SECRET_KEY.encode()).digest()
        keys = [base64.urlsafe_b64encode(digest).decode()]
    return MultiFernet([Fernet(key) for key in keys])


def keys_reset() -> None:
    """Forget the cached keys (tests and the rotation command change the setting)."""
    _fernet.cache_clear()


def dsn_encrypt(dsn: str) -> str:
    return _fernet().encrypt(dsn.encode()).decode()


def dsn_decrypt(token: str) -> str:
    """The DSN; `InvalidToken` when no configured key can open it."""
    return _fernet().decrypt(token.encode()).decode()


def dsn_rotate(token: str) -> str:
    """The same DSN encrypted under the first key."""
    return _fernet().rotate(token.encode()).decode()
