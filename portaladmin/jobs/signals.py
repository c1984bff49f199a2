"""Hooks for other apps, dependency-free.

item_remote_state: sent with `item` (a JobItem) whenever the poller or a task records a new remote state or
finishes an item. The datasets app connects a receiver to refresh its catalogue row, e.g.

    from portaladmin.jobs.signals import item_remote_state
    item_remote_state.connect(my_receiver)   # my_receiver(sender, item, **kwargs)

job_finished: sent with `job` when a job reaches a final status.
job_stuck: sent with `job` once, when the sweeper finds it past its deadline (the watchdog's "stuck").

list_places: asked by the poller before a list hint, with `connection_id` and `targets`; a receiver answers
{target: its place in the portal's list at the last sync} (the datasets app: list_position), so that the hint
reads the part of the list that holds them (`places_in_list`).

poll_tick_done: sent by every poll tick with `now` and `polls` ({connection id: status reads the tick handed
to the poller}): the datasets app's status scan takes what the jobs leave of each portal's request budget.
Receivers run in the worker, after the change is committed; an exception in one is logged, never raised.
"""

import logging

from django.dispatch import Signal

logger = logging.getLogger(__name__)

item_remote_state = Signal()
job_finished = Signal()
job_stuck = Signal()
poll_tick_done = Signal()
list_places = Signal()


def on_item_remote_state(item) -> None:
    for receiver, result in item_remote_state.send_robust(sender=type(item), item=item):
        if isinstance(result, Exception):
            logger.warning("item_remote_state receiver %s failed: %s", receiver, result)


def on_job_finished(job) -> None:
    for receiver, result in job_finished.send_robust(sender=type(job), job=job):
        if isinstance(result, Exception):
            logger.warning("job_finished receiver %s failed: %s", receiver, result)


def on_job_stuck(job) -> None:
    for receiver, result in job_stuck.send_robust(sender=type(job), job=job):
        if isinstance(result, Exception):
            logger.warning("job_stuck receiver %s failed: %s", receiver, result)


def on_poll_tick_done(*, now, polls: dict[int, int]) -> None:
    for receiver, result in poll_tick_done.send_robust(sender=None, now=now, polls=polls):
        if isinstance(result, Exception):
            logger.warning("poll_tick_done receiver %s failed: %s", receiver, result)


def places_in_list(*, connection_id: int, targets: list[str]) -> dict[str, int]:
    """{target: place} from every receiver of list_places (none: {}, and the hint reads the list's first page)."""
    places: dict[str, int] = {}
    for receiver, result in list_places.send_robust(sender=None, connection_id=connection_id, targets=targets):
        if isinstance(result, Exception):
            logger.warning("list_places receiver %s failed: %s", receiver, result)
        elif isinstance(result, dict):
            places.update(result)
    return places
