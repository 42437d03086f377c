"""Faults on the Claude path, through the real anthropic SDK against the local fake Messages server: each one
completes the call offline and is reported with its reason, within the turn's deadline.

Connection refused uses a free port on 127.0.0.1; the DNS failure uses `nonexistent.invalid`, whose lookup is
answered "no such name" on this machine (socket.getaddrinfo is patched for `.invalid` names only, so no DNS
query leaves the machine; everything above it, httpx and the SDK, is real).
"""

from __future__ import annotations

import socket
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any

import anthropic
import pytest

from tests.fakes.anthropic_server import FakeAnthropicServer, Reply, refused_url
from tests.support.learner import Clock, course_dir, drain
from tutor.course.loader import load_course
from tutor.course.models import Skill
from tutor.llm import (
    Explanation,
    KeyRejectedError,
    Provider,
    ProviderError,
    TurnDeadlineError,
    build_provider,
)
from tutor.llm import _claude as claude_clients
from tutor.llm.prompts import render
from tutor.retrieval import Passage, ingest_course, open_store
from tutor.session import Tutor
from tutor.settings import Settings

SKILL = Skill(id="equivalent", title="Equivalent fractions", objectives=["Find equal fractions by scaling."])


PASSAGES = [Passage(id="eq-1", text="Equivalent fractions name the same amount.", course="fractions",
                    skills=("equivalent",), source="eq.md", heading_path=("Equivalent",), style="definition",
                    score=1.0)]


@dataclass
class Fallbacks:
    calls: list[tuple[str, Exception]]

    def __call__(self, method: str, exc: Exception) -> None:
        self.calls.append((method, exc))

    @property
    def errors(self) -> list[Exception]:
        return [exc for _, exc in self.calls]


@pytest.fixture(autouse=True)
def fresh_clients() -> Iterator[None]:
    """Each test starts with new Claude clients (a rejected key is remembered per client)."""
    claude_clients.cache_clear()
    yield
    claude_clients.cache_clear()


@pytest.fixture
def no_dns(monkeypatch: pytest.MonkeyPatch) -> None:
    """Names under `.invalid` (RFC 6761) do not resolve, answered here instead of by a DNS server."""
    real = socket.getaddrinfo

    def getaddrinfo(host: Any, *args: Any, **kwargs: Any) -> Any:
        name = host.decode() if isinstance(host, bytes) else str(host)
        if name.endswith(".invalid"):
            raise socket.gaierror(socket.EAI_NONAME, "Name or service not known")
        return real(host, *args, **kwargs)

    monkeypatch.setattr(socket, "getaddrinfo", getaddrinfo)


def settings_for(url: str, **overrides: Any) -> Settings:
    values: dict[str, Any] = {"anthropic_api_key": "test-key", "anthropic_base_url": url, "anthropic_timeout": 2.0,
                              "anthropic_max_retries": 1, "llm_turn_seconds": 10.0}
    return Settings(_env_file=None, **{**values, **overrides})


def explain(provider: Provider, chunks: list[str] | None = None) -> Explanation:
    return provider.explain(course_title="Fractions", skill=SKILL, passages=PASSAGES, style="definition",
                            on_text=chunks.append if chunks is not None else None)


def assert_offline(result: Explanation, chunks: list[str]) -> None:
    assert result.usage.provider == "offline" and result.cited == ("eq-1",)
    assert PASSAGES[0].text in result.text and "".join(chunks).endswith(result.text)


# ---------------------------------------------------------------- faults before any text


STATUS_FAULTS = {
    "400": (Reply.error(400, "invalid_request_error", "max_tokens: field required"), anthropic.BadRequestError),
    "404": (Reply.error(404, "not_found_error", "model: claude-nope"), anthropic.NotFoundError),
}


