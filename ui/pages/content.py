"""Content: validate course folders, add source material to the passage store, see what is in it, and
analyse items from the attempt log."""

from __future__ import annotations

import hashlib
import re
import sys
import tempfile
import uuid
from pathlib import Path

import streamlit as st
from streamlit.runtime.uploaded_file_manager import UploadedFile

from tutor.auth import Action
from tutor.course.loader import discover_courses, validate_course
from tutor.course.paths import OutsideFolderError, inside
from tutor.course.problems import ContentError
from tutor.distractors import answers_of, choice_counts, free_text_items, misconception_counts
from tutor.records import item_analysis
from tutor.retrieval import (
    EmbeddingModelError,
    FilePreview,
    IngestLimits,
    PassageStore,
    StoreError,
    ingest_course,
    ingest_paths,
    preview_paths,
)
from tutor.session import Tutor
from ui import auth, content_io, jobs, render
from ui.state import get_tutor

# the upload preview's columns (pixels): short ones narrow, so every column, the heading and the first words show
# in a 1400 px window without scrolling sideways
PREVIEW_COLUMNS = {
    "Heading": st.column_config.TextColumn(width=300),
    "Words": st.column_config.NumberColumn(width=60),
    "Skills": st.column_config.TextColumn(width=110),
    "Style": st.column_config.TextColumn(width=70),
    "File": st.column_config.TextColumn(width=110),
    "Starts": st.column_config.TextColumn(width=285),
}

UPLOAD_TYPES = ["md", "markdown", "txt", "html", "htm", "pdf"]
OTHER_FOLDER = "Another folder…"


def safe_name(name: str) -> str:
    """A plain file name for an upload (no folders, no odd characters)."""
    base = Path(name).name.strip() or "upload.txt"
    return re.sub(r"[^A-Za-z0-9._ -]", "_", base)[:120]


def validate_tab(tutor: Tutor) -> None:
    st.markdown("Check a course folder: `course.yaml`, `items/*.yaml` and `sources/`. Every problem is listed "
                "with its file, line and how to fix it.")
    folders = [str(p) for p in discover_courses(tutor.settings.content_dir)]
    choice = st.selectbox("Course folder", [*folders, OTHER_FOLDER], key="validate_choice")
    path_text = choice
    if choice == OTHER_FOLDER:
        path_text = st.text_input("Path of the course folder", key="validate_path",
                                  placeholder="e.g. algebra (a folder inside the content folder)")
    if st.button("Validate", type="primary", icon=":material/fact_check:", key="validate_button"):
        if not path_text:
            st.warning("Give the path of a course folder (the one holding course.yaml).")
            return
        auth.require(Action.CONTENT_VALIDATE)
        path = tutor.settings.content_dir / Path(path_text).expanduser()  # relative names are inside the folder
        try:
            folder = inside(path, tutor.settings.content_dir)
        except OutsideFolderError as exc:
            st.error(f"{path_text} {exc.reason}: this page only reaches course folders inside the content folder.")
            return
        with st.spinner("Checking the course…"):
            problems = validate_course(folder, with_warnings=True)
        errors = [p for p in problems if p.severity == "error"]
        if not problems:
            st.success(f"{path_text}: no problems found.", icon=":material/check_circle:")
            return
        if errors:
            st.error(f"{path_text}: {len(errors)} problem(s), {len(problems) - len(errors)} warning(s).")
        else:
            st.success(f"{path_text}: no problems found.", icon=":material/check_circle:")
            st.warning(f"{len(problems)} warning(s): the course loads, but will teach thinly where they point.")
        st.table(render.problem_rows(problems))


