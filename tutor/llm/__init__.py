"""Language-model providers: Claude (anthropic SDK) with an offline fallback, or the offline provider alone.

Use `build_provider(settings)`; it is the only place providers are constructed.
"""

from __future__ import annotations

from functools import cache
from typing import TYPE_CHECKING

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
from tutor.llm.limits import (
    KeyRejectedError,
    TokenBudgetError,
    TurnDeadline,
    TurnDeadlineError,
    day_start,
    fallback_notice,
    spending_limited,
)
from tutor.llm.offline import OfflineProvider
from tutor.settings import Settings

if TYPE_CHECKING:
    from tutor.llm.anthropic_provider import AnthropicProvider

__all__ = [
    "ANSWER_STYLE",
    "Explanation",
    "FallbackCallback",
    "FreeResponseGrade",
    "KeyRejectedError",
    "OfflineProvider",
    "PassageLike",
    "Provider",
    "ProviderError",
    "TextCallback",
    "TokenBudgetError",
    "TurnDeadline",
    "TurnDeadlineError",
    "Usage",
    "build_provider",
    "day_start",
    "fallback_notice",
    "required_points",
    "spending_limited",
]


def build_provider(settings: Settings, *, on_fallback: FallbackCallback | None = None) -> Provider:
    """The one factory. With an API key: Claude, falling back to the offline provider call by call (each
    fallback is reported to `on_fallback(method, error)`). Without a key: the offline provider.

    Build one per learner turn: its calls share one deadline (`Settings.llm_turn_seconds`) from now. Cheap: the
    Claude client (and its connection pool, and whether its key was rejected) is built once per configuration.
    """
    if settings.offline:
        return OfflineProvider()
    # Imported here so the offline path never loads the SDK.
    from tutor.llm.fallback import FallbackProvider

    claude = _claude(settings).bounded(TurnDeadline(settings.llm_turn_seconds))
    return FallbackProvider(claude, OfflineProvider(), on_fallback=on_fallback)


@cache
def _claude(settings: Settings) -> AnthropicProvider:
    from tutor.llm.anthropic_provider import AnthropicProvider

    return AnthropicProvider.from_settings(settings)
