"""Curriculum tracks: an ordered list of packs for a group of participants.

One file per track, ``<packs dir>/tracks/<track-id>.yaml``. A track is checked against the
packs that loaded, and every problem is one line, ``file:line: path.to.field: message``, as
for packs (``content_packs.loader``). A track with any problem is not loaded; the others are.
"""

from __future__ import annotations

import threading
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Annotated, Any, Literal

import yaml
from pydantic import Field, StringConstraints, ValidationError, field_validator

from content_packs.loader import PackProblem, PackYamlLoader, _index_lines, _Lines, dotted
from content_packs.schema import Pack, Slug, _Strict

TRACKS_FOLDER = "tracks"

Gate = Literal["finished", "certificate"]


class TrackPack(_Strict):
    """One step of a track: a pack, and what the learner must have done in the step before it."""

    pack: Slug
    # "finished": every lesson of the previous pack delivered and its questions answered;
    # "certificate": the previous pack's certificate earned.
    gate: Gate = "finished"


class Track(_Strict):
    id: Slug
    title: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=150)]
    description: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=1000)]
    audience: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200)] | None = None
    packs: Annotated[list[TrackPack], Field(min_length=1, max_length=50)]

    @field_validator("packs", mode="before")
    @classmethod
    def _shorthand(cls, value: Any) -> Any:
        # "- security-basics" is short for "- pack: security-basics".
        if isinstance(value, list):
            return [{"pack": item} if isinstance(item, str) else item for item in value]
        return value

    @property
    def pack_ids(self) -> list[str]:
        return [step.pack for step in self.packs]

    def position(self, pack_id: str) -> int | None:
        """The pack's index in the track, or None."""
        return next((i for i, step in enumerate(self.packs) if step.pack == pack_id), None)

    def step_after(self, pack_id: str) -> TrackPack | None:
        """The step that follows ``pack_id``, or None when it is the last (or not in the track)."""
        index = self.position(pack_id)
        if index is None or index + 1 >= len(self.packs):
            return None
        return self.packs[index + 1]


class TrackError(Exception):
    def __init__(self, problems: list[PackProblem]):
        super().__init__("\n".join(str(p) for p in problems))
        self.problems = problems


def _pack_problems(data: dict, packs: Mapping[str, Pack]) -> Iterator[tuple[tuple, str]]:
    """What only the loaded packs can tell: unknown packs, repeats, gates nothing can open."""
    items = data.get("packs")
    if not isinstance(items, list):
        return
    seen: dict[str, int] = {}
    for i, item in enumerate(items):
        pack_id = item if isinstance(item, str) else item.get("pack") if isinstance(item, dict) else None
        gate = item.get("gate") if isinstance(item, dict) else None
        where = ("packs", i) if isinstance(item, str) else ("packs", i, "pack")
        if not isinstance(pack_id, str):
            continue
        if pack_id in seen:
            yield where, f"pack {pack_id!r} is already in this track (packs.{seen[pack_id]})"
            continue
        seen[pack_id] = i
        if pack_id not in packs:
            known = ", ".join(sorted(packs)) or "none loaded"
            yield where, f"unknown pack {pack_id!r} (packs: {known})"
        if gate == "certificate":
            if i == 0:
                yield ("packs", i, "gate"), "the first pack has no pack before it to gate on"
                continue
            before = items[i - 1]
            previous = before if isinstance(before, str) else before.get("pack") if isinstance(before, dict) else None
            if isinstance(previous, str) and previous in packs and packs[previous].certificate is None:
                yield ("packs", i, "gate"), (f"gated on the certificate of {previous!r}, which has none "
                                             f"(add certificate: to its pack.yaml)")


