"""Import a Moodle GIFT question file as a Sprout pack.

The reading follows Moodle's own importer (``question/format/gift/format.php``) rule for rule, so a
file means here what it means in Moodle:

- questions are separated by blank lines; a line starting with ``//`` is a comment;
- ``\\~ \\= \\# \\{ \\} \\: \\\\`` are literal characters and ``\\n`` is a new line;
- ``::name::`` names a question; ``[html]``, ``[moodle]``, ``[markdown]`` or ``[plain]`` at the start of
  a text gives its format (answers and feedback default to the question's);
- the answer block is the first ``{`` to the first ``}``; text after it makes a missing-word question,
  shown here with ``_____`` in place of the block;
- the type follows from the block: empty -> essay, ``#…`` -> numerical, any ``~`` -> multiple choice
  (several answers when no ``=``), ``=… -> …`` -> matching, ``T``/``TRUE``/``F``/``FALSE`` -> true/false,
  otherwise short answer; ``#`` starts an answer's feedback and ``####`` the general feedback;
- ``$CATEGORY: a/b/c`` puts the questions after it in category ``c``.

Categories become lessons (at most ten questions each, Sprout's limit). Essay, numerical, matching and
description "questions" have no Sprout equivalent and are reported with their line, as is anything
else that will not fit (too many or too long choices, duplicate choices, …). Where a question is
imported with a loss, such as partial credit, a note says so.
"""

from __future__ import annotations

import math
import re
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from pydantic import ValidationError

from content_packs.authoring import (
    DEFAULT_SCHEDULE,
    dump_pack,
    existing_pack_ids,
    html_to_markdown,
    is_slug,
    looks_like_html,
    pack_path,
    slugify,
    title_from_slug,
    truncate,
    unique_slug,
    write_atomically,
)
from content_packs.loader import PackError, PackProblem, dotted, parse_pack
from content_packs.schema import Pack, Question

MAX_QUESTIONS_PER_LESSON = 10
MAX_CHOICES = 10
MAX_CHOICE = 500
MAX_PROMPT = 2000
MAX_FEEDBACK = 1000
MAX_EXPLAIN = 2000
BLANK = "_____"

Format = Literal["moodle", "html", "plain", "markdown"]
FORMATS: tuple[str, ...] = ("moodle", "html", "plain", "markdown")

# Escaped control characters become private-use placeholders while the question is taken apart,
# exactly as Moodle does with its "&&058;"-style placeholders, and are put back in each piece.
_ESCAPES = {
    "\\": "\ue000",
    ":": "\ue001",
    "#": "\ue002",
    "=": "\ue003",
    "{": "\ue004",
    "}": "\ue005",
    "~": "\ue006",
    "n": "\ue007",
}
_UNESCAPES = {placeholder: ("\n" if char == "n" else char) for char, placeholder in _ESCAPES.items()}
_ESCAPE_RE = re.compile(r"\\([\\:#={}~n])")
_UNESCAPE_RE = re.compile("[" + "".join(_UNESCAPES) + "]")
# Moodle's answer-weight rule: %50%, %-100%, %33.333% at the very start of an answer.
_WEIGHT_RE = re.compile(r"^%-*([0-9]{1,2})\.?([0-9]*)%")
_TRUE_FALSE = {"T": True, "TRUE": True, "F": False, "FALSE": False}


def _escape(text: str) -> str:
    return _ESCAPE_RE.sub(lambda m: _ESCAPES[m.group(1)], text)


def _unescape(text: str) -> str:
    return _UNESCAPE_RE.sub(lambda m: _UNESCAPES[m.group(0)], text)


# --- Reading GIFT, as Moodle does ----------------------------------------------------------------


@dataclass(frozen=True)
class GiftText:
    """A piece of text with its format, escapes resolved, format marker removed."""

    text: str
    format: Format = "moodle"


@dataclass(frozen=True)
class GiftAnswer:
    text: GiftText
    weight: float  # Moodle's fraction: 1.0 full credit, 0.5 half, -1.0 minus full
    feedback: GiftText | None = None
    weight_after_equals: bool = False  # "=%50%x" in a multiple choice: Moodle gives full credit


