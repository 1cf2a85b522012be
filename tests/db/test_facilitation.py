"""Facilitation records on SQLite and PostgreSQL: announcements queued once, acknowledgements once, one
reminder, cancelling only what has not gone, audiences, prompt posts once a local day, replies once.

Until ``FacilitationRecords`` is among ``Store``'s bases, the fixture composes the two.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest
from sqlalchemy import func, select, update

from db.facilitation import NewCopy, copy_key, prompt_key
from db.models import (
    AnnouncementReceipt,
    AuditEntry,
    Cohort,
    CohortMember,
    Contribution,
    Learner,
    OutboxMessage,
    PromptPost,
)
from db.store import Store
from learning.roster import RosterRow

NOW = datetime(2026, 11, 30, 8, 0, tzinfo=UTC)


@pytest.fixture
def records(engine):
    return Store(engine)


def people(records, rows):
    """(slack id, name, team, time zone) as the roster gives them; returns slack id → learner id."""
    records.import_roster([RosterRow(i + 2, uid, name, None, "learner", None, team, tz, ())
                           for i, (uid, name, team, tz) in enumerate(rows)], NOW - timedelta(days=30))
    return {uid: records.learner(uid).id for uid, *_ in rows}


def count(records, model, *where):
    with records.engine.connect() as conn:
        return conn.execute(select(func.count()).select_from(model).where(*where)).scalar_one()


def send_all(records, ids=None):
    """What the dispatcher does for each copy: claim it, then record Slack's channel and ts."""
    items = records.claim_outbox(NOW + timedelta(days=3), worker="w", limit=10_000, claimed_at=NOW, ids=ids)
    records.mark_sent_many([(item, f"D{item.learner_id}" if item.learner_id else item.channel,
                             f"1700000000.{item.id:06d}") for item in items],
                           now=NOW)
    return items


def announce(records, author, *, copies=None, ask_ack=True, send_at=NOW, local=False, kind="everyone", value=None):
    return records.create_announcement(author_id=author, actor="U0FAC", text="Hello **team**", audience_kind=kind,
                                       audience_value=value, send_at=send_at, send_local=local, ask_ack=ask_ack,
                                       now=NOW, copies=copies)


@pytest.fixture
def team(records):
    return people(records, [("U0FAC", "Fay", None, "Europe/Berlin"), ("U0A", "Ann", "sales", "Europe/Berlin"),
                            ("U0B", "Bob", "sales", "America/New_York"), ("U0C", "Cy", "ops", "Asia/Tokyo"),
                            ("U0D", "Di", "sales", "UTC")])


def test_audiences_by_cohort_team_and_everyone_skip_inactive_people(records, team):
    with records.engine.begin() as conn:
        cohort = conn.execute(Cohort.__table__.insert().values(name="Spring 26", pack_id="p", start_on=date(2026, 12, 1),
                                                               join_mode="current", created_at=NOW)
                              .returning(Cohort.id)).scalar_one()
        conn.execute(CohortMember.__table__.insert(), [{"cohort_id": cohort, "learner_id": team[u], "added_at": NOW}
                                                       for u in ("U0A", "U0C", "U0D")])
        conn.execute(update(Learner).where(Learner.slack_user_id == "U0D").values(active=False))
    assert {r.slack_user_id for r in records.audience("cohort", "Spring 26")} == {"U0A", "U0C"}
    assert {r.slack_user_id for r in records.audience("team", "sales")} == {"U0A", "U0B"}
    assert len(records.audience("everyone", None)) == 4
    assert records.audience_size("team", "sales") == 2 and records.audience_size("team", "nobody") == 0
    assert records.cohort_names() == ["Spring 26"] and records.team_names() == ["ops", "sales"]
    known = records.people_by_slack_id(["U0A", "U0D", "U0NOBODY"])
    assert set(known) == {"U0A", "U0D"} and known["U0D"].active is False


def test_a_scheduled_announcement_is_queued_once_with_a_receipt_per_person(records, team):
    a = announce(records, team["U0FAC"], send_at=NOW + timedelta(hours=1))
    assert a.status == "scheduled" and a.author_name == "Fay"
    copies = [NewCopy(team[u], u, NOW + timedelta(hours=1)) for u in ("U0A", "U0B")]
    assert records.queue_announcement(a.id, copies, NOW)
    assert not records.queue_announcement(a.id, copies, NOW), "a second planner queues nothing"
    assert count(records, AnnouncementReceipt) == 2
    assert count(records, OutboxMessage, OutboxMessage.kind == "announcement") == 2
    assert records.announcement(a.id).status == "sent"
    assert count(records, AuditEntry, AuditEntry.action == "announcement") == 1


