"""Write the compressed-body fixtures: a fixture recorded here, its response bodies compressed
the way the provider sent them to a client that offered the coding, saved as vcrpy saves such
an answer (`decode_compressed_response` off, or a coding vcrpy cannot decode: it only knows
gzip and deflate): the compressed bytes as a `!!binary` body, the `content-encoding` header kept,
the client's `accept-encoding` on the request (httpx offers `br` once a brotli package is
installed, as the openai, anthropic and google-genai SDKs' clients do).

Run: `python tests/data/shapes/codex-adapter/write_compressed.py` (from the repo root).
"""

from __future__ import annotations

import gzip
from pathlib import Path
from typing import Any

import brotli  # type: ignore[import-untyped]
import yaml

SHAPES = Path(__file__).resolve().parent.parent
OFFERED = "gzip, deflate, br, zstd"
JOBS = [  # (source fixture, new fixture, coding)
    ("codex-adapter/sdk_text_nonstream", "codex-adapter/vcrpy_brotli_text_nonstream", "br"),
    ("codex-adapter/sdk_function_round_trip_stream",
     "codex-adapter/vcrpy_brotli_function_round_trip_stream", "br"),
    ("anthropic/sdk_tool_round_trip_stream", "anthropic/vcrpy_gzip_tool_round_trip_stream",
     "gzip"),
    ("gemini/genai_stream_function_call", "gemini/vcrpy_gzip_stream_function_call", "gzip"),
]


def compress(body: bytes, coding: str) -> bytes:
    if coding == "br":
        return bytes(brotli.compress(body))
    return gzip.compress(body, mtime=0)


def convert(data: dict[str, Any], coding: str) -> dict[str, Any]:
    for entry in data["interactions"]:
        entry["request"]["headers"]["accept-encoding"] = [OFFERED]
        response = entry["response"]
        text = response["body"]["string"]
        response["body"]["string"] = compress(text.encode(), coding)
        response["headers"]["content-encoding"] = [coding]
    return data


def main() -> None:
    for source, target, coding in JOBS:
        data = yaml.safe_load((SHAPES / f"{source}.http.yaml").read_text(encoding="utf-8"))
        out = yaml.safe_dump(convert(data, coding), sort_keys=False, allow_unicode=True,
                             width=100)
        (SHAPES / f"{target}.http.yaml").write_text(out, encoding="utf-8")
        print(target)


if __name__ == "__main__":
    main()
