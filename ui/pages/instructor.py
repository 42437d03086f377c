"""Instructor: who in my group has mastered what, who is stuck and why, and on what evidence each mastery rests.

Instructors see only the groups they teach (admins see every group). Everything here is read from the ledger
through `tutor.cohort` and `tutor.dashboard`, the same figures `tutor report` prints.
"""

from __future__ import annotations

from datetime import UTC, date, datetime

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import pandas as pd  # noqa: E402
import streamlit as st  # noqa: E402

from tutor.auth import Account, Accounts, Action, Role  # noqa: E402
from tutor.cohort import LearnerRecord, report_for  # noqa: E402
from tutor.dashboard import STATE_LABELS, Cell, GroupReport, mastery_evidence  # noqa: E402
from tutor.groups import Group, GroupError, Groups  # noqa: E402
from tutor.reports import criterion_words, dumps, evidence_json, grid_csv, grid_rows, report_json  # noqa: E402
from tutor.session import Tutor  # noqa: E402
from ui import auth  # noqa: E402
from ui.org import completion_download, record_of  # noqa: E402
from ui.state import get_tutor  # noqa: E402

STATE_COLOURS = {
    "locked": "#e0e0e0", "available": "#f5f5f5", "in_progress": "#ffe082", "mastered": "#81c784",
    "review_due": "#aed581", "revoked": "#e57373",
}


def manage_groups(groups: Groups, me: Account, visible: list[Group], tutor: Tutor) -> None:
    """Create a group (you teach it), add learners by sign-in name, assign a course with a due date."""
    accounts = auth.get_accounts()
    with st.expander("Manage groups", icon=":material/group_add:"):
        with st.form("new-group"):
            name = st.text_input("New group's name", key="org_new_group")
            if st.form_submit_button("Create group"):
                auth.require(Action.VIEW_PROGRESS)
                try:
                    groups.create(name, created_by=me.id, now=datetime.now(UTC))
                    groups.add_member(name, me.id, "instructor")
                    st.success(f"Created {name}; you teach it.")
                except GroupError as exc:
                    st.error(str(exc))
        if not visible:
            return
        with st.form("group-members"):
            target = st.selectbox("Group", [g.name for g in visible], key="org_manage_group")
            usernames = st.text_input("Add learners (sign-in names, comma-separated)", key="org_add_names")
            course = st.selectbox("Assign a course", ["", *sorted(tutor.courses)], key="org_assign_course")
            due = st.date_input("Due (optional)", value=None, key="org_assign_due")
            if st.form_submit_button("Save"):
                auth.require(Action.VIEW_PROGRESS)
                _save_members(groups, accounts, str(target), usernames, course, due)


def _save_members(groups: Groups, accounts: Accounts, group: str, usernames: str, course: str,
                  due: date | None) -> None:
    missing = []
    for username in (u.strip() for u in usernames.split(",") if u.strip()):
        account = accounts.find(username)
        if account is None:
            missing.append(username)
        else:
            groups.add_member(group, account.id)
    if course:
        groups.assign_course(group, course, due)
    if missing:
        st.error(f"No account for: {', '.join(missing)}. An admin adds accounts on the Admin page.")
    else:
        st.success("Saved.")


def heat_map(report: GroupReport, tutor: Tutor, course_id: str, names: dict[str, str]) -> None:
    course = tutor.course(course_id)
    states = pd.DataFrame(
        [[report.grid[(lid, s.id)].state for s in course.skills] for lid in report.learners],
        index=[names[lid] for lid in report.learners], columns=[s.title for s in course.skills],
    )
    shown = pd.DataFrame(
        [[cell_text(report.grid[(lid, s.id)]) for s in course.skills] for lid in report.learners],
        index=states.index, columns=states.columns,
    )
    styled = shown.style.apply(lambda _: states.map(lambda v: f"background-color: {STATE_COLOURS[v]}"), axis=None)
    st.table(styled)
    st.caption("Each cell: state · mastery estimate · questions answered · minutes on questions. A skill not "
               "started has no estimate yet.")


def cell_text(cell: Cell) -> str:
    """One heat-map cell in words: the state, then (once started) the estimate, questions and minutes."""
    if cell.state in ("locked", "available"):
        return STATE_LABELS[cell.state]
    return f"{STATE_LABELS[cell.state]} · {cell.p_known:.0%} · {cell.items} q · {cell.minutes:.0f} min"


def distributions(report: GroupReport) -> None:
    timed = [f for f in report.figures if f.items_to_mastery]
    if not timed:
        st.info("Nobody in this group has mastered a skill yet.")
        return
    fig, (left, right) = plt.subplots(1, 2, figsize=(10, 3.2))
    labels = [f.title[:24] for f in timed]
    left.boxplot([list(f.items_to_mastery) for f in timed], orientation="horizontal", tick_labels=labels)
    left.set_xlabel("questions to mastery")
    right.boxplot([list(f.minutes_to_mastery) for f in timed], orientation="horizontal", tick_labels=labels)
    right.set_xlabel("minutes to mastery")
    right.set_yticklabels([])
    fig.tight_layout()
    st.pyplot(fig)
    plt.close(fig)
    slow = report.slowest()
    if slow:
        st.markdown("Slowest to master: " + ", ".join(f"**{f.title}** (median {f.median_minutes:.0f} min, "
                                                     f"{f.median_items:.0f} questions)" for f in slow))


