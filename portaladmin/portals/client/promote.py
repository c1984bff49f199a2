"""What compare/promote needs beyond the resource screens' methods (resources.py): an uploaded file's size.

Reference: https://help.opendatasoft.com/apis/automation/v1.0/ (Dataset resources: files).
"""

from __future__ import annotations


class PromoteMixin:
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
