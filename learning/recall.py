"""What a team remembers now: expected recall of the open review cards (FSRS retrievability at ``now``),
per pack, and the questions the team is about to forget, for the organisation report."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from learning.review import CardState, Parameters, ParameterSets, retrievability

ABOUT_TO_FORGET = 5  # questions listed per pack


@dataclass(frozen=True)
class OpenCard:
    learner_id: int
    pack_id: str
    lesson_id: str
    question_id: str
    state: CardState


@dataclass(frozen=True)
class QuestionRecall:
    pack_id: str
    lesson_id: str
    question_id: str
    recall: float  # mean over the learners holding an open card of it
    learners: int
    below: int  # learners whose recall is under the desired retention: the review is due or overdue


@dataclass(frozen=True)
class PackRecall:
    pack_id: str
    recall: float  # mean over the pack's open cards
    cards: int
    learners: int
    forgetting: tuple[QuestionRecall, ...]  # under the desired retention on average, the lowest first


def team_recall(cards: Iterable[OpenCard], now: datetime, *, retention: float,
                parameters: Parameters | ParameterSets | None = None,
                worst: int = ABOUT_TO_FORGET) -> list[PackRecall]:
    """Per pack (by id): the mean expected recall of its open cards at ``now`` (each by the parameters its
    pack is scheduled with); and its questions whose mean recall is below ``retention`` (the team has
    forgotten more than the schedule allows), the lowest first, at most ``worst``."""
    sets = parameters if isinstance(parameters, ParameterSets) else ParameterSets(parameters)
    by_question: dict[tuple[str, str, str], list[tuple[int, float]]] = {}
    for card in cards:
        r = retrievability(card.state, now, parameters=sets.for_pack(card.pack_id))
        by_question.setdefault((card.pack_id, card.lesson_id, card.question_id), []).append((card.learner_id, r))
    packs: dict[str, list[QuestionRecall]] = {}
    for (pack_id, lesson_id, question_id), values in by_question.items():
        recalls = [r for _learner, r in values]
        packs.setdefault(pack_id, []).append(QuestionRecall(
            pack_id, lesson_id, question_id, sum(recalls) / len(recalls), len({lr for lr, _r in values}),
            sum(r < retention for r in recalls)))
    out = []
    for pack_id, questions in sorted(packs.items()):
        total = sum(q.recall * q.learners for q in questions)
        count = sum(q.learners for q in questions)
        learners = len({lr for key, values in by_question.items() if key[0] == pack_id for lr, _r in values})
        forgetting = sorted((q for q in questions if q.recall < retention),
                            key=lambda q: (q.recall, q.lesson_id, q.question_id))[:worst]
        out.append(PackRecall(pack_id, total / count, count, learners, tuple(forgetting)))
    return out
