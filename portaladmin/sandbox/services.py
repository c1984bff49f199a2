"""Sandbox services: seed a portal, set faults, read and reset the request log, settle harvester runs.

See README.md in this package for how tests and benchmarks use these.
"""

import datetime as dt
import random
import secrets
import string

from django.db import transaction
from django.db.models import Sum

from portaladmin.core.crypto import decrypt_secret, encrypt_secret

from . import clock
from .models import (
    SandboxDataset,
    SandboxHarvester,
    SandboxObject,
    SandboxPortal,
    SandboxRequestCount,
    hash_key,
)

FAULT_FIELDS = ("latency_ms", "error_rate", "throttle_rate", "retry_after", "seed", "publish_race_seconds",
                "queue_seconds", "processing_seconds_min", "processing_seconds_max", "deleting_seconds",
                "aborting_seconds", "harvest_seconds", "clock_offset_seconds", "whole_second_since",
                "latency_jitter_ms", "lost_answer_rate", "inflated_total_count", "processing_moves_updated_at")
ERROR_EVERY, LIMIT_EVERY = 17, 23
FATES = ("ok", "error", "limit_reached", "error_then_idle")

THEMES = ["Transport", "Environment", "Health", "Culture", "Economy", "Education", "Housing", "Energy", "Tourism",
          "Population", "Administration", "Agriculture"]
SUBJECTS = ["bus stops", "air quality", "bike counters", "parking occupancy", "public toilets", "trees",
            "school canteens", "museum visits", "electricity consumption", "building permits", "road works",
            "recycling points", "library loans", "water quality", "noise levels", "EV charging stations",
            "pharmacies", "playgrounds", "budget", "elections results", "population census", "traffic counts",
            "hotel capacity", "markets", "sports facilities", "wifi hotspots", "cycle lanes", "flood zones"]
PLACES = ["city centre", "metropolitan area", "north district", "harbour", "department", "region", "old town",
          "university campus"]
PUBLISHERS = ["City Council", "Metropole Data Office", "Regional Transport Authority", "Environment Agency",
              "Health Observatory", "Statistics Office", "Tourism Board", "Energy Utility"]
LICENSES = ["odbl", "etalab-2.0", "cc-by-4.0", "cc0-1.0", "cc-by-sa-4.0"]
FIRST = ["Louise", "Hugo", "Chloé", "Lucas", "Emma", "Nathan", "Léa", "Jules", "Manon", "Louis", "Camille",
         "Arthur", "Sarah", "Paul", "Inès", "Tom", "Alice", "Noah", "Julia", "Adam"]
LAST = ["Martin", "Bernard", "Dubois", "Thomas", "Robert", "Richard", "Petit", "Durand", "Leroy", "Moreau",
        "Simon", "Laurent", "Lefebvre", "Michel", "Garcia", "David", "Bertrand", "Roux"]
GROUPS = [("content_designers", "Content Designers", ["create_page", "edit_page"]),
          ("data_publishers", "Data Publishers", ["create_dataset", "edit_dataset", "publish_dataset"]),
          ("analysts", "Analysts", ["explore_restricted_dataset", "explore_monitoring"]),
          ("dataset_managers", "Dataset Managers", ["edit_dataset", "manage_dataset"]),
          ("theme_editors", "Theme Editors", ["edit_theme"]),
          ("form_editors", "Form Editors", ["edit_form"]),
          ("reuse_moderators", "Reuse Moderators", ["edit_reuse"]),
          ("partners", "Partners", ["explore_restricted_dataset"])]
USER_PERMS = ["create_dataset", "edit_dataset", "publish_dataset", "manage_dataset", "explore_restricted_dataset",
              "create_page", "edit_page"]
HARVESTER_TYPES = [("ckan", "https://demo.ckan.org/api/3"), ("ods", "https://data.opendatasoft.com"),
                   ("socrata", "https://data.cityofnewyork.us"), ("csw", "https://geo.example.org/csw"),
                   ("datajson", "https://catalog.example.gov/data.json")]