def new_courses_section(tutor: Tutor) -> None:
    """Course folders added under the content folder since the app started: load them with one button. A folder
    that does not validate is listed with its problems (the other courses work meanwhile)."""
    folders = tutor.new_course_folders()
    if not folders:
        return
    problems = {folder: validate_course(folder) for folder in folders}  # read now: the author may have fixed it
    for folder in (f for f in folders if problems[f]):
        found = problems[folder]
        st.error(f"Course folder {folder.name} cannot be loaded: {len(found)} problem(s), the first: {found[0]}. "
                 "The other courses work; fix these and the course can be loaded here.", icon=":material/error:")
        with st.expander(f"All {len(found)} problem(s) in {folder.name}"):
            st.dataframe(render.problem_rows(found), hide_index=True)
    ready = [f for f in folders if not problems[f]]
    if not ready:
        return
    names = ", ".join(p.name for p in ready)
    st.info(f"New course folder(s) found: {names}.", icon=":material/create_new_folder:")
    if not st.button("Load new courses", type="primary", icon=":material/refresh:", key="load_new_courses"):
        return
    auth.require(Action.CONTENT_UPLOAD)
    for folder in ready:
        try:
            course = tutor.add_course(folder)
        except ContentError as exc:
            st.error(f"{folder.name}: {len(exc.problems)} problem(s); validate it above to see them.")
            continue
        if isinstance(tutor.store, PassageStore):
            report = ingest_course(tutor.store, folder, limits=IngestLimits.from_settings(tutor.settings))
            st.success(f"Loaded {course.title}: {sum(f.chunks for f in report.files)} passages. It is now in "
                       "Learn and in the upload picker.")
        else:
            st.success(f"Loaded {course.title}.")


def upload_tab(tutor: Tutor, store: PassageStore, course_id: str) -> None:
    """Choose files, see the passages they would make (and what is wrong with them), then store them or cancel."""
    course = tutor.courses[course_id]
    st.markdown(f"Add Markdown, text, HTML or PDF material to **{course.title}**. Sections that name no skill "
                "are filed under the skills you pick here. You see the passages before anything is stored.")
    shown = st.session_state.pop("upload_results", None)
    if shown:
        show_results(*shown)
    round_ = int(st.session_state.get("upload_round", 0))
    files = st.file_uploader("Source files", type=UPLOAD_TYPES, accept_multiple_files=True,
                             key=f"upload_files_{round_}")
    skills = st.multiselect("Skills (optional)", [s.id for s in course.skills], key=f"upload_skills_{course_id}",
                            format_func=lambda s: course.skill(s).title)
    me = auth.current_account()
    if me and any(j.kind == "ingest" for j in jobs.get_queue().jobs(me.id, limit=5)):
        with st.expander("Your large uploads (added by queued jobs)", expanded=True):
            jobs.panel(me, kinds=["ingest"])
    if not files:
        return
    if sum(f.size for f in files) > tutor.settings.large_upload_mb * 1024 * 1024:
        st.info(f"These files are over {tutor.settings.large_upload_mb:g} MB together: a queued job adds them "
                "(`tutor content add`), without a preview.", icon=":material/hourglass_top:")
        if st.button("Queue these files", type="primary", icon=":material/upload:", key="upload_button"):
            auth.require(Action.CONTENT_UPLOAD)
            queue_upload(tutor, course_id, files, skills)
            st.session_state["upload_round"] = round_ + 1
        return
    limits = IngestLimits.from_settings(tutor.settings)  # the same bounds as `tutor content add`
    with tempfile.TemporaryDirectory(prefix="tutor-upload-") as tmp:
        paths = []
        for upload in files:
            path = Path(tmp) / safe_name(upload.name)
            path.write_bytes(upload.getvalue())
            paths.append(path)
        previews = cached_preview(store, paths, course_id, skills, limits)
        usable = sum(len(p.chunks) for p in previews)
        st.markdown(f"**Preview: {usable} passage(s) from {len(previews) - sum(p.skipped for p in previews)} of "
                    f"{len(previews)} file(s).** Nothing is stored until you press *Store these passages*.")
        for warning in render.preview_warnings(previews):
            st.warning(warning, icon=":material/warning:")
        if usable:
            st.dataframe(render.preview_rows(previews), hide_index=True, key=f"upload_preview_{round_}",
                         column_config=PREVIEW_COLUMNS)
        store_it, cancel = st.columns(2)
        if cancel.button("Cancel", icon=":material/close:", key="upload_cancel"):
            st.session_state["upload_round"] = round_ + 1
            st.rerun()
        if not store_it.button("Store these passages", type="primary", disabled=not usable,
                               icon=":material/upload:", key="upload_button"):
            return
        auth.require(Action.CONTENT_UPLOAD)
        results = store_files(store, paths, course_id, skills, limits)
    if results is not None:
        st.session_state["upload_results"] = (course.title, results,
                                              render.unusable_sources(store.list_sources(course_id),
                                                                      [str(r["File"]) for r in results]))
        st.session_state["upload_round"] = round_ + 1
        st.rerun()


