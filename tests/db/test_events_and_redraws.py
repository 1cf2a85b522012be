"""Event ids and redraw marks: the small records that make Slack's retries and refused updates harmless."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

NOW = datetime(2026, 12, 6, 9, 0, tzinfo=UTC)


def test_an_event_id_is_recorded_once_and_forgotten_after_a_few_days(store):
    assert store.mark_event_processed("Ev1", NOW - timedelta(days=4))
    assert store.mark_event_processed("Ev2", NOW)
    assert not store.mark_event_processed("Ev2", NOW), "Slack's retry of the same event"
    assert store.event_handled("Ev1") and store.event_handled("Ev2") and not store.event_handled("Ev3")
    assert store.forget_processed_events(NOW - timedelta(days=3)) == 1
    assert not store.event_handled("Ev1") and store.event_handled("Ev2")


def test_an_event_id_inside_a_failed_unit_of_work_is_not_kept(store):
    with pytest.raises(RuntimeError), store.unit_of_work():
        assert store.mark_event_processed("Ev9", NOW)
        raise RuntimeError("the listener failed")
    assert not store.event_handled("Ev9"), "so Slack's retry does the work"


def test_after_commit_waits_for_the_commit_and_is_dropped_with_a_rollback(store):
    ran: list[str] = []
    with store.unit_of_work():
        store.after_commit(lambda: ran.append("kept"))
        assert ran == []
    assert ran == ["kept"]
    with pytest.raises(RuntimeError), store.unit_of_work():
        store.after_commit(lambda: ran.append("lost"))
        raise RuntimeError
    assert ran == ["kept"]
    store.after_commit(lambda: ran.append("now"))  # outside a unit of work: at once
    assert ran == ["kept", "now"]


def test_a_redraw_mark_is_cleared_only_by_a_drawing_at_least_as_new(store):
    store.mark_redraw("lesson", 7, NOW)
    store.mark_redraw("lesson", 7, NOW + timedelta(seconds=5))  # a second click before the first drawing
    store.redrawn("lesson", 7, since=NOW)  # the first drawing: older than the second record
    assert [(k, r) for k, r, _, _ in store.redraws_due(marked_before=NOW + timedelta(minutes=1), limit=10)] == [
        ("lesson", 7)]
    store.redrawn("lesson", 7, since=NOW + timedelta(seconds=5))
    assert store.redraws_due(marked_before=NOW + timedelta(minutes=1), limit=10) == []


def test_a_redraw_that_keeps_failing_is_given_up(store):
    store.mark_redraw("review", 3, NOW)
    assert not store.redraw_failed("review", 3, give_up_after=2)
    assert store.redraw_failed("review", 3, give_up_after=2)
    assert store.redraws_due(marked_before=NOW + timedelta(minutes=1), limit=10) == []
