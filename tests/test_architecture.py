"""The house's arrows, read from the imports: a change that breaks them fails here."""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
PACKAGES = ("bot", "scheduler", "learning", "db", "content_packs", "sandbox")

# package -> our packages it may import
ALLOWED = {
    "learning": {"learning", "content_packs"},
    "content_packs": {"content_packs"},
    "db": {"db", "learning", "content_packs"},
    "scheduler": {"scheduler", "db", "learning", "content_packs"},
    "bot": {"bot", "scheduler", "db", "learning", "content_packs"},
    "sandbox": {"sandbox"},  # the emulator stands for Slack: it knows nothing of Sprout
}
# third-party library -> the only packages that may import it
OWNERS = {
    "slack_bolt": {"bot", "sandbox"},
    "slack_sdk": {"bot", "sandbox"},
    "apscheduler": {"scheduler"},
    "sqlalchemy": {"db"},
    "alembic": {"db"},
    "cryptography": {"db"},
    "snowballstemmer": {"db"},
}


def modules():
    for package in PACKAGES:
        for path in sorted((ROOT / package).rglob("*.py")):
            if "migrations" in path.parts:
                continue
            yield package, path


MIGRATIONS = sorted((ROOT / "db" / "migrations" / "versions").glob("*.py"))
# Where the real time may be read: the composition root and the scheduler's runner. Everything else is
# given ``now`` or a clock.
EDGE = {ROOT / "app.py", ROOT / "scheduler" / "runner.py"}


def imports(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(), filename=str(path))
    found = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            found.add(node.module.split(".")[0])
    return found


@pytest.mark.parametrize(("package", "path"), list(modules()), ids=lambda v: str(v).replace(str(ROOT) + "/", ""))
def test_imports_point_one_way(package, path):
    used = imports(path)
    ours = used & (set(PACKAGES) | {"app"})
    assert ours <= ALLOWED[package], f"{path.relative_to(ROOT)} imports {sorted(ours - ALLOWED[package])}"
    for library, owners in OWNERS.items():
        if library in used:
            assert package in owners, f"{path.relative_to(ROOT)} imports {library}; only {sorted(owners)} may"


@pytest.mark.parametrize(("package", "path"), list(modules()), ids=lambda v: str(v).replace(str(ROOT) + "/", ""))
def test_only_app_reads_the_environment(package, path):
    text = path.read_text()
    assert not re.search(r"os\.environ|os\.getenv|load_dotenv", text), f"{path.relative_to(ROOT)} reads the environment"


def test_ci_runs_exactly_the_readme_commands():
    readme = (ROOT / "README.md").read_text()
    ci = (ROOT / ".ci" / "run").read_text()
    install = re.search(r"^(python -m pip install [^\n&]+?)\s*&&", readme, re.M)
    test = re.search(r"&&\s*(python -m pytest[^\n]*)$", readme, re.M)
    assert install and test, "the README names an install and a test command"
    assert install.group(1).strip() in ci
    assert test.group(1).strip() in ci


@pytest.mark.parametrize("name", ["app.py", "config.py"])
def test_the_composition_root_uses_libraries_only_through_their_owners(name):
    """app.py wires the packages together and config.py reads the settings; SQL, Slack and APScheduler stay
    inside the packages that own them."""
    used = imports(ROOT / name)
    for library in OWNERS:
        assert library not in used, f"{name} imports {library}; only {sorted(OWNERS[library])} may"
    assert "config" not in set().union(*(imports(path) for _package, path in modules())), \
        "settings are passed in, not imported"


@pytest.mark.parametrize("path", MIGRATIONS, ids=lambda p: str(p.relative_to(ROOT)))
def test_migrations_spell_out_their_schema(path):
    """A migration's tables are its own: built from a library's current definitions, the schema would drift
    when the library changes them."""
    tree = ast.parse(path.read_text(), filename=str(path))
    modules_used = {alias.name for node in ast.walk(tree) if isinstance(node, ast.Import) for alias in node.names}
    modules_used |= {node.module for node in ast.walk(tree) if isinstance(node, ast.ImportFrom) and node.module}
    # db.stemming fills the search index's stems (data, not schema): the index is rebuilt from the packs anyway.
    allowed = {"__future__", "alembic", "sqlalchemy", "db.types", "db.stemming", "json", "re", "datetime", "typing"}
    outside = {m for m in modules_used if m.split(".")[0] not in {"alembic", "sqlalchemy"} and m not in allowed}
    assert not outside, f"{path.relative_to(ROOT)} imports {sorted(outside)}"


def test_only_the_edge_reads_the_real_time():
    for package, path in modules():
        if path in EDGE or package == "sandbox" and path.name in ("demo.py",):
            continue  # the demo starts "this week": it is a command, not part of Sprout
        text = path.read_text()
        assert not re.search(r"\bdatetime\.now\(|\bdatetime\.utcnow\(|\bdate\.today\(", text), \
            f"{path.relative_to(ROOT)} reads the real time; take now or a clock instead"