def parse_track(text: str, file: Path, packs: Mapping[str, Pack]) -> Track:
    """Validate one track's YAML against the loaded packs; raise TrackError listing every problem."""
    loader = PackYamlLoader(text)
    try:
        node = loader.get_single_node()
        data = loader.construct_document(node) if node is not None else None
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        raise TrackError([PackProblem(file, mark.line + 1 if mark else 1, "", f"invalid YAML: {exc.problem or exc}")]) \
            from None
    except yaml.YAMLError as exc:
        raise TrackError([PackProblem(file, 1, "", f"invalid YAML: {exc}")]) from None
    finally:
        loader.dispose()
    if node is None or not isinstance(data, dict):
        raise TrackError([PackProblem(file, 1, "", "a track must be a YAML mapping with id, title, description, packs")])

    lines = _Lines()
    found: list[tuple[tuple, str, int | None]] = []
    _index_lines(node, (), lines, found)
    found.extend((loc, message, None) for loc, message in _pack_problems(data, packs))
    track: Track | None = None
    try:
        track = Track.model_validate(data)
    except ValidationError as exc:
        for error in exc.errors(include_url=False):
            message = error["msg"].removeprefix("Value error, ")
            if error["type"] == "extra_forbidden":
                message = "unknown key"
            elif error["type"] == "missing":
                message = "required field is missing"
            found.append((tuple(error["loc"]), message, None))
    if track is not None and track.id != file.stem:
        found.append((("id",), f"must match the file name ({file.stem!r}): tracks are found by their file", None))
    if found:
        problems = sorted(
            {PackProblem(file, line or lines.of(loc), dotted(loc), message) for loc, message, line in found},
            key=lambda p: (p.line, p.path, p.message),
        )
        raise TrackError(problems)
    assert track is not None
    return track


def track_files(directory: Path) -> list[Path]:
    directory = Path(directory)
    if directory.is_file():
        return [directory]
    return sorted(p for p in [*directory.glob("*.yaml"), *directory.glob("*.yml")] if p.is_file())


@dataclass
class TrackLoadResult:
    tracks: dict[str, Track] = field(default_factory=dict)
    files: dict[str, Path] = field(default_factory=dict)
    problems: list[PackProblem] = field(default_factory=list)


def load_tracks(directory: Path, packs: Iterable[Pack]) -> TrackLoadResult:
    """Every track in ``directory`` (no folder: no tracks, no problem), checked against ``packs``."""
    known = {pack.id: pack for pack in packs}
    result = TrackLoadResult()
    directory = Path(directory)
    if not directory.exists():
        return result
    for file in track_files(directory):
        try:
            track = parse_track(file.read_text(encoding="utf-8"), file, known)
        except (OSError, UnicodeDecodeError) as exc:
            result.problems.append(PackProblem(file, 1, "", f"cannot read: {exc}"))
            continue
        except TrackError as exc:
            result.problems.extend(exc.problems)
            continue
        if track.id in result.tracks:
            result.problems.append(
                PackProblem(file, 1, "id", f"track id {track.id!r} is already used by {result.files[track.id]}"))
            continue
        if track.id in known:
            result.problems.append(PackProblem(
                file, 1, "id", f"{track.id!r} is also a pack id; `/learn enroll {track.id}` must mean one thing"))
            continue
        result.tracks[track.id] = track
        result.files[track.id] = file
    return result


class TrackCatalog:
    """Loaded tracks by id. Swapped whole on reload, like the pack catalog."""

    def __init__(self, tracks: Mapping[str, Track] | None = None) -> None:
        self._tracks: dict[str, Track] = dict(tracks or {})
        self._lock = threading.Lock()

    @classmethod
    def from_directory(cls, directory: Path, packs: Iterable[Pack]) -> tuple[TrackCatalog, TrackLoadResult]:
        result = load_tracks(directory, packs)
        return cls(result.tracks), result

    def replace(self, tracks: Mapping[str, Track]) -> None:
        with self._lock:
            self._tracks = dict(tracks)

    def get(self, track_id: str) -> Track | None:
        return self._tracks.get(track_id)

    def __iter__(self) -> Iterator[Track]:
        return iter(sorted(self._tracks.values(), key=lambda t: t.title.lower()))

    def __contains__(self, track_id: object) -> bool:
        return track_id in self._tracks

    def __len__(self) -> int:
        return len(self._tracks)

    def ids(self) -> list[str]:
        return sorted(self._tracks)


__all__ = ["TRACKS_FOLDER", "Track", "TrackCatalog", "TrackError", "TrackLoadResult", "TrackPack", "load_tracks",
           "parse_track", "track_files"]
