"""The sandbox page and its JSON API, as a plain WSGI application.

Reads what each person would see from the emulator, and acts as them through the signed-request
driver, so every click reaches Sprout exactly as a click in Slack would.

    GET  {prefix}                  the page
    GET  {prefix}/static/<file>    its CSS and JavaScript
    GET  {prefix}/api/state        the clock and the people (for the sidebar)
    GET  {prefix}/api/version?user=U…   a digest that changes when anything that person sees changes
    GET  {prefix}/api/person?user=U…    that person's DM, Home tab and open modal, as HTML and raw blocks
    POST {prefix}/api/action       {user, surface, action_id, value?, selected?}: a button, menu, checkbox…
    POST {prefix}/api/submit       {user, view_id, values}: submit the open modal
    POST {prefix}/api/close        {user, view_id}: close (cancel) the open modal
    POST {prefix}/api/home         {user}: the person opens the Home tab (app_home_opened)
    POST {prefix}/api/command      {user, text: "/learn packs"}: a slash command
    POST {prefix}/api/clock        {step: next | hour | day | week}

POST bodies must be JSON (which a cross-site form cannot send without the page's consent), and a
request whose Origin is another site is refused.
"""

from __future__ import annotations

import hashlib
import json
import logging
import re
import threading
from collections.abc import Callable, Iterable
from datetime import datetime
from http import HTTPStatus
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

from sandbox.blockkit_html import Conversation, esc, render_view
from sandbox.seed import CHANNELS, SandboxChannel, add_channels
from sandbox.web.conversation import Author, colour, initials, person_json, render_timeline
from sandbox.web.timeline import STEPS, move_clock

log = logging.getLogger(__name__)

HERE = Path(__file__).resolve().parent
STATIC = {"sandbox.css": "text/css; charset=utf-8", "sandbox.js": "text/javascript; charset=utf-8"}
MAX_BODY = 256 * 1024
COMMAND = re.compile(r"^(/[A-Za-z0-9_\-]+)(?:\s+(.*))?$", re.S)
REQUIRED = "Please complete this required field."
TEXT_INPUTS = {"plain_text_input", "email_text_input", "url_text_input", "number_input"}


class HttpError(Exception):
    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message