@dataclass(frozen=True)
class GiftQuestion:
    """One question as Moodle reads it. ``qtype`` is Moodle's name for its type."""

    line: int
    name: str | None
    text: GiftText
    qtype: Literal["multichoice", "truefalse", "shortanswer", "numerical", "match", "essay", "description"]
    answers: tuple[GiftAnswer, ...] = ()
    true_false: bool | None = None
    feedback_true: GiftText | None = None
    feedback_false: GiftText | None = None
    general_feedback: GiftText | None = None
    single: bool = True  # multichoice: one right answer (some answer starts with =)
    missing_word: bool = False


@dataclass(frozen=True)
class GiftCategory:
    line: int
    path: str  # as written after $CATEGORY:, e.g. "$course$/top/Security/Phishing"

    @property
    def segments(self) -> list[str]:
        path = re.sub(r"^\$[a-z0-9]+\$/?", "", self.path.strip())  # $course$, $system$, $cat1$, …
        # Moodle writes a "/" inside a category name as "//".
        parts = [p.replace("\ue010", "/").strip() for p in path.replace("//", "\ue010").split("/")]
        parts = [p for p in parts if p]
        if parts and parts[0] == "top":
            parts = parts[1:]
        return parts

    @property
    def name(self) -> str:
        segments = self.segments
        return segments[-1] if segments else ""


@dataclass(frozen=True)
class GiftSyntaxError:
    line: int
    message: str


GiftItem = GiftQuestion | GiftCategory | GiftSyntaxError


def _blocks(text: str) -> list[tuple[int, list[str]]]:
    """Questions as Moodle splits them: runs of non-blank lines, each line trimmed, comment lines
    left out but not ending the question. The line given is the first non-comment line."""
    blocks: list[tuple[int, list[str]]] = []
    current: list[str] = []
    start: int | None = None
    for number, raw in enumerate(text.lstrip("\ufeff").splitlines(), 1):
        line = raw.strip()
        if not line:
            if current and start is not None:
                blocks.append((start, current))
            current, start = [], None
            continue
        if line.startswith("//"):
            # Moodle blanks the line but keeps the question together; dropping it does the same
            # without leaving an empty line in the text.
            continue
        if start is None:
            start = number
        current.append(line)
    if current and start is not None:
        blocks.append((start, current))
    return blocks


def _with_format(text: str, default: Format) -> GiftText:
    """Moodle's parse_text_with_format: a known [format] at the very start sets the format."""
    fmt: Format = default
    if text.startswith("["):
        end = text.find("]")
        if end > 0 and text[1:end] in FORMATS:
            fmt = text[1:end]  # type: ignore[assignment]
            text = text[end + 1 :]
    return GiftText(_unescape(text).strip(), fmt)


def _weight(answer: str) -> tuple[float, str] | None:
    match = _WEIGHT_RE.match(answer)
    if not match:
        return None
    inner = match.group(0)[1:-1]
    number = float(inner.lstrip("-"))
    return (-number if inner.startswith("-") else number) / 100, answer[match.end() :]


def _answer_and_feedback(answer: str, default: Format) -> tuple[GiftText, GiftText | None]:
    text, hash_, feedback = answer.partition("#")
    return _with_format(text.strip(), default), (_with_format(feedback.strip(), default) if hash_ else None)


def _split_answers(answertext: str, separator: str) -> list[str]:
    parts = answertext.split(separator)
    parts[0] = parts[0].strip()
    if not parts[0]:
        parts.pop(0)
    return [p.strip() for p in parts]


