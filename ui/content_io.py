"""The Content page's section for authors: import an item bank into a course, see what each skill is missing,
and review drafts (view, edit, approve, reject). Rendering only; the work is in tutor.course.interchange and
tutor.authoring."""

from __future__ import annotations

import re
import tempfile
from pathlib import Path

import streamlit as st

from tutor.auth import Action
from tutor.authoring import drafts
from tutor.authoring.coverage import course_coverage
from tutor.authoring.drafting import DraftingError, draft_skill
from tutor.course.interchange.importer import ImportReport, import_banks, read_course_file
from tutor.course.loader import discover_courses, load_course
from tutor.course.problems import ContentError
from tutor.settings import Settings
from ui import auth

BANK_TYPES = ["gift", "txt", "xml", "zip"]
FROM_CATEGORIES = "(from the bank's categories or sections)"


def _safe_name(name: str) -> str:
    base = Path(name).name.strip() or "bank.txt"
    return re.sub(r"[^A-Za-z0-9._ -]", "_", base)[:120]


def report_rows(report: ImportReport) -> list[dict[str, str]]:
    return [{"File": n.file, "Where": n.where, "What happened": n.level, "Question": n.question,
             "Message": n.message} for n in report.notes]


def import_tab(course_dir: Path) -> None:
    course = read_course_file(course_dir)
    if isinstance(course, str):
        st.error(course)
        return
    st.markdown("Import GIFT, Moodle XML, IMS QTI 2.1 (an item, a test or a package zip) or a Canvas QTI export "
                "zip. The course must still validate afterwards, or nothing is written. Questions that cannot be "
                "represented are listed below, never dropped silently.")
    round_ = int(st.session_state.get("bank_round", 0))
    files = st.file_uploader("Item bank files", type=BANK_TYPES, accept_multiple_files=True,
                             key=f"bank_files_{round_}")
    skill = st.selectbox("Skill", [FROM_CATEGORIES, *(s.id for s in course.skills)], key=f"bank_skill_{course.id}")
    if not st.button("Import", type="primary", disabled=not files, icon=":material/download:", key="bank_import"):
        return
    auth.require(Action.CONTENT_UPLOAD)
    with tempfile.TemporaryDirectory(prefix="tutor-bank-") as tmp:
        paths = []
        for upload in files or []:
            path = Path(tmp) / _safe_name(upload.name)
            path.write_bytes(upload.getvalue())
            paths.append(path)
        report = import_banks(paths, course_dir, course, skill=None if skill == FROM_CATEGORIES else skill)
    if report.ok:
        added = sum(len(v) for v in report.added.values())
        st.success(f"Imported {added} item(s): " + ", ".join(f"{k} +{len(v)}" for k, v in report.added.items())
                   + (f". {len(report.drafts)} draft(s) to complete below." if report.drafts else "."))
        st.session_state["bank_round"] = round_ + 1
    else:
        st.error(f"Import failed; nothing was written. {len(report.problems)} problem(s):")
        st.code("\n".join(report.problems), language=None)
    if report.notes:
        left_out = sum(n.level == "unsupported" for n in report.notes)
        st.warning(f"Import report: {left_out} question(s) not imported, {len(report.notes) - left_out} other "
                   "note(s).")
        st.table(report_rows(report))


def coverage_tab(course_dir: Path) -> None:
    try:
        course = load_course(course_dir)
    except ContentError as exc:
        st.warning(f"The course does not validate yet ({len(exc.problems)} problem(s)); validate it above.")
        return
    rows = [{"Skill": c.skill, "Items": c.items, "Forms": " ".join(f"{f}:{n}" for f, n in c.items_per_form.items()),
             "Passages": c.passages, "Styles": ", ".join(c.styles), "Missing": "; ".join(c.gaps) or "nothing"}
            for c in course_coverage(course)]
    st.dataframe(rows, hide_index=True)


