"""A month to look at: drive the core (not Telegram) through many cases with a fake clock and a mix of
behaviour, so the reports and the demo have a realistic trace. Every step is a real core transaction
(intake, accept, call, answer, check-in, resolve, ratings both ways, reopening) and deadlines fire
through the core's own escalation as the clock moves."""

from __future__ import annotations

import heapq
import random
import zlib
from dataclasses import dataclass, field
from datetime import datetime, timedelta

import shapely

MINUTE = timedelta(minutes=1)


@dataclass
class Mix:
    """Probabilities and delays (minutes). Defaults: a district that mostly works, with some late units."""
    respond: tuple[float, float] = (1, 8)
    respond_late: float = 0.04  # taken after the 10-minute respond limit (12–40 min)
    call: float = 0.35  # a street matter calls a department (always, when the category has a check-in limit)
    answer: tuple[float, float] = (1, 9)
    answer_late: dict[str, float] = field(default_factory=lambda: {"*": 0.05, "market": 0.4})  # by department
    answer_late_by: tuple[float, float] = (12, 45)
    arrive: tuple[float, float] = (15, 55)
    arrive_late: float = 0.08  # checks in after the call's check-in time (65–120 min)
    resolve: tuple[float, float] = (30, 200)  # after acceptance (or check-in)
    resolve_late: float = 0.04  # resolved after its limit
    ratings: dict[str, float] = field(default_factory=lambda: {"satisfied": 0.82, "mostly": 0.1,
                                                                  "unsatisfied": 0.03, "none": 0.05})
    street_ratings: dict[str, float] = field(default_factory=lambda: {"good": 0.85, "fair": 0.1, "poor": 0.05})
    department_ratings: dict[str, float] = field(default_factory=lambda: {"accurate": 0.95, "inaccurate": 0.05})
    rate_delay: tuple[float, float] = (5, 600)
    hotspot: float = 0.1  # reported at one of a few hotspots per street (recurring places)
    categories: dict[str, float] | None = None  # key -> weight; default: equal


PHOTO = {"file_id": "sim", "file_unique_id": "sim", "width": 800, "height": 600, "needs_strip": False}


