"""Datasets: list, lookup, create, read, update, delete, actions and status.

Reference: https://help.opendatasoft.com/apis/automation/v1.0/ (Datasets).
"""

from __future__ import annotations

from collections.abc import Iterator

from .schemas import Dataset, DatasetStatus, Page


class DatasetsMixin:
    def dataset_list(self, *, limit: int = 20, offset: int = 0, dataset_id: str | None = None) -> Page[Dataset]:
        return self._page("/datasets/", Dataset.from_dict, {"dataset_id": dataset_id}, limit=limit, offset=offset)

    def dataset_iter(self, *, page_size: int = 1000) -> Iterator[Dataset]:
        return self._iter("/datasets/", Dataset.from_dict, page_size=page_size)

    def dataset_count(self) -> int:
        return self._count("/datasets/")

    def dataset_lookup(self, dataset_id: str) -> Dataset | None:
        """The dataset whose dataset_id is exactly `dataset_id` (the spec's only dataset filter)."""
        page = self.dataset_list(limit=10, dataset_id=dataset_id)
        for dataset in page.results:
            if dataset.dataset_id == dataset_id:
                return dataset
        return None

    def dataset_create(self, *, dataset_id: str, metadata: dict, is_restricted: bool = False,
                       default_security: dict | None = None) -> Dataset:
        """metadata needs default.title, default.modified and default.language, each as {"value": …}."""
        body: dict = {"dataset_id": dataset_id, "is_restricted": is_restricted, "metadata": metadata}
        if default_security is not None:
            body["default_security"] = default_security
        return Dataset.from_dict(self._post("/datasets/", body))

    def dataset_get(self, uid: str) -> Dataset:
        return Dataset.from_dict(self._get(self.path("datasets", uid)))

    def dataset_update(self, uid: str, body: dict) -> Dataset:
        return Dataset.from_dict(self._put(self.path("datasets", uid), body))

    def dataset_delete(self, uid: str) -> None:
        self._delete(self.path("datasets", uid))

    def dataset_publish(self, uid: str) -> None:
        self._post(self.path("datasets", uid, "publish"))

    def dataset_publish_metadata(self, uid: str) -> None:
        self._post(self.path("datasets", uid, "publish_metadata"))

    def dataset_unpublish(self, uid: str) -> None:
        self._post(self.path("datasets", uid, "unpublish"))

    def dataset_abort(self, uid: str) -> None:
        self._post(self.path("datasets", uid, "abort"))

    def dataset_copy(self, uid: str) -> Dataset:
        return Dataset.from_dict(self._post(self.path("datasets", uid, "copy")))

    def dataset_status(self, uid: str) -> DatasetStatus:
        return DatasetStatus.from_dict(self._get(self.path("datasets", uid, "status")))
