"""Contributions to packs (``/learn suggest``): what someone proposed, and what a facilitator decided."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import func, select, update
from sqlalchemy.orm import aliased

from db.models import Learner, OrgSetting, PackContribution

ACCEPTED = ("accepted", "changed")
FILES_LOCK = "contributions_file"  # org_settings key: the last pack whose contributions file was written


@dataclass(frozen=True)
class ContributionView:
    id: int
    learner_id: int
    slack_user_id: str
    name: str
    dm_channel_id: str | None
    pack_id: str
    lesson_id: str | None
    kind: str
    content: dict[str, Any]
    accepted_content: dict[str, Any] | None
    state: str
    reviewer_slack_id: str | None
    reviewer_name: str | None
    reason: str | None
    pack_version: int | None
    created_at: datetime
    reviewed_at: datetime | None


_Reviewer = aliased(Learner, name="reviewer")


def _query():
    return (select(PackContribution.__table__, Learner.slack_user_id, Learner.name, Learner.dm_channel_id,
                   _Reviewer.slack_user_id.label("reviewer_slack_id"), _Reviewer.name.label("reviewer_name"))
            .join(Learner, Learner.id == PackContribution.learner_id)
            .outerjoin(_Reviewer, _Reviewer.id == PackContribution.reviewer_id))


def _view(row) -> ContributionView:
    return ContributionView(
        row.id, row.learner_id, row.slack_user_id, row.name or "", row.dm_channel_id, row.pack_id, row.lesson_id,
        row.kind, json.loads(row.content), json.loads(row.accepted_content) if row.accepted_content else None,
        row.state, row.reviewer_slack_id, row.reviewer_name, row.reason, row.pack_version, row.created_at,
        row.reviewed_at)


class ContributionRecords:
    """Mixed into ``db.store.Store``: its ``_begin``/``_connect`` put these in the caller's unit of work."""

    def record_pack_contribution(self, *, learner_id: int, pack_id: str, lesson_id: str | None, kind: str,
                            content: dict[str, Any], submission_key: str, now: datetime) -> tuple[int, bool]:
        """(its id, whether it is new): the same form submitted twice finds the first record."""
        with self._begin() as conn:
            new_id = conn.execute(
                self._insert(PackContribution)
                .values(learner_id=learner_id, pack_id=pack_id, lesson_id=lesson_id, kind=kind,
                        content=json.dumps(content, ensure_ascii=False), state="proposed",
                        submission_key=submission_key, created_at=now)
                .on_conflict_do_nothing(index_elements=["submission_key"])
                .returning(PackContribution.id)
            ).scalar()
            if new_id is not None:
                return new_id, True
            return conn.execute(select(PackContribution.id).where(
                PackContribution.submission_key == submission_key)).scalar_one(), False

    def pack_contribution(self, contribution_id: int) -> ContributionView | None:
        with self._connect() as conn:
            row = conn.execute(_query().where(PackContribution.id == contribution_id)).first()
        return _view(row) if row else None

    def proposed_contributions(self, *, limit: int = 20) -> tuple[list[ContributionView], int]:
        """The review queue, oldest first (at most ``limit``), and how many wait in all."""
        with self._connect() as conn:
            rows = conn.execute(_query().where(PackContribution.state == "proposed")
                                .order_by(PackContribution.created_at, PackContribution.id).limit(limit)).all()
            total = conn.execute(select(func.count()).select_from(PackContribution)
                                 .where(PackContribution.state == "proposed")).scalar_one()
        return [_view(r) for r in rows], int(total)

    def contributions_of(self, learner_id: int, *, limit: int | None = 5) -> list[ContributionView]:
        """One person's own contributions, newest first: all a contributor is shown."""
        with self._connect() as conn:
            rows = conn.execute(_query().where(PackContribution.learner_id == learner_id)
                                .order_by(PackContribution.created_at.desc(), PackContribution.id.desc())
                                .limit(limit)).all()
        return [_view(r) for r in rows]

    def decide_contribution(self, contribution_id: int, *, state: str, reviewer_id: int, reason: str | None,
                            accepted_content: dict[str, Any] | None, pack_version: int | None,
                            now: datetime) -> bool:
        """Record the decision, only on a contribution still proposed: False when someone decided first."""
        with self._begin() as conn:
            return conn.execute(
                update(PackContribution)
                .where(PackContribution.id == contribution_id, PackContribution.state == "proposed")
                .values(state=state, reviewer_id=reviewer_id, reason=reason, pack_version=pack_version,
                        accepted_content=json.dumps(accepted_content, ensure_ascii=False)
                        if accepted_content is not None else None, reviewed_at=now)
            ).rowcount == 1

    def hold_contributions_files(self, pack_id: str, now: datetime, *, by: str) -> None:
        """Inside a unit of work: until it ends, no other accept (in any instance) writes a contributions file.
        The upsert's row lock does it on PostgreSQL; SQLite's write lock already does."""
        with self._begin() as conn:
            conn.execute(
                self._insert(OrgSetting).values(key=FILES_LOCK, value=pack_id, updated_at=now, updated_by=by)
                .on_conflict_do_update(index_elements=["key"], set_={"value": pack_id, "updated_at": now,
                                                                      "updated_by": by}))

    def set_contribution_version(self, contribution_id: int, version: int) -> None:
        with self._begin() as conn:
            conn.execute(update(PackContribution).where(PackContribution.id == contribution_id)
                         .values(pack_version=version))


__all__ = ["ACCEPTED", "ContributionRecords", "ContributionView"]
