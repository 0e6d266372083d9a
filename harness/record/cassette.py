"""HTTP cassettes in vcrpy's format: written reviewable and scrubbed, read leniently.

Writing: exchanges recorded by the stub become a vcrpy v1 cassette with a fixed base URL (the
stub's port is random; re-recording must give no diff), allow-listed headers only, secrets
replaced by `<scrubbed>`, JSON request bodies pretty-printed and SSE bodies as YAML literal
blocks, so a reviewer reads a diff of meaning rather than one long line.

Reading: vcrpy's own serializers (YAML or JSON) so cassettes recorded by other tools load too;
compressed bodies are unpacked (gzip, deflate, brotli; zstd where a decoder is installed), an
unknown coding refused; every interaction is type-checked here, once for every cassette lane
(method and uri are text, bodies text, bytes or null, the status an HTTP code), so a malformed
cassette is an `InputError` naming the file, the interaction and the reason.
"""

from __future__ import annotations

import base64
import gzip
import importlib
import json
import zlib
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from http import HTTPStatus
from pathlib import Path
from typing import Any, cast
from urllib.parse import urlsplit

import yaml
from vcr.serializers import jsonserializer, yamlserializer
from yaml.events import (
    AliasEvent,
    DocumentEndEvent,
    DocumentStartEvent,
    MappingEndEvent,
    MappingStartEvent,
    ScalarEvent,
    SequenceEndEvent,
    SequenceStartEvent,
    StreamEndEvent,
    StreamStartEvent,
)
from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

from harness.contract.errors import InputError
from harness.fsutil import atomic_write_text
from harness.record.secrets import SCRUBBED, SECRET_HEADERS
from harness.record.stub import Exchange

STUB_URL = "http://127.0.0.1:8080"
KEPT_REQUEST_HEADERS = frozenset({"content-type", "accept", "anthropic-version", "anthropic-beta"})
KEPT_RESPONSE_HEADERS = frozenset({"content-type", "retry-after"})


@dataclass(frozen=True)
class HttpRequest:
    method: str
    uri: str
    headers: dict[str, str]
    body: bytes

    @property
    def path(self) -> str:
        return urlsplit(self.uri).path

    @property
    def query(self) -> str:
        return urlsplit(self.uri).query

    def json(self) -> Any:
        return json.loads(self.body) if self.body else None


@dataclass(frozen=True)
class HttpResponse:
    status: int
    headers: dict[str, str]
    body: bytes


@dataclass(frozen=True)
class Interaction:
    request: HttpRequest
    response: HttpResponse
    line: int | None = None  # 1-based line where the interaction starts, when it can be told


# ------------------------------------------------------------------------------------ writing


class _ReviewableDumper(yaml.SafeDumper):
    """Multi-line strings as literal blocks (PyYAML falls back to quotes when it cannot)."""


LITERAL_UNSAFE = ("\x85", "\u2028", "\u2029")
"""Characters YAML reads back as line breaks when written raw: such text is double-quoted."""


def _str_presenter(dumper: yaml.SafeDumper, value: str) -> yaml.ScalarNode:
    if any(c in value for c in LITERAL_UNSAFE):
        style: str | None = '"'  # escaped, so nothing is read back as a line break
    else:
        style = "|" if "\n" in value else None
    return dumper.represent_scalar("tag:yaml.org,2002:str", value, style=style)


_ReviewableDumper.add_representer(str, _str_presenter)


def _headers(headers: Mapping[str, str], kept: frozenset[str]) -> dict[str, list[str]]:
    out: dict[str, list[str]] = {}
    for name, value in sorted(headers.items()):
        lower = name.lower()
        if lower in SECRET_HEADERS:
            out[lower] = [SCRUBBED]
        elif lower in kept:
            out[lower] = [value]
    return out


def _text_body(body: bytes) -> str:
    """Request bodies: pretty JSON when JSON, else text."""
    if not body:
        return ""
    text = body.decode("utf-8", errors="replace")
    try:
        parsed = json.loads(text)
    except ValueError:
        return text
    return json.dumps(parsed, indent=2, ensure_ascii=False) + "\n"


