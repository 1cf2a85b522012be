"""What admins do: roles, the roster from Slack, pack reloads, privacy requests."""

from __future__ import annotations

import json
import logging
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from bot.paging import bounded_pages
from bot.service import LearningService
from content_packs.catalog import Catalog
from content_packs.contributions import CONTRIBUTIONS_FILE
from content_packs.loader import PackCheck, load_packs
from content_packs.tracks import TRACKS_FOLDER, TrackCatalog, load_tracks
from db.models import ROLES
from db.store import Store
from learning.errors import SproutError

log = logging.getLogger(__name__)

MENTION = re.compile(r"^<@([UW][A-Z0-9]+)(?:\|[^>]*)?>$|^([UW][A-Z0-9]{2,})$")


def parse_mention(text: str) -> str | None:
    """A Slack user mention as slash commands send it (``<@U123|name>`` or ``<@U123>``), or a bare id."""
    match = MENTION.match(text.strip())
    if not match:
        return None
    return match.group(1) or match.group(2)


@dataclass(frozen=True)
class Member:
    """A workspace member as users.list describes them."""

    slack_user_id: str
    name: str
    email: str | None
    timezone: str | None
    is_bot: bool
    deleted: bool


def member(user: dict) -> Member:
    """A user object as users.list, users.info and the team_join / user_change events give it."""
    profile = user.get("profile") or {}
    return Member(
        slack_user_id=user["id"],
        name=profile.get("real_name") or user.get("real_name") or user.get("name") or "",
        email=profile.get("email"),
        timezone=user.get("tz"),
        is_bot=bool(user.get("is_bot")) or user["id"] == "USLACKBOT",
        deleted=bool(user.get("deleted")),
    )


def members(client: Any, *, page_size: int = 200) -> Iterator[Member]:
    """Every member of the workspace, following users.list's cursor pagination."""
    for turn in bounded_pages("users.list"):
        page = client.users_list(limit=page_size, cursor=turn.cursor)
        for user in page.get("members", []):
            yield member(user)
        if not turn.next((page.get("response_metadata") or {}).get("next_cursor")):
            return


class Admin:
    def __init__(self, *, service: LearningService, store: Store, catalog: Catalog, packs_dir: Path,
                 tracks: TrackCatalog | None = None, contributions_dir: Path | None = None,
                 pack_check: PackCheck | None = None) -> None:
        self.service = service
        self.store = store
        self.catalog = catalog
        self.packs_dir = packs_dir
        self.tracks = tracks
        self.rules: Any = None  # bot.enrollment_rules.EnrollmentRules: applied after each sync
        self.contributions_dir = contributions_dir
        self.pack_check = pack_check  # e.g. bot.pack_limits.SlackLimits: a reload refuses what it finds

    def set_role(self, actor: str, args: str, now: datetime) -> str:
        self.service.require(actor, ("admin",), "change roles", now)
        parts = args.split()
        if len(parts) != 2 or parse_mention(parts[0]) is None or parts[1].lower() not in ROLES:
            raise SproutError(f"Usage: `/learn role @person {'|'.join(ROLES)}`.")
        target, role = parse_mention(parts[0]), parts[1].lower()
        learner = self.service.learner(target, now)
        self.store.set_role(learner.id, role, now)
        self.store.audit(actor=actor, action="role", subject=target, detail=role, now=now)
        return f"<@{target}> is now a {role} in Sprout."

    def sync_roster(self, client: Any, now: datetime, *, progress: Callable[[int], None] | None = None) -> tuple:
        """Members in, bots and deactivated accounts out; people who left are marked inactive, records kept."""
        seen = []
        for member in members(client):
            if progress is not None:
                progress(1)
            if member.is_bot:
                continue
            seen.append(member)
        result = self.store.sync_members(
            [(m.slack_user_id, m.name, m.email, m.timezone, not m.deleted) for m in seen], now
        )
        # Members in and leavers out first, so the rules see today's workspace (and never enroll a leaver).
        enrolled = self.rules.apply_all(now) if self.rules is not None else 0
        self.store.audit(actor="roster sync", action="roster_sync", subject=None,
                         detail=json.dumps({"added": result[0], "updated": result[1], "inactive": result[2],
                                            "enrolled_by_rules": enrolled}),
                         now=now)
        return result

    def reload_packs(self, now: datetime, actor: str | None = None) -> tuple[list[str], list[str]]:
        """Reload packs from disk without a restart. A pack whose new version has a problem keeps serving its
        previous version. Returns (pack ids now serving, problems)."""
        if actor is not None:
            self.service.require(actor, ("admin",), "reload the packs", now)
        result = load_packs(self.packs_dir, contributions_dir=self.contributions_dir, check=self.pack_check)
        broken_files = {Path(p.file).resolve() for p in result.problems}
        packs, files = dict(result.packs), dict(result.files)
        translations = {pack_id: dict(by_lang) for pack_id, by_lang in result.translations.items()}
        for old in self.catalog:
            old_file = self.catalog.file_of(old.id)
            broken = (old.id not in packs and old_file is not None and Path(old_file).resolve() in broken_files) \
                or old.id in result.broken_contributions
            if broken and old_file is not None:
                packs[old.id], files[old.id] = old, old_file  # a bad edit: keep serving what worked
                translations[old.id] = self.catalog.translations_of(old.id)
            previous = self.catalog.translations_of(old.id)
            for bad in result.broken_translations.get(old.id, []):
                if bad.stem in previous and old.id in packs:  # a bad translation edit: keep the one that worked
                    translations.setdefault(old.id, {})[bad.stem] = previous[bad.stem]
        self.catalog.replace(packs, files, translations)
        self.store.sync_lesson_index(self.catalog.search_rows())
        problems = [str(p) for p in result.problems]
        if self.tracks is not None:
            problems += self._reload_tracks()
        if actor is not None:
            self.store.audit(actor=actor, action="reload_packs", subject=None,
                             detail=f"{len(packs)} packs, {len(problems)} problems", now=now)
        return sorted(packs), problems

    def _reload_tracks(self) -> list[str]:
        """Tracks again, checked against the packs now serving; a track whose file has a problem keeps
        serving its previous version, as packs do."""
        assert self.tracks is not None
        result = load_tracks(self.packs_dir / TRACKS_FOLDER, self.catalog)
        broken = {Path(p.file).stem for p in result.problems}  # a track's id is its file's name
        tracks = dict(result.tracks)
        for old in self.tracks:
            if old.id not in tracks and old.id in broken:
                tracks[old.id] = old
        self.tracks.replace(tracks)
        return [str(p) for p in result.problems]

    def privacy_export(self, slack_user_id: str, now: datetime) -> int:
        """Queue the person's own records as a file in their DM (through the outbox), and log the request."""
        learner = self.service.learner(slack_user_id, now)
        self.store.audit(actor=slack_user_id, action="privacy_export", subject=slack_user_id, detail=None, now=now)
        return self.store.queue_privacy_export(learner.id, learner.dm_channel_id or learner.slack_user_id, now)


