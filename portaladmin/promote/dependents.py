"""Which studio and code editor pages reference a dataset, on every connection a person can see.

Asked before unpublishing or deleting a dataset (the dataset's overview shows it next to those buttons).
A page references the dataset when its content (any language, any version) names its dataset_id or its uid as a
whole token ("roads" does not match "roads-2026"). Pages are read from each portal's list (contents included),
portals in parallel; a portal that cannot be read is reported, not silently skipped.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field

from django.urls import reverse

from portaladmin.portals.permissions import connections_visible_to


@dataclass
class Dependent:
    connection: object
    kind: str  # "studio" | "code"
    key: str  # studio page uid / code page slug
    title: str

    @property
    def url(self) -> str:
        if self.kind == "studio":
            return reverse("pages:studio-detail", kwargs={"conn": self.connection.slug, "uid": self.key})
        return reverse("pages:code-detail", kwargs={"conn": self.connection.slug, "slug": self.key})


@dataclass
class Dependents:
    pages: list[Dependent] = field(default_factory=list)
    unreadable: list[tuple[object, str]] = field(default_factory=list)  # (connection, why)


def references(text: str, names: list[str]) -> bool:
    return any(re.search(rf"(?<![\w-]){re.escape(name)}(?![\w-])", text) for name in names if name)


def _text(raw: dict) -> str:
    return json.dumps(raw, ensure_ascii=False, default=str)


def _matching_pages(client, names: list[str]) -> list[tuple[str, str, str]]:
    """(kind, key, title) of the pages of one portal that reference one of `names` (runs in a fan-out thread)."""
    found = []
    for page in client.studio_page_iter():
        if references(_text(page.raw), names):
            title = next((c.get("title") for c in page.contents if isinstance(c, dict) and c.get("title")), page.slug)
            found.append(("studio", page.uid, str(title)))
    for page in client.code_page_iter():
        if references(_text(page.raw), names):
            title = next(iter(page.title.values()), "") if page.title else ""
            found.append(("code", page.slug, str(title or page.slug)))
    return found


def dataset_dependents(*, user, dataset_id: str, uid: str = "") -> Dependents:
    """Every visible connection's pages are read in parallel (fleet.parallel: bounded threads and time)."""
    from portaladmin.fleet.parallel import fan_out

    names = [dataset_id, uid]
    found = Dependents()
    for outcome in fan_out(list(connections_visible_to(user).order_by("name")),
                           lambda client: _matching_pages(client, names)):
        if outcome.error:
            found.unreadable.append((outcome.connection, outcome.error))
        else:
            found.pages.extend(Dependent(outcome.connection, *row) for row in outcome.value)
    return found