def _interaction(exchange: Exchange) -> dict[str, Any]:
    req, reply = exchange.request, exchange.reply
    uri = STUB_URL + req.path + (f"?{req.query}" if req.query else "")
    return {
        "request": {
            "method": req.method,
            "uri": uri,
            "headers": _headers(req.headers, KEPT_REQUEST_HEADERS),
            "body": _text_body(req.body),
        },
        "response": {
            "status": {"code": reply.status, "message": _reason(reply.status)},
            "headers": _headers(reply.headers, KEPT_RESPONSE_HEADERS),
            "body": {"string": reply.body.decode("utf-8", errors="replace")},
        },
    }


def _reason(status: int) -> str:
    try:
        return HTTPStatus(status).phrase
    except ValueError:
        return ""


def render_http_cassette(exchanges: Sequence[Exchange]) -> str:
    """The cassette text for `exchanges` (deterministic: same exchanges, same text)."""
    data = {"interactions": [_interaction(e) for e in exchanges], "version": 1}
    return yaml.dump(data, Dumper=_ReviewableDumper, sort_keys=False, allow_unicode=True,
                     width=100)


def write_http_cassette(path: Path, exchanges: Sequence[Exchange]) -> None:
    atomic_write_text(path, render_http_cassette(exchanges))


# ------------------------------------------------------------------------------------ reading


Entry = tuple[Interaction, dict[str, Any]]
"""One interaction, checked, with the vcrpy dict it was read from (what replay serves)."""


def read_http_cassette(path: Path) -> list[Interaction]:
    """Load a vcrpy cassette (YAML or JSON, ours or another tool's) into plain interactions."""
    return [interaction for interaction, _ in _whole_entries(path)]


def _whole_entries(path: Path) -> list[Entry]:
    """Every interaction of the cassette at `path`, read as one document."""
    try:
        raw = path.read_bytes()
        if raw.startswith(GZIP_MAGIC):  # a cassette saved gzip-compressed (`.yaml.gz`)
            raw = gzip.decompress(raw)
        text = raw.decode("utf-8")
    except OSError as exc:
        raise InputError(f"cannot read cassette: {exc.strerror or exc}", source=str(path)
                         ) from None
    except (EOFError, zlib.error) as exc:
        raise InputError(f"corrupt gzip cassette ({exc})", source=str(path)) from None
    except UnicodeDecodeError:
        raise InputError("cassette is not UTF-8", source=str(path)) from None
    try:
        interactions = load_cassette_dict(text)["interactions"]
    except (ValueError, KeyError, TypeError, AttributeError, yaml.YAMLError) as exc:
        raise InputError(f"not a vcrpy cassette: {exc}", source=str(path)) from None
    lines = interaction_lines(text, len(interactions))
    return [(_to_interaction(path, index, entry, lines[index]), entry)
            for index, entry in enumerate(interactions)]


def iter_http_cassette(path: Path) -> Iterator[Entry]:
    """The cassette at `path` one interaction at a time, each with its vcrpy dict form.

    Why: an API lane's input can be tens of MB of SSE bodies; loaded whole (text, then YAML
    objects, then vcrpy's copies) it took eight times its size in memory. YAML in the usual
    layout (one top-level mapping holding an `interactions` or `http_interactions` sequence) is
    read item by item from libyaml's events, so memory holds one interaction. JSON and any other
    layout are read whole by `read_http_cassette`'s rules, with the same results. An error met
    after some interactions were yielded (a malformed interaction, broken YAML further on) is
    an InputError raised there, naming the file and, when known, the line.
    """
    try:
        with path.open("rb") as handle:
            streamed = _StreamedYaml(path, handle)
            if streamed.start():
                yield from streamed.entries()
                return
    except OSError as exc:
        raise InputError(f"cannot read cassette: {exc.strerror}", source=str(path)) from None
    yield from _whole_entries(path)


