"""Storage for enrollment rules: the rules, and each (rule, learner) it applied to, written in the same
transaction as the enrollment it made, so a rule enrolls each person once however often it runs."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import func, select, update

from db.models import Enrollment, EnrollmentRule, Learner, RuleEnrollment
from learning.enrollment_rules import Person, attribute_matches

CHUNK = 5000


@dataclass(frozen=True)
class RuleView:
    id: int
    kind: str
    target: str
    label: str
    pack_id: str
    active: bool
    created_by: str
    created_at: datetime
    enrolled: int = 0  # people this rule enrolled so far


def _chunks(values: Sequence[Any]) -> Iterable[list[Any]]:
    for start in range(0, len(values), CHUNK):
        yield list(values[start : start + CHUNK])


class EnrollmentRuleRecords:
    """Mixed into ``db.store.Store``: needs ``self._begin``, ``self._connect``, ``self._insert`` and
    ``self._insert_enrollments``."""

    def add_rule(self, *, kind: str, target: str, label: str, pack_id: str, created_by: str,
                 now: datetime) -> tuple[RuleView, bool]:
        """A new rule, off; the same rule again (kind, target, pack) is the one already there."""
        with self._begin() as conn:
            created = conn.execute(
                self._insert(EnrollmentRule)
                .values(kind=kind, target=target, label=label[:200], pack_id=pack_id, active=False,
                        created_by=created_by[:64], created_at=now, updated_at=now)
                .on_conflict_do_nothing(index_elements=["kind", "target", "pack_id"])
                .returning(EnrollmentRule.id)
            ).scalar() is not None
            row = conn.execute(select(EnrollmentRule.id).where(
                EnrollmentRule.kind == kind, EnrollmentRule.target == target, EnrollmentRule.pack_id == pack_id)).one()
        rule = self.enrollment_rule(row.id)
        assert rule is not None
        return rule, created

    def _rule_query(self):
        enrolled = (select(func.count(RuleEnrollment.id))
                    .where(RuleEnrollment.rule_id == EnrollmentRule.id, RuleEnrollment.outcome == "enrolled")
                    .scalar_subquery())
        return select(EnrollmentRule.id, EnrollmentRule.kind, EnrollmentRule.target, EnrollmentRule.label,
                      EnrollmentRule.pack_id, EnrollmentRule.active, EnrollmentRule.created_by,
                      EnrollmentRule.created_at, enrolled.label("enrolled"))

    def enrollment_rules(self, *, active_only: bool = False, kind: str | None = None,
                         target: str | None = None) -> list[RuleView]:
        query = self._rule_query().order_by(EnrollmentRule.id)
        if active_only:
            query = query.where(EnrollmentRule.active.is_(True))
        if kind is not None:
            query = query.where(EnrollmentRule.kind == kind)
        if target is not None:
            query = query.where(EnrollmentRule.target == target)
        with self._connect() as conn:
            return [RuleView(*row) for row in conn.execute(query)]

    def enrollment_rule(self, rule_id: int) -> RuleView | None:
        with self._connect() as conn:
            row = conn.execute(self._rule_query().where(EnrollmentRule.id == rule_id)).first()
        return RuleView(*row) if row is not None else None

    def set_rule_active(self, rule_id: int, active: bool, now: datetime) -> None:
        with self._begin() as conn:
            conn.execute(update(EnrollmentRule).where(EnrollmentRule.id == rule_id)
                         .values(active=active, updated_at=now))

    def rule_applied_to(self, rule_id: int) -> set[int]:
        """The learners a rule has applied to (enrolled, or found enrolled already)."""
        with self._connect() as conn:
            return set(conn.execute(select(RuleEnrollment.learner_id).where(RuleEnrollment.rule_id == rule_id))
                       .scalars())

    def people(self, slack_user_ids: Iterable[str]) -> dict[str, Person]:
        """The learners Sprout knows among these Slack user ids."""
        wanted = list(dict.fromkeys(slack_user_ids))
        found: dict[str, Person] = {}
        with self._connect() as conn:
            for chunk in _chunks(wanted):
                for row in conn.execute(select(Learner.slack_user_id, Learner.id, Learner.name, Learner.active)
                                        .where(Learner.slack_user_id.in_(chunk))):
                    found[row.slack_user_id] = Person(row.slack_user_id, row.id, row.name, bool(row.active))
        return found

    def people_with(self, kind: str, value: str) -> list[Person]:
        """Learners whose roster department (or team) is ``value`` (``attribute_matches``), leavers too."""
        column = Learner.department if kind == "department" else Learner.team
        with self._connect() as conn:
            rows = conn.execute(select(Learner.slack_user_id, Learner.id, Learner.name, Learner.active, column)
                                .where(column.is_not(None)).order_by(Learner.id)).all()
        return [Person(r[0], r[1], r[2], bool(r[3])) for r in rows if attribute_matches(value, r[4])]

    def pack_enrolled(self, pack_id: str, learner_ids: Iterable[int]) -> set[int]:
        """Those of ``learner_ids`` enrolled in ``pack_id`` already (for real, not only lessons on demand)."""
        ids = list(dict.fromkeys(learner_ids))
        found: set[int] = set()
        with self._connect() as conn:
            for chunk in _chunks(ids):
                found.update(conn.execute(select(Enrollment.learner_id).where(
                    Enrollment.pack_id == pack_id, Enrollment.learner_id.in_(chunk),
                    Enrollment.status != "on_demand")).scalars())
        return found

    def apply_rule(self, rule_id: int, pack_id: str, learner_ids: Sequence[int], now: datetime) -> list[int]:
        """Apply a rule to these learners, once each: in one transaction, the (rule, learner) records and
        the enrollments they bring. Leavers (inactive) get neither; a learner enrolled already gets the
        record only ("already"), whatever their enrollment's state — one who left the pack stays out. An
        enrollment only of lessons pulled on demand turns into a real one, as ``/learn enroll`` does.
        Returns the learners newly enrolled."""
        enrolled: list[int] = []
        with self._begin() as conn:
            for chunk in _chunks(list(dict.fromkeys(learner_ids))):
                active = list(conn.execute(select(Learner.id).where(Learner.id.in_(chunk), Learner.active.is_(True))
                                           .order_by(Learner.id)).scalars())
                if not active:
                    continue
                taken = set(conn.execute(select(Enrollment.learner_id).where(
                    Enrollment.pack_id == pack_id, Enrollment.learner_id.in_(active),
                    Enrollment.status != "on_demand")).scalars())
                applied = conn.execute(
                    self._insert(RuleEnrollment).on_conflict_do_nothing(index_elements=["rule_id", "learner_id"])
                    .returning(RuleEnrollment.learner_id, RuleEnrollment.outcome),
                    [{"rule_id": rule_id, "learner_id": i, "outcome": "already" if i in taken else "enrolled",
                      "created_at": now} for i in active],
                ).all()
                new = [learner_id for learner_id, outcome in applied if outcome == "enrolled"]
                if not new:
                    continue
                conn.execute(update(Enrollment).where(Enrollment.pack_id == pack_id, Enrollment.learner_id.in_(new),
                                                      Enrollment.status == "on_demand")
                             .values(status="active", enrolled_at=now))
                self._insert_enrollments(conn, [(i, pack_id) for i in new], now)
                enrolled.extend(new)
        return enrolled


__all__ = ["EnrollmentRuleRecords", "RuleView"]
