"""Settings for the real worker processes the reliability tests start: the test settings plus timings from env."""

import os

from portaladmin.settings_test import *  # noqa: F403

JOBS_ENQUEUE_GRACE = float(os.environ.get("JOBS_ENQUEUE_GRACE", "0"))
JOBS_POLL_FIRST_DELAY = float(os.environ.get("JOBS_POLL_FIRST_DELAY", "2.0"))
