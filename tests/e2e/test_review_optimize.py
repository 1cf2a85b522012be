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
from learning.fitting import DEFAULT_PARAMETERS, CardHistory, split
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


def test_a_pack_with_enough_reviews_of_its_own_gets_its_own_parameters(engine, database_url, capsys):
    """Two packs, 60 learners each: one whose questions are forgotten much faster than FSRS-6's defaults
    expect (DHP), one remembered as the defaults say. The workspace's fit is a compromise; the fast pack's
    own fit predicts its held-out learners better than the workspace's and is adopted for it alone."""
    fill(engine, recorded_answers("dhp", learners=60, questions=20, days=60, seed=5), first_id=1, pack="fast")
    fill(engine, recorded_answers("fsrs", learners=60, questions=20, days=60, seed=6, spread=0), first_id=61,
         pack="steady")
    before = cards(engine)

    assert optimize(database_url) == 0

    out = capsys.readouterr().out
    fast = re.search(r"pack fast: \d+ reviews from 60 learners; log loss fitted (\d\.\d+), FSRS-6 defaults "
                     r"(\d\.\d+)(?:, in use (\d\.\d+))?; adopted for this pack", out)
    assert fast, out
    own, default, replaced = (float(x) if x else None for x in fast.groups())
    assert own < default and (replaced is None or own < replaced)
    # The steady pack's own fit gains nothing on the defaults, and the workspace's compromise predicts it
    # worse than the defaults: the defaults are adopted for it, so it is not scheduled worse than before.
    steady = re.search(r"pack steady: .* FSRS-6 defaults (\d\.\d+), in use (\d\.\d+); FSRS-6's defaults predict it "
                       r"best: adopted for this pack", out)
    assert steady and float(steady.group(1)) < float(steady.group(2)), out
    rows = {row.pack_id: row for row in fits(engine)}
    assert set(rows) == {None, "fast", "steady"} and rows["fast"].adopted and rows["steady"].adopted
    sets = Store(engine).fsrs_parameter_sets()
    assert sets.packs["fast"] != sets.workspace and len(sets.packs["fast"]) == 21
    assert Store(engine).fsrs_parameters("fast") == sets.packs["fast"]
    assert Store(engine).fsrs_parameters("steady") == DEFAULT_PARAMETERS
    assert Store(engine).fsrs_parameters("another") == sets.workspace, "a pack without its own: the workspace's"

    # Each open card is rescheduled with the parameters its own pack now uses; retired ones stay.
    after = cards(engine)
    histories = {h.card_id: h for h in Store(engine).review_histories()}
    for card_id, card in before.items():
        if card.retired_at is not None:
            assert after[card_id] == card
            continue
        expected = sets.for_pack(card.pack_id)
        if expected is None:
            assert after[card_id] == card
        else:
            assert after[card_id].due == replay(histories[card_id].answers, parameters=expected).due
    assert sum(row.rescheduled for row in rows.values()) == sum(
        1 for c in before.values() if c.retired_at is None and sets.for_pack(c.pack_id) is not None)

    # The report lists each scope's fit beside the defaults'.
    from datetime import timedelta

    from bot.digest import organisation_report
    from content_packs.catalog import Catalog
    from db.reporting import Reporting

    end = max(c.last_review for c in after.values())
    report = organisation_report(Reporting(engine), Catalog({}), since=end - timedelta(days=90), until=end, now=end)
    table = report.split('id="fsrs-fits"')[1].split("</table>")[0]
    fast_row = table.split("<code>fast</code>")[1].split("</tr>")[0]
    assert f"<td>{own:.3f}</td><td>{default:.3f}</td>" in fast_row and "adopted;" in fast_row
    assert "<code>steady</code>" in table and "Workspace" in table

    # A running Sprout schedules an answer in the fast pack with the fast pack's parameters.
    from datetime import UTC, datetime

    from bot.service import LearningService

    service = LearningService(store=Store(engine), catalog=None, dispatcher=None, lookup_profile=lambda _u: None)
    now = datetime(2027, 6, 1, tzinfo=UTC)
    assert service.fsrs_parameters(now, "fast") == sets.packs["fast"]
    assert service.fsrs_parameters(now, "steady") == DEFAULT_PARAMETERS
    assert service.fsrs_parameters(now, "another") == service.fsrs_parameters(now) == sets.workspace

    # Run again on the same reviews: nothing predicts better than what is in use; nothing changes.
    assert optimize(database_url) == 0
    again = capsys.readouterr().out
    assert again.count("not adopted, the pack keeps its parameters") == 2 and "scheduling is unchanged" in again
    assert cards(engine) == after and Store(engine).fsrs_parameter_sets() == sets
