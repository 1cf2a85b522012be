"""Translations: a pack's human text in another language, for the same ids.

``<pack>/translations/<lang>.yaml`` (one file per language, named by its language tag: ``de.yaml``,
``pt-BR.yaml``) says which pack and language it is and gives the text of the pack's own lessons, keyed by
their ids (see content_packs/README.md, "Translations")::

    pack: onboarding-essentials
    language: de
    title: Gut ankommen
    description: …
    discussion: [...]              # optional: as many prompts as the pack has
    lessons:
      first-week:                  # a lesson id of pack.yaml
        title: …
        body: |
          …
        reflect: …                 # when the original has one
        links:                     # optional: as many as the original, each {title, url?}
          - {title: …}
        quiz:
          q1:                      # every question of the lesson
            prompt: …
            choices: [...]         # as many as the original, in the same order
            answer: …              # optional: the translated correct choice, checked to be the original's
            explain: …

It is validated like a pack (every problem ``file:line: path: message``), against the pack as ``pack.yaml``
has it. A translation with a problem is not loaded; its pack still is, in its own language.

The unit of translation is the lesson: a lesson in the file is shown wholly translated (its title, body,
reflection and every question of pack.yaml), a lesson left out is shown in the pack's language, so a
translation may be partial and grow a lesson at a time. Links and the pack's discussion prompts may stay
untranslated (a link's title often names a page in its own language). Contributed items (contributions.yaml)
are shown as contributed.

Grading never looks at translated text except a short answer's ``accept``: a click names an option by its
position, and positions are the same in every language, so the original option is what is graded and recorded.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Annotated

from pydantic import Field, StringConstraints, field_validator

from content_packs.loader import Loc, PackCheck, PackError, PackProblem, Relocated, parse_checked_located
from content_packs.schema import Choice, Language, Lesson, Link, Pack, Question, Slug, _Strict

TRANSLATIONS_DIR = "translations"

_Title = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=150)]
_Long = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=2000)]
_Note = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=1000)]


class LinkText(_Strict):
    title: _Title
    url: Annotated[str, StringConstraints(strip_whitespace=True, max_length=3000)] | None = None

    @field_validator("url")
    @classmethod
    def _https_only(cls, url: str | None) -> str | None:
        return None if url is None else Link._https_only(url)


class QuestionText(_Strict):
    prompt: _Long
    choices: Annotated[list[Choice], Field(min_length=2, max_length=10)] | None = None
    answer: Choice | None = None
    answers: Annotated[list[Choice], Field(min_length=1)] | None = None
    accept: Annotated[list[Choice], Field(min_length=1)] | None = None
    feedback: dict[str, _Note] | None = None
    explain: _Long

    @field_validator("choices")
    @classmethod
    def _distinct_choices(cls, choices: list[str] | None) -> list[str] | None:
        if choices is not None and len(set(choices)) != len(choices):
            raise ValueError("a choice appears twice")
        return choices


class LessonText(_Strict):
    title: _Title
    body: Annotated[str, StringConstraints(min_length=1, max_length=12000)]
    reflect: _Note | None = None
    links: list[LinkText] | None = None
    quiz: dict[Slug, QuestionText] = Field(default_factory=dict)


class Translation(_Strict):
    pack: Slug
    language: Language
    title: _Title
    description: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=1000)]
    discussion: list[Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=3000)]] | None \
        = None
    lessons: dict[Slug, LessonText] = Field(default_factory=dict)


Found = list[tuple[tuple, str, int | None]]


def _check_question(q: Question, t: QuestionText, at: tuple) -> Found:
    found: Found = []
    if q.choices is None and t.choices is not None:
        found.append((at + ("choices",), f"the original question has no choices ({q.kind.replace('_', '/')})", None))
    if q.choices is not None:
        if t.choices is None:
            found.append((at, f"translate its {len(q.choices)} choices", None))
        elif len(t.choices) != len(q.choices):
            found.append((at + ("choices",), f"{len(t.choices)} choices, the original has {len(q.choices)}", None))
    choices = t.choices if t.choices is not None and q.choices is not None and len(t.choices) == len(q.choices) \
        else None
    if t.answer is not None:
        if q.kind != "single":
            found.append((at + ("answer",), "only a single-choice question's answer is translated", None))
        elif choices is not None:
            if t.answer not in choices:
                found.append((at + ("answer",), f"{t.answer!r} is not one of the translated choices", None))
            elif choices.index(t.answer) != q.correct_index:
                found.append((at + ("answer",), f"{t.answer!r} is choice {choices.index(t.answer) + 1}, the "
                                                f"original's answer is choice {q.correct_index + 1}", None))
    if t.answers is not None:
        if q.kind != "multiple":
            found.append((at + ("answers",), "only a multiple-select question has answers", None))
        elif choices is not None:
            strays = [a for a in t.answers if a not in choices]
            if strays:
                found.append((at + ("answers",), f"{strays[0]!r} is not one of the translated choices", None))
            elif {choices.index(a) for a in t.answers} != {q.options.index(a) for a in q.answers or []}:
                found.append((at + ("answers",), "not the same choices as the original's answers", None))
    if q.kind == "short" and t.accept is None:
        found.append((at, "a short-answer question needs its accepted answers translated (accept)", None))
    if q.kind != "short" and t.accept is not None:
        found.append((at + ("accept",), "only a short-answer question has accept", None))
    if t.feedback is not None:
        allowed = set(choices or []) if q.choices is not None else {"true", "false"}
        for key in t.feedback:
            if key not in allowed:
                found.append((at + ("feedback", key), f"feedback for {key!r}, which is not one of the translated "
                                                      "choices", None))
    return found


def _cross_check(pack: Pack, t: Translation, file: Path) -> Found:
    """What the schema cannot see: the ids against the pack's, counts, answers in the same place."""
    found: Found = []
    if t.pack != pack.id:
        found.append((("pack",), f"this file is beside pack {pack.id!r}, not {t.pack!r}", None))
    if t.language != file.stem:
        found.append((("language",), f"the file is named {file.name}: call it {t.language}.yaml or say "
                                     f"language: {file.stem}", None))
    if t.language == pack.language:
        found.append((("language",), f"the pack itself is in {pack.language!r}", None))
    if t.discussion is not None and len(t.discussion) != len(pack.discussion):
        found.append((("discussion",), f"{len(t.discussion)} discussion prompts, the pack has "
                                       f"{len(pack.discussion)}", None))
    for lesson_id, lt in t.lessons.items():
        at = ("lessons", lesson_id)
        lesson = pack.lesson(lesson_id)
        if lesson is None:
            found.append((at, f"no lesson {lesson_id!r} in the pack", None))
            continue
        if lesson.reflect and not lt.reflect:
            found.append((at, "the lesson asks for a reflection: translate reflect too", None))
        if lt.reflect and not lesson.reflect:
            found.append((at + ("reflect",), "the original lesson has no reflection", None))
        if lt.links is not None and len(lt.links) != len(lesson.links):
            found.append((at + ("links",), f"{len(lt.links)} links, the original has {len(lesson.links)}", None))
        for qid in lt.quiz:
            if lesson.question(qid) is None:
                found.append((at + ("quiz", qid), f"no question {qid!r} in lesson {lesson_id!r}", None))
        for q in lesson.quiz:
            if q.id not in lt.quiz:
                found.append((at + ("quiz",) if lt.quiz else at,
                              f"question {q.id!r} is not translated (a translated lesson has all its questions)",
                              None))
            else:
                found += _check_question(q, lt.quiz[q.id], at + ("quiz", q.id))
    return found