@pytest.mark.parametrize("case", sorted(STATUS_FAULTS))
def test_a_client_error_is_not_retried_and_falls_back(case: str, fake_anthropic: FakeAnthropicServer) -> None:
    reply, error_type = STATUS_FAULTS[case]
    fake_anthropic.queue(reply)
    fallbacks = Fallbacks([])
    chunks: list[str] = []
    result = explain(build_provider(settings_for(fake_anthropic.url), on_fallback=fallbacks), chunks)
    assert_offline(result, chunks)
    assert len(fake_anthropic.requests) == 1  # the same request cannot succeed: no retry
    [error] = fallbacks.errors
    assert isinstance(error, ProviderError) and isinstance(error.__cause__, error_type)


def test_an_html_page_on_502_is_retried_then_falls_back(fake_anthropic: FakeAnthropicServer) -> None:
    fake_anthropic.queue(Reply.html_page(502), Reply.html_page(502))
    fallbacks = Fallbacks([])
    chunks: list[str] = []
    result = explain(build_provider(settings_for(fake_anthropic.url), on_fallback=fallbacks), chunks)
    assert_offline(result, chunks)
    assert len(fake_anthropic.requests) == 2
    [error] = fallbacks.errors
    assert isinstance(error.__cause__, anthropic.InternalServerError) and error.__cause__.status_code == 502
    assert "502 Bad Gateway" in str(error)


@pytest.mark.parametrize("where", ["refused", "dns"])
def test_no_connection_falls_back(where: str, no_dns: None) -> None:
    url = refused_url() if where == "refused" else "http://nonexistent.invalid"
    fallbacks = Fallbacks([])
    chunks: list[str] = []
    start = time.monotonic()
    result = explain(build_provider(settings_for(url), on_fallback=fallbacks), chunks)
    assert time.monotonic() - start < 3.0  # one retry after a jittered wait of at most 0.5 s
    assert_offline(result, chunks)
    [error] = fallbacks.errors
    assert isinstance(error.__cause__, anthropic.APIConnectionError)
    causes = []
    cause: BaseException | None = error
    while cause is not None:
        causes.append(cause)
        cause = cause.__cause__ or cause.__context__
    expected = socket.gaierror if where == "dns" else ConnectionRefusedError
    assert any(isinstance(c, expected) for c in causes), causes


@pytest.mark.parametrize(("status", "kind"), [(401, "authentication_error"), (403, "permission_error")])
def test_a_rejected_key_is_said_once_and_never_sent_again(
    status: int, kind: str, fake_anthropic: FakeAnthropicServer
) -> None:
    fake_anthropic.queue(Reply.error(status, kind, "invalid x-api-key"))
    settings = settings_for(fake_anthropic.url)
    first, later = Fallbacks([]), Fallbacks([])
    chunks: list[str] = []
    assert_offline(explain(build_provider(settings, on_fallback=first), chunks), chunks)
    # later turns (new providers from the same settings, as the session builds them) send nothing
    for _ in range(3):
        chunks = []
        assert_offline(explain(build_provider(settings, on_fallback=later), chunks), chunks)
    assert len(fake_anthropic.requests) == 1
    [rejected] = first.errors
    assert isinstance(rejected, KeyRejectedError) and rejected.first
    assert f"the Anthropic API key was rejected (HTTP {status}" in str(rejected)
    assert "set a valid ANTHROPIC_API_KEY" in str(rejected) and "test-key" not in str(rejected)
    assert len(later.errors) == 3
    assert all(isinstance(e, KeyRejectedError) and not e.first for e in later.errors)


# ---------------------------------------------------------------- faults in a stream


def test_a_stream_without_its_final_event_is_not_taken_as_the_answer(fake_anthropic: FakeAnthropicServer) -> None:
    sent = ["Equivalent fractions ", "name the same ", "amount [1]."]
    fake_anthropic.queue(Reply.truncated_stream(sent, after=2))
    fallbacks = Fallbacks([])
    chunks: list[str] = []
    result = explain(build_provider(settings_for(fake_anthropic.url), on_fallback=fallbacks), chunks)
    assert chunks[:2] == sent[:2] and render("offline/fallback_separator") in chunks[2]
    assert_offline(result, chunks)
    [error] = fallbacks.errors
    assert "the stream ended before its final event" in str(error)


