"""A commented starter pack: every feature of the format, valid as written, ready to edit."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from content_packs.authoring import existing_pack_ids, is_slug, pack_path, title_from_slug, write_atomically
from content_packs.loader import PackError, PackProblem, parse_pack
from content_packs.schema import Pack

# __PACK_ID__ and __TITLE__ are filled in; everything else is written as is.
STARTER = """\
# A Sprout content pack. Check it with:  python app.py packs validate
# Every field is described in content_packs/README.md. Lines starting with # are comments.

id: __PACK_ID__                 # lowercase letters, digits and dashes; unique across packs; never change it
title: __TITLE__
description: What learners get from this pack, in a sentence or two. Shown in /learn packs and the Home tab.
version: 1                     # raise it whenever you change lessons; records keep the version they saw
schedule: {days: [mon, tue, wed, thu, fri], time: "09:30"}   # the learner's own weekdays and local time; quote the time

# Optional: a certificate for finishing the pack. pass_score is the share of answers that must be
# right (0-1, default 0.8); valid_days is how long it lasts (leave it out for no expiry).
certificate: {name: __TITLE__ certificate, pass_score: 0.8, valid_days: 365}

# Optional: enrol people who join these Slack channels (names without the #).
triggers: {channel_join: [new-starters]}

# Optional: what the pack costs, for reports (amount and a three-letter currency code).
cost: {amount: 0, currency: USD}

# Optional: prompts for a team conversation about the pack.
discussion:
  - Which lesson changed how you work this week?

lessons:                       # sent one a scheduled day, in this order; learners keep their place by id
  - id: first-lesson           # unique within the pack; never reuse an id for different content
    title: Your first lesson   # the message header
    minutes: 3                 # the honest reading time, 1-30
    body: |
      The body is **Markdown**: paragraphs, **bold**, *italic*, ~~strike~~, `code`,
      [links](https://example.org/), lists and quotes. Keep it to 150-400 words.

      - A bullet point
      - Another one

      1. A numbered step
      2. The next step

      > A quote, for something worth remembering.
    links:                     # optional: something to read, listen to or watch (https only)
      - {kind: article, title: "An article worth reading", url: "https://example.org/article"}
      - {kind: podcast, title: "A podcast episode", url: "https://example.org/episode", minutes: 25}
      - {kind: video, title: "A short video", url: "https://example.org/video", minutes: 4}
    quiz:                      # optional: up to 10 questions, asked one at a time
      # Single choice: choices and the one right answer (its exact text).
      - id: q1
        prompt: Which answer is right?
        choices: ["This one", "Not this one", "Nor this one"]
        answer: "This one"
        feedback:              # optional: a line for a learner who picks that choice
          "Not this one": "Close, but this is the old rule."
        explain: Shown after every answer, right or wrong. Teach, don't just confirm.

      # Multiple select: several right answers, ticked then submitted; right only if exactly these.
      - id: q2
        prompt: Which of these are even numbers?
        choices: ["2", "3", "4", "5"]
        answers: ["2", "4"]
        explain: Two and four divide by two; three and five do not.

      # True/false: answer true or false, and no choices.
      - id: q3
        prompt: The sun rises in the east.
        answer: true
        feedback: {"true": "Right.", "false": "Look outside tomorrow morning."}
        explain: Because the Earth turns from west to east, the sun appears in the east.

      # Short answer: typed in a box, compared ignoring case and spaces; list every accepted spelling.
      - id: q4
        prompt: What is the capital of France?
        accept: [Paris]
        explain: Paris has been France's capital for most of the last thousand years.
    reflect: What will you do differently tomorrow?   # optional: a question to think about, not marked

  - id: reading-list           # a lesson can be only a body and links, with no quiz
    title: Further listening
    minutes: 2
    body: |
      Something to listen to on your commute. Add a podcast's episodes to this lesson with
      `python app.py packs import-rss FEED --pack __PACK_ID__ --lesson reading-list`.
    links:
      - {kind: podcast, title: "An episode to start with", url: "https://example.org/episode-1", minutes: 30}
"""


@dataclass
class StarterResult:
    written: Path | None = None
    problems: list[PackProblem] = field(default_factory=list)
    pack: Pack | None = None


def starter_text(pack_id: str) -> str:
    """The starter for ``pack_id``; its title ("My pack" for ``my-pack``) is letters, digits and spaces."""
    return STARTER.replace("__PACK_ID__", pack_id).replace("__TITLE__", title_from_slug(pack_id))


def new_pack(pack_id: str, *, packs_dir: Path) -> StarterResult:
    """Write ``<packs_dir>/<pack_id>/pack.yaml`` from the starter; never replaces an existing pack."""
    target = pack_path(packs_dir, pack_id)
    if not is_slug(pack_id):
        return StarterResult(
            problems=[
                PackProblem(
                    target,
                    1,
                    "id",
                    f"{pack_id!r} is not a pack id: use lowercase letters, digits and dashes, at most 64 characters",
                )
            ]
        )
    if target.parent.exists():
        return StarterResult(
            problems=[PackProblem(target.parent, 1, "", "already exists; choose another id")]
        )
    other = existing_pack_ids(packs_dir).get(pack_id)
    if other is not None:
        return StarterResult(
            problems=[PackProblem(other, 1, "id", f"pack id {pack_id!r} is already used by {other}")]
        )
    text = starter_text(pack_id)
    try:
        pack = parse_pack(text, target)
    except PackError as exc:
        return StarterResult(problems=exc.problems)
    write_atomically(target, text)
    return StarterResult(written=target, pack=pack)
