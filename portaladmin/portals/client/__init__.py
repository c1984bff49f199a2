"""The one door to Opendatasoft portals (Automation API v1.0). See API.md for the public contract.

    from portaladmin.portals.client import client_for
    client = client_for(connection)
    page = client.dataset_list(limit=50)
"""

from __future__ import annotations

import os
import threading
from typing import TYPE_CHECKING

from portaladmin.core import crypto

from .base import BaseClient, every_item
from .dataset_extras import DatasetExtrasMixin
from .dataset_parts import DatasetSecurityMixin, HistoryMixin, MetadataMixin, ProcessingMixin, ResourcesMixin
from .datasets import DatasetsMixin
from .errors import (
    PortalAuthError,
    PortalBlockedAddress,
    PortalConflict,
    PortalError,
    PortalNotFound,
    PortalRateLimited,
    PortalTimeout,
    PortalUnavailable,
    PortalValidationError,
)
from .harvesters import HarvestersMixin
from .misc import MiscMixin
from .pages import CodePagesMixin, StudioPagesMixin
from .people import ApiKeysMixin, GroupsMixin, UsersMixin
from .promote import PromoteMixin
from .resources import ResourceOpsMixin
from .schemas import Page

if TYPE_CHECKING:
    from portaladmin.portals.models import Connection


class PortalClient(
    DatasetsMixin,
    ResourcesMixin,
    ResourceOpsMixin,
    MetadataMixin,
    DatasetSecurityMixin,
    ProcessingMixin,
    HistoryMixin,
    DatasetExtrasMixin,
    HarvestersMixin,
    UsersMixin,
    GroupsMixin,
    ApiKeysMixin,
    StudioPagesMixin,
    CodePagesMixin,
    PromoteMixin,
    MiscMixin,
    BaseClient,
):
    """PortalClient(base_url=…, api_key=…, timeout=(connect, read)). Methods: see API.md."""


_cache: dict[tuple, PortalClient] = {}
_cache_pid: int | None = None
_cache_lock = threading.Lock()


def client_for(connection: Connection) -> PortalClient:
    """The pooled client of a connection profile, one per (process, connection, key, URL, timeouts)."""
    global _cache_pid
    fingerprint = connection.api_key_fingerprint
    api_key = None
    if not fingerprint:
        api_key = connection.api_key
        fingerprint = crypto.fingerprint(api_key)
    key = (connection.pk, fingerprint, connection.api_base, tuple(connection.timeouts))
    pid = os.getpid()
    with _cache_lock:
        if _cache_pid != pid:  # forked: never share the parent's sockets
            _cache.clear()
            _cache_pid = pid
        client = _cache.get(key)
        if client is None:
            for old_key in [k for k in _cache if k[0] == connection.pk]:
                _cache.pop(old_key)  # not closed: another thread may still be using it
            client = PortalClient(base_url=connection.api_base, api_key=api_key or connection.api_key,
                                  timeout=connection.timeouts, name=connection.name or connection.slug)
            _cache[key] = client
    return client


def clear_client_cache() -> None:
    with _cache_lock:
        for client in _cache.values():
            client.close()
        _cache.clear()


__all__ = [
    "PortalClient", "client_for", "clear_client_cache", "Page", "every_item",
    "PortalError", "PortalUnavailable", "PortalTimeout", "PortalRateLimited", "PortalAuthError", "PortalNotFound",
    "PortalValidationError", "PortalConflict", "PortalBlockedAddress",
]
