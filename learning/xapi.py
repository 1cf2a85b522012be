"""Sprout's records as xAPI 1.0.3 statements: pure functions, no database, no network.

Who: the learner as an Agent identified by their Slack account (``homePage`` = the workspace
URL, ``name`` = the Slack user id), with their name beside it.

What, for each kind of record (the kind also names the record in outbox keys and statement ids):

==============  =========================================  ===============================
record kind     verb                                       object
==============  =========================================  ===============================
``lesson``      experienced — a delivered lesson the        the lesson
                learner did something with (answered,
                rated, commented or opened a link)
``link_open``   experienced — a lesson link opened          the link (its URL)
``answer``      answered, ``result.success``/``response``   the question (cmi.interaction)
                and ``duration`` (delivery to answer)
``review``      answered (a spaced-review or recert          the question
                question), as above
``rating``      rated, ``result.score`` raw 1–5             the lesson
``comment``     commented, ``result.response``              the lesson
``reflection``  responded — the learner's answer to a        the lesson's reflection prompt
                lesson's reflection prompt, ``result.       (cmi.interaction, long-fill-in,
                response``; never graded                    no correct responses)
``completion``  completed — every question of the pack      the pack
                answered; score = share answered right
``failure``     failed — completed below the pack's          the pack
                certificate ``pass_score``
``certificate`` passed — a certificate was issued            the pack
==============  =========================================  ===============================

Activity IRIs (``base`` is configurable, e.g. ``https://sprout.example/xapi``)::

    {base}/packs/{pack}                                   type course
    {base}/packs/{pack}/lessons/{lesson}                  type lesson
    {base}/packs/{pack}/lessons/{lesson}/questions/{q}    type cmi.interaction
    {base}/packs/{pack}/lessons/{lesson}/reflection       type cmi.interaction (long-fill-in)
    a link's own https URL                                type link

Statement ids are UUID5s of a per-workspace namespace and the record's key (``answer:123``),
so exporting or forwarding a record again never makes a second statement in an LRS.
"""

from __future__ import annotations

import hashlib
import json
import re
import uuid
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import TextIO
from urllib.parse import quote, urlsplit

from content_packs.schema import Pack, Question

XAPI_VERSION = "1.0.3"

# Sprout's own namespace; each workspace gets a namespace of its own under it (see XapiSettings).
SPROUT_NAMESPACE = uuid.UUID("c26b07c8-e2bd-49f7-92ab-feaa63b4cdbe")

ADL = "http://adlnet.gov/expapi"
VERBS: dict[str, tuple[str, str]] = {
    "experienced": (f"{ADL}/verbs/experienced", "experienced"),
    "answered": (f"{ADL}/verbs/answered", "answered"),
    "completed": (f"{ADL}/verbs/completed", "completed"),
    "passed": (f"{ADL}/verbs/passed", "passed"),
    "failed": (f"{ADL}/verbs/failed", "failed"),
    "commented": (f"{ADL}/verbs/commented", "commented"),
    # ADL's "responded" (adlnet/xAPIWrapper's verb list): an answer that is not graded. "answered" stays
    # for quiz questions, so an LRS counting answered statements for accuracy never counts reflections.
    "responded": (f"{ADL}/verbs/responded", "responded"),
    "rated": ("http://id.tincanapi.com/verb/rated", "rated"),
}
COURSE = f"{ADL}/activities/course"
LESSON = f"{ADL}/activities/lesson"
INTERACTION = f"{ADL}/activities/cmi.interaction"
LINK = f"{ADL}/activities/link"

RECORD_KINDS = (
    "lesson", "link_open", "answer", "review", "rating", "comment", "reflection", "completion", "failure",
    "certificate",
)

RATING_MIN, RATING_MAX = 1, 5


# -- settings -------------------------------------------------------------------------------------


def is_absolute_iri(value: str) -> bool:
    """An absolute IRI as statements need: a scheme, no spaces (IRI fragments are not valid ids)."""
    if not value or any(c.isspace() for c in value):
        return False
    parts = urlsplit(value)
    if not re.fullmatch(r"[A-Za-z][A-Za-z0-9+.-]*", parts.scheme or ""):
        return False
    if parts.scheme in ("http", "https"):
        return bool(parts.netloc)
    return bool(parts.path or parts.netloc)


