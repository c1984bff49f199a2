"""The dataset operations the first client mixins left out: the processor catalogue with its parameter
definitions, alternative exports (upload, edit, delete, streamed download), one feedback and a cheap open count,
and the portal's image assets (`/medias/images/`).

Reference: https://help.opendatasoft.com/apis/automation/v1.0/ (Dataset processors, Dataset alternative
exports, Dataset feedbacks, Assets).
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any, BinaryIO

from .schemas import AlternativeExport, Feedback, Page

OCTET = "application/octet-stream"
CHUNK = 64 * 1024


class DatasetExtrasMixin:
    # ------------------------------------------------------------------------------------------ processors

    def processor_catalogue(self) -> list[dict]:
        """`GET /processors/` as the portal answers it: a plain array of processor descriptions (the spec types
        the items as DatasetProcessor: `type`, `label` and free additional properties, which may carry parameter
        definitions). Interpreting them is `datasets.processor_catalogue`'s business."""
        data = self._get("/processors/")
        items = data.get("results", []) if isinstance(data, dict) else (data or [])
        return [x for x in items if isinstance(x, dict)]

    # ------------------------------------------------------------------------------------ alternative exports

    def alternative_export_get(self, uid: str, export_uid: str) -> AlternativeExport:
        return AlternativeExport.from_dict(self._get(self.path("datasets", uid, "alternative_exports", export_uid)))

    def alternative_export_create(self, uid: str, file: BinaryIO, *, filename: str | None, title: str,
                                  description: str = "", content_type: str = OCTET) -> AlternativeExport:
        """Upload (multipart: `type=uploaded_file`, `title`, `description`, then the `file` part, streamed)."""
        fields = {"type": "uploaded_file", "title": title, "description": description}
        data = self._upload(self.path("datasets", uid, "alternative_exports"), file, filename=filename,
                            content_type=content_type, fields=fields)
        return AlternativeExport.from_dict(data)

    def alternative_export_update(self, uid: str, export_uid: str, *, title: str, description: str = "",
                                  type: str = "uploaded_file") -> AlternativeExport:
        body = {"type": type, "title": title, "description": description}
        return AlternativeExport.from_dict(
            self._put(self.path("datasets", uid, "alternative_exports", export_uid), body))

    def alternative_export_delete(self, uid: str, export_uid: str) -> None:
        self._delete(self.path("datasets", uid, "alternative_exports", export_uid))

    def alternative_export_download(self, uid: str, export_uid: str, *, chunk_size: int = CHUNK) -> Iterator[bytes]:
        """The file, chunk by chunk (never read whole). An export of type `url` answers 303 to its URL: callers
        link to `alternative_export_get(...).raw["url"]` for those instead."""
        return self._stream(self.path("datasets", uid, "alternative_exports", export_uid, "download"), None,
                            chunk_size)

    # ------------------------------------------------------------------------------------------ feedbacks

    def feedback_get(self, uid: str, feedback_uid: str) -> Feedback:
        return Feedback.from_dict(self._get(self.path("datasets", uid, "feedbacks", feedback_uid)))

    def feedback_page(self, uid: str, *, is_archived: bool | None = None, limit: int = 100,
                      offset: int = 0) -> Page[Feedback]:
        """One page (the per-dataset screen shows at most `limit`; `limit=0` only counts: FACTS, pagination)."""
        params: dict[str, Any] = {"sort": "-created_at"}
        if is_archived is not None:
            params["is_archived"] = "true" if is_archived else "false"
        return self._page(self.path("datasets", uid, "feedbacks"), Feedback.from_dict, params, limit=limit,
                          offset=offset)

    def feedback_open_count(self, uid: str) -> int:
        return self.feedback_page(uid, is_archived=False, limit=0).total_count

    # ------------------------------------------------------------------------------------------ images

    def image_list(self, *, limit: int = 100, offset: int = 0) -> Page[dict]:
        return self._page("/medias/images/", lambda x: x if isinstance(x, dict) else {}, limit=limit, offset=offset)

    def image_upload(self, file: BinaryIO, *, filename: str, content_type: str) -> dict:
        data = self._upload("/medias/images/", file, filename=filename, content_type=content_type)
        return data if isinstance(data, dict) else {}
