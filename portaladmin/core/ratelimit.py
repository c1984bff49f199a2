"""A fixed-window counter in the cache: "at most N of these per window", shared by every web process.

Keys are hashed, so an e-mail address typed by anyone never becomes a cache key as is.
"""

import hashlib

from django.core.cache import cache


def _key(scope: str, value: str) -> str:
    digest = hashlib.sha256(value.strip().lower().encode()).hexdigest()[:32]
    return f"ratelimit:{scope}:{digest}"


def ratelimit_hit(*, scope: str, value: str, limit: int, window_seconds: int) -> bool:
    """Count one hit; True while the count stays within the limit, False once it is exceeded."""
    key = _key(scope, value)
    if cache.add(key, 1, timeout=window_seconds):
        return 1 <= limit
    try:
        count = cache.incr(key)
    except ValueError:  # expired between add and incr: start a new window
        cache.set(key, 1, timeout=window_seconds)
        count = 1
    return count <= limit
