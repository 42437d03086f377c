"""Ingestion: read source files, split them into heading-aware chunks, and write them to the passage store.

Markdown and plain text go through the course format's parser (front matter, section directives); HTML is split
at its h1-h6 headings with navigation, footers and cookie banners left out (lxml, html_text.py); PDF text comes
from pypdf, split by outline entries or pages.
A file that cannot be used (empty, binary, not UTF-8, unreadable, too large, a PDF without a text layer, bad
front matter) is reported and skipped; its previous chunks stay as they were.
"""

from __future__ import annotations

import io
import re
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

import yaml
from tqdm import tqdm

from tutor.course.models import SourceSection
from tutor.course.paths import FIX, OutsideFolderError, inside
from tutor.course.problems import ContentError
from tutor.course.sources import parse_markdown
from tutor.retrieval.chunking import chunk_sections, make_chunk, split_text
from tutor.retrieval.html_text import PageTooDeep, page_blocks
from tutor.retrieval.limits import IngestLimits, is_prose
from tutor.retrieval.store import Chunk, PassageStore

MARKDOWN = (".md", ".markdown", ".txt")
HTML = (".html", ".htm")
PDF = (".pdf",)
SUPPORTED = MARKDOWN + HTML + PDF
DEFAULT_MAX_BYTES = IngestLimits.max_bytes

__all__ = ["FilePreview", "IngestLimits", "IngestReport", "SourceFileError", "chunk_sections", "extract_sections",
           "ingest_course", "ingest_paths", "make_chunk", "preview_paths", "split_text"]

Status = Literal["added", "updated", "unchanged", "removed", "skipped"]


class SourceFileError(Exception):
    """A file that cannot be ingested; the message says why and what to do."""


@dataclass(frozen=True)
class FileResult:
    path: str
    source: str
    status: Status
    added: int = 0
    removed: int = 0
    chunks: int = 0
    message: str = ""
    junk_pages: int = 0  # PDF pages without real prose, left out

    def __str__(self) -> str:
        if self.status == "skipped":
            return f"skipped    {self.path}: {self.message}"
        detail = f"{self.chunks} chunk(s)" + (f", +{self.added} -{self.removed}" if self.added or self.removed else "")
        if self.junk_pages:
            detail += f"; {self.junk_pages} page(s) without prose skipped (contents, index, near-empty)"
        return f"{self.status:<10} {self.source} ({detail})"


@dataclass
class IngestReport:
    course: str
    files: list[FileResult] = field(default_factory=list)
    seconds: float = 0.0

    @property
    def ok(self) -> bool:
        return not self.skipped

    @property
    def skipped(self) -> list[FileResult]:
        return [f for f in self.files if f.status == "skipped"]

    @property
    def added(self) -> int:
        return sum(f.added for f in self.files)

    @property
    def removed(self) -> int:
        return sum(f.removed for f in self.files)

    @property
    def junk_pages(self) -> int:
        return sum(f.junk_pages for f in self.files)

    def __str__(self) -> str:
        return self.summary()

    def summary(self) -> str:
        done = len(self.files) - len(self.skipped)
        junk = f"; {self.junk_pages} page(s) without prose skipped" if self.junk_pages else ""
        return (
            f"course {self.course}: {done} file(s) ingested, {len(self.skipped)} skipped; "
            f"{self.added} chunk(s) added, {self.removed} removed in {self.seconds:.1f}s{junk}"
        )


# ---------------------------------------------------------------- public entry points


def ingest_paths(
    store: PassageStore,
    paths: Iterable[Path],
    *,
    course: str,
    skills: Sequence[str] | None = None,
    progress: bool = False,
    max_bytes: int = DEFAULT_MAX_BYTES,
    limits: IngestLimits | None = None,
) -> IngestReport:
    """Ingest files and folders (searched recursively) into `course`, each file within `limits` (default: the
    defaults with `max_bytes`).

    A file's source name is its path relative to the folder given (or its name, for a file given directly), so
    `content add notes/` and `content add notes/a.md` name `a.md` the same. `skills` apply to sections whose file
    does not name any.
    """
    report = IngestReport(course)
    files = _collect(paths, report)
    bounds = limits or IngestLimits(max_bytes=max_bytes)
    return _ingest(store, files, course, tuple(skills or ()), "added", progress, bounds, report)