@dataclass(frozen=True)
class XapiSettings:
    """``homepage``: the Slack workspace URL (``https://acme.slack.com``), the accounts' home page.

    ``base_iri``: where Sprout's activity IRIs live; choose it once — changing it later makes
    every activity a new one in the LRS.
    """

    homepage: str
    base_iri: str = "https://sprout.example/xapi"
    platform: str = "Sprout"
    language: str = "en"  # RFC 5646: the language is known, the region is not, so "en" (xAPI 4.2)

    def __post_init__(self) -> None:
        for name in ("homepage", "base_iri"):
            value = getattr(self, name)
            if not value.startswith(("http://", "https://")) or not is_absolute_iri(value):
                raise ValueError(f"{name} must be an absolute http(s) URL, not {value!r}")
        object.__setattr__(self, "base_iri", self.base_iri.rstrip("/"))

    @property
    def namespace(self) -> uuid.UUID:
        """Statement ids are per workspace: two Sprouts sending to one LRS never collide."""
        return uuid.uuid5(SPROUT_NAMESPACE, self.homepage.rstrip("/").lower())


# -- records (what db/exports reads) ---------------------------------------------------------------


@dataclass(frozen=True)
class Learner:
    slack_user_id: str
    name: str = ""


@dataclass(frozen=True)
class LessonRef:
    """Where a record sits: the pack, the lesson, and the delivery it came with (when known)."""

    pack_id: str
    lesson_id: str
    pack_version: int | None = None
    enrollment_id: int | None = None
    delivered_at: datetime | None = None
    language: str | None = None  # the language the lesson was shown in; None: recorded before languages were


@dataclass(frozen=True)
class AnswerRecord:
    id: int
    learner: Learner
    lesson: LessonRef
    question_id: str
    prompt: str  # as asked
    response: str  # as recorded: the option's text, options joined with "; ", True/False, or typed text
    correct: bool
    answered_at: datetime
    kind = "answer"


@dataclass(frozen=True)
class ReviewRecord:
    id: int
    learner: Learner
    lesson: LessonRef  # delivered_at: when the review session was sent
    question_id: str
    prompt: str
    response: str
    correct: bool
    answered_at: datetime
    session_id: int
    session_kind: str  # "review" or "recert"
    fsrs_rating: int
    interval_days: float
    kind = "review"


@dataclass(frozen=True)
class LessonExperience:
    """A delivered lesson the learner engaged with; ``engaged_at`` is their first action on it."""

    id: int  # the delivery
    learner: Learner
    lesson: LessonRef
    engaged_at: datetime
    kind = "lesson"


@dataclass(frozen=True)
class LinkOpenRecord:
    id: int
    learner: Learner
    lesson: LessonRef
    link_index: int
    url: str
    opened_at: datetime
    kind = "link_open"


@dataclass(frozen=True)
class RatingRecord:
    id: int  # the feedback row
    learner: Learner
    lesson: LessonRef
    rating: int
    rated_at: datetime
    reason: str | None = None
    kind = "rating"


@dataclass(frozen=True)
class CommentRecord:
    id: int  # the feedback row
    learner: Learner
    lesson: LessonRef
    comment: str
    commented_at: datetime
    kind = "comment"


@dataclass(frozen=True)
class ReflectionRecord:
    """The learner's answer to a lesson's reflection prompt; ``reflected_at``: when last written."""

    id: int  # the reflection row
    learner: Learner
    lesson: LessonRef
    prompt: str  # as asked
    text: str
    reflected_at: datetime
    kind = "reflection"


@dataclass(frozen=True)
class QuestionResult:
    lesson_id: str
    question_id: str
    correct: bool
    answered_at: datetime


@dataclass(frozen=True)
class PackProgress:
    """Every answer one enrollment has given in its pack: the makings of completed / failed."""

    id: int  # the enrollment
    learner: Learner
    pack_id: str
    answers: tuple[QuestionResult, ...]
    kind = "pack"


@dataclass(frozen=True)
class CertificateRecord:
    id: int
    learner: Learner
    pack_id: str
    name: str
    score: float
    issued_at: datetime
    expires_at: datetime | None = None
    kind = "certificate"


Record = (
    AnswerRecord | ReviewRecord | LessonExperience | LinkOpenRecord | RatingRecord | CommentRecord
    | ReflectionRecord | PackProgress | CertificateRecord
)


# -- rules ----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class PackOutcome:
    correct: int
    total: int
    finished_at: datetime
    passed: bool | None  # None: the pack has no certificate, so no pass mark

    @property
    def score(self) -> float:
        return self.correct / self.total