def _read_block(line: int, lines: list[str]) -> GiftItem | None:
    text = "\n".join(lines).strip()
    if not text:
        return None
    text = _escape(text)

    if text.startswith("$CATEGORY:"):
        first, _, rest = text[len("$CATEGORY:") :].partition("\n")
        if rest.strip():
            # Moodle would read the following lines as part of the category's name.
            return GiftSyntaxError(line, "a question follows $CATEGORY without a blank line between them")
        return GiftCategory(line, _unescape(first).strip())

    name: str | None = None
    if text.startswith("::"):
        text = text[2:]
        end = text.find("::")
        if end >= 0:
            name = _unescape(text[:end]).strip() or None
            text = text[end + 2 :].strip()

    start, finish = text.find("{"), text.find("}")
    if start < 0 and finish < 0:
        return GiftQuestion(line, name, _with_format(text, "moodle"), "description")
    if start < 0 or finish < 0:
        return GiftSyntaxError(
            line,
            "unbalanced braces: an answer block needs both { and } (write \\{ or \\} for the characters)",
        )
    if finish < start:
        return GiftSyntaxError(line, "a } comes before the answer block's { (write \\} for the character)")
    if "{" in text[finish + 1 :] or "}" in text[finish + 1 :]:
        return GiftSyntaxError(
            line,
            "more than one answer block; GIFT allows one per question (embedded answers need Moodle's Cloze format)",
        )

    answertext = text[start + 1 : finish].strip()
    missing_word = not text.endswith("}")
    questiontext = text[:start] + (BLANK if missing_word else "") + text[finish + 1 :]

    general = None
    gf = answertext.rfind("####")
    if gf >= 0:
        general_text = answertext[gf + 4 :]
        answertext = answertext[:gf].strip()
    question_text = _with_format(questiontext.strip(), "moodle")
    fmt = question_text.format
    if gf >= 0:
        general = _with_format(general_text.strip(), fmt)
    common: dict[str, Any] = {"general_feedback": general, "missing_word": missing_word}

    if not answertext:
        return GiftQuestion(line, name, question_text, "essay", **common)
    if answertext.startswith("#"):
        return GiftQuestion(line, name, question_text, "numerical", **common)
    if "~" in answertext:
        single = "=" in answertext
        answers = []
        for raw in _split_answers(answertext.replace("=", "~="), "~"):
            weight_after_equals = False
            if raw.startswith("="):
                weight, raw = 1.0, raw[1:]
                weight_after_equals = bool(_WEIGHT_RE.match(raw.strip()))
            elif (weighted := _weight(raw)) is not None:
                weight, raw = weighted
            else:
                weight = 0.0
            answer, feedback = _answer_and_feedback(raw.strip(), fmt)
            answers.append(GiftAnswer(answer, weight, feedback, weight_after_equals))
        if len(answers) < 2:
            return GiftSyntaxError(line, "a multiple-choice question needs at least two answers")
        return GiftQuestion(line, name, question_text, "multichoice", tuple(answers), single=single, **common)
    if "=" in answertext and "->" in answertext:
        return GiftQuestion(line, name, question_text, "match", **common)

    hash_at = answertext.find("#")
    check = answertext[:hash_at].strip() if hash_at > 0 else answertext
    if check in _TRUE_FALSE:
        parts = answertext.split("#", 2)
        wrong = _with_format(parts[1].strip(), fmt) if len(parts) > 1 else None
        right = _with_format(parts[2].strip(), fmt) if len(parts) > 2 else None
        value = _TRUE_FALSE[parts[0].strip()]
        return GiftQuestion(
            line,
            name,
            question_text,
            "truefalse",
            true_false=value,
            feedback_true=right if value else wrong,
            feedback_false=wrong if value else right,
            **common,
        )

    answers = []
    for raw in _split_answers(answertext, "="):
        weighted = _weight(raw)
        weight, raw = weighted if weighted is not None else (1.0, raw)
        answer, feedback = _answer_and_feedback(raw.strip(), fmt)
        answers.append(GiftAnswer(answer, weight, feedback))
    if not answers:
        return GiftSyntaxError(line, "a short-answer question needs at least one answer")
    return GiftQuestion(line, name, question_text, "shortanswer", tuple(answers), **common)


def read_gift(text: str) -> list[GiftItem]:
    """Every question, category switch and unreadable block in a GIFT file, in order."""
    items = []
    for line, lines in _blocks(text):
        item = _read_block(line, lines)
        if item is not None:
            items.append(item)
    return items


