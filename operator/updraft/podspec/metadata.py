"""Extra labels and annotations of every task pod (pure), for tools that find pods by them: a log
agent (`fluentbit.io/parser`, `ad.datadoghq.com/...`), a cost allocation label, a service mesh's
opt-out. Checked once at start-up, naming the field and the rule. Keys of Updraft's own domain
(`updraft.dev/...`) and the managed-by label are refused: the operator finds and matches its pods
by them."""

from __future__ import annotations

from typing import Callable, Mapping

from ..model import names
from .placement import PlacementError, label_key, label_value

ANNOTATIONS_MAX_BYTES = 256 * 1024  # the Kubernetes API's limit on all of an object's annotations
RESERVED_DOMAIN = names.GROUP


def _check_reserved(where: str, key: str) -> None:
    prefix = key.rpartition("/")[0]
    if prefix == RESERVED_DOMAIN or prefix.endswith("." + RESERVED_DOMAIN) or key == names.LABEL_MANAGED:
        raise PlacementError(f"{where}: key {key!r} is Updraft's own; choose a key outside "
                             f"{RESERVED_DOMAIN}/ and other than {names.LABEL_MANAGED}")


def _entries(raw: object, where: str, what: str, value: Callable[[str, object], str]) -> dict[str, str]:
    """An object of qualified-name keys (none of Updraft's own) to values checked by `value`."""
    if not isinstance(raw, Mapping):
        raise PlacementError(f"{where}: expected an object of {what}")
    out: dict[str, str] = {}
    for k, v in raw.items():
        key = label_key(where, k)
        _check_reserved(where, key)
        out[key] = value(f"{where}.{key}", v)
    return out


def pod_labels(raw: object, where: str = "podLabels") -> dict[str, str]:
    """Extra labels: label keys to label values (the Kubernetes rules for both)."""
    return _entries(raw, where, "label keys to values", label_value)


def _annotation_value(where: str, value: object) -> str:
    if not isinstance(value, str):
        raise PlacementError(f"{where}: the value must be a string (quote numbers and booleans)")
    return value


def pod_annotations(raw: object, where: str = "podAnnotations") -> dict[str, str]:
    """Extra annotations: qualified-name keys to any string, at most 256 KiB in all."""
    out = _entries(raw, where, "annotation keys to string values", _annotation_value)
    size = sum(len(k.encode()) + len(v.encode()) for k, v in out.items())
    if size > ANNOTATIONS_MAX_BYTES:
        raise PlacementError(f"{where}: {size} bytes in all; Kubernetes allows at most {ANNOTATIONS_MAX_BYTES}")
    return out
