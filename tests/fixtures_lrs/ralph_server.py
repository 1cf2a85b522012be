"""ralph's LRS app under uvicorn, run by ralph's own python: ``python ralph_server.py HOST PORT``.

One change to ralph 5.1.0: its filesystem LRS backend writes every POST to the same file with
the data backends' default operation, INDEX, which refuses an existing file — so the second POST
to an fs-backed ralph answers 500 "Statements bulk indexation failed". Appending is what a
one-file statement log needs (the backend supports APPEND), so the backend appends here. Every
other part — HTTP, Basic auth, validation, duplicate and conflict handling, queries — is ralph's.
"""

import sys

from ralph.backends.data.base import BaseOperationType
from ralph.backends.lrs.fs import FSLRSBackend

FSLRSBackend.default_operation_type = BaseOperationType.APPEND

import uvicorn  # noqa: E402  (after the backend is set up, before the app is imported)

uvicorn.run("ralph.api:app", host=sys.argv[1], port=int(sys.argv[2]), log_level="warning")
