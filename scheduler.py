"""APScheduler (through PTB's JobQueue): the periodic work that is not a reply to an update.

The database is the truth; jobs only ask the core to look at it, using the core's clock.
"""

from __future__ import annotations

from telegram.ext import Application, ContextTypes

DRAFT_SWEEP = "drafts"
RATING_SWEEP = "ratings"


async def sweep_drafts(context: ContextTypes.DEFAULT_TYPE) -> None:
    await context.application.bot_data["core"].expire_drafts()


async def close_unrated(context: ContextTypes.DEFAULT_TYPE) -> None:
    await context.application.bot_data["core"].close_unrated()


def arm(app: Application, sweep_every_s: float = 60) -> None:
    # first=0: drafts that went stale while the bot was down are dropped right after start.
    app.job_queue.run_repeating(sweep_drafts, interval=sweep_every_s, first=0, name=DRAFT_SWEEP,
                                job_kwargs={"misfire_grace_time": None, "coalesce": True})
    app.job_queue.run_repeating(close_unrated, interval=sweep_every_s, first=0, name=RATING_SWEEP,
                                job_kwargs={"misfire_grace_time": None, "coalesce": True})
