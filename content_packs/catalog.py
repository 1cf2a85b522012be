"""The packs Sprout is serving right now."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from pathlib import Path

from content_packs.loader import LoadResult, PackCheck, load_packs
from content_packs.schema import Lesson, Pack
from content_packs.translations import Translated, Translation, translated


class Catalog:
    """Loaded packs by id. Swapped whole on reload, so readers never see half a pack.

    Retired lessons (``packs retire``) are left out of the packs it serves, so nothing plans, sends, searches
    or counts them towards a certificate; ``lesson`` still finds them, for the messages and records that
    already name them."""

    def __init__(self, packs: dict[str, Pack] | None = None, files: dict[str, Path] | None = None,
                 translations: dict[str, dict[str, Translation]] | None = None) -> None:
        self._loaded: dict[str, Pack] = dict(packs or {})
        self._retired: frozenset[tuple[str, str]] = frozenset()
        self._packs: dict[str, Pack] = dict(self._loaded)
        self._files: dict[str, Path] = dict(files or {})
        self._translations: dict[str, dict[str, Translation]] = dict(translations or {})
        self._translated: dict[tuple[str, str], Translated] = {}  # (pack, language): served
        self._translated_loaded: dict[tuple[str, str], Translated] = {}  # retired lessons included
        self._lock = threading.Lock()
        self._serve()

    def _serve(self) -> None:
        served = {}
        for pack_id, pack in self._loaded.items():
            if any((pack_id, lesson.id) in self._retired for lesson in pack.lessons):
                pack = pack.model_copy(update={"lessons": [lesson for lesson in pack.lessons
                                                           if (pack_id, lesson.id) not in self._retired]})
            served[pack_id] = pack
        translated_loaded = {(pack_id, lang): translated(self._loaded[pack_id], t)
                             for pack_id, by_lang in self._translations.items() if pack_id in self._loaded
                             for lang, t in by_lang.items()}
        self._translated = {key: translated(served[key[0]], self._translations[key[0]][key[1]])
                            for key in translated_loaded}
        self._translated_loaded = translated_loaded
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
        return cls(result.packs, result.files, result.translations), result

    def replace(self, packs: dict[str, Pack], files: dict[str, Path] | None = None,
                translations: dict[str, dict[str, Translation]] | None = None) -> None:
        """Serve these packs (and these translations; None keeps the current ones of the packs still served)."""
        with self._lock:
            self._loaded = dict(packs)
            if translations is not None:
                self._translations = dict(translations)
            self._serve()
            if files is not None:
                self._files = dict(files)

    # -- languages ----------------------------------------------------------------------------------------

    def languages(self, pack_id: str) -> list[str]:
        """The languages a pack can be shown in: its own first, then its translations'."""
        pack = self._loaded.get(pack_id)
        if pack is None:
            return []
        return [pack.language, *sorted(self._translations.get(pack_id, {}))]

    def translations_of(self, pack_id: str) -> dict[str, Translation]:
        return dict(self._translations.get(pack_id, {}))

    def translation(self, pack_id: str, language: str | None, *, served: bool = True) -> Translated | None:
        """The pack in ``language`` when it has that translation; None for its own language or no translation."""
        if not language:
            return None
        return (self._translated if served else self._translated_loaded).get((pack_id, language))

    def shown(self, pack_id: str, language: str | None) -> Pack | None:
        """The pack (retired lessons left out) with its text in ``language`` where translated."""
        t = self.translation(pack_id, language)
        return t.pack if t else self.get(pack_id)

    def shown_lesson(self, pack_id: str, lesson_id: str, language: str | None) -> Lesson | None:
        t = self.translation(pack_id, language, served=False)
        return t.pack.lesson(lesson_id) if t else self.lesson(pack_id, lesson_id)

    def language_shown(self, pack_id: str, lesson_id: str, language: str | None) -> str:
        """The language a lesson is shown in to someone who reads ``language``: the translation's when it
        translates that lesson, else the pack's own (a partial translation falls back lesson by lesson)."""
        t = self.translation(pack_id, language, served=False)
        if t is not None:
            return t.language_of(lesson_id)
        pack = self._loaded.get(pack_id)
        return pack.language if pack else "en"

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

    def search_rows(self) -> list[tuple[str, str, int, str, str, str, str]]:
        """(pack, lesson, version, title, body, question text, language) for every lesson in every language it
        is shown in: what search indexes."""
        rows = []
        shown = [(pack, pack.language, None) for pack in self._packs.values()]
        shown += [(t.pack, t.language, t.lesson_ids) for (_, _), t in sorted(self._translated.items())]
        for pack, language, only in shown:
            for lesson in pack.lessons:
                if only is not None and lesson.id not in only:
                    continue  # shown in the pack's own language, indexed as such
                questions = " ".join(
                    " ".join([q.prompt, *q.options, *(q.accept or [])]) for q in lesson.quiz
                )
                rows.append((pack.id, lesson.id, pack.version, lesson.title, lesson.body, questions, language))
        return rows
