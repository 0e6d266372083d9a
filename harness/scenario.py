"""Provider-neutral scenarios: what the model says, how the runtime is set up, what to expect.

A scenario (`cassettes/<name>/scenario.yaml`) is the single source every wire encoder, stub and
runtime driver reads. The model's side is a list of *steps* per run: each step is the model's
answer to one request, a list of blocks (text, reasoning, shell, patch, MCP call, plan, web
search) or a failure. Stubs pick the step from the request's content (which run's prompt, how many
tool results follow it), never from call order, so side calls cannot shift the script.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from harness.contract.errors import ScenarioError
from harness.contract.model import (
    ApprovalPolicy,
    ChangeKind,
    DecidedBy,
    Decision,
    ErrorKind,
    ItemKind,
    ItemStatus,
    PlanStatus,
)

SandboxSetting = Literal["read-only", "workspace-write", "full-access"]
AuthSetting = Literal["env", "alt_env", "login"]


class _Spec(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


# ------------------------------------------------------------------------------- model blocks


class TextBlock(_Spec):
    text: str


class ReasoningSpec(_Spec):
    text: str
    encrypted: bool = False


class ReasoningBlock(_Spec):
    reasoning: ReasoningSpec

    @model_validator(mode="before")
    @classmethod
    def _shorthand(cls, data: Any) -> Any:
        if isinstance(data, dict) and isinstance(data.get("reasoning"), str):
            return {"reasoning": {"text": data["reasoning"]}}
        return data


ClientDecisionName = Literal["approve", "approve_for_session", "approve_with_amendment", "deny",
                             "cancel"]


class ClientDecision(_Spec):
    """How the client (a scripted user) answers the approval request this call brings, for
    runtimes whose client decides approvals (e.g. `codex app-server`); runtimes that never ask
    ignore it. `message` is what a deny tells the model where the protocol carries one;
    `amendment` is the command prefix an `approve_with_amendment` allows from then on (None:
    the one the runtime proposes)."""

    decision: ClientDecisionName
    message: str | None = None
    amendment: list[str] | None = None

    @model_validator(mode="before")
    @classmethod
    def _shorthand(cls, data: Any) -> Any:
        return {"decision": data} if isinstance(data, str) else data


class ShellSpec(_Spec):
    command: str
    timeout_ms: int | None = None
    escalate: bool = Field(
        default=False,
        description="The model asks to run the command outside the sandbox (needs approval).",
    )
    client: ClientDecision | None = Field(
        default=None, description="How the client answers an approval request for this call.")


class ShellBlock(_Spec):
    shell: ShellSpec

    @model_validator(mode="before")
    @classmethod
    def _shorthand(cls, data: Any) -> Any:
        if isinstance(data, dict) and isinstance(data.get("shell"), str):
            return {"shell": {"command": data["shell"]}}
        return data


class FileAdd(_Spec):
    path: str
    content: str


class FileUpdate(_Spec):
    path: str
    old: str
    new: str


class PatchSpec(_Spec):
    add: list[FileAdd] = Field(default_factory=list)
    update: list[FileUpdate] = Field(default_factory=list)
    delete: list[str] = Field(default_factory=list)
    client: ClientDecision | None = Field(
        default=None, description="How the client answers an approval request for this patch.")


class PatchBlock(_Spec):
    patch: PatchSpec


class McpSpec(_Spec):
    server: str
    tool: str
    arguments: dict[str, Any] = Field(default_factory=dict)


class McpBlock(_Spec):
    mcp: McpSpec


class PlanEntrySpec(_Spec):
    text: str
    status: PlanStatus


class PlanBlock(_Spec):
    plan: list[PlanEntrySpec]


class WebSearchSpec(_Spec):
    query: str


class WebSearchBlock(_Spec):
    web_search: WebSearchSpec


Block = TextBlock | ReasoningBlock | ShellBlock | PatchBlock | McpBlock | PlanBlock | WebSearchBlock


class FailureSpec(_Spec):
    """The model call fails: an HTTP error status, or a stream that reports failure."""

    http_status: int | None = Field(default=None, ge=400, le=599)
    stream_error: str | None = None
    message: str = "scripted failure"

    @model_validator(mode="after")
    def _exactly_one(self) -> FailureSpec:
        if (self.http_status is None) == (self.stream_error is None):
            raise ValueError("give exactly one of http_status or stream_error")
        return self


class FailStep(_Spec):
    fail: FailureSpec


Step = list[Block] | FailStep


# ------------------------------------------------------------------------------- expectations


class ExpectedItem(_Spec):
    """One item of the outline; unset fields are not checked."""

    kind: ItemKind
    status: ItemStatus | None = None
    exit_code: int | None = None
    command: str | None = None
    paths: list[str] | None = None
    change_kinds: list[ChangeKind] | None = None
    server: str | None = None
    tool: str | None = None
    text: str | None = None
    output: str | None = Field(
        default=None, description="A command's whole output, compared after the lane's output "
        "rules and the canonical form (CRLF, ANSI, trailing blanks, `{workspace}`).")
    output_head: str | None = Field(
        default=None, description="What a command's output starts with, compared the same way: "
        "for outputs a runtime shortens its own way.")
    error: str | None = Field(
        default=None, description="Why a command or file change did not run, compared the same "
        "way (a runtime's refusal text).")


class ExpectedApproval(_Spec):
    """One resolved approval of the outline, in order."""

    decision: Decision
    decided_by: DecidedBy = "user"


class ExpectedTurn(_Spec):
    outcome: Literal["completed", "failed", "no_turn"] = Field(
        default="completed", description="no_turn: the run ended before any turn started."
    )
    error_kind: ErrorKind | None = None
    items: list[ExpectedItem] = Field(default_factory=list)
    approvals: list[ExpectedApproval] | None = Field(
        default=None, description="Every resolved approval of the run, in order (None: not "
        "checked): where no other lane witnesses a decision.")


class Expect(_Spec):
    """The outline of the normalized log, one entry per run (each run is one turn here)."""

    turns: list[ExpectedTurn]
    lanes: dict[str, list[ExpectedTurn]] = Field(
        default_factory=dict,
        description="Per-lane outline where a runtime really behaves differently "
        "(each such case is also written down in DIVERGENCES.md).",
    )
    skills: list[str] | None = Field(
        default=None,
        description="Skills a lane that reports the control plane (`session.capabilities`) "
        "must list as enabled, at least these.",
    )

    def for_lane(self, lane: str) -> list[ExpectedTurn]:
        return self.lanes.get(lane, self.turns)


# ------------------------------------------------------------------------------- settings


class McpServerSpec(_Spec):
    """An MCP server the runtime starts over stdio.

    `command` paths are relative to the repository root; `{python}` stands for the interpreter
    running the harness (drivers substitute both), so no server needs installing.
    """

    command: list[str] = Field(min_length=1)


class Settings(_Spec):
    auth: AuthSetting = Field(
        default="env",
        description="env: the runtime's primary key variable; alt_env: its secondary one; "
        "login: the runtime's own login command stores the key.",
    )
    sandbox: SandboxSetting = "workspace-write"
    approval_policy: ApprovalPolicy = "never"
    cwd: str = Field(default=".", description="Working directory relative to the workspace.")
    workspace: dict[str, str] = Field(default_factory=dict, description="Files to seed.")
    mcp_servers: dict[str, McpServerSpec] = Field(default_factory=dict)
    extra_args: dict[str, list[str]] = Field(
        default_factory=dict, description="Per-runtime extra CLI flags (runtime name -> args)."
    )
    approval_channel: Literal["protocol", "mcp_tool"] = Field(
        default="protocol",
        description="How the client answers approval prompts (the `client:` decisions): over the "
        "runtime's control protocol, or as an MCP tool the runtime calls for each prompt "
        "(approve and deny only; runtimes without such a tool record nothing).",
    )
    reviewer: Literal["approve", "deny"] | None = Field(
        default=None,
        description="An automatic reviewer (a model call, not a person) decides approval "
        "requests and answers this; None: no reviewer.",
    )


PluginAction = Literal["publish", "add_marketplace", "install", "remove", "list"]


class PluginStep(_Spec):
    """One step of native plugin management the driver performs before a run's session.

    `publish` copies a marketplace folder (repo-relative) to where the run's marketplace lives,
    replacing what was published before (a new version, as a marketplace owner ships it);
    `add_marketplace` registers that location with the runtime; `install`/`remove` take a plugin
    name; `list` checks exactly which plugins are installed, at which versions. Each step must
    succeed, or fail with `fails` in its output (a broken plugin must fail clearly).
    """

    action: PluginAction
    source: str | None = Field(default=None, description="publish: marketplace folder.")
    plugin: str | None = Field(default=None, description="install/remove: plugin name.")
    installed: dict[str, str] | None = Field(
        default=None, description="list: plugin name -> version, exactly the installed set.")
    fails: str | None = Field(default=None, description="The step must fail with this text.")

    @model_validator(mode="after")
    def _needs(self) -> PluginStep:
        if (self.action == "publish") != (self.source is not None):
            raise ValueError("publish (and only publish) takes a source folder")
        if (self.action in {"install", "remove"}) != (self.plugin is not None):
            raise ValueError("install/remove (and only they) take a plugin name")
        if self.installed is not None and self.action != "list":
            raise ValueError("installed is checked by list only")
        return self


class OfferSpec(_Spec):
    """MCP servers whose tools the runtime must, or must not, offer the model during a run
    (checked by responders whose wire format shows the offered tools)."""

    present: list[str] = Field(default_factory=list)
    absent: list[str] = Field(default_factory=list)


class Run(_Spec):
    prompt: str
    steps: list[Step] = Field(min_length=1)
    plugins: list[PluginStep] = Field(
        default_factory=list, description="Native plugin management before this run's session.")
    offers: OfferSpec | None = None


class RuntimeSupport(_Spec):
    unsupported: str | None = Field(default=None, description="Why this runtime cannot run it.")


class Scenario(_Spec):
    name: str
    description: str
    settings: Settings = Field(default_factory=Settings)
    runs: list[Run] = Field(min_length=1)
    expect: Expect
    runtimes: dict[str, RuntimeSupport] = Field(default_factory=dict)
    demonstrates: list[str] = Field(
        default_factory=list,
        description="Capabilities (e.g. plugins) a lane shows when this scenario passes on it.",
    )

    @model_validator(mode="after")
    def _consistent(self) -> Scenario:
        prompts = [run.prompt for run in self.runs]
        if len(set(prompts)) != len(prompts):
            raise ValueError("run prompts must be unique (stubs find the run by its prompt)")
        if len(self.expect.turns) != len(self.runs):
            raise ValueError("expect.turns needs one entry per run")
        return self

    def client_decisions(self, run_index: int) -> list[ClientDecision]:
        """The client's scripted answers to a run's approval requests, in step order (the
        calls that carry one; a call without one is expected to bring no request)."""
        decisions: list[ClientDecision] = []
        for step in self.runs[run_index].steps:
            for block in step if isinstance(step, list) else []:
                spec = getattr(block, "shell", None) or getattr(block, "patch", None)
                client = getattr(spec, "client", None)
                if isinstance(client, ClientDecision):
                    decisions.append(client)
        return decisions

    @property
    def uses_plugins(self) -> bool:
        """True when any run manages plugins (drivers then enable the runtime's plugin system)."""
        return any(run.plugins for run in self.runs)

    def unsupported_reason(self, runtime: str) -> str | None:
        support = self.runtimes.get(runtime)
        return support.unsupported if support else None


def load_scenario(path: Path) -> Scenario:
    """Read and validate a scenario file; errors name the file and the field path."""
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise ScenarioError(f"cannot read: {exc.strerror}", source=str(path)) from None
    except UnicodeDecodeError:
        raise ScenarioError("not UTF-8", source=str(path)) from None
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        line = mark.line + 1 if mark is not None else None
        raise ScenarioError(f"not YAML: {getattr(exc, 'problem', exc)}", source=str(path),
                            line=line) from None
    try:
        return Scenario.model_validate(data)
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(part) for part in first["loc"]) or "<root>"
        more = f" (+{exc.error_count() - 1} more)" if exc.error_count() > 1 else ""
        raise ScenarioError(f"{where}: {first['msg']}{more}", source=str(path)) from None


def scenario_dirs(root: Path) -> list[Path]:
    """Scenario folders under `root` (those holding a scenario.yaml), sorted by name."""
    return sorted(p.parent for p in root.glob("*/scenario.yaml"))



def find_run(scenario: Scenario, user_texts: list[str]) -> int | None:
    """Index of the run whose prompt is in the latest user message that holds any run's prompt.

    Runtimes wrap prompts (environment context, reminders), so a prompt matches by containment.
    A message holding several prompts belongs to the latest of them: Claude Code merges adjacent
    user messages, so after a failed run the next prompt arrives in the same message.
    """
    for text in reversed(user_texts):
        for index in reversed(range(len(scenario.runs))):
            if scenario.runs[index].prompt in text:
                return index
    return None
