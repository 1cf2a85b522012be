from __future__ import annotations

import shutil
import textwrap
from pathlib import Path

import pytest

pytest.importorskip("feedparser", reason="feedparser is a dependency of `packs import-rss` (pyproject.toml)")

from content_packs.loader import BUNDLED_DIR, load_pack  # noqa: E402
from content_packs.rss import add_episodes, import_rss, parse_duration, read_feed  # noqa: E402
from content_packs.starter import starter_text  # noqa: E402

FIXTURES = Path(__file__).resolve().parent / "fixtures"
FEED = FIXTURES / "security-podcast.rss"  # written for these tests: every awkward case in one feed
REAL_FEED = FIXTURES / "giant-bombcast.rss"  # a published feed, verbatim (its source is in its header)
EPISODE_42 = "https://securebyhabit.example.org/episodes/42-invoice-fraud"


@pytest.mark.parametrize(
    ("value", "minutes"),
    [
        ("45", 1),
        ("60", 1),
        ("61", 2),
        ("1502", 26),
        ("3600", 60),
        (" 90 ", 2),
        ("1502.5", 26),  # SS
        ("24:05", 25),
        ("7:30", 8),
        ("00:59", 1),
        ("75:00", 75),  # MM:SS
        ("01:02:30", 63),
        ("1:02:03", 63),
        ("0:00:01", 1),
        ("10:00:00", 600),  # HH:MM:SS
        ("0", None),
        ("00:00", None),
        ("", None),
        (None, None),
        ("about an hour", None),
        ("-5", None),
        ("1:60", None),
        ("1:60:00", None),
        ("1:01:01:01", None),
        ("1h02m", None),
        ("12:", None),
    ],
)
def test_itunes_duration_in_every_form_rounds_up_to_whole_minutes(value, minutes):
    assert parse_duration(value) == minutes


def test_read_feed_turns_episodes_into_https_links_and_reports_the_rest():
    feed = read_feed(FEED)
    assert feed.title == "Secure by Habit" and feed.link == "https://securebyhabit.example.org/"
    assert feed.description.startswith("Twenty-minute conversations about the **small habits**")
    assert [(e.title, e.url, e.minutes) for e in feed.episodes] == [
        ("42: Invoice fraud & the urgent email", EPISODE_42, 26),
        (
            "41: Passkeys, explained without jargon",
            "https://securebyhabit.example.org/episodes/41-passkeys",
            25,
        ),
        ("40: MFA fatigue", "https://securebyhabit.example.org/episodes/40-mfa-fatigue", 63),
        (
            "Bonus: Live from the reporting desk",
            "https://securebyhabit.example.org/episodes/bonus-reporting-desk",
            8,
        ),
        # No page link: the audio file. A duration in no known form: no minutes.
        ("38: Tailgating at the door", "https://media.example.com/sbh/sbh-0038.mp3", None),
        ("37: Clean desk, clear screen", "https://securebyhabit.example.org/episodes/37-clean-desk", None),
    ]
    assert [i.format("feed.rss") for i in feed.issues] == [
        "feed.rss: skipped: episode 5 '39: Shoulder surfing (from the old site)': only an http:// link "
        "(http://old.securebyhabit.example.org/39); Sprout links must be https://",
        "feed.rss: note: episode 6 '38: Tailgating at the door': itunes:duration '1:01:01:01' is not SS, MM:SS "
        "or HH:MM:SS; added without minutes",
        "feed.rss: skipped: episode 8: has no title",
    ]


def test_a_real_published_feed_as_its_host_wrote_it():
    feed = read_feed(REAL_FEED)
    assert (feed.title, feed.link) == ("Giant Bombcast", "https://www.giantbomb.com")
    assert feed.description.startswith("Giant Bomb discusses the latest video game news")
    page = "https://www.giantbomb.com/shows/"
    # Its durations are whole seconds ("10475"), rounded up to minutes; each episode's https page is the
    # link rather than its podtrac audio redirect; "It&#039;s" in a title is an apostrophe.
    assert [(e.title, e.url, e.minutes) for e in feed.episodes] == [
        ("Giant Bombcast 603: Call of Tuesday", page + "603-call-of-tuesday/2970-19653/free-podcast", 175),
        ("Giant Bombcast 602: Easy Chicken", page + "602-easy-chicken/2970-19636/free-podcast", 93),
        (
            "Giant Bombcast 601: Chief Daedra Officer",
            page + "601-chief-daedra-officer/2970-19615/free-podcast",
            159,
        ),
        ("Giant Bombcast 600: Big Game Pass", page + "600-big-game-pass/2970-19599/free-podcast", 176),
        (
            "Giant Bombcast 599: Podcasts Are for Vampires",
            page + "599-podcasts-are-for-vampires/2970-19574/free-podcast",
            184,
        ),
        (
            "Giant Bombcast 598: The Tank, the Healer, and the Damage-Dealer",
            page + "598-the-tank-the-healer-and-the-damage-dealer/2970-19562/free-podcast",
            153,
        ),
        (
            "Giant Bombcast 597: Watering a Plastic Succulent",
            page + "597-watering-a-plastic-succulent/2970-19540/free-podcast",
            165,
        ),
        ("Giant Bombcast 596: Math Amphetamine", page + "596-math-amphetamine/2970-19522/free-podcast", 151),
        (
            "Giant Bombcast 595: It's Always the Cute Monks",
            page + "595-its-always-the-cute-monks/2970-19505/free-podcast",
            166,
        ),
        # The host wrote <itunes:duration>0</itunes:duration>: no length, rather than a zero-minute episode.
        (
            "Giant Bombcast 594: Tea Leads to Intimacy",
            page + "594-tea-leads-to-intimacy/2970-19488/free-podcast",
            None,
        ),
    ]
    assert [i.format("feed") for i in feed.issues] == [
        "feed: note: episode 10 'Giant Bombcast 594: Tea Leads to Intimacy': itunes:duration '0' is zero "
        "(hosts write that when they do not know the length); added without minutes",
    ]


