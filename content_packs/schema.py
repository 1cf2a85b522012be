"""The content pack format, version 1, as pydantic models.

Authors write packs by hand, so every model forbids unknown keys (a typo such as
``explian:`` must be an error, not a silently missing explanation) and every rule
that spans fields names the field that is wrong.
"""

from __future__ import annotations

import re
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, field_validator, model_validator

WEEKDAYS: tuple[str, ...] = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")

Slug = Annotated[
    str,
    StringConstraints(pattern=r"^[a-z0-9]+(?:-[a-z0-9]+)*$", max_length=64),
]
Text = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1)]
Weekday = Literal["mon", "tue", "wed", "thu", "fri", "sat", "sun"]

_HHMM = re.compile(r"^([01]\d|2[0-3]):([0-5]\d)$")

# The language a pack is written in: an ISO 639-1 code, optionally with a region (BCP 47: ``de``, ``pt-BR``).
Language = Annotated[str, StringConstraints(pattern=r"^[a-z]{2}(?:-[A-Z]{2})?$")]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, coerce_numbers_to_str=True)


# Who contributed an item through ``/learn suggest`` (their name as Sprout knew it), shown with the lesson.
Credit = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200)]


class Link(_Strict):
    kind: Literal["article", "podcast", "video"]
    title: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=150)]
    url: Annotated[str, StringConstraints(strip_whitespace=True, max_length=3000)]
    minutes: Annotated[int, Field(ge=1, le=600)] | None = None
    contributed_by: Credit | None = None

    @field_validator("url")
    @classmethod
    def _https_only(cls, url: str) -> str:
        if not re.match(r"^https://[^\s/$.?#][^\s]*$", url):
            raise ValueError("must be an https:// URL")
        return url


Choice = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=500)]
QuestionKind = Literal["single", "multiple", "true_false", "short"]


class Question(_Strict):
    """One question. Its kind follows from the fields an author writes:

    - ``choices`` + ``answer``: single choice (one button per choice);
    - ``choices`` + ``answers``: multiple select (tick boxes, then submit);
    - ``answer: true`` or ``answer: false`` and no choices: true/false;
    - ``accept``: short answer typed in a box, compared ignoring case and spaces.
    """

    id: Slug
    prompt: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=2000)]
    choices: Annotated[list[Choice], Field(min_length=2, max_length=10)] | None = None
    answer: Choice | bool | None = None
    answers: Annotated[list[Choice], Field(min_length=1)] | None = None
    accept: Annotated[list[Choice], Field(min_length=1)] | None = None
    feedback: dict[str, Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=1000)]] | None = None
    explain: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=2000)]
    contributed_by: Credit | None = None

    @field_validator("choices")
    @classmethod
    def _distinct_choices(cls, choices: list[str] | None) -> list[str] | None:
        seen: set[str] = set()
        for choice in choices or []:
            if choice in seen:
                raise ValueError(f"choice {choice!r} appears twice")
            seen.add(choice)
        return choices

    @field_validator("answer")
    @classmethod
    def _answer_fits(cls, answer: str | bool | None, info) -> str | bool | None:
        choices = info.data.get("choices")
        if answer is None:
            return None
        if choices is not None:
            if isinstance(answer, bool) or answer not in choices:
                raise ValueError(f"{answer!r} is not one of the choices")
        elif not isinstance(answer, bool):
            raise ValueError("without choices, answer must be true or false (for a typed answer use accept)")
        return answer

    @field_validator("answers")
    @classmethod
    def _answers_are_choices(cls, answers: list[str] | None, info) -> list[str] | None:
        if answers is None:
            return None
        choices = info.data.get("choices")
        if choices is None:
            raise ValueError("answers (several correct choices) needs choices")
        for answer in answers:
            if answer not in choices:
                raise ValueError(f"{answer!r} is not one of the choices")
        if len(set(answers)) != len(answers):
            raise ValueError("an answer appears twice")
        return answers

    @field_validator("accept")
    @classmethod
    def _accept_alone(cls, accept: list[str] | None, info) -> list[str] | None:
        if accept is not None and (info.data.get("choices") is not None or info.data.get("answer") is not None):
            raise ValueError("accept is for typed answers: remove choices and answer")
        return accept

    @field_validator("feedback")
    @classmethod
    def _feedback_for_choices(cls, feedback: dict[str, str] | None, info) -> dict[str, str] | None:
        if feedback is None:
            return None
        choices = info.data.get("choices")
        allowed = set(choices) if choices is not None else {"true", "false"}
        for key in feedback:
            if key not in allowed:
                raise ValueError(f"feedback for {key!r}, which is not one of the choices")
        return feedback

    @model_validator(mode="after")
    def _one_kind(self) -> Question:
        if self.choices is not None and self.answer is None and self.answers is None:
            raise ValueError("give the correct choice in answer (or answers, if several are right)")
        if self.answer is not None and self.answers is not None:
            raise ValueError("use answer (one correct choice) or answers (several), not both")
        if self.choices is None and self.answer is None and self.accept is None:
            raise ValueError("a question needs choices and answer, answer: true/false, or accept")
        return self

    @property
    def kind(self) -> QuestionKind:
        if self.accept is not None:
            return "short"
        if self.answers is not None:
            return "multiple"
        if self.choices is None:
            return "true_false"
        return "single"

    @property
    def options(self) -> list[str]:
        """What the learner picks from: the choices, or True/False."""
        if self.kind == "true_false":
            return ["True", "False"]
        return list(self.choices or [])

    @property
    def correct_index(self) -> int:
        """The correct option's index (single choice and true/false)."""
        if self.kind == "true_false":
            return 0 if self.answer else 1
        return self.options.index(str(self.answer))

    @property
    def correct_text(self) -> str:
        if self.kind == "multiple":
            return "; ".join(self.answers or [])
        if self.kind == "short":
            return (self.accept or [""])[0]
        return self.options[self.correct_index]

    def feedback_for(self, option: str) -> str | None:
        if not self.feedback:
            return None
        return self.feedback.get(option) or self.feedback.get(option.lower())


