"""The HTTP front door: Bolt at POST /slack/events, a health check, served by waitress."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable

from slack_bolt import App
from slack_bolt.adapter.wsgi import SlackRequestHandler

EVENTS_PATH = "/slack/events"
# Slack's requests are a few kilobytes (a modal's state, the largest, far less than this): a larger body
# is refused with 413 by the server, before it is read.
MAX_BODY = 1024 * 1024

WSGIApp = Callable[[dict, Callable], Iterable[bytes]]


def health_app(
    healthy: Callable[[], bool | str], *, socket: Callable[[], str | None] | None = None,
    starting: Callable[[], int] | None = None,
) -> WSGIApp:
    """GET /healthz: 200 while the database answers, 503 when it does not (with the reason ``healthy``
    gives instead of True); 404 for anything else.

    ``socket`` (Socket Mode): the WebSocket's state, "connected", or why not ("reconnecting …"): a
    Sprout that cannot hear Slack is not healthy either, and says so.

    ``starting``: how many scheduler jobs due at start have not run yet (``first_jobs_waiting``; 0 once the
    first planning and sending are done). It does not make the answer unhealthy."""

    def application(environ: dict, start_response: Callable) -> Iterable[bytes]:
        if environ.get("PATH_INFO", "") != "/healthz":
            start_response("404 Not Found", [("Content-Type", "text/plain")])
            return [b"not found"]
        answer = healthy()
        database_ok = answer is True
        report: dict = {"ok": database_ok, "database": "reachable" if database_ok else "unreachable"}
        if not database_ok:
            report["reason"] = answer if isinstance(answer, str) and answer else "the database did not answer"
        if socket is not None:
            state = socket()
            report["socket_mode"] = state or "connected"
            if state is not None:
                report["ok"] = False
                report.setdefault("reason", f"Socket Mode: {state}")
        if starting is not None:
            report["first_jobs_waiting"] = starting()
        ok = report["ok"]
        body = json.dumps(report).encode()
        start_response("200 OK" if ok else "503 Service Unavailable",
                       [("Content-Type", "application/json"), ("Content-Length", str(len(body)))])
        return [body]

    return application


def wsgi_app(
    bolt: App, *, healthy: Callable[[], bool], extra: dict[str, WSGIApp] | None = None,
    starting: Callable[[], int] | None = None,
) -> WSGIApp:
    slack = SlackRequestHandler(bolt, path=EVENTS_PATH)
    routes = dict(extra or {})
    health = health_app(healthy, starting=starting)

    def application(environ: dict, start_response: Callable) -> Iterable[bytes]:
        path = environ.get("PATH_INFO", "")
        if path == "/healthz":
            return health(environ, start_response)
        for prefix, app in routes.items():
            if path == prefix or path.startswith(prefix.rstrip("/") + "/"):
                return app(environ, start_response)
        return slack(environ, start_response)

    return application


class HttpServer:
    """waitress, multi-threaded, in a background thread; ``port=0`` picks a free port."""

    def __init__(self, app: WSGIApp, *, host: str = "127.0.0.1", port: int = 3000, threads: int = 32) -> None:
        from waitress.server import create_server

        self._server = create_server(app, host=host, port=port, threads=threads, ident="sprout",
                                     clear_untrusted_proxy_headers=True, channel_timeout=30,
                                     max_request_body_size=MAX_BODY)
        self.host = host
        self.port = self._server.effective_port
        self._thread = None

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}"

    def start(self) -> HttpServer:
        import threading

        self._thread = threading.Thread(target=self._server.run, name="sprout-http", daemon=True)
        self._thread.start()
        return self

    def serve_forever(self) -> None:
        self._server.run()

    def stop(self) -> None:
        """Stop accepting, finish the requests in hand, close idle keep-alive connections."""
        server = self._server
        server.task_dispatcher.shutdown(cancel_pending=False, timeout=5)
        trigger = getattr(server, "trigger", None)

        def close_everything() -> None:
            # waitress's loop runs while any socket is in its map, keep-alive connections included;
            # closing them on the loop's own thread avoids racing its select().
            for channel in list(server._map.values()):
                if channel is not trigger:
                    channel.close()
            if trigger is not None:
                trigger.close()

        if self._thread is not None and self._thread.is_alive() and trigger is not None:
            trigger.pull_trigger(close_everything)
            self._thread.join(timeout=5)
        else:
            close_everything()
