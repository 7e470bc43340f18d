"""The rows a report must write and read, in plain sqlite3: the database part of a floor.

    python -m bench.rows [--reports 2000] [--concurrency 100]

A report is durable at each step (a citizen's photo, place, category and note survive a restart) and
ends in one transaction that makes the case, its photo, trace, deadlines and messages. `Rows` does
exactly the statements the bot makes for one report (the same tables, the same number of write
transactions, each on one writer thread as `storage.db.Database` runs them; reads on the calling
thread), with no ORM and no logic. `bench.floor --rows` adds it to the Telegram skeleton; run alone,
this module drives the core's own services (the ORM) and `Rows` side by side for the same reports and
prints the CPU each spends per report.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sqlite3
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from pathlib import Path

PRAGMAS = ("PRAGMA journal_mode=WAL", "PRAGMA synchronous=NORMAL", "PRAGMA foreign_keys=ON",
           "PRAGMA busy_timeout=10000")


def connect(path: Path) -> sqlite3.Connection:
    con = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
    for pragma in PRAGMAS:
        con.execute(pragma)
    return con


def stamp(now: datetime) -> str:
    return now.strftime("%Y-%m-%d %H:%M:%S.%f")  # as SQLAlchemy stores a DATETIME on SQLite


class Rows:
    """One report's statements. Write steps run on the writer thread, one transaction each."""

    def __init__(self, path: Path, inline: bool = False):
        self.read = connect(path)
        self.write = connect(path)
        # inline: each transaction on the calling thread (the loop's), the cheapest a bot could do it
        self._writer = None if inline else ThreadPoolExecutor(max_workers=1, thread_name_prefix="rows-writer")

    async def _tx(self, fn, *args):
        if self._writer is None:
            return self._run(fn, args)
        return await asyncio.get_running_loop().run_in_executor(self._writer, self._run, fn, args)

    def _run(self, fn, args):
        con = self.write
        con.execute("BEGIN")
        try:
            result = fn(con, *args)
        except BaseException:
            con.execute("ROLLBACK")
            raise
        con.execute("COMMIT")
        return result

    def close(self) -> None:
        if self._writer:
            self._writer.shutdown(wait=True)
        self.read.close()
        self.write.close()

    # --- the steps of a report ---------------------------------------------------------------------

    def quota_used(self, user: int, now: datetime) -> int:
        return self.read.execute("SELECT coalesce(sum(bytes), 0) FROM uploads WHERE user_id = ? AND at > ?",
                                 (user, stamp(now - timedelta(hours=1)))).fetchone()[0]

    async def quota_record(self, user: int, size: int, now: datetime) -> None:
        def tx(con):
            con.execute("INSERT INTO uploads (user_id, at, bytes) VALUES (?, ?, ?)", (user, stamp(now), size))
            con.execute("DELETE FROM uploads WHERE at < ?", (stamp(now - timedelta(hours=2)),))
        await self._tx(tx)

    def draft(self, user: int) -> dict | None:
        row = self.read.execute("SELECT user_id, chat_id, lang, data, updated_at FROM drafts WHERE user_id = ?",
                                (user,)).fetchone()
        return json.loads(row[3]) if row else None

    async def change(self, user: int, now: datetime, change) -> dict:
        """A draft's step: read it, change its data, write it back (a photo may start it)."""
        def tx(con):
            row = con.execute("SELECT user_id, chat_id, lang, data, updated_at FROM drafts WHERE user_id = ?",
                              (user,)).fetchone()
            data = json.loads(row[3]) if row else {}
            change(data)
            if row:
                con.execute("UPDATE drafts SET data = ?, updated_at = ? WHERE user_id = ?",
                            (json.dumps(data), stamp(now), user))
            else:
                con.execute("INSERT INTO drafts (user_id, chat_id, lang, data, updated_at) VALUES (?, ?, ?, ?, ?)",
                            (user, user, "zh", json.dumps(data), stamp(now)))
            return data
        return await self._tx(tx)

    def prompt_for(self, chat: int) -> tuple | None:  # the check-in intent looked up on a location
        return self.read.execute("SELECT id, chat_id, message_id, kind, target_id FROM prompts WHERE chat_id = ? "
                                 "AND kind = ? ORDER BY id DESC LIMIT 1", (chat, "checkin")).fetchone()

    async def submit(self, user: int, now: datetime, street: str, street_chat: int) -> int:
        def tx(con):
            row = con.execute("SELECT user_id, chat_id, lang, data, updated_at FROM drafts WHERE user_id = ?",
                              (user,)).fetchone()
            data, place = json.loads(row[3]), json.loads(row[3])["place"]
            con.execute("SELECT count(id) FROM cases WHERE reporter_id = ? AND created_at > ?",
                        (user, stamp(now - timedelta(hours=1)))).fetchone()
            day = now.strftime("%Y%m%d")
            if con.execute("SELECT day, last FROM day_counters WHERE day = ?", (day,)).fetchone() is None:
                con.execute("INSERT INTO day_counters (day, last) VALUES (?, 0) ON CONFLICT DO NOTHING", (day,))
            con.execute("UPDATE day_counters SET last = last + 1 WHERE day = ?", (day,))
            last = con.execute("SELECT last FROM day_counters WHERE day = ?", (day,)).fetchone()[0]
            at = stamp(now)
            case_id = con.execute(
                "INSERT INTO cases (number, state, category, description, lat, lon, place_title, place_address, "
                "place_source, street, routed_by, reporter_id, reporter_lang, reporter_tag, created_at, updated_at, "
                "reopen_count, difficult) VALUES (?, 'routed', ?, '', ?, ?, NULL, NULL, ?, ?, 'polygon', ?, 'zh', "
                "?, ?, ?, 0, 0)",
                (f"GL-{day}-{last:04d}", data["category"], place["lat"], place["lon"], place["source"], street, user,
                 f"R-{user:012X}"[-14:], at, at)).lastrowid
            for i, p in enumerate(data["photos"]):
                con.execute("INSERT INTO photos (case_id, position, stage, file_id, file_unique_id, sha256, width, "
                            "height, needs_strip) VALUES (?, ?, 'before', ?, ?, ?, ?, ?, ?)",
                            (case_id, i, p["file_id"], p["file_unique_id"], p["sha256"], p["width"], p["height"],
                             p["needs_strip"]))
            for kind, minutes in (("respond", 10), ("checkin", 60), ("resolve", 1440)):
                due = stamp(now + timedelta(minutes=minutes))
                con.execute("INSERT INTO deadlines (case_id, kind, call_id, opened_at, due_at, status, level, warned, "
                            "next_at) VALUES (?, ?, NULL, ?, ?, 'open', 0, 0, ?)", (case_id, kind, at, due, due))
            trace = ("INSERT INTO events (case_id, at, kind, actor_id, actor_role, chat_id, data) "
                     "VALUES (?, ?, ?, ?, ?, ?, ?)")
            con.execute(trace, (case_id, at, "reported", user, "citizen", user, json.dumps(
                {"category": data["category"], "photos": len(data["photos"]), "source": place["source"]})))
            con.execute(trace, (case_id, at, "routed", None, "system", None, json.dumps(
                {"street": street, "how": "polygon", "distance_m": 0.0})))
            queue = ("INSERT INTO outbox (created_at, chat_id, kind, case_id, payload, status, attempts, message_ids, "
                     "log) VALUES (?, ?, ?, ?, ?, 'pending', 0, '[]', '[]')")
            con.execute(queue, (at, street_chat, "street_card", case_id, "{}"))
            con.execute(queue, (at, user, "receipt", case_id, json.dumps({"lang": "zh"})))
            con.execute("DELETE FROM drafts WHERE user_id = ?", (user,))
            return case_id
        return await self._tx(tx)

    def case_view(self, case_id: int) -> tuple:
        """What a receipt or a card is rendered from: the case, its photos and deadlines."""
        con = self.read
        case = con.execute("SELECT * FROM cases WHERE id = ?", (case_id,)).fetchone()
        photos = con.execute("SELECT * FROM photos WHERE case_id = ? ORDER BY position", (case_id,)).fetchall()
        deadlines = con.execute("SELECT * FROM deadlines WHERE case_id = ?", (case_id,)).fetchall()
        return case, photos, deadlines

    async def sent(self, row_id: int, message_ids: list[int], now: datetime, card: tuple | None = None) -> None:
        """An outbox row delivered; a card also remembers where it is (chat, message)."""
        def tx(con):
            con.execute("UPDATE outbox SET status = 'sent', sent_at = ?, message_ids = ?, claimed_until = NULL, "
                        "claimed_by = NULL WHERE id = ?", (stamp(now), json.dumps(message_ids), row_id))
            if card:
                case_id, chat, message = card
                con.execute("SELECT id FROM cards WHERE chat_id = ? AND message_id = ?", (chat, message)).fetchone()
                con.execute("INSERT INTO cards (case_id, kind, chat_id, message_id, caption, round) "
                            "VALUES (?, 'street', ?, ?, 1, 0)", (case_id, chat, message))
        await self._tx(tx)

    async def delivered(self, case_id: int, street_chat: int, receipt: int, card: int, now: datetime) -> None:
        """The case's two messages as delivery records them: each pending row read, marked sent with its
        message, the card's place remembered."""
        for row_id, chat, *_ in self.pending():
            if self.row(row_id)[4] == case_id:
                message = card if chat == street_chat else receipt
                await self.sent(row_id, [message], now, (case_id, chat, message) if chat == street_chat else None)

    def pending(self, limit: int = 64) -> list[tuple]:
        return self.read.execute("SELECT id, chat_id, not_before, claimed_until FROM outbox WHERE status = 'pending' "
                                 "ORDER BY id LIMIT ?", (limit,)).fetchall()

    def row(self, row_id: int) -> tuple:
        return self.read.execute("SELECT * FROM outbox WHERE id = ?", (row_id,)).fetchone()


