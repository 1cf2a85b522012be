"""What the team remembers: expected recall per pack, and the questions it is about to forget."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from learning.recall import OpenCard, team_recall
from learning.review import AGAIN, GOOD, first_answer, retrievability

START = datetime(2027, 1, 4, 9, 30, tzinfo=UTC)


def test_questions_under_the_desired_retention_are_listed_lowest_first_and_the_pack_mean_counts_every_card():
    learned = {  # question: days ago it was last answered, and how
        "fresh": (0, GOOD), "week": (7, GOOD), "month": (30, GOOD), "missed": (3, AGAIN)}
    now = START + timedelta(days=40)
    cards = [OpenCard(learner, "pack", "lesson", q, first_answer(rating, now - timedelta(days=ago)))
             for learner in (1, 2) for q, (ago, rating) in learned.items()]
    cards.append(OpenCard(3, "other", "lesson", "fresh", first_answer(GOOD, now)))

    other, mine = team_recall(cards, now, retention=0.9, worst=2)  # by pack id

    expected = {q: retrievability(first_answer(r, now - timedelta(days=ago)), now) for q, (ago, r) in learned.items()}
    assert mine.pack_id == "pack" and mine.cards == 8 and mine.learners == 2
    assert abs(mine.recall - sum(expected.values()) / 4) < 1e-9
    under = sorted((q for q, r in expected.items() if r < 0.9), key=expected.get)
    assert len(under) >= 3 and "fresh" not in under
    assert [q.question_id for q in mine.forgetting] == under[:2]
    assert all(q.below == 2 and q.learners == 2 for q in mine.forgetting)
    assert other.pack_id == "other" and other.recall == 1.0 and other.forgetting == ()
