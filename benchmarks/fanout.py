"""Benchmarks 1 and 3 of the delivery engine: fan-out time, CPU and memory of a whole ``tick``.

One lesson to N enrolled learners through ``python app.py tick``, timed from the process's start to its exit
(start-up, migrations check, planning, fan-out), against the emulator (in its own process, no rate limit),
beside two baselines sending the same N already-rendered messages to the same learners in the same run:

- the sequential slack-sdk ``WebClient`` loop, which opens a new connection for every call (``urllib``);
  the same loop over one keep-alive connection (``AsyncWebClient``, one call at a time) is shown beside it;
- ``--senders`` (8) concurrent ``AsyncWebClient`` senders sharing one keep-alive ``aiohttp`` session: as
  fast as this emulator can be sent to from Python, with nothing else to do.

The baselines run before Sprout and again after it, and each is the mean of its two runs.

    python benchmarks/fanout.py [--learners 10000] [--database-url postgresql+psycopg://…]

Targets: the whole tick ≤ 0.6× the sequential loop's time and ≤ 1.0× the concurrent baseline's; at most
1 ms of Sprout CPU per delivery (the tick process's own, start-up included); peak RSS of the tick under
200 MB; no copy lost or duplicated.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import os
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from datetime import UTC, datetime

from _common import (
    ROOT,
    TOKEN,
    Results,
    copies_per_learner,
    database,
    emulator_cpu_s,
    emulator_process,
    emulator_rss_mb,
    enroll,
    sprout_env,
    user_id,
)

AT = "2026-11-30T09:30:00Z"


def rendered_lesson():
    """The message Sprout sends, rendered once (the baselines get it for free)."""
    from bot.blocks import lesson_message
    from content_packs.loader import BUNDLED_DIR, load_packs
    from db.store import DeliveryState

    pack = load_packs(BUNDLED_DIR).packs["security-basics"]
    lesson = pack.lessons[0]
    now = datetime(2026, 11, 30, 9, 30, tzinfo=UTC)
    state = DeliveryState(id=1, learner_id=1, slack_user_id="U", learner_name="", pack_id=pack.id,
                          lesson_id=lesson.id, pack_version=pack.version, kind="scheduled", status="queued",
                          due_at=now, sent_at=None, channel_id=None, message_ts=None)
    return lesson_message(pack, lesson, state)


@dataclass
class Run:
    seconds: float
    cpu: float  # of this (client) process
    server_cpu: float = 0.0  # of the emulator process, over the same run


def timed(send) -> Run:
    cpu = time.process_time()
    started = time.perf_counter()
    send()
    return Run(time.perf_counter() - started, time.process_time() - cpu)


def sequential(api_url: str, learners: int, message) -> Run:
    """slack-sdk's ``WebClient``, one call after another: ``urllib`` opens a connection for each."""
    from slack_sdk import WebClient

    client = WebClient(token=TOKEN, base_url=api_url)

    def send():
        for i in range(1, learners + 1):
            client.chat_postMessage(channel=user_id(i), text=message.text, blocks=message.blocks)

    return timed(send)


def concurrent(api_url: str, learners: int, message, senders: int) -> Run:
    """``senders`` ``AsyncWebClient`` coroutines sharing one keep-alive aiohttp session (one: sequential)."""
    import aiohttp
    from slack_sdk.web.async_client import AsyncWebClient

    async def fan_out():
        async with aiohttp.ClientSession() as session:
            client = AsyncWebClient(token=TOKEN, base_url=api_url, session=session)
            queue = iter(range(1, learners + 1))

            async def sender():
                for i in queue:  # one shared iterator: each learner is taken by exactly one sender
                    answer = await client.chat_postMessage(channel=user_id(i), text=message.text,
                                                           blocks=message.blocks)
                    if not answer["ok"]:
                        raise RuntimeError(answer)

            await asyncio.gather(*(sender() for _ in range(senders)))

    return timed(lambda: asyncio.run(fan_out()))


@dataclass
class Tick:
    seconds: float
    cpu: float
    peak_rss_mb: float
    returncode: int
    stdout: str
    stderr: str


