#!/usr/bin/env node
// A deliberately small, independent implementation of the codex-native lane in JavaScript, used to
// test `harness check --impl`: the gate must judge a non-Python normalizer exactly like a lane.
// Usage: node codex_native_min.mjs [--bug exit-code] <lane> <codex exec --json file>
// `--bug exit-code` reports every command as exit code 0: a known failure the gate must catch.
import { createReadStream } from "node:fs";
import { createInterface } from "node:readline";

const args = process.argv.slice(2);
let bug = null;
if (args[0] === "--bug") { bug = args[1]; args.splice(0, 2); }
const [lane, input] = args;

let seq = 0, turn = null, nextTurn = 0, thread = null, minted = 0, sessions = 0;
let ids = new Map();
const open = new Map();
const out = (type, fields) => {
  process.stdout.write(JSON.stringify({ schema_version: 1, seq: seq++, lane, thread_id: thread,
    turn, type, ...fields }) + "\n");
};
const itemId = (nativeId) => {
  if (!ids.has(nativeId)) ids.set(nativeId, `item_${minted++}`);
  return ids.get(nativeId);
};

function item(native) {
  const base = { id: itemId(native.id), native_id: native.id ?? null };
  const status = native.status === "declined" ? "declined"
    : native.status === "failed" ? "failed"
    : native.status === "in_progress" ? "in_progress" : "completed";
  switch (native.type) {
    case "agent_message":
      return { ...base, status, kind: "assistant_message", text: native.text ?? "",
        citations: [] };
    case "reasoning":
      return { ...base, status, kind: "reasoning", text: native.text ?? "", encrypted: false };
    case "command_execution":
      return { ...base, status, kind: "command_execution", command: native.command, cwd: null,
        exit_code: bug === "exit-code" && native.exit_code !== null ? 0 : native.exit_code,
        output: native.aggregated_output ?? "", error: null };
    case "file_change":
      return { ...base, status, kind: "file_change",
        changes: native.changes.map((c) => ({ path: c.path, kind: c.kind, move_path: null })), error: null };
    case "error":
      return { ...base, status: "completed", kind: "error", message: native.message };
    default:
      return { ...base, status, kind: "unknown", native_type: String(native.type), payload: native };
  }
}

function closeTurn(error) {
  for (const [, it] of open) out("item.completed", { item: { ...it, status: "failed" } });
  open.clear();
  if (error) out("turn.failed", { error });
  turn = null;
}

const lines = createInterface({ input: createReadStream(input), crlfDelay: Infinity });
for await (const line of lines) {
  if (!line.trim()) continue;
  const event = JSON.parse(line);
  switch (event.type) {
    case "thread.started": {
      const resumed = sessions > 0 && event.thread_id === thread ? thread : null;
      if (turn !== null) closeTurn({ kind: "stream_truncated", message: "input ended inside a turn",
        retryable: true });
      thread = event.thread_id; sessions++; ids = new Map();
      out("session.started", { provider: "openai", runtime: { name: "codex", version: null },
        model: null, auth_mode: "unknown", cwd: null, sandbox: "unknown",
        approval_policy: "unknown", resumed_from: resumed });
      break;
    }
    case "turn.started":
      turn = nextTurn++;
      out("turn.started", {});
      break;
    case "turn.completed": {
      closeTurn(null);
      turn = nextTurn - 1;
      const u = event.usage ?? {};
      out("turn.completed", { usage: { scope: "cumulative", input_tokens: u.input_tokens ?? null,
        cached_input_tokens: u.cached_input_tokens ?? null,
        cache_write_input_tokens: u.cache_write_input_tokens ?? null, output_tokens: u.output_tokens ?? null,
        reasoning_tokens: u.reasoning_output_tokens ?? null }, stop_reason: null });
      turn = null;
      break;
    }
    case "turn.failed":
      closeTurn({ kind: "provider", message: event.error?.message ?? "", retryable: true });
      break;
    case "item.started":
    case "item.updated":
    case "item.completed": {
      const it = item(event.item);
      if (event.type === "item.completed") open.delete(it.id); else open.set(it.id, it);
      out(event.type, event.type === "item.updated" ? { item: it, delta: null } : { item: it });
      break;
    }
    case "error":
      out("item.completed", { item: { id: `item_${minted++}`, status: "completed",
        native_id: null, kind: "error", message: event.message ?? "" } });
      break;
    default:
      out("item.completed", { item: { id: `item_${minted++}`, status: "completed",
        native_id: null, kind: "unknown", native_type: String(event.type), payload: event } });
  }
}
if (turn !== null) closeTurn({ kind: "stream_truncated", message: "input ended inside a turn",
  retryable: true });
