"""A local HTTP server that speaks enough of the Anthropic Messages API for tests and benchmarks.

`POST /v1/messages` answers with a JSON `Message`, or with server-sent events when the request has
`"stream": true` (message_start, content_block_start, ping, content_block_delta with text_delta or
input_json_delta, content_block_stop, message_delta with usage, message_stop), exactly as the real API
shapes them. Replies are scripted per test with a queue of `Reply` values: text, tool calls (also
malformed ones), API errors (400, 401, 403, 404, 429 with retry-after, 529 overloaded, 500), a proxy's HTML
page instead of JSON (502), slow replies that outlast the client's timeout, and streams that fail, stall or
end part-way (without their final event). Every request is recorded. Connection refused and DNS failures need
no server: see `refused_url` and tests/integration/test_llm_faults.py.

    with FakeAnthropicServer() as server:
        server.queue(Reply.overloaded(), Reply.text("Hello [1]"))
        client = anthropic.Anthropic(api_key="test", base_url=server.url)
"""

from __future__ import annotations

import itertools
import json
import socket
import threading
import time
from collections import deque
from dataclasses import dataclass, field, replace
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import TracebackType
from typing import Any


@dataclass(frozen=True)
class Reply:
    """One scripted answer to one request. Build with the class methods."""

    status: int = 200
    text: str | None = None
    chunks: tuple[str, ...] | None = None
    tool_name: str | None = None
    tool_input: Any = None
    tool_json_chunks: tuple[str, ...] | None = None
    error_type: str | None = None
    error_message: str = ""
    headers: tuple[tuple[str, str], ...] = ()
    usage: tuple[tuple[str, int], ...] = ()
    delay: float = 0.0
    fail_after_chunks: int | None = None
    stall_after_chunks: int | None = None
    stall_seconds: float = 0.0
    html: str | None = None
    end_after_chunks: int | None = None
    chunk_delay: float = 0.0

    @classmethod
    def text_reply(
        cls,
        text: str,
        *,
        chunks: list[str] | None = None,
        input_tokens: int = 120,
        output_tokens: int = 40,
        cache_read: int = 0,
        cache_write: int = 0,
        delay: float = 0.0,
    ) -> Reply:
        """A text answer; streamed as `chunks` (default: one chunk per few words)."""
        if chunks is not None and "".join(chunks) != text:
            raise ValueError("chunks must join to the text")
        return cls(
            text=text,
            chunks=tuple(chunks) if chunks is not None else None,
            usage=_usage(input_tokens, output_tokens, cache_read, cache_write),
            delay=delay,
        )

    @classmethod
    def tool(
        cls,
        name: str,
        tool_input: Any,
        *,
        json_chunks: list[str] | None = None,
        input_tokens: int = 300,
        output_tokens: int = 60,
        cache_read: int = 0,
        cache_write: int = 0,
    ) -> Reply:
        """A tool call. `tool_input` may be anything JSON (malformed for the tool on purpose); for streamed
        requests `json_chunks` may give the raw partial JSON, even invalid JSON."""
        return cls(
            tool_name=name,
            tool_input=tool_input,
            tool_json_chunks=tuple(json_chunks) if json_chunks is not None else None,
            usage=_usage(input_tokens, output_tokens, cache_read, cache_write),
        )

    @classmethod
    def error(
        cls, status: int, error_type: str, message: str, *, headers: dict[str, str] | None = None
    ) -> Reply:
        return cls(
            status=status,
            error_type=error_type,
            error_message=message,
            headers=tuple((headers or {}).items()),
        )

    @classmethod
    def rate_limited(cls, retry_after: float = 0.01) -> Reply:
        """429 rate_limit_error with `retry-after` (seconds; the SDK accepts fractions)."""
        return cls.error(
            429, "rate_limit_error", "Number of request tokens has exceeded your per-minute rate limit",
            headers={"retry-after": str(retry_after)},
        )

    @classmethod
    def overloaded(cls) -> Reply:
        """529 overloaded_error."""
        return cls.error(529, "overloaded_error", "Overloaded")

    @classmethod
    def server_error(cls) -> Reply:
        """500 api_error."""
        return cls.error(500, "api_error", "Internal server error")

    @classmethod
    def html_page(cls, status: int = 502, body: str = "<html><body><h1>502 Bad Gateway</h1></body></html>") -> Reply:
        """An HTML page with `status`, as a proxy or load balancer in front of the API sends."""
        return cls(status=status, html=body)

    @classmethod
    def truncated_stream(cls, chunks: list[str], *, after: int) -> Reply:
        """A stream that sends `after` text deltas, then closes the connection: no content_block_stop,
        message_delta or message_stop."""
        return cls(text="".join(chunks), chunks=tuple(chunks), usage=_usage(120, 40, 0, 0), end_after_chunks=after)

    @classmethod
    def trickle(cls, chunks: list[str], *, every: float) -> Reply:
        """A stream that sends one text delta every `every` seconds (never silent long enough to time out)."""
        return cls(text="".join(chunks), chunks=tuple(chunks), usage=_usage(120, 40, 0, 0), chunk_delay=every)

    @classmethod
    def slow(cls, seconds: float, then: Reply | None = None) -> Reply:
        """Wait `seconds` before answering (longer than the client's timeout to provoke one)."""
        return replace(then or cls.text_reply("Sorry for the wait."), delay=seconds)

    @classmethod
    def failing_stream(cls, chunks: list[str], *, after: int) -> Reply:
        """A stream that sends `after` text deltas, then an `error` event (overloaded), as the API does."""
        return cls(text="".join(chunks), chunks=tuple(chunks), usage=_usage(120, 40, 0, 0), fail_after_chunks=after)

    @classmethod
    def stalling_stream(cls, chunks: list[str], *, after: int, seconds: float) -> Reply:
        """A stream that sends `after` text deltas, then goes silent for `seconds`."""
        return cls(
            text="".join(chunks), chunks=tuple(chunks), usage=_usage(120, 40, 0, 0),
            stall_after_chunks=after, stall_seconds=seconds,
        )