def sprout_tick(env: dict[str, str], profile: str | None = None) -> Tick:
    """``python app.py tick`` from fork to exit, with the CPU and peak memory of that process alone.

    With ``profile``, the tick runs under ``py-spy record`` (raw stacks, native frames off) and the figures are
    py-spy's process tree's, so they are for finding where the time goes, not for the targets."""
    command = [sys.executable, "app.py", "tick", "--at", AT]
    if profile:
        command = ["py-spy", "record", "--format", "raw", "--rate", "500", "--output", profile, "--", *command]
    with tempfile.TemporaryFile("w+") as out, tempfile.TemporaryFile("w+") as err:
        started = time.perf_counter()
        process = subprocess.Popen(command, cwd=ROOT, env=env, stdout=out, stderr=err, text=True)
        _, status, usage = os.wait4(process.pid, 0)
        elapsed = time.perf_counter() - started
        process.returncode = os.waitstatus_to_exitcode(status)
        out.seek(0)
        err.seek(0)
        return Tick(elapsed, usage.ru_utime + usage.ru_stime, usage.ru_maxrss / 1024, process.returncode,
                    out.read(), err.read())


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--learners", type=int, default=10_000)
    parser.add_argument("--database-url", help="PostgreSQL URL (a fresh schema is used); default: SQLite file")
    parser.add_argument("--senders", type=int, default=8)
    parser.add_argument("--profile", metavar="FILE", help="run the tick under py-spy (raw stacks) and skip the baselines")
    args = parser.parse_args()
    n = args.learners
    r = Results("fanout")

    from bot.library_logging import settle_library_logging

    # As Sprout runs: slack-sdk formats no debug lines it would drop (bot/library_logging.py).
    settle_library_logging(logging.WARNING)
    message = rendered_lesson()

    def baselines() -> dict[str, Run]:
        """Each baseline against an emulator of its own, as Sprout's is: the emulator keeps every message it
        is sent, and one that already holds tens of thousands answers more slowly (measured: Sprout's
        fan-out took 8.0 s after three baselines' 30,000 messages, 6.2 s on a fresh emulator)."""
        runs = {}
        for name, run in (("sequential", lambda url: sequential(url, n, message)),
                          ("keep-alive", lambda url: concurrent(url, n, message, 1)),
                          ("concurrent", lambda url: concurrent(url, n, message, args.senders))):
            with emulator_process(n, "--rate-tiers", "none") as url:
                server = emulator_cpu_s(url)
                runs[name] = run(url)
                runs[name].server_cpu = emulator_cpu_s(url) - server
        return runs

    with emulator_process(n, "--rate-tiers", "none") as api_url, database(args.database_url) as database_url:
        enroll(database_url, n)
        emulator_start_mb = emulator_rss_mb(api_url)
        # Before Sprout and again after it, averaged: on a shared machine the speed drifts by a tenth within a
        # minute, which one baseline run would put into the ratio.
        if args.profile:
            tick = sprout_tick(sprout_env(database_url, api_url, SLACK_RATE_PER_MINUTE="10000000",
                                          SLACK_RATE_BURST="10000", SPROUT_SENDERS=str(args.senders)), args.profile)
            print(tick.stdout, tick.stderr[-2000:], f"{tick.seconds:.1f} s", sep="\n")
            return tick.returncode
        before = baselines()
        emulator_before_mb = emulator_rss_mb(api_url)  # Sprout's emulator, still fresh
        env = sprout_env(database_url, api_url, SLACK_RATE_PER_MINUTE="10000000", SLACK_RATE_BURST="10000",
                         SPROUT_SENDERS=str(args.senders))
        server = emulator_cpu_s(api_url)
        tick = sprout_tick(env)
        tick_server_cpu = emulator_cpu_s(api_url) - server
        if tick.returncode != 0:
            print(tick.stderr, file=sys.stderr)
            return 1
        after = baselines()
        emulator_after_mb = emulator_rss_mb(api_url)

        stamps: list[float] = []
        copies = copies_per_learner(api_url, n, stamps)  # the baselines' messages carry no metadata
        lost = sum(1 for c in copies.values() if c == 0)
        duplicates = sum(max(0, c - 1) for c in copies.values())
        fan_out = max(stamps) - min(stamps) if len(stamps) > 1 else float("nan")

    mean = {k: (before[k].seconds + after[k].seconds) / 2 for k in before}
    client_cpu = {k: (before[k].cpu + after[k].cpu) / 2 / n * 1000 for k in before}
    server_cpu = {k: (before[k].server_cpu + after[k].server_cpu) / 2 / n * 1000 for k in before}
    backend = "postgresql" if args.database_url else "sqlite"
    r.say(f"fan-out of one lesson to {n} learners ({backend}, {args.senders} senders, emulator in its own process, "
          f"load average {os.getloadavg()[0]:.2f})")
    labels = {"sequential": "sequential WebClient loop",
              "keep-alive": "sequential, keep-alive",
              "concurrent": f"{args.senders} concurrent AsyncWebClient"}
    for key, label in labels.items():
        r.say(f"  {label:32}{n / mean[key]:8.0f} msg/s  {mean[key]:6.1f} s  (mean of {n / before[key].seconds:.0f} "
              f"msg/s before Sprout and {n / after[key].seconds:.0f} after; client CPU {client_cpu[key]:.2f} ms/msg, "
              f"emulator {server_cpu[key]:.2f})")
    r.say(f"  {'sprout tick, start to exit':32}{n / tick.seconds:8.0f} msg/s  {tick.seconds:6.1f} s  "
          f"(process start, migrations check, planning {n} deliveries, fan-out)")
    r.say(f"  {'sprout fan-out, first to last':32}{n / fan_out:8.0f} msg/s  {fan_out:6.1f} s  "
          f"(the emulator's timestamps of the first and last lesson)")
    seq_ratio = tick.seconds / mean["sequential"]
    conc_ratio = tick.seconds / mean["concurrent"]
    r.say(f"  tick time / sequential loop's      {seq_ratio:6.2f}   (/ keep-alive sequential: "
          f"{tick.seconds / mean['keep-alive']:.2f})")
    r.say(f"  tick time / concurrent baseline's  {conc_ratio:6.2f}   (fan-out alone: {fan_out / mean['concurrent']:.2f})")
    cpu_ms = tick.cpu / n * 1000
    r.say(f"  sprout CPU per delivery        {cpu_ms:8.2f} ms   ({tick.cpu:.1f} s of the tick process, start-up included)")
    # One Python process runs on one core at a time (the GIL), and the emulator shares this machine's cores:
    # a tick can take no less than its own CPU, nor less than its and the emulator's CPU spread over them all.
    cores = os.cpu_count() or 1
    floor = max(tick.cpu, (tick.cpu + tick_server_cpu) / cores)
    r.say(f"  emulator CPU per Sprout message {tick_server_cpu / n * 1000:7.2f} ms   (the floor this CPU puts under the "
          f"tick on {cores} cores: {floor:.1f} s = {floor / mean['sequential']:.2f}× the sequential loop's time)")
    r.say(f"  sprout peak RSS                {tick.peak_rss_mb:8.0f} MB")
    r.say(f"  lost / duplicate copies        {lost} / {duplicates}")
    r.say(f"  Sprout's emulator RSS          {emulator_start_mb:.0f} MB at start, {emulator_before_mb:.0f} MB before "
          f"the tick, {emulator_after_mb:.0f} MB after it ({n} messages; each baseline had a fresh emulator)")
    r.say(f"  tick said: {tick.stdout.strip()}")
    r.target("whole tick ≤ 0.6× the sequential WebClient loop's time", seq_ratio <= 0.6)
    r.target(f"whole tick ≤ 1.0× the {args.senders} concurrent AsyncWebClient senders' time", conc_ratio <= 1.0)
    r.target("≤ 1 ms of Sprout CPU per delivery", cpu_ms <= 1.0)
    r.target("peak RSS of the tick < 200 MB", tick.peak_rss_mb < 200)
    r.target("no copy lost, none duplicated", lost == 0 and duplicates == 0 and len(copies) == n)
    return r.finish()


if __name__ == "__main__":
    sys.exit(main())
