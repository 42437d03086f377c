"""Language-model providers: Claude (anthropic SDK) with an offline fallback, or the offline provider alone.

Use `build_provider(settings)`; it is the only place providers are constructed.
"""

from __future__ import annotations

from functools import cache

from tutor.llm.base import (
    ANSWER_STYLE,
    Explanation,
    FallbackCallback,
    FreeResponseGrade,
    PassageLike,
    Provider,
    ProviderError,
    TextCallback,
    Usage,
    required_points,
)
from tutor.llm.offline import OfflineProvider
from tutor.settings import Settings

__all__ = [
    "ANSWER_STYLE",
    "Explanation",
    "FallbackCallback",
    "FreeResponseGrade",
    "OfflineProvider",
    "PassageLike",
    "Provider",
    "ProviderError",
    "TextCallback",
    "Usage",
    "build_provider",
    "required_points",
]


def build_provider(settings: Settings, *, on_fallback: FallbackCallback | None = None) -> Provider:
    """The one factory. With an API key: Claude, falling back to the offline provider call by call (each
    fallback is reported to `on_fallback(method, error)`). Without a key: the offline provider.

    Cheap to call per turn: the Claude client (and its connection pool) is built once per configuration.
    """
    if settings.offline:
        return OfflineProvider()
    # Imported here so the offline path never loads the SDK.
    from tutor.llm.fallback import FallbackProvider

    return FallbackProvider(_claude(settings), OfflineProvider(), on_fallback=on_fallback)


@cache
def _claude(settings: Settings) -> Provider:
    from tutor.llm.anthropic_provider import AnthropicProvider

    return AnthropicProvider.from_settings(settings)
