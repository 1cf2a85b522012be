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


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, str_strip_whitespace=False)


class Link(_Strict):
    kind: Literal["article", "podcast", "video"]
    title: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=150)]
    url: Annotated[str, StringConstraints(strip_whitespace=True, max_length=3000)]
    minutes: Annotated[int, Field(ge=1, le=600)] | None = None

    @field_validator("url")
    @classmethod
    def _https_only(cls, url: str) -> str:
        if not re.match(r"^https://[^\s/$.?#][^\s]*$", url):
            raise ValueError("must be an https:// URL")
        return url


class Question(_Strict):
    id: Slug
    prompt: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=2000)]
    choices: Annotated[list[Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=500)]],
                       Field(min_length=2, max_length=10)]
    answer: Text
    explain: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=2000)]

    @field_validator("choices")
    @classmethod
    def _distinct_choices(cls, choices: list[str]) -> list[str]:
        seen: set[str] = set()
        for choice in choices:
            if choice in seen:
                raise ValueError(f"choice {choice!r} appears twice")
            seen.add(choice)
        return choices

    @field_validator("answer")
    @classmethod
    def _answer_is_a_choice(cls, answer: str, info) -> str:
        choices = info.data.get("choices")
        if choices is not None and answer not in choices:
            raise ValueError(f"{answer!r} is not one of the choices")
        return answer

    @property
    def correct_index(self) -> int:
        return self.choices.index(self.answer)


class Lesson(_Strict):
    id: Slug
    title: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=150)]
    minutes: Annotated[int, Field(ge=1, le=30)]
    body: Annotated[str, StringConstraints(min_length=1, max_length=12000)]
    links: list[Link] = Field(default_factory=list)
    quiz: Annotated[list[Question], Field(max_length=10)] = Field(default_factory=list)

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


class Pack(_Strict):
    id: Slug
    title: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=150)]
    description: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=1000)]
    version: Annotated[int, Field(ge=1)]
    schedule: Schedule
    lessons: Annotated[list[Lesson], Field(min_length=1)]

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
