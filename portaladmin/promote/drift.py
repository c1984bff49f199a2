"""The drift board for a pair of connections, from the local catalogues (no portal call).

Datasets are matched by dataset_id. "Differs" means one of the catalogue's fields differs (title, description,
keywords, publisher, licence, language, theme, restricted, published, data modified): the catalogue does not hold
resources, processors or rulesets, so a dataset listed as the same may still differ there — the full diff is
one click away (Compare). Both catalogues are as fresh as their last sync (shown).
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


def drift_board(*, source, target) -> list[DriftRow]:
    return drift_rows(_catalogue(source), _catalogue(target))


def drift_counts(rows: list[DriftRow]) -> dict[str, int]:
    counts = {DIFFERS: 0, ONLY_SOURCE: 0, ONLY_TARGET: 0, SAME: 0}
    for row in rows:
        counts[row.status] += 1
    return counts