# ---------------------------------------------------------------- faults and log

def set_faults(name: str, **settings) -> SandboxPortal:
    """Set fault-injection or timing fields of a portal (see FAULT_FIELDS); resets its RNG counter."""
    unknown = set(settings) - set(FAULT_FIELDS)
    if unknown:
        raise TypeError(f"unknown sandbox settings: {sorted(unknown)}")
    portal = SandboxPortal.objects.get(name=name)
    for key, value in settings.items():
        setattr(portal, key, value)
    portal.request_counter = 0
    portal.save()
    return portal


def request_counts(portal: str | SandboxPortal, method: str | None = None, path_contains: str | None = None,
                   status: int | None = None) -> int:
    qs = SandboxRequestCount.objects.filter(portal=str(portal))
    if method:
        qs = qs.filter(method=method.upper())
    if path_contains:
        qs = qs.filter(path__contains=path_contains)
    if status is not None:
        qs = qs.filter(status=status)
    return qs.aggregate(total=Sum("count"))["total"] or 0


def request_log(portal: str | SandboxPortal) -> list[dict]:
    return list(SandboxRequestCount.objects.filter(portal=str(portal)).order_by("path", "method", "status")
                .values("method", "path", "status", "count"))


def reset_request_log(portal: str | SandboxPortal | None = None) -> None:
    qs = SandboxRequestCount.objects.all()
    if portal is not None:
        qs = qs.filter(portal=str(portal))
    qs.delete()


def portal_api_key(portal: SandboxPortal) -> str | None:
    try:
        return decrypt_secret(portal.api_key_encrypted) if portal.api_key_encrypted else None
    except Exception:  # noqa: BLE001 - a key encrypted under a rotated-out key: just not printable
        return None


def set_dataset_behaviour(portal: str | SandboxPortal, uid: str, *, fate: str | None = None,
                          processing_seconds: float | None = None) -> SandboxDataset:
    """Make one dataset's next publishes end in `fate` (ok, error, limit_reached, error_then_idle: `error` shown
    for a moment, then `idle` with the dataset NOT published) and/or take `processing_seconds` (overrides the
    portal's random range)."""
    if fate is not None and fate not in FATES:
        raise ValueError(f"unknown fate {fate!r}")
    ds = SandboxDataset.objects.get(portal__name=str(portal), uid=uid)
    if fate is not None:
        ds.fate = fate
    if processing_seconds is not None:
        ds.processing_seconds = processing_seconds
    ds.save(update_fields=["fate", "processing_seconds"])
    return ds


def portal_datasets_with_fate(portal: str | SandboxPortal, fate: str) -> list[str]:
    """uids of the seeded datasets whose next publish ends in `fate` (ok, error, limit_reached)."""
    return list(SandboxDataset.objects.filter(portal__name=str(portal), fate=fate).order_by("id")
                .values_list("uid", flat=True))


# ---------------------------------------------------------------- harvester runs

