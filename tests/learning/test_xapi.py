"""Records as xAPI statements: each kind valid by the spec's rules, in the spec's formats."""

from __future__ import annotations

import csv
import io
import json
import uuid
from datetime import UTC, datetime, timedelta

import pytest

from learning.csv_safe import cell, neutralise, write_csv
from learning.xapi import (
    AnswerRecord,
    CertificateRecord,
    CommentRecord,
    Learner,
    LessonExperience,
    LessonRef,
    LinkOpenRecord,
    PackProgress,
    QuestionResult,
    RatingRecord,
    ReflectionRecord,
    ReviewRecord,
    StatementBuilder,
    XapiSettings,
    choice_ids,
    duration,
    export_statements,
    pack_outcome,
    record_key,
    timestamp,
    write_json_array,
)
from tests.fixtures_lrs.records import PACK
from tests.fixtures_lrs.validator import problems

T0 = datetime(2026, 3, 2, 9, 30, tzinfo=UTC)
DANA = Learner("U0DANA", "Dana Šimić")

SETTINGS = XapiSettings(homepage="https://acme.slack.com", base_iri="https://learning.acme.example/xapi")


@pytest.fixture
def builder() -> StatementBuilder:
    return StatementBuilder(SETTINGS, {PACK.id: PACK}.get)


def ref(lesson: str = "spot-phishing") -> LessonRef:
    return LessonRef(PACK.id, lesson, pack_version=3, enrollment_id=7, delivered_at=T0)


def answer(question: str, response: str, correct: bool, *, lesson: str = "spot-phishing", record_id: int = 1,
           at: timedelta = timedelta(minutes=4, seconds=12.5)) -> AnswerRecord:
    return AnswerRecord(record_id, DANA, ref(lesson), question, "as asked", response, correct, T0 + at)


def valid(statement: dict) -> dict:
    assert problems(statement, now=T0 + timedelta(days=400)) == []
    return statement


def test_a_single_choice_answer_is_a_choice_interaction_with_the_ids_of_its_choices(builder):
    statement = valid(builder.build("answer", answer("q1", "Report it", True)))
    assert statement["verb"] == {"id": "http://adlnet.gov/expapi/verbs/answered", "display": {"en": "answered"}}
    assert statement["actor"] == {
        "objectType": "Agent", "account": {"homePage": "https://acme.slack.com", "name": "U0DANA"},
        "name": "Dana Šimić",
    }
    obj = statement["object"]
    assert obj["id"] == "https://learning.acme.example/xapi/packs/security-basics/lessons/spot-phishing/questions/q1"
    definition = obj["definition"]
    assert definition["type"] == "http://adlnet.gov/expapi/activities/cmi.interaction"
    assert definition["interactionType"] == "choice"
    assert [c["id"] for c in definition["choices"]] == ["report-it", "click-it", "reply"]
    assert definition["choices"][0]["description"] == {"en": "Report it"}
    assert definition["correctResponsesPattern"] == ["report-it"]
    assert definition["name"] == {"en": "as asked"}  # the prompt as it was asked, not as the pack says now
    assert statement["result"] == {"success": True, "response": "report-it", "duration": "PT252.5S"}
    assert statement["timestamp"] == "2026-03-02T09:34:12.500Z"
    context = statement["context"]
    assert context["platform"] == "Sprout"
    assert context["revision"] == "3"
    assert context["contextActivities"] == {
        "parent": [{"objectType": "Activity",
                    "id": "https://learning.acme.example/xapi/packs/security-basics/lessons/spot-phishing"}],
        "grouping": [{"objectType": "Activity", "id": "https://learning.acme.example/xapi/packs/security-basics"}],
    }
    assert context["registration"] == builder.registration(7)
    assert "stored" not in statement and "version" not in statement


def test_a_multiple_select_answer_lists_its_choices_with_the_spec_delimiter(builder):
    statement = valid(builder.build("answer", answer("q2", "Urgency; A look-alike domain", True)))
    assert statement["object"]["definition"]["correctResponsesPattern"] == ["urgency[,]a-look-alike-domain"]
    assert statement["result"]["response"] == "urgency[,]a-look-alike-domain"
    wrong = valid(builder.build("answer", answer("q2", "Typos", False)))
    assert wrong["result"] == {"success": False, "response": "typos", "duration": "PT252.5S"}