# --- From GIFT to Sprout ---------------------------------------------------------------------------


def render(piece: GiftText | None, *, plain: bool = False) -> str:
    """A GIFT text as Sprout text: Markdown, or plain for choices (button labels show no markup).

    HTML (in [html] texts, and the HTML that Moodle's own format allows) becomes Markdown; raw
    HTML never reaches a pack. [plain] text is taken as written: a ``<b>`` there is meant literally.
    """
    if piece is None:
        return ""
    text = piece.text
    if piece.format == "html":
        return html_to_markdown(text, plain=plain)
    if piece.format in ("moodle", "markdown") and looks_like_html(text):
        return html_to_markdown(text, plain=plain, keep_newlines=True)
    return text.strip()


@dataclass(frozen=True)
class GiftIssue:
    """Something about one question: left out (``skipped``), or imported with a loss (a note)."""

    line: int
    message: str
    skipped: bool = True

    def format(self, file: str | Path) -> str:
        return f"{file}:{self.line}: {'skipped' if self.skipped else 'note'}: {self.message}"


class _Skip(Exception):
    pass


_UNSUPPORTED = {
    "essay": "an essay question ({} with no answers) needs a person to mark it; Sprout has no essay questions",
    "numerical": "a numerical question ({#…}) compares numbers within a tolerance; Sprout has no numerical questions",
    "match": "a matching question (=item -> match) has no Sprout equivalent",
    "description": "no answer block: a description, not a question (Sprout has nowhere to show text between questions)",
}


def _quote(text: str, limit: int = 60) -> str:
    return repr(truncate(text.replace("\n", " "), limit))


def _check_choices(choices: list[str]) -> None:
    if len(choices) > MAX_CHOICES:
        raise _Skip(f"{len(choices)} choices; Sprout allows at most {MAX_CHOICES}")
    seen: set[str] = set()
    for number, choice in enumerate(choices, 1):
        if not choice:
            raise _Skip(f"choice {number} is empty")
        if len(choice) > MAX_CHOICE:
            raise _Skip(f"choice {number} is {len(choice)} characters; Sprout allows at most {MAX_CHOICE}")
        if choice in seen:
            raise _Skip(f"choice {_quote(choice)} appears twice")
        seen.add(choice)


def _check_feedback(feedback: dict[str, str]) -> None:
    for key, text in feedback.items():
        if len(text) > MAX_FEEDBACK:
            raise _Skip(
                f"the feedback on {_quote(key)} is {len(text)} characters; Sprout allows at most {MAX_FEEDBACK}"
            )


def _sentence(text: str) -> str:
    text = text.strip()
    return text if not text or text[-1] in ".!?…:" else text + "."


def _explain(general: str, lead: str, extra: list[str]) -> str:
    if general:
        if len(general) > MAX_EXPLAIN:
            raise _Skip(
                f"the general feedback is {len(general)} characters; Sprout allows at most {MAX_EXPLAIN}"
            )
        return general
    parts = [lead, *(_sentence(e) for e in dict.fromkeys(extra) if e)]
    return truncate(" ".join(p for p in parts if p), MAX_EXPLAIN)


def _percent(weight: float) -> str:
    return f"{weight * 100:g}%"