class SandboxWeb:
    """The WSGI application behind :func:`sandbox.web.sandbox_app`."""

    def __init__(
        self,
        *,
        emulator: Any,
        driver: Any,
        clock: Any,
        tick: Callable[[datetime], Any],
        next_due: Callable[[datetime], datetime | None],
        people: Iterable[Any],
        channels: Iterable[SandboxChannel] = CHANNELS,
        prefix: str = "/sandbox",
    ) -> None:
        self.emulator = emulator
        self.driver = driver
        self.clock = clock
        self.tick = tick
        self.next_due = next_due
        self.people = list(people)
        self.by_id = {p.user_id: p for p in self.people}
        # Avatar colours by position in the roster: distinct for a small team, stable across reloads.
        self.colours = {p.user_id: i for i, p in enumerate(self.people)}
        # The channel menus (conversations_select…) offer these; a workspace without channels would
        # leave a facilitator nothing to announce to.
        self.channels = list(channels)
        self.channel_ids = add_channels(emulator, self.channels)
        self.prefix = "/" + prefix.strip("/")
        self._clock_lock = threading.Lock()
        self._errors_lock = threading.Lock()
        self._errors: dict[str, dict[str, str]] = {}  # view id -> the bot's response_action errors
        self._assets = {name: (HERE / name).read_bytes() for name in STATIC}
        self._page = (
            (HERE / "index.html").read_text(encoding="utf-8").replace("{{prefix}}", esc(self.prefix)).encode()
        )

    # ------------------------------------------------------------------ WSGI
    def __call__(self, environ: dict, start_response: Callable) -> Iterable[bytes]:
        path = environ.get("SCRIPT_NAME", "") + environ.get("PATH_INFO", "")
        method = environ.get("REQUEST_METHOD", "GET").upper()
        try:
            if not (path == self.prefix or path.startswith(self.prefix + "/")):
                raise HttpError(404, "not found")
            rest = path[len(self.prefix) :] or "/"
            if rest == "/":
                self._only(method, "GET")
                return self._respond(start_response, 200, self._page, "text/html; charset=utf-8", page=True)
            if rest.startswith("/static/"):
                self._only(method, "GET")
                name = rest[len("/static/") :]
                if name not in self._assets:
                    raise HttpError(404, "not found")
                return self._respond(start_response, 200, self._assets[name], STATIC[name])
            if rest.startswith("/api/"):
                return self._json(start_response, 200, self._api(method, rest[len("/api/") :], environ))
            raise HttpError(404, "not found")
        except HttpError as exc:
            return self._json(start_response, exc.status, {"error": exc.message})
        except Exception:
            log.exception("sandbox page failed on %s %s", method, path)
            return self._json(
                start_response, 500, {"error": "The sandbox failed on this request; see the log."}
            )

    @staticmethod
    def _only(method: str, *allowed: str) -> None:
        if method not in allowed:
            raise HttpError(405, f"use {' or '.join(allowed)}")

    def _headers(self, content_type: str, length: int, *, page: bool = False) -> list[tuple[str, str]]:
        headers = [
            ("Content-Type", content_type),
            ("Content-Length", str(length)),
            ("Cache-Control", "no-store"),
            ("X-Content-Type-Options", "nosniff"),
            ("Referrer-Policy", "no-referrer"),
        ]
        if page:
            images = " ".join(["'self'", "data:", *self._image_origins()])
            headers.append(
                (
                    "Content-Security-Policy",
                    f"default-src 'none'; script-src 'self'; style-src 'self'; img-src {images}; "
                    "connect-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'",
                )
            )
            headers.append(("X-Frame-Options", "DENY"))
        return headers

    def _respond(
        self, start_response: Callable, status: int, body: bytes, content_type: str, *, page: bool = False
    ) -> list[bytes]:
        start_response(
            f"{status} {HTTPStatus(status).phrase}", self._headers(content_type, len(body), page=page)
        )
        return [body]

    def _json(self, start_response: Callable, status: int, data: Any) -> list[bytes]:
        body = json.dumps(data, ensure_ascii=False, separators=(",", ":"), default=str).encode()
        return self._respond(start_response, status, body, "application/json; charset=utf-8")

    # ------------------------------------------------------------------ API
    def _api(self, method: str, name: str, environ: dict) -> Any:
        if method == "GET":
            query = {k: v[-1] for k, v in parse_qs(environ.get("QUERY_STRING", "")).items()}
            if name == "state":
                return self.state()
            if name == "version":
                return {"version": self.version(self._person(query.get("user")).user_id)}
            if name == "person":
                return self.person(self._person(query.get("user")).user_id)
            raise HttpError(404, f"no GET api/{name}")
        if method != "POST":
            raise HttpError(405, "use GET or POST")
        body = self._body(environ)
        if name == "clock":
            return self.move(str(body.get("step", "")))
        handlers = {
            "action": self.act,
            "submit": self.submit,
            "close": self.close,
            "home": self.open_home,
            "command": self.command,
        }
        if name not in handlers:
            raise HttpError(404, f"no POST api/{name}")
        try:
            return handlers[name](self._person(body.get("user")).user_id, body)
        finally:
            # The driver keeps a keep-alive connection per thread; this server's worker threads are
            # long-lived, and a connection left open would outlive the server's shutdown.
            self.driver.close()

    def _body(self, environ: dict) -> dict:
        content_type = environ.get("CONTENT_TYPE", "").split(";")[0].strip().lower()
        if content_type != "application/json":
            raise HttpError(415, "send JSON (Content-Type: application/json)")
        origin = environ.get("HTTP_ORIGIN")
        if (
            origin
            and origin != "null"
            and urlsplit(origin).netloc.lower() != environ.get("HTTP_HOST", "").lower()
        ):
            raise HttpError(403, "requests from other sites are refused")
        try:
            length = int(environ.get("CONTENT_LENGTH") or 0)
        except ValueError:
            raise HttpError(400, "bad Content-Length") from None
        if length > MAX_BODY:
            raise HttpError(413, "request too large")
        raw = environ["wsgi.input"].read(length) if length else b""
        try:
            data = json.loads(raw or b"{}")
        except ValueError:
            raise HttpError(400, "the body is not valid JSON") from None
        if not isinstance(data, dict):
            raise HttpError(400, "send a JSON object")
        return data

    def _person(self, user_id: Any) -> Any:
        person = self.by_id.get(user_id) if isinstance(user_id, str) else None
        if person is None:
            raise HttpError(404, f"no person {user_id!r} in the sandbox")
        return person

    # ------------------------------------------------------------------ reading
    def _image_origins(self) -> list[str]:
        base = getattr(self.emulator, "base_url", None)
        return [base] if base else []

    def _users(self) -> dict[str, str]:
        return {u["id"]: u.get("real_name") or u.get("name") or u["id"] for u in self.emulator.users()}

    def conversations_for(self, user_id: str) -> list[Conversation]:
        """The channels this person sees in Slack's menus: every public one, and the private ones they
        are in."""
        return [
            Conversation(self.channel_ids[c.name], c.name, c.is_private)
            for c in self.channels
            if not c.is_private or user_id in c.members
        ]

    def _bot(self) -> Author:
        info = self.emulator.user_info(self.emulator.bot_user_id) or {}
        name = info.get("real_name") or self.emulator.bot_name.capitalize()
        return Author(
            name=name, initial=name[:1].upper(), colour=colour(self.emulator.bot_user_id), is_app=True
        )

    def _raw(self, user_id: str) -> dict[str, Any]:
        emu = self.emulator
        views = emu.open_views(user_id)
        with self._errors_lock:
            errors = {v["id"]: self._errors[v["id"]] for v in views if v["id"] in self._errors}
        return {
            "messages": emu.dm_messages(user_id),
            "ephemerals": emu.ephemerals(user_id),
            "home": emu.home_view(user_id),
            "views": views,
            "errors": errors,
        }

    def version(self, user_id: str) -> str:
        """Changes whenever the clock moves, the bot calls the Web API, or anything this person sees changes."""
        raw = self._raw(user_id)
        calls = self.emulator.stats().get("total", 0)
        text = json.dumps([self.clock().isoformat(), calls, raw], sort_keys=True, default=str)
        return hashlib.sha1(text.encode()).hexdigest()[:16]

    def state(self) -> dict[str, Any]:
        now = self.clock()
        people = []
        for person in self.people:
            entry = person_json(person, now, colour_index=self.colours[person.user_id])
            entry["messages"] = len(self.emulator.dm_messages(person.user_id))
            people.append(entry)
        bot = self._bot()
        due = self.next_due(now)
        return {
            "now": now.isoformat(),
            "now_label": f"{now:%a %d %b %Y, %H:%M} UTC",
            "next_due": due.isoformat() if due else None,
            "next_due_label": f"{due:%a %d %b, %H:%M} UTC" if due else None,
            "bot": {"name": bot.name, "initial": bot.initial, "colour": bot.colour},
            "workspace": getattr(self.emulator, "team_name", "Sandbox"),
            "people": people,
        }

    def person(self, user_id: str) -> dict[str, Any]:
        person = self.by_id[user_id]
        now = self.clock()
        raw = self._raw(user_id)
        users = self._users()
        origins = self._image_origins()
        authors = {
            p.user_id: Author(p.name, initials(p.name), self.colours[p.user_id], False) for p in self.people
        }
        dm = self.emulator.dm_channel_id(user_id)
        items = [("message", m) for m in raw["messages"]]
        items += [("ephemeral", e) for e in raw["ephemerals"] if e.get("channel") in (dm, None)]
        items.sort(key=lambda item: float(item[1]["ts"]))
        conversations = self.conversations_for(user_id)
        html = render_timeline(
            items,
            viewer_tz=getattr(person, "tz", "UTC") or "UTC",
            authors=authors,
            bot=self._bot(),
            users=users,
            conversations=conversations,
            image_origins=origins,
        )
        home = raw["home"]
        modal = raw["views"][-1] if raw["views"] else None
        modal_errors = raw["errors"].get(modal["id"]) if modal else None
        return {
            "version": self.version(user_id),
            "now": now.isoformat(),
            "now_label": f"{now:%a %d %b %Y, %H:%M} UTC",
            "person": person_json(person, now, colour_index=self.colours[user_id]),
            "messages": [
                {"kind": kind, "ts": m["ts"], "text": m.get("text"), "blocks": m.get("blocks")}
                for kind, m in items
            ],
            "messages_html": html,
            "home": {
                "view_id": home["id"],
                "blocks": home.get("blocks"),
                "html": render_view(home, users=users, conversations=conversations, image_origins=origins),
            }
            if home
            else None,
            "modal": {
                "view_id": modal["id"],
                "key": f"{modal['id']}:{modal.get('hash')}:{json.dumps(modal_errors, sort_keys=True)}",
                "blocks": modal.get("blocks"),
                "errors": modal_errors,
                "html": render_view(
                    modal,
                    users=users,
                    conversations=conversations,
                    errors=modal_errors,
                    image_origins=origins,
                ),
            }
            if modal
            else None,
        }

    # ------------------------------------------------------------------ acting
    def _surface(self, user_id: str, surface: Any) -> dict:
        """What the driver needs to find the element: the message, the ephemeral message or the view."""
        if not isinstance(surface, dict):
            raise HttpError(400, "say which message or view (surface)")
        kind = surface.get("kind")
        if kind == "message":
            channel, ts = surface.get("channel"), surface.get("ts")
            if not channel or channel != self.emulator.dm_channel_id(user_id) or not isinstance(ts, str):
                raise HttpError(404, "no such message in this person's DM")
            return {"channel": channel, "ts": ts}
        if kind == "ephemeral":
            return {"is_ephemeral": True, "user": user_id, "ts": str(surface.get("ts"))}
        if kind == "view":
            view = self._own_view(user_id, surface.get("view_id"))
            return view
        raise HttpError(400, f"unknown surface kind {kind!r}")

    def _own_view(self, user_id: str, view_id: Any) -> dict:
        view = self.emulator.view(view_id) if isinstance(view_id, str) else None
        if view is None or self.emulator.view_owner(view_id) != user_id:
            raise HttpError(404, "that view is no longer open")
        return view

    @staticmethod
    def _answer(response: Any) -> dict[str, Any]:
        if response is None:
            return {"status": None}
        if response.status != 200:
            raise HttpError(502, f"Sprout answered HTTP {response.status}: {response.text[:200]}")
        return {"status": response.status}

    def act(self, user_id: str, body: dict) -> dict[str, Any]:
        surface = self._surface(user_id, body.get("surface"))
        action_id = body.get("action_id")
        if not isinstance(action_id, str) or not action_id:
            raise HttpError(400, "say which element (action_id)")
        try:
            if "selected" in body:
                response = self.driver.select(user_id, surface, action_id, body["selected"])
            else:
                value = body.get("value")
                response = self.driver.click(
                    user_id, surface, action_id=action_id, value=value if isinstance(value, str) else None
                )
        except LookupError as exc:
            raise HttpError(409, f"That element is gone (the message or view changed): {exc}") from None
        return self._answer(response)

    def submit(self, user_id: str, body: dict) -> dict[str, Any]:
        view = self._own_view(user_id, body.get("view_id"))
        stack = self.emulator.open_views(user_id)
        if not stack or stack[-1]["id"] != view["id"]:
            raise HttpError(409, "that modal is not the one on top")
        entered = body.get("values") or {}
        if not isinstance(entered, dict):
            raise HttpError(400, "values must be an object of block_id → {action_id: value}")
        values: dict[str, dict[str, Any]] = {}
        missing: dict[str, str] = {}
        for block in view.get("blocks") or []:
            element = block.get("element")
            if block.get("type") != "input" or not isinstance(element, dict):
                continue
            block_id, action_id = block["block_id"], element.get("action_id")
            given = entered.get(block_id)
            value = given.get(action_id) if isinstance(given, dict) else None
            if element.get("type") in TEXT_INPUTS and value == "":
                value = None
            if value in (None, []) and not block.get("optional"):
                missing[block_id] = REQUIRED
            values[block_id] = {action_id: value}
        if missing:
            # The Slack client refuses to submit with an empty required field, and says so under it.
            return {"status": None, "errors": missing}
        try:
            response = self.driver.submit_view(user_id, view["id"], values)
        except LookupError as exc:
            raise HttpError(409, str(exc)) from None
        result = self._answer(response)
        errors = response.view_errors
        with self._errors_lock:
            if errors:
                self._errors[view["id"]] = {str(k): str(v) for k, v in errors.items()}
            else:
                self._errors.pop(view["id"], None)
        result["errors"] = errors or None
        return result

    def close(self, user_id: str, body: dict) -> dict[str, Any]:
        view = self._own_view(user_id, body.get("view_id"))
        response = self.driver.close_view(user_id, view["id"])
        with self._errors_lock:
            self._errors.pop(view["id"], None)
        return self._answer(response)

    def open_home(self, user_id: str, body: dict) -> dict[str, Any]:
        return self._answer(self.driver.app_home_opened(user_id))

    def command(self, user_id: str, body: dict) -> dict[str, Any]:
        text = body.get("text")
        match = COMMAND.match(text.strip()) if isinstance(text, str) else None
        if match is None:
            raise HttpError(400, "type a slash command, like /learn packs")
        return self._answer(self.driver.command(user_id, match.group(1), (match.group(2) or "").strip()))

    def move(self, step: str) -> dict[str, Any]:
        if step != "next" and step not in STEPS:
            raise HttpError(400, f"step must be next, {', '.join(STEPS)}")
        with self._clock_lock:
            move = move_clock(step, clock=self.clock, tick=self.tick, next_due=self.next_due)
        now = move.now
        if step == "next" and not move.moved:
            message = "Nothing is scheduled yet: enroll someone first (/learn enroll <pack-id>)."
        else:
            sent = f"{move.sent} message{'s' if move.sent != 1 else ''} sent"
            message = f"Now {now:%a %d %b, %H:%M} UTC — {sent}."
        return {
            "now": now.isoformat(),
            "now_label": f"{now:%a %d %b %Y, %H:%M} UTC",
            "ticks": [t.isoformat() for t in move.ticks],
            "sent": move.sent,
            "message": message,
        }
