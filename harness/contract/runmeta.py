"""The run context a recording was made with, read from its `<runtime>.meta.json`.

Native streams do not say everything about a run (Codex's JSONL has no cwd or sandbox); the
recorder writes what the runtime really ran with into `<runtime>.meta.json` beside the native files
it names under `files`. The gate, `harness normalize` and the pytest plugin read it here, so a
catalog file normalizes the same way wherever it is read.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from harness.contract.errors import HarnessError
from harness.contract.lane import RunContext

META_GLOB = "*.meta.json"


def _read_meta(meta_path: Path) -> dict[str, Any]:
    try:
        meta = json.loads(meta_path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        reason = " ".join(str(exc).split())[:200]
        raise HarnessError(f"unreadable meta file: {reason}", source=str(meta_path)) from None
    if not isinstance(meta, dict):
        raise HarnessError("meta file is not a JSON object", source=str(meta_path))
    return meta


def meta_for(native: Path) -> Path | None:
    """The meta file beside `native` whose `files` names it, if any."""
    for meta_path in sorted(native.parent.glob(META_GLOB)):
        if native.name in _read_meta(meta_path).get("files", ()):
            return meta_path
    return None


def context_from_meta(meta_path: Path) -> RunContext:
    """The `context` object of one meta file as a `RunContext`."""
    try:
        return RunContext.model_validate(_read_meta(meta_path).get("context") or {})
    except ValueError as exc:
        reason = " ".join(str(exc).split())[:200]
        raise HarnessError(f"bad context: {reason}", source=str(meta_path)) from None


def recorded_context(native: Path) -> RunContext:
    """The context of the run that wrote `native`; unknown everywhere when no meta names it."""
    meta_path = meta_for(native)
    return context_from_meta(meta_path) if meta_path else RunContext()
