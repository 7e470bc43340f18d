"""APScheduler (through PTB's JobQueue): deadlines, sweeps and the daily summary.

The database is the only truth about deadlines: jobs hold no state of their own. At start every
due step fires at once (anything that came due while the bot was down); then one job is armed for
the earliest next step, re-armed whenever the core opens or closes deadlines, and a safety tick
runs every 30 s. misfire_grace_time=None: a job that runs late still runs (APScheduler's default
grace is one second).
"""

from __future__ import annotations

import asyncio
import logging
from datetime import UTC, datetime, time

from telegram.ext import Application, ContextTypes

from storage.service_state import record_deadline_run

DRAFT_SWEEP, RATING_SWEEP, DEADLINES, NEXT_DEADLINE, SUMMARY = "drafts", "ratings", "deadlines", "next", "summary"
PURGE = "purge"  # media retention
LATE_OK = {"misfire_grace_time": None, "coalesce": True}
SAME_S = 1.0  # a re-arm that would move the job by less than this leaves it (the 30 s tick is the backstop)
log = logging.getLogger(__name__)


async def sweep_drafts(context: ContextTypes.DEFAULT_TYPE) -> None:
    await context.application.bot_data["core"].intake.expire_drafts()


async def close_unrated(context: ContextTypes.DEFAULT_TYPE) -> None:
    await context.application.bot_data["core"].disposal.close_unrated()


async def fire_deadlines(context: ContextTypes.DEFAULT_TYPE) -> None:
    core = context.application.bot_data["core"]
    await core.deadlines.fire_due()
    await record_deadline_run(core.db, core.now())  # for GET /healthz (bot/health.py)
    await rearm(context.application)


async def rearm(app: Application) -> None:
    """One job at the earliest next step (clock time mapped onto the scheduler's real time)."""
    core = app.bot_data["core"]
    when = await core.deadlines.next_deadline_at()
    delay = None if when is None else max(0.0, (when - core.now()).total_seconds())
    jobs = app.job_queue.get_jobs_by_name(NEXT_DEADLINE)
    if delay is not None and len(jobs) == 1 and \
            abs((jobs[0].next_t - datetime.now(UTC)).total_seconds() - delay) < SAME_S:
        return  # armed for that moment already (a new case's deadlines rarely come first)
    for job in jobs:
        job.schedule_removal()
    if delay is not None:
        app.job_queue.run_once(fire_deadlines, when=delay, name=NEXT_DEADLINE, job_kwargs=LATE_OK)


async def purge_media(context: ContextTypes.DEFAULT_TYPE) -> None:
    """Daily: photo originals of cases closed more than media.keep_days ago, and files nothing uses."""
    retention = context.application.bot_data["retention"]
    await retention.purge_closed()
    await retention.sweep_orphans()


async def daily_summary(context: ContextTypes.DEFAULT_TYPE) -> None:
    summaries = context.application.bot_data["summaries"]
    await summaries.send_daily_summary(summaries.clock.now().astimezone(summaries.settings.tz).date())


def arm(app: Application, sweep_every_s: float = 60, summary_at: str = "18:00") -> None:
    jq = app.job_queue
    jobs = ((sweep_drafts, DRAFT_SWEEP, sweep_every_s), (close_unrated, RATING_SWEEP, sweep_every_s),
            (fire_deadlines, DEADLINES, 30))
    for callback, name, every in jobs:
        # run_repeating(first=0) would first run one interval from now (APScheduler's interval
        # trigger counts from "now"), so the catch-up after a restart is its own one-off job.
        jq.run_once(callback, when=0, job_kwargs=LATE_OK)
        jq.run_repeating(callback, interval=every, first=every, name=name, job_kwargs=LATE_OK)
    core = app.bot_data["core"]
    hour, minute = (int(x) for x in summary_at.split(":"))
    jq.run_daily(daily_summary, time=time(hour, minute, tzinfo=core.settings.tz), name=SUMMARY, job_kwargs=LATE_OK)
    jq.run_daily(purge_media, time=time(3, 30, tzinfo=core.settings.tz), name=PURGE, job_kwargs=LATE_OK)

    asked, running = [False], set()  # a re-arm asked for and not begun; the tasks, held until done

    async def rearm_once() -> None:
        asked[0] = False  # a commit from here on asks for a re-arm of its own
        try:
            await rearm(app)
        except Exception:
            log.exception("re-arming the deadline job failed; the 30 s tick still fires every deadline")

    def changed() -> None:  # called by the core after a commit: re-arm soon, once for many commits, without
        if not asked[0]:    # blocking it (an APScheduler job per commit cost more than the re-arm itself)
            asked[0] = True
            task = asyncio.get_running_loop().create_task(rearm_once())
            running.add(task)
            task.add_done_callback(running.discard)
    core.on_deadlines = changed