def test_a_truncated_stream_before_any_text_also_falls_back(fake_anthropic: FakeAnthropicServer) -> None:
    fake_anthropic.queue(Reply.truncated_stream(["Half an answer"], after=0))
    fallbacks = Fallbacks([])
    chunks: list[str] = []
    result = explain(build_provider(settings_for(fake_anthropic.url), on_fallback=fallbacks), chunks)
    assert_offline(result, chunks)
    assert "".join(chunks) == result.text  # nothing partial was shown, so no notice either
    assert "the stream ended before its final event" in str(fallbacks.errors[0])


# ---------------------------------------------------------------- the turn's deadline


def test_a_turn_never_waits_longer_than_its_deadline(fake_anthropic: FakeAnthropicServer) -> None:
    """A slow server with a generous per-request timeout and retries: the turn's 0.6 s decide."""
    fake_anthropic.queue(*[Reply.slow(5.0)] * 4)
    fallbacks = Fallbacks([])
    provider = build_provider(
        settings_for(fake_anthropic.url, anthropic_timeout=30.0, anthropic_max_retries=3, llm_turn_seconds=0.6),
        on_fallback=fallbacks,
    )
    start = time.monotonic()
    first = explain(provider, [])
    hint, usage = provider.hint(skill=SKILL, item_prompt="2/3 = ?/6", authored_hints=["Scale both."], level=1)
    elapsed = time.monotonic() - start
    assert first.usage.provider == "offline" and usage.provider == "offline" and "Scale both." in hint
    assert elapsed < 1.5, elapsed
    assert len(fake_anthropic.requests) == 1  # no retry fits, and the hint is not even sent
    explain_error, hint_error = fallbacks.errors
    assert isinstance(explain_error.__cause__, anthropic.APITimeoutError)
    assert "no time left in the turn to retry" in str(explain_error)
    assert isinstance(hint_error, TurnDeadlineError)


def test_retries_stop_at_the_deadline(fake_anthropic: FakeAnthropicServer) -> None:
    fake_anthropic.queue(*[Reply.rate_limited(retry_after=0.05)] * 50)
    fallbacks = Fallbacks([])
    provider = build_provider(settings_for(fake_anthropic.url, anthropic_max_retries=40, llm_turn_seconds=1.0),
                              on_fallback=fallbacks)
    start = time.monotonic()
    assert explain(provider, []).usage.provider == "offline"
    assert time.monotonic() - start < 1.6
    assert 2 <= len(fake_anthropic.requests) < 40
    assert "no time left in the turn to retry" in str(fallbacks.errors[0])


def test_a_stream_that_trickles_past_the_deadline_is_cut_off(fake_anthropic: FakeAnthropicServer) -> None:
    """Each chunk comes well within the request timeout, but the whole answer would outlast the turn."""
    sent = [f"word{i} " for i in range(30)]
    fake_anthropic.queue(Reply.trickle(sent, every=0.1))
    fallbacks = Fallbacks([])
    chunks: list[str] = []
    provider = build_provider(settings_for(fake_anthropic.url, llm_turn_seconds=0.8), on_fallback=fallbacks)
    start = time.monotonic()
    result = explain(provider, chunks)
    assert time.monotonic() - start < 1.5
    assert render("offline/fallback_separator") in "".join(chunks)
    assert_offline(result, chunks)
    assert isinstance(fallbacks.errors[0], TurnDeadlineError)


def test_a_retry_waits_for_retry_after_plus_jitter(fake_anthropic: FakeAnthropicServer) -> None:
    fake_anthropic.queue(Reply.rate_limited(retry_after=0.3), Reply.text_reply("Same amount [1]."))
    fallbacks = Fallbacks([])
    result = explain(build_provider(settings_for(fake_anthropic.url), on_fallback=fallbacks), [])
    assert result.usage.provider == "anthropic" and fallbacks.calls == []
    first, second = fake_anthropic.requests
    assert 0.3 <= second.received_at - first.received_at < 0.3 + 0.5 + 0.5  # retry-after + jitter window + slack