def parse_translation(text: str, file: Path, pack: Pack, *, check: PackCheck | None = None) -> Translation:
    """Validate one translation file against its pack (as pack.yaml has it); PackError lists every problem.

    ``check`` (a ``PackCheck``, e.g. Slack's limits) runs on the pack as a learner in the translation's language
    is shown it, and its problems are reported at the translation's own lines: German is longer than English,
    so a lesson that fits in one language may not in the other."""
    t, lines = parse_checked_located(
        Translation, text, file, cross_check=lambda t: _cross_check(pack, t, file),
        shape="a translation is a YAML mapping with pack, language, title, description, lessons")
    if check is not None:
        shown = translated(pack, t)
        problems = check(shown.pack.model_copy(update={"language": t.language}), file,
                         Relocated(lines, lambda loc: _translation_loc(pack, loc)))
        if problems:
            raise PackError(sorted(problems, key=lambda p: (p.line, p.path, p.message)))
    return t


def _translation_loc(pack: Pack, loc: Loc) -> Loc:
    """Where a value of the translated pack comes from in the translation file: lessons and questions are
    keyed by id there, by position in the pack."""
    if len(loc) < 2 or loc[0] != "lessons" or not isinstance(loc[1], int) or loc[1] >= len(pack.lessons):
        return loc
    lesson = pack.lessons[loc[1]]
    rest = loc[2:]
    if len(rest) >= 2 and rest[0] == "quiz" and isinstance(rest[1], int) and rest[1] < len(lesson.quiz):
        return ("lessons", lesson.id, "quiz", lesson.quiz[rest[1]].id, *rest[2:])
    return ("lessons", lesson.id, *rest)


