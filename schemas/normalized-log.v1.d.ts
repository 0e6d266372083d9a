// Generated from schemas/normalized-log.v1.schema.json by `harness schema --write`.
// Do not edit: change harness/contract/model.py and regenerate.

export interface ApprovalRequested {
  schema_version: 1;
  /** 0, 1, 2, ... contiguous within one log. */
  seq: number;
  lane: string;
  thread_id: string | null;
  /** 0-based turn index in the log; null outside turns. */
  turn: number | null;
  type: "approval.requested";
  request_id: string;
  item_id: string;
  /** What is asked, e.g. the command or the tool name. */
  action: string;
  reason: string | null;
}

export interface ApprovalResolved {
  schema_version: 1;
  /** 0, 1, 2, ... contiguous within one log. */
  seq: number;
  lane: string;
  thread_id: string | null;
  /** 0-based turn index in the log; null outside turns. */
  turn: number | null;
  type: "approval.resolved";
  request_id: string;
  decision: "approved" | "approved_for_session" | "denied" | "abort";
  decided_by: "user" | "policy" | "reviewer";
  /** The decider's words, e.g. the message sent with a denial. */
  reason: string | null;
}

export interface AssistantMessage {
  /** Unique within one log; stable across that item's events. */
  id: string;
  status: "in_progress" | "completed" | "failed" | "declined";
  /** The provider's own id for this item, when it has one. */
  native_id: string | null;
  kind: "assistant_message";
  text: string;
  /** Sources the provider cited for this text, in order. */
  citations: Array<Citation>;
}

/** A source the provider attached to a span of assistant text (e.g. a web search hit). */
export interface Citation {
  url: string | null;
  title: string | null;
  /** The quoted source text, if given. */
  cited_text: string | null;
}

export interface CommandExecution {
  /** Unique within one log; stable across that item's events. */
  id: string;
  status: "in_progress" | "completed" | "failed" | "declined";
  /** The provider's own id for this item, when it has one. */
  native_id: string | null;
  kind: "command_execution";
  command: string;
  cwd: string | null;
  /** Null while running or unknown. */
  exit_code: number | null;
  output: string;
  /** Why it did not run, in the runtime's words (e.g. a denial). */
  error: string | null;
}

/** A streamed fragment of one item field (`text`, `output`). */
export interface Delta {
  field: string;
  text: string;
}

export interface ErrorNotice {
  /** Unique within one log; stable across that item's events. */
  id: string;
  status: "in_progress" | "completed" | "failed" | "declined";
  /** The provider's own id for this item, when it has one. */
  native_id: string | null;
  kind: "error";
  message: string;
}

export interface FileChange {
  /** Unique within one log; stable across that item's events. */
  id: string;
  status: "in_progress" | "completed" | "failed" | "declined";
  /** The provider's own id for this item, when it has one. */
  native_id: string | null;
  kind: "file_change";
  changes: Array<FileChangeEntry>;
  /** Why it was not applied, in the runtime's words (e.g. a denial). */
  error: string | null;
}

export interface FileChangeEntry {
  path: string;
  kind: "add" | "delete" | "update" | "move";
  /** Destination of a `move`. */
  move_path: string | null;
}

export interface ItemCompleted {
  schema_version: 1;
  /** 0, 1, 2, ... contiguous within one log. */
  seq: number;
  lane: string;
  thread_id: string | null;
  /** 0-based turn index in the log; null outside turns. */
  turn: number | null;
  type: "item.completed";
  item: Item;
}

export interface ItemStarted {
  schema_version: 1;
  /** 0, 1, 2, ... contiguous within one log. */
  seq: number;
  lane: string;
  thread_id: string | null;
  /** 0-based turn index in the log; null outside turns. */
  turn: number | null;
  type: "item.started";
  item: Item;
}

export interface ItemUpdated {
  schema_version: 1;
  /** 0, 1, 2, ... contiguous within one log. */
  seq: number;
  lane: string;
  thread_id: string | null;
  /** 0-based turn index in the log; null outside turns. */
  turn: number | null;
  type: "item.updated";
  item: Item;
  delta: Delta | null;
}

/** An MCP server the session is configured with, as the runtime reports its state. */
export interface McpServerInfo {
  name: string;
  status: "ready" | "starting" | "failed" | "disabled" | "unknown";
  /** Tool names it lists, sorted. */
  tools: Array<string>;
  /** Why it failed to start or list tools. */
  error: string | null;
  /** The runtime's word for the server's auth state (e.g. unsupported, logged_in). */
  auth_status: string | null;
}

export interface McpToolCall {
  /** Unique within one log; stable across that item's events. */
  id: string;
  status: "in_progress" | "completed" | "failed" | "declined";
  /** The provider's own id for this item, when it has one. */
  native_id: string | null;
  kind: "mcp_tool_call";
  server: string;
  tool: string;
  arguments: unknown;
  result: unknown;
  error: string | null;
}

export interface Plan {
  /** Unique within one log; stable across that item's events. */
  id: string;
  status: "in_progress" | "completed" | "failed" | "declined";
  /** The provider's own id for this item, when it has one. */
  native_id: string | null;
  kind: "plan";
  entries: Array<PlanEntry>;
  /** Free-form plan text, when not a list. */
  text: string | null;
}

export interface PlanEntry {
  text: string;
  status: "pending" | "in_progress" | "completed";
}

export interface Reasoning {
  /** Unique within one log; stable across that item's events. */
  id: string;
  status: "in_progress" | "completed" | "failed" | "declined";
  /** The provider's own id for this item, when it has one. */
  native_id: string | null;
  kind: "reasoning";
  text: string;
  /** True when the reasoning is opaque (encrypted or redacted). */
  encrypted: boolean;
}

