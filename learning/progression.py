"""What a learner gets next, and how well they are doing."""

from __future__ import annotations

from collections.abc import Collection, Iterable, Sequence
from dataclasses import dataclass

from content_packs.schema import Lesson, Pack, Question


def next_lesson(pack: Pack, delivered_lesson_ids: Collection[str], start_at: str | None = None) -> Lesson | None:
    """The first lesson, in pack order, that the learner has not been sent.

    Keyed by lesson id rather than position, so an author who inserts, reorders or
    removes lessons never makes a learner in the middle of the pack receive a lesson twice.
    ``start_at`` (someone joining a cohort at its current lesson) skips the lessons before it.
    """
    lessons = pack.lessons
    if start_at is not None:
        index = pack.lesson_index(start_at)
        if index is not None:
            lessons = lessons[index:]
    return next((lesson for lesson in lessons if lesson.id not in delivered_lesson_ids), None)


@dataclass(frozen=True)
class Grade:
    choice: str  # what the learner answered, as text (several choices joined with "; ")
    correct: bool
    answer: str  # the right answer, as text
    explain: str
    feedback: str | None = None  # the author's note on the option chosen, if any


def normalise(text: str) -> str:
    """Short answers compare ignoring case and spacing: " New  York" matches "new york"."""
    return " ".join(text.casefold().split())


def grade(question: Question, response: int | Sequence[int] | str) -> Grade:
    """Grade a response: an option index (single, true/false), option indices (multiple), or text (short)."""
    kind = question.kind
    options = question.options
    if kind == "short":
        if not isinstance(response, str):
            raise ValueError(f"question {question.id!r} takes a typed answer")
        typed = response.strip()
        correct = normalise(typed) in {normalise(a) for a in question.accept or []}
        return Grade(typed, correct, question.correct_text, question.explain)
    if kind == "multiple":
        if isinstance(response, (str, int)):
            raise ValueError(f"question {question.id!r} takes several choices")
        picked = sorted(set(response))
        if not picked or any(not 0 <= i < len(options) for i in picked):
            raise ValueError(f"question {question.id!r} has no such choices: {list(response)}")
        chosen = [options[i] for i in picked]
        correct = set(chosen) == set(question.answers or [])
        notes = [n for n in (question.feedback_for(c) for c in chosen) if n]
        return Grade("; ".join(chosen), correct, question.correct_text, question.explain, " ".join(notes) or None)
    if not isinstance(response, int) or isinstance(response, bool) or not 0 <= response < len(options):
        raise ValueError(f"question {question.id!r} has no choice {response!r}")
    choice = options[response]
    return Grade(choice, response == question.correct_index, question.correct_text, question.explain,
                 question.feedback_for(choice))


def next_question(lesson: Lesson, answered_ids: Iterable[str]) -> Question | None:
    answered = set(answered_ids)
    return next((q for q in lesson.quiz if q.id not in answered), None)


def accuracy(correct: int, answered: int) -> float | None:
    return None if answered == 0 else correct / answered


def grade_shown(original: Question, shown: Question, response: int | Sequence[int] | str) -> tuple[Grade, Grade]:
    """Grade a response to a question shown in a translation: (what is recorded, what the learner is told).

    A click names an option by its position, the same in every language, so the record has the pack's own
    option text (item analysis and reports compare answers across languages) and the learner is told in the
    language they read. A typed answer is kept as typed and checked against the translation's accepted words
    (which include the original's)."""
    told = grade(shown, response)
    if shown is original:
        return told, told
    if original.kind == "short":
        return Grade(told.choice, told.correct, original.correct_text, original.explain), told
    kept = grade(original, response)
    return Grade(kept.choice, told.correct, kept.answer, kept.explain, kept.feedback), told


def shown_choice(original: Question, shown: Question, choice: str) -> str:
    """A recorded choice (the pack's own text) as the learner saw it: the option in the same place."""
    if shown is original or original.kind == "short":
        return choice
    options = original.options
    parts = choice.split("; ") if original.kind == "multiple" else [choice]
    if not all(p in options for p in parts):
        return choice  # recorded against an older version of the question
    return "; ".join(shown.options[options.index(p)] for p in parts)
