"""Shared fixtures for integration tests."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.fakes.anthropic_server import FakeAnthropicServer


@pytest.fixture
def fake_anthropic() -> Iterator[FakeAnthropicServer]:
    """A local Messages API server on 127.0.0.1; script it with `fake_anthropic.queue(Reply...)`."""
    with FakeAnthropicServer() as server:
        yield server
