"""Gate reports: a terminal matrix (rich), and report/ with JUnit XML, summary.md and index.html.

JUnit XML has one test case per lane x scenario (and one per lane pair), so any CI shows failures
natively; summary.md is short enough for a CI job summary; index.html is one static page with the
matrix, the capability table, the divergence ledger and every failing cell's diff.
"""

from __future__ import annotations

import html
from collections.abc import Iterable
from pathlib import Path
from xml.etree import ElementTree as ET

from rich.console import Console
from rich.table import Table

from harness.conformance.capabilities import matrix
from harness.conformance.results import CellResult, GateResult, PairResult
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


def print_matrix(result: GateResult, console: Console) -> None:
    cells = _cell_map(result)
    table = Table(title="conformance: lanes x scenarios", show_lines=False)
    table.add_column("scenario")
    for lane in result.lanes:
        table.add_column(lane, justify="center")
    table.add_column("pairs", justify="center")
    for scenario in result.scenarios:
        row = [scenario]
        for lane in result.lanes:
            cell = cells.get((scenario, lane))
            status = cell.status if cell else "gap"
            row.append(f"[{COLOR[status]}]{SYMBOL[status]}[/]")
        row.append(_pair_summary(p for p in result.pairs if p.scenario == scenario))
        table.add_row(*row)
    console.print(table)
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


# ------------------------------------------------------------------------------ junit