def test_true_false_and_short_answers_use_their_own_interaction_types(builder):
    tf = valid(builder.build("answer", answer("q1", "True", True, lesson="passphrases")))
    assert tf["object"]["definition"]["interactionType"] == "true-false"
    assert tf["object"]["definition"]["correctResponsesPattern"] == ["true"]
    assert "choices" not in tf["object"]["definition"]
    assert tf["result"]["response"] == "true"
    short = valid(builder.build("answer", answer("q2", "Password Manager", True, lesson="passphrases")))
    definition = short["object"]["definition"]
    assert definition["interactionType"] == "fill-in"
    assert definition["correctResponsesPattern"] == ["{case_matters=false}password manager", "{case_matters=false}vault"]
    assert short["result"]["response"] == "Password Manager"


def test_a_question_the_pack_no_longer_has_keeps_the_response_as_recorded_without_interaction_claims(builder):
    statement = valid(builder.build("answer", answer("q9", "Something", False)))
    definition = statement["object"]["definition"]
    assert "interactionType" not in definition and "type" not in definition
    assert statement["result"]["response"] == "Something"
    changed = valid(builder.build("answer", answer("q1", "A choice since removed", False)))
    assert changed["result"]["response"] == "A choice since removed"


def test_choice_ids_follow_the_text_not_the_position():
    assert choice_ids(["Report it", "Click it!"]) == ["report-it", "click-it"]
    assert choice_ids(["Click it!", "Report it"]) == ["click-it", "report-it"]
    assert choice_ids(["Yes!", "yes?", "¿?"]) == ["yes", "yes-2", "choice"]


def test_every_kind_of_record_makes_a_valid_statement_with_its_verb(builder):
    answers = [
        QuestionResult("spot-phishing", "q1", True, T0 + timedelta(minutes=1)),
        QuestionResult("spot-phishing", "q2", True, T0 + timedelta(minutes=2)),
        QuestionResult("passphrases", "q1", False, T0 + timedelta(days=1)),
        QuestionResult("passphrases", "q2", True, T0 + timedelta(days=1, minutes=1)),
    ]
    records = [
        LessonExperience(11, DANA, ref(), T0 + timedelta(minutes=1)),
        LinkOpenRecord(12, DANA, ref(), 0, "https://www.cisa.gov/phishing", T0 + timedelta(minutes=3)),
        answer("q1", "Report it", True),
        ReviewRecord(13, DANA, LessonRef(PACK.id, "passphrases", delivered_at=T0 + timedelta(days=3)), "q1",
                     "Length beats complexity.", "False", False, T0 + timedelta(days=3, minutes=2), 5, "review", 1, 1.0),
        RatingRecord(14, DANA, ref(), 4, T0 + timedelta(minutes=5), reason="too_easy"),
        CommentRecord(14, DANA, ref(), "=HYPERLINK(\"x\") great lesson", T0 + timedelta(minutes=6)),
        ReflectionRecord(16, DANA, ref(), "What will you do differently?", "Check the sender first.",
                         T0 + timedelta(minutes=7)),
        PackProgress(7, DANA, PACK.id, tuple(answers)),
        CertificateRecord(15, DANA, PACK.id, "Security Basics", 0.75, T0 + timedelta(days=1, minutes=2),
                          T0 + timedelta(days=366)),
    ]
    verbs = {}
    for record in records:
        for key, statement in builder.statements(record):
            valid(statement)
            assert statement["id"] == str(uuid.uuid5(SETTINGS.namespace, key))
            verbs[key.split(":")[0]] = statement["verb"]["id"].rsplit("/", 1)[1]
    assert verbs == {
        "lesson": "experienced", "link_open": "experienced", "answer": "answered", "review": "answered",
        "rating": "rated", "comment": "commented", "reflection": "responded", "completion": "completed",
        "certificate": "passed",
    }  # 3 of 4 right is the pass mark: completed, not failed
    link = builder.build("link_open", records[1])
    assert link["object"]["id"] == "https://www.cisa.gov/phishing"
    assert link["object"]["definition"]["name"] == {"en": "CISA: Phishing"}
    rating = builder.build("rating", records[4])
    assert rating["verb"]["id"] == "http://id.tincanapi.com/verb/rated"
    assert rating["result"]["score"] == {"raw": 4, "min": 1, "max": 5, "scaled": 0.75}
    comment = builder.build("comment", records[5])
    assert comment["result"] == {"response": "=HYPERLINK(\"x\") great lesson"}  # raw: JSON is not a spreadsheet
    completion = builder.build("completion", records[7])
    assert completion["result"] == {"completion": True, "score": {"raw": 3, "min": 0, "max": 4, "scaled": 0.75}}
    assert completion["timestamp"] == timestamp(T0 + timedelta(days=1, minutes=1))
    review = builder.build("review", records[3])
    assert review["result"]["response"] == "false" and review["result"]["duration"] == "PT120S"


