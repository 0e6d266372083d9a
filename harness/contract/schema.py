"""The published JSON Schema of the normalized log, and validation of events against it.

The schema is generated from `harness.contract.model` (pydantic is the single source of truth) and
checked in as `schemas/normalized-log.v1.schema.json`, with TypeScript declarations beside it, so
tools in other languages read the same contract. Validation uses the `jsonschema` library against
the checked-in file (the published contract, not the in-memory model), compiled once per process.

The files are package data: `harness/schemas` links to the repository's `schemas/`, so the wheel
carries them and an installed harness reads them with `importlib.resources` (and
`harness schema --check` checks what was installed).
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping
from functools import cache
from importlib import resources
from pathlib import Path
from typing import Any, cast

from jsonschema import Draft202012Validator, ValidationError, _keywords, validators

from harness.contract.errors import HarnessError
from harness.contract.model import EVENT_ADAPTER, SCHEMA_VERSION
from harness.contract.typescript import declarations

PACKAGE = "harness"
SCHEMA_NAME = f"normalized-log.v{SCHEMA_VERSION}.schema.json"
TYPESCRIPT_NAME = f"normalized-log.v{SCHEMA_VERSION}.d.ts"
SCHEMA_DIR = (Path(__file__).resolve().parents[1] / "schemas").resolve()
"""The package's schema folder (in a checkout, a link to the repository's `schemas/`; in a
wheel, the installed package data); `harness schema --write` writes through it."""
SCHEMA_PATH = SCHEMA_DIR / SCHEMA_NAME
TYPESCRIPT_PATH = SCHEMA_DIR / TYPESCRIPT_NAME
SCHEMA_ID = f"https://agent-conformance-harness.invalid/normalized-log.v{SCHEMA_VERSION}.schema.json"


def generated_schema() -> dict[str, Any]:
    """The JSON Schema (2020-12) of one normalized event, generated from the pydantic model."""
    body = EVENT_ADAPTER.json_schema(mode="serialization")
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "$id": SCHEMA_ID,
        "title": f"Normalized agent event, schema version {SCHEMA_VERSION}",
        "description": "One line of a normalized log (JSONL). Generated from "
        "harness/contract/model.py by `harness schema --write`; do not edit by hand.",
        **body,
    }


def render_schema(schema: Mapping[str, Any]) -> str:
    """Deterministic text of the schema file (sorted nowhere: model order is the reading order)."""
    return json.dumps(schema, indent=2, ensure_ascii=False) + "\n"


def generated_files() -> dict[Path, str]:
    """Every published artifact and its expected text."""
    schema = generated_schema()
    return {SCHEMA_PATH: render_schema(schema), TYPESCRIPT_PATH: declarations(schema)}


def stale_files() -> list[Path]:
    """Published files whose checked-in (or installed) text differs from what the model
    generates; a missing file is stale."""
    stale: list[Path] = []
    for path, text in generated_files().items():
        try:
            current = path.read_text(encoding="utf-8")
        except OSError:
            current = None
        if current != text:
            stale.append(path)
    return stale


def published_text(name: str) -> str:
    """A published file (`SCHEMA_NAME`, `TYPESCRIPT_NAME`) as installed, via importlib.resources
    (works from a wheel, a zip or a checkout)."""
    return resources.files(PACKAGE).joinpath("schemas", name).read_text(encoding="utf-8")


@cache
def published_schema() -> dict[str, Any]:
    """The published schema file. Validating against the generated one instead would hide a
    stale contract, so a missing file is an error naming the fix."""
    try:
        loaded: dict[str, Any] = json.loads(published_text(SCHEMA_NAME))
    except OSError as exc:
        raise HarnessError(f"the published schema is missing ({exc.strerror}); reinstall the "
                           "package or run `harness schema --write` in a checkout",
                           source=SCHEMA_NAME) from None
    return loaded


@cache
def validator() -> Draft202012Validator:
    """The compiled validator, built once per process (validation sits on hot paths)."""
    schema = published_schema()
    Draft202012Validator.check_schema(schema)
    compiled: Draft202012Validator = TaggedValidator(schema)
    return compiled


def _branch_tags(one_of: list[Any], prop: str) -> dict[str, int] | None:
    """`type`/`kind` const -> index, when every branch of a `oneOf` is (a local `$ref` to) an
    object schema with its own string const for `prop`; else None."""
    defs = published_schema().get("$defs", {})
    tags: dict[str, int] = {}
    for index, branch in enumerate(one_of):
        if not isinstance(branch, dict):
            return None
        ref = branch.get("$ref")
        target = branch
        if isinstance(ref, str):
            if set(branch) != {"$ref"} or not ref.startswith("#/$defs/"):
                return None
            target = defs.get(ref.removeprefix("#/$defs/"), {})
        const = target.get("properties", {}).get(prop, {}).get("const")
        if not isinstance(const, str) or const in tags:
            return None
        tags[const] = index
    return tags


_TAGS: dict[int, tuple[list[Any], dict[str, int] | None]] = {}


def _tagged_one_of(validator: Any, one_of: list[Any], instance: Any,
                   schema: dict[str, Any]) -> Iterator[ValidationError]:
    """`oneOf` under a discriminator (`discriminator.propertyName`, as pydantic writes unions):
    validate the one branch the instance's tag names. Why: jsonschema validates every branch
    (~2 ms an event for the event and item unions, most of the gate's schema check). Valid
    when that branch is (every other branch fails on its const); otherwise, or when the union
    is not of that shape, jsonschema's own `oneOf` runs, so errors read as before."""
    prop = schema.get("discriminator", {}).get("propertyName")
    if isinstance(prop, str) and isinstance(instance, dict) and isinstance(
            instance.get(prop), str):
        known = _TAGS.get(id(one_of))
        if known is None or known[0] is not one_of:
            known = _TAGS[id(one_of)] = (one_of, _branch_tags(one_of, prop))
        index = (known[1] or {}).get(instance[prop])
        if index is not None and not any(
                True for _ in validator.descend(instance, one_of[index], schema_path=index)):
            return
    yield from cast(Any, _keywords).oneOf(validator, one_of, instance, schema)


TaggedValidator: Any = cast(Any, validators).extend(Draft202012Validator,
                                                     {"oneOf": _tagged_one_of})
"""Draft 2020-12 with the tagged `oneOf` above: the same verdicts and errors."""


def validate_event(event: Mapping[str, Any]) -> list[str]:
    """Every schema violation of one event as `path: message` (empty: valid)."""
    found: list[str] = []
    for error in validator().iter_errors(event):
        found.extend(_explain(error))
    return sorted(set(found))


DISCRIMINATORS = frozenset({"type", "kind"})
MAX_MESSAGE = 200


def _explain(error: ValidationError) -> list[str]:
    """Readable messages: a failed `oneOf` is explained by the branch its discriminator chose.

    jsonschema reports a union mismatch as "not valid under any of the given schemas" with the
    whole instance; the useful error is inside the branch whose `type`/`kind` const matched.
    """
    if not error.context:
        return [f"{_path(error.absolute_path)}: {_short(error.message)}"]
    branches: dict[Any, list[ValidationError]] = {}
    for sub in error.context:
        branches.setdefault(sub.relative_schema_path[0], []).append(sub)
    chosen = [errs for errs in branches.values() if not any(_wrong_discriminator(e) for e in errs)]
    if len(chosen) == 1:
        return [line for sub in chosen[0] for line in _explain(sub)]
    where = _path(error.absolute_path)
    tag = error.schema.get("discriminator", {}).get("propertyName") \
        if isinstance(error.schema, dict) else None
    if tag and isinstance(error.instance, dict):
        if tag not in error.instance:
            return [f"{where}: {tag!r} is a required property"]
        return [f"{where}: unknown {tag} {error.instance[tag]!r}"]
    options = "; ".join(sorted({sub.message for sub in error.context}))
    return [f"{where}: {_short(repr(error.instance))} matches no alternative ({options})"]


def _short(text: str) -> str:
    return text if len(text) <= MAX_MESSAGE else text[:MAX_MESSAGE] + "..."


def _wrong_discriminator(error: ValidationError) -> bool:
    path = list(error.relative_path)
    return error.validator in {"const", "enum"} and len(path) == 1 and path[0] in DISCRIMINATORS


def _path(parts: Any) -> str:
    text = "".join(f"[{p}]" if isinstance(p, int) else f".{p}" for p in parts)
    return text.lstrip(".") or "<event>"