@dataclass(frozen=True)
class FilePreview:
    """What `ingest_paths` would store for one file, worked out without storing anything: its chunks (the passages
    as stored), or why the file would be skipped."""

    path: str
    source: str
    chunks: tuple[Chunk, ...] = ()
    message: str = ""  # why the file would be skipped; empty when it would be stored
    junk_pages: int = 0

    @property
    def skipped(self) -> bool:
        return bool(self.message)


def preview_paths(
    store: PassageStore | None,
    paths: Iterable[Path],
    *,
    course: str,
    skills: Sequence[str] | None = None,
    limits: IngestLimits | None = None,
) -> list[FilePreview]:
    """The passages `ingest_paths(store, paths, course=..., skills=..., limits=...)` would store, file by file,
    read and chunked the same way but not embedded or stored (the upload preview). `store` is only read, to
    report a clash with a course-folder source of the same name."""
    report = IngestReport(course)
    files = _collect(paths, report)
    previews = [FilePreview(f.path, f.source, message=f.message) for f in report.files]
    for path, source in files:
        try:
            if store is not None and store.source_origin(course, source) == "course":
                raise SourceFileError(_CLASH["added"].format(source=source, course=course))
            chunks, junk = _file_chunks(path, source, course, tuple(skills or ()), "added", limits or IngestLimits())
        except SourceFileError as exc:
            previews.append(FilePreview(str(path), source, message=str(exc)))
            continue
        previews.append(FilePreview(str(path), source, tuple(chunks), junk_pages=junk))
    return previews


def _collect(paths: Iterable[Path], report: IngestReport) -> list[tuple[Path, str]]:
    """(file, source name) for files and folders (searched recursively); missing paths and links leading out are
    reported as skipped."""
    files: list[tuple[Path, str]] = []
    for path in paths:
        if path.is_dir():
            files.extend((f, f.relative_to(path).as_posix()) for f in _confined(_walk(path), path, report))
        elif path.exists() or path.is_symlink():
            files.extend((f, f.name) for f in _confined([path], path.parent, report))
        else:
            report.files.append(FileResult(str(path), path.name, "skipped", message="no such file or folder"))
    return files


def ingest_course(
    store: PassageStore,
    course_dir: Path,
    *,
    progress: bool = False,
    max_bytes: int = DEFAULT_MAX_BYTES,
    limits: IngestLimits | None = None,
) -> IngestReport:
    """Ingest the supported files in a course folder's sources/ (the `make run` content load).

    Source files that have gone from sources/ since the last load are removed from the store; material added
    to the course with `tutor content add` is left alone.
    """
    course = course_id(course_dir)
    sources = course_dir / "sources"
    report = IngestReport(course)
    found: list[Path] = []
    if sources.is_dir() and _stays(sources, course_dir, report):
        found = _confined(_walk(sources), course_dir, report)
    files = [(f, f.relative_to(sources).as_posix()) for f in found if f.suffix.lower() in SUPPORTED]
    report = _ingest(store, files, course, (), "course", progress, limits or IngestLimits(max_bytes=max_bytes), report)
    present = {source for _, source in files}
    gone = [s for s in store.list_sources(course) if s.origin == "course" and s.source not in present]
    for summary in gone:
        removed = store.remove(course, [summary.source])
        report.files.append(FileResult(summary.source, summary.source, "removed", removed=removed))
    return report


def course_id(course_dir: Path) -> str:
    """The `id` in course.yaml, or the folder name when there is none."""
    try:
        data = yaml.safe_load((course_dir / "course.yaml").read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, yaml.YAMLError):
        return course_dir.name
    value = data.get("id") if isinstance(data, dict) else None
    return str(value) if value else course_dir.name


# ---------------------------------------------------------------- the loop