def _usage(input_tokens: int, output_tokens: int, cache_read: int, cache_write: int) -> tuple[tuple[str, int], ...]:
    return (
        ("input_tokens", input_tokens),
        ("output_tokens", output_tokens),
        ("cache_read_input_tokens", cache_read),
        ("cache_creation_input_tokens", cache_write),
    )


@dataclass(frozen=True)
class RecordedRequest:
    """A request the server received."""

    method: str
    path: str
    headers: dict[str, str]
    body: dict[str, Any]
    received_at: float = field(default_factory=time.monotonic)
    """`time.monotonic()` when the request arrived (to measure waits between retries)."""

    @property
    def system_blocks(self) -> list[dict[str, Any]]:
        system = self.body.get("system", [])
        return [{"type": "text", "text": system}] if isinstance(system, str) else list(system)

    @property
    def user_blocks(self) -> list[dict[str, Any]]:
        """Content blocks of the last user message."""
        content = self.body["messages"][-1]["content"]
        return [{"type": "text", "text": content}] if isinstance(content, str) else list(content)

    @property
    def all_text(self) -> str:
        """Every prompt text sent (system, messages, tool descriptions), joined."""
        texts = [b.get("text", "") for b in self.system_blocks]
        for message in self.body.get("messages", []):
            content = message["content"]
            texts += [content] if isinstance(content, str) else [b.get("text", "") for b in content]
        texts += [t.get("description", "") for t in self.body.get("tools", [])]
        return "\n".join(texts)