def test_a_reflection_is_a_response_to_an_ungraded_long_fill_in_interaction(builder):
    reflection = ReflectionRecord(16, DANA, ref(), "What will you do differently?",
                                  "Check the sender [,] then report it.\nAnd tell Ana.", T0 + timedelta(hours=2))
    statement = valid(builder.build("reflection", reflection))
    assert statement["verb"] == {"id": "http://adlnet.gov/expapi/verbs/responded", "display": {"en": "responded"}}
    obj = statement["object"]
    assert obj["id"] == "https://learning.acme.example/xapi/packs/security-basics/lessons/spot-phishing/reflection"
    assert obj["definition"] == {
        "type": "http://adlnet.gov/expapi/activities/cmi.interaction", "interactionType": "long-fill-in",
        "name": {"en": "What will you do differently?"}, "description": {"en": "What will you do differently?"},
    }, "no correctResponsesPattern: any answer is right (xAPI 2.4.4.1)"
    assert statement["result"] == {"response": "Check the sender [,] then report it.\nAnd tell Ana."}
    assert "success" not in statement["result"], "a reflection is never graded"
    context = statement["context"]
    assert context["contextActivities"]["parent"][0]["id"].endswith("/lessons/spot-phishing")
    assert context["contextActivities"]["grouping"][0]["id"].endswith("/packs/security-basics")
    assert context["registration"] == builder.registration(7) and context["revision"] == "3"
    assert statement["timestamp"] == "2026-03-02T11:30:00.000Z"

    # Text that would read as a characterstring parameter is marked as text (and stays valid).
    tricky = valid(builder.build("reflection", ReflectionRecord(17, DANA, ref(), "Why?", "{case_matters=maybe} hm",
                                                                T0)))
    assert tricky["result"]["response"] == "{lang=und}{case_matters=maybe} hm"
    # An edited reflection is a new statement; the same text, the same statement.
    edited = ReflectionRecord(16, DANA, ref(), "What will you do differently?", "Something else.", T0)
    assert builder.build("reflection", edited)["id"] != statement["id"]
    assert builder.build("reflection", reflection)["id"] == statement["id"]


def test_a_pack_finished_below_its_pass_mark_is_completed_and_failed(builder):
    answers = (
        QuestionResult("spot-phishing", "q1", False, T0),
        QuestionResult("spot-phishing", "q2", True, T0),
        QuestionResult("passphrases", "q1", False, T0),
        QuestionResult("passphrases", "q2", True, T0 + timedelta(hours=1)),
    )
    progress = PackProgress(7, DANA, PACK.id, answers)
    statements = dict(builder.statements(progress))
    assert set(statements) == {"completion:7", "failure:7"}
    failed = valid(statements["failure:7"])
    assert failed["verb"]["id"] == "http://adlnet.gov/expapi/verbs/failed"
    assert failed["result"] == {"completion": True, "success": False,
                                "score": {"raw": 2, "min": 0, "max": 4, "scaled": 0.5}}


def test_a_pack_is_not_completed_while_a_question_is_unanswered(builder):
    partial = (QuestionResult("spot-phishing", "q1", True, T0), QuestionResult("spot-phishing", "q2", True, T0))
    assert pack_outcome(PACK, partial) is None
    assert builder.statements(PackProgress(7, DANA, PACK.id, partial)) == []
    assert builder.build("completion", PackProgress(7, DANA, "a-pack-since-removed", partial)) is None


def test_statement_ids_are_stable_per_record_and_differ_per_workspace_and_kind(builder):
    first = builder.build("answer", answer("q1", "Report it", True))
    again = builder.build("answer", answer("q1", "Report it", True))
    assert first == again
    other_workspace = StatementBuilder(XapiSettings(homepage="https://globex.slack.com"), {PACK.id: PACK}.get)
    assert other_workspace.build("answer", answer("q1", "Report it", True))["id"] != first["id"]
    assert builder.statement_id("review:1") != first["id"]
    edited = CommentRecord(14, DANA, ref(), "changed my mind", T0)
    assert record_key("comment", edited) != record_key("comment", CommentRecord(14, DANA, ref(), "first", T0))


def test_durations_and_timestamps_are_iso_8601():
    assert duration(timedelta(seconds=42)) == "PT42S"
    assert duration(timedelta(hours=1, seconds=3.5)) == "PT3603.5S"
    assert duration(timedelta(milliseconds=1234)) == "PT1.23S"
    assert timestamp(datetime(2026, 1, 1, 12, tzinfo=UTC)) == "2026-01-01T12:00:00.000Z"


