"""One clear line for the errors that stop the tutor from starting: bad settings, a store that cannot be opened,
a corrupted database or Chroma folder, a broken course. The CLI prints it (exit code 2), the app shows it.

Each message names the variable or file and says what to do; nothing here hides an error: an error that is
not one of these propagates unchanged (a bug shows its traceback).
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from pathlib import Path

from pydantic import AliasChoices, SecretStr, ValidationError
from pydantic.fields import FieldInfo
from sqlalchemy.engine import make_url
from sqlalchemy.exc import DatabaseError

from tutor.course.problems import ContentError
from tutor.settings import Settings


class SetupError(Exception):
    """The tutor cannot start as configured; the message is the one line to show."""


def load_settings(factory: Callable[[], Settings] = Settings) -> Settings:
    """The settings from `TUTOR_*` variables and `.env`, or SetupError naming each bad variable and the fix."""
    try:
        return factory()
    except ValidationError as exc:
        raise SetupError(settings_message(exc)) from exc


def settings_message(exc: ValidationError) -> str:
    """`TUTOR_X='value': what is wrong (what it is); fix or unset it`, for every bad field, on one line."""
    parts: list[str] = []
    for error in exc.errors():
        loc = str(error["loc"][0]) if error["loc"] else ""
        field, info = _field(loc)
        name = f"TUTOR_{field.upper()}" if field == loc else loc  # an alias is already the variable's name
        secret = info is None or SecretStr in getattr(info.annotation, "__args__", (info.annotation,))
        shown = "" if secret or "input" not in error else f"={str(error['input'])!r}"
        about = f" ({info.description})" if info is not None and info.description else ""
        message = str(error["msg"]).split(",")[0]
        parts.append(f"{name}{shown}: {message}{about}")
    return "bad setting " + "; ".join(parts) + ". Fix or unset it (environment or .env; see README: Configuration)"


def _field(loc: str) -> tuple[str, FieldInfo | None]:
    """The Settings field an error location names (a field name or one of its aliases)."""
    for name, info in Settings.model_fields.items():
        aliases = info.validation_alias.choices if isinstance(info.validation_alias, AliasChoices) else ()
        if loc == name or loc in aliases:
            return name, info
    return loc, None


def setup_errors() -> tuple[type[BaseException], ...]:
    """The error types `setup_message` explains; use as `except setup_errors() as exc:` (evaluated when an error
    is raised, so Chroma's errors are included once Chroma has been loaded)."""
    from tutor.records import LedgerUnreadable
    from tutor.retrieval import EmbeddingModelError, StoreError

    known: tuple[type[BaseException], ...] = (
        SetupError, StoreError, EmbeddingModelError, ContentError, DatabaseError, LedgerUnreadable,
    )
    chroma = sys.modules.get("chromadb.errors")  # not loaded: no error can come from Chroma
    return (*known, chroma.ChromaError) if chroma is not None else known


def setup_message(exc: BaseException, settings: Settings) -> str:
    """The one line for an error of `setup_errors()`: the file or variable, and what to do."""
    if isinstance(exc, ContentError):
        files = sorted({p.file for p in exc.problems})
        return (f"a course cannot be loaded: {len(exc.problems)} problem(s) in {', '.join(files)}; "
                "run `tutor content validate` to see them, then fix or remove the course folder")
    if isinstance(exc, DatabaseError):
        return _database_message(exc, settings)
    if isinstance(exc.__cause__, DatabaseError):  # the ledger's LedgerUnreadable: the same line as any DB error
        return _database_message(exc.__cause__, settings)
    chroma = sys.modules.get("chromadb.errors")
    if chroma is not None and isinstance(exc, chroma.ChromaError):
        where = settings.chroma_url or settings.resolved_chroma_path
        return (f"the passage store {where} cannot be opened ({exc}); move the folder aside and run "
                "`tutor content load` to rebuild it from the course folders")
    return str(exc)


def _database_message(exc: DatabaseError, settings: Settings) -> str:
    url = make_url(settings.resolved_database_url)
    reason = " ".join(str(exc.orig if exc.orig is not None else exc).split())  # drivers' messages span lines
    if url.get_backend_name() == "sqlite" and url.database:
        path = Path(url.database)
        return (f"the learner records database {path} cannot be used ({reason}); restore it from a backup, or "
                f"move it aside to start with empty records (TUTOR_DATA_DIR / TUTOR_DATABASE_URL choose the file)")
    shown = url.render_as_string(hide_password=True)
    return (f"the learner records database {shown} cannot be used ({reason}); check that it is running and "
            "TUTOR_DATABASE_URL is right")