def packs_signature(directory: Path, contributions_dir: Path | None = None) -> tuple:
    """What changes when a pack, contributions or track file changes: names, sizes and modification times."""
    files = [*Path(directory).glob("*/pack.yaml"), *Path(directory).glob(f"{TRACKS_FOLDER}/*.y*ml"),
             *Path(contributions_dir or directory).glob(f"*/{CONTRIBUTIONS_FILE}")]
    return tuple(sorted((str(p), p.stat().st_mtime_ns, p.stat().st_size) for p in files))


def admin_subcommands(admin: Admin, deps: Any) -> dict[str, Callable]:
    """``/learn role``, ``/learn privacy``, ``/learn admin reload``."""

    def role(ctx) -> None:
        ctx.reply(admin.set_role(ctx.user_id, ctx.args, ctx.now))

    def privacy(ctx) -> None:
        admin.privacy_export(ctx.user_id, ctx.now)
        deps.service.dispatcher.dispatch()
        ctx.reply("🔒 A file with everything Sprout holds about you is on its way to your DMs with Sprout.")

    def admin_(ctx) -> None:
        if ctx.args.strip().lower() != "reload":
            raise SproutError("Usage: `/learn admin reload` — reload the content packs from disk.")
        serving, problems = admin.reload_packs(ctx.now, actor=ctx.user_id)
        text = f"Reloaded: {len(serving)} packs serving."
        if problems:
            text += " Problems (the previous version of those packs keeps serving):\n" + "\n".join(
                f"• `{p}`" for p in problems[:20])
        ctx.reply(text)

    return {"role": role, "privacy": privacy, "admin": admin_}


def privacy_renderer(store: Store):
    """The outbox kind "privacy_export": the person's records as a JSON file in their DM."""
    from scheduler.sending import Attachment, OutgoingMessage

    def render(item) -> OutgoingMessage | None:
        if item.learner_id is None:
            return None
        data = store.personal_data(item.learner_id)
        if not data["learner"]:
            return None
        content = json.dumps(data, default=str, indent=2, ensure_ascii=False).encode("utf-8")
        return OutgoingMessage(
            channel=item.channel,
            text="Here is everything Sprout holds about you, as you asked (/learn privacy).",
            file=Attachment(filename="sprout-my-data.json", content=content, title="Your data in Sprout"),
        )

    return render