def _harvest(portal: SandboxPortal, hv: SandboxHarvester, end: dt.datetime) -> None:
    """Materialise a finished run: create or update the attached datasets, counters and errors."""
    stamp = clock.iso(end)
    ok_count = hv.remote_count - (2 if hv.fails else 0)
    existing = {ds.dataset_id: ds for ds in SandboxDataset.objects.filter(portal=portal, harvester_uid=hv.uid)}
    name = hv.data.get("name", hv.uid)
    new = []
    for n in range(1, ok_count + 1):
        dataset_id = f"{hv.uid}-{n}"
        if dataset_id in existing:
            ds = existing[dataset_id]
            ds.data = {**ds.data, "updated_at": stamp}
            ds.save(update_fields=["data"])
            continue
        metadata = _metadata(f"{name} — remote dataset {n}", ["harvested"], PUBLISHERS[n % len(PUBLISHERS)],
                             LICENSES[n % len(LICENSES)], THEMES[n % len(THEMES)], end)
        new.append(SandboxDataset(portal=portal, uid=_uid("da"), dataset_id=dataset_id, since=end,
                                  harvester_uid=hv.uid,
                                  data={"created_at": stamp, "updated_at": stamp,
                                        "is_restricted": bool(hv.data.get("restrict_datasets_visibility")),
                                        "metadata": metadata}))
    SandboxDataset.objects.bulk_create(new)
    counters = {**hv.counters, "remote": hv.remote_count, "harvested": ok_count, "has_error": hv.fails,
                "resource_errors": 2 if hv.fails else 0}
    if hv.fails:
        hv.errors = {"harvester": "A fatal error occurred while harvesting: the remote catalogue answered "
                                  "HTTP 500 after 2 datasets could not be read.",
                     "resources": {f"{hv.uid}-remote-{ok_count + k}": "Could not harvest the dataset: "
                                   "HTTP 404 on the remote resource." for k in (1, 2)}}
    else:
        hv.errors = {"harvester": None, "resources": {}}
        counters["last_success_at"] = stamp
    hv.counters = counters


def harvesters_settle(portal: SandboxPortal, at: dt.datetime) -> None:
    """Finish harvester runs whose time is up (called at the start of every sandbox API request)."""
    from .status import harvester_finished

    for hv in SandboxHarvester.objects.filter(portal=portal, run_at__isnull=False):
        done, end = harvester_finished(hv, at)
        if not done:
            continue
        with transaction.atomic():
            claimed = SandboxHarvester.objects.filter(pk=hv.pk, run_at=hv.run_at).update(
                status="idle", run_at=None, run_kind="", run_phases=[])
            if not claimed:  # another request settled it first
                continue
            if hv.run_kind == "start":
                _harvest(portal, hv, end)
                SandboxHarvester.objects.filter(pk=hv.pk).update(counters=hv.counters, errors=hv.errors)


# ---------------------------------------------------------------- seeding

_ALPHABET = string.ascii_lowercase + string.digits
_SYSTEM_RNG = random.SystemRandom()


def _uid(prefix: str) -> str:
    return prefix + "_" + "".join(_SYSTEM_RNG.choice(_ALPHABET) for _ in range(6))


def _missing(count: int, existing: set[str], key_of) -> list[int]:
    """Indexes n (0, 1, …) whose key_of(n) is not in `existing`, enough to bring the total up to `count`.

    Seeding is idempotent and tops up: objects deleted since the last run leave gaps that are filled by
    later indexes, never by a key that is still there."""
    wanted = count - len(existing)
    found, n = [], 0
    while len(found) < wanted and n < count * 4 + 100:
        if key_of(n) not in existing:
            found.append(n)
        n += 1
    return found


def _item_rng(portal, kind: str, n: int) -> random.Random:
    return random.Random(f"{portal.name}:{portal.seed}:{kind}:{n}")  # noqa: S311  # nosec B311


def _metadata(title, keywords, publisher, license_id, theme, modified):
    return {
        "default": {"title": {"value": title}, "description": {"value": f"<p>{title}: open data.</p>"},
                    "keyword": {"value": keywords}, "modified": {"value": clock.iso(modified)},
                    "language": {"value": "fr" if len(title) % 3 == 0 else "en"},
                    "publisher": {"value": publisher}, "references": {"value": "https://example.org/data"}},
        "internal": {"license_id": {"value": license_id}, "theme_id": {"value": [theme]}},
    }


def _template_field(name, type_, label, required="optional", choices=None):
    return {"name": name, "type": type_, "label": label, "help_text": None, "is_hidden": False,
            "self_suggest": type_ in ("list", "text"), "is_filter": type_ in ("list", "enum"), "i18n": False,
            "suggest_url": None, "choices": choices, "labels": None, "requirement_level": required}