def learner_detail(tutor: Tutor, course_id: str, record: LearnerRecord) -> None:
    st.subheader(f"{record.name}: transcript, answers and evidence")
    completion_download(tutor, course_id, record.learner_id, record.name, key=f"org_cert_{record.learner_id}")
    evidence = mastery_evidence(record.attempts, record.decisions)
    for e in evidence:
        title = tutor.course(course_id).skill(e.decision.skill_id).title
        status = f"revoked {e.revoked_at:%Y-%m-%d}" if e.revoked_at else "held"
        with st.expander(f"Mastered {title} on {e.decision.at:%Y-%m-%d %H:%M} ({status}): "
                         f"{len(e.attempts)} answers", icon=":material/verified:"):
            st.caption(f"Criterion: {criterion_words(e.decision.criterion)}. Course version "
                       f"{e.decision.course_version or 'not recorded'}.")
            st.dataframe([{"question": a.prompt, "answer": a.answer, "right": a.correct, "graded by": a.grader,
                           "answered": f"{a.answered_at:%Y-%m-%d %H:%M}"} for a in e.attempts], hide_index=True)
    st.markdown("**All answers**")
    st.dataframe([{"skill": a.skill_id, "question": a.prompt, "answer": a.answer, "right": a.correct,
                   "graded by": a.grader, "mode": a.mode, "answered": f"{a.answered_at:%Y-%m-%d %H:%M}"}
                  for a in record.attempts], hide_index=True)
    with st.expander("Transcript (read-only)", icon=":material/forum:"):
        for message in tutor.view(record.learner_id, course_id).messages:
            who = "Learner" if message.get("role") == "learner" else "Tutor"
            st.text(f"{who}: {message.get('text', '')}")


def main() -> None:
    me = auth.require(Action.VIEW_PROGRESS)
    tutor = get_tutor()
    groups = Groups(tutor.records.engine)
    visible = groups.visible_to(me.id, admin=me.role == Role.ADMIN)
    st.title("Groups and mastery")
    manage_groups(groups, me, visible, tutor)
    if not visible:
        st.info("You teach no group yet: create one above, or ask an admin to add you to a group.")
        return
    group = next(g for g in visible if g.name == st.selectbox("Group", [g.name for g in visible], key="org_group"))
    courses = [c for c, _ in group.courses if c in tutor.courses]
    if not courses:
        st.info(f"{group.name} has no course assigned yet (Manage groups above).")
        return
    course_id = str(st.selectbox("Course", courses, key="org_course", format_func=lambda c: tutor.courses[c].title))
    due = group.due(course_id)
    accounts = auth.get_accounts()
    people = [(a.learner_key, a.display_name) for a in (accounts.get(i) for i in group.learners) if a is not None]
    cohort = [record_of(tutor, course_id, key, name) for key, name in people]
    report = report_for(tutor.course(course_id), cohort, now=tutor.clock(),
                        idle_days=tutor.settings.stuck_idle_days)
    names = {r.learner_id: r.name for r in cohort}
    done = sum(v is not None for v in report.completed.values())
    c1, c2, c3 = st.columns(3)
    c1.metric("Completed the course", f"{done} of {len(cohort)}")
    c2.metric("Stuck", len({s.learner_id for s in report.stuck}))
    c3.metric("Due", f"{due:%Y-%m-%d}" if due else "no due date")
    heat_map(report, tutor, course_id, names)
    st.subheader("Who is stuck, and why")
    if report.stuck:
        st.table([{"learner": names[s.learner_id], "skill": s.skill_id or "", "why": s.reason}
                  for s in report.stuck])
    else:
        st.success("Nobody is stuck.")
    st.subheader("What mastery takes")
    distributions(report)
    payload = report_json(report, tutor.course(course_id), names, group=group.name,
                          course_version=tutor.course_versions.get(course_id, ""), now=tutor.clock())
    payload["evidence"] = {r.learner_id: evidence_json(mastery_evidence(r.attempts, r.decisions)) for r in cohort}
    d1, d2 = st.columns(2)
    d1.download_button("Download CSV", grid_csv(grid_rows(report, tutor.course(course_id), names)),
                       file_name=f"{course_id}-{group.name}.csv", mime="text/csv", key="org_csv")
    d2.download_button("Download JSON", dumps(payload), file_name=f"{course_id}-{group.name}.json",
                       mime="application/json", key="org_json")
    if cohort:
        chosen = st.selectbox("Learner", [r.learner_id for r in cohort], format_func=lambda k: names[k],
                              key="org_learner")
        learner_detail(tutor, course_id, next(r for r in cohort if r.learner_id == chosen))


main()
