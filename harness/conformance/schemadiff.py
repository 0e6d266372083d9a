"""What changed between two versions of a runtime's own JSON Schema of its protocol.

A runtime that prints a schema of what it speaks (its driver's `protocol_schema`)
says more than one recording can: a new item type or enum value shows up here before any
scenario exercises it. Compared: the definitions (nested namespaces included), each
definition's properties, its enum values and its tagged-union variants (a variant is named by
the single value of its `type`/`method` property, else by its required keys).
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

SCHEMA_KEYS = frozenset({"type", "oneOf", "anyOf", "allOf", "enum", "properties", "$ref",
                         "const", "items", "additionalProperties", "description", "title"})
"""Keys that make a mapping under `definitions` a schema rather than a namespace of schemas."""

TAG_PROPERTIES = ("type", "method")


def definitions(schema: Mapping[str, Any]) -> dict[str, Mapping[str, Any]]:
    """Every named definition, nested namespaces flattened to dotted names (`v2.ThreadItem`)."""
    return _flatten(schema.get("definitions") or {}, "")


def _flatten(namespace: Mapping[str, Any], prefix: str) -> dict[str, Mapping[str, Any]]:
    found: dict[str, Mapping[str, Any]] = {}
    for name, value in namespace.items():
        if not isinstance(value, Mapping):
            continue
        dotted = f"{prefix}{name}"
        if SCHEMA_KEYS & value.keys():
            found[dotted] = value
        else:
            found.update(_flatten(value, dotted + "."))
    return found


def _variant_name(option: Mapping[str, Any], index: int) -> str:
    props = option.get("properties") or {}
    for tag in TAG_PROPERTIES:
        values = (props.get(tag) or {}).get("enum") or []
        if len(values) == 1:
            return f"{tag}={values[0]}"
    required = option.get("required")
    return ",".join(required) if required else f"#{index}"


def _members(schema: Mapping[str, Any]) -> dict[str, Mapping[str, Any]]:
    """A definition's parts worth naming: its properties and its union variants' properties."""
    parts: dict[str, Mapping[str, Any]] = {}
    for key, prop in (schema.get("properties") or {}).items():
        parts[f".{key}"] = prop if isinstance(prop, Mapping) else {}
    for union in ("oneOf", "anyOf"):
        for index, option in enumerate(schema.get(union) or []):
            if not isinstance(option, Mapping) or "enum" in option:
                continue  # a string variant: its values count as the definition's enum
            variant = f"[{_variant_name(option, index)}]"
            parts[variant] = option
            for key, prop in (option.get("properties") or {}).items():
                parts[f"{variant}.{key}"] = prop if isinstance(prop, Mapping) else {}
    return parts


def _enum(schema: Mapping[str, Any]) -> set[str]:
    """Enum values, those of string variants of a union included."""
    values = {str(v) for v in schema.get("enum") or []}
    for union in ("oneOf", "anyOf"):
        for option in schema.get(union) or []:
            if isinstance(option, Mapping):
                values.update(str(v) for v in option.get("enum") or [])
    return values


def _compare(name: str, old: Mapping[str, Any], new: Mapping[str, Any]) -> Iterator[str]:
    for value in sorted(_enum(new) - _enum(old)):
        yield f"+ {name} enum {value}"
    for value in sorted(_enum(old) - _enum(new)):
        yield f"- {name} enum {value}"
    old_parts, new_parts = _members(old), _members(new)
    for part in sorted(new_parts.keys() - old_parts.keys()):
        yield f"+ {name}{part}"
    for part in sorted(old_parts.keys() - new_parts.keys()):
        yield f"- {name}{part}"
    for part in sorted(old_parts.keys() & new_parts.keys()):
        before, after = _enum(old_parts[part]), _enum(new_parts[part])
        for value in sorted(after - before):
            yield f"+ {name}{part} enum {value}"
        for value in sorted(before - after):
            yield f"- {name}{part} enum {value}"


def schema_difference(old: Mapping[str, Any], new: Mapping[str, Any]) -> list[str]:
    """`+`/`-` lines: definitions, properties, union variants and enum values added or removed."""
    before, after = definitions(old), definitions(new)
    lines = [f"+ {name}" for name in sorted(after.keys() - before.keys())]
    lines += [f"- {name}" for name in sorted(before.keys() - after.keys())]
    for name in sorted(before.keys() & after.keys()):
        lines.extend(_compare(name, before[name], after[name]))
    return lines
