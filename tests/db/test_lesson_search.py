"""Lesson search on SQLite (FTS5) and PostgreSQL (tsvector): a title that names the words comes first,
then the body, then the questions — however long or repetitive the other lessons are."""

from __future__ import annotations

from content_packs.catalog import Catalog
from content_packs.loader import BUNDLED_DIR

FILLER = [("p", f"filler{i}", 1, f"Filler {i}", "unrelated text about locks and keys", "a question") for i in range(30)]


def ids(store, words):
    return [hit.lesson_id for hit in store.search_lessons(words, limit=10)]


def test_a_title_match_ranks_above_a_body_full_of_the_word(store):
    store.sync_lesson_index([
        ("p", "in-questions", 1, "Other", "nothing here", "What about zebra zebra zebra zebra?"),
        ("p", "in-body", 1, "Another", "The zebra is striped. zebra zebra zebra zebra zebra.", "none"),
        # A long body that never names the word: FTS5's bm25 divides by the whole row's length.
        ("p", "in-title", 1, "Zebra crossing", "Road safety lesson with much longer text " * 20, "none"),
        *FILLER,
    ])
    assert ids(store, "zebra") == ["in-title", "in-body", "in-questions"]


def test_more_of_the_words_in_the_title_ranks_higher(store):
    store.sync_lesson_index([
        ("p", "one-in-title", 1, "Phishing basics", "zebra " * 30 + "phishing " * 30, "zebra phishing?"),
        ("p", "both-in-title", 1, "Zebra phishing", "A short story " * 40, "none"),
        ("p", "zebra-in-title", 1, "Zebra", "a lesson on phishing", "none"),
        # Both words, side by side, again and again — but only in the body.
        ("p", "both-in-body", 1, "Something else", "zebra phishing " * 20, "none"),
        *FILLER,
    ])
    expected = ["both-in-title", "one-in-title", "zebra-in-title", "both-in-body"]
    assert ids(store, "zebra phishing") == expected
    # A prefix of a word counts, in every column.
    assert ids(store, "zeb phish") == expected


def test_on_the_bundled_packs_every_title_match_comes_before_any_other(store):
    catalog, _ = Catalog.from_directory(BUNDLED_DIR)
    store.sync_lesson_index(catalog.search_rows())
    for word in ("data", "password", "phishing", "feedback"):
        hits = store.search_lessons(word, limit=10)
        in_title = [word in hit.title.lower() for hit in hits]
        assert any(in_title), word
        assert in_title == sorted(in_title, reverse=True), (word, [h.title for h in hits])
