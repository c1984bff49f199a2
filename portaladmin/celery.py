"""The one Celery app. Settings come from Django settings under the CELERY_ namespace."""

import os

from celery import Celery
from celery.signals import worker_process_init

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "portaladmin.settings")

app = Celery("portaladmin")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()


@app.on_after_configure.connect
def _broker_folders(sender, **kwargs):
    # The embedded filesystem broker needs its folders before the first message.
    from pathlib import Path

    options = sender.conf.broker_transport_options or {}
    for key in ("data_folder_in", "data_folder_out", "processed_folder", "control_folder"):
        if key in options:
            Path(options[key]).mkdir(parents=True, exist_ok=True)


@app.on_after_configure.connect
def _jobs_periodic_tasks(sender, **kwargs):
    # jobs: the batched status poller (every JOBS_POLL_INTERVAL s) and the sweeper (lost/expired work).
    from django.conf import settings

    sender.add_periodic_task(float(settings.JOBS_POLL_INTERVAL), sender.signature("jobs.poll_tick"),
                             name="jobs-poll-tick", expires=float(settings.JOBS_POLL_INTERVAL) * 2)
    sender.add_periodic_task(float(getattr(settings, "JOBS_SWEEP_INTERVAL", 5.0)), sender.signature("jobs.sweep"),
                             name="jobs-sweep", expires=10.0)


@app.on_after_configure.connect
def _datasets_periodic_tasks(sender, **kwargs):
    # datasets: refresh every connection's catalogue snapshot every CATALOGUE_SYNC_MINUTES.
    from django.conf import settings

    minutes = float(getattr(settings, "CATALOGUE_SYNC_MINUTES", 15) or 15)
    sender.add_periodic_task(minutes * 60, sender.signature("datasets.catalogue_sync_all"),
                             name="datasets-catalogue-sync-all", expires=minutes * 60)


@app.on_after_configure.connect
def _notify_periodic_tasks(sender, **kwargs):
    # notify: webhook/e-mail retries that are due, and daily digests (every NOTIFY_TICK_SECONDS).
    from django.conf import settings

    seconds = float(getattr(settings, "NOTIFY_TICK_SECONDS", 30.0) or 30.0)
    sender.add_periodic_task(seconds, sender.signature("notify.tick"), name="notify-tick", expires=seconds * 2)


@app.on_after_configure.connect
def _portals_periodic_tasks(sender, **kwargs):
    # portals: test every connection (reachability, key, the key's own permissions and revocation) hourly.
    from django.conf import settings

    minutes = float(getattr(settings, "PORTALS_HEALTH_CHECK_MINUTES", 60) or 60)
    sender.add_periodic_task(min(minutes, 10) * 60, sender.signature("portals.health_check_due"),
                             name="portals-health-check-due", expires=minutes * 60)


def warm_up() -> None:
    """Load what a task would otherwise load on its first use: the URLconf (every app's urls module, ~0.5 s), read
    by the first reverse() of a job's messages and notifications. Without it, the first job a worker runs pays it."""
    from django.urls import get_resolver

    get_resolver()._populate()


@worker_process_init.connect
def _warm_worker_process(**kwargs):
    warm_up()
