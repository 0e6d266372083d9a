"""Gate reports: a terminal matrix (rich), and report/ with JUnit XML, summary.md and index.html.

JUnit XML has one test case per check of each lane x scenario cell and lane pair, so any CI shows
which check failed natively; summary.md is short enough for a CI job summary; index.html is one
static page: failures first (golden diffs as the fields that changed, coloured), then the matrix
whose failing cells link to them, the capability table and the divergence ledger (collapsed),
with the run's metadata (date, commit, harness, runtime and SDK versions).
"""

from __future__ import annotations

import html
import json
import platform
import re
import subprocess
from collections.abc import Iterable
from datetime import UTC, datetime
from importlib import metadata
from pathlib import Path
from typing import Any
from xml.etree import ElementTree as ET

from junitparser import Error, Failure, JUnitXml, Skipped, TestCase, TestSuite
from rich.console import Console
from rich.table import Table

from harness.conformance.capabilities import matrix
from harness.conformance.results import CellResult, Check, GateResult, PairResult
from harness.fsutil import atomic_write_text

SYMBOL = {"pass": "✓", "fail": "✗", "gap": "-", "error": "!", "masked": "≈"}
COLOR = {"pass": "green", "fail": "red", "gap": "yellow", "error": "red", "masked": "cyan"}
LEGEND = ("✓ pass  ✗ fail  - gap (not recorded / unsupported)  ! lane error  "
          "≈ equal under named masks (ledger entries, kind gaps)")


def _cell_map(result: GateResult) -> dict[tuple[str, str], CellResult]:
    return {(c.scenario, c.lane): c for c in result.cells}


def _pair_summary(pairs: Iterable[PairResult]) -> str:
    counts: dict[str, int] = {}
    for pair in pairs:
        counts[pair.status] = counts.get(pair.status, 0) + 1
    return " ".join(f"{SYMBOL[k]}{v}" for k, v in sorted(counts.items())) or "-"


# ------------------------------------------------------------------------------ terminal


def short_headers(lanes: Iterable[str]) -> dict[str, str]:
    """Lane id -> a short column header: the initials of its dash-separated parts
    (`codex-native` -> `cn`, `anthropic` -> `a`), numbered when two lanes share initials."""
    ids = list(lanes)
    initials = {lane: "".join(part[:1] for part in lane.split("-") if part) or lane
                for lane in ids}
    taken = [initials[lane] for lane in ids]
    return {lane: initials[lane] if taken.count(initials[lane]) == 1 else f"{initials[lane]}{i}"
            for i, lane in enumerate(ids, start=1)}


def _matrix_width(result: GateResult, headers: dict[str, str]) -> int:
    """Columns a rich table with these headers needs (3 per column for borders and padding)."""
    scenario = max([len("scenario"), *map(len, result.scenarios)])
    pairs = max([len("pairs"), *(len(_pair_summary(p for p in result.pairs if p.scenario == s))
                                 for s in result.scenarios)])
    return 1 + sum(width + 3 for width in [scenario, *map(len, headers.values()), pairs])


