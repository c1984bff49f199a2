"""What compare/promote needs beyond the dataset screens' methods: uploaded resource files (metadata, download).

Kept in its own mixin so the dataset screens' module (dataset_parts.py) is not touched by promote work.
Reference: https://help.opendatasoft.com/apis/automation/v1.0/ (Dataset resources: files).
"""

from __future__ import annotations

from collections.abc import Iterator

from .schemas import UploadedFile


class PromoteMixin:
    def resource_file_get(self, uid: str, file_uid: str) -> UploadedFile:
        return UploadedFile.from_dict(self._get(self.path("datasets", uid, "resources", "files", file_uid)))

    def resource_file_download(self, uid: str, file_uid: str, *, chunk_size: int = 64 * 1024) -> Iterator[bytes]:
        """The file's bytes, streamed (never held whole in memory); a cut download raises PortalUnavailable."""
        return self._stream(self.path("datasets", uid, "resources", "files", file_uid, "download"), None, chunk_size)

    def resource_file_size(self, uid: str, file_uid: str) -> int:
        """The file's size in bytes: the download's Content-Length when the portal sends one (the body is not
        read), else counted by streaming the download (the API describes no size field)."""
        path = self.path("datasets", uid, "resources", "files", file_uid, "download")
        response = self._request("GET", path, stream=True, headers={"Accept": "*/*", "Accept-Encoding": "identity"})
        try:
            length = response.headers.get("Content-Length", "")
            if length.isdigit():
                return int(length)
        finally:
            response.close()
        return sum(len(chunk) for chunk in self.resource_file_download(uid, file_uid))