def junit_xml(result: GateResult) -> str:
    suite = ET.Element("testsuite", name="conformance")
    failures = 0
    for cell in result.cells:
        case = ET.SubElement(suite, "testcase", classname=f"cell.{cell.scenario}",
                             name=cell.lane, time=f"{cell.seconds:.3f}")
        if cell.status == "gap":
            ET.SubElement(case, "skipped", message=cell.reason)
        elif cell.status == "error":
            failures += 1
            ET.SubElement(case, "error", message=cell.reason)
        elif cell.status == "fail":
            failures += 1
            node = ET.SubElement(case, "failure", message=", ".join(c.name for c in cell.failures))
            node.text = "\n\n".join(f"{c.name}:\n{c.detail}" for c in cell.failures)
    for pair in result.pairs:
        case = ET.SubElement(suite, "testcase", classname=f"pair.{pair.scenario}",
                             name=f"{pair.lanes[0]}~{pair.lanes[1]}")
        if pair.status == "fail":
            failures += 1
            node = ET.SubElement(case, "failure", message=", ".join(pair.checks) or "fail")
            node.text = pair.diff
        elif pair.status == "masked":
            ET.SubElement(case, "system-out").text = f"equal under masks: {pair.reason}"
    for entry in result.stale_entries:
        failures += 1
        case = ET.SubElement(suite, "testcase", classname="ledger", name=entry[:80])
        ET.SubElement(case, "failure", message=f"ledger.stale: {entry}")
    for problem in result.capability_problems:
        failures += 1
        case = ET.SubElement(suite, "testcase", classname="capabilities", name=problem[:80])
        ET.SubElement(case, "failure", message=problem)
    for finding in result.secret_findings:
        failures += 1
        case = ET.SubElement(suite, "testcase", classname="secrets", name=finding[:80])
        ET.SubElement(case, "failure", message=finding)
    suite.set("tests", str(len(suite)))
    suite.set("failures", str(failures))
    ET.indent(suite)
    return ET.tostring(suite, encoding="unicode", xml_declaration=True) + "\n"


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
body{font-family:system-ui,sans-serif;margin:2rem;color:#1b1b1b}
table{border-collapse:collapse;margin:1rem 0}
th,td{border:1px solid #ccc;padding:.3rem .6rem;text-align:center}
th:first-child,td:first-child{text-align:left}
.pass{background:#dff5e1}.fail,.error{background:#fbdada}.gap{background:#fff4cc}
.masked{background:#dcefff}
pre{background:#f6f6f6;padding:.6rem;overflow:auto;font-size:.85rem}
"""


def _td(status: str, text: str, title: str = "") -> str:
    return (f'<td class="{status}" title="{html.escape(title)}">'
            f"{html.escape(text)}</td>")


def index_html(result: GateResult) -> str:
    cells = _cell_map(result)
    verdict = "PASS" if result.ok else "FAIL"
    out = [f"<!doctype html><html lang=en><head><meta charset=utf-8>"
           f"<title>Conformance gate: {verdict}</title><style>{_CSS}</style></head><body>",
           f"<h1>Conformance gate: {verdict}</h1>",
           '<h2>Matrix</h2><table id="matrix"><tr><th>scenario</th>'
           + "".join(f"<th>{html.escape(lane)}</th>" for lane in result.lanes)
           + "<th>pairs</th></tr>"]
    for scenario in result.scenarios:
        row = [f"<tr><td>{html.escape(scenario)}</td>"]
        for lane in result.lanes:
            cell = cells.get((scenario, lane))
            status = cell.status if cell else "gap"
            row.append(_td(status, f"{SYMBOL[status]} {status}", cell.reason if cell else ""))
        pairs = _pair_summary(p for p in result.pairs if p.scenario == scenario)
        row.append(f"<td>{html.escape(pairs)}</td></tr>")
        out.append("".join(row))
    out.append("</table>")
    out.append('<h2>Capabilities</h2><table id="capabilities"><tr><th>lane</th><th>provider</th>'
               "<th>declared</th><th>demonstrated</th><th>item kinds</th></tr>")
    for lane_row in matrix(result.lanes, result.cells, result.scenarios):
        col = {k: html.escape(", ".join(v) if isinstance(v, list) else str(v))
               for k, v in lane_row.items()}
        out.append(f"<tr><td>{col['lane']}</td><td>{col['provider']}</td>"
                   f"<td>{col['capabilities']}</td><td>{col['demonstrated']}</td>"
                   f"<td>{col['item_kinds']}</td></tr>")
    out.append("</table>")
    if result.capability_problems:
        out.append("<ul>" + "".join(f"<li>{html.escape(p)}</li>"
                                    for p in result.capability_problems) + "</ul>")
    out.append('<h2>Divergence ledger</h2><table id="ledger"><tr><th>scenario</th>'
               "<th>lanes</th><th>status</th><th>reason</th></tr>")
    for pair in result.pairs:
        if pair.status == "masked":
            out.append(f"<tr><td>{html.escape(pair.scenario)}</td>"
                       f"<td>{html.escape(' vs '.join(pair.lanes))}</td>"
                       + _td(pair.status, pair.status)
                       + f"<td>{html.escape(pair.reason)}</td></tr>")
    out.append("</table><h2>Failures</h2>")
    for cell in result.cells:
        if cell.status in {"fail", "error"}:
            detail = cell.reason + "\n".join(f"{c.name}:\n{c.detail}" for c in cell.failures)
            out.append(f"<h3 id=\"{html.escape(cell.scenario)}-{html.escape(cell.lane)}\">"
                       f"{html.escape(cell.scenario)} / {html.escape(cell.lane)}</h3>"
                       f"<pre>{html.escape(detail)}</pre>")
    for pair in result.pairs:
        if pair.status == "fail":
            out.append(f"<h3>{html.escape(pair.scenario)}: {html.escape(' vs '.join(pair.lanes))}"
                       f"</h3><pre>{html.escape(pair.diff)}</pre>")
    for entry in result.stale_entries:
        out.append(f"<h3>ledger.stale</h3><pre>{html.escape(entry)}</pre>")
    out.append("</body></html>\n")
    return "\n".join(out)


def write_reports(result: GateResult, folder: Path) -> list[Path]:
    paths = [folder / "junit.xml", folder / "summary.md", folder / "index.html"]
    for path, text in zip(paths, (junit_xml(result), summary_md(result), index_html(result)),
                          strict=True):
        atomic_write_text(path, text)
    return paths