def test_due_announcements_wait_for_the_first_zone_to_reach_the_wall_time(records, team):
    wall = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)  # 09:00 in each person's zone
    local = announce(records, team["U0FAC"], send_at=wall, local=True)
    fixed = announce(records, team["U0FAC"], send_at=wall)
    assert records.due_announcements(wall - timedelta(hours=14, minutes=1)) == []
    assert [a.id for a in records.due_announcements(wall - timedelta(hours=14))] == [local.id]
    assert [a.id for a in records.due_announcements(wall)] == [local.id, fixed.id]


def test_ack_is_recorded_once_and_figures_name_who_has_not(records, team):
    learners = ("U0A", "U0B", "U0C")
    a = announce(records, team["U0FAC"], copies=[NewCopy(team[u], u, NOW) for u in learners])
    send_all(records)
    assert records.record_ack(a.id, team["U0A"], NOW)
    assert not records.record_ack(a.id, team["U0A"], NOW + timedelta(seconds=1)), "a double click counts once"
    figures = records.announcement_figures(a.id)
    assert (figures.recipients, figures.sent, figures.waiting, figures.acked, figures.not_acked) == (3, 3, 0, 1, 2)
    assert [name for name, _ in figures.not_acked_people] == ["Bob", "Cy"]
    state = records.copy_state(a.id, team["U0A"])
    assert state.acked_at == NOW and state.sent_ts and state.sent_channel == f"D{team['U0A']}"


def test_one_reminder_goes_to_received_unacknowledged_copies_in_their_thread(records, team):
    a = announce(records, team["U0FAC"], copies=[NewCopy(team[u], u, NOW) for u in ("U0A", "U0B")]
                 + [NewCopy(team["U0C"], "U0C", NOW + timedelta(days=30))])  # U0C: not sent yet
    send_all(records, ids=None)
    records.record_ack(a.id, team["U0A"], NOW)
    assert records.queue_reminders(a.id, actor="U0FAC", now=NOW) == 1
    assert records.queue_reminders(a.id, actor="U0FAC", now=NOW) is None, "a second reminder is refused"
    with records.engine.connect() as conn:
        reminder = conn.execute(select(OutboxMessage.__table__).where(OutboxMessage.kind == "announcement_reminder")).one()
    assert reminder.learner_id == team["U0B"] and reminder.channel == f"D{team['U0B']}"
    assert '"thread_ts":"1700000000.' in reminder.payload


def test_nobody_to_remind_writes_nothing(records, team):
    a = announce(records, team["U0FAC"], copies=[NewCopy(team["U0A"], "U0A", NOW)])
    send_all(records)
    records.record_ack(a.id, team["U0A"], NOW)
    assert records.queue_reminders(a.id, actor="U0FAC", now=NOW) == 0
    assert records.announcement(a.id).reminder_sent_at is None


def test_cancelling_stops_only_the_copies_that_have_not_gone(records, team):
    later = NOW + timedelta(hours=6)
    a = announce(records, team["U0FAC"], copies=[NewCopy(team["U0A"], "U0A", NOW), NewCopy(team["U0B"], "U0B", later)])
    sent = send_all(records, ids=None)
    assert len(sent) == 2  # claim_outbox at NOW+3d takes both; put the later one back
    with records.engine.begin() as conn:
        conn.execute(update(OutboxMessage).where(OutboxMessage.dedupe_key == copy_key(a.id, team["U0B"]))
                     .values(status="pending", sent_ts=None, sent_channel=None))
    result = records.cancel_announcement(a.id, actor="U0FAC", now=NOW)
    assert (result.cancelled, result.copies_cancelled, result.copies_sent) == (True, 1, 1)
    assert records.cancel_announcement(a.id, actor="U0FAC", now=NOW).cancelled is False
    with records.engine.connect() as conn:
        statuses = dict(conn.execute(select(OutboxMessage.learner_id, OutboxMessage.status)).all())
    assert statuses == {team["U0A"]: "sent", team["U0B"]: "cancelled"}
    assert records.announcement(a.id).status == "cancelled"


