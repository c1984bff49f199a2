"""Settings of the processes the crash test starts (web server, workers, helper): test settings on a SQLite
FILE under PORTALADMIN_VAR_DIR that every process shares, Redis as broker, fast job timings from env."""

import os

from portaladmin.settings_test import *  # noqa: F403

JOBS_ENQUEUE_GRACE = float(os.environ.get("JOBS_ENQUEUE_GRACE", "0"))