class FakeAnthropicServer:
    """A threaded HTTP server on 127.0.0.1 (a free port) answering from a queue of `Reply` values.

    When the queue is empty it answers with `default` if set, else with a 500 that says nothing was
    scripted (so a test that forgot a reply fails loudly).
    """

    def __init__(self, default: Reply | None = None) -> None:
        self.default = default
        self.requests: list[RecordedRequest] = []
        self._replies: deque[Reply] = deque()
        self._lock = threading.Lock()
        self._stopping = threading.Event()
        self._ids = itertools.count(1)
        self._httpd = ThreadingHTTPServer(("127.0.0.1", 0), _handler_for(self))
        self._httpd.daemon_threads = True
        self._thread = threading.Thread(
            target=self._httpd.serve_forever, kwargs={"poll_interval": 0.02}, name="fake-anthropic", daemon=True
        )

    @property
    def url(self) -> str:
        host, port = self._httpd.server_address[:2]
        return f"http://{host!s}:{port}"

    def queue(self, *replies: Reply) -> None:
        with self._lock:
            self._replies.extend(replies)

    @property
    def pending(self) -> int:
        """Scripted replies not used yet."""
        with self._lock:
            return len(self._replies)

    def start(self) -> FakeAnthropicServer:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stopping.set()
        self._httpd.shutdown()
        self._httpd.server_close()
        self._thread.join(timeout=5)

    def __enter__(self) -> FakeAnthropicServer:
        return self.start()

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()

    # ------------------------------------------------------------ used by the handler

    def _next(self, request: RecordedRequest) -> Reply | None:
        with self._lock:
            self.requests.append(request)
            return self._replies.popleft() if self._replies else self.default

    def _wait(self, seconds: float) -> None:
        self._stopping.wait(seconds)

    def _new_id(self, prefix: str) -> str:
        return f"{prefix}_fake{next(self._ids):06d}"


