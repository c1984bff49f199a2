"""Encryption of portal API keys at rest (MultiFernet, keys from PORTALADMIN_KEY_ENCRYPTION_KEYS).

The first key encrypts; every key may decrypt, which is what makes rotation possible.
A token none of the keys can open raises KeyDecryptionError: never fall back to ciphertext.
"""

import hashlib

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured


class KeyDecryptionError(Exception):
    pass


def _fernet(keys: list[str] | None = None) -> MultiFernet:
    keys = keys if keys is not None else settings.PORTALADMIN_KEY_ENCRYPTION_KEYS
    if not keys:
        raise ImproperlyConfigured("PORTALADMIN_KEY_ENCRYPTION_KEYS is empty.")
    try:
        return MultiFernet([Fernet(k.encode() if isinstance(k, str) else k) for k in keys])
    except ValueError as exc:
        raise ImproperlyConfigured("PORTALADMIN_KEY_ENCRYPTION_KEYS holds an invalid Fernet key.") from exc


def encrypt_secret(plaintext: str, *, keys: list[str] | None = None) -> str:
    return _fernet(keys).encrypt(plaintext.encode()).decode()


def decrypt_secret(token: str, *, keys: list[str] | None = None) -> str:
    try:
        return _fernet(keys).decrypt(token.encode()).decode()
    except InvalidToken:
        raise KeyDecryptionError("The stored API key cannot be decrypted with the configured keys.") from None


def rotate_secret(token: str, *, keys: list[str] | None = None) -> str:
    """Re-encrypt a token under the first (newest) key."""
    try:
        return _fernet(keys).rotate(token.encode()).decode()
    except InvalidToken:
        raise KeyDecryptionError("The stored API key cannot be decrypted with the configured keys.") from None


def fingerprint(secret: str) -> str:
    """A short, non-reversible identifier to tell keys apart on screen."""
    return hashlib.sha256(secret.encode()).hexdigest()[:12]


def mask(secret: str) -> str:
    return "••••" + secret[-4:] if len(secret) >= 8 else "••••"
