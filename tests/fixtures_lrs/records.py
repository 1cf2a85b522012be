"""A pack with every kind of question, and records made through the real Store (or, for tables the
Store cannot write yet — link opens, reviews, certificates — inserted with the models)."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from sqlalchemy import insert

from content_packs.schema import Pack
from db.models import Certificate, LinkOpen, Review, ReviewCard, ReviewSession
from db.store import NewDelivery, Store
from learning.roster import RosterRow

T0 = datetime(2026, 3, 2, 9, 30, tzinfo=UTC)

PACK = Pack.model_validate({
    "id": "security-basics",
    "title": "Security Basics",
    "description": "Staying safe at work.",
    "version": 3,
    "schedule": {"days": ["mon"], "time": "09:30"},
    "certificate": {"name": "Security Basics", "pass_score": 0.75},
    "lessons": [
        {
            "id": "spot-phishing", "title": "Spot a phishing email", "minutes": 2, "body": "…",
            "links": [{"kind": "article", "title": "CISA: Phishing", "url": "https://www.cisa.gov/phishing"}],
            "quiz": [
                {"id": "q1", "prompt": "What do you do?", "choices": ["Report it", "Click it", "Reply"],
                 "answer": "Report it", "explain": "."},
                {"id": "q2", "prompt": "Which are signs?", "choices": ["Urgency", "Typos", "A look-alike domain"],
                 "answers": ["Urgency", "A look-alike domain"], "explain": "."},
            ],
        },
        {
            "id": "passphrases", "title": "Passphrases", "minutes": 2, "body": "…",
            "quiz": [
                {"id": "q1", "prompt": "Length beats complexity.", "answer": True, "explain": "."},
                {"id": "q2", "prompt": "Name the tool that stores passwords.", "accept": ["password manager", "vault"],
                 "explain": "."},
            ],
        },
    ],
})
PACKS = {PACK.id: PACK}


def add_learner(store: Store, slack_user_id: str, name: str, now: datetime) -> int:
    row = RosterRow(line=1, slack_user_id=slack_user_id, name=name, email=None, role="learner",
                    manager_slack_user_id=None, team=None, timezone="Europe/Berlin", packs=())
    store.import_roster([row], now)
    return store.learner(slack_user_id).id


def deliver(store: Store, learner_id: int, enrollment_id: int, lesson_id: str, now: datetime) -> int:
    """Queue the lesson and mark it sent, as the dispatcher would; returns the delivery id."""
    outbox = store.queue_deliveries([NewDelivery(
        enrollment_id=enrollment_id, learner_id=learner_id, channel="U", pack_id=PACK.id, lesson_id=lesson_id,
        pack_version=PACK.version, kind="on_demand", local_date=now.date(), due_at=now,
    )], now)
    items = store.claim_outbox(now, worker="test", limit=10, claimed_at=now, ids=outbox)
    store.mark_sent_many([(item, f"D{learner_id}", f"{now.timestamp():.6f}") for item in items], now=now)
    return store.delivery_id_for(enrollment_id, lesson_id)


@dataclass
class Seeded:
    dana: int = 0
    bo: int = 0
    enrollment: int = 0
    deliveries: list[int] = field(default_factory=list)


# What ``seed`` makes, by statement kind: Bo's untouched lesson makes none.
SEEDED_KINDS = {"lesson": 2, "link_open": 1, "answer": 4, "review": 1, "rating": 1, "comment": 1, "completion": 1,
                "certificate": 1}


def seed(store: Store, t0: datetime = T0, *, dana: str = "U0DANA", bo: str = "U0BO") -> Seeded:
    """Dana finishes the pack (3 of 4 right: exactly the pass mark), rates, comments, opens a link,
    reviews and gets her certificate; Bo receives a lesson and does nothing with it."""
    s = Seeded()
    s.dana = add_learner(store, dana, "Dana Šimić", t0)
    s.bo = add_learner(store, bo, "=Bo (formula in a name)", t0)
    enrollment, _ = store.enroll(s.dana, PACK.id, t0)
    bo_enrollment, _ = store.enroll(s.bo, PACK.id, t0)
    s.enrollment = enrollment.id
    first = deliver(store, s.dana, enrollment.id, "spot-phishing", t0)
    second = deliver(store, s.dana, enrollment.id, "passphrases", t0 + timedelta(days=1))
    deliver(store, s.bo, bo_enrollment.id, "spot-phishing", t0)
    s.deliveries = [first, second]

    def answer(delivery: int, question: str, prompt: str, choice: str, correct: bool, at: datetime) -> None:
        assert store.record_answer(delivery_id=delivery, learner_id=s.dana, question_id=question, prompt=prompt,
                                   choice=choice, correct=correct, now=at)

    answer(first, "q1", "What do you do?", "Report it", True, t0 + timedelta(minutes=3))
    answer(first, "q2", "Which are signs?", "Urgency; A look-alike domain", True, t0 + timedelta(minutes=4))
    assert store.record_rating(delivery_id=first, learner_id=s.dana, rating=4, now=t0 + timedelta(minutes=5))
    assert store.record_comment(delivery_id=first, learner_id=s.dana, comment='=HYPERLINK("https://evil.example")',
                                now=t0 + timedelta(minutes=6))
    answer(second, "q1", "Length beats complexity.", "False", False, t0 + timedelta(days=1, minutes=2))
    answer(second, "q2", "Name the tool that stores passwords.", "Password Manager", True,
           t0 + timedelta(days=1, minutes=3))
    with store.engine.begin() as conn:
        conn.execute(insert(LinkOpen).values(delivery_id=first, learner_id=s.dana, link_index=0,
                                             url="https://www.cisa.gov/phishing", opened_at=t0 + timedelta(minutes=2)))
        card = conn.execute(insert(ReviewCard).values(
            learner_id=s.dana, pack_id=PACK.id, lesson_id="passphrases", question_id="q1", fsrs="{}",
            due=t0 + timedelta(days=3), reviews=1, lapses=0, long_right=0, created_at=t0 + timedelta(days=1),
        ).returning(ReviewCard.id)).scalar_one()
        session = conn.execute(insert(ReviewSession).values(
            learner_id=s.dana, kind="review", local_date=(t0 + timedelta(days=3)).date(), card_ids=json.dumps([card]),
            due_at=t0 + timedelta(days=3), sent_at=t0 + timedelta(days=3), created_at=t0 + timedelta(days=3),
        ).returning(ReviewSession.id)).scalar_one()
        conn.execute(insert(Review).values(
            session_id=session, card_id=card, learner_id=s.dana, question_id="q1", prompt="Length beats complexity.",
            response="True", correct=True, rating=3, interval_days=4.5, answered_at=t0 + timedelta(days=3, minutes=1),
        ))
        conn.execute(insert(Certificate).values(
            learner_id=s.dana, pack_id=PACK.id, name="Security Basics", score=0.75,
            issued_at=t0 + timedelta(days=1, minutes=3), expires_at=t0 + timedelta(days=366), status="active",
        ))
    return s