def draft_form(course_dir: Path, settings: Settings) -> None:
    """Ask Claude for a draft for one skill (the same as `tutor content draft`)."""
    with st.expander("Draft with Claude", icon=":material/edit_note:"):
        if settings.offline:
            st.info("Drafting needs Claude: set ANTHROPIC_API_KEY. The Coverage tab shows what each skill is missing.")
            return
        try:
            course = load_course(course_dir)
        except ContentError as exc:
            st.warning(f"The course does not validate yet ({len(exc.problems)} problem(s)); validate it above.")
            return
        skill = st.selectbox("Skill", [s.id for s in course.skills], key=f"draft_skill_{course.id}",
                             format_func=lambda s: course.skill(s).title)
        count = st.number_input("Items", min_value=1, max_value=12, value=4, key="draft_items")
        passages = st.checkbox("Also passages in styles the skill lacks", key="draft_passages")
        if not st.button("Draft", icon=":material/auto_awesome:", key="draft_run"):
            return
        auth.require(Action.CONTENT_UPLOAD)
        with st.spinner("Claude is drafting…"):
            try:
                result = draft_skill(settings, course, course_dir, skill, n_items=int(count), want_passages=passages)
            except DraftingError as exc:
                st.error(str(exc))
                return
        if result.draft is None:
            st.error("Nothing usable was drafted: " + "; ".join(result.rejected))
            return
        st.success(f"Draft {result.draft.id}: {len(result.draft.items)} item(s), {len(result.draft.passages)} "
                   "passage(s), pending your approval below.")
        for reason in result.rejected:
            st.warning(f"Rejected {reason}")


def drafts_tab(course_dir: Path, settings: Settings) -> None:
    draft_form(course_dir, settings)
    show_all = st.toggle("Show approved and rejected drafts too", key="drafts_all")
    try:
        found = drafts.list_drafts(course_dir, None if show_all else "pending")
    except drafts.DraftError as exc:
        st.error(str(exc))
        return
    if not found:
        hint = "" if not settings.offline else " Drafting with Claude needs ANTHROPIC_API_KEY."
        st.info(f"No {'' if show_all else 'pending '}drafts. Make some with `tutor content draft --course "
                f"{course_dir.name} --skill ID`, or import a bank with essays.{hint}")
        return
    labels = {d.id: f"{d.id} ({d.status}, {d.origin}, {d.skill}: {len(d.items)} item(s), {len(d.passages)} "
                    "passage(s))" for d in found}
    draft_id = st.selectbox("Draft", list(labels), format_func=labels.__getitem__, key="draft_choice")
    draft = next(d for d in found if d.id == draft_id)
    if draft.note:
        st.caption(f"Note: {draft.note}")
    if draft.sources:
        st.caption("Grounded in: " + "; ".join(draft.sources))
    for i, item in enumerate(draft.items, 1):
        for problem in drafts.item_problems(item):
            st.warning(f"Item {i} cannot be approved yet: {problem}")
    text = st.text_area("Items and passages (YAML; edit, then save)", drafts.editable_text(draft), height=360,
                        key=f"draft_text_{draft.id}", disabled=draft.status != "pending")
    if draft.status != "pending":
        st.info(f"This draft was {draft.status} on {draft.decided}.")
        return
    save, approve, reject = st.columns(3)
    if save.button("Save edits", icon=":material/save:", key="draft_save"):
        auth.require(Action.CONTENT_UPLOAD)
        try:
            drafts.edit(course_dir, draft.id, text)
            st.success("Saved.")
        except drafts.DraftError as exc:
            st.error(str(exc))
    if approve.button("Approve", type="primary", icon=":material/check:", key="draft_approve"):
        auth.require(Action.CONTENT_UPLOAD)
        problems = drafts.approve(course_dir, draft.id)
        if problems:
            st.error("Not approved; nothing changed:\n\n" + "\n".join(f"- {p}" for p in problems))
        else:
            st.success(f"Approved: added to {course_dir.name}. Restart or reload the course for learners to see it; "
                       "`tutor content load` indexes new passages.")
    if reject.button("Reject", icon=":material/close:", key="draft_reject"):
        auth.require(Action.CONTENT_UPLOAD)
        drafts.reject(course_dir, draft.id)
        st.success("Rejected.")


def section(settings: Settings) -> None:
    """Item banks and drafts for authors, below the Content page's tabs."""
    st.divider()
    st.subheader("Item banks and drafts")
    folders = discover_courses(settings.content_dir)
    if not folders:
        st.info(f"No course folders under {settings.content_dir}.")
        return
    by_name = {p.name: p for p in folders}
    course_dir = by_name[st.selectbox("Course folder", list(by_name), key="io_course")]
    imports, coverage, pending = st.tabs(["Import a bank", "Coverage", "Drafts"])
    with imports:
        import_tab(course_dir)
    with coverage:
        coverage_tab(course_dir)
    with pending:
        drafts_tab(course_dir, settings)