def cached_preview(store: PassageStore, paths: list[Path], course_id: str, skills: list[str],
                   limits: IngestLimits) -> list[FilePreview]:
    """The preview of the chosen files, worked out once per choice (files, skills, course, limits) and kept in the
    session: the page reruns on every click, and reading a PDF again each time would be slow."""
    digest = hashlib.sha256(repr((course_id, sorted(skills), limits)).encode())
    for path in paths:
        digest.update(path.name.encode() + b"\0" + hashlib.sha256(path.read_bytes()).digest())
    key = digest.hexdigest()
    kept = st.session_state.get("upload_preview")
    if kept and kept[0] == key:
        return list(kept[1])
    previews = preview_paths(store, paths, course=course_id, skills=skills or None, limits=limits)
    st.session_state["upload_preview"] = (key, previews)
    return previews


def store_files(store: PassageStore, paths: list[Path], course_id: str, skills: list[str],
                limits: IngestLimits) -> list[dict[str, str | int]] | None:
    """Ingest the previewed files one by one (a progress bar); a row per file, or None after a store error."""
    results: list[dict[str, str | int]] = []
    bar = st.progress(0.0, text="Storing…")
    for i, path in enumerate(paths):
        bar.progress(i / len(paths), text=f"Storing {path.name} ({i + 1} of {len(paths)})…")
        try:
            report = ingest_paths(store, [path], course=course_id, skills=skills or None, limits=limits)
        except (StoreError, EmbeddingModelError) as exc:
            st.error(str(exc))
            return None
        for result in report.files:
            results.append({"File": path.name, "Status": result.status, "Chunks": result.chunks,
                            "Added": result.added, "Removed": result.removed, "Message": result.message})
    bar.progress(1.0, text=f"Done: {len(results)} file(s).")
    return results


def show_results(title: str, results: list[dict[str, str | int]], unusable: list[str]) -> None:
    """What the last "Store these passages" did (kept over the rerun that clears the file picker)."""
    skipped = [r for r in results if r["Status"] == "skipped"]
    if skipped:
        st.warning(f"{len(skipped)} file(s) skipped; see the message column.")
    elif unusable:
        st.warning(f"Stored {len(results)} file(s), but " + "; ".join(unusable) + ". Pick the skills (and give "
                   "sections a `style:`) and add the file again, or it cannot be used for explanations.",
                   icon=":material/warning:")
    else:
        st.success(f"Stored {len(results)} file(s) in {title}.")
    st.table(results)


def queue_upload(tutor: Tutor, course_id: str, files: list[UploadedFile], skills: list[str]) -> None:
    """A large upload: the files are kept in the data folder and ingested by a queued job (`tutor content add`)."""
    folder = tutor.settings.data_dir.resolve() / "uploads" / uuid.uuid4().hex
    folder.mkdir(parents=True)
    for upload in files:
        (folder / safe_name(upload.name)).write_bytes(upload.getvalue())
    command = [sys.executable, "-m", "tutor.cli", "content", "add", str(folder), "--course", course_id, "--quiet",
               *(a for s in skills for a in ("--skill", s))]
    if jobs.submit("ingest", f"Add {len(files)} file(s) to {course_id}", command, action=Action.CONTENT_UPLOAD):
        st.info(f"{len(files)} large file(s) queued for adding to the course; follow the job below.",
                icon=":material/hourglass_top:")