def load_cassette_dict(text: str) -> dict[str, Any]:
    """A cassette's text as vcrpy's own dict form, whatever recorder wrote it.

    Read as well as vcrpy's YAML and JSON: JSON bodies kept parsed (`parsed_body` in place of
    `body`: pydantic-ai's test cassettes), response bodies as bare text, Ruby VCR's
    `http_interactions` (bodies as `{encoding, string | base64_string}`) and go-vcr's layout
    (`url`, response `code` / `status_code` and a `"200 OK"` status line), and the parallel
    `requests` / `responses` lists of vcrpy's in-memory cassette (saved as is by some
    replayers, e.g. BeamWeaver's). Each is written back in
    vcrpy's form (request `uri` and `body` text; response `status.code`, `body.string`), so the
    reader and vcrpy's replay (`harness.record.replay`, through this as its serializer) see the
    same exchanges. Anything else is left for the field checks to refuse."""
    serializer = jsonserializer if text.lstrip().startswith("{") else yamlserializer
    data = dict(serializer.deserialize(text))
    if "interactions" not in data and "http_interactions" in data:
        data["interactions"] = data.pop("http_interactions")
    if "interactions" not in data and isinstance(data.get("requests"), list) and isinstance(
            data.get("responses"), list):
        requests, responses = data.pop("requests"), data.pop("responses")
        if len(requests) != len(responses):
            raise ValueError(f"{len(requests)} requests but {len(responses)} responses")
        data["interactions"] = [{"request": q, "response": a}
                                for q, a in zip(requests, responses, strict=True)]
    interactions = data["interactions"]
    if not isinstance(interactions, list):
        raise TypeError("`interactions` is not a list")
    for entry in interactions:
        if isinstance(entry, dict):
            _vcrpy_request(entry.get("request"))
            _vcrpy_response(entry.get("response"))
    return data


def _vcrpy_body(part: dict[str, Any]) -> tuple[bool, Any]:
    """(found, text) of a body in a layout other than vcrpy's: parsed JSON, or a wrapper
    `{string}` / `{base64_string}` (Ruby VCR); (False, None) leaves the body as it is."""
    if "body" not in part and "parsed_body" in part:
        return True, json.dumps(part.pop("parsed_body"))
    body = part.get("body")
    if isinstance(body, dict) and "string" in body:
        return True, body["string"]
    if isinstance(body, dict) and "base64_string" in body:
        return True, base64.b64decode(str(body["base64_string"]))
    return False, None


_VCRPY_REQUEST_KEYS = frozenset({"method", "uri", "body", "headers"})


def _vcrpy_request(request: Any) -> None:
    if not isinstance(request, dict):
        return
    if "uri" not in request and "url" in request:
        request["uri"] = request.pop("url")
    found, body = _vcrpy_body(request)
    if found:
        request["body"] = body
    for extra in set(request) - _VCRPY_REQUEST_KEYS:  # go-vcr's proto, form, host, ...
        del request[extra]  # vcrpy's Request takes exactly its own keys


def _vcrpy_response(response: Any) -> None:
    if not isinstance(response, dict):
        return
    status = response.get("status")
    code = response.get("code", response.get("status_code"))
    if not isinstance(status, dict) and isinstance(code, int):
        reason = status.partition(" ")[2] if isinstance(status, str) else ""
        response["status"] = {"code": code, "message": reason}
    elif isinstance(status, str) and status[:3].isdigit():
        response["status"] = {"code": int(status[:3]), "message": status[4:]}
    found, body = _vcrpy_body(response)
    if found:
        response["body"] = {"string": body}
    elif isinstance(response.get("body"), str | bytes):
        response["body"] = {"string": response["body"]}
    _drop_stale_gzip_header(response)


def _drop_stale_gzip_header(response: dict[str, Any]) -> None:
    """A body saved decoded under its `content-encoding: gzip` header (a recorder that unpacked
    the body and kept the header; gzip data always starts with its magic bytes) loses the
    header, so neither the reader nor an SDK's HTTP client in replay tries to unpack it."""
    headers, body = response.get("headers"), response.get("body")
    string = body.get("string") if isinstance(body, dict) else None
    if not isinstance(headers, dict) or not string:
        return
    if isinstance(string, bytes) and string.startswith(GZIP_MAGIC):
        return
    for name in [k for k in headers if str(k).lower() == "content-encoding"]:
        value = headers[name]
        coding = value[0] if isinstance(value, list) and value else value
        if isinstance(coding, str) and coding.strip().lower() in {"gzip", "x-gzip"}:
            del headers[name]