LANGUAGES = ["en", "fr", "nl", "pt", "it", "ar", "de", "es", "ca", "eu", "sv"]
FREQUENCIES = ["http://publications.europa.eu/resource/authority/frequency/DAILY",
               "http://publications.europa.eu/resource/authority/frequency/WEEKLY",
               "http://publications.europa.eu/resource/authority/frequency/MONTHLY",
               "http://publications.europa.eu/resource/authority/frequency/ANNUAL",
               "http://publications.europa.eu/resource/authority/frequency/IRREG"]
INSPIRE_THEMES = ["Addresses", "Administrative units", "Cadastral parcels", "Hydrography", "Transport networks",
                  "Land cover", "Land use", "Buildings", "Environmental monitoring facilities", "Population "
                  "distribution — demography", "Utility and governmental services", "Natural risk zones"]
TOPIC_CATEGORIES = ["farming", "biota", "boundaries", "climatologyMeteorologyAtmosphere", "economy", "elevation",
                    "environment", "geoscientificInformation", "health", "imageryBaseMapsEarthCover",
                    "inlandWaters", "location", "planningCadastre", "society", "structure", "transportation",
                    "utilitiesCommunication"]
F = _template_field

# The built-in templates with the field types a real portal serves (Opendatasoft's documentation of the default,
# DCAT, DCAT-AP and INSPIRE templates); the editor types its inputs from these definitions.
TEMPLATES = [
    ("default", "Standard metadata", "basic", True, [
        F("title", "text", "Title", "mandatory"), F("description", "html", "Description", "recommended"),
        F("theme", "enumlist", "Themes", "recommended", THEMES), F("keyword", "list", "Keywords"),
        F("license", "text", "License"), F("language", "enum", "Language", "mandatory", LANGUAGES),
        F("timezone", "text", "Timezone"), F("modified", "datetime", "Modified", "mandatory"),
        F("modified_updates_on_metadata_change", "boolean", "Update the modified date on metadata changes"),
        F("modified_updates_on_data_change", "boolean", "Update the modified date on data changes"),
        F("data_processed", "datetime", "Data processed"), F("metadata_processed", "datetime", "Metadata processed"),
        F("geographic_reference", "list", "Geographic coverage"),
        F("geographic_reference_auto", "boolean", "Compute the geographic coverage"),
        F("territory", "list", "Territories"), F("bbox", "geo_shape", "Bounding box"),
        F("publisher", "text", "Publisher", "recommended"), F("references", "text", "References"),
        F("attributions", "list", "Attributions"), F("records_count", "int", "Records")]),
    ("internal", "Internal", "admin", True, [
        F("license_id", "enum", "License", "recommended", LICENSES),
        F("theme_id", "enumlist", "Themes", "optional", THEMES),
        F("draft", "boolean", "Draft")]),
    ("visualization", "Visualization", "extra", True, [
        F("map_disabled", "boolean", "Disable map"), F("analyze_disabled", "boolean", "Disable analyze"),
        F("table_fields", "list", "Fields in the table"), F("map_marker_color", "text", "Marker color")]),
    ("asset_content_configuration", "Asset content configuration", "extra", True, [
        F("facets", "list", "Facets")]),
    ("dcat", "DCAT", "interop", False, [
        F("created", "date", "Created"), F("issued", "datetime", "Issued"), F("creator", "text", "Creator"),
        F("contributor", "text", "Contributor"), F("contact_name", "text", "Contact name", "recommended"),
        F("contact_email", "text", "Contact e-mail", "recommended"),
        F("accrualperiodicity", "uri_enum", "Update frequency", "optional", FREQUENCIES),
        F("spatial", "list", "Spatial coverage"), F("temporal", "text", "Temporal coverage"),
        F("granularity", "text", "Spatial resolution"), F("dataquality", "html", "Data quality"),
        F("conforms_to", "list", "Conforms to"), F("temporal_coverage_start", "date", "Coverage start"),
        F("temporal_coverage_end", "date", "Coverage end"), F("spatial_resolution_in_meters", "double",
                                                                "Spatial resolution (m)")]),
    ("inspire", "INSPIRE", "interop", False, [
        F("theme", "enumlist", "INSPIRE themes", "mandatory", INSPIRE_THEMES),
        F("type", "enum", "Resource type", "mandatory", ["dataset", "series", "service"]),
        F("file_identifier", "text", "File identifier"),
        F("topic_category", "enumlist", "Topic categories", "recommended", TOPIC_CATEGORIES),
        F("contact_individual_name", "text", "Contact name"), F("contact_email", "text", "Contact e-mail"),
        F("contact_phone", "text", "Contact phone"), F("lineage", "longstring", "Lineage"),
        F("spatial_resolution", "int", "Spatial resolution (scale denominator)"),
        F("extent", "geo_area", "Geographic extent"), F("reference_date", "date", "Reference date")]),
]