def print_matrix(result: GateResult, console: Console) -> None:
    """The lanes x scenarios matrix; lane headers are shortened (with a legend) when the full
    ids do not fit the console, so an 80-column CI log shows every scenario name whole."""
    cells = _cell_map(result)
    headers = {lane: lane for lane in result.lanes}
    if _matrix_width(result, headers) > console.width:
        headers = short_headers(result.lanes)
    table = Table(title="conformance: lanes x scenarios", show_lines=False)
    table.add_column("scenario", no_wrap=True,
                     min_width=max([len("scenario"), *map(len, result.scenarios)]))
    for lane in result.lanes:
        table.add_column(headers[lane], justify="center", no_wrap=True)
    table.add_column("pairs", justify="center", no_wrap=True)
    for scenario in result.scenarios:
        row = [scenario]
        for lane in result.lanes:
            cell = cells.get((scenario, lane))
            status = cell.status if cell else "gap"
            row.append(f"[{COLOR[status]}]{SYMBOL[status]}[/]")
        row.append(_pair_summary(p for p in result.pairs if p.scenario == scenario))
        table.add_row(*row, end_section=False)
    console.print(table)
    shortened = [f"{short}={lane}" for lane, short in headers.items() if short != lane]
    if shortened:
        console.print("lanes: " + "  ".join(shortened), markup=False)
    console.print(LEGEND)
    for cell in result.cells:
        if cell.status in {"fail", "error"}:
            console.print(f"\n[red]{cell.status.upper()}[/] {cell.scenario} / {cell.lane}")
            if cell.reason:
                console.print(f"  {cell.reason}", markup=False)
            for check in cell.failures:
                console.print(f"  {check.name}:", markup=False)
                console.print("    " + check.detail.replace("\n", "\n    "), markup=False)
    for pair in result.pairs:
        if pair.status == "fail":
            console.print(f"\n[red]FAIL[/] {pair.scenario}: "
                          f"{pair.lanes[0]} vs {pair.lanes[1]}")
            console.print("    " + pair.diff.replace("\n", "\n    "), markup=False)
    for entry in result.stale_entries:
        console.print(f"\nLEDGER STALE {entry}", markup=False)
    for problem in result.capability_problems:
        console.print(f"\nCAPABILITY {problem}", markup=False)
    for finding in result.secret_findings:
        console.print(f"\nSECRET {finding}", markup=False)
    for name in result.updated_golden:
        console.print(f"golden updated: {name}", markup=False)


# ------------------------------------------------------------------------------ run metadata

DISTRIBUTION = "agent-conformance-harness"
TOOL_EXTRAS = frozenset({"dev", "fuzz", "testing"})
"""Extras that hold tools, not a lane's provider SDK."""


def run_metadata(cassettes: Path, scenarios: Iterable[str]) -> dict[str, Any]:
    """What a report needs to be read later: when, at which commit, with which harness, runtime
    and SDK versions (runtimes as the selected recordings' meta files pin them)."""
    return {
        "date": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "commit": _git_commit(cassettes),
        "harness": _version(DISTRIBUTION),
        "python": platform.python_version(),
        "runtimes": _recorded_runtimes(cassettes, scenarios),
        "sdks": _sdk_versions(),
    }


def _git_commit(where: Path) -> str | None:
    folder = where if where.is_dir() else Path.cwd()
    try:
        done = subprocess.run(["git", "rev-parse", "--short=12", "HEAD"], cwd=folder,
                              capture_output=True, text=True, check=False, timeout=10)
    except (OSError, subprocess.SubprocessError):
        return None
    if done.returncode != 0:
        return None
    dirty = subprocess.run(["git", "status", "--porcelain", "--untracked-files=no"],
                           cwd=folder, capture_output=True, text=True, check=False, timeout=30)
    return done.stdout.strip() + ("+dirty" if dirty.stdout.strip() else "")


def _version(distribution: str) -> str | None:
    try:
        return metadata.version(distribution)
    except metadata.PackageNotFoundError:
        return None


def _recorded_runtimes(cassettes: Path, scenarios: Iterable[str]) -> dict[str, list[str]]:
    found: dict[str, set[str]] = {}
    for scenario in scenarios:
        for meta_path in sorted((cassettes / scenario).glob("*.meta.json")):
            try:
                meta = json.loads(meta_path.read_text(encoding="utf-8"))
            except (OSError, ValueError):
                continue
            if isinstance(meta, dict) and meta.get("runtime") and meta.get("version"):
                found.setdefault(str(meta["runtime"]), set()).add(str(meta["version"]))
    return {runtime: sorted(versions) for runtime, versions in sorted(found.items())}


def _sdk_versions() -> dict[str, str | None]:
    """Installed versions of the packages the provider extras of this distribution name."""
    try:
        requirements = metadata.requires(DISTRIBUTION) or []
    except metadata.PackageNotFoundError:
        return {}
    sdks: dict[str, str | None] = {}
    for requirement in requirements:
        extra = re.search(r"""extra\s*==\s*["']([^"']+)["']""", requirement)
        package = re.match(r"[A-Za-z0-9._-]+", requirement)
        if extra and package and extra.group(1) not in TOOL_EXTRAS:
            sdks[package.group(0)] = _version(package.group(0))
    return dict(sorted(sdks.items()))


