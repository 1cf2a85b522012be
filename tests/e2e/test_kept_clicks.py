"""An acknowledged click is a kept record: committed before Slack hears back, whole or not at all, and its
message drawn even when Slack refused the first drawing."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import event, func, select
from sqlalchemy.exc import OperationalError

from db.models import Answer, PendingRedraw, ReviewCard
from tests.e2e.conftest import BERLIN
from tests.e2e.test_walking_skeleton import correct_choice, enroll, fresh, lesson_for

MONDAY_0830_UTC = datetime(2026, 11, 30, 8, 30, tzinfo=UTC)  # 09:30 in Berlin


def count(world, model, *where) -> int:
    with world.sprout.engine.connect() as conn:
        return conn.execute(select(func.count()).select_from(model).where(*where)).scalar_one()


def delivered(world, clock):
    enroll(world, BERLIN)
    clock.set(MONDAY_0830_UTC)
    assert world.sprout.tick().sent == 1
    return lesson_for(world, BERLIN)


def failing(world, statement_start: str, error: Exception):
    """Make the database refuse statements starting with ``statement_start`` (as a server would)."""
    state = {"on": True}

    def refuse(conn, cursor, statement, parameters, context, executemany):
        if state["on"] and statement.lstrip().upper().startswith(statement_start):
            raise error

    event.listen(world.sprout.engine, "before_cursor_execute", refuse)

    def stop():
        state["on"] = False
        event.remove(world.sprout.engine, "before_cursor_execute", refuse)

    return stop


def test_the_answer_is_recorded_when_slack_hears_back(world, clock):
    lesson = delivered(world, clock)
    qid, right = correct_choice(world, lesson)
    response = world.driver.click(BERLIN.user_id, lesson, action_id=f"answer:{right}")
    assert response.status == 200
    # No waiting: the ack came after the commit.
    assert count(world, Answer) == 1 and count(world, ReviewCard) == 1
    world.emulator.wait_for(lambda: f"result:{qid}" in [b.get("block_id") for b in fresh(world, lesson)["blocks"]])
    world.emulator.wait_for(lambda: count(world, PendingRedraw) == 0)  # drawn, so nothing is left to redraw


def test_an_answer_and_its_review_card_are_kept_together_or_not_at_all(world, clock):
    lesson = delivered(world, clock)
    qid, right = correct_choice(world, lesson)
    stop = failing(world, "INSERT INTO REVIEW_CARDS", RuntimeError("disk full"))
    try:
        assert world.driver.click(BERLIN.user_id, lesson, action_id=f"answer:{right}").status == 200
    finally:
        stop()
    sorry = world.emulator.wait_for(lambda: [e for e in world.emulator.ephemerals(BERLIN.user_id)
                                             if "something went wrong" in e.get("text", "")])
    assert sorry
    assert count(world, Answer) == 0 and count(world, ReviewCard) == 0, "no answer without its card"
    # Trying again works, once.
    world.driver.click(BERLIN.user_id, lesson, action_id=f"answer:{right}")
    assert count(world, Answer) == 1 and count(world, ReviewCard) == 1


def test_a_click_while_the_database_is_unavailable_is_told_to_try_again(world, clock):
    lesson = delivered(world, clock)
    _qid, right = correct_choice(world, lesson)
    stop = failing(world, "INSERT INTO ANSWERS",
                   OperationalError("INSERT INTO answers", {}, Exception("server closed the connection")))
    try:
        assert world.driver.click(BERLIN.user_id, lesson, action_id=f"answer:{right}").status == 200
    finally:
        stop()
    told = world.emulator.wait_for(lambda: [e["text"] for e in world.emulator.ephemerals(BERLIN.user_id)
                                            if "catching up" in e.get("text", "")])
    assert told == ["Sprout is catching up — please try again in a minute."]
    assert count(world, Answer) == 0


def gave_up_drawing(caplog, n: int) -> bool:
    return len([r for r in caplog.records if "the redraw job will" in r.getMessage()]) >= n


def test_a_message_slack_would_not_update_is_drawn_by_the_redraw_job(world, clock, caplog):
    lesson = delivered(world, clock)
    qid, right = correct_choice(world, lesson)
    world.emulator.set_failure_rate(1.0, methods=["chat.update"])  # Slack answers 500, retries included
    world.driver.click(BERLIN.user_id, lesson, action_id=f"answer:{right}")
    world.emulator.wait_for(lambda: gave_up_drawing(caplog, 1))
    assert count(world, Answer) == 1
    assert f"result:{qid}" not in [b.get("block_id") for b in fresh(world, lesson)["blocks"]]
    assert count(world, PendingRedraw) == 1

    redrawer = world.sprout.redrawer
    later = world.sprout.clock() + redrawer.lease * 2
    assert redrawer.run(world.sprout.clock()).drawn == 0, "a mark younger than the lease is the listener's"
    assert redrawer.run(later).failed == 1, "still refused: the mark stays"
    world.emulator.set_failure_rate(0)
    result = redrawer.run(later)
    assert (result.drawn, result.failed) == (1, 0)
    assert f"result:{qid}" in [b.get("block_id") for b in fresh(world, lesson)["blocks"]]
    assert count(world, PendingRedraw) == 0
    assert redrawer.run(later).drawn == 0, "drawn once"
