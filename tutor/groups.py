"""Groups (cohorts): learners and instructors of an organisation, and the courses assigned to them.

An instructor sees only the groups they teach; an admin sees every group. Members are account ids (the same
internal ids the ledger keys learner records by), so a group never holds a copy of anyone's record.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import date, datetime
from typing import Literal

from sqlalchemy import Date, DateTime, ForeignKey, String, UniqueConstraint, delete, select
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Mapped, Session, mapped_column, sessionmaker

from tutor.records import Base

MemberRole = Literal["learner", "instructor"]


class GroupRow(Base):
    __tablename__ = "groups"
    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    name: Mapped[str] = mapped_column(String(120), unique=True)
    created_by: Mapped[str] = mapped_column(String(100))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class GroupMemberRow(Base):
    __tablename__ = "group_members"
    __table_args__ = (UniqueConstraint("group_id", "account_id", "role"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    group_id: Mapped[str] = mapped_column(ForeignKey("groups.id", ondelete="CASCADE"), index=True)
    account_id: Mapped[str] = mapped_column(String(100), index=True)
    role: Mapped[str] = mapped_column(String(20))  # learner | instructor


class GroupCourseRow(Base):
    __tablename__ = "group_courses"
    __table_args__ = (UniqueConstraint("group_id", "course_id"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    group_id: Mapped[str] = mapped_column(ForeignKey("groups.id", ondelete="CASCADE"), index=True)
    course_id: Mapped[str] = mapped_column(String(100))
    due: Mapped[date | None] = mapped_column(Date, nullable=True)


class GroupError(ValueError):
    """A group action that cannot be done (unknown group, duplicate name); the message says what to do."""


@dataclass(frozen=True)
class Group:
    id: str
    name: str
    learners: tuple[str, ...]
    instructors: tuple[str, ...]
    courses: tuple[tuple[str, date | None], ...]  # (course id, due date)

    def due(self, course_id: str) -> date | None:
        return dict(self.courses).get(course_id)


class Groups:
    """The groups repository, on the ledger's database."""

    def __init__(self, engine: Engine) -> None:
        self._sessions = sessionmaker(engine, expire_on_commit=False)

    def create(self, name: str, *, created_by: str, now: datetime) -> Group:
        name = " ".join(name.split())
        if not name:
            raise GroupError("a group needs a name")
        with self._sessions.begin() as session:
            if session.scalar(select(GroupRow.id).where(GroupRow.name == name)) is not None:
                raise GroupError(f"a group named {name!r} exists already; choose another name")
            session.add(GroupRow(id=str(uuid.uuid4()), name=name, created_by=created_by, created_at=now))
        return self.get(name)

    def _row(self, session: Session, group: str) -> GroupRow:
        row = session.scalar(select(GroupRow).where((GroupRow.id == group) | (GroupRow.name == group)))
        if row is None:
            raise GroupError(f"no group {group!r}; `tutor groups list` shows the groups")
        return row

    def add_member(self, group: str, account_id: str, role: MemberRole = "learner") -> None:
        with self._sessions.begin() as session:
            row = self._row(session, group)
            exists = session.scalar(select(GroupMemberRow.id).where(
                GroupMemberRow.group_id == row.id, GroupMemberRow.account_id == account_id,
                GroupMemberRow.role == role))
            if exists is None:
                session.add(GroupMemberRow(group_id=row.id, account_id=account_id, role=role))

    def remove_member(self, group: str, account_id: str, role: MemberRole = "learner") -> None:
        with self._sessions.begin() as session:
            row = self._row(session, group)
            session.execute(delete(GroupMemberRow).where(
                GroupMemberRow.group_id == row.id, GroupMemberRow.account_id == account_id,
                GroupMemberRow.role == role))

    def assign_course(self, group: str, course_id: str, due: date | None = None) -> None:
        with self._sessions.begin() as session:
            row = self._row(session, group)
            existing = session.scalar(select(GroupCourseRow).where(
                GroupCourseRow.group_id == row.id, GroupCourseRow.course_id == course_id))
            if existing is None:
                session.add(GroupCourseRow(group_id=row.id, course_id=course_id, due=due))
            else:
                existing.due = due

    def get(self, group: str) -> Group:
        with self._sessions() as session:
            return self._load(session, self._row(session, group))

    def _load(self, session: Session, row: GroupRow) -> Group:
        members = list(session.scalars(select(GroupMemberRow).where(GroupMemberRow.group_id == row.id)
                                       .order_by(GroupMemberRow.id)))
        courses = list(session.scalars(select(GroupCourseRow).where(GroupCourseRow.group_id == row.id)
                                       .order_by(GroupCourseRow.id)))
        return Group(
            id=row.id,
            name=row.name,
            learners=tuple(m.account_id for m in members if m.role == "learner"),
            instructors=tuple(m.account_id for m in members if m.role == "instructor"),
            courses=tuple((c.course_id, c.due) for c in courses),
        )

    def visible_to(self, account_id: str, *, admin: bool) -> list[Group]:
        """The groups a person may see: every group for an admin, the groups they teach for an instructor."""
        with self._sessions() as session:
            query = select(GroupRow).order_by(GroupRow.name)
            if not admin:
                taught = select(GroupMemberRow.group_id).where(
                    GroupMemberRow.account_id == account_id, GroupMemberRow.role == "instructor")
                query = query.where(GroupRow.id.in_(taught))
            return [self._load(session, row) for row in session.scalars(query)]

    def teaches(self, instructor_id: str, learner_id: str) -> bool:
        """True when the learner is in a group the instructor teaches."""
        return any(learner_id in g.learners for g in self.visible_to(instructor_id, admin=False))