def photo_of(user: int, n: int) -> dict:
    return {"file_id": f"file-{user}-{n}", "file_unique_id": f"u{user}{n}", "sha256": f"{user:032x}{n:032x}",
            "width": 320, "height": 240, "needs_strip": False}


async def report_rows(rows: Rows, user: int, n: int, now: datetime, lat: float, lon: float, street: str,
                      chat: int, deliver: bool = True) -> int:
    """A citizen's five steps and the two messages' delivery, as rows (photo check not included)."""
    rows.quota_used(user, now)
    await rows.quota_record(user, 25_000, now)
    rows.draft(user)
    await rows.change(user, now, lambda d: d.setdefault("photos", []).append(photo_of(user, n)))
    rows.prompt_for(user)
    await rows.change(user, now, lambda d: d.update(place={"lat": lat, "lon": lon, "source": "location",
                                                           "title": None, "address": None}))
    await rows.change(user, now, lambda d: d.update(category="garbage"))
    await rows.change(user, now, lambda d: d.update(description=""))
    case_id = await rows.submit(user, now, street, chat)
    if deliver:  # what the receipt and the card are rendered from, then the two rows marked sent
        rows.case_view(case_id)
        rows.case_view(case_id)
        await rows.delivered(case_id, chat, n, 10_000_000 + n, now)
    return case_id


