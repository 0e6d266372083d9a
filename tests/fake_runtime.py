"""A stand-in agent runtime for testing the recorder: talks HTTP to the stub, prints JSONL.

Usage: fake_runtime.py URL KEY GENERATION [PLANT_JSON]
It POSTs one streaming request (key in headers, query and body, like real SDKs do), echoes every
SSE data line it receives as a JSONL event, and prints a "command output" line that contains the
key, as an agent printing `env` would. PLANT_JSON (optional) holds extra values to plant in the
request headers / query / body / output.
"""

from __future__ import annotations

import http.client
import json
import sys
import urllib.parse


def main() -> int:
    url, key, generation = sys.argv[1], sys.argv[2], sys.argv[3]
    plant = json.loads(sys.argv[4]) if len(sys.argv) > 4 else {}
    parts = urllib.parse.urlsplit(url)
    query = urllib.parse.urlencode({"key": key, "alt": "sse", **plant.get("query", {})})
    body = json.dumps({"generation": generation, "api_key": key, **plant.get("body", {})})
    headers = {"Authorization": f"Bearer {key}", "x-api-key": key, "Content-Type":
               "application/json", **plant.get("headers", {})}
    conn = http.client.HTTPConnection(parts.hostname, parts.port, timeout=30)
    conn.request("POST", f"/v1/stream?{query}", body=body, headers=headers)
    response = conn.getresponse()
    print(json.dumps({"type": "start", "generation": generation}), flush=True)
    for raw in response:
        line = raw.decode().strip()
        if line.startswith("data: "):
            print(json.dumps({"type": "data", "data": line[6:]}), flush=True)
    output = f"KEY={key} " + " ".join(plant.get("output", []))
    print(json.dumps({"type": "command", "output": output, "generation": generation}), flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