# ------------------------------------------------------------------------------ json

JSON_FORMAT_VERSION = 1


def gate_json(result: GateResult, *, seconds: float | None = None,
              run: dict[str, Any] | None = None) -> dict[str, Any]:
    """The gate's findings as one JSON document (`harness check --format json`): every cell
    with each check by its stable id, every pair with the ids of the checks that failed and the
    masks it was equal under, and the gate-wide problems. `format` versions this layout."""
    return {
        "format": JSON_FORMAT_VERSION,
        "ok": result.ok,
        "seconds": None if seconds is None else round(seconds, 3),
        "run": run or {},
        "lanes": list(result.lanes),
        "scenarios": list(result.scenarios),
        "cells": [{
            "scenario": cell.scenario, "lane": cell.lane, "status": cell.status,
            "reason": cell.reason, "seconds": round(cell.seconds, 6),
            "checks": [{"id": c.name, "ok": c.ok, "detail": c.detail} for c in cell.checks],
        } for cell in result.cells],
        "pairs": [{
            "scenario": pair.scenario, "lanes": list(pair.lanes), "status": pair.status,
            "seconds": round(pair.seconds, 6), "failed_checks": pair.checks,
            "masks": pair.masks, "gaps": pair.gaps, "reason": pair.reason, "diff": pair.diff,
        } for pair in result.pairs],
        "stale_entries": result.stale_entries,
        "capability_problems": result.capability_problems,
        "secret_findings": result.secret_findings,
        "updated_golden": result.updated_golden,
    }


# ------------------------------------------------------------------------------ junit


def junit_xml(result: GateResult, *, run: dict[str, Any] | None = None) -> str:
    """JUnit XML with one test case per check, so a CI shows which check of which cell failed.

    One `<testsuite>` per scenario: for each lane a case per check id (`schema`, `order...`,
    `golden`, `outline...`) under classname `<scenario>.<lane>`; a lane that could not be read
    is one `normalize` case with an `<error>`; a gap is one skipped `recording` case. Each lane
    pair is classname `<scenario>.<a>~<b>`: one failed case per failing check id
    (`eq.command_execution.output`, ...) or one passing `eq` case. Stale ledger entries,
    capability problems and secrets are failures in a `gate` suite. A cell's time (normalizing
    included) is on its first case. `tests`/`failures`/`errors`/`skipped` are counted by
    junitparser from the cases.
    """
    document = JUnitXml("conformance")
    cells: dict[str, list[CellResult]] = {}
    for cell in result.cells:
        cells.setdefault(cell.scenario, []).append(cell)
    for scenario in result.scenarios:
        suite = TestSuite(scenario)
        for prop, value in _junit_properties(run):
            suite.add_property(prop, value)
        for cell in cells.get(scenario, []):
            for case in _cell_cases(cell):
                suite.add_testcase(case)
        for pair in result.pairs:
            if pair.scenario == scenario:
                for case in _pair_cases(pair):
                    suite.add_testcase(case)
        suite.update_statistics()  # type: ignore[no-untyped-call]
        document.add_testsuite(suite)
    gate = TestSuite("gate")
    for case in _gate_cases(result):
        gate.add_testcase(case)
    gate.update_statistics()  # type: ignore[no-untyped-call]
    document.add_testsuite(gate)
    document.update_statistics()  # type: ignore[no-untyped-call]
    tree = ET.fromstring(document.tostring())  # type: ignore[no-untyped-call]
    ET.indent(tree)
    return ET.tostring(tree, encoding="unicode", xml_declaration=True) + "\n"