async def report_core(core, quota, user: int, n: int, lat: float, lon: float) -> None:
    """The same steps through the core's services (SQLAlchemy), as the handlers call them."""
    await quota.allows(user, 25_000)
    await quota.record(user, 25_000)
    await core.intake.get_draft(user)
    await core.intake.add_photo(user, user, "zh", photo_of(user, n))
    await core.intake.set_place(user, user, "zh", lat, lon, "location")
    await core.intake.set_category(user, user, "zh", next(iter(core.settings.categories)))
    await core.intake.set_description(user, user, "zh", "")
    await core.intake.submit(user, user, "zh")


async def timed(one, path: Path, reports: int, concurrency: int) -> tuple[float, float]:
    """CPU ms per report and reports/s; each report by a citizen of its own (no hourly limit is met)."""
    numbers = iter(range(reports))

    async def citizen() -> None:
        for n in numbers:
            await one(500_000 + n, n)

    t0, cpu0 = time.perf_counter(), time.process_time()
    await asyncio.gather(*(citizen() for _ in range(concurrency)))
    cpu, wall = time.process_time() - cpu0, time.perf_counter() - t0
    made = sqlite3.connect(path).execute("SELECT count(*) FROM cases").fetchone()[0]
    assert made == reports, made
    return round(cpu / reports * 1000, 2), round(reports / wall, 1)


async def compare(reports: int, concurrency: int) -> dict:
    from bench.reports import ROOT
    from bot.config import load_config
    from cases.bootstrap import build_core
    from cases.clock import FakeClock
    from geo.streets import StreetIndex
    from storage.db import Database, migrate
    from storage.uploads import UploadQuota

    cfg = load_config(ROOT / "config.yaml")
    streets = StreetIndex.from_geojson(cfg.geo.streets_file, crs=cfg.geo.crs, tolerance_m=cfg.geo.tolerance_m)
    grids = StreetIndex.from_geojson(cfg.geo.grids_file, crs=cfg.geo.crs, tolerance_m=0)
    street = cfg.streets[0]
    lat, lon = streets.representative_point(street.name)
    now = datetime(2026, 11, 23, 1, 30, tzinfo=UTC)
    result: dict = {"reports": reports, "concurrency": concurrency}
    with tempfile.TemporaryDirectory(prefix="frontline-rows-") as tmp:
        path = Path(tmp) / "core.sqlite3"
        migrate(f"sqlite+aiosqlite:///{path}")
        db = Database(f"sqlite+aiosqlite:///{path}")
        core = build_core(cfg, db, FakeClock(now), streets, grids, on_outbox=lambda: None)
        quota = UploadQuota(db, core.clock, 10**12)
        result["core_cpu_ms_per_report"], result["core_reports_per_s"] = await timed(
            lambda user, n: report_core(core, quota, user, n, lat, lon), path, reports, concurrency)
        await db.dispose()

        path = Path(tmp) / "rows.sqlite3"
        migrate(f"sqlite+aiosqlite:///{path}")
        rows = Rows(path)
        result["rows_cpu_ms_per_report"], result["rows_reports_per_s"] = await timed(
            lambda user, n: report_rows(rows, user, n, now, lat, lon, street.name, street.chat_id, deliver=False),
            path, reports, concurrency)
        rows.close()
    result["core_over_rows"] = round(result["core_cpu_ms_per_report"] / result["rows_cpu_ms_per_report"], 2)
    return result


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--reports", type=int, default=2000)
    parser.add_argument("--concurrency", type=int, default=100)
    args = parser.parse_args()
    for key, value in asyncio.run(compare(args.reports, args.concurrency)).items():
        print(f"{key:>24}: {value}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