def store_tab(tutor: Tutor, store: PassageStore, course_id: str) -> None:
    course = tutor.courses[course_id]
    sources = store.list_sources(course_id)
    if not sources:
        st.warning(f"The passage store has nothing for {course.title}. Load the course with `tutor content load` "
                   "(or `make run`), or add files above.")
        return
    st.markdown(f"**{sum(s.chunks for s in sources)} passages** from **{len(sources)} source file(s)**.")
    st.markdown("**Per skill**")
    per_skill = []
    for skill in course.skills:
        passages = store.passages_for_skill(course_id, skill.id)
        per_skill.append({
            "Skill": skill.id,
            "Title": skill.title,
            "Passages": len(passages),
            "Styles": ", ".join(sorted({p.style for p in passages if p.style})),
            "Sources": ", ".join(sorted({p.source for p in passages})),
        })
    st.dataframe(per_skill, hide_index=True)
    missing = [r["Title"] for r in per_skill if not r["Passages"]]
    if missing:
        st.warning("No passages for: " + ", ".join(str(m) for m in missing) + ". The tutor cannot explain these.")
    st.markdown("**Per source file**")
    st.dataframe(
        [{"Source": s.source, "Origin": s.origin, "Passages": s.chunks, "Skills": ", ".join(s.skills),
          "Styles": ", ".join(s.styles)} for s in sources],
        hide_index=True,
    )
    with st.form("remove_source", border=False):
        doomed = st.selectbox("Remove a source file from the store", [s.source for s in sources], index=None,
                              key="remove_source_choice", placeholder="Choose a source file")
        if st.form_submit_button("Remove", icon=":material/delete:") and doomed:
            auth.require(Action.CONTENT_UPLOAD)
            removed = store.remove(course_id, [doomed])
            st.success(f"Removed {doomed} ({removed} passages) from {course.title}.")
            st.rerun()


def analysis_tab(tutor: Tutor, course_id: str) -> None:
    st.markdown("Per item, from the attempt log: attempts, share correct, and discrimination (correlation of "
                "getting it right with the learner's accuracy on the other items). Items that look broken are "
                "flagged: almost everyone wrong, or negative discrimination.")
    stats = item_analysis(tutor.records.attempts(course_id))
    if not stats:
        st.info("No attempts yet for this course.")
        return
    rows = render.item_analysis_rows(stats)
    flagged = [r for r in rows if r["Flag"]]
    c1, c2, c3 = st.columns(3)
    c1.metric("Items answered", len(rows))
    c2.metric("Attempts", sum(int(r["Attempts"]) for r in rows))
    c3.metric("Flagged", len(flagged))
    for row in flagged:
        st.warning(f"**{row['Item']}** ({row['Skill']}): {row['Flag']}")
    only_flagged = st.toggle("Show flagged items only", key="analysis_flagged")
    st.dataframe(
        flagged if only_flagged else rows,
        hide_index=True,
        column_config={
            "Share correct": st.column_config.NumberColumn(format="%.1f%%"),
            "Discrimination": st.column_config.NumberColumn(format="%.2f"),
        },
    )
    course = tutor.courses[course_id]
    attempts = tutor.records.attempts(course_id)
    seeds = {q.question_id: q.seed for q in tutor.records.questions(course_id)}
    st.markdown("**Choices picked** (multiple choice): how often each choice was chosen, with its misconception tag")
    st.dataframe(render.choice_rows(choice_counts(course, attempts, seeds)), hide_index=True,
                 column_config={"Share": st.column_config.NumberColumn(format="%.1f%%")})
    st.markdown("**Misconceptions recorded** on wrong answers")
    st.dataframe([{"Misconception": tag, "Times": n} for tag, n in misconception_counts(attempts)], hide_index=True)
    text_items = free_text_items(course, attempts)
    if text_items:
        chosen = st.selectbox("Free-text answers of an item", text_items, key=f"answers_item_{course_id}")
        st.dataframe([{"Answer": a, "Graded": "right" if ok else "wrong"} for a, ok in answers_of(chosen, attempts)],
                     hide_index=True)


def main() -> None:
    auth.require(Action.CONTENT_VIEW)
    tutor = get_tutor()
    st.title("Content")
    courses = sorted(tutor.courses)
    validate, sources, analysis = st.tabs(["Validate a course", "Source material", "Item analysis"])
    with validate:
        validate_tab(tutor)
    new_courses_section(tutor)
    courses = sorted(tutor.courses)
    content_io.section(tutor.settings)  # item banks, coverage and drafts (ui/content_io.py)
    if not courses:
        st.warning(f"No valid courses loaded from {tutor.settings.content_dir}.")
        return
    store = tutor.store
    with sources:
        course_id = st.selectbox("Course", courses, format_func=lambda c: tutor.courses[c].title,
                                 key="sources_course")
        if isinstance(store, PassageStore):
            upload_tab(tutor, store, course_id)
            st.divider()
            store_tab(tutor, store, course_id)
        else:
            st.info("This tutor's passage store cannot be listed or added to from here.")
    with analysis:
        analysis_course = st.selectbox("Course", courses, format_func=lambda c: tutor.courses[c].title,
                                       key="analysis_course")
        analysis_tab(tutor, analysis_course)


main()
