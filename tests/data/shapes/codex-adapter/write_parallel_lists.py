"""Write `parallel_lists_function_round_trip_nonstream.http.yaml`: the recording here of
`sdk_function_round_trip_nonstream`, saved in the layout of vcrpy's in-memory cassette that
some replayers keep as is (BeamWeaver's docs/replay.md shows it): top-level parallel `requests`
and `responses` lists instead of `interactions`, request bodies and JSON response bodies as bytes
(`!!binary`), no `version`.

Run: `python tests/data/shapes/codex-adapter/write_parallel_lists.py` (from the repo root).
"""

from __future__ import annotations

from pathlib import Path

import yaml

HERE = Path(__file__).resolve().parent
SOURCE = HERE / "sdk_function_round_trip_nonstream.http.yaml"
TARGET = HERE / "parallel_lists_function_round_trip_nonstream.http.yaml"


def main() -> None:
    data = yaml.safe_load(SOURCE.read_text(encoding="utf-8"))
    requests, responses = [], []
    for entry in data["interactions"]:
        request, response = entry["request"], entry["response"]
        request["body"] = request["body"].encode()
        response["body"]["string"] = response["body"]["string"].encode()
        requests.append(request)
        responses.append(response)
    out = yaml.safe_dump({"requests": requests, "responses": responses}, sort_keys=False,
                         width=100)
    TARGET.write_text(out, encoding="utf-8")


if __name__ == "__main__":
    main()
