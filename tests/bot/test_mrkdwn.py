from __future__ import annotations

from bot.mrkdwn import escape, markdown_to_mrkdwn, quote, split_text


def test_escaping_defuses_mentions_and_disguised_links():
    assert escape("<!channel> & <https://evil.example|https://bank.example>") == (
        "&lt;!channel&gt; &amp; &lt;https://evil.example|https://bank.example&gt;"
    )
    assert quote("hi <!here>\nsecond") == "> hi &lt;!here&gt;\n> second"


def test_markdown_becomes_mrkdwn():
    md = "Use **bold**, *italic*, ~~old~~ and `a<b`.\nSame paragraph.\n\n- one\n- [NCSC](https://www.ncsc.gov.uk/)\n\n# Title"
    assert markdown_to_mrkdwn(md) == (
        "Use *bold*, _italic_, ~old~ and `a&lt;b`. Same paragraph.\n\n"
        "• one\n• <https://www.ncsc.gov.uk/|NCSC>\n\n*Title*"
    )


def test_authors_cannot_inject_slack_control_sequences_either():
    assert "<!channel>" not in markdown_to_mrkdwn("Hi <!channel> and [x](https://a.example/|<!here>)")


def test_split_text_respects_the_limit_and_keeps_everything():
    text = "\n\n".join(f"Paragraph {i} " + "word " * 150 for i in range(10))
    pieces = split_text(text, 3000)
    assert all(len(p) <= 3000 for p in pieces)
    assert " ".join(" ".join(pieces).split()) == " ".join(text.split())