_ENTRY_START = ("- request:", "- response:")


def interaction_lines(text: str, count: int) -> list[int | None]:
    """The 1-based line where each interaction begins, so errors can say `file:line`.

    vcrpy (and this project) write YAML cassettes as a top-level `interactions:` list whose
    entries start at column 0 with `- request:`; that is found by a scan of the text, which costs
    far less than composing the YAML a second time. Any other layout (JSON, other indentation)
    gives no lines, and errors fall back to naming the interaction.
    """
    found = [number for number, line in enumerate(text.splitlines(), start=1)
             if line.startswith(_ENTRY_START)]
    return list(found) if len(found) == count else [None] * count


def _to_interaction(path: Path, index: int, entry: Any, line: int | None) -> Interaction:
    """One interaction, checked field by field as vcrpy's `Request` would hold it, so a missing
    or wrong-typed field is refused naming the interaction (vcrpy's own `deserialize` converts
    every interaction at once and fails on the whole file, or keeps a numeric body that each
    lane's JSON parser then crashed on)."""
    where = f"interaction {index}"
    try:
        req, resp = entry["request"], entry["response"]
        method = _text_field(req["method"], "request method")
        uri = _text_field(req["uri"], "request uri")
        req_headers = _header_field(req["headers"], "request headers")
        request = HttpRequest(method.upper(), uri, req_headers,
                              _decode(_body_bytes(req["body"], "request body"), req_headers,
                                      path, where, line))
        resp_headers = _header_field(resp.get("headers"), "response headers")
        raw = _body_bytes(resp["body"]["string"], "response body string")
        response = HttpResponse(_status_code(resp["status"]["code"]), resp_headers,
                                _decode(raw, resp_headers, path, where, line))
    except (KeyError, TypeError, ValueError, AttributeError) as exc:
        raise InputError(f"{where}: missing or malformed field ({exc})", source=str(path),
                         line=line) from None
    return Interaction(request, response, line)


def _header_field(value: Any, name: str) -> dict[str, str]:
    """Headers as a mapping (or null, for none): vcrpy's replay builds a dict from them, so a
    falsy scalar such as `0` that slipped past an `or {}` crashed replay as a TypeError."""
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise TypeError(f"{name} is {type(value).__name__}, not a mapping")
    return {str(k).lower(): _first(v) for k, v in value.items()}


def _text_field(value: Any, name: str) -> str:
    """A field every consumer parses as text (a null or numeric uri used to crash URL parsing
    deep inside a lane or SDK as a TypeError)."""
    if not isinstance(value, str):
        raise TypeError(f"{name} is {type(value).__name__}, not a string")
    return value


def _body_bytes(value: Any, name: str) -> bytes:
    """A body as bytes: text is UTF-8 encoded, null is empty, anything else (a number, list or
    mapping a hand-edited cassette holds) is refused here rather than in each lane's parser."""
    if value is None:
        return b""
    if isinstance(value, str):
        return value.encode()
    if isinstance(value, bytes):
        return value
    raise TypeError(f"{name} is {type(value).__name__}, not text or bytes")


def _status_code(value: Any) -> int:
    """An HTTP status: an integer 100-599 (`int()` would turn 1.5 or true into 1)."""
    if isinstance(value, bool) or not isinstance(value, int) or not 100 <= value <= 599:
        raise ValueError(f"status code {value!r} is not an HTTP status")
    return value


def _first(value: Any) -> str:
    if isinstance(value, list | tuple):
        return str(value[0]) if value else ""
    return str(value)


def _from_module(candidates: Sequence[str], what: str) -> Callable[[bytes], Any]:
    """`decompress` of the first importable module of `candidates` (optional decoders: a
    missing one makes only the bodies that need it unreadable)."""
    for module in candidates:
        try:
            return cast(Callable[[bytes], Any], importlib.import_module(module).decompress)
        except ImportError:
            continue
    raise ImportError(f"no {what} decoder installed ({' or '.join(candidates)})")


def _brotli(body: bytes) -> bytes:
    """A brotli body (`content-encoding: br`): API hosts answer so when the client offers it
    (httpx does once a brotli package is installed), and vcrpy keeps it as recorded (its
    `decode_compressed_response` only knows gzip and deflate)."""
    return bytes(_from_module(("brotli", "brotlicffi"), "brotli")(body))


