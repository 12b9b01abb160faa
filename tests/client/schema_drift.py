"""Compares the client's pydantic models with Herald's JSON Schemas (its /openapi.json, or a
model's own schema where the OpenAPI shows a free object), field by field.

A type is reduced to its atoms (string, integer, null, an enum value, an array of atoms, an
object of atoms, a named model) and compared in the direction data flows: what the client
sends must be accepted by Herald's schema; what Herald answers must be read by the client's.
Named models met inside are compared in turn, so nested models need no table.
"""

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

Atom = tuple[Any, ...]
ANY: Atom = ("any",)
NULL: Atom = ("null",)


@dataclass
class Side:
    """One document's schemas by name (OpenAPI components, or a model schema's $defs)."""

    defs: dict[str, dict[str, Any]]

    def atoms(self, schema: dict[str, Any]) -> frozenset[Atom]:
        if "$ref" in schema:
            name = schema["$ref"].rsplit("/", 1)[-1]
            target = self.defs[name]
            if "properties" in target:
                return frozenset({("model", name)})
            return self.atoms(target)  # an enum, a constrained string: its values
        for key in ("anyOf", "oneOf", "allOf"):
            if key in schema:
                return frozenset().union(*(self.atoms(s) for s in schema[key]))
        if "const" in schema:
            return frozenset({("enum", schema["const"])})
        if "enum" in schema:
            return frozenset(("enum", value) for value in schema["enum"])
        kind = schema.get("type")
        if kind is None:
            return frozenset({ANY})
        kinds = kind if isinstance(kind, list) else [kind]
        found: set[Atom] = set()
        for one in kinds:
            if one == "array":
                found.add(("array", self.atoms(schema.get("items", {}))))
            elif one == "object":
                values = schema.get("additionalProperties", True)
                found.add(
                    ("object", self.atoms(values) if isinstance(values, dict) else frozenset({ANY}))
                )
            else:
                found.add((one,))
        return frozenset(found)


@dataclass
class Drift:
    """Compares (client model, Herald model) pairs; `problems` says what differs."""

    client: Side
    herald: Side
    problems: list[str] = field(default_factory=list)
    compared: set[tuple[str, str, str]] = field(default_factory=set)

    def model(self, client_name: str, herald_name: str, direction: str) -> None:
        """`direction`: "request" (the client sends it) or "response" (the client reads it)."""
        if (client_name, herald_name, direction) in self.compared:
            return
        self.compared.add((client_name, herald_name, direction))
        ours, theirs = self.client.defs[client_name], self.herald.defs[herald_name]
        where = f"{client_name} ({direction}) vs Herald's {herald_name}"
        props, their_props = ours.get("properties", {}), theirs.get("properties", {})
        for name in sorted(set(props) - set(their_props)):
            self.problems.append(f"{where}: field {name!r} is not in Herald's schema")
        required, their_required = set(ours.get("required", [])), set(theirs.get("required", []))
        if direction == "request":
            for name in sorted(their_required - set(props)):
                self.problems.append(f"{where}: Herald requires {name!r}, the client lacks it")
            mismatched = required ^ their_required
        else:
            mismatched = required ^ (their_required & set(props))
        for name in sorted(mismatched & set(props)):
            self.problems.append(
                f"{where}: {name!r} is required on one side only "
                f"(client: {name in required}, Herald: {name in their_required})"
            )
        for name in sorted(set(props) & set(their_props)):
            ours_atoms = self.client.atoms(props[name])
            theirs_atoms = self.herald.atoms(their_props[name])
            if direction == "request":
                # Requests are sent without their None fields (exclude_none): never a null.
                self._fits(ours_atoms - {NULL}, theirs_atoms, f"{where}.{name}", direction, True)
            else:
                self._fits(theirs_atoms, ours_atoms, f"{where}.{name}", direction, False)

    def _fits(
        self,
        sent: Iterable[Atom],
        accepted: frozenset[Atom],
        where: str,
        direction: str,
        client_sends: bool,
    ) -> None:
        for atom in sent:
            if not any(self._covers(atom, other, direction, client_sends) for other in accepted):
                self.problems.append(f"{where}: {atom} is not among {sorted(map(str, accepted))}")

    def _covers(self, atom: Atom, other: Atom, direction: str, client_sends: bool) -> bool:
        if other == ANY or (atom == other and atom[0] not in ("model", "array", "object")):
            return True
        kind, other_kind = atom[0], other[0]
        if kind == "enum":
            value = atom[1]
            return (
                (other_kind == "string" and isinstance(value, str))
                or (other_kind == "boolean" and isinstance(value, bool))
                or (other_kind in ("integer", "number") and isinstance(value, int | float))
            )
        if kind == "integer":
            return other_kind == "number"
        if kind in ("array", "object") and kind == other_kind:
            return all(
                any(self._covers(item, accepted, direction, client_sends) for accepted in other[1])
                for item in atom[1]
            )
        if kind == "model" and other_kind == "model":
            client_name, herald_name = (atom[1], other[1]) if client_sends else (other[1], atom[1])
            self.model(client_name, herald_name, direction)
            return True
        # A named model where the other side takes any object (a free-form `data`, say).
        return kind == "model" and other_kind == "object" and ANY in other[1]
