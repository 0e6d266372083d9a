"""The codex-app-server lane held to Codex's own protocol schema (`schemas/codex/<version>/`, what
each vendored Codex release prints with `app-server generate-json-schema`).

Every notification and server request, thread item type, item and plan status, sandbox policy,
approval decision and `codexErrorInfo` variant the schema defines is either read by the lane or
declared by it (kept as `unknown` / read as `unknown`, each with a reason); and nothing the lane
names is missing from every vendored schema (a misspelt method would never match). A new Codex
release vendored here fails these tests by name until the lane handles or declares what it added.
"""

from __future__ import annotations

import json
import re
import tarfile
from functools import cache
from pathlib import Path
from typing import Any

import pytest

import lanes.codex_app_server as lane
from harness.record.runtimes.registry import get_driver

SCHEMAS = Path(__file__).resolve().parents[1] / "schemas" / "codex"
VERSIONS = sorted(p.name for p in SCHEMAS.iterdir() if p.is_dir())


@cache
def schema(version: str) -> dict[str, Any]:
    data: dict[str, Any] = json.loads(
        (SCHEMAS / version / "codex_app_server_protocol.schemas.json").read_text())
    return data


def root(version: str) -> dict[str, Any]:
    definitions: dict[str, Any] = schema(version)["definitions"]
    return definitions


def v2(version: str) -> dict[str, Any]:
    definitions: dict[str, Any] = root(version)["v2"]
    return definitions


def methods(union: dict[str, Any]) -> set[str]:
    return {m for option in union["oneOf"]
            for m in option.get("properties", {}).get("method", {}).get("enum", [])}


def variants(union: dict[str, Any]) -> set[str]:
    """Names of a tagged union's variants: string enums, and objects named by their key."""
    names: set[str] = set(union.get("enum", []))
    for option in union.get("anyOf", []) + union.get("oneOf", []):
        if "enum" in option:
            names |= set(option["enum"])
        elif "properties" in option:
            names |= set(option.get("required") or option["properties"])
    return names


def type_tags(union: dict[str, Any]) -> set[str]:
    return {option["properties"]["type"]["enum"][0] for option in union["oneOf"]}


def server_methods(version: str) -> set[str]:
    return methods(root(version)["ServerNotification"]) | methods(root(version)["ServerRequest"])


READ_OR_DECLARED = (lane.DISPATCHED_METHODS | lane.IGNORED | lane.KNOWN_SERVER_METHODS
                    | set(lane.NOTICES) | set(lane.DELTAS) | lane.APPROVAL_METHODS)


def test_a_codex_schema_is_vendored() -> None:
    assert VERSIONS, "no schemas/codex/<version>/ folder"


@pytest.mark.parametrize("version", VERSIONS)
def test_every_server_message_is_read_or_declared(version: str) -> None:
    missing = server_methods(version) - READ_OR_DECLARED
    assert not missing, f"Codex {version} sends methods the lane neither reads nor declares: " \
                        f"{sorted(missing)}"


def test_the_lane_names_no_method_that_no_vendored_codex_sends() -> None:
    sent = set().union(*(server_methods(v) for v in VERSIONS))
    assert READ_OR_DECLARED - sent == set()
    clients = set().union(*(methods(root(v)["ClientRequest"]) for v in VERSIONS)) | {
        "initialized",  # a client notification, not a request
        "getAuthStatus",  # v1, outside the schema, yet answered offline (runtime-facts.md)
    }
    assert lane.CLIENT_METHODS - clients == set()


@pytest.mark.parametrize("version", VERSIONS)
def test_every_thread_item_type_is_mapped_or_declared(version: str) -> None:
    declared = set(lane.ITEM_KINDS) | lane.NO_ITEM_TYPES | set(lane.UNKNOWN_ITEM_TYPES)
    types = type_tags(v2(version)["ThreadItem"])
    assert types - declared == set()
    assert set(lane.ITEM_KINDS) - types == set(), "the lane maps an item type Codex lacks"


@pytest.mark.parametrize("version", VERSIONS)
def test_every_status_sandbox_and_decision_is_mapped(version: str) -> None:
    for status in ("CommandExecutionStatus", "PatchApplyStatus", "McpToolCallStatus"):
        assert set(v2(version)[status]["enum"]) <= set(lane.STATUSES), status
    assert set(v2(version)["TurnPlanStepStatus"]["enum"]) <= set(lane.PLAN_STATUSES)
    policies = type_tags(v2(version)["SandboxPolicy"]) - {"externalSandbox"}
    assert policies <= set(lane.SANDBOXES)  # an external sandbox is not one of the model's
    for decision in ("CommandExecutionApprovalDecision", "FileChangeApprovalDecision"):
        assert variants(root(version)[decision]) <= set(lane.DECISIONS), decision


@pytest.mark.parametrize("version", VERSIONS)
def test_every_error_info_is_classified_or_declared(version: str) -> None:
    names = variants(v2(version)["CodexErrorInfo"])
    assert names - set(lane.ERROR_INFO_KINDS) - set(lane.UNMAPPED_ERROR_INFO) == set()
    assert set(lane.ERROR_INFO_KINDS) & set(lane.UNMAPPED_ERROR_INFO) == set()


def test_declared_unknown_error_infos_really_read_as_unknown() -> None:
    """The declaration is what the lane does: each declared variant classifies `unknown`, and
    each mapped one its kind (string and object forms)."""
    for name in lane.UNMAPPED_ERROR_INFO:
        assert lane.error_kind(name) == "unknown"
        assert lane.error_kind({name: {}}) == "unknown"
    for name, kind in lane.ERROR_INFO_KINDS.items():
        assert lane.error_kind(name) == kind
        assert lane.error_kind({name: {"httpStatusCode": None}}) == kind


@pytest.mark.runtime
def test_the_pinned_codex_prints_the_vendored_schema() -> None:
    """The vendored schema is what the pinned binary prints (drift compares versions through
    the same `protocol_schema`)."""
    driver = get_driver("codex")
    assert driver.protocol_schema() == schema(driver.version)  # type: ignore[attr-defined]


def ts_thread_item_tags(version: str) -> set[str]:
    """The `type` tags of `ThreadItem` in the vendored `generate-ts` output."""
    with tarfile.open(SCHEMAS / version / "codex_app_server_protocol.ts.tar.gz") as tar:
        member = tar.extractfile("./v2/ThreadItem.ts")
        assert member is not None
        text = member.read().decode("utf-8")
    return set(re.findall(r'"type": "([A-Za-z]+)"', text))


@pytest.mark.parametrize("version", VERSIONS)
def test_the_typescript_and_the_json_schema_of_a_version_agree(version: str) -> None:
    """Both vendored artifacts of one release name the same thread item types (a release whose
    TypeScript and JSON Schema disagree, or a stale artifact, fails here by version)."""
    tags = ts_thread_item_tags(version)
    assert tags and tags == type_tags(v2(version)["ThreadItem"])
