"""``python -m sandbox.emulator`` serves a workspace on its own, for pointing a bot at it by hand."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from slack_sdk import WebClient

ROOT = Path(__file__).resolve().parents[2]


def test_the_emulator_runs_standalone_and_prints_its_api_url():
    process = subprocess.Popen(
        [sys.executable, "-m", "sandbox.emulator", "--port", "0", "--demo-users", "2"],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        line = process.stdout.readline()
        api_url = line.split()[2]
        assert api_url.startswith("http://127.0.0.1:") and api_url.endswith("/api/")
        client = WebClient(base_url=api_url, token="xoxb-sandbox")
        assert client.auth_test()["ok"]
        names = {m["name"] for m in client.users_list()["members"]}
        assert {"learner1", "learner2"} <= names
    finally:
        process.terminate()
        process.wait(timeout=10)
