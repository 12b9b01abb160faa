"""JSON Merge Patch (RFC 7396): how a PATCH body changes a JSON document.

An object in the patch merges into the target's object key by key, recursively; `null`
removes the key; anything else (a string, a number, an array) replaces the target's value
whole. A patch that is not an object replaces the whole target.
"""

from typing import Any


def merge_patch(target: Any, patch: Any) -> Any:
    """The document `target` becomes under `patch`; neither argument is changed."""
    if not isinstance(patch, dict):
        return patch
    merged = dict(target) if isinstance(target, dict) else {}
    for key, value in patch.items():
        if value is None:
            merged.pop(key, None)
        else:
            merged[key] = merge_patch(merged.get(key), value)
    return merged


def patch_between(before: dict[str, Any], after: dict[str, Any]) -> dict[str, Any]:
    """The merge patch that turns `before` into `after`, with only what differs: a key `after`
    lacks is `null` (removed), objects on both sides are patched key by key, anything else
    that changed is replaced. (A `null` value in `after` reads as a removal too: RFC 7396 has no
    way to set one.)"""
    patch: dict[str, Any] = {}
    for key in before.keys() - after.keys():
        patch[key] = None
    for key, value in after.items():
        old = before.get(key)
        if isinstance(old, dict) and isinstance(value, dict):
            inner = patch_between(old, value)
            if inner:
                patch[key] = inner
        elif key not in before or old != value:
            patch[key] = value
    return patch