def test_settings_refuse_relative_iris():
    with pytest.raises(ValueError):
        XapiSettings(homepage="acme.slack.com")
    with pytest.raises(ValueError):
        XapiSettings(homepage="https://acme.slack.com", base_iri="/xapi")
    assert XapiSettings(homepage="https://a.slack.com", base_iri="https://x.example/xapi/").base_iri == (
        "https://x.example/xapi")


def test_the_export_keeps_statements_in_the_window_and_writes_one_json_array(builder):
    records = [answer("q1", "Report it", True, record_id=1, at=timedelta(days=-1)),
               answer("q1", "Report it", True, record_id=2)]
    out = io.StringIO()
    count = write_json_array(out, export_statements(records, builder, since=T0, until=T0 + timedelta(days=1)))
    parsed = json.loads(out.getvalue())
    assert count == 1 and [s["id"] for s in parsed] == [builder.statement_id("answer:2")]
    empty = io.StringIO()
    assert write_json_array(empty, []) == 0 and json.loads(empty.getvalue()) == []


# -- the validator catches what it should (it is the test's ruler, so it is tested too) ----------


def test_the_validator_finds_broken_statements(builder):
    good = builder.build("answer", answer("q2", "Urgency; A look-alike domain", True))
    assert problems(good, now=T0 + timedelta(days=1)) == []

    def broken(change) -> list[str]:
        statement = json.loads(json.dumps(good))
        change(statement)
        return problems(statement, now=T0 + timedelta(days=1))

    assert broken(lambda s: s["actor"].update(mbox="mailto:dana@acme.example"))  # two identifiers
    assert broken(lambda s: s["actor"].pop("account"))  # none
    assert broken(lambda s: s["object"].update(id="packs/security-basics"))  # relative IRI
    assert broken(lambda s: s["verb"].pop("display"))
    assert broken(lambda s: s["object"]["definition"].update(correctResponsesPattern=["urgency,typos"]))
    assert broken(lambda s: s["object"]["definition"].update(correctResponsesPattern=["urgency[,]urgency"]))
    assert broken(lambda s: s["object"]["definition"].update(interactionType="true-false"))
    assert broken(lambda s: s["result"].update(duration="4 minutes"))
    assert broken(lambda s: s["result"].update(duration="PT"))
    assert broken(lambda s: s["result"].update(score={"scaled": 1.5}))
    assert broken(lambda s: s["result"].update(score={"raw": 6, "min": 1, "max": 5}))
    assert broken(lambda s: s.update(id="not-a-uuid"))
    assert broken(lambda s: s.update(timestamp="2026-03-02T09:30:00"))  # no zone
    assert broken(lambda s: s.update(timestamp=timestamp(T0 + timedelta(days=30))))  # future
    assert broken(lambda s: s.update(stored=timestamp(T0)))
    assert broken(lambda s: s["context"]["contextActivities"].update(parent={"id": "https://x.example/l"}))
    assert broken(lambda s: s["context"].update(extensions={"review": 1}))
    assert broken(lambda s: s["object"]["definition"]["choices"][0].update(id="report it"))
    assert broken(lambda s: s["verb"]["display"].update({"english": "answered"}))


# -- CSV cells -----------------------------------------------------------------------------------


@pytest.mark.parametrize("text", ["=1+1", "+1", "-1", "@SUM(A1)", "\t=1", "\r=1", "＝1+1", "=HYPERLINK(\"x\")"])
def test_cells_a_spreadsheet_would_evaluate_get_a_quote_in_front(text):
    assert neutralise(text) == "'" + text


def test_ordinary_text_numbers_and_times_are_written_as_they_are():
    assert neutralise("Report it") == "Report it"
    assert cell(None) == "" and cell(True) == "true" and cell(3) == "3" and cell(0.75) == "0.75"
    assert cell(datetime(2026, 3, 2, 10, 30, tzinfo=UTC)) == "2026-03-02T10:30:00Z"


def test_a_csv_file_has_a_bom_a_header_and_every_cell_quoted():
    out = io.StringIO(newline="")
    rows = [(1, "Dana Šimić", '=HYPERLINK("https://evil.example","x")', "line one\nline two, with a comma")]
    assert write_csv(out, ["id", "name", "comment", "note"], rows) == 1
    text = out.getvalue()
    assert text.startswith("\ufeff\"id\",\"name\",\"comment\",\"note\"\r\n")
    parsed = list(csv.reader(io.StringIO(text[1:], newline="")))
    assert parsed == [["id", "name", "comment", "note"],
                      ["1", "Dana Šimić", "'=HYPERLINK(\"https://evil.example\",\"x\")", "line one\nline two, with a comma"]]
