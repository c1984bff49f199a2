"""The drift board of one source and one or several targets, from the local catalogues (no portal call).

Datasets are matched by dataset_id. "Differs" means one of the catalogue's fields differs (title, description,
keywords, publisher, licence, language, theme, restricted, published, data modified): the catalogue does not hold
resources, processors or rulesets, so a dataset listed as the same may still differ there — the full diff is
one click away (Compare). Both catalogues are as fresh as their last sync (shown).

With several targets there is one row per dataset_id and one cell per target (`FleetRow`): the row is listed
under every state one of its cells has ("differs on a target", "missing on a target" …); "the same" means the
same on every target.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from portaladmin.datasets.models import DatasetSnapshot

FIELDS = ("title", "description", "keywords", "publisher", "license", "language", "theme", "is_restricted",
          "is_published", "modified")
DIFFERS, ONLY_SOURCE, ONLY_TARGET, SAME = "differs", "only_source", "only_target", "same"


@dataclass
class DriftRow:
    dataset_id: str
    status: str
    source_uid: str = ""
    target_uid: str = ""
    fields: list[str] = field(default_factory=list)


def drift_rows(source_rows: dict[str, dict], target_rows: dict[str, dict]) -> list[DriftRow]:
    """Pure: {dataset_id: {uid, <FIELDS>}} on each side → one row per dataset_id, sorted."""
    rows = []
    for dataset_id in sorted(set(source_rows) | set(target_rows)):
        one, other = source_rows.get(dataset_id), target_rows.get(dataset_id)
        if other is None:
            rows.append(DriftRow(dataset_id, ONLY_SOURCE, source_uid=one["uid"]))
        elif one is None:
            rows.append(DriftRow(dataset_id, ONLY_TARGET, target_uid=other["uid"]))
        else:
            changed = [name for name in FIELDS if one.get(name) != other.get(name)]
            rows.append(DriftRow(dataset_id, DIFFERS if changed else SAME, one["uid"], other["uid"], changed))
    return rows


def _catalogue(connection) -> dict[str, dict]:
    return {row["dataset_id"]: row for row in
            DatasetSnapshot.objects.filter(connection=connection).values("uid", "dataset_id", *FIELDS)}


@dataclass
class FleetRow:
    """One dataset_id across the source and every target: `cells` is [(target, DriftRow or None)] in the targets'
    order (None: neither the source nor this target has it)."""

    dataset_id: str
    source_uid: str
    cells: list[tuple[object, DriftRow | None]]

    @property
    def statuses(self) -> set[str]:
        return {row.status for _, row in self.cells if row is not None}

    @property
    def status(self) -> str:
        """The row's most telling state (for the row's data-status): differs, then missing, then only there."""
        return next((s for s in (DIFFERS, ONLY_SOURCE, ONLY_TARGET) if s in self.statuses), SAME)

    def shown_under(self, show: str) -> bool:
        if show == "all":
            return True
        if show == SAME:
            return self.statuses == {SAME}
        return show in self.statuses


def drift_fleet(*, source, targets) -> list[FleetRow]:
    """Each target compared with the source (one catalogue read per connection), joined by dataset_id."""
    mine = _catalogue(source)
    per_target = [(t, {r.dataset_id: r for r in drift_rows(mine, _catalogue(t))}) for t in targets]
    ids = sorted(set(mine).union(*(set(rows) for _, rows in per_target)))
    return [FleetRow(dataset_id, mine.get(dataset_id, {}).get("uid", ""),
                     [(t, rows.get(dataset_id)) for t, rows in per_target]) for dataset_id in ids]


def fleet_counts(rows: list[FleetRow]) -> dict[str, int]:
    return {status: sum(r.shown_under(status) for r in rows) for status in (DIFFERS, ONLY_SOURCE, ONLY_TARGET, SAME)}
