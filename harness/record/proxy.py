"""A recording reverse proxy: the runtime talks to 127.0.0.1, the proxy forwards to the provider.

Used by `harness record --live`: the runtime's real key (from the user's environment) travels
through, the provider's stream comes back chunk by chunk as it arrives (the runtime never waits
for a whole body), and the stub server records each exchange for the cassette. What is recorded is
scrubbed before it is written (see harness.record.secrets); nothing here writes files.
"""

from __future__ import annotations

from collections.abc import Iterator

import httpx2 as httpx

from harness.record.stub import StubReply, StubRequest

HOP_BY_HOP = frozenset({
    "connection", "keep-alive", "proxy-authenticate", "proxy-authorization", "te", "trailers",
    "transfer-encoding", "upgrade", "host", "content-length", "accept-encoding",
})


class ProxyResponder:
    """Forwards every request to `upstream` (scheme://host[:port][/prefix]) and streams back."""

    def __init__(self, upstream: str, *, timeout: float = 600.0) -> None:
        self.upstream = upstream.rstrip("/")
        self._client = httpx.Client(timeout=timeout, trust_env=False)

    def respond(self, request: StubRequest) -> StubReply:
        url = self.upstream + request.path + (f"?{request.query}" if request.query else "")
        headers = {k: v for k, v in request.headers.items() if k not in HOP_BY_HOP}
        headers["accept-encoding"] = "identity"  # keep recorded bodies readable text
        upstream_request = self._client.build_request(request.method, url, headers=headers,
                                                      content=request.body)
        response = self._client.send(upstream_request, stream=True)
        reply_headers = {k: v for k, v in response.headers.items()
                         if k.lower() not in HOP_BY_HOP and k.lower() != "content-encoding"}
        return StubReply(response.status_code, reply_headers, _stream(response))

    def close(self) -> None:
        self._client.close()


def _stream(response: httpx.Response) -> Iterator[bytes]:
    try:
        yield from response.iter_raw()
    finally:
        response.close()
