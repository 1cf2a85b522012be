"""Reading the records out: CSV rows, xAPI records, and what the LRS forwarder has not queued yet.

Everything here streams. A query runs on one connection with ``yield_per`` (a server-side
cursor on PostgreSQL, lazy fetching on SQLite) and rows are handed on as they arrive, so a
year of records (a million answers) never sits in memory. A generator holds its connection
until it is exhausted or closed.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Engine, String, and_, cast, func, literal, or_, select, true, union_all, update

from db.models import (
    Answer,
    Certificate,
    Delivery,
    Enrollment,
    Feedback,
    Learner,
    LinkOpen,
    OutboxMessage,
    Reflection,
    Review,
    ReviewCard,
    ReviewSession,
    Worker,
)
from learning.xapi import (
    AnswerRecord,
    CertificateRecord,
    CommentRecord,
    LessonExperience,
    LessonRef,
    LinkOpenRecord,
    PackProgress,
    QuestionResult,
    RatingRecord,
    Record,
    ReflectionRecord,
    ReviewRecord,
)
from learning.xapi import Learner as XLearner

STREAM_BATCH = 2000


@dataclass(frozen=True)
class Window:
    """Records from ``since`` (inclusive) to ``until`` (exclusive); either end may be open."""

    since: datetime | None = None
    until: datetime | None = None

    def clause(self, column):
        parts = []
        if self.since is not None:
            parts.append(column >= self.since)
        if self.until is not None:
            parts.append(column < self.until)
        return and_(true(), *parts)

    def contains(self, when: datetime) -> bool:
        return (self.since is None or when >= self.since) and (self.until is None or when < self.until)


def _stream(engine: Engine, stmt, batch: int = STREAM_BATCH) -> Iterator:
    with engine.connect() as conn:
        result = conn.execution_options(yield_per=batch).execute(stmt)
        yield from result


# -- CSV ------------------------------------------------------------------------------------------

CSV_KINDS = ("answers", "deliveries", "feedback", "certificates", "reviews", "link_opens")


def _answers_csv(window: Window):
    columns = [
        ("answer_id", Answer.id), ("answered_at", Answer.answered_at), ("slack_user_id", Learner.slack_user_id),
        ("learner_name", Learner.name), ("pack_id", Delivery.pack_id), ("pack_version", Delivery.pack_version),
        ("lesson_id", Delivery.lesson_id), ("question_id", Answer.question_id), ("prompt", Answer.prompt),
        ("response", Answer.choice), ("correct", Answer.correct), ("delivered_at", Delivery.sent_at),
        ("delivery_id", Answer.delivery_id), ("language", Answer.language),
    ]
    stmt = (
        select(*(c for _, c in columns))
        .join(Delivery, Delivery.id == Answer.delivery_id)
        .join(Learner, Learner.id == Answer.learner_id)
        .where(window.clause(Answer.answered_at))
        .order_by(Answer.answered_at, Answer.id)
    )
    return columns, stmt


def _deliveries_csv(window: Window):
    answered = select(func.count(Answer.id)).where(Answer.delivery_id == Delivery.id).scalar_subquery()
    right = (
        select(func.count(Answer.id)).where(Answer.delivery_id == Delivery.id, Answer.correct.is_(True))
        .scalar_subquery()
    )
    opened = select(func.count(LinkOpen.id)).where(LinkOpen.delivery_id == Delivery.id).scalar_subquery()
    rating = select(Feedback.rating).where(Feedback.delivery_id == Delivery.id).scalar_subquery()
    columns = [
        ("delivery_id", Delivery.id), ("due_at", Delivery.due_at), ("sent_at", Delivery.sent_at),
        ("slack_user_id", Learner.slack_user_id), ("learner_name", Learner.name), ("pack_id", Delivery.pack_id),
        ("pack_version", Delivery.pack_version), ("lesson_id", Delivery.lesson_id), ("kind", Delivery.kind),
        ("status", Delivery.status), ("error", Delivery.error), ("questions_answered", answered),
        ("questions_correct", right), ("links_opened", opened), ("rating", rating), ("language", Delivery.language),
    ]
    stmt = (
        select(*(c for _, c in columns))
        .join(Learner, Learner.id == Delivery.learner_id)
        .where(window.clause(Delivery.due_at))
        .order_by(Delivery.due_at, Delivery.id)
    )
    return columns, stmt


def _feedback_csv(window: Window):
    columns = [
        ("feedback_id", Feedback.id), ("delivery_id", Feedback.delivery_id),
        ("slack_user_id", Learner.slack_user_id), ("learner_name", Learner.name), ("pack_id", Delivery.pack_id),
        ("lesson_id", Delivery.lesson_id), ("rating", Feedback.rating), ("rated_at", Feedback.rated_at),
        ("reason", Feedback.reason), ("comment", Feedback.comment), ("commented_at", Feedback.commented_at),
    ]
    stmt = (
        select(*(c for _, c in columns))
        .join(Delivery, Delivery.id == Feedback.delivery_id)
        .join(Learner, Learner.id == Feedback.learner_id)
        .where(or_(window.clause(Feedback.rated_at), window.clause(Feedback.commented_at)),
               or_(Feedback.rated_at.is_not(None), Feedback.commented_at.is_not(None)))
        .order_by(Feedback.id)
    )
    return columns, stmt


def _certificates_csv(window: Window):
    columns = [
        ("certificate_id", Certificate.id), ("issued_at", Certificate.issued_at),
        ("slack_user_id", Learner.slack_user_id), ("learner_name", Learner.name), ("pack_id", Certificate.pack_id),
        ("certificate_name", Certificate.name), ("score", Certificate.score), ("expires_at", Certificate.expires_at),
        ("status", Certificate.status),
    ]
    stmt = (
        select(*(c for _, c in columns))
        .join(Learner, Learner.id == Certificate.learner_id)
        .where(window.clause(Certificate.issued_at))
        .order_by(Certificate.issued_at, Certificate.id)
    )
    return columns, stmt


def _reviews_csv(window: Window):
    columns = [
        ("review_id", Review.id), ("answered_at", Review.answered_at), ("session_id", Review.session_id),
        ("session_kind", ReviewSession.kind), ("slack_user_id", Learner.slack_user_id),
        ("learner_name", Learner.name), ("pack_id", ReviewCard.pack_id), ("lesson_id", ReviewCard.lesson_id),
        ("question_id", Review.question_id), ("prompt", Review.prompt), ("response", Review.response),
        ("correct", Review.correct), ("fsrs_rating", Review.rating), ("interval_days", Review.interval_days),
        ("language", Review.language),
    ]
    stmt = (
        select(*(c for _, c in columns))
        .join(ReviewCard, ReviewCard.id == Review.card_id)
        .join(ReviewSession, ReviewSession.id == Review.session_id)
        .join(Learner, Learner.id == Review.learner_id)
        .where(window.clause(Review.answered_at))
        .order_by(Review.answered_at, Review.id)
    )
    return columns, stmt


def _link_opens_csv(window: Window):
    columns = [
        ("link_open_id", LinkOpen.id), ("opened_at", LinkOpen.opened_at), ("delivery_id", LinkOpen.delivery_id),
        ("slack_user_id", Learner.slack_user_id), ("learner_name", Learner.name), ("pack_id", Delivery.pack_id),
        ("lesson_id", Delivery.lesson_id), ("link_index", LinkOpen.link_index), ("url", LinkOpen.url),
    ]
    stmt = (
        select(*(c for _, c in columns))
        .join(Delivery, Delivery.id == LinkOpen.delivery_id)
        .join(Learner, Learner.id == LinkOpen.learner_id)
        .where(window.clause(LinkOpen.opened_at))
        .order_by(LinkOpen.opened_at, LinkOpen.id)
    )
    return columns, stmt


_CSV = {
    "answers": _answers_csv,
    "deliveries": _deliveries_csv,
    "feedback": _feedback_csv,
    "certificates": _certificates_csv,
    "reviews": _reviews_csv,
    "link_opens": _link_opens_csv,
}


def csv_header(what: str) -> list[str]:
    columns, _ = _CSV[what](Window())
    return [name for name, _ in columns]


def csv_rows(engine: Engine, what: str, window: Window, *, batch: int = STREAM_BATCH) -> Iterator[tuple]:
    """One tuple per record, in the order of ``csv_header(what)``: raw values (datetimes, bools)."""
    if what not in _CSV:
        raise ValueError(f"cannot export {what!r}; one of {', '.join(CSV_KINDS)}")
    _, stmt = _CSV[what](window)
    for row in _stream(engine, stmt, batch):
        yield tuple(row)


# -- xAPI records ---------------------------------------------------------------------------------


def _learner(row) -> XLearner:
    return XLearner(row.slack_user_id, row.learner_name or "")


def _ref(row) -> LessonRef:
    return LessonRef(row.pack_id, row.lesson_id, row.pack_version, row.enrollment_id, row.delivered_at,
                     getattr(row, "shown_language", None))


_DELIVERY_COLUMNS = (
    Delivery.pack_id, Delivery.lesson_id, Delivery.pack_version, Delivery.enrollment_id,
    Delivery.sent_at.label("delivered_at"), Learner.slack_user_id, Learner.name.label("learner_name"),
    Delivery.language.label("shown_language"),
)


def _answers_stmt(where):
    return (
        select(Answer.id, Answer.question_id, Answer.prompt, Answer.choice, Answer.correct, Answer.answered_at,
               *_DELIVERY_COLUMNS)
        .join(Delivery, Delivery.id == Answer.delivery_id)
        .join(Learner, Learner.id == Answer.learner_id)
        .where(where)
        .order_by(Answer.id)
    )


def _answer(row) -> AnswerRecord:
    return AnswerRecord(row.id, _learner(row), _ref(row), row.question_id, row.prompt, row.choice, row.correct,
                        row.answered_at)


def _reviews_stmt(where):
    return (
        select(Review.id, Review.question_id, Review.prompt, Review.response, Review.correct, Review.answered_at,
               Review.session_id, Review.rating, Review.interval_days, ReviewSession.kind.label("session_kind"),
               Review.language.label("shown_language"),
               ReviewSession.sent_at.label("delivered_at"), ReviewCard.pack_id, ReviewCard.lesson_id,
               Learner.slack_user_id, Learner.name.label("learner_name"))
        .join(ReviewCard, ReviewCard.id == Review.card_id)
        .join(ReviewSession, ReviewSession.id == Review.session_id)
        .join(Learner, Learner.id == Review.learner_id)
        .where(where)
        .order_by(Review.id)
    )


def _review(row) -> ReviewRecord:
    ref = LessonRef(row.pack_id, row.lesson_id, None, None, row.delivered_at, row.shown_language)
    return ReviewRecord(row.id, _learner(row), ref, row.question_id, row.prompt, row.response, row.correct,
                        row.answered_at, row.session_id, row.session_kind, row.rating, row.interval_days)


def _moments(since: datetime | None = None, ids: Sequence[int] | None = None):
    """Everything a learner did with a delivered lesson: answered, rated, commented, opened a link, reflected."""
    window = Window(since=since)

    def only(delivery_id, at):
        return and_(window.clause(at), delivery_id.in_(ids) if ids is not None else true())

    return union_all(
        select(Answer.delivery_id.label("delivery_id"), Answer.answered_at.label("at"))
        .where(only(Answer.delivery_id, Answer.answered_at)),
        select(Feedback.delivery_id, Feedback.rated_at)
        .where(Feedback.rated_at.is_not(None), only(Feedback.delivery_id, Feedback.rated_at)),
        select(Feedback.delivery_id, Feedback.commented_at)
        .where(Feedback.commented_at.is_not(None), only(Feedback.delivery_id, Feedback.commented_at)),
        select(LinkOpen.delivery_id, LinkOpen.opened_at).where(only(LinkOpen.delivery_id, LinkOpen.opened_at)),
        select(Reflection.delivery_id, Reflection.created_at).where(only(Reflection.delivery_id, Reflection.created_at)),
    ).subquery()


def _lessons_stmt(window: Window, ids: Sequence[int] | None = None):
    """Engaged deliveries with their first engagement (in ``window``), or just ``ids``."""
    moments = _moments(ids=ids)
    engaged = (
        select(moments.c.delivery_id, func.min(moments.c.at).label("engaged_at"))
        .group_by(moments.c.delivery_id)
        .subquery()
    )
    return (
        select(Delivery.id, engaged.c.engaged_at, *_DELIVERY_COLUMNS)
        .join(engaged, engaged.c.delivery_id == Delivery.id)
        .join(Learner, Learner.id == Delivery.learner_id)
        .where(window.clause(engaged.c.engaged_at))
        .order_by(Delivery.id)
    )


def _lesson(row) -> LessonExperience:
    return LessonExperience(row.id, _learner(row), _ref(row), row.engaged_at)


def _link_opens_stmt(where):
    return (
        select(LinkOpen.id, LinkOpen.link_index, LinkOpen.url, LinkOpen.opened_at, *_DELIVERY_COLUMNS)
        .join(Delivery, Delivery.id == LinkOpen.delivery_id)
        .join(Learner, Learner.id == LinkOpen.learner_id)
        .where(where)
        .order_by(LinkOpen.id)
    )


def _link_open(row) -> LinkOpenRecord:
    return LinkOpenRecord(row.id, _learner(row), _ref(row), row.link_index, row.url, row.opened_at)


def _feedback_stmt(where):
    return (
        select(Feedback.id, Feedback.rating, Feedback.rated_at, Feedback.reason, Feedback.comment,
               Feedback.commented_at, *_DELIVERY_COLUMNS)
        .join(Delivery, Delivery.id == Feedback.delivery_id)
        .join(Learner, Learner.id == Feedback.learner_id)
        .where(where)
        .order_by(Feedback.id)
    )


def _rating(row) -> RatingRecord:
    return RatingRecord(row.id, _learner(row), _ref(row), row.rating, row.rated_at, row.reason)


def _comment(row) -> CommentRecord:
    return CommentRecord(row.id, _learner(row), _ref(row), row.comment, row.commented_at)


def _reflections_stmt(where):
    return (
        select(Reflection.id, Reflection.prompt, Reflection.text, Reflection.updated_at, *_DELIVERY_COLUMNS)
        .join(Delivery, Delivery.id == Reflection.delivery_id)
        .join(Learner, Learner.id == Reflection.learner_id)
        .where(where)
        .order_by(Reflection.id)
    )


def _reflection(row) -> ReflectionRecord:
    return ReflectionRecord(row.id, _learner(row), _ref(row), row.prompt, row.text, row.updated_at)


def _certificates_stmt(where):
    return (
        select(Certificate.id, Certificate.pack_id, Certificate.name, Certificate.score, Certificate.issued_at,
               Certificate.expires_at, Learner.slack_user_id, Learner.name.label("learner_name"))
        .join(Learner, Learner.id == Certificate.learner_id)
        .where(where)
        .order_by(Certificate.id)
    )


def _certificate(row) -> CertificateRecord:
    return CertificateRecord(row.id, _learner(row), row.pack_id, row.name, row.score, row.issued_at, row.expires_at)


def _progress_stmt(enrollments):
    """Every answer of the given enrollments (a subquery of ids), grouped by enrollment."""
    return (
        select(Enrollment.id.label("enrollment_id"), Enrollment.pack_id, Learner.slack_user_id,
               Learner.name.label("learner_name"), Delivery.lesson_id, Answer.question_id, Answer.correct,
               Answer.answered_at)
        .join(Learner, Learner.id == Enrollment.learner_id)
        .join(Delivery, Delivery.enrollment_id == Enrollment.id)
        .join(Answer, Answer.delivery_id == Delivery.id)
        .where(Enrollment.id.in_(enrollments))
        .order_by(Enrollment.id, Answer.id)
    )


def _group_progress(rows: Iterable) -> Iterator[PackProgress]:
    for enrollment_id, group in itertools.groupby(rows, key=lambda r: r.enrollment_id):
        group = list(group)
        first = group[0]
        yield PackProgress(
            enrollment_id, _learner(first), first.pack_id,
            tuple(QuestionResult(r.lesson_id, r.question_id, r.correct, r.answered_at) for r in group),
        )


def _enrollments_answered_in(window: Window):
    return (
        select(Delivery.enrollment_id)
        .join(Answer, Answer.delivery_id == Delivery.id)
        .where(window.clause(Answer.answered_at))
        .distinct()
    )


def xapi_records(engine: Engine, window: Window, *, batch: int = STREAM_BATCH) -> Iterator[Record]:
    """Every record in the window, kind by kind, streamed.

    Packs: every enrollment with an answer in the window, with all its answers (whether it
    completed, and when, is for ``learning.xapi`` to say with the pack in hand).
    """
    yield from map(_lesson, _stream(engine, _lessons_stmt(window), batch))
    yield from map(_link_open, _stream(engine, _link_opens_stmt(window.clause(LinkOpen.opened_at)), batch))
    yield from map(_answer, _stream(engine, _answers_stmt(window.clause(Answer.answered_at)), batch))
    yield from map(_review, _stream(engine, _reviews_stmt(window.clause(Review.answered_at)), batch))
    yield from map(_rating, _stream(engine, _feedback_stmt(
        and_(Feedback.rating.is_not(None), window.clause(Feedback.rated_at))), batch))
    yield from map(_comment, _stream(engine, _feedback_stmt(
        and_(Feedback.comment.is_not(None), window.clause(Feedback.commented_at))), batch))
    yield from map(_reflection, _stream(engine, _reflections_stmt(window.clause(Reflection.updated_at)), batch))
    yield from _group_progress(_stream(engine, _progress_stmt(_enrollments_answered_in(window)), batch))
    yield from map(_certificate, _stream(engine, _certificates_stmt(window.clause(Certificate.issued_at)), batch))


# -- the LRS forwarder's view of the outbox -------------------------------------------------------

XAPI_KIND = "xapi"


@dataclass(frozen=True)
class Candidate:
    """A record the forwarder may have to queue: its kind, id and learner."""

    kind: str
    id: int
    learner_id: int


def _key_expr(kind: str, id_column):
    return literal(f"{XAPI_KIND}:{kind}:", String) + cast(id_column, String)


def _not_queued(kind: str, id_column):
    return ~select(OutboxMessage.id).where(OutboxMessage.dedupe_key == _key_expr(kind, id_column)).exists()


def _pages(engine: Engine, make, page: int) -> Iterator:
    """Run ``make(after_id)`` page after page (each ordered by id) until a short page."""
    after = 0
    while True:
        with engine.connect() as conn:
            rows = conn.execute(make(after).limit(page)).all()
        yield from rows
        if len(rows) < page:
            return
        after = rows[-1][0]


def unqueued(engine: Engine, since: datetime | None, *, page: int = 1000) -> Iterator[Candidate]:
    """Records at or after ``since`` that have no ``xapi:<kind>:<id>`` outbox row yet.

    A NOT EXISTS on the outbox's unique dedupe key, paged by record id. Comments are not here
    (their key carries a hash of the text: see ``comments_since``), nor are packs (whether an
    enrollment has finished needs the pack: see ``enrollments_answered_since``).
    """
    window = Window(since=since)
    engaged_since = select(_moments(since=since).c.delivery_id)
    queries = {
        "answer": lambda after: select(Answer.id, Answer.learner_id).where(
            Answer.id > after, window.clause(Answer.answered_at), _not_queued("answer", Answer.id)
        ).order_by(Answer.id),
        "review": lambda after: select(Review.id, Review.learner_id).where(
            Review.id > after, window.clause(Review.answered_at), _not_queued("review", Review.id)
        ).order_by(Review.id),
        "link_open": lambda after: select(LinkOpen.id, LinkOpen.learner_id).where(
            LinkOpen.id > after, window.clause(LinkOpen.opened_at), _not_queued("link_open", LinkOpen.id)
        ).order_by(LinkOpen.id),
        "rating": lambda after: select(Feedback.id, Feedback.learner_id).where(
            Feedback.id > after, Feedback.rating.is_not(None), window.clause(Feedback.rated_at),
            _not_queued("rating", Feedback.id),
        ).order_by(Feedback.id),
        "certificate": lambda after: select(Certificate.id, Certificate.learner_id).where(
            Certificate.id > after, window.clause(Certificate.issued_at), _not_queued("certificate", Certificate.id)
        ).order_by(Certificate.id),
        # A delivery the learner did something with since ``since`` (whenever they first did).
        "lesson": lambda after: select(Delivery.id, Delivery.learner_id).where(
            Delivery.id > after, Delivery.id.in_(engaged_since), _not_queued("lesson", Delivery.id)
        ).order_by(Delivery.id),
    }
    for kind, make in queries.items():
        for row in _pages(engine, make, page):
            yield Candidate(kind, row[0], row[1])


def comments_since(engine: Engine, since: datetime | None) -> Iterator[tuple[CommentRecord, int]]:
    """Comments written at or after ``since``, with their learner id (few: learners write them by hand)."""
    stmt = _feedback_stmt(and_(Feedback.comment.is_not(None), Window(since=since).clause(Feedback.commented_at)))
    stmt = stmt.add_columns(Feedback.learner_id)
    for row in _stream(engine, stmt):
        yield _comment(row), row.learner_id


def reflections_since(engine: Engine, since: datetime | None) -> Iterator[tuple[ReflectionRecord, int]]:
    """Reflections written (or last edited) at or after ``since``, with their learner id. Like comments,
    their statement key carries a hash of the text, so the forwarder checks keys, not a NOT EXISTS."""
    stmt = _reflections_stmt(Window(since=since).clause(Reflection.updated_at)).add_columns(Reflection.learner_id)
    for row in _stream(engine, stmt):
        yield _reflection(row), row.learner_id


def enrollments_answered_since(engine: Engine, since: datetime | None, *, page: int = 500) -> Iterator[
        tuple[PackProgress, int]]:
    """Enrollments with an answer at or after ``since`` and no completion queued yet, with all their
    answers and their learner id: the ones that may have just finished their pack."""
    window = Window(since=since)

    def make(after: int):
        return (
            select(Enrollment.id, Enrollment.learner_id)
            .where(
                Enrollment.id > after,
                Enrollment.id.in_(_enrollments_answered_in(window)),
                _not_queued("completion", Enrollment.id),
            )
            .order_by(Enrollment.id)
        )

    chunk: list = []
    for row in _pages(engine, make, page):
        chunk.append(row)
        if len(chunk) >= page:
            yield from _progress_for(engine, chunk)
            chunk = []
    if chunk:
        yield from _progress_for(engine, chunk)


def _progress_for(engine: Engine, rows: Sequence) -> Iterator[tuple[PackProgress, int]]:
    learners = {r[0]: r[1] for r in rows}
    ids = select(Enrollment.id).where(Enrollment.id.in_(list(learners)))
    for progress in _group_progress(_stream(engine, _progress_stmt(ids))):
        yield progress, learners[progress.id]


def queued_keys(engine: Engine, keys: Sequence[str]) -> set[str]:
    """Which of these outbox dedupe keys exist already."""
    found: set[str] = set()
    with engine.connect() as conn:
        for start in range(0, len(keys), 500):
            chunk = list(keys[start : start + 500])
            found.update(conn.execute(select(OutboxMessage.dedupe_key).where(OutboxMessage.dedupe_key.in_(chunk)))
                         .scalars())
    return found


def records(engine: Engine, wanted: Iterable[tuple[str, int]]) -> dict[tuple[str, int], Record]:
    """Records by (kind, id), loaded in one query per kind, as they are now.

    ``completion`` and ``failure`` load the enrollment's ``PackProgress``. A record that no
    longer exists (its learner was deleted) is simply missing from the answer.
    """
    by_kind: dict[str, set[int]] = {}
    for kind, record_id in wanted:
        by_kind.setdefault(kind, set()).add(record_id)
    out: dict[tuple[str, int], Record] = {}
    for kind, ids in by_kind.items():
        id_list = sorted(ids)
        for start in range(0, len(id_list), 1000):
            chunk = id_list[start : start + 1000]
            for record in _load(engine, kind, chunk):
                out[(kind, record.id)] = record
    return out


def _load(engine: Engine, kind: str, ids: list[int]) -> Iterator[Record]:
    if kind == "answer":
        yield from map(_answer, _stream(engine, _answers_stmt(Answer.id.in_(ids))))
    elif kind == "review":
        yield from map(_review, _stream(engine, _reviews_stmt(Review.id.in_(ids))))
    elif kind == "lesson":
        yield from map(_lesson, _stream(engine, _lessons_stmt(Window(), ids)))
    elif kind == "link_open":
        yield from map(_link_open, _stream(engine, _link_opens_stmt(LinkOpen.id.in_(ids))))
    elif kind == "rating":
        stmt = _feedback_stmt(and_(Feedback.id.in_(ids), Feedback.rating.is_not(None)))
        yield from map(_rating, _stream(engine, stmt))
    elif kind == "comment":
        stmt = _feedback_stmt(and_(Feedback.id.in_(ids), Feedback.comment.is_not(None)))
        yield from map(_comment, _stream(engine, stmt))
    elif kind == "reflection":
        yield from map(_reflection, _stream(engine, _reflections_stmt(Reflection.id.in_(ids))))
    elif kind in ("completion", "failure"):
        yield from _group_progress(_stream(engine, _progress_stmt(select(Enrollment.id).where(Enrollment.id.in_(ids)))))
    elif kind == "certificate":
        yield from map(_certificate, _stream(engine, _certificates_stmt(Certificate.id.in_(ids))))
    else:
        raise ValueError(f"not an xAPI record kind: {kind!r}")


def release_stale(engine: Engine, *, alive_since: datetime, exclude: str) -> int:
    """Give back xAPI messages left "sending" by a forwarder not heard from since ``alive_since``.

    Sending them again is safe: a statement's id makes the LRS store it once.
    """
    alive = select(Worker.id).where(Worker.last_seen >= alive_since)
    with engine.begin() as conn:
        return conn.execute(
            update(OutboxMessage)
            .where(
                OutboxMessage.kind == XAPI_KIND,
                OutboxMessage.status == "sending",
                or_(OutboxMessage.claimed_by.is_(None),
                    and_(OutboxMessage.claimed_by != exclude, OutboxMessage.claimed_by.not_in(alive))),
            )
            .values(status="pending", claimed_by=None)
        ).rowcount
