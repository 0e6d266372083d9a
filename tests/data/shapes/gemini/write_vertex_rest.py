"""Write `vertex_rest_gzip_header_plain_body.http.yaml` from `genai_more_vertex_generate.http.yaml`
(recorded here) in the form the Vertex AI REST client's recordings take (openinference's
langchain-google-vertexai cassettes, tests/cassettes/test_instrumentor/
test_gemini_token_counts_streaming.yaml): the answer body saved decoded while its
`Content-Encoding: gzip` header was kept (and the header names Title-Cased). `int_enums` gives
the same answer as `$alt=json;enum-encoding=int` asks for it (enums as numbers); the gemini lane
tests use it (a refusal, so no shape fixture).

Run: `python tests/data/shapes/gemini/write_vertex_rest.py` (from the repo root).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import yaml

HERE = Path(__file__).resolve().parent
SOURCE = HERE / "genai_more_vertex_generate.http.yaml"
INT_QUERY = "?%24alt=json%3Benum-encoding%3Dint"


def load() -> dict[str, Any]:
    return dict(yaml.safe_load(SOURCE.read_text(encoding="utf-8")))


def dump(data: dict[str, Any], name: str) -> None:
    text = yaml.safe_dump(data, sort_keys=False, allow_unicode=True, width=100)
    (HERE / f"{name}.http.yaml").write_text(text, encoding="utf-8")


def gzip_header_plain_body() -> None:
    data = load()
    response = data["interactions"][0]["response"]
    response["headers"] = {"Content-Type": ["application/json; charset=UTF-8"],
                           "Content-Encoding": ["gzip"], "Transfer-Encoding": ["chunked"]}
    dump(data, "vertex_rest_gzip_header_plain_body")


def int_enums() -> dict[str, Any]:
    """The recording with its request asking for integer enums and its answer holding them."""
    data = load()
    entry = data["interactions"][0]
    entry["request"]["uri"] += INT_QUERY
    answer = json.loads(entry["response"]["body"]["string"])
    answer["candidates"][0]["finishReason"] = 1
    answer["usageMetadata"]["trafficType"] = 1
    for detail in answer["usageMetadata"].get("promptTokensDetails", []):
        detail["modality"] = 1
    entry["response"]["body"]["string"] = json.dumps(answer, indent=2)
    return data


if __name__ == "__main__":
    gzip_header_plain_body()