class Simulator:
    def __init__(self, core, clock, mix: Mix | None = None, seed: int = 1):
        self.core, self.clock, self.mix, self.rng = core, clock, mix or Mix(), random.Random(seed)
        self.s = core.settings
        self.queue: list = []
        self.seq = 0
        self.geoms = dict(zip(core.streets.names, core.streets.geometries, strict=True))
        self.streets = [s for s, chat in self.core.directory.street_chats.items() if chat and s in self.geoms]
        self.hotspots = {s: [self._point(s) for _ in range(3)] for s in self.streets}
        self.stats: dict[str, int] = {}

    # ---- helpers -------------------------------------------------------------------------------------
    def _pick(self, weights: dict[str, float]) -> str:
        return self.rng.choices(list(weights), list(weights.values()))[0]

    def _between(self, span: tuple[float, float]) -> timedelta:
        return self.rng.uniform(*span) * MINUTE

    def _point(self, street: str) -> tuple[float, float]:
        geom = self.geoms[street]
        x0, y0, x1, y1 = geom.bounds
        while True:
            x, y = self.rng.uniform(x0, x1), self.rng.uniform(y0, y1)
            if shapely.contains_xy(geom, x, y):
                return y, x

    def at(self, when: datetime, step, *args) -> None:
        self.seq += 1
        heapq.heappush(self.queue, (when, self.seq, step, args))

    def count(self, what: str) -> None:
        self.stats[what] = self.stats.get(what, 0) + 1

    # ---- the run -------------------------------------------------------------------------------------
    async def run(self, start: datetime, days: int, cases: int, tick: timedelta = timedelta(minutes=10),
                  settle: timedelta = timedelta(days=4)) -> dict[str, int]:
        """Report `cases` cases spread over `days` days from `start`, then let the clock run `settle`
        more so late steps and the rating timeout happen."""
        span = days * 86400
        for i in sorted(self.rng.uniform(0, span) for _ in range(cases)):
            self.at(start + timedelta(seconds=i), self.report)
        end = start + timedelta(days=days) + settle
        next_tick = start
        while self.queue and self.queue[0][0] <= end:
            when, _, step, args = heapq.heappop(self.queue)
            while next_tick <= when:  # deadlines fire as the clock passes them
                self.clock.set(next_tick)
                await self.core.deadlines.fire_due()
                if next_tick.minute < tick.total_seconds() / 60:  # the rating sweep: hourly is enough
                    await self.core.disposal.close_unrated()
                next_tick += tick
            self.clock.set(max(when, self.clock.now()))
            await step(*args)
        self.clock.set(end)
        await self.core.deadlines.fire_due()
        await self.core.disposal.close_unrated()
        return self.stats

    async def report(self) -> None:
        self.count("reported")
        street = self.rng.choice(self.streets)
        lat, lon = (self.rng.choice(self.hotspots[street]) if self.rng.random() < self.mix.hotspot
                    else self._point(street))
        lat, lon = lat + self.rng.uniform(-2e-4, 2e-4), lon + self.rng.uniform(-2e-4, 2e-4)
        category = self._pick(self.mix.categories or {k: 1 for k in self.s.categories})
        user = 10_000_000 + self.seq
        photo = {**PHOTO, "sha256": f"{self.seq:064d}"}
        await self.core.intake.set_place(user, user, "zh", lat, lon, "location")
        await self.core.intake.add_photo(user, user, "zh", photo)
        await self.core.intake.set_category(user, user, "zh", category)
        await self.core.intake.set_description(user, user, "zh", "")
        case = await self.core.intake.submit(user, user, "zh")
        if case.state != "routed":
            return
        late = self.rng.random() < self.mix.respond_late
        self.at(self.clock.now() + (self._between((12, 40)) if late else self._between(self.mix.respond)),
                self.accept, case.id, user)

    def _handler(self, case) -> tuple[int, str, int]:
        unit = case.grid or case.street
        k = self.rng.randrange(3)
        user = 20_000_000 + zlib.crc32(f"{unit}{k}".encode()) % 1_000_000
        return user, f"{unit}经办{k + 1}", self.core.directory.owner_chat(case)

    async def accept(self, case_id: int, user: int) -> None:
        case = await self.core.lifecycle.load_case(case_id)
        uid, name, chat = self._handler(case)
        outcome = await self.core.lifecycle.accept(case_id, uid, name, chat)
        if not outcome.ok:
            return
        category = self.s.categories[case.category]
        if "checkin" in category.limits or (not case.grid and self.rng.random() < self.mix.call):
            dept = self.rng.choice(sorted(self.s.departments))
            due = self.clock.now() + timedelta(hours=1)
            await self.core.disposal.call_departments(case_id, [dept], due, uid, name, chat)
            self.count("called")
            for call in await self.core.disposal.calls_of(case_id):
                late = self.rng.random() < self.mix.answer_late.get(call.department, self.mix.answer_late.get("*", 0))
                self.at(self.clock.now() + (self._between(self.mix.answer_late_by) if late
                                            else self._between(self.mix.answer)),
                        self.answer, call.id)
                late = self.rng.random() < self.mix.arrive_late
                self.at(self.clock.now() + (self._between((65, 120)) if late else self._between(self.mix.arrive)),
                        self.check_in, call.id, user)
            return
        self.at(self.clock.now() + self._resolve_delay(case), self.resolve, case_id, user)

    def _resolve_delay(self, case) -> timedelta:
        limit = self.s.categories[case.category].limits.get("resolve")
        if self.rng.random() < self.mix.resolve_late:
            return (limit.after(case.created_at, self.s.calendar, self.s.tz) - self.clock.now()) + \
                self._between((20, 180)) if limit else self._between((300, 600))
        return self._between(self.mix.resolve)

    def _staff(self, department: str) -> tuple[int, str, int | None]:
        k = self.rng.randrange(2)
        zh, chat = self.s.department_name(department), self.core.directory.department_chat(department)
        return 30_000_000 + zlib.crc32(f"{department}{k}".encode()) % 1_000_000, f"{zh}队员{k + 1}", chat

    async def answer(self, call_id: int) -> None:
        call = await self.core.disposal.load_call(call_id)
        if call.status == "pending":
            uid, name, chat = self._staff(call.department)
            await self.core.disposal.answer_call(call_id, uid, name, chat)

    async def check_in(self, call_id: int, user: int) -> None:
        call = await self.core.disposal.load_call(call_id)
        uid, name, _chat = self._staff(call.department)
        outcome = await self.core.disposal.check_in(call_id, uid, name, call.lat, call.lon)
        if outcome.ok:
            case = outcome.case
            self.at(self.clock.now() + self._resolve_delay(case), self.resolve, case.id, user)

    async def resolve(self, case_id: int, user: int) -> None:
        case = await self.core.lifecycle.load_case(case_id)
        uid, name, chat = self._handler(case)
        photo = {**PHOTO, "sha256": f"r{self.seq:063d}"}
        outcome = await self.core.disposal.resolve(case_id, uid, chat, "已处置", photo)
        if not outcome.ok:
            return
        self.count("resolved")
        for call in await self.core.disposal.calls_of(case_id):
            if call.status == "declined":
                continue
            await self.core.disposal.rate_department(call.id, chat, uid, self._pick(self.mix.street_ratings))
            dept_chat = self.core.directory.department_chat(call.department)
            await self.core.disposal.rate_call(call.id, dept_chat, uid, self._pick(self.mix.department_ratings))
        rating = self._pick(self.mix.ratings)
        if rating != "none":
            self.at(self.clock.now() + self._between(self.mix.rate_delay), self.rate, case_id, user, rating)

    async def rate(self, case_id: int, user: int, rating: str) -> None:
        outcome = await self.core.disposal.rate(case_id, user, rating)
        self.count("rated_" + rating)
        if outcome.ok and rating == "unsatisfied":  # reopened: the street tries again, and is rated again
            case = outcome.case
            self.at(self.clock.now() + self._between(self.mix.resolve), self.resolve, case.id, user)
