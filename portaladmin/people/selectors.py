"""Reads of users and groups, live from the portal (remote pagination: these lists are not snapshotted)."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

from portaladmin.core.csvout import csv_reparse
from portaladmin.core.logging import redact
from portaladmin.portals.client import client_for
from portaladmin.portals.client.schemas import Group, Page, User
from portaladmin.portals.models import Connection

USER_SORTS = {"username": "Username", "first_name": "First name", "last_name": "Last name",
              "last_seen_at": "Last seen"}
GROUP_SORTS = {"updated_at": "Last updated", "created_at": "Created", "user_count": "Members",
               "group__title": "Title"}
MAX_GROUPS_FOR_VALIDATION = 10_000


@dataclass
class RemotePage:
    """One page of a remote list with what a template needs to draw limit/offset pagination."""

    items: list
    total: int
    limit: int
    offset: int

    @property
    def has_previous(self) -> bool:
        return self.offset > 0

    @property
    def has_next(self) -> bool:
        return self.offset + self.limit < self.total

    @property
    def previous_offset(self) -> int:
        return max(0, self.offset - self.limit)

    @property
    def next_offset(self) -> int:
        return self.offset + self.limit

    @property
    def first_index(self) -> int:
        return self.offset + 1 if self.items else 0

    @property
    def last_index(self) -> int:
        return self.offset + len(self.items)


def _remote_page(page: Page, *, limit: int, offset: int) -> RemotePage:
    return RemotePage(items=list(page.results), total=page.total_count, limit=limit, offset=offset)


def user_list(*, connection: Connection, search: str = "", sort: str = "", permissions: list[str] | None = None,
              include_group_permissions: bool = False, limit: int = 25, offset: int = 0) -> RemotePage:
    """A page of users, filtered and sorted by the portal itself."""
    client = client_for(connection)
    perms = permissions or None
    page = client.user_list(search=search or None, sort=sort or None,
                            permissions=None if include_group_permissions else perms,
                            all_permissions=perms if include_group_permissions else None,
                            limit=limit, offset=offset)
    return _remote_page(page, limit=limit, offset=offset)


def user_get(*, connection: Connection, username: str) -> User:
    return client_for(connection).user_get(username)


def user_iter(*, connection: Connection) -> Iterator[User]:
    return client_for(connection).user_iter(page_size=1000)


def member_emails(*, connection: Connection) -> set[str]:
    """Every member's address, lower case: one walk of the portal's users (1,000 per request)."""
    return {(user.email or "").strip().lower() for user in user_iter(connection=connection) if user.email}


def user_export_rows(*, connection: Connection, delimiter: str = ",") -> Iterator[list[str]]:
    """The portal's user export as rows, read as they arrive. The request is sent now (a refusal raises here);
    the rows are parsed so that the export is rewritten through core.csvout (the portal's cells are not
    formula-safe) and redacted like every other string from a portal."""
    chunks = client_for(connection).user_export_csv(delimiter=delimiter)
    return ([redact(cell) for cell in row] for row in csv_reparse(chunks, delimiter=delimiter))


def group_list(*, connection: Connection, search: str = "", sort: str = "", limit: int = 25,
               offset: int = 0) -> RemotePage:
    page = client_for(connection).group_list(search=search or None, sort=sort or None, limit=limit, offset=offset)
    return _remote_page(page, limit=limit, offset=offset)


def group_all(*, connection: Connection) -> list[Group]:
    """Every group of the portal (for choices and for validating an invite list)."""
    groups = []
    for group in client_for(connection).group_iter(page_size=1000):
        groups.append(group)
        if len(groups) >= MAX_GROUPS_FOR_VALIDATION:
            break
    return sorted(groups, key=lambda g: (g.title or g.uid).lower())


def group_get(*, connection: Connection, group_uid: str) -> Group:
    return client_for(connection).group_get(group_uid)


def group_members(*, connection: Connection, group_uid: str) -> RemotePage:
    """The members the portal lists (this endpoint takes no limit/offset: `total` says if some are not shown)."""
    page = client_for(connection).group_member_list(group_uid)
    return _remote_page(page, limit=len(page.results), offset=0)
