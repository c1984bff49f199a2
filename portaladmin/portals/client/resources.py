"""The resource operations beyond list/get/create/update/delete (those are in dataset_parts.ResourcesMixin):
guessing an extractor's parameters, cache cleaning, the realtime operations (enable, disable, recover, renew the
push key) and the streamed downloads of a resource's file and of an attachment.

Reference: https://help.opendatasoft.com/apis/automation/v1.0/ (Dataset resources, Dataset attachments).
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import unquote

import requests

from portaladmin.core.logging import register_secret

from .errors import PortalUnavailable
from .schemas import Resource, UploadedFile

# Where a realtime resource's push key lives in its params (the spec does not name it; portals answer `pushkey`,
# the sandbox `push_api_key`). Whatever is under these names is a secret: masked on screens, never sent back.
PUSH_KEY_PARAMS = ("pushkey", "push_api_key", "push_key", "api_key", "apikey")


def push_key_of(resource: Resource) -> str:
    params = resource.params if isinstance(resource.params, dict) else {}
    for name in PUSH_KEY_PARAMS:
        value = params.get(name)
        if isinstance(value, str) and value:
            return value
    return ""


@dataclass
class ExtractorGuess:
    """What the portal guessed for a source: the extractor type and its parameters."""

    extractor: str = ""
    params: dict = field(default_factory=dict)

    @classmethod
    def from_dict(cls, data: Any) -> ExtractorGuess:
        data = data if isinstance(data, dict) else {}
        params = data.get("params")
        return cls(extractor=str(data.get("extractor") or ""), params=params if isinstance(params, dict) else {})


@dataclass
class Download:
    """A file on its way from the portal: headers known, body not read yet. Iterate `chunks` to the end (or call
    close()) to free the connection."""

    filename: str
    content_type: str
    length: int | None
    chunks: Iterator[bytes]

    def __iter__(self) -> Iterator[bytes]:
        return self.chunks

    def close(self) -> None:
        close = getattr(self.chunks, "close", None)
        if close is not None:
            close()


_FILENAME_STAR = re.compile(r"filename\*\s*=\s*(?:UTF-8|utf-8)''([^;]+)")
_FILENAME = re.compile(r'filename\s*=\s*"?([^";]+)"?')


def filename_from(disposition: str | None, default: str) -> str:
    """The file name a Content-Disposition header gives (RFC 6266's filename* first), without any path."""
    disposition = disposition or ""
    match = _FILENAME_STAR.search(disposition) or _FILENAME.search(disposition)
    name = unquote(match.group(1)).strip() if match else ""
    name = name.replace("\\", "/").rsplit("/", 1)[-1]
    return name or default


class ResourceOpsMixin:
    # ------------------------------------------------------------------------------------------ guesses

    def resource_guess_params(self, uid: str, resource_uid: str) -> ExtractorGuess:
        # The spec spells this path "guess_extractors_params" (with an s), unlike the unsaved one.
        return ExtractorGuess.from_dict(
            self._get(self.path("datasets", uid, "resources", resource_uid, "guess_extractors_params")))

    def resource_unsaved_guess_params(self, uid: str, *, type: str, datasource: dict) -> ExtractorGuess:
        body = {"type": type, "datasource": datasource}
        return ExtractorGuess.from_dict(self._post(self.path("datasets", uid, "resources", "guess_extractor_params"),
                                                   body))

    # ------------------------------------------------------------------------------------------ actions

    def resource_clean_cache(self, uid: str, resource_uid: str) -> None:
        self._post(self.path("datasets", uid, "resources", resource_uid, "clean_cache"))

    def resource_enable(self, uid: str, resource_uid: str) -> Resource:
        return Resource.from_dict(self._post(self.path("datasets", uid, "resources", resource_uid, "enable")))

    def resource_disable(self, uid: str, resource_uid: str) -> Resource:
        return Resource.from_dict(self._post(self.path("datasets", uid, "resources", resource_uid, "disable")))

    def resource_recover(self, uid: str, resource_uid: str) -> Resource:
        """Realtime: recover the pushed data (the dataset must be published)."""
        return Resource.from_dict(self._post(self.path("datasets", uid, "resources", resource_uid, "recover")))

    def resource_delete_recovered_data(self, uid: str, resource_uid: str) -> Resource:
        return Resource.from_dict(
            self._post(self.path("datasets", uid, "resources", resource_uid, "delete_recover_data")))

    def resource_renew_push_key(self, uid: str, resource_uid: str) -> tuple[Resource, str]:
        """Realtime: a new push key. Returns the resource and the key, which is registered for redaction before
        the caller sees it (so no log line, error or audit entry can carry it)."""
        data = self._post(self.path("datasets", uid, "resources", resource_uid, "renew_api_key"))
        resource = Resource.from_dict(data)
        key = push_key_of(resource)
        if key:
            register_secret(key)
        return resource, key

    # ------------------------------------------------------------------------------------------ files

    def resource_file_get(self, uid: str, file_uid: str) -> UploadedFile:
        return UploadedFile.from_dict(self._get(self.path("datasets", uid, "resources", "files", file_uid)))

    def resource_file_download(self, uid: str, file_uid: str, *, chunk_size: int = 65536) -> Download:
        return self._download(self.path("datasets", uid, "resources", "files", file_uid, "download"),
                              default_name=file_uid, chunk_size=chunk_size)

    def attachment_download(self, uid: str, attachment_uid: str, *, chunk_size: int = 65536) -> Download:
        return self._download(self.path("datasets", uid, "attachments", attachment_uid, "download"),
                              default_name=attachment_uid, chunk_size=chunk_size)

    def _download(self, path: str, *, default_name: str, chunk_size: int) -> Download:
        """Open a streamed GET (errors raised now, before any byte is passed on) and hand back its headers with
        an iterator over the body: nothing is held in memory beyond one chunk."""
        response = self._request("GET", path, stream=True, headers={"Accept": "*/*"})
        try:
            length = int(response.headers.get("Content-Length", ""))
        except ValueError:
            length = None
        name = self.name

        def chunks() -> Iterator[bytes]:
            try:
                yield from response.iter_content(chunk_size=chunk_size)
            except requests.exceptions.RequestException:
                raise PortalUnavailable(f"{name} stopped sending the download.", method="GET", path=path) from None
            finally:
                response.close()

        content_type = response.headers.get("Content-Type") or "application/octet-stream"
        return Download(filename=filename_from(response.headers.get("Content-Disposition"), default_name),
                        content_type=content_type.split(";")[0].strip() or "application/octet-stream",
                        length=length, chunks=chunks())
