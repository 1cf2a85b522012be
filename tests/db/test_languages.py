"""Languages in the records and in search, on SQLite and PostgreSQL: each lesson's language is recorded with
it and exported (CSV, xAPI), and search stems each language's text with that language's stemmer."""

from __future__ import annotations

from datetime import timedelta

from content_packs.catalog import Catalog
from content_packs.loader import BUNDLED_DIR
from db.exports import Window, csv_header, csv_rows, xapi_records
from db.store import NewDelivery
from learning.xapi import StatementBuilder, XapiSettings, export_statements
from tests.fixtures_lrs.records import PACK, PACKS, T0, add_learner


def hits(store, words, language=None):
    return [(h.pack_id, h.lesson_id, h.language) for h in store.search_lessons(words, limit=10, language=language)]


def test_a_german_word_finds_a_german_lesson_through_its_stem(store):
    catalog, _ = Catalog.from_directory(BUNDLED_DIR)
    store.sync_lesson_index(catalog.search_rows())
    # "Passwörter" and the title's "Passwort-Manager" share the German stem "passwort".
    assert ("sicher-im-homeoffice", "passwoerter", "de") in hits(store, "Passwörter")
    assert ("sicher-im-homeoffice", "passwoerter", "de") in hits(store, "passwort")
    # The German translation of onboarding: "Kanälen" (the lesson says "Kanälen", "Kanal", "Kanäle").
    assert ("onboarding-essentials", "slack-well", "de") in hits(store, "Kanäle")
    # English, stemmed as English: "passwords" finds the lesson on "passwords and passphrases".
    assert ("security-basics", "passphrases", "en") in hits(store, "passwords")
    # The German pack's English translation is indexed too, in English.
    assert ("sicher-im-homeoffice", "router-und-wlan", "en") in hits(store, "routers", language="en")


def test_a_lesson_found_in_several_languages_is_one_hit_in_the_readers_language(store):
    catalog, _ = Catalog.from_directory(BUNDLED_DIR)
    store.sync_lesson_index(catalog.search_rows())
    found = hits(store, "phishing", language="de")
    ours = [h for h in found if h[0] == "sicher-im-homeoffice" and h[1] == "phishing"]
    assert ours == [("sicher-im-homeoffice", "phishing", "de")]
    found = hits(store, "phishing", language="en")
    assert [h for h in found if h[:2] == ("sicher-im-homeoffice", "phishing")] == [
        ("sicher-im-homeoffice", "phishing", "en")]


def test_an_untranslated_lesson_is_indexed_once_in_its_own_language(store):
    catalog, _ = Catalog.from_directory(BUNDLED_DIR)
    rows = catalog.search_rows()
    languages = sorted(r[6] for r in rows if r[:2] == ("security-basics", "spot-phishing"))
    assert languages == ["en"]  # security-basics has no translation
    languages = sorted(r[6] for r in rows if r[:2] == ("onboarding-essentials", "first-week"))
    assert languages == ["de", "en"]


def test_the_language_shown_is_recorded_and_exported(store, engine):
    now = T0
    learner = add_learner(store, "U0JONAS", "Jonas", now)
    enrollment, _ = store.enroll(learner, PACK.id, now)
    outbox = store.queue_deliveries([NewDelivery(
        enrollment_id=enrollment.id, learner_id=learner, channel="U", pack_id=PACK.id, lesson_id="spot-phishing",
        pack_version=PACK.version, kind="on_demand", local_date=now.date(), due_at=now, language="de",
    )], now)
    items = store.claim_outbox(now, worker="test", limit=10, claimed_at=now, ids=outbox)
    store.mark_sent_many([(item, "D1", "1.000001") for item in items], now=now)
    delivery = store.delivery_id_for(enrollment.id, "spot-phishing")
    assert store.delivery_state(delivery).language == "de"
    assert store.record_answer(delivery_id=delivery, learner_id=learner, question_id="q1", prompt="What do you do?",
                               choice="Report it", correct=True, now=now + timedelta(minutes=2), language="de")

    def export(what):
        header = csv_header(what)
        return [dict(zip(header, row, strict=True)) for row in csv_rows(engine, what, Window())]

    assert [r["language"] for r in export("deliveries")] == ["de"]
    answer = export("answers")[0]
    assert (answer["language"], answer["response"], answer["prompt"]) == ("de", "Report it", "What do you do?")

    builder = StatementBuilder(XapiSettings(homepage="https://acme.slack.com"), PACKS.get)
    statements = list(export_statements(xapi_records(engine, Window()), builder))
    answered = next(s for s in statements if s["verb"]["display"]["en"] == "answered")
    assert answered["context"]["language"] == "de"  # what the learner read
    assert answered["object"]["definition"]["name"] == {"en": "What do you do?"}  # the pack's own text, tagged so
    assert all(s["context"].get("language") == "de" for s in statements if "context" in s
               and s["verb"]["display"]["en"] in ("answered", "experienced"))