def _zstd(body: bytes) -> bytes:
    """A zstd body (httpx offers zstd when a decoder is installed: Python 3.14's
    `compression.zstd` or its backport)."""
    return bytes(_from_module(("compression.zstd", "backports.zstd", "zstandard"), "zstd")(body))


_DECODERS: dict[str, Callable[[bytes], bytes]] = {
    "gzip": gzip.decompress, "x-gzip": gzip.decompress, "deflate": zlib.decompress,
    "br": _brotli, "zstd": _zstd, "identity": bytes}
"""`content-encoding` value -> decoder; codings listed together were applied in order."""


def _decode(body: bytes, headers: Mapping[str, str], path: Path, where: str,
            line: int | None) -> bytes:
    """The body without its content codings; an unknown coding or a corrupt body is refused
    here, naming the interaction, rather than reaching an SDK as bytes it cannot parse."""
    codings = [c.strip() for c in headers.get("content-encoding", "").lower().split(",")]
    for coding in reversed([c for c in codings if c]):
        decoder = _DECODERS.get(coding)
        if decoder is None:
            raise InputError(f"{where}: unsupported content-encoding {coding!r}",
                             source=str(path), line=line)
        try:
            body = decoder(body)
        except ImportError as exc:
            raise InputError(f"{where}: {coding} body, {exc}", source=str(path),
                             line=line) from None
        except Exception as exc:  # each library raises its own error for a corrupt stream
            raise InputError(f"{where}: corrupt {coding} body ({exc})", source=str(path),
                             line=line) from None
    return body


# ------------------------------------------------------------------------------------ streaming

_STREAMED_KEYS = ("interactions", "http_interactions")
GZIP_MAGIC = b"\x1f\x8b"
"""A gzip-compressed cassette file (langchain's `*.yaml.gz` test cassettes; BeamWeaver's replay
reads them too): unpacked whole, then read like any other."""

_NOT_YAML_START = (b"{", b"\xff\xfe", b"\xfe\xff", GZIP_MAGIC)
"""How a file `iter_http_cassette` leaves to the whole-file reader starts: JSON, a UTF-16
byte order mark (refused there as not UTF-8; libyaml would read it), or gzip."""


def _plain_key(event: object) -> str | None:
    """The text of a mapping key that is a plain, untagged scalar, else None."""
    if isinstance(event, ScalarEvent) and event.tag is None and event.implicit[0]:
        return str(event.value)
    return None


