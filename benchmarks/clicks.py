"""Benchmark: quiz clicks acknowledged under a burst, against a bare Bolt app in the same run.

300 learners each get a lesson (``python app.py tick``); ``python app.py run`` then serves their answer
clicks, fired 50 at a time as signed ``block_actions`` requests built from the live lesson messages (read
back through the Web API, as Slack would send them). In the same run, a bare Bolt app on the same HTTP
server stack (``bot.http.HttpServer``: waitress, the same thread count) with one listener that acks and
does nothing gets the same 300 requests. Both run in processes of their own; so does the emulator, with no
rate limit (``--rate-tiers none``), so what is measured is Sprout, not Slack's pacing.

    python benchmarks/clicks.py [--learners 300] [--concurrency 50] [--database-url postgresql+psycopg://…]

Targets: Sprout's ack p99 within 2× the bare app's and under 300 ms; every click recorded once; every
lesson message updated within 2 s of its click.
"""

from __future__ import annotations

import argparse
import hashlib
import hmac
import http.client
import json
import os
import re
import statistics
import subprocess
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from urllib.parse import urlencode

from _common import ROOT, TOKEN, Results, database, emulator_process, enroll, free_port, sprout_env, user_id

SECRET = "bench"
TEAM = "T0SANDBOX"


# ---------------------------------------------------------------------------------------------- the bare app
def serve_bare(port: int, api_url: str) -> None:
    """A Bolt app as bare as Bolt gets, configured as Sprout's is (process_before_response, the same
    server): one listener for the answer buttons, which acks."""
    from slack_bolt import App
    from slack_sdk import WebClient

    from bot.blocks import ANSWER_ACTION
    from bot.http import HttpServer, wsgi_app

    app = App(token=TOKEN, signing_secret=SECRET, client=WebClient(token=TOKEN, base_url=api_url),
              process_before_response=True, token_verification_enabled=False)

    @app.action(re.compile(rf"^{ANSWER_ACTION}:\d+$"))
    def answer(ack) -> None:
        ack()

    server = HttpServer(wsgi_app(app, healthy=lambda: True), host="127.0.0.1", port=port)
    print(f"bare Bolt app is listening on {server.url}/slack/events", flush=True)
    server.serve_forever()


def start(command: list[str], env: dict | None = None) -> subprocess.Popen:
    process = subprocess.Popen(command, cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    banner = process.stdout.readline()
    if "is listening on" not in banner:
        process.kill()
        raise RuntimeError(f"{command[1:3]} did not start: {banner}{process.stderr.read()}")
    return process


def stop(process: subprocess.Popen) -> str:
    process.terminate()
    try:
        _, err = process.communicate(timeout=20)
    except subprocess.TimeoutExpired:
        process.kill()
        _, err = process.communicate()
    return err


# ------------------------------------------------------------------------------------------- the payloads
def lesson_messages(api_url: str, learners: int) -> dict[str, tuple[str, dict]]:
    """Each learner's lesson message as Slack shows it: (channel, message)."""
    from slack_sdk import WebClient

    client = WebClient(token=TOKEN, base_url=api_url)
    found = {}
    for i in range(1, learners + 1):
        channel = client.conversations_open(users=user_id(i))["channel"]["id"]
        page = client.conversations_history(channel=channel, limit=50, include_all_metadata=True)
        ours = [m for m in page["messages"] if (m.get("metadata") or {}).get("event_type") == "sprout_delivery"]
        if len(ours) != 1:
            raise RuntimeError(f"{user_id(i)} holds {len(ours)} lessons, not 1")
        found[user_id(i)] = (channel, ours[0])
    return found


def answer_click(user: str, channel: str, message: dict, port_of_emulator: int, n: int) -> bytes:
    """The block_actions request Slack sends when ``user`` presses the first answer button of ``message``."""
    block, button = next((b, e) for b in message["blocks"] if b.get("type") == "actions"
                         for e in b["elements"] if e.get("action_id", "").startswith("answer:"))
    now = time.time()
    payload = {
        "type": "block_actions",
        "user": {"id": user, "username": user.lower(), "name": user.lower(), "team_id": TEAM},
        "api_app_id": "A0SANDBOX",
        "token": "bench-verification-token",
        "container": {"type": "message", "message_ts": message["ts"], "channel_id": channel, "is_ephemeral": False},
        "trigger_id": f"{int(now)}.{1000000000 + n}.{n:016x}",
        "team": {"id": TEAM, "domain": "sandbox"},
        "enterprise": None,
        "is_enterprise_install": False,
        "channel": {"id": channel, "name": "directmessage"},
        "message": message,
        "state": {"values": {}},
        # Not one the emulator issued: Sprout only uses it to tell a learner they already answered.
        "response_url": f"http://127.0.0.1:{port_of_emulator}/response/{TEAM}/bench{n}/{n:024x}",
        "actions": [{"action_id": button["action_id"], "block_id": block["block_id"], "text": button["text"],
                     "value": button["value"], "type": "button", "action_ts": f"{now:.6f}"}],
    }
    return urlencode({"payload": json.dumps(payload, separators=(",", ":"))}).encode()


# -------------------------------------------------------------------------------------------- the burst
def burst(port: int, bodies: list[tuple[str, bytes]], concurrency: int) -> tuple[list[float], dict[str, float], int]:
    """Every body POSTed, ``concurrency`` at a time, each signed when it is sent, over keep-alive connections
    (one per sender). Returns the ack latencies (s), the wall time each user's click was sent, and how many
    answers were not a 200."""
    local = threading.local()
    latencies: list[float] = []
    sent_at: dict[str, float] = {}
    failures = 0
    lock = threading.Lock()

    def one(item: tuple[str, bytes]) -> None:
        nonlocal failures
        user, body = item
        conn = getattr(local, "conn", None)
        if conn is None:
            conn = local.conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        timestamp = str(int(time.time()))
        signature = "v0=" + hmac.new(SECRET.encode(), b"v0:" + timestamp.encode() + b":" + body,
                                     hashlib.sha256).hexdigest()
        headers = {"Content-Type": "application/x-www-form-urlencoded", "X-Slack-Request-Timestamp": timestamp,
                   "X-Slack-Signature": signature, "User-Agent": "Slackbot 1.0 (+https://api.slack.com/robots)"}
        wall = time.time()
        started = time.perf_counter()
        conn.request("POST", "/slack/events", body=body, headers=headers)
        response = conn.getresponse()
        response.read()
        elapsed = time.perf_counter() - started
        with lock:
            latencies.append(elapsed)
            sent_at[user] = wall
            if response.status != 200:
                failures += 1

    with ThreadPoolExecutor(concurrency) as pool:
        list(pool.map(one, bodies))
    return latencies, sent_at, failures


WARM = 8  # learners beyond the burst's, whose clicks warm each app up first (imports, connections)


def warm_up(port: int, bodies: list[tuple[str, bytes]]) -> None:
    """A few requests first, so neither app pays for its first imports in the figures."""
    burst(port, bodies, 4)


def cpu_seconds(pid: int) -> float:
    """User and system CPU time of process ``pid`` so far (Linux)."""
    with open(f"/proc/{pid}/stat") as stat:
        fields = stat.read().rpartition(")")[2].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def percentile(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(p / 100 * len(ordered) + 0.5) - 1))]