def _junit_properties(run: dict[str, Any] | None) -> list[tuple[str, str]]:
    flat: list[tuple[str, str]] = []
    for key, value in (run or {}).items():
        if isinstance(value, dict):
            flat += [(f"{key}.{name}", ", ".join(v) if isinstance(v, list) else str(v))
                     for name, v in value.items()]
        elif value is not None:
            flat.append((key, str(value)))
    return flat


def _case(name: str, classname: str, *, seconds: float | None = None,
          outcome: Failure | Error | Skipped | None = None, text: str = "") -> TestCase:
    case = TestCase(name, classname=classname, time=seconds)
    if outcome is not None:
        if text:
            outcome.text = text
        case.result = [outcome]
    return case


def _cell_cases(cell: CellResult) -> list[TestCase]:
    where = f"{cell.scenario}.{cell.lane}"
    if cell.status == "gap":
        return [_case("recording", where, outcome=Skipped(cell.reason))]
    if cell.status == "error":
        return [_case("normalize", where, seconds=cell.seconds,
                      outcome=Error(cell.reason.splitlines()[0] if cell.reason else "error"),
                      text=cell.reason)]
    cases = []
    for index, check in enumerate(cell.checks):
        failed = None if check.ok else Failure(f"{check.name} failed")
        cases.append(_case(check.name, where, seconds=cell.seconds if index == 0 else 0.0,
                           outcome=failed, text=check.detail if failed else ""))
    return cases


def _pair_cases(pair: PairResult) -> list[TestCase]:
    where = f"{pair.scenario}.{pair.lanes[0]}~{pair.lanes[1]}"
    if pair.status == "fail":
        return [_case(check_id, where, seconds=pair.seconds if index == 0 else 0.0,
                      outcome=Failure(f"{check_id} differs"), text=pair.diff)
                for index, check_id in enumerate(pair.checks or ["eq"])]
    case = _case("eq", where, seconds=pair.seconds)
    if pair.status == "masked":
        case.system_out = f"equal under masks: {pair.reason}"
    return [case]


def _gate_cases(result: GateResult) -> list[TestCase]:
    found = [("ledger.stale", entry) for entry in result.stale_entries]
    found += [("capabilities", problem) for problem in result.capability_problems]
    found += [("secrets", finding) for finding in result.secret_findings]
    if not found:
        return [_case(name, "gate") for name in ("ledger.stale", "capabilities", "secrets")]
    return [_case(check_id, "gate", outcome=Failure(f"{check_id}: {text[:200]}"), text=text)
            for check_id, text in found]


# ------------------------------------------------------------------------------ markdown


def summary_md(result: GateResult) -> str:
    cells = _cell_map(result)
    verdict = "PASS" if result.ok else "FAIL"
    lines = [f"# Conformance gate: {verdict}", "",
             "| scenario | " + " | ".join(result.lanes) + " | pairs |",
             "|---|" + "---|" * (len(result.lanes) + 1)]
    for scenario in result.scenarios:
        marks = []
        for lane in result.lanes:
            cell = cells.get((scenario, lane))
            marks.append(SYMBOL[cell.status if cell else "gap"])
        pairs = _pair_summary(p for p in result.pairs if p.scenario == scenario)
        lines.append(f"| {scenario} | " + " | ".join(marks) + f" | {pairs} |")
    lines += ["", LEGEND, ""]
    if result.stale_entries:
        lines += ["## Stale ledger entries", ""]
        lines += [f"- {entry}" for entry in result.stale_entries]
    masked = [p for p in result.pairs if p.status == "masked"]
    if masked:
        lines += ["", "## Pairs equal under named masks", ""]
        lines += [f"- **{p.scenario}** {p.lanes[0]} vs {p.lanes[1]}: {', '.join(p.masks)}"
                  for p in masked]
    if result.capability_problems:
        lines += ["", "## Capability problems", ""]
        lines += [f"- {p}" for p in result.capability_problems]
    if result.secret_findings:
        lines += ["", "## Possible secrets", ""]
        lines += [f"- `{f}`" for f in result.secret_findings]
    return "\n".join(lines) + "\n"


# ------------------------------------------------------------------------------ html


