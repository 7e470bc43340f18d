"""The report jobs: weekly (Monday), monthly (the 1st), half-yearly (1 January, 1 July), at the times in
config.yaml's `assessment`. Each covers the period just ended."""

from __future__ import annotations

from datetime import time

from telegram.ext import Application, ContextTypes

from assessment.period import parse_period
from bot.reports.deliver import publish

JOBS = {"week": "report_weekly", "month": "report_monthly", "half": "report_half"}
LATE_OK = {"misfire_grace_time": None, "coalesce": True}


async def run_report(context: ContextTypes.DEFAULT_TYPE) -> None:
    app, kind = context.application, context.job.data
    core = app.bot_data["core"]
    today = core.now().astimezone(core.settings.tz).date()
    if kind == "half" and today.month not in (1, 7):
        return  # run_monthly fires every month; the half year turns in January and July
    await publish(app, parse_period(kind, today))


def arm(app: Application) -> None:
    cfg = app.bot_data["config"].assessment
    tz = app.bot_data["core"].settings.tz

    def at(text: str) -> time:
        hour, minute = (int(x) for x in text.split(":"))
        return time(hour, minute, tzinfo=tz)
    jq = app.job_queue
    # PTB counts days from Sunday (0); the config, like Python, from Monday.
    jq.run_daily(run_report, at(cfg.weekly), days=((cfg.weekly_day + 1) % 7,), data="week", name=JOBS["week"],
                 job_kwargs=LATE_OK)
    jq.run_monthly(run_report, at(cfg.monthly), day=1, data="month", name=JOBS["month"], job_kwargs=LATE_OK)
    jq.run_monthly(run_report, at(cfg.half_yearly), day=1, data="half", name=JOBS["half"], job_kwargs=LATE_OK)
