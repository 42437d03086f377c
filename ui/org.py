"""What the organisation's pages share: a learner's record in a course read from the ledger, and the completion
record download (the learner's own on the Learn page, any of their group's learners on the Instructor page)."""

from __future__ import annotations

import streamlit as st

from tutor.cohort import LearnerRecord, learner_record
from tutor.dashboard import mastery_evidence
from tutor.reports import completion_record_html
from tutor.session import Tutor


def record_of(tutor: Tutor, course_id: str, learner_key: str, name: str) -> LearnerRecord:
    return learner_record(tutor.records, tutor.course(course_id), learner_key, name)


def completion_download(tutor: Tutor, course_id: str, learner_key: str, name: str, *, key: str) -> None:
    """A download button for the learner's printable completion record of the course."""
    record = record_of(tutor, course_id, learner_key, name)
    page = completion_record_html(
        tutor.course(course_id), name, mastery_evidence(record.attempts, record.decisions),
        course_version=tutor.course_versions.get(course_id, ""), now=tutor.clock(),
    )
    st.download_button("Completion record", page, file_name=f"completion-{course_id}.html", mime="text/html",
                       icon=":material/workspace_premium:", key=key,
                       help="A printable page: each skill, the date it was mastered and the criterion it met.")