def _convert(question: GiftQuestion) -> tuple[dict[str, Any], str, list[str]]:
    """A Sprout question (without its id), its kind, and notes on what did not carry over."""
    if question.qtype in _UNSUPPORTED:
        raise _Skip(_UNSUPPORTED[question.qtype])
    prompt = render(question.text)
    if not prompt or prompt == BLANK:
        raise _Skip("the question has no text")
    if len(prompt) > MAX_PROMPT:
        raise _Skip(f"the question text is {len(prompt)} characters; Sprout allows at most {MAX_PROMPT}")
    general = render(question.general_feedback)
    notes: list[str] = []
    if any(
        piece is not None and piece.format != "plain" and re.search(r"<img\b", piece.text, re.I)
        for piece in (question.text, *(a.text for a in question.answers))
    ):
        notes.append("an image is left out (a GIFT file names images but does not carry them)")
    data: dict[str, Any] = {"prompt": prompt}

    if question.qtype == "truefalse":
        assert question.true_false is not None
        feedback = {
            key: text
            for key, text in (
                ("true", render(question.feedback_true)),
                ("false", render(question.feedback_false)),
            )
            if text
        }
        _check_feedback(feedback)
        right = feedback.get("true" if question.true_false else "false", "")
        data["answer"] = question.true_false
        if feedback:
            data["feedback"] = feedback
        data["explain"] = _explain(general, f"The statement is {str(question.true_false).lower()}.", [right])
        return data, "true_false", notes

    if question.qtype == "shortanswer":
        accepted = [a for a in question.answers if a.weight >= 1]
        if not accepted:
            raise _Skip("no answer gets full credit, so no typed answer would count as right")
        accept = list(dict.fromkeys(render(a.text, plain=True) for a in accepted))
        if any(not a for a in accept):
            raise _Skip("an accepted answer is empty")
        if any(len(a) > MAX_CHOICE for a in accept):
            raise _Skip(f"an accepted answer is longer than {MAX_CHOICE} characters")
        partial = [a for a in question.answers if a.weight < 1]
        if partial:
            listed = ", ".join(
                f"{_quote(render(a.text, plain=True))} ({_percent(a.weight)})" for a in partial
            )
            notes.append(f"credit below 100% is not kept: {listed} will be marked wrong")
        feedback_texts = [render(a.feedback) for a in accepted]
        dropped = [render(a.feedback) for a in partial if a.feedback and render(a.feedback)]
        if dropped:
            notes.append(
                "feedback on answers that are not accepted is not kept (a typed answer has no per-answer feedback)"
            )
        lead = f"The answer is {accept[0]}."
        if len(accept) > 1:
            lead += f" Also accepted: {', '.join(accept[1:])}."
        data["accept"] = accept
        data["explain"] = _explain(general, lead, feedback_texts)
        return data, "short", notes

    assert question.qtype == "multichoice"
    if any(a.weight_after_equals for a in question.answers):
        raise _Skip(
            "an answer starts with =%…%: Moodle gives '=' answers full credit and keeps the %…% "
            "in the answer's text (for partial credit write ~%50%…)"
        )
    choices = [render(a.text, plain=True) for a in question.answers]
    _check_choices(choices)
    feedback = {
        choice: render(a.feedback)
        for choice, a in zip(choices, question.answers, strict=True)
        if render(a.feedback)
    }
    _check_feedback(feedback)
    data["choices"] = choices

    if question.single:
        right = [c for c, a in zip(choices, question.answers, strict=True) if a.weight >= 1]
        if len(right) != 1:
            raise _Skip(
                f"{len(right)} answers get full credit in a one-answer multiple choice; "
                "a Sprout single-choice question has exactly one right answer"
            )
        partial = [(c, a) for c, a in zip(choices, question.answers, strict=True) if 0 < a.weight < 1]
        if partial:
            listed = ", ".join(f"{_quote(c)} ({_percent(a.weight)})" for c, a in partial)
            notes.append(f"partial credit is not kept: {listed} will be marked wrong")
        data["answer"] = right[0]
        kind = "single"
        lead = f"The answer is {right[0]}."
        extra = [feedback.get(right[0], "")]
    else:
        right = [c for c, a in zip(choices, question.answers, strict=True) if a.weight > 0]
        if not right:
            raise _Skip("no answer has a positive weight, so no choice would be right")
        total = sum(a.weight for a in question.answers if a.weight > 0)
        if not math.isclose(total, 1.0, abs_tol=0.011):
            notes.append(
                f"the right answers' weights add up to {_percent(total)}, not 100%; "
                "Sprout counts the question right when exactly these are ticked"
            )
        if any(a.weight == 0 for a in question.answers):
            notes.append(
                "some wrong answers carry no negative weight (Moodle would give full marks for ticking "
                "every box); Sprout counts the question right only when exactly the right ones are ticked"
            )
        data["answers"] = right
        kind = "multiple"
        lead = (
            f"The answer is {right[0]}." if len(right) == 1 else f"The right answers are {'; '.join(right)}."
        )
        extra = [feedback.get(c, "") for c in right]
    if feedback:
        data["feedback"] = feedback
    data["explain"] = _explain(general, lead, extra)
    return data, kind, notes


