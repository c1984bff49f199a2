"""People across portals: the one remote read of the fleet pages (parallel, bounded, per-portal errors)."""

from __future__ import annotations

from dataclasses import dataclass, field

from portaladmin.fleet.parallel import Outcome, fan_out
from portaladmin.portals.models import Connection, Role
from portaladmin.portals.permissions import connections_visible_to, role_for


# --- people across portals (remote, parallel and bounded) --------------------------------------------
@dataclass
class PersonMatch:
    username: str
    email: str
    name: str
    is_active: bool | None
    permissions: list[str]
    groups: list[dict]  # {"uid", "title"}
    last_seen_at: str | None


@dataclass
class PersonResult:
    connection: Connection
    role: Role | None
    matches: list[PersonMatch] = field(default_factory=list)
    error: str = ""

    @property
    def can_offboard(self) -> bool:
        return self.role == Role.ADMIN


def _matches(user, query: str) -> bool:
    q = query.strip().lower()
    return q in ((user.username or "").lower(), (user.email or "").lower())


def _lookup_one(query: str):
    def call(client) -> list[PersonMatch]:
        found = [u for u in client.user_list(search=query, limit=100) if _matches(u, query)]
        titles: dict[str, str] = {}
        if any(u.groups for u in found):
            try:
                titles = {g.uid: g.title for g in client.group_iter()}
            except Exception:  # noqa: BLE001 - titles are a nicety; uids still show
                titles = {}
        return [PersonMatch(username=u.username, email=u.email,
                            name=" ".join(p for p in (u.first_name, u.last_name) if p) or u.display_name,
                            is_active=u.is_active, permissions=sorted(u.permissions),
                            groups=[{"uid": g.get("uid", ""), "title": g.get("title") or titles.get(g.get("uid"), "")}
                                    for g in u.groups],
                            last_seen_at=u.last_seen_at) for u in found]
    return call


def person_lookup(*, user, query: str) -> list[PersonResult]:
    """Look a person up by e-mail or username on every visible connection at once (bounded, per-call timeout)."""
    connections = list(connections_visible_to(user).order_by("name", "pk"))
    outcomes: list[Outcome] = fan_out(connections, _lookup_one(query))
    return [PersonResult(connection=o.connection, role=role_for(user, o.connection), matches=o.value or [],
                         error=o.error) for o in outcomes]