def translation_files(pack_file: Path) -> list[Path]:
    folder = Path(pack_file).parent / TRANSLATIONS_DIR
    return sorted(p for p in folder.glob("*.yaml") if p.is_file()) if folder.is_dir() else []


def load_translation(file: Path, pack: Pack, *, check: PackCheck | None = None) -> Translation:
    try:
        text = Path(file).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise PackError([PackProblem(file, 1, "", f"cannot read: {exc}")]) from None
    return parse_translation(text, file, pack, check=check)


# -- serving -------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Translated:
    """A pack as a learner in ``language`` is shown it: the same ids, lessons and options in the same places,
    the translated lessons' text in ``language`` and the others' in the pack's own."""

    pack: Pack
    language: str
    original_language: str
    lesson_ids: frozenset[str]  # the lessons shown in ``language``

    def language_of(self, lesson_id: str) -> str:
        return self.language if lesson_id in self.lesson_ids else self.original_language


def _question(q: Question, t: QuestionText) -> Question:
    update: dict = {"prompt": t.prompt, "explain": t.explain, "feedback": t.feedback}
    if q.choices is not None and t.choices is not None:
        update["choices"] = list(t.choices)
        if q.kind == "single":
            update["answer"] = t.choices[q.correct_index]
        if q.kind == "multiple":
            update["answers"] = [t.choices[q.options.index(a)] for a in q.answers or []]
    if q.kind == "short":
        # The original's words stay accepted: a learner may well type the English term.
        update["accept"] = [*(t.accept or []), *(a for a in q.accept or [] if a not in (t.accept or []))]
    return q.model_copy(update=update)


def _lesson(lesson: Lesson, t: LessonText) -> Lesson:
    links = lesson.links
    if t.links is not None:
        links = [link.model_copy(update={"title": lt.title, **({"url": lt.url} if lt.url else {})})
                 for link, lt in zip(lesson.links, t.links, strict=False)] + list(lesson.links[len(t.links):])
    quiz = [_question(q, t.quiz[q.id]) if q.id in t.quiz else q for q in lesson.quiz]
    return lesson.model_copy(update={"title": t.title, "body": t.body, "reflect": t.reflect or lesson.reflect,
                                     "links": links, "quiz": quiz})


def translated(pack: Pack, t: Translation) -> Translated:
    """``pack`` (as served, with its contributions) in ``t``'s language."""
    lessons = [_lesson(lesson, t.lessons[lesson.id]) if lesson.id in t.lessons else lesson for lesson in pack.lessons]
    update: dict = {"title": t.title, "description": t.description, "lessons": lessons}
    if t.discussion is not None:
        update["discussion"] = list(t.discussion)
    return Translated(pack.model_copy(update=update), t.language, pack.language,
                      frozenset(lesson.id for lesson in pack.lessons if lesson.id in t.lessons))


__all__ = ["TRANSLATIONS_DIR", "Translated", "Translation", "load_translation", "parse_translation", "translated",
           "translation_files"]