def test_a_real_feed_becomes_a_resource_lesson_that_loads(packs):
    file = packs / "security-basics" / "pack.yaml"
    result = import_rss(REAL_FEED, pack_id="security-basics", lesson_id="listen", packs_dir=packs, limit=3)
    assert result.written and result.created_lesson and not result.problems
    lesson = load_pack(file).lesson("listen")
    assert [(link.kind, link.title, link.minutes) for link in lesson.links] == [
        ("podcast", "Giant Bombcast 603: Call of Tuesday", 175),
        ("podcast", "Giant Bombcast 602: Easy Chicken", 93),
        ("podcast", "Giant Bombcast 601: Chief Daedra Officer", 159),
    ]
    assert "[Giant Bombcast](https://www.giantbomb.com)" in lesson.body and lesson.quiz == []
    rest = import_rss(REAL_FEED, pack_id="security-basics", lesson_id="listen", packs_dir=packs)
    assert (
        len(rest.added) == 7
        and [i.message for i in rest.skipped].count("already linked in lesson 'listen'") == 3
    )
    titles = [link.title for link in load_pack(file).lesson("listen").links]
    assert titles[8] == "Giant Bombcast 595: It's Always the Cute Monks" and len(titles) == 10
    assert load_pack(file).lesson("listen").links[9].minutes is None


def test_a_file_that_is_not_a_feed_is_a_problem(tmp_path):
    (tmp_path / "notes.txt").write_text("just some notes", encoding="utf-8")
    assert (
        "no episodes" in read_feed(tmp_path / "notes.txt").message
        or "not a feed" in read_feed(tmp_path / "notes.txt").message
    )
    assert "cannot read" in read_feed(tmp_path / "missing.xml").message


@pytest.fixture
def packs(tmp_path):
    directory = tmp_path / "packs"
    (directory / "starter").mkdir(parents=True)
    (directory / "starter" / "pack.yaml").write_text(starter_text("starter"), encoding="utf-8")
    shutil.copytree(BUNDLED_DIR / "security-basics", directory / "security-basics")
    return directory


def test_episodes_are_added_to_the_lessons_links_keeping_the_rest_of_the_file(packs):
    file = packs / "starter" / "pack.yaml"
    before = file.read_text(encoding="utf-8")
    result = import_rss(FEED, pack_id="starter", lesson_id="reading-list", packs_dir=packs, limit=3)
    assert result.written and not result.problems and result.comments_kept and not result.created_lesson
    assert [link["title"] for link in result.added] == [
        "42: Invoice fraud & the urgent email",
        "41: Passkeys, explained without jargon",
        "40: MFA fatigue",
    ]
    after = file.read_text(encoding="utf-8")
    # Only lines were added: every comment and every original line is still there, in order.
    assert [line for line in after.splitlines() if line in before.splitlines()] == before.splitlines()
    assert len(after.splitlines()) == len(before.splitlines()) + 3
    lesson = load_pack(file).lesson("reading-list")
    assert [(link.kind, link.url, link.minutes) for link in lesson.links][1:] == [
        ("podcast", EPISODE_42, 26),
        ("podcast", "https://securebyhabit.example.org/episodes/41-passkeys", 25),
        ("podcast", "https://securebyhabit.example.org/episodes/40-mfa-fatigue", 63),
    ]
    assert not list(file.parent.glob(".*tmp")), "the temporary file was renamed into place"


