"""Account names and display names: any letters of any script ("José", "李雷"), checked and normalised."""

from __future__ import annotations

import re
import unicodedata

_USERNAME = re.compile(r"^[^\W_][\w.@-]{0,63}$")
"""Sign-in names: a letter or digit of any script first, then letters, digits, `_ . @ -` (no spaces)."""


class AccountNameError(ValueError):
    """A sign-in or display name that cannot be used."""


def normalise_username(raw: str) -> str:
    """The stored form of a sign-in name: NFKC, case-folded, trimmed; any script's letters allowed."""
    value = unicodedata.normalize("NFKC", raw).strip().casefold()
    if not _USERNAME.match(value):
        raise AccountNameError(
            f"sign-in name {raw!r} cannot be used: give 1-64 letters or digits (any script), '_', '.', '@' or '-', "
            "starting with a letter or digit, no spaces"
        )
    return value


def clean_display_name(raw: str) -> str:
    """A display name: 1-64 printable characters of any script, inner spaces folded."""
    value = " ".join(unicodedata.normalize("NFC", raw).split())
    if not 1 <= len(value) <= 64 or any(unicodedata.category(c).startswith("C") for c in value):
        raise AccountNameError(f"display name {raw!r} cannot be used: give 1-64 printable characters")
    return value