def _ingest(
    store: PassageStore,
    files: list[tuple[Path, str]],
    course: str,
    skills: tuple[str, ...],
    origin: Literal["course", "added"],
    progress: bool,
    limits: IngestLimits,
    report: IngestReport,
) -> IngestReport:
    start = time.perf_counter()
    bar = tqdm(files, desc=f"ingest {course}", unit="file", disable=not progress or len(files) < 2)
    for path, source in bar:
        had = store.source_origin(course, source)
        try:
            if had is not None and had != origin:
                raise SourceFileError(_CLASH[origin].format(source=source, course=course))
            chunks, junk = _file_chunks(path, source, course, skills, origin, limits)
        except SourceFileError as exc:
            report.files.append(FileResult(str(path), source, "skipped", message=str(exc)))
            continue
        added, removed = store.replace_source(course, source, chunks)
        status: Status = "unchanged" if not (added or removed) else ("updated" if had else "added")
        report.files.append(FileResult(str(path), source, status, added, removed, len(chunks), junk_pages=junk))
    report.seconds = time.perf_counter() - start
    return report


def _file_chunks(path: Path, source: str, course: str, skills: tuple[str, ...], origin: Literal["course", "added"],
                 limits: IngestLimits) -> tuple[list[Chunk], int]:
    """The chunks of one file and its PDF pages left out, or SourceFileError saying why it cannot be used."""
    sections, junk = extract_sections(path, source, limits)
    chunks = chunk_sections(sections, course=course, source=source, default_skills=skills, origin=origin,
                            max_words=limits.chunk_words)
    if not chunks:
        raise SourceFileError("no text to index (only headings?); add body text under the headings")
    _within(limits.chunks_problem(len(chunks)))
    return chunks, junk


_CLASH = {
    "added": "course {course} already has a source {source} from its course folder (loaded by `tutor content load`); "
             "rename this file, or edit the course folder's copy and reload",
    "course": "course {course} already has a source {source} added with `tutor content add`; remove it first "
              "(`tutor content remove --course {course} {source}`) or rename one of them",
}


def _walk(folder: Path) -> list[Path]:
    """Files (and links to folders, which are not followed) under `folder`, sorted, skipping hidden ones."""
    return sorted(
        p for p in folder.rglob("*")
        if not any(part.startswith(".") for part in p.relative_to(folder).parts) and (p.is_symlink() or not p.is_dir())
    )


def _stays(path: Path, root: Path, report: IngestReport) -> bool:
    """True when `path` stays inside `root`; otherwise it is reported as skipped, naming where it leads."""
    try:
        inside(path, root)
    except OutsideFolderError as exc:
        report.files.append(FileResult(str(path), path.name, "skipped", message=f"refused: {exc.reason}; {FIX}"))
        return False
    return True


def _confined(paths: list[Path], root: Path, report: IngestReport) -> list[Path]:
    """The files among `paths` that stay inside `root`; each link leading out of it is reported as skipped."""
    return [path for path in paths if _stays(path, root, report) and not path.is_dir()]


# ---------------------------------------------------------------- reading and extraction


def extract_sections(
    path: Path, source: str, limits: IngestLimits | None = None
) -> tuple[list[SourceSection], int]:
    """Sections of one file and the number of PDF pages left out as not prose, or SourceFileError saying why the
    file cannot be used (unreadable, or over one of `limits`)."""
    limits = limits or IngestLimits()
    suffix = path.suffix.lower()
    if suffix not in SUPPORTED:
        raise SourceFileError(f"unsupported file type {suffix or '(none)'!r}; use one of {', '.join(SUPPORTED)}")
    data = _read(path, limits.max_bytes)
    if suffix in PDF:
        return _pdf_sections(data, source, limits)
    text = _decode(data)
    _within(limits.chars_problem(len(text)))
    if suffix in HTML:
        return _html_sections(text, source), 0
    try:
        return parse_markdown(text, source), 0
    except ContentError as exc:
        raise SourceFileError("; ".join(str(p) for p in exc.problems)) from exc


def _within(problem: str | None) -> None:
    if problem is not None:
        raise SourceFileError(problem)


def _read(path: Path, max_bytes: int) -> bytes:
    try:
        size = path.stat().st_size
        if size > max_bytes:
            raise SourceFileError(
                f"file is {size / 1e6:.1f} MB, over the {max_bytes / 1e6:.1f} MB limit; split it, or raise the "
                "limit with --max-mb"
            )
        data = path.read_bytes()
    except OSError as exc:
        raise SourceFileError(
            f"cannot read the file ({exc.strerror or exc}); check that it exists and its permissions"
        ) from exc
    if not data.strip():
        raise SourceFileError("file is empty")
    return data


