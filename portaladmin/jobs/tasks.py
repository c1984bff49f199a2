"""Thin Celery doorbells for the job engine. Ids only; every task is idempotent (acks_late is safe).

No task sleeps, and none uses a countdown: delays live in the database (next_poll_at) and the beat-driven
poller and sweeper pick them up, so nothing outlives the broker's visibility timeout.
"""

from celery import shared_task

from portaladmin.jobs import engine

TASK_OPTIONS = {"acks_late": True, "reject_on_worker_lost": True, "ignore_result": True}
MAX_COUNTDOWN = 0  # the largest countdown/eta any jobs task uses (asserted against the visibility timeout)
ITEMS_QUEUE = "bulk"  # publishing, invites: the workers of docker-compose and devserver consume it


@shared_task(name="jobs.items_process", **TASK_OPTIONS)
def jobs_items_process_task(*, item_ids: list[int]) -> int:
    return engine.items_process(item_ids)


@shared_task(name="jobs.poll_tick", **TASK_OPTIONS)
def jobs_poll_tick_task() -> int:
    batches = engine.poll_tick()
    for connection_id, ids in batches.items():
        if connection_id in batches.hints:
            jobs_poll_batch_task.delay(connection_id=connection_id, item_ids=ids, hint=batches.hints[connection_id])
        else:
            jobs_poll_batch_task.delay(connection_id=connection_id, item_ids=ids)
    return sum(len(ids) for ids in batches.values())


@shared_task(name="jobs.poll_batch", **TASK_OPTIONS)
def jobs_poll_batch_task(*, connection_id: int, item_ids: list[int], hint: bool | int = False) -> int:
    return engine.poll_batch(connection_id=connection_id, item_ids=item_ids, hint=hint)


@shared_task(name="jobs.sweep", **TASK_OPTIONS)
def jobs_sweep_task() -> dict:
    return engine.sweep()


def enqueue_process(item_ids: list[int]) -> None:
    jobs_items_process_task.apply_async(kwargs={"item_ids": list(item_ids)}, queue=ITEMS_QUEUE)