_CSS = """
body{font-family:system-ui,sans-serif;margin:2rem;color:#1b1b1b;max-width:90rem}
table{border-collapse:collapse;margin:1rem 0}
th,td{border:1px solid #ccc;padding:.3rem .6rem;text-align:center;vertical-align:top}
th:first-child,td:first-child{text-align:left}
.pass{background:#dff5e1}.fail,.error{background:#fbdada}.gap{background:#fff4cc}
.masked{background:#dcefff}
td a{color:inherit;font-weight:600}
pre{background:#f6f6f6;padding:.6rem;overflow:auto;font-size:.85rem;white-space:pre-wrap}
.del{background:#fbdada;color:#8a1010}.ins{background:#dff5e1;color:#0b5b1b}
.hunk{color:#666}
table.changes td{text-align:left;font-family:ui-monospace,monospace;font-size:.85rem;
  white-space:pre-wrap;word-break:break-all;max-width:40rem}
dl#run{display:grid;grid-template-columns:max-content auto;gap:.2rem 1rem}
dl#run dt{font-weight:600}dl#run dd{margin:0}
section.failure{border-left:4px solid #c62828;padding-left:1rem;margin:1rem 0}
"""
MAX_VALUE = 2000
"""Characters of one changed value shown in the HTML report (the raw diff keeps the rest)."""


def _anchor(*parts: str) -> str:
    return "-".join(["x", *("".join(ch if ch.isalnum() or ch in "_." else "_" for ch in part)
                             for part in parts)])


def cell_anchor(scenario: str, lane: str) -> str:
    return _anchor("cell", scenario, lane)


def pair_anchor(scenario: str, lanes: tuple[str, str]) -> str:
    return _anchor("pair", scenario, *lanes)


def _td(status: str, text: str, title: str = "", href: str = "") -> str:
    body = html.escape(text)
    if href:
        body = f'<a href="#{href}">{body}</a>'
    return f'<td class="{status}" title="{html.escape(title)}">{body}</td>'


# -- golden diffs as changed fields


def _changed_fields(old: Any, new: Any, path: str = "") -> list[tuple[str, Any, Any]]:
    """(path, old, new) for every leaf where two JSON values differ."""
    if isinstance(old, dict) and isinstance(new, dict):
        found: list[tuple[str, Any, Any]] = []
        for key in [*old, *(k for k in new if k not in old)]:
            found += _changed_fields(old.get(key, _MISSING), new.get(key, _MISSING),
                                     f"{path}.{key}" if path else str(key))
        return found
    if isinstance(old, list) and isinstance(new, list) and len(old) == len(new):
        return [change for index, (a, b) in enumerate(zip(old, new, strict=True))
                for change in _changed_fields(a, b, f"{path}[{index}]")]
    return [] if old == new else [(path or "(value)", old, new)]


class _Missing:
    def __repr__(self) -> str:
        return "(absent)"


_MISSING = _Missing()


def golden_changes(diff: str) -> list[tuple[str, str, Any, Any]] | None:
    """A golden check's unified diff as (event, field, golden, this run) rows: the removed and
    added JSONL lines paired in order and compared field by field, so a 300-character line shows
    as the one field that changed. None when the diff is not one of JSON lines."""
    removed: list[Any] = []
    added: list[Any] = []
    for line in diff.splitlines():
        if line.startswith(("---", "+++")) or line[:1] not in {"-", "+"}:
            continue
        try:
            value = json.loads(line[1:])
        except ValueError:
            return None
        (removed if line[0] == "-" else added).append(value)
    if not removed and not added:
        return None
    rows: list[tuple[str, str, Any, Any]] = []
    for index in range(max(len(removed), len(added))):
        old = removed[index] if index < len(removed) else _MISSING
        new = added[index] if index < len(added) else _MISSING
        where = _event_label(new if new is not _MISSING else old)
        if old is _MISSING or new is _MISSING:
            rows.append((where, "(whole event)", old, new))
        else:
            rows += [(where, field, a, b) for field, a, b in _changed_fields(old, new)]
    return rows


