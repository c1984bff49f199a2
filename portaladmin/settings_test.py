"""Test settings: embedded defaults, fast hashing, fixed secrets. DATABASE_URL / REDIS_URL still apply."""

import os
import tempfile

os.environ.setdefault("DEBUG", "True")
os.environ.setdefault("PORTALADMIN_VAR_DIR", tempfile.mkdtemp(prefix="portaladmin-test-"))

from portaladmin.settings import *  # noqa: E402,F403
from portaladmin.settings import CACHES, REDIS_URL  # noqa: E402

PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
if not REDIS_URL:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
# Tests stop a worker themselves when they need one; nothing runs eagerly.
CELERY_TASK_ALWAYS_EAGER = False
MAILERS = {"default": {"BACKEND": "django.core.mail.backends.locmem.EmailBackend"}}
AXES_ENABLED = True
SANDBOX_ENABLED = True
PORTALS_ALLOW_HTTP = True
PORTALS_ALLOW_PRIVATE_NETWORKS = True
PORTALS_MAX_RETRIES = 2
PORTALS_RETRY_AFTER_CAP = 0.5
