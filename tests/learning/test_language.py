from learning.language import normalise, primary, resolve_language

AVAILABLE = ("en", "de")


def test_the_learners_choice_wins_over_slacks_locale():
    assert resolve_language("de", "en-US", available=AVAILABLE) == "de"
    assert resolve_language("en", "de-DE", available=AVAILABLE) == "en"


def test_slacks_locale_is_matched_by_its_primary_subtag():
    assert resolve_language(None, "de-DE", available=AVAILABLE) == "de"
    assert resolve_language(None, "de_AT", available=AVAILABLE) == "de"


def test_a_region_is_kept_when_it_is_offered():
    assert resolve_language(None, "pt-BR", available=("en", "pt-BR", "pt")) == "pt-BR"
    assert resolve_language(None, "pt-PT", available=("en", "pt-BR", "pt")) == "pt"


def test_a_language_sprout_has_no_text_for_falls_back_to_the_default():
    assert resolve_language("fr", "ja-JP", available=AVAILABLE) == "en"
    assert resolve_language(None, None, available=AVAILABLE, default="de") == "de"


def test_tags_are_normalised():
    assert normalise("pt_br") == "pt-BR"
    assert normalise("DE") == "de"
    assert primary("en-GB") == "en"
