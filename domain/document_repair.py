"""A stored JSON document made valid for its model, whatever is stored in it.

Stored documents outlive the rules that checked them: an older version stored other types,
a default changed underneath an override, a time zone left the tz database. Reading one must
still give an answer, so each part at fault takes a valid fallback document's value at the
same place, or, where the fallback has none, is left out. Lists are replaced whole when they
merge, so a bad list item is dropped rather than swapped for the fallback's item.
"""

import copy
from typing import Any, TypeVar

from pydantic import BaseModel, ValidationError

Model = TypeVar("Model", bound=BaseModel)
Path = tuple[str | int, ...]

# Each pass repairs every fault it sees; a part set from the fallback can only fail again
# together with its parent, so a handful of passes always settles. The bound is a backstop.
_MAX_PASSES = 8
_DROPPED = object()


def repaired(
    model: type[Model], document: Any, fallback: dict[str, Any]
) -> tuple[Model, list[str]]:
    """`document` validated as `model`, with the parts at fault repaired from `fallback`
    (which must itself be valid); and the dotted paths of the parts repaired."""
    current = copy.deepcopy(document) if isinstance(document, dict) else {}
    ignored: list[str] = [] if isinstance(document, dict) or document is None else ["(document)"]
    for _ in range(_MAX_PASSES):
        try:
            return model.model_validate(current), ignored
        except ValidationError as exc:
            paths = {_fault_path(current, error["loc"]) for error in exc.errors()}
        if () in paths:
            break
        before = copy.deepcopy(current)
        for path in sorted(paths, key=len):
            _repair(current, fallback, path)
        current = _without_dropped(current)
        if current == before:
            break  # nothing left to repair from the fallback
        ignored.extend(".".join(str(part) for part in path) for path in sorted(paths, key=str))
    return model.model_validate(fallback), [*ignored, "(document)"]


def _fault_path(document: Any, loc: tuple[int | str, ...]) -> Path:
    """The deepest part of `document` on an error's location (pydantic's locations also hold
    markers such as `[key]` and keys a document lacks)."""
    path: list[str | int] = []
    node = document
    for part in loc:
        if not _holds(node, part):
            if isinstance(node, dict) and isinstance(part, str) and part != "[key]":
                path.append(part)  # a key the document lacks, which the fallback may have
            break
        node = node[part]
        path.append(part)
    return tuple(path)


def _repair(document: dict[str, Any], fallback: dict[str, Any], path: Path) -> None:
    """Set the fallback's value at `path`, or mark the part dropped."""
    parent: Any = document
    for part in path[:-1]:
        parent = parent[part] if _holds(parent, part) else None
        if parent is None or parent is _DROPPED:
            return  # a part above was repaired already
    last = path[-1]
    if isinstance(parent, list):
        if isinstance(last, int) and _holds(parent, last):
            parent[last] = _DROPPED
        return
    found, value = _lookup(fallback, path)
    if found:
        parent[last] = copy.deepcopy(value)
    elif last in parent:
        parent[last] = _DROPPED
    elif len(path) > 1:  # a required part is missing and the fallback lacks it: its parent goes
        _repair(document, fallback, path[:-1])


def _holds(node: Any, part: str | int) -> bool:
    if isinstance(node, dict):
        return part in node
    return isinstance(node, list) and isinstance(part, int) and 0 <= part < len(node)


def _lookup(document: Any, path: Path) -> tuple[bool, Any]:
    node = document
    for part in path:
        if isinstance(node, list) or not _holds(node, part):
            return False, None  # never an item of a fallback's list
        node = node[part]
    return True, node


def _without_dropped(node: Any) -> Any:
    if isinstance(node, dict):
        return {k: _without_dropped(v) for k, v in node.items() if v is not _DROPPED}
    if isinstance(node, list):
        return [_without_dropped(v) for v in node if v is not _DROPPED]
    return node