def test_running_again_adds_only_new_episodes(packs):
    import_rss(FEED, pack_id="starter", lesson_id="reading-list", packs_dir=packs, limit=2)
    again = import_rss(FEED, pack_id="starter", lesson_id="reading-list", packs_dir=packs)
    assert [link["title"] for link in again.added] == [
        "40: MFA fatigue",
        "Bonus: Live from the reporting desk",
        "38: Tailgating at the door",
        "37: Clean desk, clear screen",
    ]
    assert [i.message for i in again.skipped].count("already linked in lesson 'reading-list'") == 2
    third = import_rss(FEED, pack_id="starter", lesson_id="reading-list", packs_dir=packs)
    assert third.added == [] and not third.written
    assert len(load_pack(packs / "starter" / "pack.yaml").lesson("reading-list").links) == 7


def test_a_missing_lesson_is_created_as_a_resource_lesson_without_a_quiz(packs):
    file = packs / "security-basics" / "pack.yaml"
    before = file.read_text(encoding="utf-8")
    result = import_rss(
        FEED,
        pack_id="security-basics",
        lesson_id="listen",
        packs_dir=packs,
        limit=2,
        lesson_title="Listen and learn",
    )
    assert result.created_lesson and result.written
    pack = load_pack(file)
    lesson = pack.lessons[-1]
    assert (lesson.id, lesson.title, lesson.quiz) == ("listen", "Listen and learn", [])
    assert "[Secure by Habit](https://securebyhabit.example.org/)" in lesson.body
    assert [link.url for link in lesson.links][0] == EPISODE_42
    assert file.read_text(encoding="utf-8").startswith(before.rstrip("\n")), (
        "the existing lessons are untouched"
    )


def test_a_lesson_without_links_gets_them_above_its_quiz(packs):
    file = packs / "security-basics" / "pack.yaml"
    text = file.read_text(encoding="utf-8")
    lesson_links = textwrap.dedent("""\
        links:
          - {kind: article, title: "CISA: Recognize and Report Phishing", url: "https://www.cisa.gov/secure-our-world/recognize-and-report-phishing"}
          - {kind: article, title: "FTC: How to Recognize and Avoid Phishing Scams", url: "https://consumer.ftc.gov/articles/how-recognize-and-avoid-phishing-scams"}
          - {kind: video, title: "NCSC: Top Tips for Staff (e-learning with short videos)", url: "https://www.ncsc.gov.uk/training/top-tips-for-staff-web/story_html5"}
        """)
    indented = textwrap.indent(lesson_links, "    ")
    assert indented in text
    file.write_text(text.replace(indented, "", 1), encoding="utf-8")
    result = import_rss(FEED, pack_id="security-basics", lesson_id="spot-phishing", packs_dir=packs, limit=1)
    assert result.written and result.comments_kept
    lesson = load_pack(file).lesson("spot-phishing")
    assert [link.url for link in lesson.links] == [EPISODE_42] and len(lesson.quiz) == 2
    assert "    links:\n      - {kind: podcast, title: '42: Invoice fraud" in file.read_text(encoding="utf-8")


def test_a_one_line_links_list_is_rewritten_whole_and_says_comments_may_be_lost(tmp_path):
    text = textwrap.dedent("""\
        # A comment that a re-write cannot keep
        id: tiny
        title: Tiny
        description: A pack.
        version: 1
        schedule: {days: [mon], time: "09:00"}
        lessons:
          - id: one
            title: One
            minutes: 2
            body: |
              Hello.

              Second paragraph.
            links: [{kind: article, title: A, url: "https://example.org/a"}]
        """)
    result = add_episodes(text, read_feed(FEED), file=tmp_path / "pack.yaml", lesson_id="one", limit=1)
    assert not result.problems and not result.comments_kept
    assert "    body: |\n      Hello.\n\n      Second paragraph.\n" in result.text
    assert 'schedule: {days: [mon], time: "09:00"}' in result.text


def test_problems_stop_the_import(packs):
    missing = import_rss(FEED, pack_id="nope", lesson_id="x", packs_dir=packs)
    assert "no pack with id 'nope'" in str(missing.problems[0])
    bad_lesson = import_rss(FEED, pack_id="starter", lesson_id="Not An Id", packs_dir=packs)
    assert "is not a lesson id" in str(bad_lesson.problems[0]) and not bad_lesson.written
    broken = packs / "starter" / "pack.yaml"
    broken.write_text(
        broken.read_text(encoding="utf-8").replace("minutes: 3 ", "minutes: 99 "), encoding="utf-8"
    )
    before = broken.read_text(encoding="utf-8")
    invalid = import_rss(FEED, pack_id="starter", lesson_id="reading-list", packs_dir=packs)
    assert invalid.problems and not invalid.written and broken.read_text(encoding="utf-8") == before
    assert "fix them before adding episodes" in str(invalid.problems[-1])


def test_limit_must_be_positive(packs):
    result = import_rss(FEED, pack_id="starter", lesson_id="reading-list", packs_dir=packs, limit=0)
    assert "--limit must be 1 or more" in str(result.problems[0]) and not result.written