def pack_outcome(pack: Pack, answers: Iterable[QuestionResult]) -> PackOutcome | None:
    """The pack's result once every lesson's questions are answered; None before (or without questions)."""
    needed = [(lesson.id, q.id) for lesson in pack.lessons for q in lesson.quiz]
    if not needed:
        return None
    got = {(a.lesson_id, a.question_id): a for a in answers}
    if any(key not in got for key in needed):
        return None
    correct = sum(got[key].correct for key in needed)
    finished_at = max(got[key].answered_at for key in needed)
    passed = None
    if pack.certificate is not None:
        passed = correct / len(needed) >= pack.certificate.pass_score
    return PackOutcome(correct, len(needed), finished_at, passed)


def record_key(kind: str, record: Record) -> str:
    """``answer:123``: names the record in outbox dedupe keys (``xapi:answer:123``) and statement ids.

    A comment's or a reflection's key includes a hash of its text: an edited one is a new statement,
    not a conflicting one with the same id.
    """
    if kind in ("comment", "reflection"):
        text = record.comment if kind == "comment" else record.text
        digest = hashlib.sha1(text.encode()).hexdigest()[:12]
        return f"{kind}:{record.id}:{digest}"
    return f"{kind}:{record.id}"


def timestamp(when: datetime) -> str:
    """ISO 8601 / RFC 3339 in UTC with milliseconds: 2026-03-02T09:30:00.000Z."""
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return when.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def duration(delta: timedelta) -> str:
    """ISO 8601 duration in seconds to 0.01 s (xAPI 4.6): PT42S, PT3723.5S."""
    hundredths = round(delta.total_seconds() * 100)
    seconds, rest = divmod(hundredths, 100)
    return f"PT{seconds}S" if not rest else f"PT{seconds}.{rest:02d}".rstrip("0") + "S"


def choice_ids(options: Sequence[str]) -> list[str]:
    """Interaction component ids for a question's options: readable, distinct, no whitespace.

    Made from the option's text (``Use a password manager`` → ``use-a-password-manager``), so
    reordering a pack's choices keeps their ids; a changed text is a new choice.
    """
    ids: list[str] = []
    for text in options:
        slug = re.sub(r"[^a-z0-9]+", "-", text.casefold()).strip("-")[:48].strip("-") or "choice"
        candidate, n = slug, 2
        while candidate in ids:
            candidate, n = f"{slug}-{n}", n + 1
        ids.append(candidate)
    return ids


def _picked(response: str, options: Sequence[str]) -> list[int] | None:
    """Indices of the options a multiple-select response joined with "; " (in option order)."""

    def walk(pos: int, start: int) -> list[int] | None:
        for i in range(start, len(options)):
            option = options[i]
            if not response.startswith(option, pos):
                continue
            end = pos + len(option)
            if end == len(response):
                return [i]
            if response.startswith("; ", end):
                rest = walk(end + 2, i + 1)
                if rest is not None:
                    return [i, *rest]
        return None

    return walk(0, 0) if response else None


def interaction(question: Question, lang: str) -> dict:
    """The cmi.interaction part of a question's definition, in the spec's response-pattern formats."""
    kind = question.kind
    if kind == "true_false":
        return {"interactionType": "true-false", "correctResponsesPattern": ["true" if question.answer else "false"]}
    if kind == "short":
        # case_matters=false: Sprout compares ignoring case (and spacing, which the pattern cannot say).
        return {
            "interactionType": "fill-in",
            "correctResponsesPattern": [f"{{case_matters=false}}{text}" for text in question.accept or []],
        }
    options = question.options
    ids = choice_ids(options)
    if kind == "multiple":
        right = set(question.answers or [])
        pattern = "[,]".join(ids[i] for i, option in enumerate(options) if option in right)
    else:
        pattern = ids[question.correct_index]
    return {
        "interactionType": "choice",
        "choices": [{"id": cid, "description": {lang: text}} for cid, text in zip(ids, options, strict=True)],
        "correctResponsesPattern": [pattern],
    }


def typed_response(text: str) -> str:
    """A person's typed text as a fill-in / long-fill-in response.

    Such a response may begin with characterstring parameters (``{case_matters=true}``, xAPI 2.4.4.1
    s12); text that begins with ``{`` is marked as undetermined language first (``{lang=und}``,
    RFC 5646), so whatever follows is read as the text itself.
    """
    return f"{{lang=und}}{text}" if text.startswith("{") else text


