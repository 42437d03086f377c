"""Problems found in course content: each names the file, line, field, what is wrong and what to do."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal


@dataclass(frozen=True)
class Problem:
    file: str
    message: str
    hint: str = ""
    line: int | None = None
    field: str | None = None
    severity: Literal["error", "warning"] = "error"
    """A warning (a thin skill, an item without hints) is reported but does not stop the course loading."""

    def __str__(self) -> str:
        where = self.file + (f":{self.line}" if self.line else "")
        field = f" [{self.field}]" if self.field else ""
        hint = f" (fix: {self.hint})" if self.hint else ""
        mark = " warning:" if self.severity == "warning" else ""
        return f"{where}:{field}{mark} {self.message}{hint}"


class ContentError(Exception):
    """Content that failed validation; carries every problem found."""

    def __init__(self, problems: list[Problem]) -> None:
        self.problems = problems
        super().__init__("\n".join(str(p) for p in problems))
