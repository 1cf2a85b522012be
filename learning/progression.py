"""What a learner gets next, and how well they are doing."""

from __future__ import annotations

from collections.abc import Collection, Iterable
from dataclasses import dataclass

from content_packs.schema import Lesson, Pack, Question


def next_lesson(pack: Pack, delivered_lesson_ids: Collection[str]) -> Lesson | None:
    """The first lesson, in pack order, that the learner has not been sent.

    Keyed by lesson id rather than position, so an author who inserts, reorders or
    removes lessons never makes a learner in the middle of the pack receive a lesson twice.
    """
    return next((lesson for lesson in pack.lessons if lesson.id not in delivered_lesson_ids), None)


@dataclass(frozen=True)
class Grade:
    choice: str
    correct: bool
    answer: str
    explain: str


def grade(question: Question, choice_index: int) -> Grade:
    if not 0 <= choice_index < len(question.choices):
        raise ValueError(f"question {question.id!r} has no choice {choice_index}")
    choice = question.choices[choice_index]
    return Grade(choice=choice, correct=choice == question.answer, answer=question.answer, explain=question.explain)


def next_question(lesson: Lesson, answered_ids: Iterable[str]) -> Question | None:
    answered = set(answered_ids)
    return next((q for q in lesson.quiz if q.id not in answered), None)


def accuracy(correct: int, answered: int) -> float | None:
    return None if answered == 0 else correct / answered
