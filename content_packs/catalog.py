"""The packs Sprout is serving right now."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from pathlib import Path

from content_packs.loader import LoadResult, PackCheck, load_packs
from content_packs.schema import Lesson, Pack


class Catalog:
    """Loaded packs by id. Swapped whole on reload, so readers never see half a pack.

    Retired lessons (``packs retire``) are left out of the packs it serves, so nothing plans, sends, searches
    or counts them towards a certificate; ``lesson`` still finds them, for the messages and records that
    already name them."""

    def __init__(self, packs: dict[str, Pack] | None = None, files: dict[str, Path] | None = None) -> None:
        self._loaded: dict[str, Pack] = dict(packs or {})
        self._retired: frozenset[tuple[str, str]] = frozenset()
        self._packs: dict[str, Pack] = dict(self._loaded)
        self._files: dict[str, Path] = dict(files or {})
        self._lock = threading.Lock()

    def _serve(self) -> None:
        served = {}
        for pack_id, pack in self._loaded.items():
            if any((pack_id, lesson.id) in self._retired for lesson in pack.lessons):
                pack = pack.model_copy(update={"lessons": [lesson for lesson in pack.lessons
                                                           if (pack_id, lesson.id) not in self._retired]})
            served[pack_id] = pack
        self._packs = served

    def set_retired(self, retired: frozenset[tuple[str, str]]) -> bool:
        """Serve the packs without these (pack, lesson) pairs; True when that changed anything."""
        with self._lock:
            if retired == self._retired:
                return False
            self._retired = frozenset(retired)
            self._serve()
            return True

    @classmethod
    def from_directory(cls, directory: Path, *, contributions_dir: Path | None = None,
                       check: PackCheck | None = None) -> tuple[Catalog, LoadResult]:
        result = load_packs(directory, contributions_dir=contributions_dir, check=check)
        return cls(result.packs, result.files), result

    def replace(self, packs: dict[str, Pack], files: dict[str, Path] | None = None) -> None:
        with self._lock:
            self._loaded = dict(packs)
            self._serve()
            if files is not None:
                self._files = dict(files)

    def file_of(self, pack_id: str) -> Path | None:
        return self._files.get(pack_id)

    def get(self, pack_id: str) -> Pack | None:
        return self._packs.get(pack_id)

    def loaded(self, pack_id: str) -> Pack | None:
        """The pack as its file has it, retired lessons included."""
        return self._loaded.get(pack_id)

    def is_retired(self, pack_id: str, lesson_id: str) -> bool:
        return (pack_id, lesson_id) in self._retired

    def lesson(self, pack_id: str, lesson_id: str) -> Lesson | None:
        pack = self._loaded.get(pack_id)
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