class Lesson(_Strict):
    id: Slug
    title: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=150)]
    minutes: Annotated[int, Field(ge=1, le=30)]
    body: Annotated[str, StringConstraints(min_length=1, max_length=12000)]
    links: list[Link] = Field(default_factory=list)
    quiz: Annotated[list[Question], Field(max_length=10)] = Field(default_factory=list)
    reflect: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=1000)] | None = None
    contributed_by: Credit | None = None

    def question(self, question_id: str) -> Question | None:
        return next((q for q in self.quiz if q.id == question_id), None)


class Schedule(_Strict):
    days: Annotated[list[Weekday], Field(min_length=1)]
    time: str

    @field_validator("time", mode="before")
    @classmethod
    def _hh_mm(cls, value: object) -> str:
        # YAML 1.1 reads an unquoted 09:30 as the sexagesimal integer 570.
        if isinstance(value, int) and not isinstance(value, bool) and 0 <= value < 24 * 60:
            value = f"{value // 60:02d}:{value % 60:02d}"
        if not isinstance(value, str) or not _HHMM.match(value):
            raise ValueError('must be a 24-hour time "HH:MM", for example "09:30"')
        return value

    @field_validator("days")
    @classmethod
    def _distinct_days(cls, days: list[str]) -> list[str]:
        if len(set(days)) != len(days):
            raise ValueError("a day appears twice")
        return sorted(days, key=WEEKDAYS.index)


class Certificate(_Strict):
    name: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=150)]
    pass_score: Annotated[float, Field(gt=0, le=1)] = 0.8
    valid_days: Annotated[int, Field(ge=1, le=3650)] | None = None


class Triggers(_Strict):
    channel_join: list[Annotated[str, StringConstraints(pattern=r"^[a-z0-9][a-z0-9_-]{0,79}$")]] = Field(
        default_factory=list
    )


class Cost(_Strict):
    amount: Annotated[float, Field(ge=0)]
    currency: Annotated[str, StringConstraints(pattern=r"^[A-Z]{3}$")]


class Pack(_Strict):
    id: Slug
    title: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=150)]
    description: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=1000)]
    version: Annotated[int, Field(ge=1)]
    language: Language = "en"
    schedule: Schedule
    lessons: Annotated[list[Lesson], Field(min_length=1)]
    certificate: Certificate | None = None
    triggers: Triggers | None = None
    cost: Cost | None = None
    discussion: list[Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=3000)]] = Field(
        default_factory=list
    )

    @model_validator(mode="after")
    def _unique_ids(self) -> Pack:
        # Raised as a plain error here; the loader reports duplicates with their own paths first.
        ids = [lesson.id for lesson in self.lessons]
        if len(set(ids)) != len(ids):
            raise ValueError("lesson ids must be unique")
        for lesson in self.lessons:
            qids = [q.id for q in lesson.quiz]
            if len(set(qids)) != len(qids):
                raise ValueError(f"question ids in lesson {lesson.id!r} must be unique")
        return self

    def lesson(self, lesson_id: str) -> Lesson | None:
        return next((lesson for lesson in self.lessons if lesson.id == lesson_id), None)

    def lesson_index(self, lesson_id: str) -> int | None:
        for index, lesson in enumerate(self.lessons):
            if lesson.id == lesson_id:
                return index
        return None