def _decode(data: bytes) -> str:
    if b"\x00" in data[:8192]:
        raise SourceFileError("looks like a binary file, not text; convert it to Markdown, text, HTML or PDF")
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        raise SourceFileError(
            f"not UTF-8 text (byte 0x{data[exc.start]:02x} on line {line}); save the file as UTF-8"
        ) from exc
    if not text.strip():
        raise SourceFileError("file is empty")
    return text


def _section(source: str, heading_path: Sequence[str], text: str, line: int) -> SourceSection:
    return SourceSection(file=source, heading_path=tuple(heading_path), text=text, skills=(), style=None, line=line)


def _html_sections(text: str, source: str) -> list[SourceSection]:
    """The sections of an HTML page, its navigation, headers, footers, cookie banners and the like left out
    (html_text.py); text before the first heading is filed under the page's title."""
    try:
        title, blocks = page_blocks(text)
    except PageTooDeep as exc:
        raise SourceFileError(str(exc)) from exc
    out = []
    for block in blocks:
        body = block.text
        if body:
            out.append(_section(source, block.path or ([title] if title else []), body, block.line))
    return out


def _pdf_sections(data: bytes, source: str, limits: IngestLimits) -> tuple[list[SourceSection], int]:
    from pypdf import PdfReader
    from pypdf.errors import PyPdfError

    if not data.startswith(b"%PDF-"):
        raise SourceFileError("not a PDF file (it does not start with %PDF-)")
    try:
        reader = PdfReader(io.BytesIO(data))
        if reader.is_encrypted and not reader.decrypt(""):
            raise SourceFileError("the PDF is password-protected; save an unprotected copy and add that")
        _within(limits.pages_problem(len(reader.pages)))
        pages = _page_texts(reader, limits)
        starts = _outline_starts(reader)
    except (PyPdfError, ValueError, KeyError, TypeError, AttributeError) as exc:
        raise SourceFileError(f"cannot read the PDF ({exc}); re-export it or save it as text") from exc
    if not any(p.strip() for p in pages):
        raise SourceFileError(
            "the PDF has no text layer (scanned pages?); run OCR on it (e.g. `ocrmypdf in.pdf out.pdf`) and add the "
            "result"
        )
    sections: list[SourceSection] = []
    outline_heading: str | None = None
    junk = 0
    for number, text in enumerate(pages):
        merge = number not in starts and outline_heading is not None
        outline_heading = starts.get(number, outline_heading)
        heading = outline_heading or f"Page {number + 1}"
        if text.strip() and not is_prose(text, limits.min_page_words):
            junk += 1
            continue
        body = _pdf_paragraphs(text)
        if not body:
            continue
        if merge and sections and sections[-1].heading_path == (heading,):
            last = sections[-1]  # the outline entry runs on over this page
            sections[-1] = _section(source, last.heading_path, last.text + "\n\n" + body, last.line)
        else:
            sections.append(_section(source, [heading], body, number + 1))
    return sections, junk


def _page_texts(reader: object, limits: IngestLimits) -> list[str]:
    """The text of every page, stopping with SourceFileError once the file is over the character limit."""
    pages: list[str] = []
    chars = 0
    for page in reader.pages:  # type: ignore[attr-defined]
        text = page.extract_text() or ""
        chars += len(text)
        _within(limits.chars_problem(chars))
        pages.append(text)
    return pages


def _outline_starts(reader: object) -> dict[int, str]:
    """First page index -> outline title, for top-level and nested bookmarks (later titles on a page win)."""
    starts: dict[int, str] = {}

    def visit(items: list[object]) -> None:
        for item in items:
            if isinstance(item, list):
                visit(item)
                continue
            page = reader.get_destination_page_number(item)  # type: ignore[attr-defined]
            title = str(getattr(item, "title", "") or "").strip()
            if page is not None and page >= 0 and title:
                starts[page] = title

    visit(list(getattr(reader, "outline", []) or []))
    return starts


def _pdf_paragraphs(text: str) -> str:
    """Join a PDF page's hard-wrapped lines into paragraphs (blank lines separate paragraphs)."""
    blocks = re.split(r"\n\s*\n", text)
    paragraphs = [" ".join(re.sub(r"-\n(?=\w)", "", b).split()) for b in blocks]
    return "\n\n".join(p for p in paragraphs if p)
