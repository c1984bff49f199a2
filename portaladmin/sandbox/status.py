"""Dataset and harvester status machines, computed lazily from stored timestamps.

An operation is stored as a start time and a list of phases `[[status, seconds], ...]` plus a final state.
Reading the status walks the phases against `clock.now()`; nothing runs in the background. The pseudo-phase
`__race__` shows the old settled status (the real API's read-after-publish race).
"""

import datetime as dt
import hashlib
import random

from . import clock
from .models import SandboxDataset, SandboxHarvester, SandboxPortal

RACE = "__race__"
ERROR_FLASH_SECONDS = 2.0  # fate error_then_idle: how long `error` shows before the dataset settles unpublished
FLASH_MESSAGE = "Processing failed: the source could not be read (sandbox fault error_then_idle)."
SETTLED = ("idle", "error", "limit_reached")
PROCESSING_SUBSTATES = "processing_all_dataset_data, processing_dataset, processing_resource_records"


class InvalidStatus(Exception):
    def __init__(self, error_code: str, message: str):
        super().__init__(message)
        self.error_code = error_code
        self.message = message


def _rng(*parts) -> random.Random:
    digest = hashlib.sha256(":".join(str(p) for p in parts).encode()).hexdigest()
    # Simulation draws (fault injection, durations), not secrets.
    return random.Random(int(digest[:16], 16))  # nosec B311


def _walk(op_at: dt.datetime, phases: list, at: dt.datetime):
    """Return (index of the current phase or None when finished, start of that phase or end time)."""
    t = op_at
    for i, (_name, secs) in enumerate(phases):
        end = t + dt.timedelta(seconds=float(secs))
        if at < end:
            return i, t
        t = end
    return None, t


# ---------------------------------------------------------------- datasets

def _settled(ds: SandboxDataset) -> dict:
    return {"status": ds.status, "previous": ds.previous or None, "next": None, "since": clock.iso(ds.since),
            "is_published": ds.is_published, "message": ds.message or None,
            "records_errors": list(ds.records_errors or []), "params": dict(ds.params or {})}


def dataset_status(ds: SandboxDataset, at: dt.datetime | None = None) -> dict:
    """The answer of GET /datasets/{uid}/status/ at time `at`."""
    at = at or clock.now()
    if not ds.op:
        return _settled(ds)
    phases = ds.op_phases
    idx, t = _walk(ds.op_at, phases, at)
    prev = ds.op_final.get("from") or ds.status
    names = [p[0] for p in phases]
    if idx is not None:
        if names[idx] == RACE:
            return _settled(ds)
        for name in names[:idx]:
            if name != RACE:
                prev = name
        following = [n for n in names[idx + 1:] if n != RACE]
        nxt = following[0] if following else ds.op_final["status"]
        return {"status": names[idx], "previous": prev, "next": nxt, "since": clock.iso(t),
                "is_published": ds.is_published, "message": FLASH_MESSAGE if names[idx] == "error" else None,
                "records_errors": [], "params": {}}
    final = ds.op_final
    last = [n for n in names if n != RACE]
    return {"status": final["status"], "previous": last[-1] if last else prev, "next": None,
            "since": clock.iso(t), "is_published": final["is_published"], "message": final.get("message"),
            "records_errors": final.get("records_errors", []), "params": final.get("params", {})}


def dataset_is_published(ds: SandboxDataset, at: dt.datetime) -> bool:
    if not ds.op:
        return ds.is_published
    idx, _t = _walk(ds.op_at, ds.op_phases, at)
    return ds.is_published if idx is not None else ds.op_final["is_published"]


def dataset_processed_at(ds: SandboxDataset, at: dt.datetime) -> dt.datetime | None:
    """When the dataset's last order ended (its processing, deleting or aborting), as of `at`; None if never."""
    if ds.op:
        idx, end = _walk(ds.op_at, ds.op_phases, at)
        if idx is None:
            return end
    return ds.processed_at


def _internal_status(ds: SandboxDataset, at: dt.datetime) -> str:
    """Like dataset_status but without the race: an order already received reads as queued."""
    if not ds.op:
        return ds.status
    idx, _t = _walk(ds.op_at, ds.op_phases, at)
    if idx is None:
        return ds.op_final["status"]
    name = ds.op_phases[idx][0]
    return "queued" if name == RACE else name


def dataset_settle(ds: SandboxDataset, at: dt.datetime) -> bool:
    """Fold a finished operation into the settled columns. Returns True when the row changed (caller saves)."""
    if not ds.op:
        return False
    idx, t = _walk(ds.op_at, ds.op_phases, at)
    if idx is not None:
        return False
    final = ds.op_final
    last = [p[0] for p in ds.op_phases if p[0] != RACE]
    ds.status = final["status"]
    ds.previous = last[-1] if last else ds.status
    ds.since = t
    ds.is_published = final["is_published"]
    ds.message = final.get("message") or ""
    ds.records_errors = final.get("records_errors", [])
    ds.params = final.get("params", {})
    ds.processed_at = t
    ds.op, ds.op_at, ds.op_phases, ds.op_final = "", None, [], {}
    return True


SETTLED_FIELDS = ("status", "previous", "since", "is_published", "message", "records_errors", "params", "op", "op_at",
                  "op_phases", "op_final", "processed_at")