def response_pattern(question: Question, response: str) -> str | None:
    """The recorded response in the interaction's format, or None if it no longer fits the question."""
    kind = question.kind
    if kind == "short":
        return typed_response(response)
    if kind == "true_false":
        value = response.strip().lower()
        return value if value in ("true", "false") else None
    options = question.options
    ids = choice_ids(options)
    if kind == "multiple":
        picked = _picked(response, options)
        return None if picked is None else "[,]".join(ids[i] for i in picked)
    return ids[options.index(response)] if response in options else None


# -- statements -----------------------------------------------------------------------------------


class StatementBuilder:
    """Builds statements for records. ``packs`` looks a pack up by id (``Catalog.get``)."""

    def __init__(self, settings: XapiSettings, packs: Callable[[str], Pack | None]) -> None:
        self.settings = settings
        self.packs = packs

    # identity

    def statement_id(self, key: str) -> str:
        return str(uuid.uuid5(self.settings.namespace, key))

    def registration(self, enrollment_id: int) -> str:
        """One learner's way through one pack: every statement of an enrollment shares it."""
        return str(uuid.uuid5(self.settings.namespace, f"enrollment:{enrollment_id}"))

    def _lang(self, text: str) -> dict[str, str]:
        return {self.settings.language: text}

    def _pack_lang(self, pack: Pack | None, text: str) -> dict[str, str]:
        """A pack's text, which Sprout records in the pack's own language whatever language a learner read
        (the language shown is the statement's ``context.language``)."""
        return {pack.language if pack else self.settings.language: text}

    def actor(self, learner: Learner) -> dict:
        actor = {"objectType": "Agent", "account": {"homePage": self.settings.homepage, "name": learner.slack_user_id}}
        if learner.name:
            actor["name"] = learner.name
        return actor

    def verb(self, name: str) -> dict:
        iri, display = VERBS[name]
        return {"id": iri, "display": self._lang(display)}

    # activities

    def pack_iri(self, pack_id: str) -> str:
        return f"{self.settings.base_iri}/packs/{quote(pack_id, safe='')}"

    def lesson_iri(self, pack_id: str, lesson_id: str) -> str:
        return f"{self.pack_iri(pack_id)}/lessons/{quote(lesson_id, safe='')}"

    def question_iri(self, pack_id: str, lesson_id: str, question_id: str) -> str:
        return f"{self.lesson_iri(pack_id, lesson_id)}/questions/{quote(question_id, safe='')}"

    def pack_activity(self, pack_id: str) -> dict:
        pack = self.packs(pack_id)
        definition = {"type": COURSE, "name": self._pack_lang(pack, pack.title if pack else pack_id)}
        if pack:
            definition["description"] = self._pack_lang(pack, pack.description)
        return {"objectType": "Activity", "id": self.pack_iri(pack_id), "definition": definition}

    def lesson_activity(self, pack_id: str, lesson_id: str) -> dict:
        pack = self.packs(pack_id)
        lesson = pack.lesson(lesson_id) if pack else None
        return {
            "objectType": "Activity",
            "id": self.lesson_iri(pack_id, lesson_id),
            "definition": {"type": LESSON, "name": self._pack_lang(pack, lesson.title if lesson else lesson_id)},
        }

    def question_activity(self, ref: LessonRef, question_id: str, prompt: str, response: str) -> tuple[dict, str]:
        """The question as an activity, and the response in its format.

        The definition (choices, correct responses) comes from the pack as loaded now; the
        name is the prompt as it was asked. A question the pack no longer has, or a response
        that no longer fits its choices, is sent without the interaction properties (so it
        never contradicts the definition the LRS holds) and with the response as recorded.
        """
        pack = self.packs(ref.pack_id)
        lesson = pack.lesson(ref.lesson_id) if pack else None
        question = lesson.question(question_id) if lesson else None
        definition: dict = {"name": self._pack_lang(pack, prompt), "description": self._pack_lang(pack, prompt)}
        formatted = response_pattern(question, response) if question else None
        if question is not None and formatted is not None:
            definition["type"] = INTERACTION
            definition.update(interaction(question, pack.language if pack else self.settings.language))
        else:
            formatted = response
        activity = {"objectType": "Activity", "id": self.question_iri(ref.pack_id, ref.lesson_id, question_id),
                    "definition": definition}
        return activity, formatted

    def reflection_activity(self, ref: LessonRef, prompt: str) -> dict:
        """A lesson's reflection prompt: an interaction any answer to which is right, so it has no
        ``correctResponsesPattern`` (xAPI 2.4.4.1 s11: "where any answer is correct … omitted")."""
        return {
            "objectType": "Activity",
            "id": f"{self.lesson_iri(ref.pack_id, ref.lesson_id)}/reflection",
            "definition": {"type": INTERACTION, "name": self._pack_lang(self.packs(ref.pack_id), prompt),
                           "description": self._pack_lang(self.packs(ref.pack_id), prompt),
                           "interactionType": "long-fill-in"},
        }

    def link_activity(self, ref: LessonRef, link_index: int, url: str) -> dict:
        pack = self.packs(ref.pack_id)
        lesson = pack.lesson(ref.lesson_id) if pack else None
        link = next((link for link in (lesson.links if lesson else []) if link.url == url), None)
        if url.startswith(("http://", "https://")) and is_absolute_iri(url):
            iri = url
        else:
            iri = f"{self.lesson_iri(ref.pack_id, ref.lesson_id)}/links/{link_index}"
        definition: dict = {"type": LINK, "name": self._pack_lang(pack, link.title if link else url)}
        if iri == url:
            definition["moreInfo"] = url
        return {"objectType": "Activity", "id": iri, "definition": definition}

    # context

    def _context(self, *, parent: list[dict] | None = None, grouping: list[dict] | None = None,
                 ref: LessonRef | None = None, extensions: dict | None = None) -> dict:
        context: dict = {"platform": self.settings.platform}
        activities = {}
        if parent:
            activities["parent"] = [{"objectType": "Activity", "id": a["id"]} for a in parent]
        if grouping:
            activities["grouping"] = [{"objectType": "Activity", "id": a["id"]} for a in grouping]
        if activities:
            context["contextActivities"] = activities
        if ref is not None and ref.enrollment_id is not None:
            context["registration"] = self.registration(ref.enrollment_id)
        if ref is not None and ref.pack_version is not None:
            context["revision"] = str(ref.pack_version)
        if ref is not None and ref.language:
            context["language"] = ref.language  # RFC 5646: the language the learner was shown
        if extensions:
            context["extensions"] = extensions
        return context

    def extension(self, name: str) -> str:
        return f"{self.settings.base_iri}/extensions/{name}"

    def _statement(self, key: str, learner: Learner, verb: str, obj: dict, when: datetime, *,
                   result: dict | None = None, context: dict | None = None) -> dict:
        statement = {
            "id": self.statement_id(key),
            "actor": self.actor(learner),
            "verb": self.verb(verb),
            "object": obj,
            "timestamp": timestamp(when),
        }
        if result:
            statement["result"] = result
        if context:
            statement["context"] = context
        return statement

    # one statement per record kind

    def build(self, kind: str, record: Record) -> dict | None:
        """The statement ``kind`` makes of ``record``; None when the record does not make one
        (a pack not finished, a pack passed asked for ``failure``, a pack no longer loaded)."""
        return getattr(self, f"_{kind}")(record)

    def statements(self, record: Record) -> list[tuple[str, dict]]:
        """Every statement a record makes, with its key (the export)."""
        kinds = ("completion", "failure") if record.kind == "pack" else (record.kind,)
        out = []
        for kind in kinds:
            statement = self.build(kind, record)
            if statement is not None:
                out.append((record_key(kind, record), statement))
        return out

    def _answer(self, r: AnswerRecord | ReviewRecord) -> dict:
        activity, response = self.question_activity(r.lesson, r.question_id, r.prompt, r.response)
        result: dict = {"success": bool(r.correct), "response": response}
        if r.lesson.delivered_at is not None and r.answered_at >= r.lesson.delivered_at:
            result["duration"] = duration(r.answered_at - r.lesson.delivered_at)
        extensions = None
        if isinstance(r, ReviewRecord):
            extensions = {self.extension("review"): {
                "session": r.session_id, "kind": r.session_kind,
                "fsrsRating": r.fsrs_rating, "intervalDays": r.interval_days,
            }}
        context = self._context(parent=[self.lesson_activity(r.lesson.pack_id, r.lesson.lesson_id)],
                                grouping=[self.pack_activity(r.lesson.pack_id)], ref=r.lesson, extensions=extensions)
        return self._statement(record_key(r.kind, r), r.learner, "answered", activity, r.answered_at,
                               result=result, context=context)

    _review = _answer

    def _lesson(self, r: LessonExperience) -> dict:
        return self._statement(
            record_key("lesson", r), r.learner, "experienced",
            self.lesson_activity(r.lesson.pack_id, r.lesson.lesson_id), r.engaged_at,
            context=self._context(parent=[self.pack_activity(r.lesson.pack_id)], ref=r.lesson),
        )

    def _link_open(self, r: LinkOpenRecord) -> dict:
        return self._statement(
            record_key("link_open", r), r.learner, "experienced", self.link_activity(r.lesson, r.link_index, r.url),
            r.opened_at,
            context=self._context(parent=[self.lesson_activity(r.lesson.pack_id, r.lesson.lesson_id)],
                                  grouping=[self.pack_activity(r.lesson.pack_id)], ref=r.lesson),
        )

    def _rating(self, r: RatingRecord) -> dict:
        result: dict = {"score": {
            "raw": r.rating, "min": RATING_MIN, "max": RATING_MAX,
            "scaled": round((r.rating - RATING_MIN) / (RATING_MAX - RATING_MIN), 4),
        }}
        if r.reason:
            result["extensions"] = {self.extension("feedback-reason"): r.reason}
        return self._statement(
            record_key("rating", r), r.learner, "rated", self.lesson_activity(r.lesson.pack_id, r.lesson.lesson_id),
            r.rated_at, result=result, context=self._context(parent=[self.pack_activity(r.lesson.pack_id)], ref=r.lesson),
        )

    def _comment(self, r: CommentRecord) -> dict:
        return self._statement(
            record_key("comment", r), r.learner, "commented",
            self.lesson_activity(r.lesson.pack_id, r.lesson.lesson_id), r.commented_at,
            result={"response": r.comment},
            context=self._context(parent=[self.pack_activity(r.lesson.pack_id)], ref=r.lesson),
        )

    def _reflection(self, r: ReflectionRecord) -> dict:
        return self._statement(
            record_key("reflection", r), r.learner, "responded", self.reflection_activity(r.lesson, r.prompt),
            r.reflected_at, result={"response": typed_response(r.text)},
            context=self._context(parent=[self.lesson_activity(r.lesson.pack_id, r.lesson.lesson_id)],
                                  grouping=[self.pack_activity(r.lesson.pack_id)], ref=r.lesson),
        )

    def _pack(self, r: PackProgress, kind: str) -> dict | None:
        pack = self.packs(r.pack_id)
        outcome = pack_outcome(pack, r.answers) if pack else None
        if outcome is None:
            return None
        score = {"raw": outcome.correct, "min": 0, "max": outcome.total, "scaled": round(outcome.score, 4)}
        ref = LessonRef(r.pack_id, "", None, r.id)
        if kind == "completion":
            verb, result = "completed", {"completion": True, "score": score}
        elif outcome.passed is False:
            verb, result = "failed", {"completion": True, "success": False, "score": score}
        else:
            return None
        return self._statement(record_key(kind, r), r.learner, verb, self.pack_activity(r.pack_id),
                               outcome.finished_at, result=result, context=self._context(ref=ref))

    def _completion(self, r: PackProgress) -> dict | None:
        return self._pack(r, "completion")

    def _failure(self, r: PackProgress) -> dict | None:
        return self._pack(r, "failure")

    def _certificate(self, r: CertificateRecord) -> dict:
        scaled = min(max(float(r.score), 0.0), 1.0)
        extensions = {self.extension("certificate"): {
            "name": r.name, "expires": timestamp(r.expires_at) if r.expires_at else None,
        }}
        return self._statement(
            record_key("certificate", r), r.learner, "passed", self.pack_activity(r.pack_id), r.issued_at,
            result={"success": True, "completion": True, "score": {"scaled": round(scaled, 4)}},
            context=self._context(extensions=extensions),
        )


# -- the export file ------------------------------------------------------------------------------


def export_statements(
    records: Iterable[Record], builder: StatementBuilder, *, since: datetime | None = None,
    until: datetime | None = None,
) -> Iterator[dict]:
    """Every statement the records make whose timestamp falls in [since, until).

    Records are read by their own time; a pack's completion is stamped with its last answer,
    which can fall outside the window its other answers were read for, so it is checked here.
    """
    for record in records:
        for _, statement in builder.statements(record):
            when = datetime.fromisoformat(statement["timestamp"].replace("Z", "+00:00"))
            if (since is None or when >= since) and (until is None or when < until):
                yield statement


def write_json_array(out: TextIO, statements: Iterable[dict]) -> int:
    """A JSON array written one statement at a time (an LRS's POST body, or a file to import)."""
    count = 0
    out.write("[")
    for statement in statements:
        out.write("\n" if count == 0 else ",\n")
        out.write(json.dumps(statement, ensure_ascii=False, separators=(",", ":")))
        count += 1
    out.write("\n]\n" if count else "]\n")
    return count
