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


def _tokens(raw: dict) -> set[str]:
    """The whole tokens of a page's JSON: a dataset_id or uid ([\\w-]+) is referenced when it is one of them (the
    same rule as references(), computed once per page so many datasets can be checked at once)."""
    return set(re.findall(r"[\w-]+", _text(raw)))


def _matching_pages(client, names: set[str]) -> list[tuple[str, str, str, list[str]]]:
    """(kind, key, title, names it references) of the pages of one portal that reference one of `names`
    (runs in a fan-out thread)."""
    found = []
    for page in client.studio_page_iter():
        hits = sorted(names & _tokens(page.raw))
        if hits:
            title = next((c.get("title") for c in page.contents if isinstance(c, dict) and c.get("title")), page.slug)
            found.append(("studio", page.uid, str(title), hits))
    for page in client.code_page_iter():
        hits = sorted(names & _tokens(page.raw))
        if hits:
            title = next(iter(page.title.values()), "") if page.title else ""
            found.append(("code", page.slug, str(title or page.slug), hits))
    return found


def pages_referencing(*, user, datasets: list[tuple[str, str]]) -> tuple[dict[str, list[Dependent]], list]:
    """For several datasets at once ([(dataset_id, uid)], e.g. a bulk delete): {dataset_id: [Dependent]} (only the
    referenced ones) and the connections whose pages could not be read. Every visible connection's pages are read
    once, in parallel (fleet.parallel: bounded threads and time)."""
    from portaladmin.fleet.parallel import fan_out

    owner = {}
    for dataset_id, uid in datasets:
        for name in (dataset_id, uid):
            if name:
                owner.setdefault(name, dataset_id)
    by_dataset: dict[str, list[Dependent]] = {}
    unreadable = []
    if not owner:
        return by_dataset, unreadable
    for outcome in fan_out(list(connections_visible_to(user).order_by("name")),
                           lambda client: _matching_pages(client, set(owner))):
        if outcome.error:
            unreadable.append((outcome.connection, outcome.error))
            continue
        for kind, key, title, hits in outcome.value:
            for dataset_id in dict.fromkeys(owner[h] for h in hits):
                by_dataset.setdefault(dataset_id, []).append(Dependent(outcome.connection, kind, key, title))
    return by_dataset, unreadable


def dataset_dependents(*, user, dataset_id: str, uid: str = "") -> Dependents:
    """The pages referencing one dataset, on every connection the person can see."""
    by_dataset, unreadable = pages_referencing(user=user, datasets=[(dataset_id or uid, uid)])
    return Dependents(pages=by_dataset.get(dataset_id or uid, []), unreadable=unreadable)


def confirm_text(pages: list[Dependent]) -> str:
    """What a confirmation says: "2 pages reference this dataset: Roads map (Prod), Home (Stage)." ('' if none)."""
    if not pages:
        return ""
    names = ", ".join(f"{p.title} ({p.connection.name})" for p in pages)
    return f"{len(pages)} page{'s' if len(pages) != 1 else ''} reference{'' if len(pages) != 1 else 's'} " \
           f"this dataset: {names}."