def figures(latencies: list[float]) -> str:
    ms = [v * 1000 for v in latencies]
    return (f"p50 {statistics.median(ms):6.1f} ms  p95 {percentile(ms, 95):6.1f} ms  "
            f"p99 {percentile(ms, 99):6.1f} ms  max {max(ms):6.1f} ms")


def updated_after(api_url: str, messages: dict[str, tuple[str, dict]], sent_at: dict[str, float],
                  deadline: float) -> dict[str, float]:
    """Seconds from each click to its message's update (``edited.ts``, the emulator's clock, the same wall
    clock as the sender's), polled until every message shows an update after its click or ``deadline``."""
    from slack_sdk import WebClient

    client = WebClient(token=TOKEN, base_url=api_url)
    delays: dict[str, float] = {}
    while len(delays) < len(sent_at) and time.monotonic() < deadline:
        for user, (channel, message) in messages.items():
            if user in delays or user not in sent_at:
                continue
            page = client.conversations_history(channel=channel, latest=message["ts"], inclusive=True, limit=1)
            edited = (page["messages"][0].get("edited") or {}) if page["messages"] else {}
            if edited and float(edited["ts"]) >= sent_at[user]:
                delays[user] = float(edited["ts"]) - sent_at[user]
        time.sleep(0.2)
    return delays


def answers_per_learner(database_url: str) -> dict[str, int]:
    from sqlalchemy import func, select

    from db.engine import make_engine
    from db.models import Answer, Delivery, Learner

    engine = make_engine(database_url)
    with engine.connect() as conn:
        rows = conn.execute(select(Learner.slack_user_id, func.count(Answer.id))
                            .join(Delivery, Delivery.learner_id == Learner.id)
                            .join(Answer, Answer.delivery_id == Delivery.id)
                            .group_by(Learner.slack_user_id)).all()
    engine.dispose()
    return {user: n for user, n in rows}


