"""The divergence ledger: real, known differences between lanes, read from DIVERGENCES.md.

Each scenario folder may hold a DIVERGENCES.md with one `## <id>` section per divergence; each
section holds a fenced ```yaml block with `id`, `lanes`, `versus`, `kind` and `reason`. Prose stays
readable for people; the YAML makes it checkable for the gate, which reports a listed divergence
as "known" and fails when a listed divergence no longer happens (so the ledger stays true).
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from harness.contract.errors import InputError

DivergenceKind = Literal[
    "missing_item", "extra_item", "field", "order", "outcome", "capability_gap"
]
_BLOCK = re.compile(r"^```ya?ml[ \t]*\n(?P<body>.*?)^```", re.DOTALL | re.MULTILINE)
LEDGER_NAME = "DIVERGENCES.md"


class Divergence(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    id: str
    lanes: list[str] = Field(min_length=1)
    versus: list[str] = Field(min_length=1)
    kind: DivergenceKind
    reason: str

    def covers(self, lane_a: str, lane_b: str) -> bool:
        """True when this entry explains a difference between the two lanes (either order)."""
        return (lane_a in self.lanes and lane_b in self.versus) or (
            lane_b in self.lanes and lane_a in self.versus)


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
            reason = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
            raise InputError(f"bad divergence entry: {reason}", source=str(path),
                             line=line) from None
    return entries