def test_an_announcement_that_has_gone_out_cannot_be_cancelled(records, team):
    a = announce(records, team["U0FAC"], copies=[NewCopy(team["U0A"], "U0A", NOW)])
    send_all(records)
    result = records.cancel_announcement(a.id, actor="U0FAC", now=NOW)
    assert (result.cancelled, result.copies_sent) == (False, 1)
    assert records.announcement(a.id).status == "sent"
    assert records.cancel_announcement(10_000, actor="U0FAC", now=NOW) is None


def test_a_prompt_posts_once_a_local_day_and_its_replies_count_once(records, team):
    prompt = records.create_prompt(channel_id="C0TALK", text="What did you try?", pack_id=None, weekday="mon",
                                   at_time="10:00", timezone="Europe/Berlin", created_by=team["U0FAC"],
                                   actor="U0FAC", now=NOW)
    day = date(2026, 11, 30)
    post = records.queue_prompt_post(prompt_id=prompt.id, local_date=day, text="What did you try?",
                                     channel_id="C0TALK", not_before=NOW, now=NOW)
    assert post is not None
    assert records.queue_prompt_post(prompt_id=prompt.id, local_date=day, text="again", channel_id="C0TALK",
                                     not_before=NOW, now=NOW) is None
    assert records.prompt_history([prompt.id]) == {prompt.id: (1, day)}
    assert records.prompt_post_by_ts("C0TALK", "1700000000.000001") is None
    send_all(records)
    assert records.settle_prompt_posts() == 1 and records.settle_prompt_posts() == 0
    with records.engine.connect() as conn:
        ts = conn.execute(select(OutboxMessage.sent_ts).where(OutboxMessage.dedupe_key == prompt_key(prompt.id, day))
                          ).scalar_one()
        assert conn.execute(select(PromptPost.message_ts)).scalar_one() == ts
    found = records.prompt_post_by_ts("C0TALK", ts)
    assert found.id == post and found.prompt_status == "active"

    reply = dict(post_id=post, learner_id=team["U0A"], slack_user_id="U0A", message_ts="1700000100.000001")
    assert records.record_contribution(**reply, now=NOW)
    assert not records.record_contribution(**reply, now=NOW), "the same message is counted once"
    records.record_contribution(post_id=post, learner_id=team["U0A"], slack_user_id="U0A",
                                message_ts="1700000200.000001", now=NOW + timedelta(days=1))
    records.record_contribution(post_id=post, learner_id=team["U0B"], slack_user_id="U0B",
                                message_ts="1700000300.000001", now=NOW)
    assert count(records, Contribution) == 3
    assert records.contributions(NOW, NOW + timedelta(days=7)) == {team["U0A"]: 2, team["U0B"]: 1}
    assert records.contributions(NOW, NOW + timedelta(hours=1)) == {team["U0A"]: 1, team["U0B"]: 1}
    assert records.contributions(NOW, NOW + timedelta(days=7), [team["U0B"], team["U0C"]]) == {team["U0B"]: 1}
    assert records.prompt_reply_counts([prompt.id]) == {prompt.id: 3}

    assert records.stop_prompt(prompt.id, actor="U0FAC", now=NOW)
    assert not records.stop_prompt(prompt.id, actor="U0FAC", now=NOW)
    assert records.active_prompts() == []
    assert count(records, AuditEntry, AuditEntry.action.in_(("prompt", "prompt_stop"))) == 2


def test_stopping_a_prompt_cancels_its_post_still_waiting(records, team):
    prompt = records.create_prompt(channel_id="C0TALK", text="Hi", pack_id=None, weekday="mon", at_time="10:00",
                                   timezone="UTC", created_by=None, actor="U0FAC", now=NOW)
    records.queue_prompt_post(prompt_id=prompt.id, local_date=date(2026, 11, 30), text="Hi", channel_id="C0TALK",
                              not_before=NOW + timedelta(hours=1), now=NOW)
    records.stop_prompt(prompt.id, actor="U0FAC", now=NOW)
    with records.engine.connect() as conn:
        assert conn.execute(select(OutboxMessage.status)).scalar_one() == "cancelled"
