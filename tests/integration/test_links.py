"""Links out of a course folder: `tutor content validate`, `load` and `add` refuse them, naming the link.

A course folder whose sources/ (or items/, or course.yaml) is a symbolic link to /etc/passwd or to a folder
elsewhere must not be validated, ingested or quoted to a learner. Links that stay inside the folder are fine.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from tutor.cli import main
from tutor.course.loader import discover_courses
from tutor.retrieval import ingest_course, ingest_paths, open_store
from tutor.settings import Settings

SECRET = "the-secret-outside-the-course"
PASSWD = Path("/etc/passwd")


@pytest.fixture
def outside(tmp_path: Path) -> Path:
    """A folder next to the course folder, holding a Markdown file a learner must never be shown."""
    folder = tmp_path / "elsewhere"
    folder.mkdir()
    (folder / "secret.md").write_text(f"---\nskills: [halves]\n---\n# Secret\n\n{SECRET} is here.\n")
    return folder


@pytest.fixture
def env(tmp_path: Path, mini_course_copy: Path, monkeypatch: pytest.MonkeyPatch) -> Settings:
    monkeypatch.setenv("TUTOR_CONTENT_DIR", str(mini_course_copy.parent))
    monkeypatch.setenv("TUTOR_DATA_DIR", str(tmp_path / "data"))
    return Settings(_env_file=None, content_dir=mini_course_copy.parent, data_dir=tmp_path / "data")


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    assert "Traceback" not in out + err
    return code, out + err


@pytest.mark.parametrize("link", ["sources/notes.md", "sources/passwd", "items/extra.yaml", "course.yaml"])
def test_validate_refuses_a_link_to_etc_passwd(
    link: str, mini_course_copy: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = mini_course_copy / link
    if path.exists():
        path.unlink()
    path.symlink_to(PASSWD)
    code, out = run(capsys, "content", "validate", str(mini_course_copy))
    assert code == 1
    assert f"mini-course/{link}: is a link to /etc/passwd, outside {mini_course_copy}" in out
    assert "copy the file into the folder instead of linking to it" in out
    assert "root:" not in out


def test_validate_refuses_a_linked_folder_inside_sources(
    mini_course_copy: Path, outside: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (mini_course_copy / "sources" / "linked").symlink_to(outside)
    code, out = run(capsys, "content", "validate", str(mini_course_copy))
    assert code == 1 and f"mini-course/sources/linked: is a link to {outside}" in out


@pytest.mark.parametrize("folder", ["sources", "items"])
def test_validate_refuses_a_whole_folder_linked_outside(
    folder: str, mini_course_copy: Path, outside: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (mini_course_copy / folder).rename(mini_course_copy / f"{folder}.old")
    (mini_course_copy / folder).symlink_to(outside)
    code, out = run(capsys, "content", "validate", str(mini_course_copy))
    assert code == 1 and f"mini-course/{folder}: is a link to {outside}" in out
    assert "secret.md" not in out  # nothing inside the linked folder was read


def test_a_link_that_stays_inside_the_course_is_fine(
    mini_course_copy: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    sources = mini_course_copy / "sources"
    (mini_course_copy / "notes").mkdir()
    (sources / "words.txt").rename(mini_course_copy / "notes" / "words.txt")
    (sources / "words.txt").symlink_to(Path("..") / "notes" / "words.txt")
    code, out = run(capsys, "content", "validate", str(mini_course_copy))
    assert code == 0 and out.startswith(f"{mini_course_copy}: ok")  # (warnings about thin skills may follow)
    assert "is a link" not in out and "outside" not in out


def test_load_refuses_the_course_and_ingest_never_reads_the_link(
    env: Settings, mini_course_copy: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (mini_course_copy / "sources" / "notes.md").symlink_to(PASSWD)
    code, out = run(capsys, "content", "load")
    assert code == 1 and "not loaded" in out and str(mini_course_copy) in out
    # even called directly (no validation first), ingest refuses the link and loads the rest
    store = open_store(env)
    report = ingest_course(store, mini_course_copy)
    [refused] = report.skipped
    assert refused.path == str(mini_course_copy / "sources" / "notes.md")
    assert refused.message.startswith("refused: is a link to /etc/passwd")
    assert "notes.md" not in {s.source for s in store.list_sources("mini")}
    assert {s.source for s in store.list_sources("mini")} == {"adding.md", "halves.md", "words.txt"}


def test_content_add_refuses_links_out_of_the_folder_given(
    env: Settings, tmp_path: Path, outside: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    notes = tmp_path / "notes"
    notes.mkdir()
    (notes / "fine.md").write_text("# Halves\n\nA half is one of two equal parts.\n")
    (notes / "passwd.md").symlink_to(PASSWD)
    (notes / "linked").symlink_to(outside)
    (notes / "direct.md").symlink_to(outside / "secret.md")
    code, out = run(capsys, "content", "add", str(notes), "--course", "mini", "--skill", "halves", "--quiet")
    assert code == 1
    assert f"skipped    {notes / 'passwd.md'}: refused: is a link to /etc/passwd" in out
    assert f"skipped    {notes / 'linked'}: refused: is a link to {outside}" in out
    assert f"skipped    {notes / 'direct.md'}: refused: is a link to {outside / 'secret.md'}" in out
    assert "added      fine.md" in out
    # a file given directly that is a link out of its own folder is refused too
    code, out = run(capsys, "content", "add", str(notes / "direct.md"), "--course", "mini", "--quiet")
    assert code == 1 and "refused: is a link to" in out
    store = open_store(env)
    assert {s.source for s in store.list_sources("mini")} == {"fine.md"}
    assert not [p for p in store.passages_for_skill("mini", "halves") if SECRET in p.text or "root:" in p.text]


def test_a_link_loop_is_refused_not_followed(env: Settings, tmp_path: Path) -> None:
    folder = tmp_path / "loop"
    folder.mkdir()
    os.symlink(folder / "b.md", folder / "a.md")
    os.symlink(folder / "a.md", folder / "b.md")
    report = ingest_paths(open_store(env), [folder], course="mini", skills=["halves"])
    assert {f.status for f in report.files} == {"skipped"}
    assert all("cannot be followed" in f.message or "cannot read" in f.message for f in report.files)


def test_a_course_folder_linked_in_from_elsewhere_is_not_loaded(
    env: Settings, mini_course_copy: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    content = tmp_path / "content"
    content.mkdir()
    (content / "mini-course").symlink_to(mini_course_copy)
    monkeypatch.setenv("TUTOR_CONTENT_DIR", str(content))
    for command in ("validate", "load"):
        code, out = run(capsys, "content", command)
        assert code == 1
        assert f"{content / 'mini-course'}: not loaded: is a link to {mini_course_copy}, outside {content}" in out
    assert discover_courses(content) == []
    assert open_store(env).list_sources() == []
