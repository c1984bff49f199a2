"""The dataset operations the first client mixins left out: alternative exports (upload, edit, delete, streamed
download), one feedback and a cheap open count, and uploading an image asset (`/medias/images/`).

Reference: https://help.opendatasoft.com/apis/automation/v1.0/ (Dataset alternative exports, Dataset
feedbacks, Assets).
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import BinaryIO

from .schemas import AlternativeExport, Asset, Feedback, Page

OCTET = "application/octet-stream"
CHUNK = 64 * 1024


class DatasetExtrasMixin:
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

    def feedback_open_count(self, uid: str) -> int:
        """One request: the first page's `total_count` of open feedback (the spec gives this list no limit)."""
        data = self._get(self.path("datasets", uid, "feedbacks"), {"is_archived": "false"})
        return Page.from_dict(data, Feedback.from_dict).total_count

    # ------------------------------------------------------------------------------------------ images

    def asset_upload(self, file: BinaryIO, *, filename: str, content_type: str) -> Asset:
        """`POST /medias/images/` (multipart `file`, streamed); the answer carries the image's URL. The spec's
        description asks for the multipart `file` but declares no request body (a defect of the spec)."""
        data = self._upload("/medias/images/", file, filename=filename, content_type=content_type)
        return Asset.from_dict(data)
