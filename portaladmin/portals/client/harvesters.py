"""Harvesters and their schedules. A harvester's state is its `status` field (no status endpoint).

Reference: https://help.opendatasoft.com/apis/automation/v1.0/ (Harvesters, Harvester schedules).
"""

from __future__ import annotations

from collections.abc import Iterator

from .schemas import Harvester, HarvesterErrors, HarvesterPreview, Page, Schedule


class HarvestersMixin:
    def harvester_list(self, *, limit: int = 20, offset: int = 0) -> Page[Harvester]:
        return self._page("/harvesters/", Harvester.from_dict, limit=limit, offset=offset)

    def harvester_iter(self, *, page_size: int = 1000) -> Iterator[Harvester]:
        return self._iter("/harvesters/", Harvester.from_dict, page_size=page_size)

    def harvester_count(self) -> int:
        return self._count("/harvesters/")

    def harvester_get(self, uid: str) -> Harvester:
        return Harvester.from_dict(self._get(self.path("harvesters", uid)))

    def harvester_create(self, body: dict) -> Harvester:
        return Harvester.from_dict(self._post("/harvesters/", body))

    def harvester_update(self, uid: str, body: dict) -> Harvester:
        return Harvester.from_dict(self._put(self.path("harvesters", uid), body))

    def harvester_delete(self, uid: str, *, delete_attached_datasets: bool) -> None:
        if not isinstance(delete_attached_datasets, bool):
            raise TypeError("delete_attached_datasets must be True or False")
        self._delete(self.path("harvesters", uid), {"delete_attached_datasets": delete_attached_datasets})

    def harvester_start(self, uid: str) -> Harvester:
        return Harvester.from_dict(self._post(self.path("harvesters", uid, "start")))

    def harvester_abort(self, uid: str) -> Harvester:
        return Harvester.from_dict(self._post(self.path("harvesters", uid, "abort")))

    def harvester_publish(self, uid: str) -> None:
        self._post(self.path("harvesters", uid, "publish"))

    def harvester_unpublish(self, uid: str) -> None:
        self._post(self.path("harvesters", uid, "unpublish"))

    def harvester_errors(self, uid: str) -> HarvesterErrors:
        return HarvesterErrors.from_dict(self._get(self.path("harvesters", uid, "errors")))

    def harvester_preview(self, uid: str) -> HarvesterPreview:
        return HarvesterPreview.from_dict(self._get(self.path("harvesters", uid, "preview")))

    def harvester_unsaved_preview(self, uid: str, body: dict) -> HarvesterPreview:
        return HarvesterPreview.from_dict(self._post(self.path("harvesters", uid, "unsaved_preview"), body))

    def harvester_schedule_list(self, uid: str, *, limit: int = 20, offset: int = 0) -> Page[Schedule]:
        return self._page(self.path("harvesters", uid, "schedules"), Schedule.from_dict, limit=limit, offset=offset)

    def harvester_schedule_get(self, uid: str, schedule_uid: str) -> Schedule:
        return Schedule.from_dict(self._get(self.path("harvesters", uid, "schedules", schedule_uid)))

    def harvester_schedule_create(self, uid: str, *, cron_schedule: str, timezone: str = "UTC") -> Schedule:
        return Schedule.from_dict(self._post(self.path("harvesters", uid, "schedules"),
                                             {"cron_schedule": cron_schedule, "timezone": timezone}))

    def harvester_schedule_update(self, uid: str, schedule_uid: str, *, cron_schedule: str,
                                  timezone: str = "UTC") -> Schedule:
        return Schedule.from_dict(self._put(self.path("harvesters", uid, "schedules", schedule_uid),
                                            {"cron_schedule": cron_schedule, "timezone": timezone}))

    def harvester_schedule_delete(self, uid: str, schedule_uid: str) -> None:
        self._delete(self.path("harvesters", uid, "schedules", schedule_uid))