def dataset_settle_and_store(ds: SandboxDataset, at: dt.datetime) -> None:
    """Settle a finished operation and store it, unless another request changed the operation meanwhile."""
    op_at = ds.op_at
    if dataset_settle(ds, at):
        SandboxDataset.objects.filter(pk=ds.pk, op_at=op_at).update(**{f: getattr(ds, f) for f in SETTLED_FIELDS})


def processing_seconds(portal: SandboxPortal, ds: SandboxDataset, at: dt.datetime) -> float:
    if ds.processing_seconds is not None:
        return float(ds.processing_seconds)
    low, high = portal.processing_seconds_min, max(portal.processing_seconds_min, portal.processing_seconds_max)
    return _rng(portal.seed, ds.uid, at.timestamp()).uniform(low, high)


def _fate_final(ds: SandboxDataset) -> dict:
    if ds.fate == "error":
        return {"status": "error", "is_published": ds.is_published,
                "message": "Processing failed: 3 records could not be processed "
                           "(invalid value for field 'population')",
                "records_errors": [
                    {"record_id": f"{ds.uid}-{n}", "field_uid": "population", "processor_uid": "pr_sandbox",
                     "message": f"Could not convert value 'n/a{n}' to type int"} for n in range(3)],
                "params": {}}
    if ds.fate == "limit_reached":
        return {"status": "limit_reached", "is_published": True, "message": None, "records_errors": [],
                "params": {"error": {"limit_type": "records", "limit": 100000, "value": 100000}}}
    return {"status": "idle", "is_published": True, "message": None, "records_errors": [], "params": {}}


def _require(ds: SandboxDataset, at: dt.datetime, allowed: tuple[str, ...] | str, label: str | None = None):
    current = _internal_status(ds, at)
    allowed_set = (allowed,) if isinstance(allowed, str) else allowed
    if current not in allowed_set:
        raise InvalidStatus("invalid_dataset_status",
                            f"Invalid precondition, dataset status is '{current}' but must be one of "
                            f"'{label or ', '.join(allowed_set)}'")


def dataset_start(portal: SandboxPortal, ds: SandboxDataset, op: str, at: dt.datetime | None = None) -> None:
    """Start publish / unpublish / publish_metadata / abort on `ds` (caller saves). Raises InvalidStatus."""
    at = at or clock.now()
    dataset_settle(ds, at)
    if op == "abort":
        _require(ds, at, "processing", PROCESSING_SUBSTATES)
        ds.op, ds.op_at = "abort", at
        ds.op_phases = [["aborting_processing", portal.aborting_seconds]]
        ds.op_final = {"status": "idle", "is_published": ds.is_published, "from": "processing"}
        return
    _require(ds, at, SETTLED)
    queue = portal.queue_seconds
    if op == "publish":
        phases = [[RACE, portal.publish_race_seconds], ["queued", queue],
                  ["processing", processing_seconds(portal, ds, at)]]
        final = _fate_final(ds)
        if ds.fate == "error_then_idle":
            phases.append(["error", ERROR_FLASH_SECONDS])
            final = {"status": "idle", "is_published": False, "message": None, "records_errors": [], "params": {}}
    elif op == "publish_metadata":
        phases = [[RACE, portal.publish_race_seconds], ["queued", queue],
                  ["processing", min(processing_seconds(portal, ds, at), 1.0)]]
        final = {"status": "idle", "is_published": ds.is_published}
    elif op == "unpublish":
        phases = [["queued", queue], ["deleting", portal.deleting_seconds]]
        final = {"status": "idle", "is_published": False}
    else:
        raise ValueError(op)
    ds.op, ds.op_at, ds.op_phases, ds.op_final = op, at, phases, final


# ---------------------------------------------------------------- harvesters

def harvester_status(hv: SandboxHarvester, at: dt.datetime) -> str:
    if not hv.run_at:
        return hv.status
    idx, _t = _walk(hv.run_at, hv.run_phases, at)
    return hv.run_phases[idx][0] if idx is not None else "idle"


def harvester_transition(portal: SandboxPortal, hv: SandboxHarvester, action: str, at: dt.datetime) -> None:
    current = harvester_status(hv, at)
    if action == "start":
        if current not in ("idle", "new"):
            raise InvalidStatus("invalid_harvester_status", f"Invalid transition from {current} to processing")
        hv.run_at, hv.run_kind = at, "start"
        hv.run_phases = [["queued", portal.queue_seconds], ["processing", portal.harvest_seconds]]
        hv.counters = {**hv.counters, "last_started_at": clock.iso(at)}
    elif action == "abort":
        if current not in ("queued", "processing"):
            raise InvalidStatus("invalid_harvester_status", f"Invalid transition from {current} to aborting")
        hv.run_at, hv.run_kind = at, "abort"
        hv.run_phases = [["aborting", portal.aborting_seconds]]
    else:
        raise ValueError(action)


def harvester_finished(hv: SandboxHarvester, at: dt.datetime) -> tuple[bool, dt.datetime | None]:
    if not hv.run_at:
        return False, None
    idx, end = _walk(hv.run_at, hv.run_phases, at)
    return idx is None, end