def _validate(data: dict[str, Any]) -> None:
    try:
        Question.model_validate({"id": "q", **data})
    except ValidationError as exc:
        reasons = []
        for error in exc.errors(include_url=False):
            where = dotted(error["loc"])
            reasons.append(
                f"{where}: {error['msg'].removeprefix('Value error, ')}" if where else error["msg"]
            )
        raise _Skip("; ".join(reasons)) from None


@dataclass
class _Lesson:
    key: str | None  # the category path; None before any $CATEGORY
    title: str
    line: int
    questions: list[tuple[str | None, dict[str, Any]]] = field(default_factory=list)
    seen: int = 0  # questions met in this category, imported or not


@dataclass
class GiftImport:
    """What an import produced. ``pack``/``yaml`` are None when ``problems`` says why nothing can be written."""

    pack: Pack | None = None
    yaml: str | None = None
    skipped: list[GiftIssue] = field(default_factory=list)
    notes: list[GiftIssue] = field(default_factory=list)
    problems: list[PackProblem] = field(default_factory=list)
    imported: Counter[str] = field(default_factory=Counter)
    written: Path | None = None

    @property
    def issues(self) -> list[GiftIssue]:
        """Skipped questions and notes, in file order."""
        return sorted(self.skipped + self.notes, key=lambda i: (i.line, not i.skipped))