export interface Runtime {
  name: string;
  version: string | null;
}

export interface SearchResult {
  url: string;
  title: string | null;
}

/** What a capability-aware UI shows about a session, as the runtime's control plane reports it: skills, MCP servers with their tools and status, and the effective settings. Emitted right after `session.started` only by lanes that see a control plane (capability `control_plane`); a list is null when the lane did not see it. An additive part of the model, versioned on its own (`capabilities_version`): readers of v1 logs may ignore it. */
export interface SessionCapabilities {
  schema_version: 1;
  /** 0, 1, 2, ... contiguous within one log. */
  seq: number;
  lane: string;
  thread_id: string | null;
  /** 0-based turn index in the log; null outside turns. */
  turn: number | null;
  type: "session.capabilities";
  capabilities_version: 1;
  skills: Array<SkillInfo> | null;
  mcp_servers: Array<McpServerInfo> | null;
  model: string | null;
  auth_mode: "api_key" | "chatgpt" | "oauth" | "vertex" | "unknown";
  cwd: string | null;
  sandbox: "read-only" | "workspace-write" | "full-access" | "unknown";
  approval_policy: "never" | "on-request" | "on-failure" | "untrusted" | "unknown";
}

export interface SessionStarted {
  schema_version: 1;
  /** 0, 1, 2, ... contiguous within one log. */
  seq: number;
  lane: string;
  thread_id: string | null;
  /** 0-based turn index in the log; null outside turns. */
  turn: number | null;
  type: "session.started";
  provider: string;
  runtime: Runtime | null;
  model: string | null;
  auth_mode: "api_key" | "chatgpt" | "oauth" | "vertex" | "unknown";
  cwd: string | null;
  sandbox: "read-only" | "workspace-write" | "full-access" | "unknown";
  approval_policy: "never" | "on-request" | "on-failure" | "untrusted" | "unknown";
  /** Thread id this run resumes. */
  resumed_from: string | null;
}

/** A skill the runtime offers the session (what a UI lists as invocable). */
export interface SkillInfo {
  name: string;
  /** Where it comes from, as the runtime says (e.g. system, user, repo). */
  scope: string | null;
  enabled: boolean | null;
  description: string | null;
}

export interface ToolCall {
  /** Unique within one log; stable across that item's events. */
  id: string;
  status: "in_progress" | "completed" | "failed" | "declined";
  /** The provider's own id for this item, when it has one. */
  native_id: string | null;
  kind: "tool_call";
  name: string;
  arguments: unknown;
  result: unknown;
  error: string | null;
}

export interface TurnCompleted {
  schema_version: 1;
  /** 0, 1, 2, ... contiguous within one log. */
  seq: number;
  lane: string;
  thread_id: string | null;
  /** 0-based turn index in the log; null outside turns. */
  turn: number | null;
  type: "turn.completed";
  usage: Usage | null;
  /** The provider's raw stop reason. */
  stop_reason: string | null;
}

export interface TurnError {
  kind: "provider" | "rate_limit" | "auth" | "network" | "stream_truncated" | "cancelled" | "unknown";
  message: string;
  retryable: boolean;
}

export interface TurnFailed {
  schema_version: 1;
  /** 0, 1, 2, ... contiguous within one log. */
  seq: number;
  lane: string;
  thread_id: string | null;
  /** 0-based turn index in the log; null outside turns. */
  turn: number | null;
  type: "turn.failed";
  error: TurnError;
}

export interface TurnStarted {
  schema_version: 1;
  /** 0, 1, 2, ... contiguous within one log. */
  seq: number;
  lane: string;
  thread_id: string | null;
  /** 0-based turn index in the log; null outside turns. */
  turn: number | null;
  type: "turn.started";
}

/** Anything a lane does not know yet: kept whole so no future event is silently lost. */
export interface UnknownItem {
  /** Unique within one log; stable across that item's events. */
  id: string;
  status: "in_progress" | "completed" | "failed" | "declined";
  /** The provider's own id for this item, when it has one. */
  native_id: string | null;
  kind: "unknown";
  native_type: string;
  payload: unknown;
}

/** Token counts; null means the source did not report that number. */
export interface Usage {
  /** Whether the numbers cover this turn or the thread. */
  scope: "turn" | "cumulative";
  /** Every input token, cached ones included (OpenAI's meaning). */
  input_tokens: number | null;
  cached_input_tokens: number | null;
  /** Input tokens written to the provider's prompt cache. */
  cache_write_input_tokens: number | null;
  output_tokens: number | null;
  reasoning_tokens: number | null;
}

export interface WebSearch {
  /** Unique within one log; stable across that item's events. */
  id: string;
  status: "in_progress" | "completed" | "failed" | "declined";
  /** The provider's own id for this item, when it has one. */
  native_id: string | null;
  kind: "web_search";
  query: string;
  /** Hits the provider returned, when the lane sees them. */
  results: Array<SearchResult>;
}

/** Any `item` an event can carry (discriminated by `kind`). */
export type Item = AssistantMessage | Reasoning | CommandExecution | FileChange | McpToolCall | ToolCall | WebSearch | Plan | ErrorNotice | UnknownItem;

/** One line of a normalized log. */
export type NormalizedEvent = SessionStarted | SessionCapabilities | TurnStarted | TurnCompleted | TurnFailed | ItemStarted | ItemUpdated | ItemCompleted | ApprovalRequested | ApprovalResolved;
