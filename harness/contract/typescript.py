"""TypeScript declarations generated from the published JSON Schema, for the runtime's TS side.

Why not a library: the only well-kept generator (json-schema-to-typescript) is an npm package,
which would make `harness schema --check` depend on Node; the schema uses a small, fixed set of
constructs (objects, consts, enums, nullable unions, discriminated unions, arrays, refs), so a
deterministic generator of ~100 lines covers it exactly and keeps the check pure Python. The output
is compiled by `tsc --noEmit` in the tests.
"""

from __future__ import annotations

import json
from typing import Any

HEADER = (
    "// Generated from schemas/normalized-log.v1.schema.json by `harness schema --write`.\n"
    "// Do not edit: change harness/contract/model.py and regenerate.\n"
)


def _ref_name(ref: str) -> str:
    return ref.rsplit("/", 1)[-1]


def ts_type(schema: dict[str, Any]) -> str:
    """The TypeScript type expression for one JSON Schema node."""
    if "$ref" in schema:
        return _ref_name(schema["$ref"])
    if "const" in schema:
        return json.dumps(schema["const"])
    if "enum" in schema:
        return " | ".join(json.dumps(v) for v in schema["enum"])
    for key in ("oneOf", "anyOf"):
        if key in schema:
            parts: list[str] = []
            for option in schema[key]:
                rendered = ts_type(option)
                if rendered not in parts:
                    parts.append(rendered)
            return " | ".join(parts)
    kind = schema.get("type")
    if kind == "array":
        inner = ts_type(schema.get("items", {}))
        return f"Array<{inner}>"
    if kind == "object" or "properties" in schema:
        return _object_body(schema, indent="")
    return {"string": "string", "integer": "number", "number": "number", "boolean": "boolean",
            "null": "null"}.get(str(kind), "unknown")


def _object_body(schema: dict[str, Any], indent: str,
                 aliases: dict[str, str] | None = None) -> str:
    props: dict[str, Any] = schema.get("properties", {})
    if not props:
        extra = schema.get("additionalProperties")
        value = ts_type(extra) if isinstance(extra, dict) else "unknown"
        return f"{{ [key: string]: {value} }}"
    required = set(schema.get("required", []))
    lines = ["{"]
    for name, prop in props.items():
        doc = prop.get("description")
        if doc:
            lines.append(f"{indent}  /** {doc} */")
        optional = "" if name in required else "?"
        rendered = ts_type(prop)
        rendered = (aliases or {}).get(rendered, rendered)
        lines.append(f"{indent}  {json.dumps(name) if '-' in name else name}{optional}: "
                     f"{rendered};")
    lines.append(f"{indent}}}")
    return "\n".join(lines)


def hoisted_unions(schema: dict[str, Any]) -> dict[str, str]:
    """Discriminated unions used inline as a property (an event's `item`), as exported types
    named after the property (`Item`), so TypeScript code can name them: rendered union ->
    alias."""
    aliases: dict[str, str] = {}
    for definition in schema.get("$defs", {}).values():
        for name, prop in definition.get("properties", {}).items():
            if "discriminator" in prop and ("oneOf" in prop or "anyOf" in prop):
                aliases.setdefault(ts_type(prop), "".join(p.title() for p in name.split("_")))
    return aliases


def declarations(schema: dict[str, Any]) -> str:
    """A `.d.ts` module: one exported type per schema definition, the hoisted property unions
    (`Item`) and the root union."""
    out = [HEADER]
    aliases = hoisted_unions(schema)
    for name, definition in sorted(schema.get("$defs", {}).items()):
        doc = definition.get("description")
        if doc:
            out.append("/** " + " ".join(doc.split()) + " */")
        if definition.get("type") == "object" or "properties" in definition:
            out.append(f"export interface {name} "
                       f"{_object_body(definition, indent='', aliases=aliases)}\n")
        else:
            out.append(f"export type {name} = {ts_type(definition)};\n")
    for union, alias in sorted(aliases.items(), key=lambda pair: pair[1]):
        out.append(f"/** Any `{alias.lower()}` an event can carry (discriminated by `kind`). */"
                   f"\nexport type {alias} = {union};\n")
    root = {k: v for k, v in schema.items() if k in {"oneOf", "anyOf", "$ref"}}
    out.append(f"/** One line of a normalized log. */\nexport type NormalizedEvent = "
               f"{ts_type(root)};\n")
    return "\n".join(out)