def import_gift(
    text: str,
    *,
    pack_id: str,
    source_name: str,
    title: str | None = None,
    schedule: dict[str, Any] | None = None,
    file: Path | None = None,
) -> GiftImport:
    """Turn GIFT text into a validated pack (as YAML and as a Pack). Reads and writes nothing.

    ``source_name`` (the GIFT file's name) goes into the lesson bodies; ``file`` is where the pack
    would be written, for the line numbers of any pack problem.
    """
    result = GiftImport()
    file = file or Path(pack_id) / "pack.yaml"
    if not is_slug(pack_id):
        result.problems.append(
            PackProblem(
                file,
                1,
                "id",
                f"{pack_id!r} is not a pack id: use lowercase "
                "letters, digits and dashes, at most 64 characters",
            )
        )
        return result

    stem = Path(source_name).stem
    lessons: dict[str | None, _Lesson] = {}
    current: str | None = None
    category_lines: dict[str | None, int] = {}

    for item in read_gift(text):
        if isinstance(item, GiftCategory):
            current = item.path
            category_lines.setdefault(current, item.line)
            continue
        if isinstance(item, GiftSyntaxError):
            result.skipped.append(GiftIssue(item.line, item.message))
            continue
        lesson = lessons.get(current)
        if lesson is None:
            if current is None:
                name = title_from_slug(stem) if slugify(stem) else (title or title_from_slug(pack_id))
            else:
                name = GiftCategory(0, current).name or "Questions"
            lesson = lessons[current] = _Lesson(current, name, category_lines.get(current, item.line))
        lesson.seen += 1
        try:
            data, kind, notes = _convert(item)
            _validate(data)
        except _Skip as skip:
            result.skipped.append(GiftIssue(item.line, str(skip)))
            continue
        result.notes.extend(GiftIssue(item.line, note, skipped=False) for note in notes)
        result.imported[kind] += 1
        lesson.questions.append((item.name, data))

    lesson_ids: set[str] = set()
    lesson_data: list[dict[str, Any]] = []
    for lesson in lessons.values():
        if not lesson.questions:
            if lesson.key is not None:
                result.notes.append(
                    GiftIssue(
                        lesson.line,
                        f"no lesson for category {lesson.title!r}: none of its questions could be imported",
                        skipped=False,
                    )
                )
            continue
        chunks = [
            lesson.questions[i : i + MAX_QUESTIONS_PER_LESSON]
            for i in range(0, len(lesson.questions), MAX_QUESTIONS_PER_LESSON)
        ]
        if len(chunks) > 1:
            where = (
                f"category {lesson.title!r}"
                if lesson.key is not None
                else "the questions before any $CATEGORY"
            )
            result.notes.append(
                GiftIssue(
                    lesson.line,
                    f"{where}: {len(lesson.questions)} questions, split into {len(chunks)} lessons "
                    f"(Sprout asks at most {MAX_QUESTIONS_PER_LESSON} per lesson)",
                    skipped=False,
                )
            )
        base = slugify(lesson.title) or (slugify(stem) if lesson.key is None else "") or "lesson"
        for part, chunk in enumerate(chunks, 1):
            lesson_title = lesson.title if part == 1 else f"{lesson.title} (part {part})"
            question_ids: set[str] = set()
            quiz = []
            for position, (name, data) in enumerate(chunk, 1):
                qid = unique_slug((slugify(name) if name else "") or f"q{position}", question_ids)
                quiz.append({"id": qid, **data})
            body = f"**{lesson.title}**\n\nQuestions imported from {source_name}."
            if lesson.key and len(GiftCategory(0, lesson.key).segments) > 1:
                body += f" Moodle category: {' / '.join(GiftCategory(0, lesson.key).segments)}."
            lesson_data.append(
                {
                    "id": unique_slug(base, lesson_ids),
                    "title": truncate(lesson_title, 150),
                    "minutes": max(1, min(30, math.ceil(len(quiz) / 2))),
                    "body": body + "\n",
                    "quiz": quiz,
                }
            )

    if not lesson_data:
        result.problems.append(
            PackProblem(Path(source_name), 1, "", "no question could be imported; nothing written")
        )
        return result

    questions = sum(len(lesson["quiz"]) for lesson in lesson_data)
    data = {
        "id": pack_id,
        "title": truncate(title or title_from_slug(pack_id), 150),
        "description": truncate(
            f"{questions} questions imported from {source_name}, in {len(lesson_data)} "
            f"lesson{'s' if len(lesson_data) != 1 else ''}.",
            1000,
        ),
        "version": 1,
        "schedule": dict(schedule or DEFAULT_SCHEDULE),
        "lessons": lesson_data,
    }
    yaml_text = dump_pack(data)
    try:
        result.pack = parse_pack(yaml_text, file)
    except PackError as exc:
        result.problems.extend(exc.problems)
        return result
    result.yaml = yaml_text
    return result


def import_gift_file(
    gift_file: Path,
    *,
    pack_id: str,
    out_dir: Path,
    title: str | None = None,
    overwrite: bool = False,
) -> GiftImport:
    """Import ``gift_file`` and write ``<out_dir>/<pack_id>/pack.yaml`` if the pack is valid.

    Refuses (with a problem, writing nothing) to replace an existing pack unless ``overwrite``, or to
    reuse the id of another pack in ``out_dir``.
    """
    gift_file = Path(gift_file)
    target = pack_path(out_dir, pack_id)
    if not is_slug(pack_id):
        return import_gift("", pack_id=pack_id, source_name=gift_file.name, file=target)
    try:
        text = gift_file.read_text(encoding="utf-8-sig")
    except (OSError, UnicodeDecodeError) as exc:
        return GiftImport(problems=[PackProblem(gift_file, 1, "", f"cannot read: {exc}")])
    if target.exists() and not overwrite:
        return GiftImport(
            problems=[
                PackProblem(
                    target, 1, "", "a pack is already there; choose another id, or overwrite it (--force)"
                )
            ]
        )
    other = existing_pack_ids(out_dir).get(pack_id)
    if other is not None and other.resolve() != target.resolve():
        return GiftImport(
            problems=[PackProblem(other, 1, "id", f"pack id {pack_id!r} is already used by {other}")]
        )

    result = import_gift(text, pack_id=pack_id, source_name=gift_file.name, title=title, file=target)
    if result.yaml is not None and not result.problems:
        write_atomically(target, result.yaml)
        result.written = target
    return result
