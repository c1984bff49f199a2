"""Small helpers over the sandbox tables shared by the handlers and the seeding code."""

import secrets
import string

from .api import ApiError, Ctx, invalid, not_found
from .models import SandboxDataset, SandboxObject, SandboxPortal

_ALPHABET = string.ascii_lowercase + string.digits


def new_uid(prefix: str) -> str:
    return prefix + "_" + "".join(secrets.choice(_ALPHABET) for _ in range(6))


def objects(portal: SandboxPortal, kind: str, parent: str = ""):
    return SandboxObject.objects.filter(portal=portal, kind=kind, parent=parent).order_by("id")


def obj_get(portal: SandboxPortal, kind: str, key: str, parent: str = "") -> SandboxObject:
    try:
        return SandboxObject.objects.get(portal=portal, kind=kind, parent=parent, key=key)
    except SandboxObject.DoesNotExist:
        raise not_found() from None


def obj_exists(portal: SandboxPortal, kind: str, key: str, parent: str = "") -> bool:
    return SandboxObject.objects.filter(portal=portal, kind=kind, parent=parent, key=key).exists()


def obj_create(portal: SandboxPortal, kind: str, key: str, data: dict, parent: str = "",
               blob: bytes | None = None) -> SandboxObject:
    return SandboxObject.objects.create(portal=portal, kind=kind, parent=parent, key=key, data=data, blob=blob)


def get_dataset(ctx: Ctx, dataset_uid: str, lock: bool = False) -> SandboxDataset:
    qs = SandboxDataset.objects.filter(portal=ctx.portal, uid=dataset_uid)
    if lock:
        qs = qs.select_for_update()
    ds = qs.first()
    if ds is None:
        raise not_found()
    return ds


def require_fields(body: dict, names: tuple[str, ...]) -> None:
    missing = {n: ["This field is required."] for n in names if body.get(n) in (None, "")}
    if missing:
        raise invalid(missing)


def bad_request(message: str) -> ApiError:
    return ApiError(400, "bad_request", message)
