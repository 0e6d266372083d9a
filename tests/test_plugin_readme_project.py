"""README's "Use it from your project", done as a user would: a throwaway project made of the
section's files and two scenarios of the catalog, its commands run one by one, its tests run
(one of them a hypothesis property over `harness.testing.strategies.claude_code_streams`)."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
SECTION = "## Use it from your project"
SCENARIOS = ["hello", "shell_ok"]


def readme_blocks() -> list[tuple[str, str]]:
    """(language, text) of every fenced block in the section."""
    text = (REPO / "README.md").read_text(encoding="utf-8")
    start = text.index(SECTION)
    end = text.find("\n## ", start + len(SECTION))
    section = text[start:end if end != -1 else None]
    return re.findall(r"```(\w+)\n(.*?)```", section, flags=re.S)


def _file_name(block: str) -> str:
    first = block.splitlines()[0]
    assert first.startswith("# "), f"a file block starts with '# <path>': {first!r}"
    return first[2:].strip()


def test_readme_project_runs(tmp_path: Path) -> None:
    blocks = readme_blocks()
    languages = [language for language, _ in blocks]
    assert languages == ["sh", "toml", "python", "sh"], languages
    install, pyproject, test_file, commands = (text for _, text in blocks)
    assert "pip install" in install and "[testing," in install
    assert "@given(claude_code_streams(" in test_file  # a strategy, drawn in the user's project
    project = tmp_path / "my-project"
    for scenario in SCENARIOS:
        shutil.copytree(REPO / "cassettes" / scenario, project / "cassettes" / scenario)
        shutil.copytree(REPO / "golden" / scenario, project / "golden" / scenario)
    for block in (pyproject, test_file):
        target = project / _file_name(block)
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(block)
    bin_dir = str(Path(sys.executable).parent)
    env = {**os.environ, "PATH": bin_dir + os.pathsep + os.environ.get("PATH", "")}
    outputs = []
    for line in commands.strip().splitlines():
        done = subprocess.run(["bash", "-c", line], cwd=project, env=env, capture_output=True,
                              text=True, check=False, timeout=600)
        assert done.returncode == 0, f"{line}\n{done.stdout}\n{done.stderr}"
        outputs.append(done.stdout)
    assert json.loads((project / "gate.json").read_text())["ok"] is True
    assert (project / "hello.jsonl").read_bytes() == (
        REPO / "golden" / "hello" / "codex-native.jsonl").read_bytes()
    assert re.search(r"\b7 passed\b", outputs[-1]), outputs[-1]  # 2 lanes x 2 scenarios + 3
    snapshots = [p.relative_to(project).as_posix() for p in project.glob("golden/_snapshots/**/*")
                 if p.is_file()]
    assert snapshots == ["golden/_snapshots/test_conformance/test_snapshot.jsonl"]