# ---------------------------------------------------------------- whole turns: what is told, what is recorded


@pytest.fixture(scope="module")
def store_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    data = tmp_path_factory.mktemp("store")
    ingest_course(open_store(Settings(_env_file=None, data_dir=data)), course_dir("fractions"))
    return data


@pytest.fixture
def make_tutor(
    request: pytest.FixtureRequest, tmp_path: Path, store_dir: Path, fake_anthropic: FakeAnthropicServer
) -> Any:
    """A Tutor on the fractions course talking to the fake server; closed at the end of the test."""

    def make(clock: Clock, **overrides: Any) -> Tutor:
        settings = settings_for(fake_anthropic.url, data_dir=tmp_path / "data", anthropic_max_retries=0, **overrides)
        tutor = Tutor(settings, store=open_store(Settings(_env_file=None, data_dir=store_dir)),
                      courses=[load_course(course_dir("fractions"))], clock=clock)
        request.addfinalizer(tutor.close)
        return tutor

    return make


def notices(events: list[dict[str, Any]]) -> list[str]:
    return [str(e["text"]) for e in events if e["type"] == "notice"]


def fallback_reasons(tutor: Tutor) -> list[str]:
    return [str(u.fallback_reason) for u in tutor.records.usage("fractions") if u.fallback_reason]


def test_a_rejected_key_is_told_once_and_every_turn_is_recorded(
    make_tutor: Any, fake_anthropic: FakeAnthropicServer
) -> None:
    tutor: Tutor = make_tutor(Clock())
    fake_anthropic.queue(Reply.error(401, "authentication_error", "invalid x-api-key"))
    first = drain(tutor.start("ann", "fractions"))
    assert [n for n in notices(first) if "API key was rejected" in n] == notices(first) != []
    assert any(e["type"] == "message" and e["message"]["kind"] == "explanation" for e in first)
    later = drain(tutor.send("ann", "fractions", "hint"))
    assert notices(later) == []  # already said
    assert any(e["type"] == "message" and e["message"]["kind"] == "hint" for e in later)
    assert len(fake_anthropic.requests) == 1  # the rejected key is not sent again
    reasons = fallback_reasons(tutor)
    assert len(reasons) == 2
    assert all(r.startswith("KeyRejectedError: the Anthropic API key was rejected (HTTP 401") for r in reasons)


def test_a_spent_daily_budget_continues_offline_and_says_so(
    make_tutor: Any, fake_anthropic: FakeAnthropicServer
) -> None:
    clock = Clock()
    tutor: Tutor = make_tutor(clock, daily_token_budget=150)
    fake_anthropic.default = Reply.text_reply("A fraction names equal parts of a whole [1].", input_tokens=120,
                                              output_tokens=40)
    events = drain(tutor.start("bo", "fractions"))
    assert notices(events) == [] and len(fake_anthropic.requests) == 1  # 160 tokens: now over the budget
    events = drain(tutor.send("bo", "fractions", "hint"))
    assert notices(events) == [
        "You have used today's allowance of the language model; the tutor continues offline until tomorrow."]
    assert any(e["type"] == "message" and e["message"]["kind"] == "hint" for e in events)
    assert len(fake_anthropic.requests) == 1
    assert fallback_reasons(tutor) == ["TokenBudgetError: bo has used 160 of the 150 tokens a day allows"]
    assert tutor.records.tokens_spent("bo", since=clock.now - timedelta(days=1)) == 160
    # another learner has a budget of their own, and the next day this one has a new one
    drain(tutor.start("cy", "fractions"))
    assert len(fake_anthropic.requests) == 2
    clock.advance(days=1)
    events = drain(tutor.send("bo", "fractions", "hint"))
    assert notices(events) == [] and len(fake_anthropic.requests) == 3
