"""`sprout review optimize` on a workspace filled by the memory simulation: it fits FSRS parameters,
adopts them and reschedules the open cards only when they predict held-out learners' reviews better than
the defaults, and leaves everything as it was when there are too few reviews or the fit is worse."""

from __future__ import annotations

import re
import sys

from sqlalchemy import select

import app
from db.models import FsrsFit, ReviewCard
from db.store import Store
from learning.fitting import CardHistory, split
from learning.review import replay
from learning.simulation import recorded_answers
from tests.simulated_workspace import fill


def optimize(database_url, *flags):
    return app.main(["review", "optimize", *flags], environ={"DATABASE_URL": database_url})


def cards(engine):
    with engine.connect() as conn:
        return {r.id: r for r in conn.execute(select(ReviewCard.__table__))}


def fits(engine):
    with engine.connect() as conn:
        return list(conn.execute(select(FsrsFit.__table__)))


def test_too_few_learners_keep_the_defaults_and_nothing_is_written(engine, database_url, capsys):
    fill(engine, recorded_answers("dhp", learners=20, questions=20, days=60, seed=1))
    before = cards(engine)

    assert optimize(database_url) == 0

    out = capsys.readouterr().out
    assert re.search(r"not fitted: \d+ reviews from 20 learners: fitting needs at least 1000 reviews from 50", out)
    assert fits(engine) == [] and cards(engine) == before
    assert Store(engine).fsrs_parameters() is None


def test_fitted_parameters_that_predict_better_are_adopted_and_open_cards_rescheduled(engine, database_url, capsys):
    # DHP learners forget much faster than FSRS-6's defaults expect.
    reviews = fill(engine, recorded_answers("dhp", learners=60, questions=20, days=60, seed=5))
    before = cards(engine)

    assert optimize(database_url, "--dry-run") == 0
    dry = capsys.readouterr().out
    assert "dry run: better, would be adopted" in dry
    assert fits(engine) == [] and cards(engine) == before

    assert optimize(database_url) == 0

    out = capsys.readouterr().out
    assert f"{reviews} reviews from 60 learners" in out
    fitted, default = map(float, re.search(r"fitted (\d\.\d+), FSRS-6 defaults (\d\.\d+)", out).groups())
    assert fitted < default
    [row] = fits(engine)
    assert row.adopted and abs(row.log_loss - fitted) <= 5e-5 and abs(row.default_log_loss - default) <= 5e-5
    parameters = Store(engine).fsrs_parameters()
    assert parameters is not None and len(parameters) == 21
    printed = [float(p) for p in out.split("fitted parameters: ")[1].splitlines()[0].split(", ")]
    assert printed == [round(p, 4) for p in parameters]

    after = cards(engine)
    histories = {h.card_id: h for h in Store(engine).review_histories()}
    open_ids = [i for i, c in before.items() if c.retired_at is None]
    assert row.rescheduled == len(open_ids) and f"{len(open_ids)} open cards rescheduled" in out
    for card_id in open_ids:
        assert after[card_id].due == replay(histories[card_id].answers, parameters=parameters).due
    # Memories that fade fast come back sooner: the typical open card's interval shrinks.
    ratios = sorted((after[i].due - after[i].last_review) / (before[i].due - before[i].last_review)
                    for i in open_ids)
    assert ratios[len(ratios) // 2] < 0.9
    for card_id, card in before.items():
        if card.retired_at is not None:
            assert after[card_id] == card

    # Fitted again on the same reviews: no better than the parameters now in use, so they stay.
    assert optimize(database_url) == 0
    again = capsys.readouterr().out
    in_use = float(re.search(r"in use (\d\.\d+)", again).group(1))
    assert abs(in_use - fitted) <= 1e-4
    assert "not adopted: the fitted parameters predict no better than the defaults or the parameters in use" in again
    assert [f.adopted for f in fits(engine)] == [True, False]
    assert Store(engine).fsrs_parameters() == parameters and cards(engine) == after


def test_fitted_parameters_that_predict_worse_are_recorded_but_not_adopted(engine, database_url, capsys):
    """The learners the fit is judged on remember as the defaults say; the others, who train it, forget fast
    (DHP): the fitted parameters predict the held-out learners worse, so scheduling keeps the defaults."""
    learner_ids = list(range(1, 61))
    _train, test = split([CardHistory(i, i, ()) for i in learner_ids])
    held_out = {h.learner_id for h in test}
    fast = recorded_answers("dhp", learners=60, questions=20, days=60, seed=4)
    as_defaults = recorded_answers("fsrs", learners=60, questions=20, days=60, seed=4, spread=0)
    fill(engine, [as_defaults[i - 1] if i in held_out else fast[i - 1] for i in learner_ids])
    before = cards(engine)

    assert optimize(database_url) == 0

    out = capsys.readouterr().out
    fitted, default = map(float, re.search(r"fitted (\d\.\d+), FSRS-6 defaults (\d\.\d+)", out).groups())
    assert fitted > default
    assert "not adopted: the fitted parameters predict no better than the defaults" in out
    [row] = fits(engine)
    assert not row.adopted and row.rescheduled == 0
    assert Store(engine).fsrs_parameters() is None
    assert cards(engine) == before


def test_without_the_optimizer_installed_the_command_says_what_to_install(engine, database_url, capsys, monkeypatch):
    fill(engine, recorded_answers("dhp", learners=60, questions=20, days=60, seed=5))
    monkeypatch.setitem(sys.modules, "fsrs_rs_python", None)  # import fails as when it is not installed

    assert optimize(database_url) == 1

    err = capsys.readouterr().err
    assert "needs fsrs-rs-python" in err and "pip install 'fsrs-rs-python" in err
    assert fits(engine) == []


def test_a_running_sprout_schedules_with_newly_adopted_parameters_within_a_minute(engine):
    """Answers read the adopted parameters at most once a minute (not once a click): a fit adopted while
    Sprout runs is used from the next minute on."""
    from datetime import UTC, datetime, timedelta

    from bot.service import LearningService
    from learning.fitting import Fit

    store = Store(engine)
    service = LearningService(store=store, catalog=None, dispatcher=None, lookup_profile=lambda _user: None)
    now = datetime(2026, 12, 7, 9, tzinfo=UTC)
    assert service.fsrs_parameters(now) is None
    fitted = tuple(round(0.1 * i + 0.2, 3) for i in range(21))
    store.record_fit(Fit(fitted, 0.30, 0.35, 1200, 60, 240), adopted=True, rescheduled={}, now=now)
    assert service.fsrs_parameters(now + timedelta(seconds=30)) is None  # read once a minute
    assert service.fsrs_parameters(now + timedelta(seconds=61)) == fitted
    assert service.fsrs_parameters(now - timedelta(hours=1)) == fitted  # a clock set back reads again
