"""Chaos: two replicas on one PostgreSQL, a faulty Bot API, one replica killed mid-run and restarted.

    python -m bench.chaos --database-url postgresql+asyncpg://postgres@127.0.0.1:5432/postgres \\
        [--reports 500] [--citizens 50] [--seed 1]

(`bash .ci/postgres.sh start DIR` prints such a URL; a fresh database is made on it and dropped.)
Citizens report through the emulator's webhook, which balances updates over the two replicas; 10 %
of Bot API calls fail with 500/502, 2 % with 429, 0.5 % take effect and then answer 502 (the client
cannot tell: Telegram "timed out"). At a random moment (when 20-60 % of the reports are in) one
replica is SIGKILLed and started again. Every category's `respond` limit is 1 minute with the
warning at half time, so each case has two deadline steps that fire during the run.

Checked at the end: every case's card reached its street's group, every receipt its citizen, no
message with a case number arrived twice except as many as the ambiguous answers explain (502 after
the effect, a send cut by the kill), every deadline step fired once (trace events and group
messages), no outbox row failed. `tests/test_chaos.py` runs a short form in CI.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

from bench.cluster import Cluster, one_report
from emulator.chaos import Chaos
from emulator.images import jpeg
from geo.streets import StreetIndex

IN_FLIGHT_AT_KILL = 16 + 64  # the outbox's parallel sends and the updates a replica may have under way


def tweak(raw: dict) -> None:
    raw["telegram"]["limits"] = {"per_second": 200, "per_group_minute": 600}  # the emulator has no limits
    for c in raw["categories"]:
        c["limits"] = {"respond": "1m", "resolve": "1d"}
    raw["escalation"]["warn_at"] = 0.5
    raw["escalation"]["after"] = ["0m", "30m", "60m", "90m"]  # only the lapse falls inside the run


async def run(admin_url: str, reports: int, citizens: int, seed: int = 1, kill: bool = True,
              settle_timeout: float = 240) -> dict:
    rng = random.Random(seed)
    with tempfile.TemporaryDirectory(prefix="frontline-chaos-") as tmp:
        # A short claim lease: the killed replica's rows go to the other after 5 s, not 30.
        async with Cluster(admin_url, Path(tmp), 2, tweak, env={"FRONTLINE_OUTBOX_CLAIM_S": "5"}) as c:
            d = c.district
            d.emu.chaos = chaos = Chaos(p_5xx=0.10, p_429=0.02, p_after_send=0.005, retry_after=1, seed=seed)
            cfg = d.cfg
            index = StreetIndex.from_geojson(cfg.geo.streets_file)
            streets = [s.name for s in cfg.streets]
            points = {s: index.representative_point(s) for s in streets}
            photos = [jpeg(320, 240, label=f"chaos {i}") for i in range(8)]
            todo = iter(range(reports))
            stalled = []

            async def citizen(k: int) -> None:
                user = d.citizen(200_000 + k)
                for i in todo:
                    try:
                        await one_report(d, user, photos[i % len(photos)], *points[streets[i % len(streets)]],
                                         timeout=30)
                    except AssertionError:  # a question never came: the citizen starts over
                        stalled.append(i)
                        await d.emu.send_text(user, user.id, "/cancel")
                        await asyncio.sleep(1)

            killed = {}

            async def killer() -> None:
                at = rng.randint(max(1, reports // 5), max(1, reports * 3 // 5))
                while (await asyncio.to_thread(c.query, "select count(*) from cases"))[0][0] < at:
                    await asyncio.sleep(0.2)
                await asyncio.sleep(rng.random())
                victim = rng.randrange(2)
                c.kill(victim)
                killed.update(replica=victim, after_cases=at, at=time.monotonic())
                await asyncio.sleep(1.0)
                await c.start(victim)
                killed["restarted_after_s"] = round(time.monotonic() - killed["at"], 1)

            t0 = time.monotonic()
            tasks = [asyncio.create_task(killer())] if kill else []
            await asyncio.gather(*(citizen(k) for k in range(citizens)))
            report_s = time.monotonic() - t0
            await asyncio.gather(*tasks)

            # Settle: nothing left to send, and both deadline steps of every case fired.
            deadline = time.monotonic() + settle_timeout
            while time.monotonic() < deadline:
                pending = c.query("select count(*) from outbox where status = 'pending'")[0][0]
                steps = c.query("select count(*) from events where kind in ('warned', 'lapsed')")[0][0]
                cases = c.query("select count(*) from cases")[0][0]
                if not pending and steps >= 2 * cases:
                    await asyncio.sleep(3)  # a late duplicate would show now
                    if not c.query("select count(*) from outbox where status = 'pending'")[0][0]:
                        break
                await asyncio.sleep(1)
            _, metrics = await c.get(0, "/metrics")
            return check(c, chaos, stalled, killed, report_s, reports, metrics)


def check(c: Cluster, chaos: Chaos, stalled: list, killed: dict, report_s: float, asked: int, metrics: str) -> dict:
    d, cfg = c.district, c.district.cfg
    cases = c.query("select id, number, reporter_id, street from cases")
    groups = {s.name: s.chat_id for s in cfg.streets}
    missing_cards = [n for _, n, _, street in cases
                     if not any(n in (m.get("caption") or "") for m in d.emu.messages(groups[street]))]
    missing_receipts = [n for _, n, who, _ in cases
                        if not any(n in (m.get("text") or "") and "已受理" in m["text"] for m in d.emu.messages(who))]
    # every message that names a case, by (chat, content): a second copy is a duplicate
    seen = Counter()
    for chat in {*groups.values(), *(who for _, _, who, _ in cases)}:
        for m in d.emu.messages(chat):
            content = m.get("text") or m.get("caption") or ""
            if "GL-" in content:
                seen[(chat, content)] += 1
    duplicates = sum(n - 1 for n in seen.values())
    steps = Counter((case_id, kind, json.loads(data).get("deadline") if isinstance(data, str) else data.get("deadline"))
                    for case_id, kind, data in c.query(
                        "select case_id, kind, data from events where kind in ('warned', 'lapsed')"))
    ids = [i for i, *_ in cases]
    step_errors = [(i, k) for i in ids for k in ("warned", "lapsed") if steps[(i, k, "respond")] != 1]
    nags = Counter()  # the warning and the lapse of each case, as its group saw them
    numbers = {n for _, n, _, _ in cases}
    for chat in groups.values():
        for m in d.emu.messages(chat):
            text = m.get("text") or ""
            if text.startswith(("⚠️ GL-", "⏰ GL-")):
                number = text.split(" ", 1)[1].split("：", 1)[0]
                if number in numbers:
                    nags[(number, text[0])] += 1
    missing_nags = [(n, kind) for n in numbers for kind in "⚠⏰" if not nags[(n, kind)]]
    outbox = dict(c.query("select status, count(*) from outbox group by status"))
    ambiguous = c.query("select count(*) from outbox where cast(log as text) like '%may have been delivered%'")[0][0]
    allowed = chaos.counts["after_send"] + ambiguous + (IN_FLIGHT_AT_KILL if killed else 0)
    errors = {line.split("{")[1].split("}")[0]: float(line.rsplit(" ", 1)[1])
              for line in metrics.splitlines() if line.startswith("frontline_bot_api_errors_total{")}
    result = {
        "reports_asked": asked, "cases": len(cases), "stalled_reports_started_over": len(stalled),
        "report_phase_s": round(report_s, 1), "faults_injected": dict(chaos.counts), "killed": killed,
        "missing_cards": missing_cards, "missing_receipts": missing_receipts,
        "duplicates": duplicates, "duplicates_explained_by": {
            "502_after_effect": chaos.counts["after_send"], "outbox_timeouts": ambiguous,
            "kill": IN_FLIGHT_AT_KILL if killed else 0},
        "deadline_steps_not_fired_once": step_errors[:10], "deadline_step_errors": len(step_errors),
        "nag_messages_missing": len(missing_nags), "nag_copies": dict(Counter(nags.values())), "outbox": outbox,
        "replica0_bot_api_errors_since_its_start": errors,
    }
    result["ok"] = (not missing_cards and not missing_receipts and not step_errors and not missing_nags
                    and duplicates <= allowed and not outbox.get("failed") and not outbox.get("pending"))
    return result


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--database-url", default=os.environ.get("TEST_DATABASE_URL"),
                        help="a PostgreSQL server (a fresh database is made on it); default $TEST_DATABASE_URL")
    parser.add_argument("--reports", type=int, default=500)
    parser.add_argument("--citizens", type=int, default=50)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--no-kill", action="store_true")
    args = parser.parse_args()
    if not args.database_url:
        parser.error("--database-url or TEST_DATABASE_URL is required")
    result = asyncio.run(run(args.database_url, args.reports, args.citizens, args.seed, not args.no_kill))
    for key, value in result.items():
        print(f"{key:>40}: {value}")
    return 0 if result["ok"] else 1


if __name__ == "__main__":
    sys.exit(main())
