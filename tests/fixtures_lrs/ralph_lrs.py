"""A real Learning Record Store for the tests: ralph (ralph-malph, by France Université Numérique),
its ASGI app under uvicorn on loopback, statements kept in files, HTTP Basic credentials from a
file it reads at start (see ralph_server.py for the one setting changed in its file backend).

ralph lives in an environment of its own (it pins FastAPI, uvicorn, bcrypt, httpx and sentry-sdk,
and its ``lrs`` extra forgets ``requests``, which its OIDC module imports):

    python3 -m venv ~/.cache/sprout/ralph
    ~/.cache/sprout/ralph/bin/python -m pip install "ralph-malph[lrs]==5.1.0" "requests>=2"

``RALPH_PYTHON`` names that environment's python if it is elsewhere. Without it the tests are
skipped with that command as the reason — except under CI (``CI`` set), where they fail.
"""

from __future__ import annotations

import base64
import json
import os
import socket
import subprocess
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest

SERVER = Path(__file__).with_name("ralph_server.py")
DEFAULT_PYTHON = Path.home() / ".cache" / "sprout" / "ralph" / "bin" / "python"
INSTALL = ('python3 -m venv ~/.cache/sprout/ralph && ~/.cache/sprout/ralph/bin/python -m pip install '
           '"ralph-malph[lrs]==5.1.0" "requests>=2"')
KEY, SECRET = "sprout", "not-a-real-secret"


def ralph_python() -> str:
    """The python of an environment with ralph, or skip (fail under CI) saying how to install it."""
    candidate = os.environ.get("RALPH_PYTHON") or str(DEFAULT_PYTHON)
    reason = None
    if not Path(candidate).is_file():
        reason = f"no ralph LRS at {candidate}"
    else:
        probe = subprocess.run([candidate, "-c", "import ralph.api, uvicorn, bcrypt"], capture_output=True,
                               text=True, timeout=60, env={**os.environ, "RALPH_RUNSERVER_BACKEND": "fs"})
        if probe.returncode != 0:
            reason = f"{candidate} cannot import ralph.api: {probe.stderr.strip().splitlines()[-1:]}"
    if reason:
        message = f"{reason}; install it once with: {INSTALL} (or set RALPH_PYTHON)"
        if os.environ.get("CI"):
            pytest.fail(message)
        pytest.skip(message)
    return candidate


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class RalphLrs:
    """One ralph process at a time on a fixed port, over one data folder, so it can be stopped
    (the LRS is down) and started again (it comes back with what it had)."""

    def __init__(self, python: str, folder: Path) -> None:
        self.python, self.folder = python, folder
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}/xAPI"
        self.process: subprocess.Popen | None = None
        (folder / "data").mkdir(parents=True, exist_ok=True)
        self.auth_file = folder / "auth.json"
        hashed = subprocess.run(
            [python, "-c", "import bcrypt, sys; print(bcrypt.hashpw(sys.argv[1].encode(), bcrypt.gensalt(4)).decode())",
             SECRET], capture_output=True, text=True, check=True, timeout=60,
        ).stdout.strip()
        self.auth_file.write_text(json.dumps([{
            "username": KEY, "hash": hashed, "scopes": ["all"],
            "agent": {"mbox": "mailto:sprout-lrs-test@example.com"},
        }]))

    def start(self, timeout: float = 30) -> None:
        env = {
            **os.environ,
            "RALPH_AUTH_FILE": str(self.auth_file),
            "RALPH_APP_DIR": str(self.folder),
            "RALPH_RUNSERVER_BACKEND": "fs",
            "RALPH_BACKENDS__LRS__FS__DEFAULT_DIRECTORY_PATH": str(self.folder / "data"),
        }
        self.log = open(self.folder / "ralph.log", "ab")  # noqa: SIM115 (closed in stop)
        self.process = subprocess.Popen(
            [self.python, str(SERVER), "127.0.0.1", str(self.port)],
            env=env, stdout=self.log, stderr=subprocess.STDOUT,
        )
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"ralph exited: {(self.folder / 'ralph.log').read_text()[-2000:]}")
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{self.port}/__heartbeat__", timeout=1) as response:
                    if response.status == 200:
                        return
            except (OSError, urllib.error.URLError):
                time.sleep(0.1)
        raise RuntimeError(f"ralph did not answer within {timeout} s")

    def stop(self) -> None:
        if self.process is not None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
            self.process = None
            self.log.close()

    def statements(self) -> list[dict]:
        """Every statement the LRS holds, following ``more`` links (GET /xAPI/statements)."""
        auth = base64.b64encode(f"{KEY}:{SECRET}".encode()).decode()
        found: list[dict] = []
        path = "/xAPI/statements?limit=500"
        while path:
            request = urllib.request.Request(f"http://127.0.0.1:{self.port}{path}", headers={
                "Authorization": f"Basic {auth}", "X-Experience-API-Version": "1.0.3"})
            with urllib.request.urlopen(request, timeout=10) as response:
                page = json.loads(response.read())
            found.extend(page["statements"])
            path = page.get("more") or ""
        return found

    def validate(self, statements: list[dict]) -> list[str]:
        """ralph's own pydantic models of xAPI statements, run in its environment: a second opinion."""
        script = (
            "import json, sys\n"
            "from pydantic import ValidationError\n"
            "from ralph.models.xapi.base.statements import BaseXapiStatement\n"
            "errors = []\n"
            "for s in json.load(sys.stdin):\n"
            "    try:\n"
            "        BaseXapiStatement.model_validate(s)\n"
            "    except ValidationError as e:\n"
            "        errors.append(f\"{s.get('id')}: {e}\")\n"
            "print(json.dumps(errors))\n"
        )
        out = subprocess.run([self.python, "-c", script], input=json.dumps(statements), capture_output=True,
                             text=True, timeout=60, env={**os.environ, "RALPH_APP_DIR": str(self.folder)})
        assert out.returncode == 0, out.stderr
        return json.loads(out.stdout)