def _wipe(portal: SandboxPortal) -> None:
    SandboxObject.objects.filter(portal=portal).delete()
    SandboxDataset.objects.filter(portal=portal).delete()
    SandboxHarvester.objects.filter(portal=portal).delete()
    reset_request_log(portal.name)


def seed_portal(name: str, *, datasets: int = 20, users: int = 8, groups: int = 3, harvesters: int = 2,
                pages: int = 4, api_key: str | None = None, reset: bool = False, latency_ms: int | None = None,
                error_rate: float | None = None, throttle_rate: float | None = None,
                processing_seconds: tuple[float, float] | None = None, seed: int | None = None,
                **timings) -> tuple[SandboxPortal, str | None]:
    """Create or refresh sandbox portal `name`. Returns (portal, api_key).

    Without `reset`, existing objects are kept and only missing ones are added up to the requested counts
    (running it twice changes nothing). With `reset`, the portal's objects and request log are wiped first.
    The key is `api_key` when given, else the stored one, else a new random one.
    """
    now = clock.now()
    with transaction.atomic():
        portal = SandboxPortal.objects.filter(name=name).first()
        if portal is None:
            portal = SandboxPortal(name=name, api_key_hash="")
        elif reset:
            _wipe(portal)
        key = (api_key or portal_api_key(portal)) if portal.pk else api_key
        key = key or "sbx-" + secrets.token_urlsafe(24)
        portal.api_key_hash = hash_key(key)
        portal.api_key_encrypted = encrypt_secret(key)
        portal.key_hint = key[-4:]
        overrides = {"latency_ms": latency_ms, "error_rate": error_rate, "throttle_rate": throttle_rate,
                     "seed": seed, **timings}
        if processing_seconds:
            overrides["processing_seconds_min"], overrides["processing_seconds_max"] = processing_seconds
        for field, value in overrides.items():
            if field not in FAULT_FIELDS:
                raise TypeError(f"unknown sandbox setting {field!r}")
            if value is not None:
                setattr(portal, field, value)
        portal.request_counter = 0
        portal.save()
        _seed_templates(portal, now)
        _seed_apikey(portal, key, now)
        _seed_users(portal, users, now)
        _seed_groups(portal, groups, now)
        _seed_datasets(portal, datasets, now)
        _seed_harvesters(portal, harvesters, now)
        _seed_pages(portal, pages, now)
        _seed_misc(portal, now)
    return portal, key


def _seed_templates(portal, now):
    """The built-in templates; a portal seeded by an older version gets the current definitions (they are the
    portal's own, not the user's: custom templates are never touched)."""
    have = {o.key: o for o in SandboxObject.objects.filter(portal=portal, kind="template")}
    stamp = clock.iso(now)
    rows = []
    for name, title, type_, system, schema in TEMPLATES:
        existing = have.get(name)
        if existing is not None:
            if (existing.data.get("is_system") or type_ == "interop") and existing.data.get("schema") != schema:
                existing.data = {**existing.data, "title": title, "schema": schema}
                existing.save(update_fields=["data"])
            continue
        rows.append(SandboxObject(portal=portal, kind="template", key=name, data={
            "name": name, "title": title, "type": type_, "is_active": True,
            "is_always_active": system and name == "default", "is_system": system and type_ != "interop",
            "schema": schema, "created_at": stamp, "updated_at": stamp,
            "created_by": {"username": "opendatasoft"}, "updated_by": {"username": "opendatasoft"}}))
    SandboxObject.objects.bulk_create(rows)


