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


STR_LIST = "list of strings"
STR_MAP = "object of strings"
_MESSAGES = {str: "Not a valid string.", bool: "Must be a valid boolean.", int: "A valid integer is required.",
             dict: "Expected an object.", list: "Expected a list of items.", STR_LIST: "Expected a list of strings.",
             STR_MAP: "Expected an object whose values are strings."}


def _is(value, expected) -> bool:
    if expected == STR_LIST:
        return isinstance(value, list) and all(isinstance(v, str) for v in value)
    if expected == STR_MAP:
        return isinstance(value, dict) and all(isinstance(v, str) for v in value.values())
    if expected is int:
        return isinstance(value, int) and not isinstance(value, bool)
    return isinstance(value, expected)


def check_types(body: dict, expected: dict, *, nullable: tuple[str, ...] = ()) -> None:
    """400 validation_error for fields present with the wrong JSON type (like the real API's serializers)."""
    errors = {}
    for name, kind in expected.items():
        if name not in body or (body[name] is None and name in nullable):
            continue
        if not _is(body[name], kind):
            errors[name] = [_MESSAGES[kind]]
    if errors:
        raise invalid(errors)