class _StreamedYaml:
    """A YAML cassette walked event by event with libyaml (vcrpy's safe cassette loader): the
    top-level keys composed and constructed one by one, the interactions sequence one item at a
    time. `start` reads up to the first interaction and says whether this layout is streamed."""

    def __init__(self, path: Path, handle: Any) -> None:
        self.path = path
        self.handle = handle
        self.anchors: dict[str, Node] = {}
        self.loader: Any = None
        self.key: str | None = None

    def start(self) -> bool:
        head = self.handle.read(4096).lstrip(b" \t\r\n")
        if not head or head.startswith(_NOT_YAML_START):
            return False
        self.handle.seek(0)
        self.loader = yamlserializer._CassetteLoader(self.handle)
        try:
            return self._to_sequence()
        except yaml.YAMLError:
            return False  # the whole-file reader gives the same error, worded as before

    def _to_sequence(self) -> bool:
        """Walk the top-level mapping up to the interactions sequence's first item."""
        loader = self.loader
        for kind in (StreamStartEvent, DocumentStartEvent):
            if not loader.check_event(kind):
                return False
            loader.get_event()
        event = loader.get_event()
        if not isinstance(event, MappingStartEvent) or event.tag is not None or event.anchor:
            return False
        while not loader.check_event(MappingEndEvent):
            key = _plain_key(loader.peek_event())
            if key is None:
                return False
            loader.get_event()
            if key in _STREAMED_KEYS:
                if not loader.check_event(SequenceStartEvent):
                    return False
                event = loader.get_event()
                if event.tag is not None or event.anchor:
                    return False
                self.key = key
                return True
            self._compose()  # another key's value (version, recorded_with, metadata)
        return False

    def entries(self) -> Iterator[Entry]:
        """Each item of the sequence, normalized and checked like `read_http_cassette`'s, then
        the rest of the document read through, so broken YAML after the list is still refused."""
        index = 0
        try:
            while not self.loader.check_event(SequenceEndEvent):
                node = self._compose()
                entry = self.loader.construct_document(node)
                yield self._entry(index, entry, node)
                index += 1
            self.loader.get_event()
            self._finish()
        except yaml.YAMLError as exc:
            raise InputError(f"not a vcrpy cassette: {exc}", source=str(self.path)) from None
        finally:
            self.loader.dispose()

    def _entry(self, index: int, entry: Any, node: Node) -> Entry:
        if isinstance(entry, dict):
            _vcrpy_request(entry.get("request"))
            _vcrpy_response(entry.get("response"))
        return _to_interaction(self.path, index, entry, _entry_line(node)), entry

    def _finish(self) -> None:
        """The keys after the list (a second interactions list is refused: the whole-file
        reader would have used the last), then the end of the one document."""
        loader = self.loader
        while not loader.check_event(MappingEndEvent):
            key = _plain_key(loader.peek_event())
            self._compose()
            if key in _STREAMED_KEYS:
                raise InputError(f"not a vcrpy cassette: a second `{key}` list",
                                 source=str(self.path))
            self._compose()
        loader.get_event()
        if not isinstance(loader.get_event(), DocumentEndEvent) or not isinstance(
                loader.get_event(), StreamEndEvent):
            raise InputError("not a vcrpy cassette: more than one YAML document",
                             source=str(self.path))

    def _compose(self) -> Node:
        """One node from the event stream (PyYAML's composer, over libyaml's events)."""
        loader = self.loader
        event: Any = loader.get_event()
        start: Any = event.start_mark  # libyaml's marks: PyYAML's stubs know only its own
        if isinstance(event, AliasEvent):
            if event.anchor not in self.anchors:
                raise yaml.composer.ComposerError(None, None, f"found undefined alias "
                                                  f"{event.anchor!r}", start)
            return self.anchors[event.anchor]
        node: Node
        if isinstance(event, ScalarEvent):
            tag = event.tag
            if tag is None or tag == "!":
                tag = loader.resolve(ScalarNode, event.value, event.implicit)
            node = ScalarNode(tag, event.value, start, cast(Any, event.end_mark),
                              style=event.style)
        elif isinstance(event, SequenceStartEvent):
            node = SequenceNode(self._tag(SequenceNode, event), [], start, None,
                                flow_style=event.flow_style)
            self._remember(event, node)
            while not loader.check_event(SequenceEndEvent):
                node.value.append(self._compose())
            node.end_mark = loader.get_event().end_mark
            return node
        elif isinstance(event, MappingStartEvent):
            node = MappingNode(self._tag(MappingNode, event), [], start, None,
                               flow_style=event.flow_style)
            self._remember(event, node)
            while not loader.check_event(MappingEndEvent):
                key = self._compose()
                node.value.append((key, self._compose()))
            node.end_mark = loader.get_event().end_mark
            return node
        else:
            raise yaml.composer.ComposerError(None, None, f"unexpected {type(event).__name__}",
                                              start)
        self._remember(event, node)
        return node

    def _tag(self, kind: type[Node], event: Any) -> str:
        tag = event.tag
        if tag is None or tag == "!":
            tag = self.loader.resolve(kind, None, event.implicit)
        return str(tag)

    def _remember(self, event: Any, node: Node) -> None:
        if event.anchor is not None:
            self.anchors[event.anchor] = node


def _entry_line(node: Node) -> int | None:
    """The 1-based line of an interaction written `- request:` / `- response:` at column 0 (a
    block mapping whose first key starts two columns in), as `interaction_lines` finds it."""
    if not isinstance(node, MappingNode) or node.flow_style or not node.value:
        return None
    key = node.value[0][0]
    mark = key.start_mark
    if (isinstance(key, ScalarNode) and not key.style and key.value in ("request", "response")
            and mark.column == 2 and node.start_mark.line == mark.line):
        return int(mark.line) + 1
    return None