def _seed_apikey(portal, key, now):
    from .handlers.misc import apikey_data

    hashed = hash_key(key)
    mine = [o for o in SandboxObject.objects.filter(portal=portal, kind="apikey")
            if o.data.get("label") == "portaladmin (sandbox seed)"]
    if mine:
        obj = mine[0]
        obj.data = {**obj.data, "_key_hash": hashed, "is_revoked": False,
                    "revocation_status": {"revoked_at": None, "revocation_reason": ""}}
        obj.save(update_fields=["data"])
        return
    uid = _uid("ak")
    SandboxObject.objects.create(portal=portal, kind="apikey", key=uid, data=apikey_data(
        uid, "portaladmin (sandbox seed)", key, permissions=["edit_domain", "create_dataset", "edit_dataset",
                                                              "publish_dataset", "manage_dataset"], at=now,
        by="admin"))


def _username(n: int) -> str:
    if n == 0:
        return "admin"
    first, last = FIRST[n % len(FIRST)], LAST[(n * 7) % len(LAST)]
    return f"{first.lower().replace('é', 'e').replace('è', 'e')}.{last.lower()}{n}"


def _seed_users(portal, count, now):
    from .handlers.people import PERMISSIONS, user_data

    existing = set(SandboxObject.objects.filter(portal=portal, kind="user").values_list("key", flat=True))
    rows = []
    for n in _missing(count, existing, _username):
        rng = _item_rng(portal, "user", n)
        if n == 0:
            data = user_data("admin", f"admin@{portal.name}.example.org", first_name="Ada", last_name="Admin",
                             permissions=list(PERMISSIONS), at=now - dt.timedelta(days=400))
        else:
            username = _username(n)
            first, last = FIRST[n % len(FIRST)], LAST[(n * 7) % len(LAST)]
            perms = sorted(rng.sample(USER_PERMS, rng.randint(0, 3)))
            data = user_data(username, f"{username}@{portal.name}.example.org", first_name=first, last_name=last,
                             permissions=perms, at=now - dt.timedelta(days=rng.randint(1, 700)))
            data["last_seen_at"] = clock.iso(now - dt.timedelta(hours=rng.randint(1, 5000)))
        rows.append(SandboxObject(portal=portal, kind="user", key=data["username"], data=data))
    SandboxObject.objects.bulk_create(rows)


def _seed_groups(portal, count, now):
    from .handlers.people import group_data

    have = set(SandboxObject.objects.filter(portal=portal, kind="group").values_list("key", flat=True))
    users = list(SandboxObject.objects.filter(portal=portal, kind="user").order_by("id")
                 .values_list("key", flat=True))
    rows, members = [], []
    for n in range(count):
        uid, title, perms = GROUPS[n % len(GROUPS)]
        if n >= len(GROUPS):
            uid, title = f"{uid}_{n // len(GROUPS) + 1}", f"{title} {n // len(GROUPS) + 1}"
        if uid in have:
            continue
        rng = _item_rng(portal, "group", n)
        rows.append(SandboxObject(portal=portal, kind="group", key=uid,
                                  data=group_data(uid, title, description=f"The {title.lower()} team.",
                                                  permissions=perms, at=now, by="admin")))
        for username in rng.sample(users[1:], min(len(users) - 1, rng.randint(1, 6))) if len(users) > 1 else []:
            members.append(SandboxObject(portal=portal, kind="member", parent=uid, key=username, data={}))
    SandboxObject.objects.bulk_create(rows)
    SandboxObject.objects.bulk_create(members, ignore_conflicts=True)


