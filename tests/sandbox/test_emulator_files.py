"""The v2 file upload flow end to end through slack_sdk's files_upload_v2 helper."""

from __future__ import annotations

import json
import urllib.request

import pytest
from slack_sdk.errors import SlackApiError


def test_files_upload_v2_shares_the_file_in_a_message(client, emulator):
    channel = emulator.ensure_dm("U0ANA")
    response = client.files_upload_v2(
        channel=channel,
        content="lesson,score\nphishing,5\n",
        filename="progress.csv",
        title="Your progress",
        initial_comment="Here is your week",
    )
    file_id = response["file"]["id"]
    assert file_id.startswith("F") and response["file"]["title"] == "Your progress"
    assert response["file"]["ims"] == [channel]
    message = emulator.dm_messages("U0ANA")[-1]
    assert message["text"] == "Here is your week"
    assert [f["id"] for f in message["files"]] == [file_id]
    stored = emulator.uploaded_files(channel)
    assert stored[0]["content"] == b"lesson,score\nphishing,5\n" and stored[0]["name"] == "progress.csv"
    history = client.conversations_history(channel=channel)["messages"][0]
    assert history["files"][0]["id"] == file_id and history["upload"] is True


def test_several_files_in_a_thread(client, emulator):
    parent = client.chat_postMessage(channel="U0ANA", text="certificates")
    client.files_upload_v2(
        channel=parent["channel"],
        thread_ts=parent["ts"],
        file_uploads=[
            {"content": b"\x89PNG...", "filename": "a.png", "title": "A"},
            {"content": "plain", "filename": "b.txt", "title": "B"},
        ],
    )
    reply = emulator.dm_messages("U0ANA")[-1]
    assert reply["thread_ts"] == parent["ts"]
    assert [f["title"] for f in reply["files"]] == ["A", "B"]
    assert [f["mimetype"] for f in reply["files"]] == ["image/png", "text/plain"]


def test_the_upload_url_also_takes_a_multipart_form(client, emulator):
    url = client.files_getUploadURLExternal(filename="n.txt", length=5)
    boundary = "XyZ"
    body = (
        f'--{boundary}\r\nContent-Disposition: form-data; name="filename"; filename="n.txt"\r\n'
        f"Content-Type: text/plain\r\n\r\nnotes\r\n--{boundary}--\r\n"
    ).encode()
    request = urllib.request.Request(
        url["upload_url"], data=body, headers={"Content-Type": f"multipart/form-data; boundary={boundary}"}
    )
    with urllib.request.urlopen(request, timeout=5) as answer:
        assert answer.status == 200 and answer.read() == b"OK - 5"
    channel = emulator.ensure_dm("U0BEN")
    client.files_completeUploadExternal(files=[{"id": url["file_id"], "title": "Notes"}], channel_id=channel)
    assert emulator.uploaded_files(channel)[0]["content"] == b"notes"


def test_completing_an_unknown_file_is_file_not_found(client):
    with pytest.raises(SlackApiError) as caught:
        client.files_completeUploadExternal(files=[{"id": "F0NOPE", "title": "x"}], channel_id="U0ANA")
    assert caught.value.response["error"] == "file_not_found"


def test_an_uploaded_file_can_be_downloaded_from_url_private(client, emulator):
    response = client.files_upload_v2(channel=emulator.ensure_dm("U0ANA"), content="abc", filename="x.txt")
    with urllib.request.urlopen(response["file"]["url_private"], timeout=5) as answer:
        assert answer.read() == b"abc"
    info = client.files_info(file=response["file"]["id"])
    assert json.loads(json.dumps(info["file"]))["name"] == "x.txt"