def last_working_morning(now: datetime) -> datetime:
    """09:30 UTC on the latest weekday at least an hour before ``now``: the lesson the learners hold, with
    the next one not due while the benchmark runs."""
    day = (now - timedelta(hours=1)).replace(hour=9, minute=30, second=0, microsecond=0)
    if day > now - timedelta(hours=1):
        day -= timedelta(days=1)
    while day.weekday() >= 5:
        day -= timedelta(days=1)
    return day


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--learners", type=int, default=300)
    parser.add_argument("--concurrency", type=int, default=50)
    parser.add_argument("--database-url", help="PostgreSQL URL (a fresh schema is used); default: SQLite file")
    parser.add_argument("--profile", metavar="FILE",
                        help="record where Sprout's time goes during the burst with py-spy (raw, --idle, --threads)")
    parser.add_argument("--serve-bare", nargs=2, metavar=("PORT", "API_URL"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.serve_bare:
        serve_bare(int(args.serve_bare[0]), args.serve_bare[1])
        return 0
    n, results = args.learners, Results("clicks")
    backend = "postgresql" if args.database_url else "sqlite"

    with emulator_process(n + WARM, "--rate-tiers", "none") as api_url, database(args.database_url) as database_url:
        emulator_port = int(api_url.split(":")[2].split("/")[0])
        enroll(database_url, n + WARM)
        at = last_working_morning(datetime.now(UTC))
        env = sprout_env(database_url, api_url, SLACK_SIGNING_SECRET=SECRET, SLACK_RATE_PER_MINUTE="10000000",
                         SLACK_RATE_BURST="10000")
        tick = subprocess.run([sys.executable, "app.py", "tick", "--at", at.isoformat()], cwd=ROOT, env=env,
                              capture_output=True, text=True)
        if tick.returncode != 0:
            print(tick.stderr, file=sys.stderr)
            return 1
        everyone = lesson_messages(api_url, n + WARM)
        clicks = [(user, answer_click(user, channel, message, emulator_port, i))
                  for i, (user, (channel, message)) in enumerate(everyone.items())]
        bodies, warm = clicks[:n], clicks[n:]
        messages = {user: everyone[user] for user, _ in bodies}

        bare_port = free_port()
        bare = start([sys.executable, "benchmarks/clicks.py", "--serve-bare", str(bare_port), api_url])
        try:
            warm_up(bare_port, warm)
            bare_cpu = cpu_seconds(bare.pid)
            bare_latencies, _, bare_failed = burst(bare_port, bodies, args.concurrency)
            bare_cpu = cpu_seconds(bare.pid) - bare_cpu
        finally:
            stop(bare)

        port = free_port()
        sprout = start([sys.executable, "app.py", "run", "--host", "127.0.0.1", "--port", str(port)], env)
        try:
            warm_up(port, warm)
            spy = None
            if args.profile:
                spy = subprocess.Popen(["py-spy", "record", "--pid", str(sprout.pid), "--format", "raw", "--gil", "--nonblocking",
                                        "--rate", "1000", "--output", args.profile],
                                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
                time.sleep(1.0)  # py-spy attaches
            cpu_before = cpu_seconds(sprout.pid)
            latencies, sent_at, failed = burst(port, bodies, args.concurrency)
            if spy is not None:
                time.sleep(1.0)
                spy.send_signal(2)
                spy.wait(timeout=30)
            delays = updated_after(api_url, messages, sent_at, time.monotonic() + 30)
            cpu = cpu_seconds(sprout.pid) - cpu_before
        finally:
            log = stop(sprout)
        answers = answers_per_learner(database_url)

    ratio = percentile(latencies, 99) / percentile(bare_latencies, 99)
    within = sum(1 for d in delays.values() if d <= 2.0)
    recorded_once = sum(1 for user, _ in bodies if answers.get(user) == 1)
    results.say(f"{n} answer clicks from {n} learners, {args.concurrency} at a time ({backend}; the emulator and "
                "each app in processes of their own, no rate limit)")
    results.say(f"  bare Bolt app   {figures(bare_latencies)}   ({bare_failed} not 200)")
    results.say(f"  sprout          {figures(latencies)}   ({failed} not 200)")
    results.say(f"  ack p99 ratio   {ratio:.2f}× the bare app's")
    if delays:
        shown = [d * 1000 for d in delays.values()]
        results.say(f"  message updated after its click: p50 {statistics.median(shown):.0f} ms, "
                    f"p99 {percentile(shown, 99):.0f} ms, max {max(shown):.0f} ms; {within}/{n} within 2 s")
    results.say(f"  CPU per click: bare app {bare_cpu / n * 1000:.1f} ms, sprout {cpu / n * 1000:.1f} ms (its ack "
                "and drawing included)")
    results.say(f"  answers recorded once: {recorded_once}/{n} (learners with more: "
                f"{sum(1 for v in answers.values() if v > 1)})")
    errors = [line for line in log.splitlines() if " ERROR " in line or "Traceback" in line]
    if errors:
        results.say(f"  sprout logged {len(errors)} errors, the first: {errors[0][:200]}")
    results.target("sprout's ack p99 within 2× the bare app's", ratio <= 2.0)
    results.target("sprout's ack p99 under 300 ms", percentile(latencies, 99) < 0.300)
    results.target("every click answered 200", failed == 0 and bare_failed == 0)
    results.target("every click recorded once", recorded_once == n and len(answers) == n + WARM)
    results.target("every message updated within 2 s of its click", within == n)
    return results.finish()


if __name__ == "__main__":
    sys.exit(main())
