"""Renderers: an abstract scenario as each runtime's native input, and each lane's view of it.

What `harness.testing.strategies` renders its drawn scenarios with, and what the round-trip
properties hold every lane to: `lane(render(s)) == view(s)`. Nothing here needs a test library
or an SDK.

For the API lanes, in-process client simulators play a runtime against a provider's responder, no
HTTP: each grows requests the way its runtime does (prompt, the previous answers' output echoed
back, a result for every tool call in them, carrying the drawn exit code and output in the
runtime's own result format), calls the responder's `respond(StubRequest)` directly and returns
the Exchanges; `common.normalize_exchanges` turns them into a cassette and reads it with the
lane. For the other lanes, renderers write what each CLI prints or a client logs;
`common.stream_log` reads it with the lane. Each module also holds its lane's view of the
scenario (the expected log).

A run that ends in a failure step fails the way its runtime fails (see the recorded
cassettes/turn_failed_http and turn_failed_stream): Codex (retries off) makes the call once and
prints `error` + `turn.failed`; Claude Code (`CLAUDE_CODE_MAX_RETRIES=1`) re-sends an HTTP error
once and a broken stream once without streaming; Gemini CLI (`maxAttempts: 1`) makes it once. The
failed call adds nothing to the history, and a later run resumes as usual.

| module | renders | for the lane |
|---|---|---|
| `codex` | Codex CLI's Responses requests (`codex.http.yaml`) | codex-adapter |
| `codex_native` | `codex exec --json` stdout (`codex-native.jsonl`) | codex-native |
| `claude` | Claude Code's Messages requests (`claude.http.yaml`) | anthropic |
| `claude_code` | `claude -p --output-format stream-json` (`claude-code.jsonl`) | claude-code |
| `gemini` | Gemini CLI's `streamGenerateContent` requests (`gemini.http.yaml`) | gemini |
| `gemini_cli` | `gemini -p --output-format stream-json` (`gemini-cli.jsonl`) | gemini-cli |
| `codex_app_server` | a client's transcript (`codex-app-server.jsonl`) | codex-app-server |
| `acp` | a client's ACP agent transcript (`gemini-acp.jsonl`) | acp |
| `codex_requests` | Codex CLI's request items and bodies (the `codex` simulator's builders) | |
| `common` | shared: SSE payloads, pinned scenarios, reading back through a lane, JS trimming | |

The simulators and renderers are held to the runtimes themselves by tests/test_roundtrip_*.py
(fidelity against every expressible recording, live runs with `-m runtime`); `acp` writes ACP's
optional fields that Gemini CLI's recordings lack, so it is held to the acp lane's reading only.
"""