def _handler_for(server: FakeAnthropicServer) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.0"  # one request per connection; a stream ends when the socket closes

        def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - silence request logging
            return

        def do_POST(self) -> None:
            length = int(self.headers.get("content-length") or 0)
            raw = self.rfile.read(length) if length else b""
            try:
                body = json.loads(raw or b"{}")
            except json.JSONDecodeError:
                body = {"_raw": raw.decode("utf-8", "replace")}
            request = RecordedRequest("POST", self.path, {k.lower(): v for k, v in self.headers.items()}, body)
            if self.path.split("?")[0] != "/v1/messages":
                self._json(404, _error_body("not_found_error", f"fake server: no route {self.path}"))
                return
            reply = server._next(request)
            try:
                if reply is None:
                    self._json(500, _error_body("api_error", "fake server: no reply scripted for this request"))
                    return
                if reply.delay:
                    server._wait(reply.delay)
                if reply.html is not None:
                    self._html(reply.status, reply.html)
                elif reply.error_type is not None:
                    self._json(reply.status, _error_body(reply.error_type, reply.error_message), reply.headers)
                elif body.get("stream"):
                    self._stream(reply, body)
                else:
                    self._json(200, self._message(reply, body))
            except (BrokenPipeError, ConnectionResetError):
                return  # the client gave up (timeout); nothing to do

        # -------------------------------------------------------- responses

        def _headers(self, status: int, content_type: str, extra: tuple[tuple[str, str], ...] = ()) -> None:
            self.send_response(status)
            self.send_header("content-type", content_type)
            self.send_header("request-id", server._new_id("req"))
            for name, value in extra:
                self.send_header(name, value)

        def _json(self, status: int, payload: dict[str, Any], extra: tuple[tuple[str, str], ...] = ()) -> None:
            data = json.dumps(payload).encode()
            self._headers(status, "application/json", extra)
            self.send_header("content-length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def _html(self, status: int, page: str) -> None:
            data = page.encode()
            self._headers(status, "text/html; charset=utf-8")
            self.send_header("content-length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def _message(self, reply: Reply, body: dict[str, Any]) -> dict[str, Any]:
            if reply.tool_name is not None:
                content: list[dict[str, Any]] = [
                    {"type": "tool_use", "id": server._new_id("toolu"), "name": reply.tool_name,
                     "input": reply.tool_input}
                ]
                stop_reason = "tool_use"
            else:
                content = [{"type": "text", "text": reply.text or "", "citations": None}]
                stop_reason = "end_turn"
            return {
                "id": server._new_id("msg"),
                "type": "message",
                "role": "assistant",
                "model": body.get("model", "unknown"),
                "content": content,
                "stop_reason": stop_reason,
                "stop_sequence": None,
                "usage": dict(reply.usage),
            }

        def _event(self, name: str, payload: dict[str, Any]) -> None:
            self.wfile.write(f"event: {name}\ndata: {json.dumps(payload)}\n\n".encode())
            self.wfile.flush()

        def _stream(self, reply: Reply, body: dict[str, Any]) -> None:
            usage = dict(reply.usage)
            self._headers(200, "text/event-stream", (("cache-control", "no-cache"),))
            self.end_headers()
            start_usage = {**usage, "output_tokens": 1}
            self._event("message_start", {
                "type": "message_start",
                "message": {
                    "id": server._new_id("msg"), "type": "message", "role": "assistant",
                    "model": body.get("model", "unknown"), "content": [], "stop_reason": None,
                    "stop_sequence": None, "usage": start_usage,
                },
            })
            if reply.tool_name is not None:
                self._event("content_block_start", {
                    "type": "content_block_start", "index": 0,
                    "content_block": {"type": "tool_use", "id": server._new_id("toolu"), "name": reply.tool_name,
                                      "input": {}},
                })
                self._event("ping", {"type": "ping"})
                raw = json.dumps(reply.tool_input)
                pieces = reply.tool_json_chunks or tuple(raw[i : i + 12] for i in range(0, len(raw), 12))
                for piece in pieces:
                    self._event("content_block_delta", {
                        "type": "content_block_delta", "index": 0,
                        "delta": {"type": "input_json_delta", "partial_json": piece},
                    })
                stop_reason = "tool_use"
            else:
                text = reply.text or ""
                chunks = reply.chunks if reply.chunks is not None else _word_chunks(text)
                self._event("content_block_start", {
                    "type": "content_block_start", "index": 0, "content_block": {"type": "text", "text": ""},
                })
                self._event("ping", {"type": "ping"})
                for number, chunk in enumerate(chunks):
                    if reply.fail_after_chunks is not None and number == reply.fail_after_chunks:
                        self._event("error", _error_body("overloaded_error", "Overloaded"))
                        return
                    if reply.chunk_delay:
                        server._wait(reply.chunk_delay)
                    if reply.end_after_chunks is not None and number == reply.end_after_chunks:
                        return  # HTTP/1.0: the connection closes, the stream ends here
                    if reply.stall_after_chunks is not None and number == reply.stall_after_chunks:
                        server._wait(reply.stall_seconds)
                    self._event("content_block_delta", {
                        "type": "content_block_delta", "index": 0, "delta": {"type": "text_delta", "text": chunk},
                    })
                stop_reason = "end_turn"
            self._event("content_block_stop", {"type": "content_block_stop", "index": 0})
            delta_usage = {k: v for k, v in usage.items() if k != "input_tokens"}
            self._event("message_delta", {
                "type": "message_delta",
                "delta": {"stop_reason": stop_reason, "stop_sequence": None},
                "usage": delta_usage,
            })
            self._event("message_stop", {"type": "message_stop"})

    return Handler


def refused_url() -> str:
    """A URL on 127.0.0.1 where nothing listens (the port was free a moment ago): connections are refused."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    return f"http://127.0.0.1:{port}"


def _error_body(error_type: str, message: str) -> dict[str, Any]:
    return {"type": "error", "error": {"type": error_type, "message": message}, "request_id": None}


def _word_chunks(text: str, words_per_chunk: int = 4) -> tuple[str, ...]:
    words = text.split(" ")
    return tuple(
        " ".join(words[i : i + words_per_chunk]) + (" " if i + words_per_chunk < len(words) else "")
        for i in range(0, len(words), words_per_chunk)
    ) or ("",)


__all__ = ["FakeAnthropicServer", "RecordedRequest", "Reply", "refused_url"]
