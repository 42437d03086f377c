"""A course's version: a content hash of its files, recorded with every mastery so an audit can tell which
course (items, sources, criterion) a learner mastered."""

from __future__ import annotations

import hashlib
from pathlib import Path

from tutor.course.models import Course

_PARTS = ("course.yaml", "items", "sources")


def course_version(folder: Path) -> str:
    """`sha256:<first 16 hex>` over the course file, item banks and sources (names and bytes, sorted).

    Symbolic links and anything outside the folder are not followed; drafts and other folders do not count.
    """
    root = folder.resolve()
    digest = hashlib.sha256()
    files: list[Path] = []
    for part in _PARTS:
        path = folder / part
        if path.is_symlink():
            continue
        if path.is_file():
            files.append(path)
        elif path.is_dir():
            files.extend(p for p in path.rglob("*") if p.is_file() and not p.is_symlink())
    for path in sorted(files, key=lambda p: p.relative_to(folder).as_posix()):
        if not path.resolve().is_relative_to(root):
            continue
        digest.update(path.relative_to(folder).as_posix().encode() + b"\0")
        digest.update(path.read_bytes() + b"\0")
    return f"sha256:{digest.hexdigest()[:16]}"


def model_version(course: Course) -> str:
    """`model:<first 16 hex>` of a course given as a loaded model (no folder behind it, e.g. in tests)."""
    return f"model:{hashlib.sha256(course.model_dump_json().encode()).hexdigest()[:16]}"
