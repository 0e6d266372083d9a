"""The divergence ledger: real, known differences between lanes, read from DIVERGENCES.md.

Each scenario folder may hold a DIVERGENCES.md with one `## <id>` section per divergence; each
section holds a fenced ```yaml block with `id`, `lanes`, `versus`, `kind`, `excuses` and
`reason`. Prose stays readable for people; the YAML makes it checkable for the gate.

An entry excuses exactly what its `excuses` name, never a whole pair:

- `field: <kind>.<field>`: that field of those facts is not compared (e.g.
  `command_execution.exit_code`, `turn.error_kind`, `approval.requested.action`);
- `drop: <kind>`: those facts are left out on both sides (an item only one runtime shows);
- `collapse: <kind>`: per turn only the last such fact is compared, at the turn's end (a runtime
  that folds updates into one item);
- `merge: <kind>`: per turn such facts are joined into one, their changes still compared (a
  runtime that edits one file per call where another patches several at once);
- `capability: <name>`: the lane cannot demonstrate that capability in this scenario (masks
  nothing; the capability check reads it).

`where` (canonical field values, e.g. `{command: "test -f README.md"}`) and `runs` narrow an
excuse to the facts it means. `shows` (with `field`) states what the excused lanes show there
instead, in canonical form (`null` for an exit code their runtime never sends, `""` for an
output it never shows): the gate holds them to it (check `ledger.shows`), so the excuse covers
the gap it names and not a regression hiding behind it. The gate compares everything else,
and fails an excuse that excuses nothing for some pair it covers (stale), including one whose
work another entry already does: `lanes` x `versus` must name only pairs the excuse explains.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from harness.conformance.equivalence import COMPARED, Mask
from harness.contract.errors import InputError

DivergenceKind = Literal[
    "missing_item", "extra_item", "field", "order", "outcome", "capability_gap"
]
_BLOCK = re.compile(r"^```ya?ml[ \t]*\n(?P<body>.*?)^```", re.DOTALL | re.MULTILINE)
LEDGER_NAME = "DIVERGENCES.md"
ACTIONS = ("field", "drop", "collapse", "merge", "capability")


class Excuse(BaseModel):
    """One thing an entry excuses; exactly one of field, drop, collapse, merge,
    capability."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    field: str | None = None
    drop: str | None = None
    collapse: str | None = None
    merge: str | None = None
    capability: str | None = None
    where: dict[str, Any] = Field(default_factory=dict)
    runs: list[int] | None = None
    shows: Any = None

    @model_validator(mode="after")
    def _one_action(self) -> Excuse:
        given = [n for n in ACTIONS if getattr(self, n)]
        if len(given) != 1:
            raise ValueError("an excuse names exactly one of " + ", ".join(ACTIONS))
        if self.pins and self.field is None:
            raise ValueError("`shows` goes with a `field` excuse")
        kind = self.kind
        if kind is not None and kind not in COMPARED:
            raise ValueError(f"unknown fact kind {kind!r} (known: {', '.join(COMPARED)})")
        if self.field is not None and self.field.rpartition(".")[2] not in COMPARED[kind or ""]:
            raise ValueError(f"{self.field!r} is not a compared field "
                             f"(of {kind}: {', '.join(COMPARED[kind or ''])})")
        unknown = set(self.where) - set(COMPARED.get(kind or "", ()))
        if unknown:
            raise ValueError(f"where names fields {sorted(unknown)} that {kind} does not have")
        return self

    @property
    def pins(self) -> bool:
        """Whether the excuse states the value the excused lanes show (`shows`, even null)."""
        return "shows" in self.model_fields_set

    @property
    def kind(self) -> str | None:
        if self.field is not None:
            kind, dot, _ = self.field.rpartition(".")
            return kind if dot else None
        return self.drop or self.collapse or self.merge

    def describe(self) -> str:
        """The excuse in one line, as written in the ledger."""
        action = next(f"{n}: {getattr(self, n)}" for n in ACTIONS if getattr(self, n))
        narrowing = "".join([f" where {self.where}" if self.where else "",
                             f" runs {self.runs}" if self.runs is not None else "",
                             f" shows {self.shows!r}" if self.pins else ""])
        return action + narrowing

    def mask(self, name: str) -> Mask | None:
        """The equivalence mask this excuse stands for (None for a capability)."""
        runs = frozenset(self.runs) if self.runs is not None else None
        if self.field is not None:
            kind, _, field_name = self.field.rpartition(".")
            return Mask(name, "field", kind, field_name, self.where, runs)
        if self.drop is not None:
            return Mask(name, "drop", self.drop, None, self.where, runs)
        if self.collapse is not None:
            return Mask(name, "collapse", self.collapse, None, self.where, runs)
        if self.merge is not None:
            return Mask(name, "merge", self.merge, None, self.where, runs)
        return None


class Divergence(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    id: str
    lanes: list[str] = Field(min_length=1)
    versus: list[str] = Field(min_length=1)
    kind: DivergenceKind
    excuses: list[Excuse] = Field(min_length=1)
    reason: str

    @model_validator(mode="after")
    def _capability_only_for_gaps(self) -> Divergence:
        has_capability = any(e.capability for e in self.excuses)
        if has_capability != (self.kind == "capability_gap"):
            raise ValueError("a capability excuse goes with kind capability_gap, and only there")
        return self

    def covers(self, lane_a: str, lane_b: str) -> bool:
        """True when this entry explains a difference between the two lanes (either order)."""
        return (lane_a in self.lanes and lane_b in self.versus) or (
            lane_b in self.lanes and lane_a in self.versus)

    def masks(self) -> list[Mask]:
        """Every mask this entry stands for, each named by the entry's id."""
        return [m for e in self.excuses if (m := e.mask(self.id)) is not None]

    @property
    def capabilities(self) -> list[str]:
        return [e.capability for e in self.excuses if e.capability]


def read_ledger(scenario_dir: Path) -> list[Divergence]:
    """Entries of the folder's DIVERGENCES.md (none when absent); bad entries name the line."""
    path = scenario_dir / LEDGER_NAME
    if not path.exists():
        return []
    text = path.read_text(encoding="utf-8")
    entries: list[Divergence] = []
    for match in _BLOCK.finditer(text):
        line = text.count("\n", 0, match.start()) + 1
        try:
            entries.append(Divergence.model_validate(yaml.safe_load(match.group("body"))))
        except (yaml.YAMLError, ValidationError) as exc:
            reason = " ".join(str(exc).split()) if str(exc) else type(exc).__name__
            raise InputError(f"bad divergence entry: {reason[:300]}", source=str(path),
                             line=line) from None
    ids = [e.id for e in entries]
    duplicates = sorted({i for i in ids if ids.count(i) > 1})
    if duplicates:
        raise InputError(f"duplicate divergence ids: {', '.join(duplicates)}", source=str(path))
    return entries