def _event_label(event: Any) -> str:
    if not isinstance(event, dict):
        return "?"
    return f"seq {event.get('seq')} {event.get('type', '')}".strip()


def _value(value: Any) -> str:
    if value is _MISSING:
        return "(absent)"
    text = json.dumps(value, ensure_ascii=False)
    return text if len(text) <= MAX_VALUE else text[:MAX_VALUE] + " …"


def _changes_table(rows: list[tuple[str, str, Any, Any]]) -> str:
    out = ['<table class="changes"><tr><th>event</th><th>field</th><th>golden</th>'
           "<th>this run</th></tr>"]
    out += [f"<tr><td>{html.escape(where)}</td><td>{html.escape(field)}</td>"
            f'<td class="del">{html.escape(_value(old))}</td>'
            f'<td class="ins">{html.escape(_value(new))}</td></tr>'
            for where, field, old, new in rows]
    return "".join(out) + "</table>"


def _coloured(text: str) -> str:
    """A diff or check detail as <pre>, removed lines red, added green."""
    lines = []
    for line in text.splitlines():
        escaped = html.escape(line)
        if line.startswith("@@"):
            lines.append(f'<span class="hunk">{escaped}</span>')
        elif line.startswith("-") and not line.startswith("---"):
            lines.append(f'<span class="del">{escaped}</span>')
        elif line.startswith("+") and not line.startswith("+++"):
            lines.append(f'<span class="ins">{escaped}</span>')
        else:
            lines.append(escaped)
    return "<pre>" + "\n".join(lines) + "</pre>"


def _check_detail(check: Check) -> str:
    rows = golden_changes(check.detail) if check.name == "golden" else None
    if rows is None:
        return _coloured(check.detail)
    return (_changes_table(rows) + "<details><summary>raw diff</summary>"
            + _coloured(check.detail) + "</details>")


# -- the page


def _run_block(run: dict[str, Any] | None) -> str:
    if not run:
        return ""
    items = []
    for key in ("date", "commit", "harness", "python", "runtimes", "sdks"):
        value = run.get(key)
        if isinstance(value, dict):
            value = ", ".join(f"{name} {'/'.join(v) if isinstance(v, list) else v}"
                              for name, v in value.items()) or "-"
        items.append(f"<dt>{html.escape(key)}</dt><dd>{html.escape(str(value or '-'))}</dd>")
    return '<dl id="run">' + "".join(items) + "</dl>"


def _failures(result: GateResult) -> list[str]:
    out: list[str] = []
    for cell in result.cells:
        if cell.status not in {"fail", "error"}:
            continue
        body = [f'<section class="failure" id="{cell_anchor(cell.scenario, cell.lane)}">'
                f"<h3>{html.escape(cell.scenario)} / {html.escape(cell.lane)}: "
                f"{html.escape(cell.status)}</h3>"]
        if cell.reason:
            body.append(_coloured(cell.reason))
        for check in cell.failures:
            body.append(f"<h4>{html.escape(check.name)}</h4>{_check_detail(check)}")
        out.append("".join(body) + "</section>")
    for pair in result.pairs:
        if pair.status == "fail":
            out.append(f'<section class="failure" id="{pair_anchor(pair.scenario, pair.lanes)}">'
                       f"<h3>{html.escape(pair.scenario)}: "
                       f"{html.escape(' vs '.join(pair.lanes))}</h3>"
                       f"<p>{html.escape(', '.join(pair.checks))}</p>{_coloured(pair.diff)}"
                       "</section>")
    out += [f'<section class="failure"><h3>ledger.stale</h3>{_coloured(entry)}</section>'
            for entry in result.stale_entries]
    out += [f'<section class="failure"><h3>capabilities</h3>{_coloured(problem)}</section>'
            for problem in result.capability_problems]
    out += [f'<section class="failure"><h3>secrets</h3>{_coloured(finding)}</section>'
            for finding in result.secret_findings]
    return out