def _seed_datasets(portal, count, now):
    existing = set(SandboxDataset.objects.filter(portal=portal, harvester_uid="").values_list("dataset_id", flat=True))
    rows, children = [], []
    for n in _missing(count, existing, lambda n: f"{portal.name}-{n + 1:05d}"):
        rng = _item_rng(portal, "dataset", n)
        subject, place = SUBJECTS[n % len(SUBJECTS)], PLACES[(n // len(SUBJECTS)) % len(PLACES)]
        title = f"{subject.capitalize()} — {place}" + (f" ({n // (len(SUBJECTS) * len(PLACES)) + 1})"
                                                        if n >= len(SUBJECTS) * len(PLACES) else "")
        theme = THEMES[n % len(THEMES)]
        created = now - dt.timedelta(days=rng.randint(30, 2000))
        modified = created + dt.timedelta(days=rng.randint(0, 25))
        metadata = _metadata(title, [subject.split()[0], theme.lower(), place.split()[0]],
                             PUBLISHERS[n % len(PUBLISHERS)], LICENSES[n % len(LICENSES)], theme, modified)
        uid = _uid("da")
        ds = SandboxDataset(portal=portal, uid=uid, dataset_id=f"{portal.name}-{n + 1:05d}", since=modified,
                            data={"created_at": clock.iso(created), "updated_at": clock.iso(modified),
                                  "is_restricted": n % 11 == 3, "metadata": metadata},
                            is_published=n % 4 != 1, previous="processing" if n % 4 != 1 else "")
        if n % ERROR_EVERY == ERROR_EVERY - 1:
            ds.fate = "error"
            from .status import _fate_final
            final = _fate_final(ds)
            ds.status, ds.message, ds.records_errors = "error", final["message"], final["records_errors"]
            ds.is_published, ds.previous = False, "processing"
        elif n % LIMIT_EVERY == LIMIT_EVERY - 1:
            ds.fate = "limit_reached"
            ds.status, ds.is_published, ds.previous = "limit_reached", True, "processing"
            ds.params = {"error": {"limit_type": "records", "limit": 100000, "value": 100000}}
        rows.append(ds)
        if n >= 200:  # parts and a first version for the first 200 only: seeding 5,000 stays quick
            continue
        version = _uid("ch")
        children.append(SandboxObject(portal=portal, kind="version", parent=uid, key=version, data={
            "uid": version, "sections": ["metadata", "data"], "created_by": {"username": "admin"},
            "can_restore": True, "created_at": clock.iso(modified),
            "_snapshot": {"metadata": metadata, "is_restricted": n % 11 == 3, "default_security": None,
                          "dataset_id": ds.dataset_id}}))
        children.extend(_dataset_parts(portal, uid, n, modified))
    SandboxDataset.objects.bulk_create(rows, batch_size=1000)
    SandboxObject.objects.bulk_create(children, batch_size=2000)


def _dataset_parts(portal, uid, n, at):
    stamp = clock.iso(at)
    resource, processor, schedule = _uid("re"), _uid("pr"), _uid("sc")
    parts = [
        SandboxObject(portal=portal, kind="resource", parent=uid, key=resource, data={
            "uid": resource, "type": "csvfile", "title": f"data-{n + 1}.csv", "updated_at": stamp,
            "params": {"separator": ";", "encoding": "utf-8", "headers_first_row": True},
            "datasource": {"type": "http", "connection": {"uid": "co_sandbx"}, "headers": [],
                           "relative_url": f"/exports/data-{n + 1}.csv"}}),
        SandboxObject(portal=portal, kind="processor", parent=uid, key=processor, data={
            "uid": processor, "type": "string_replace", "label": "Normalise region names", "field": "region",
            "old": "Reg.", "new": "Region"}),
    ]
    if n % 5 == 0:
        parts.append(SandboxObject(portal=portal, kind="schedule", parent=uid, key=schedule,
                                   data={"uid": schedule, "cron_schedule": f"{n % 60} 3 * * *"}))
    if n % 7 == 0:
        feedback = _uid("df")
        parts.append(SandboxObject(portal=portal, kind="feedback", parent=uid, key=feedback, data={
            "uid": feedback, "record_id": f"{n:040x}", "user": {"username": "admin"},
            "comment": "The value for 2021 looks wrong.", "values": {"value": "1234", "type": "int"},
            "is_archived": False, "created_at": stamp}))
    return parts


def _seed_harvesters(portal, count, now):
    existing = set(SandboxHarvester.objects.filter(portal=portal).values_list("uid", flat=True))

    def uid_of(n):
        return f"{HARVESTER_TYPES[n % len(HARVESTER_TYPES)][0]}-harvester-{n + 1}"

    for n in _missing(count, existing, uid_of):
        type_, url = HARVESTER_TYPES[n % len(HARVESTER_TYPES)]
        uid = uid_of(n)
        stamp = clock.iso(now - dt.timedelta(days=30))
        hv = SandboxHarvester.objects.create(
            portal=portal, uid=uid, status="idle", fails=(n == count - 1 and count > 1), remote_count=3 + n % 4,
            data={"type": type_, "name": f"{type_.upper()} catalogue {n + 1}", "url": url, "version": 1,
                  "restrict_datasets_visibility": False, "delete_missing_datasets": False, "forced_metas": {},
                  "created_at": stamp, "updated_at": stamp, "updated_by": {"username": "admin"}},
            counters={"last_started_at": clock.iso(now - dt.timedelta(hours=2))})
        _harvest(portal, hv, now - dt.timedelta(hours=1, minutes=58))
        hv.save()
        schedule = _uid("sc")
        SandboxObject.objects.create(portal=portal, kind="hv_schedule", parent=uid, key=schedule,
                                     data={"uid": schedule, "cron_schedule": f"0 {n % 24} * * *",
                                           "timezone": "Europe/Paris"})


def _seed_pages(portal, count, now):
    from .handlers.misc import code_page_data, studio_page_data

    studio = {o.data.get("slug") for o in SandboxObject.objects.filter(portal=portal, kind="studio_page")}
    code = set(SandboxObject.objects.filter(portal=portal, kind="code_page").values_list("key", flat=True))
    studio_count, code_count = count // 2, count - count // 2

    def code_slug(n):
        slug = ["home", "about", "contact", "faq", "api", "news", "partners", "legal"][n % 8]
        return slug if n < 8 else f"{slug}-{n // 8 + 1}"

    rows = []
    for n in _missing(studio_count, studio, lambda n: f"dashboard-{n + 1}"):
        uid = _uid("sp")
        data = studio_page_data(uid, f"dashboard-{n + 1}", f"Dashboard {n + 1}", public_=n % 2 == 0, at=now,
                                by="admin")
        if n % 2 == 0:
            data["contents"].append({**data["contents"][0], "version_name": "published"})
            data["first_published_at"] = data["created_at"]
        rows.append(SandboxObject(portal=portal, kind="studio_page", key=uid, data=data))
    for n in _missing(code_count, code, code_slug):
        slug = code_slug(n)
        rows.append(SandboxObject(portal=portal, kind="code_page", key=slug, data=code_page_data(
            slug, slug.replace("-", " ").title(), tags=["sandbox"], at=now, by="admin", restricted=n % 3 == 2)))
    SandboxObject.objects.bulk_create(rows)


def _seed_misc(portal, now):
    from .handlers.misc import connection_data

    if not SandboxObject.objects.filter(portal=portal, kind="connection").exists():
        SandboxObject.objects.create(portal=portal, kind="connection", key="co_sandbx",
                                     data=connection_data("co_sandbx", "https://files.example.org", now))
    for name in ("logo.svg", "banner.png"):
        SandboxObject.objects.get_or_create(portal=portal, kind="image", parent="", key=name,
                                            defaults={"data": {"url": f"/assets/theme_image/{name}"}})
