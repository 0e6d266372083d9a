"""A JSON-RPC client over a runtime's stdio that keeps the whole transcript, both directions.

The drivers that play the client of a runtime's control protocol (`codex app-server`, an ACP
agent) share this: requests with increasing ids, reading until an answer arrives while the
runtime's own requests are answered (`answer`, one per protocol), a deadline, and each line
kept as `{"dir": "out"|"in", "msg": ...}` in order. What a driver notices on the way (a timeout,
an unscripted request, stdout that is not JSON) goes to `problems`, reported on stderr.
"""

from __future__ import annotations

import contextlib
import json
import queue
import subprocess
import threading
import time
from collections.abc import Callable
from typing import IO, Any

from harness.scenario import ClientDecision


class JsonRpcClient:
    """One runtime process seen as a client; subclasses say how to answer its requests."""

    jsonrpc: str | None = None
    """The `"jsonrpc"` tag every message carries (None: the protocol omits it)."""

    def __init__(self, proc: subprocess.Popen[bytes], decisions: list[ClientDecision],
                 deadline: float) -> None:
        self.proc = proc
        self.decisions = decisions
        self.deadline = deadline
        self.lines: list[str] = []
        self.problems: list[str] = []
        self._next_id = 0
        self._inbox: queue.Queue[bytes | None] = queue.Queue()
        assert proc.stdout is not None
        threading.Thread(target=self._pump, args=(proc.stdout,), daemon=True).start()

    def _pump(self, stdout: IO[bytes]) -> None:
        for line in stdout:
            self._inbox.put(line)
        self._inbox.put(None)

    def send(self, msg: dict[str, Any]) -> None:
        """Write one message (kept in the transcript even if the runtime already exited)."""
        if self.jsonrpc is not None:
            msg = {"jsonrpc": self.jsonrpc, **msg}
        self.lines.append(json.dumps({"dir": "out", "msg": msg}, ensure_ascii=False))
        assert self.proc.stdin is not None
        with contextlib.suppress(OSError):
            self.proc.stdin.write(json.dumps(msg, ensure_ascii=False).encode() + b"\n")
            self.proc.stdin.flush()

    def request_message(self, rid: int, method: str, params: dict[str, Any]) -> dict[str, Any]:
        """A request as this protocol's clients write it (key order kept stable per driver, so
        re-recording an unchanged scenario gives no diff)."""
        return {"method": method, "id": rid, "params": params}

    def request(self, method: str, params: dict[str, Any]) -> dict[str, Any]:
        """Send a request and read until its response (answering anything asked meanwhile);
        `{}` when none came before EOF or the deadline."""
        rid = self._next_id
        self._next_id += 1
        self.send(self.request_message(rid, method, params))
        found: dict[str, Any] = {}

        def answered(msg: dict[str, Any]) -> bool:
            if msg.get("id") == rid and "method" not in msg:
                found.update(msg)
                return True
            return False

        self.read_until(answered)
        return found

    def read_until(self, done: Callable[[dict[str, Any]], bool]) -> bool:
        """Read messages until `done(msg)` is true; False at EOF or the deadline."""
        while True:
            remaining = self.deadline - time.monotonic()
            if remaining <= 0:
                self.problems.append("timed out")
                return False
            try:
                raw = self._inbox.get(timeout=remaining)
            except queue.Empty:
                continue
            if raw is None:
                return False
            msg = self._record_in(raw)
            if msg is None:
                continue
            if "method" in msg and "id" in msg:
                self.answer(msg)
            if done(msg):
                return True

    def _record_in(self, raw: bytes) -> dict[str, Any] | None:
        text = raw.decode("utf-8", errors="replace").strip()
        if not text:
            return None
        try:
            msg = json.loads(text)
        except ValueError:
            self.problems.append(f"not JSON on stdout: {text[:200]}")
            return None
        self.lines.append(json.dumps({"dir": "in", "msg": msg}, ensure_ascii=False))
        return msg if isinstance(msg, dict) else None

    def answer(self, msg: dict[str, Any]) -> None:
        """The runtime asks the client something: the protocol's subclass decides."""
        self.refuse(msg)

    def refuse(self, msg: dict[str, Any]) -> None:
        """A JSON-RPC error for a request this client does not handle."""
        self.send({"id": msg["id"], "error": {
            "code": -32601, "message": f"client does not handle {msg['method']}"}})

    def transcript(self) -> tuple[bytes, bytes]:
        """The transcript (stdout of the recording) and the problems as stderr lines, with
        every scripted decision nobody asked for counted as one."""
        self.problems += [f"scripted decision {d.decision!r} was never asked for"
                          for d in self.decisions]
        notes = "".join(f"[harness: {p}]\n" for p in self.problems)
        return "".join(line + "\n" for line in self.lines).encode(), notes.encode()
