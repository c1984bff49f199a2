"""Settings for the worker process of bench_publish_monitor.py: the app's settings plus fast poll timings."""

import os

from portaladmin.settings import *  # noqa: F403

JOBS_POLL_FIRST_DELAY = float(os.environ.get("JOBS_POLL_FIRST_DELAY", "2.0"))
