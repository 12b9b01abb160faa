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
