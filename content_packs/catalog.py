"""The packs Sprout is serving right now."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from pathlib import Path

from content_packs.loader import LoadResult, load_packs
from content_packs.schema import Lesson, Pack


class Catalog:
    """Loaded packs by id. Swapped whole on reload, so readers never see half a pack."""

    def __init__(self, packs: dict[str, Pack] | None = None, files: dict[str, Path] | None = None) -> None:
        self._packs: dict[str, Pack] = dict(packs or {})
        self._files: dict[str, Path] = dict(files or {})
        self._lock = threading.Lock()

    @classmethod
    def from_directory(cls, directory: Path, *, contributions_dir: Path | None = None) -> tuple[Catalog, LoadResult]:
        result = load_packs(directory, contributions_dir=contributions_dir)
        return cls(result.packs, result.files), result

    def replace(self, packs: dict[str, Pack], files: dict[str, Path] | None = None) -> None:
        with self._lock:
            self._packs = dict(packs)
            if files is not None:
                self._files = dict(files)

    def file_of(self, pack_id: str) -> Path | None:
        return self._files.get(pack_id)

    def get(self, pack_id: str) -> Pack | None:
        return self._packs.get(pack_id)

    def lesson(self, pack_id: str, lesson_id: str) -> Lesson | None:
        pack = self._packs.get(pack_id)
        return pack.lesson(lesson_id) if pack else None

    def __iter__(self) -> Iterator[Pack]:
        return iter(sorted(self._packs.values(), key=lambda p: p.title.lower()))

    def __contains__(self, pack_id: object) -> bool:
        return pack_id in self._packs

    def __len__(self) -> int:
        return len(self._packs)

    def ids(self) -> list[str]:
        return sorted(self._packs)

    def search_rows(self) -> list[tuple[str, str, int, str, str, str]]:
        """(pack, lesson, version, title, body, question text) for every lesson: what search indexes."""
        rows = []
        for pack in self._packs.values():
            for lesson in pack.lessons:
                questions = " ".join(
                    " ".join([q.prompt, *q.options, *(q.accept or [])]) for q in lesson.quiz
                )
                rows.append((pack.id, lesson.id, pack.version, lesson.title, lesson.body, questions))
        return rows
