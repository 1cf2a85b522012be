"""Import, in a plain install, every module Sprout's code imports anywhere (function-local imports included).

Run with the plain environment's python from outside the checkout: it reads the installed sources, so a
dependency that only the dev extras bring (greenlet, once, through Playwright) fails here, not in production.
"""

from __future__ import annotations

import ast
import importlib
import sys
from pathlib import Path

import app

OURS = {"app", "bot", "content_packs", "db", "learning", "sandbox", "scheduler", "tests", "benchmarks"}
root = Path(app.__file__).resolve().parent
files = [Path(app.__file__), *(p for pkg in OURS - {"app", "tests", "benchmarks"} for p in (root / pkg).rglob("*.py"))]
assert all(f.is_relative_to(root) for f in files) and "site-packages" in str(root), f"not an installed Sprout: {root}"

wanted: set[str] = set()
for path in files:
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            wanted.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            wanted.add(node.module)
third_party = sorted(m for m in wanted if m.split(".")[0] not in OURS | set(sys.stdlib_module_names))
failed = []
for module in third_party:
    try:
        importlib.import_module(module)
    except Exception as exc:  # every failure is reported, not just the first
        failed.append(f"{module}: {type(exc).__name__}: {exc}")
print(f"plain install: {len(third_party)} third-party modules imported from {len(files)} files")
if failed:
    print("\n".join(failed), file=sys.stderr)
    sys.exit(1)