def _matrix(result: GateResult) -> list[str]:
    cells = _cell_map(result)
    out = ['<table id="matrix"><tr><th>scenario</th>'
           + "".join(f"<th>{html.escape(lane)}</th>" for lane in result.lanes)
           + "<th>pairs</th></tr>"]
    for scenario in result.scenarios:
        row = [f"<tr><td>{html.escape(scenario)}</td>"]
        for lane in result.lanes:
            cell = cells.get((scenario, lane))
            status = cell.status if cell else "gap"
            href = cell_anchor(scenario, lane) if status in {"fail", "error"} else ""
            row.append(_td(status, f"{SYMBOL[status]} {status}", cell.reason if cell else "",
                           href))
        pairs = [p for p in result.pairs if p.scenario == scenario]
        failing = next((p for p in pairs if p.status == "fail"), None)
        status = "fail" if failing else "pass" if pairs else "gap"
        row.append(_td(status, _pair_summary(pairs),
                       href=pair_anchor(scenario, failing.lanes) if failing else ""))
        out.append("".join(row) + "</tr>")
    return [*out, "</table>"]


def _capabilities(result: GateResult) -> list[str]:
    out = ['<h2>Capabilities</h2><table id="capabilities"><tr><th>lane</th><th>provider</th>'
           "<th>declared</th><th>demonstrated</th><th>item kinds</th></tr>"]
    for lane_row in matrix(result.lanes, result.cells, result.scenarios):
        col = {k: html.escape(", ".join(v) if isinstance(v, list) else str(v))
               for k, v in lane_row.items()}
        out.append(f"<tr><td>{col['lane']}</td><td>{col['provider']}</td>"
                   f"<td>{col['capabilities']}</td><td>{col['demonstrated']}</td>"
                   f"<td>{col['item_kinds']}</td></tr>")
    return [*out, "</table>"]


def _ledger(result: GateResult) -> list[str]:
    masked = [p for p in result.pairs if p.status == "masked"]
    out = [f'<details id="ledger-details"><summary>Divergence ledger: {len(masked)} lane '
           'pairs equal under named masks</summary><table id="ledger"><tr><th>scenario</th>'
           "<th>lanes</th><th>status</th><th>reason</th></tr>"]
    out += [f"<tr><td>{html.escape(pair.scenario)}</td>"
            f"<td>{html.escape(' vs '.join(pair.lanes))}</td>" + _td(pair.status, pair.status)
            + f"<td>{html.escape(pair.reason)}</td></tr>" for pair in masked]
    return [*out, "</table></details>"]


def index_html(result: GateResult, *, run: dict[str, Any] | None = None) -> str:
    """One static page: verdict and run metadata, the failures (each failing matrix cell links
    to its section; golden diffs as the fields that changed), the matrix, the capabilities, and
    the divergence ledger collapsed."""
    verdict = "PASS" if result.ok else "FAIL"
    failures = _failures(result)
    out = [f"<!doctype html><html lang=en><head><meta charset=utf-8>"
           f"<title>Conformance gate: {verdict}</title><style>{_CSS}</style></head><body>",
           f"<h1>Conformance gate: {verdict}</h1>", _run_block(run),
           f'<h2 id="failures">Failures ({len(failures)})</h2>',
           *(failures or ["<p>None: every cell passes or is a declared gap, every pair is "
                          "equal.</p>"]),
           "<h2>Matrix</h2>", *_matrix(result), f"<p>{html.escape(LEGEND)}</p>",
           *_capabilities(result), *_ledger(result), "</body></html>\n"]
    return "\n".join(out)


def write_reports(result: GateResult, folder: Path, *,
                  run: dict[str, Any] | None = None) -> list[Path]:
    """junit.xml, summary.md and index.html in `folder`; `run` is `run_metadata()`."""
    paths = [folder / "junit.xml", folder / "summary.md", folder / "index.html"]
    texts = (junit_xml(result, run=run), summary_md(result), index_html(result, run=run))
    for path, text in zip(paths, texts, strict=True):
        atomic_write_text(path, text)
    return paths
